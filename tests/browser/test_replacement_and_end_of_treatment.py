"""A replacement and an end of treatment in the browser: the home page asks for the replacement
of a subject found not evaluable, the enrollment page says why and proposes that place in the full
cohort, both casebooks say who replaced whom; ending treatment asks for the reason, keeps the date
typed, and the casebook's timeline shows it."""

import os
import re
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect

from core.dates import site_today
from escalation.models import SubjectDltStatus
from tests.conftest import PASSWORD
from tests.factories import screened_subject
from tests.integration.portal.portal_data import under_dosed_subject

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Screenshots for a human look at the pages, outside the README's set.
REVIEW_SHOTS = os.environ.get("EDC_REVIEW_SHOTS")


def review_shot(page, name):
    if REVIEW_SHOTS:
        Path(REVIEW_SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(REVIEW_SHOTS) / f"{name}.png"), full_page=True)


def sign_in(page, username):
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Your sites and subjects")).to_be_visible()


def test_enroll_a_replacement_then_end_the_replaced_subjects_treatment(
    page, coordinator_a, site_a, cohort1
):
    today = site_today(site_a.timezone)
    replaced = under_dosed_subject(coordinator_a, site_a, "S-1", cohort1)
    assert SubjectDltStatus.objects.get(subject=replaced).status == "not_evaluable"
    screened_subject(coordinator_a, site_a, "S-2")

    sign_in(page, coordinator_a.username)
    replaced_row = page.locator("tr", has=page.get_by_role("link", name="101-001"))
    expect(replaced_row).to_contain_text("Not evaluable (under-dosed")
    page.locator("tr", has_text="S-2").get_by_role("link", name="Eligible: enroll").click()

    # The enrollment page: why a replacement, and the one place proposed.
    expect(page.get_by_role("heading", name="Enroll S-2")).to_be_visible()
    expect(page.locator(".no-cohort")).to_contain_text("is full (1 place)")
    why = page.locator('[data-replacement="101-001"]')
    expect(why).to_contain_text("under-dosed: below the minimum exposure in the DLT window")
    expect(why.locator("[data-replacement-why]")).to_contain_text(
        "The escalation evaluation recommends: \u201creplace subject 101-001"
    )
    expect(
        page.get_by_role("radio", name=re.compile("full: takes a replacement only"))
    ).to_be_checked()
    replacing = page.get_by_role("radio", name=re.compile("^101-001 in Cohort 1"))
    expect(replacing).to_be_checked()
    review_shot(page, "enrollment-replacement")
    page.get_by_role("button", name="Enroll and assign the subject number").click()
    expect(page.locator(".messages .message.success")).to_contain_text(
        "subject number 101-002, Cohort 1: 0.01 mg/kg Q3W, replacing 101-001 (not evaluable)"
    )
    expect(page.locator("[data-replaces]")).to_contain_text("101-001")

    # The replaced subject's casebook links to the replacement; treatment ends there.
    page.locator("[data-replaces]").get_by_role("link", name="101-001").click()
    expect(page.get_by_role("heading", name="Casebook 101-001")).to_be_visible()
    expect(page.locator("[data-replaced-by]")).to_contain_text("101-002")
    page.get_by_role("link", name="End treatment").click()
    date = page.get_by_label("Date of end of treatment")
    expect(date).to_have_value(today.isoformat())
    expect(date).to_have_attribute("max", today.isoformat())
    last_dose = replaced.dose_administrations.get().administered_on
    date.fill((last_dose + timedelta(days=1)).isoformat())
    page.get_by_role("button", name="Record the end of treatment").click()
    expect(page.locator("#id_end_of_treatment_reason_code_error")).to_have_text(
        "Choose the reason treatment ended."
    )
    expect(date).to_have_value((last_dose + timedelta(days=1)).isoformat())  # kept
    page.get_by_label("Reason treatment ended", exact=True).select_option("ADVERSE EVENT")
    page.get_by_label("Reason treatment ended, specify").fill(
        "Infusion reaction: no further dosing"
    )
    review_shot(page, "end-of-treatment")
    page.get_by_role("button", name="Record the end of treatment").click()
    expect(page.locator(".messages .message.success")).to_contain_text(
        "End of treatment recorded for 101-001"
    )
    expect(page.locator(".subject-head")).to_contain_text("Off treatment, in follow-up")
    expect(page.get_by_role("list", name="Timeline in date order")).to_contain_text(
        "End of treatment: Adverse event: Infusion reaction: no further dosing"
    )
    expect(page.get_by_role("link", name="End treatment")).to_have_count(0)
    review_shot(page, "casebook-replaced")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Home").click()
    expect(replaced_row).to_contain_text("Replaced by 101-002")
    expect(replaced_row).not_to_contain_text("Not evaluable (under-dosed")
    new_row = page.locator("tr", has=page.get_by_role("link", name="101-002"))
    expect(new_row).to_contain_text("Replacement for 101-001")
    review_shot(page, "home-replacement")
