"""Bad input in the browser: the message is on the field, the typed values are kept, nothing is
saved. A dose dated before consent; a grade the CTCAE term does not have (entered without
JavaScript, where the page cannot narrow the grades before the term is submitted)."""

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from core.dates import site_today
from dosing.models import DoseAdministration
from safety.models import AdverseEvent
from tests.conftest import PASSWORD
from tests.factories import enrolled_subject

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page, username):
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Your sites and subjects")).to_be_visible()


@pytest.fixture
def subject(coordinator_a, site_a, cohort1, ctcae):
    return enrolled_subject(coordinator_a, site_a, "S-0007", cohort1, days_ago=5)


def test_a_dose_dated_before_consent_is_refused_with_the_input_kept(
    page, shot, coordinator_a, subject
):
    before_consent = (subject.consent_date - timedelta(days=2)).isoformat()
    sign_in(page, coordinator_a.username)
    page.goto(f"/subjects/{subject.pk}/doses/new/")
    page.get_by_label("Body weight (kg)").fill("64.0")
    expect(page.locator("[data-total-mg]")).to_have_text("0.640 mg")
    page.get_by_label("Infusion start").fill(f"{before_consent}T08:15")
    page.get_by_label("Infusion end").fill(f"{before_consent}T09:45")
    page.get_by_label("Lot number").fill("LOT-BAD-1")
    page.get_by_role("button", name="Save the dose").click()

    expect(page.locator("#error-summary")).to_contain_text("Nothing was saved")
    expect(page.locator("#id_infusion_start_error")).to_contain_text(
        f"A dose cannot be given before informed consent ({subject.consent_date})"
    )
    expect(page.get_by_label("Infusion start")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Body weight (kg)")).to_have_value("64.0")
    expect(page.get_by_label("Infusion start")).to_have_value(f"{before_consent}T08:15")
    expect(page.get_by_label("Lot number")).to_have_value("LOT-BAD-1")
    expect(page.locator("[data-total-mg]")).to_have_text("0.640 mg")
    assert not DoseAdministration.objects.exists()


def test_a_grade_the_term_does_not_have_is_refused_with_the_input_kept(
    browser, live_server, shot, coordinator_a, subject
):
    context = browser.new_context(
        base_url=live_server.url, java_script_enabled=False, viewport={"width": 820, "height": 1180}
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        sign_in(page, coordinator_a.username)
        page.goto(f"/subjects/{subject.pk}/adverse-events/new/")
        page.get_by_label("Search CTCAE v5.0 term or MedDRA code").fill("fatigue")
        page.get_by_role("button", name="Search").click()
        page.get_by_role("radio", name=re.compile("^Fatigue")).check()
        page.get_by_role("radio", name="Grade 4").check()  # Fatigue has grades 1-3 only
        onset = site_today(subject.site.timezone).isoformat()
        page.get_by_label("Verbatim term").fill("Exhausted all day")
        page.get_by_label("Onset date").fill(onset)
        page.get_by_label("Relationship to study drug").select_option("possible")
        page.get_by_label("Action taken with study drug").select_option("none")
        page.get_by_label("Outcome").select_option("not_recovered")
        page.get_by_role("button", name="Save the adverse event").click()

        expect(page.locator("#id_grade_error")).to_have_text(
            "CTCAE v5.0 defines no grade 4 for 'Fatigue' (grades: 1, 2, 3)."
        )
        expect(page.locator("#grade-fieldset input[name=grade]")).to_have_count(3)
        expect(page.get_by_role("radio", name=re.compile("^Fatigue"))).to_be_checked()
        expect(page.get_by_label("Verbatim term")).to_have_value("Exhausted all day")
        expect(page.get_by_label("Onset date")).to_have_value(onset)
        expect(page.get_by_label("Relationship to study drug")).to_have_value("possible")
        expect(page.get_by_label("Outcome")).to_have_value("not_recovered")
        shot(page, "ae-form-error-tablet")
        assert not AdverseEvent.objects.exists()
    finally:
        context.close()
