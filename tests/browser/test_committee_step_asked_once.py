"""Acceptance (blocker B1 of the acceptance review): a committee step is asked once.

The monitor confirms "escalate to 0.03 mg/kg Q3W: open a cohort of 1" on the review page. The
next cohort opens, no new step awaits the committee (on the overview, the committee page and the
coordinator's home), nothing offers to open a second cohort at 0.03 mg/kg, and the monitor got
exactly one e-mail for that recommendation.
"""

from datetime import timedelta

import pytest
from django.core import mail
from playwright.sync_api import expect

from core.dates import site_today
from escalation.models import CommitteeDecision, Recommendation
from tests.browser.monitoring.test_monitor_committee_journey import nav, sign_in
from tests.conftest import PASSWORD
from tests.factories import dosed, enrolled_subject
from trial.models import Cohort

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_confirming_an_escalation_opens_the_cohort_and_asks_nothing_again(
    page, shot, browser, live_server, coordinator_a, monitor, site_a, cohort1, ctcae
):
    # Cohort 1's titration subject, dosed 30 days ago: its window is over, 0.01 mg/kg passes.
    subject = enrolled_subject(coordinator_a, site_a, "S-1", cohort1, days_ago=32)
    dosed(coordinator_a, subject, on=site_today(site_a.timezone) - timedelta(days=30))
    track = cohort1.track
    pending = Recommendation.objects.get(track=track, status=Recommendation.Status.PENDING)
    assert pending.text.startswith("escalate to 0.03 mg/kg Q3W: open a cohort of 1")
    about_it = [m for m in mail.outbox if pending.text in m.subject]
    assert [m.to for m in about_it] == [[monitor.email]]

    sign_in(page, monitor)
    page.locator("[data-pending]").get_by_role("link", name="escalate to 0.03 mg/kg Q3W").click()
    expect(page.get_by_role("heading", name="Committee review")).to_be_visible()
    confirm = page.locator("[data-confirm-form]")
    confirm.get_by_label("Your password, to sign").fill(PASSWORD)
    confirm.get_by_role("button", name="Sign and confirm").click()
    expect(page.locator(".messages .message.success")).to_contain_text("Decision signed")

    # The next cohort is open; nothing awaits the committee.
    nav(page, "Escalation")
    q3w = page.locator('[data-track="Q3W-ESC"]')
    opened = Cohort.objects.get(track=track, status=Cohort.Status.OPEN)
    expect(q3w.locator(f'[data-open-cohort="{opened.number}"]')).to_have_text("Open")
    expect(q3w.locator("[data-open-cohorts]")).to_contain_text("0.03 mg/kg · 0 of 1 place taken")
    expect(page.locator("[data-pending]")).to_have_count(0)
    recommendation = q3w.locator("[data-recommendation]")
    expect(recommendation).to_contain_text("Current recommendation")
    expect(recommendation).not_to_contain_text("awaiting the committee")
    expect(recommendation).to_contain_text("carried out: 1 place open at 0.03 mg/kg Q3W")
    shot(page, "monitoring-step-carried-out")

    nav(page, "Committee")
    expect(page.locator("[data-pending]")).to_have_count(0)
    expect(page.get_by_text("Nothing awaits the committee")).to_be_visible()

    # The coordinator sees the open cohort and no step awaiting the committee.
    context = browser.new_context(base_url=live_server.url)
    coordinator = context.new_page()
    sign_in(coordinator, coordinator_a, next_url="/")
    expect(coordinator.get_by_text("Open for enrollment").first).to_be_visible()
    expect(coordinator.get_by_text("Awaiting the Safety Review Committee")).to_have_count(0)
    context.close()

    assert CommitteeDecision.objects.count() == 1
    assert not Recommendation.objects.filter(status=Recommendation.Status.PENDING).exists()
    assert Cohort.objects.filter(track=track, dose_level=opened.dose_level).count() == 1
    # Exactly one e-mail was ever sent for that recommendation, and none since.
    assert [m for m in mail.outbox if pending.text in m.subject] == about_it
    assert not [m for m in mail.outbox if "open a cohort of 1" in m.body and m not in about_it]
