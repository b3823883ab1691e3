"""The way to the dashboards: a "Safety dashboards" link for study-wide roles, and signing in
leads the study team straight to them (an asked-for page still wins). Site roles keep their
home page."""

import pytest
from django.urls import reverse

from accounts.models import Membership
from accounts.roles import Role
from tests.conftest import PASSWORD, make_user
from trial.models import Study

pytestmark = pytest.mark.django_db

LINK = "Safety dashboards</a>"


def sign_in(client, user, next_url=None):
    data = {"username": user.username, "password": PASSWORD}
    url = reverse("login") + (f"?next={next_url}" if next_url else "")
    if next_url:
        data["next"] = next_url
    return client.post(url, data, follow=True)


@pytest.mark.parametrize("persona", ["monitor", "data_manager", "sponsor"])
def test_the_study_team_gets_the_link_and_lands_on_the_dashboards(client, persona, request):
    user = request.getfixturevalue(persona)
    response = sign_in(client, user)
    assert response.redirect_chain[-1][0] == reverse("monitoring:overview")
    assert response.status_code == 200
    assert "Dose-escalation overview" in response.content.decode()
    home = client.get(reverse("home"))
    assert home.status_code == 200
    html = home.content.decode()
    assert f'<a href="{reverse("monitoring:overview")}">{LINK}' in html


def test_an_asked_for_page_wins(client, monitor):
    response = sign_in(client, monitor, next_url=reverse("monitoring:committee"))
    assert response.redirect_chain[-1][0] == reverse("monitoring:committee")


@pytest.mark.parametrize("persona", ["coordinator_a", "investigator_a"])
def test_site_roles_keep_their_home_page_and_see_no_link(client, persona, request):
    user = request.getfixturevalue(persona)
    response = sign_in(client, user)
    assert response.redirect_chain[-1][0] == reverse("home")
    assert response.status_code == 200
    assert "Your sites and subjects" in response.content.decode()
    assert LINK not in response.content.decode()


def test_site_work_anywhere_means_the_home_page_first(client, study, site_a):
    """An investigator here who monitors another study starts at home, with the link."""
    other = Study.objects.create(
        protocol_number="OTHER-1", title="Other", sponsor="X", investigational_product="Y"
    )
    user = make_user("both", study, Role.INVESTIGATOR, [site_a])
    Membership.objects.create(user=user, study=other, role=Role.MEDICAL_MONITOR)
    response = sign_in(client, user)
    assert response.redirect_chain[-1][0] == reverse("home")
    assert LINK in response.content.decode()


def test_no_link_before_sign_in(client):
    assert LINK not in client.get(reverse("login")).content.decode()
