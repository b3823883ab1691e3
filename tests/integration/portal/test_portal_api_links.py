"""The API from the pages: tokens and docs in every signed-in navigation, token times as the
rest of the pages write them, and a copy button for a new token."""

import re

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db

UTC_MINUTE = r"\d{4}-\d\d-\d\d \d\d:\d\d UTC"


@pytest.mark.parametrize("persona", ["sponsor", "monitor", "data_manager", "coordinator_a"])
@pytest.mark.parametrize("page", ["home", "monitoring:overview", "api:tokens"])
def test_the_navigation_links_the_tokens_and_the_docs(client, request, persona, page):
    client.force_login(request.getfixturevalue(persona))
    if page == "monitoring:overview" and persona == "coordinator_a":
        return  # site roles do not see the dashboards (403)
    html = client.get(reverse(page)).content.decode()
    nav = re.search(r'<nav class="api-links".*?</nav>', html, re.S).group(0)
    assert f'href="{reverse("api:tokens")}"' in nav and f'href="{reverse("api:docs")}"' in nav


def test_no_api_links_before_sign_in(client):
    assert "api-links" not in client.get(reverse("login")).content.decode()


def test_token_times_read_as_elsewhere_and_a_new_token_has_a_copy_button(client, sponsor):
    client.force_login(sponsor)
    page = client.post(
        reverse("api:tokens"), {"name": "SAS nightly pull", "expires_in_days": "30"}
    ).content.decode()
    assert 'data-copy="#new-token"' in page
    assert re.search(rf"It expires on {UTC_MINUTE}\.", page)
    listing = client.get(reverse("api:tokens")).content.decode()
    row = re.search(r"<td>SAS nightly pull</td>(.*?)</tr>", listing, re.S).group(1)
    assert len(re.findall(UTC_MINUTE, row)) == 2  # made, expires
    assert "never" in row  # not used yet
    assert not re.search(r"\d\dT\d\d:\d\d", row)  # no ISO "T" times
