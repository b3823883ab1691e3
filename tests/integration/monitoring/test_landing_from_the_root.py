"""Each role lands on its own home after signing in, also when it came from the app's root
(`/` -> `/accounts/login/?next=/`): the study team on the dashboards, site roles on the portal
home. A page asked for still wins."""

import re

import pytest
from django.urls import reverse

from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def sign_in_as_a_browser_does(client, user, start: str):
    """Open `start` signed out, follow to the sign-in page, and post its form as it is."""
    response = client.get(start, follow=True)
    login_url = response.redirect_chain[-1][0] if response.redirect_chain else start
    page = response.content.decode()
    assert 'name="password"' in page
    next_value = re.search(r'name="next" value="([^"]*)"', page).group(1)
    return client.post(
        reverse("login"),
        {"username": user.username, "password": PASSWORD, "next": next_value},
        follow=True,
    ), login_url


@pytest.mark.parametrize(
    ("persona", "landing"),
    [
        ("monitor", "monitoring:overview"),
        ("data_manager", "monitoring:overview"),
        ("sponsor", "monitoring:overview"),
        ("coordinator_a", "home"),
        ("investigator_a", "home"),
    ],
)
@pytest.mark.parametrize("start", ["/", "/accounts/login/?next=/", "/accounts/login/"])
def test_each_role_lands_on_its_own_home(client, request, persona, landing, start):
    user = request.getfixturevalue(persona)
    response, _ = sign_in_as_a_browser_does(client, user, start)
    assert response.redirect_chain[-1][0] == reverse(landing)
    assert response.status_code == 200


def test_an_asked_for_page_still_wins_from_the_sign_in_form(client, monitor, coordinator_a):
    response, login_url = sign_in_as_a_browser_does(
        client, monitor, reverse("monitoring:committee")
    )
    assert "next=" in login_url
    assert response.redirect_chain[-1][0] == reverse("monitoring:committee")
