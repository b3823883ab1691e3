"""Acceptance: a medical monitor sees a DLT reported at a site on the escalation overview and the
DLT timeline, opens the recommendation, is refused with a wrong password (nothing changes), then
confirms with the right one, and the next cohort shows as open.

The data are entered through the services, as a site would: the coordinator's subject in cohort 1
dosed 30 days ago, then a grade 3 neutropenia the investigator calls a DLT. The evaluation runs on
commit, in process. Screenshots go to docs/screenshots/monitoring-*.png (shown in the README).
"""

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from core.dates import site_today
from core.models import Signature
from escalation.models import CommitteeDecision, Recommendation
from tests.conftest import PASSWORD
from tests.factories import dosed, enrolled_subject
from tests.integration.escalation.helpers import report_dlt
from trial.models import Cohort

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page, user, next_url="/monitoring/"):
    page.goto(f"/accounts/login/?next={next_url}")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def nav(page, name):
    page.get_by_role("navigation", name="Main").get_by_role("link", name=name, exact=True).click()


def test_monitor_sees_the_dlt_and_confirms_the_recommendation(
    page, shot, coordinator_a, investigator_a, monitor, site_a, cohort1, ctcae
):
    subject = enrolled_subject(coordinator_a, site_a, "S-1", cohort1, days_ago=32)
    dosed(coordinator_a, subject, on=site_today(site_a.timezone) - timedelta(days=30))
    report_dlt(investigator_a, subject, onset_days_after_dose=5)  # attested: the investigator's
    study = cohort1.study
    recommendation = Recommendation.objects.get(
        track=cohort1.track, status=Recommendation.Status.PENDING
    )
    assert recommendation.action == "enroll"  # titration triggered: 2 more at 0.01 mg/kg

    sign_in(page, monitor)
    expect(page.get_by_role("heading", name="Dose-escalation overview")).to_be_visible()
    q3w = page.locator('[data-track="Q3W-ESC"]')
    level1 = q3w.locator(f'[data-levels] tr[data-level="{cohort1.dose_level_id}"]')
    expect(level1.locator("[data-dlts]")).to_contain_text("1 (1/1)")
    expect(q3w.locator("svg .ladder-mark[data-status=dlt]")).to_have_count(1)
    expect(q3w.locator("[data-recommendation]")).to_contain_text("enroll 2 more at 0.01 mg/kg")
    expect(q3w.locator("[data-open-cohorts]")).to_contain_text("No cohort open")
    shot(page, "monitoring-overview")

    nav(page, "DLT timeline")
    expect(page.get_by_role("heading", name="DLT window timeline")).to_be_visible()
    row = page.locator(f'svg.mon-timeline-svg .mtl-row[data-subject="{subject.subject_number}"]')
    expect(row).to_have_attribute("data-status", "dlt")
    expect(row.locator(".mtl-ae[data-dlt]")).to_have_count(1)
    expect(row.locator(".mtl-ae[data-dlt] title")).to_contain_text("Neutrophil count decreased")
    expect(page.locator("svg.mon-timeline-svg .mtl-today")).to_have_count(1)
    shot(page, "monitoring-timeline")

    nav(page, "Escalation")
    page.locator("[data-pending]").get_by_role("link", name="enroll 2 more").click()
    expect(page.get_by_role("heading", name="Committee review")).to_be_visible()
    evidence = page.locator(f'[data-evidence] tr[data-subject="{subject.subject_number}"]')
    expect(evidence).to_contain_text("DLT")
    expect(evidence).to_contain_text("Neutrophil count decreased")
    expect(evidence).to_contain_text("(100%)")  # the dose received, as a fraction of planned
    shot(page, "monitoring-committee-review")

    # A wrong password: refused on the field, and nothing changes.
    confirm = page.locator("[data-confirm-form]")
    confirm.get_by_label("Your password, to sign").fill("not-the-password")
    confirm.get_by_role("button", name="Sign and confirm").click()
    confirm = page.locator("[data-confirm-form]")
    expect(confirm.locator(".error")).to_contain_text("The password is not correct")
    expect(page.locator("[data-decision-errors]")).to_contain_text("Nothing was signed")
    expect(confirm.get_by_label("Your password, to sign")).to_have_value("")
    assert not CommitteeDecision.objects.exists() and not Signature.objects.exists()
    assert Cohort.objects.filter(study=study).count() == 1
    recommendation.refresh_from_db()
    assert recommendation.status == Recommendation.Status.PENDING
    confirm.scroll_into_view_if_needed()
    shot(page, "monitoring-wrong-password", full_page=False)

    # The right password: the decision is signed and the next cohort opens.
    confirm.get_by_label("Your password, to sign").fill(PASSWORD)
    confirm.get_by_role("button", name="Sign and confirm").click()
    expect(page.locator(".messages .message.success")).to_contain_text("Decision signed")
    expect(page.locator("[data-decided]")).to_contain_text("Monitor Tester")
    decision = CommitteeDecision.objects.get()
    assert decision.outcome == "confirmed" and decision.signature.printed_name == "Monitor Tester"
    assert decision.opened_cohort.status == Cohort.Status.OPEN

    nav(page, "Escalation")
    opened = page.locator('[data-track="Q3W-ESC"] [data-open-cohorts]')
    expect(opened.locator(f'[data-open-cohort="{decision.opened_cohort.number}"]')).to_have_text(
        "Open"
    )
    expect(opened).to_contain_text("0 of 2 places taken")
    expect(page.locator('[data-track="Q3W-ESC"] [data-steps]')).to_contain_text(
        "Signed by Monitor Tester"
    )

    nav(page, "Committee")
    expect(page.locator("[data-decisions]")).to_contain_text("Monitor Tester")
    expect(page.locator("[data-decisions]")).to_contain_text("Meaning: Approved")
    shot(page, "monitoring-decision-history")
