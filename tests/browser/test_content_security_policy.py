"""Every page works under the Content-Security-Policy in a real browser: no violation reported,
htmx and the app's scripts run, and no page (the API docs included) asks another host for
anything."""

from datetime import timedelta
from urllib.parse import urlparse

import pytest
from playwright.sync_api import expect

from core.dates import site_today
from tests.conftest import PASSWORD
from tests.factories import dosed, enrolled_subject, screened_subject

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def watched(page, live_server):
    """The page, with every CSP violation recorded, every response from another host (a request
    that reached the network), and every request to another host the browser refused to make."""
    origin = urlparse(live_server.url).netloc

    def elsewhere(url):
        parts = urlparse(url)
        return parts.scheme in ("http", "https") and parts.netloc != origin

    seen = {"violations": [], "elsewhere": [], "blocked": []}
    page.on(
        "console",
        lambda message: (
            seen["violations"].append(message.text)
            if "Content Security Policy" in message.text
            else None
        ),
    )
    page.on(
        "response",
        lambda response: (
            seen["elsewhere"].append(response.url) if elsewhere(response.url) else None
        ),
    )
    page.on(
        "requestfailed",
        lambda request: (
            seen["blocked"].append((request.url, request.failure))
            if elsewhere(request.url)
            else None
        ),
    )
    return page, seen


def sign_in(page, username):
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state("networkidle")


def test_the_coordinators_pages_run_under_the_policy(
    watched, coordinator_a, site_a, cohort1, ctcae
):
    page, seen = watched
    subject = enrolled_subject(coordinator_a, site_a, "S-1", cohort1, days_ago=12)
    dosed(coordinator_a, subject, on=site_today(site_a.timezone) - timedelta(days=10))
    screening = screened_subject(coordinator_a, site_a, "S-2", eligible=False)
    sign_in(page, coordinator_a.username)
    expect(page.get_by_role("heading", name="Your sites and subjects")).to_be_visible()
    for url in (
        f"/subjects/{subject.pk}/",
        f"/subjects/{screening.pk}/screening/",
        f"/subjects/{subject.pk}/doses/new/",
        "/api/tokens/",
    ):
        page.goto(url)
        page.wait_for_load_state("networkidle")
    # htmx under the policy: the CTCAE search answers as the user types.
    page.goto(f"/subjects/{subject.pk}/adverse-events/new/")
    page.get_by_label("Search CTCAE v5.0 term or MedDRA code").fill("nause")
    expect(page.locator("#term-results")).to_contain_text("Nausea")
    # The casebook timeline is positioned by style attributes, which the policy allows.
    page.goto(f"/subjects/{subject.pk}/")
    assert page.locator(".tl-mark.dose").first.evaluate("e => e.style.left") != ""
    assert seen["violations"] == [], seen["violations"]
    assert seen["elsewhere"] == seen["blocked"] == [], seen


def test_the_monitors_pages_run_under_the_policy(watched, monitor, coordinator_a, site_a, cohort1):
    page, seen = watched
    subject = enrolled_subject(coordinator_a, site_a, "S-1", cohort1, days_ago=12)
    dosed(coordinator_a, subject, on=site_today(site_a.timezone) - timedelta(days=10))
    sign_in(page, monitor.username)
    for url in ("/monitoring/", "/monitoring/timeline/", "/monitoring/adverse-events/"):
        page.goto(url)
        page.wait_for_load_state("networkidle")
    assert seen["violations"] == [], seen["violations"]
    assert seen["elsewhere"] == seen["blocked"] == [], seen


def test_the_api_docs_render_from_the_apps_own_files(watched):
    page, seen = watched
    page.goto("/api/docs/")
    # Both renderers parse the whole OpenAPI document in the browser: slow on a loaded machine.
    expect(page.locator(".swagger-ui .info .title")).to_contain_text(
        "Phase 1 EDC API", timeout=30_000
    )
    page.goto("/api/redoc/")
    expect(page.locator("redoc h1, .api-info h1").first).to_contain_text(
        "Phase 1 EDC API", timeout=30_000
    )
    page.wait_for_load_state("networkidle")
    # Redoc's menu shows the Redocly logo from cdn.redoc.ly: the policy stops the browser
    # before the request leaves (nothing else is asked of any other host).
    assert seen["elsewhere"] == [], seen["elsewhere"]
    assert all(failure == "csp" for _, failure in seen["blocked"]), seen["blocked"]
    assert {url for url, _ in seen["blocked"]} <= {"https://cdn.redoc.ly/redoc/logo-mini.svg"}
    unexpected = [v for v in seen["violations"] if "cdn.redoc.ly/redoc/logo-mini.svg" not in v]
    assert unexpected == [], unexpected
