"""An idle session ends, and what was typed is not lost: the page warns before the timeout, signs
out, and after signing in again the form shows the typed values (not saved until the user saves).
Playwright's clock stands in for half an hour of idleness."""

import pytest
from playwright.sync_api import expect

from dosing.models import DoseAdministration
from tests.conftest import PASSWORD
from tests.factories import enrolled_subject

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_idle_sign_out_warns_first_and_keeps_the_typed_dose(
    page, settings, coordinator_a, site_a, cohort1
):
    subject = enrolled_subject(coordinator_a, site_a, "S-0009", cohort1, days_ago=3)
    page.clock.install()
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(coordinator_a.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto(f"/subjects/{subject.pk}/doses/new/")
    page.get_by_label("Body weight (kg)").fill("81.5")
    page.get_by_label("Lot number").fill("LOT-IDLE")
    expect(page.locator("[data-total-mg]")).to_have_text("0.815 mg")

    idle_seconds = settings.SESSION_COOKIE_AGE
    page.clock.run_for((idle_seconds - 100) * 1000)
    warning = page.get_by_role("alertdialog")
    expect(warning).to_be_visible()
    expect(warning.get_by_role("button", name="Stay signed in")).to_be_focused()

    page.clock.run_for(100 * 1000)
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.get_by_text("You were signed out after a period without activity")).to_be_visible()
    assert not DoseAdministration.objects.exists()
    home = page.request.get("/", max_redirects=0)
    assert home.status == 302  # the server session has ended too

    page.get_by_label("Username").fill(coordinator_a.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Record a dose")).to_be_visible()
    expect(page.locator("#draft-notice")).to_contain_text("has been restored")
    expect(page.get_by_label("Body weight (kg)")).to_have_value("81.5")
    expect(page.get_by_label("Lot number")).to_have_value("LOT-IDLE")
    assert not DoseAdministration.objects.exists()  # restored, not saved
