"""A site coordinator's day in the browser: sign in, screen and enroll a subject, record a dose
(the total in mg shown before saving), report a grade 3 related AE marked as a DLT, correct it
with a reason, and see the cohort and the subject's DLT status change on the home page.

Screenshots of the main pages are written to docs/screenshots/ (shown in the README).
"""

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from core.dates import site_today
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in_with_the_keyboard(page, username):
    page.goto("/accounts/login/")
    expect(page.locator("#id_username")).to_be_focused()  # ready to type
    page.keyboard.type(username)
    page.keyboard.press("Tab")
    expect(page.locator("#id_password")).to_be_focused()
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Your sites and subjects")).to_be_visible()


def assert_every_field_is_labelled(page):
    unlabelled = page.evaluate(
        """() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
            .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                          && !el.getAttribute('aria-labelledby'))
            .map(el => el.name || el.id)"""
    )
    assert unlabelled == []


def go_home(page):
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Home").click()


def cohort_status(page, number):
    return page.locator(f'[data-cohort="{number}"] [data-cohort-status]')


def test_screen_enroll_dose_and_report_a_dlt(
    page, shot, coordinator_a, monitor, site_a, cohort1, ctcae
):
    today = site_today(site_a.timezone)

    def days_ago(n):
        return (today - timedelta(days=n)).isoformat()

    page.goto("/accounts/login/")
    shot(page, "login", full_page=False)
    sign_in_with_the_keyboard(page, coordinator_a.username)
    expect(cohort_status(page, 1)).to_have_text("Open for enrollment")

    # Screening
    page.get_by_role("link", name="Screen a new subject").click()
    page.get_by_label("Screening number").fill("S-0042")
    page.get_by_label("Year of birth").fill("1964")
    page.get_by_label("Female").check()
    expect(page.get_by_label("Screening date")).to_have_value(today.isoformat())
    page.get_by_label("Screening date").fill(days_ago(12))
    page.get_by_role("button", name="Register at screening").click()
    expect(page.locator(".messages .message.success")).to_contain_text(
        "Screening S-0042 registered"
    )

    # Consent, then the protocol's eligibility checklist
    page.get_by_label("Date of informed consent").fill(days_ago(12))
    page.get_by_label("Consent form version").fill("v2.0")
    page.get_by_role("button", name="Record consent").click()
    expect(page.locator(".messages .message.success")).to_contain_text("Informed consent recorded")
    for criterion in page.locator("fieldset.criteria").nth(0).locator("fieldset.criterion").all():
        criterion.get_by_label("Yes").check()
    for criterion in page.locator("fieldset.criteria").nth(1).locator("fieldset.criterion").all():
        criterion.get_by_label("No").check()
    page.get_by_label("Date assessed").fill(days_ago(11))
    assert_every_field_is_labelled(page)
    shot(page, "screening-eligibility")
    page.get_by_role("button", name="Record eligibility").click()

    # Enrollment into the open cohort: the page names the dose and the regimen
    expect(page.get_by_role("heading", name="Enroll S-0042")).to_be_visible()
    expect(page.locator(".open-cohort")).to_contain_text("0.01 mg/kg, Every 3 weeks (Q3W)")
    page.get_by_label("Enrollment date").fill(days_ago(10))
    assert_every_field_is_labelled(page)
    shot(page, "enrollment")
    page.get_by_role("button", name="Enroll and assign the subject number").click()
    expect(page.locator(".messages .message.success")).to_contain_text("subject number 101-001")
    expect(page.get_by_role("heading", name="Casebook 101-001")).to_be_visible()

    go_home(page)
    expect(cohort_status(page, 1)).to_have_text("Full")  # open -> full on the last place

    # Dose: Cycle 1 Day 1 proposed, the total in mg shown before saving
    page.get_by_role("link", name="101-001").click()
    page.get_by_role("link", name="Record a dose").first.click()
    expect(page.locator("[data-slot]")).to_contain_text("Cycle 1 Day 1")
    expect(page.get_by_label("Dose given (mg/kg)")).to_have_value("0.01")
    page.get_by_label("Body weight (kg)").fill("72.5")
    expect(page.locator("[data-total-mg]")).to_have_text("0.725 mg")
    page.get_by_label("Infusion start").fill(f"{days_ago(8)}T09:30")
    page.get_by_label("Infusion end").fill(f"{days_ago(8)}T11:00")
    page.get_by_label("Lot number").fill("MIL97-L007")
    assert_every_field_is_labelled(page)
    shot(page, "dose-form")
    page.get_by_role("button", name="Save the dose").click()
    expect(page.locator(".messages .message.success")).to_contain_text(
        "0.01 mg/kg × 72.5 kg = 0.725 mg"
    )
    window_end = today - timedelta(days=8) + timedelta(days=20)  # Day 1..Day 21 inclusive
    expect(page.locator("[data-dlt-summary]")).to_have_text(f"Open until {window_end:%Y-%m-%d}")

    go_home(page)
    row = page.locator("tr", has=page.get_by_role("link", name="101-001"))
    expect(row.locator("[data-dlt-window]")).to_contain_text("Open until")
    recommendation_before = page.locator("[data-recommendation] .rec-text").inner_text()

    # Adverse event: term search, only the term's grades, grade 3 related, DLT
    page.get_by_role("link", name="101-001").click()
    page.get_by_role("link", name="Report an adverse event").first.click()
    page.get_by_label("Search CTCAE v5.0 term or MedDRA code").fill("febrile")
    option = page.get_by_role("radio", name=re.compile("^Febrile neutropenia"))
    expect(option).to_be_visible()
    expect(page.locator("#term-results")).to_contain_text("Blood and lymphatic system disorders")
    option.check()
    grades = page.locator("#grade-fieldset input[name=grade]")
    expect(grades).to_have_count(3)  # CTCAE v5.0 defines grades 3, 4 and 5 only
    page.get_by_role("radio", name=re.compile("^Grade 3")).check()
    page.get_by_label("Verbatim term").fill("Neutropenic fever")
    page.get_by_label("Onset date").fill(days_ago(3))
    page.get_by_label("Relationship to study drug").select_option("probable")
    page.get_by_label("Action taken with study drug").select_option("delayed")
    page.get_by_label("Outcome").select_option("not_recovered")
    page.get_by_label("Dose-limiting toxicity (investigator's assessment)").check()
    expect(page.locator(".dlt-banner")).to_be_visible()
    assert_every_field_is_labelled(page)
    shot(page, "ae-form")
    page.get_by_role("button", name="Save the adverse event").click()
    expect(page.locator(".messages .message.warning")).to_contain_text(
        "the medical monitor was notified (Monitor Tester at "
    )
    ae_row = page.locator("tr[data-ae]")
    expect(ae_row).to_have_class(re.compile(r"\bdlt\b"))
    expect(ae_row).to_contain_text("Grade 3")
    expect(ae_row).to_contain_text("Monitor notified: Monitor Tester")

    # Correct it: the form asks for the reason
    ae_row.get_by_role("link", name=re.compile("^Correct")).click()
    page.get_by_role("radio", name=re.compile("^Grade 4")).check()
    page.get_by_role("button", name="Save the correction").click()
    expect(page.locator("#id_reason_error")).to_have_text("Give the reason for this change.")
    expect(page.get_by_role("radio", name=re.compile("^Grade 4"))).to_be_checked()  # kept
    page.get_by_label("Reason for change").fill("ANC fell below 500/mm3 on repeat count")
    page.get_by_role("button", name="Save the correction").click()
    expect(ae_row).to_contain_text("Grade 4")
    history = page.locator("details.history", has_text="Adverse event: Febrile neutropenia")
    expect(history).to_have_attribute("open", "")  # the record changed last comes first, open
    expect(history).to_contain_text("ANC fell below 500/mm3 on repeat count")
    expect(history.locator("td.old").first).to_have_text("Grade 3")
    expect(history.locator("td.new").first).to_have_text("Grade 4")
    shot(page, "casebook")

    # The home page: the subject's DLT status and the track's recommendation follow the DLT
    go_home(page)
    expect(row.locator("[data-dlt-window]")).to_contain_text("DLT")
    expect(row.locator(".badge-dlt")).to_be_visible()
    expect(page.locator("[data-recommendation] .rec-text")).not_to_have_text(recommendation_before)
    shot(page, "home")
