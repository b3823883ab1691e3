"""A coordinator records a baseline and two follow-up tumour assessments in the browser and sees
the computed RECIST 1.1 response beside the investigator's, the confirmed PR, and the subject on
the waterfall and swimmer plots (docs/efficacy.md §15-§16)."""

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from core.dates import site_today
from tests.browser.test_coordinator_journey import assert_every_field_is_labelled
from tests.conftest import PASSWORD
from tests.factories import dosed, enrolled_subject

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page, username):
    page.goto("/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Your sites and subjects")).to_be_visible()


def follow_up(page, subject, on, sizes, investigator):
    page.goto(f"/efficacy/subjects/{subject.pk}/")
    page.get_by_role("link", name="Record a follow-up assessment").click()
    page.get_by_label("Date of the scan").fill(on.isoformat())
    page.get_by_label("Investigator's overall response (RECIST 1.1)").select_option(investigator)
    for code, size in sizes.items():
        page.get_by_label(f"{code}: LD (mm)").or_(
            page.get_by_label(f"{code}: Short axis (mm)")
        ).fill(size)
    page.get_by_role("button", name="Save the assessment").click()


def test_baseline_two_follow_ups_confirmed_pr_waterfall_and_swimmer(
    page, shot, coordinator_a, site_a, cohort1
):
    today = site_today(site_a.timezone)
    first_dose = today - timedelta(days=120)
    subject = enrolled_subject(coordinator_a, site_a, "S-1", cohort1, days_ago=130)
    dosed(coordinator_a, subject, on=first_dose)

    sign_in(page, coordinator_a.username)
    page.goto(f"/subjects/{subject.pk}/")
    page.get_by_role("link", name="Tumour assessments and responses").click()
    page.get_by_role("link", name="Record the baseline assessment").click()
    assert_every_field_is_labelled(page)
    page.get_by_label("Date of the scan").fill((first_dose - timedelta(days=6)).isoformat())
    page.get_by_label("Lesion row 1: Organ").fill("liver")
    page.get_by_label("Lesion row 1: LD / short axis (mm)").fill("50")
    page.get_by_label("Lesion row 2: Organ").fill("lung")
    page.get_by_label("Lesion row 2: LD / short axis (mm)").fill("9")  # too small: refused
    page.get_by_label("Lesion row 6: Organ").fill("bone")
    page.get_by_label("Lesion row 6: Non-measurable by nature").check()
    page.get_by_role("button", name="Save the assessment").click()
    summary = page.locator("#error-summary")
    expect(summary).to_contain_text("Nothing was saved")
    expect(summary).to_contain_text("Lesion row 2: LD / short axis (mm)")
    expect(summary).to_contain_text("must be measurable")
    page.get_by_label("Lesion row 2: LD / short axis (mm)").fill("30")
    page.get_by_role("button", name="Save the assessment").click()
    expect(page.locator(".messages")).to_contain_text("Baseline tumour assessment")

    # Day 43: 35 + 21 = 56 of 80 is exactly 30% below baseline: PR; the investigator said SD.
    follow_up(page, subject, first_dose + timedelta(days=42), {"T1": "35", "T2": "21"}, "SD")
    expect(page.locator(".messages")).to_contain_text(
        "Computed response: PR, the investigator's is SD: the disagreement is flagged"
    )
    row = page.locator(f'[data-assessment="{(first_dose + timedelta(days=42)).isoformat()}"]')
    expect(row.locator("[data-computed]")).to_have_text("PR")
    expect(row.locator("[data-investigator]")).to_contain_text("SD")
    expect(row).to_contain_text("-30.0%")
    # Day 85: still PR, confirmed 42 days later.
    follow_up(page, subject, first_dose + timedelta(days=84), {"T1": "30", "T2": "20"}, "PR")
    expect(page.locator("[data-bor]")).to_have_text("PR")
    expect(page.locator("#best-response")).to_contain_text(
        f"confirmed on {(first_dose + timedelta(days=84)).isoformat()}"
    )
    shot(page, "efficacy-subject")

    page.get_by_role("link", name="Study endpoints and plots").click()
    bar = page.locator(f'[data-plot="waterfall"] rect[data-subject="{subject.label}"]')
    expect(bar).to_have_count(1)
    expect(bar).to_have_class("bor-pr")
    expect(bar.locator("title")).to_contain_text("best change -37.5%")
    lane = page.locator(f'[data-plot="swimmer"] g[data-subject="{subject.label}"]')
    expect(lane.locator('[data-mark="response"]')).to_have_count(1)
    expect(lane.locator("[data-ongoing]")).to_have_count(1)
    expect(page.locator('[data-table="rates"]')).to_contain_text("All dose levels")
    expect(page.locator("[data-km-transform]")).to_contain_text("log")
    shot(page, "efficacy-endpoints")
