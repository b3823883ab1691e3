"""A coordinator enters a visit in the browser: from the casebook to the visit calendar, opens
Cycle 1 Day 8, records it, enters vital signs (temperature in F) and an ALT result that is
graded 3 by CTCAE v5.0, reports it as an adverse event on confirmation, and the casebook shows
the event."""

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from core.dates import site_today
from tests.conftest import PASSWORD
from tests.factories import dosed, enrolled_subject

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page, username):
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Your sites and subjects")).to_be_visible()


def test_enter_c1d8_vitals_and_a_grade_3_alt_then_report_the_ae(
    page, shot, coordinator_a, site_a, cohort1, ctcae
):
    today = site_today(site_a.timezone)
    subject = enrolled_subject(coordinator_a, site_a, "S-0801", cohort1, days_ago=12)
    c1d1 = today - timedelta(days=7)
    dosed(coordinator_a, subject, on=c1d1)
    c1d8 = (c1d1 + timedelta(days=7)).isoformat()

    sign_in(page, coordinator_a.username)
    page.goto(f"/subjects/{subject.pk}/")
    page.get_by_role("link", name="Visits and forms").click()
    row = page.locator('[data-visit="C1D8"]')
    expect(row).to_have_attribute("data-status", "due")
    shot(page, "visit-calendar")
    row.get_by_role("link", name="Open C1D8").click()
    page.get_by_label("Date of the visit").fill(c1d8)
    page.get_by_role("button", name="Record the visit").click()
    expect(page.locator("[data-visit-recorded]")).to_contain_text(f"Done on {c1d8}")

    page.get_by_role("link", name="Add vital signs").click()
    page.get_by_label("Time point").select_option("visit")
    page.get_by_label("Systolic BP (mmHg)").fill("126")
    page.get_by_label("Diastolic BP (mmHg)").fill("80")
    page.get_by_label("Pulse (beats/min)").fill("74")
    page.get_by_label("Temperature", exact=True).fill("100.4")
    page.get_by_label("Temperature unit").select_option("F")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("[data-vitals]")).to_contain_text("38.00 °C (100.4 F)")

    page.get_by_role("link", name="Add a lab result").click()
    page.get_by_label("Test").select_option("ALT")
    page.get_by_label("Value (as reported)").fill("250")
    page.get_by_label("Unit (as reported)").fill("U/L")
    page.get_by_label("Upper limit of normal").fill("40")
    page.get_by_role("button", name="Save").click()
    lab = page.locator('[data-lab="ALT"]')
    expect(lab.locator("[data-grade]")).to_contain_text(
        "Grade 3 Alanine aminotransferase increased"
    )
    shot(page, "visit-graded-lab")

    lab.get_by_role("link", name="Report as adverse event").click()
    expect(page.get_by_label("CTCAE grade")).to_have_value("3")
    page.get_by_label("Relationship to study drug").select_option("possible")
    page.get_by_label("Action taken with study drug").select_option("none")
    page.get_by_label("Outcome").select_option("not_recovered")
    page.get_by_role("button", name="Report the adverse event").click()
    expect(page.locator(".messages, [role=status], .message").first).to_contain_text(
        "Alanine aminotransferase increased, grade 3, reported"
    )
    expect(page.get_by_text("Alanine aminotransferase increased").first).to_be_visible()
