"""The app answers in its own pages: an icon, a page (or a redirect) for a visit to a form-only
address instead of an empty 405, and its own 404 and 403 pages."""

import pytest
from django.contrib.staticfiles import finders
from django.urls import reverse

from tests.factories import screened_subject

pytestmark = pytest.mark.django_db


def test_the_app_has_an_icon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response["Location"].endswith("/static/favicon.svg")
    assert finders.find("favicon.svg")
    assert 'rel="icon" href="/static/favicon.svg"' in client.get(reverse("login")).content.decode()


def test_a_visit_to_the_consent_or_checklist_address_goes_to_the_screening_page(
    signed_in, coordinator_a, site_a
):
    subject = screened_subject(coordinator_a, site_a, "S-1", consent=False)
    for name, anchor in (("consent", "#consent"), ("eligibility", "#eligibility")):
        response = signed_in.get(reverse(name, args=[subject.pk]))
        assert response.status_code == 302
        assert response["Location"] == reverse("screening", args=[subject.pk]) + anchor


def test_another_sites_subject_is_still_not_found_that_way(
    client, coordinator_b, coordinator_a, site_a
):
    subject = screened_subject(coordinator_a, site_a, "S-1", consent=False)
    client.force_login(coordinator_b)
    assert client.get(reverse("consent", args=[subject.pk])).status_code == 404


@pytest.mark.parametrize(
    ("url", "allowed", "text"),
    [
        ("keepalive", "POST", "not a page to open"),
        ("logout", "POST", "Signing out is a button"),
        ("api:token_revoke", "POST", "not a page to open"),
    ],
)
def test_a_visit_to_a_form_only_address_gets_a_page(signed_in, url, allowed, text):
    args = [1] if url == "api:token_revoke" else []
    response = signed_in.get(reverse(url, args=args), HTTP_REFERER="http://testserver/")
    assert response.status_code == 405
    assert allowed in response["Allow"]
    page = response.content.decode()
    assert 'data-error="405"' in page and text in page
    assert "Nothing was saved or changed" in page or "Sign out</button>" in page
    if url != "logout":
        assert 'href="http://testserver/"' in page  # back to where the user came from


def test_the_api_keeps_its_own_405(signed_in):
    response = signed_in.put(reverse("api:study-list"))
    assert response.status_code == 405
    assert response["Content-Type"].startswith("application/json")


def test_not_found_and_not_allowed_are_the_apps_own_pages(signed_in, client, coordinator_a):
    page = signed_in.get("/no/such/page/")
    assert page.status_code == 404 and 'data-error="404"' in page.content.decode()
    assert "Phase 1 EDC" in page.content.decode()
    forbidden = signed_in.get(reverse("monitoring:overview"))
    assert forbidden.status_code == 403
    html = forbidden.content.decode()
    assert 'data-error="403"' in html and "Not allowed for your role" in html
