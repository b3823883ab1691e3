"""Acceptance: a medical monitor signs in and lands on the safety dashboards, sees the DLT the
site reported among the recent DLTs and SAEs, adjudicates it as not a DLT from the listings (the
investigator's call stays beside it), is told the recommendation changed, and reads on the
notifications page who was told, when. Screenshots: docs/screenshots/monitoring-adjudicated.png
and monitoring-notifications.png."""

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from core.dates import site_today
from escalation.models import Recommendation
from safety.models import AdverseEvent
from tests.conftest import PASSWORD
from tests.factories import dosed, enrolled_subject
from tests.integration.escalation.helpers import report_dlt

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def nav(page, name):
    page.get_by_role("navigation", name="Main").get_by_role("link", name=name, exact=True).click()


def test_monitor_adjudicates_a_dlt_and_sees_who_was_told(
    page, shot, monitor, coordinator_a, site_a, cohort1, ctcae
):
    subject = enrolled_subject(coordinator_a, site_a, "S-1", cohort1, days_ago=32)
    dosed(coordinator_a, subject, on=site_today(site_a.timezone) - timedelta(days=30))
    event = report_dlt(coordinator_a, subject, term="Nausea", grade=1)
    pending = Recommendation.objects.get(track=cohort1.track, status="pending")
    assert pending.action == "enroll"

    # Signing in without asking for a page leads the study team to the dashboards.
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(monitor.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Dose-escalation overview")).to_be_visible()
    alerts = page.locator("[data-alerts]")
    expect(alerts.locator('[data-alert="new_dlt"]')).to_contain_text("DLT reported")
    expect(alerts.locator(f'[data-dlt-calls="{event.pk}"]')).to_contain_text(
        "Committee: not adjudicated"
    )

    nav(page, "SAEs & DLTs")
    row = page.locator(f'[data-listing="dlt"] tr[data-ae="{event.pk}"]')
    expect(row.locator('[data-call="investigator"]')).to_have_text("DLT")
    expect(row.locator('[data-call="committee"]')).to_contain_text("Not adjudicated")
    row.get_by_text("Adjudicate the DLT call").click()
    form = row.locator(f'[data-adjudicate-form="{event.pk}"]')
    form.get_by_label("Not a DLT").check()
    form.get_by_label("Note").fill("Grade 1 nausea: not a DLT under the protocol's definition.")
    form.get_by_role("button", name="Save the committee's call").click()

    message = page.locator(".messages .message.success")
    expect(message).to_contain_text("The committee's DLT call is saved")
    expect(message).to_contain_text("the recommendation on Dose escalation, Q3W changed: now")
    event.refresh_from_db()
    assert (event.dlt_investigator, event.dlt_adjudicated) == (True, False)
    assert isinstance(event, AdverseEvent) and event.dlt_adjudication_note.startswith("Grade 1")
    expect(page.locator('[data-listing="dlt"]')).to_contain_text("None in this selection")
    kept = page.locator(f'[data-listing="not-upheld"] tr[data-ae="{event.pk}"]')
    expect(kept.locator('[data-call="investigator"]')).to_have_text("DLT")
    expect(kept.locator('[data-call="committee"]')).to_contain_text("Not a DLT")
    expect(kept.locator('[data-call="committee"]')).to_contain_text("Monitor Tester")
    shot(page, "monitoring-adjudicated")

    nav(page, "Notifications")
    expect(
        page.get_by_role("heading", name="Notifications: who was told what, when")
    ).to_be_visible()
    table = page.locator("[data-notifications]")
    dlt = table.locator('tr[data-kind="new_dlt"]')
    expect(dlt).to_have_count(1)
    expect(dlt).to_contain_text("Monitor Tester")
    expect(dlt).to_have_attribute("data-delivery", "sent")
    expect(dlt.get_by_role("link", name=subject.subject_number)).to_have_attribute(
        "href", f"/subjects/{subject.pk}/"
    )
    expect(table.locator('tr[data-kind="recommendation"]').first).to_contain_text("Monitor Tester")
    shot(page, "monitoring-notifications")
