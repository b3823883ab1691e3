"""The dashboards on five months of an escalation entered through the services (see demo.py):
what a medical monitor reads on each page, checked in the browser, and the README screenshots."""

import pytest
from playwright.sync_api import expect

from tests.browser.monitoring import demo
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def nav(page, name):
    page.get_by_role("navigation", name="Main").get_by_role("link", name=name, exact=True).click()


@pytest.fixture
def history(study, site_a, site_b, coordinator_a, coordinator_b, monitor, cohort1, ctcae):
    return demo.build(
        study=study,
        site_a=site_a,
        site_b=site_b,
        coordinator_a=coordinator_a,
        coordinator_b=coordinator_b,
        monitor=monitor,
        cohort1=cohort1,
    )


def test_the_dashboards_on_an_escalation_in_progress(page, shot, history, monitor):
    page.goto("/accounts/login/?next=/monitoring/")
    page.get_by_label("Username").fill(monitor.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    q3w = page.locator('[data-track="Q3W-ESC"]')
    expect(q3w.locator("[data-recommendation]")).to_contain_text("escalate to 0.2 mg/kg")
    # Six Q3W steps drawn: 5 cohorts joined by 4 arrows, plus the dashed recommended one.
    expect(q3w.locator("svg .ladder-arrow")).to_have_count(5)
    expect(q3w.locator("svg .ladder-arrow.proposed")).to_have_count(1)
    expect(q3w.locator("svg .ladder-mark[data-status=dlt]")).to_have_count(1)
    expect(q3w.locator("[data-steps]")).to_contain_text("Overridden")
    expect(q3w.locator("[data-steps]")).to_contain_text("0.15 mg/kg")
    q2w = page.locator('[data-track="Q2W-ESC"]')
    expect(q2w.locator("[data-levels]")).to_contain_text("until")  # a DLT window still open
    shot(page, "monitoring-overview-history")

    nav(page, "DLT timeline")
    chart = page.locator("svg.mon-timeline-svg")
    expect(chart.locator(".mtl-row")).to_have_count(14)
    expect(chart.locator(".mtl-row[data-status=pending]")).to_have_count(1)
    expect(chart.locator(".mtl-ae[data-dlt]")).to_have_count(1)
    shot(page, "monitoring-timeline-history")

    nav(page, "AE tables")
    table = page.locator("[data-ae-table]")
    nausea = table.locator('tr[data-term="Nausea"]')
    # D-03 had nausea twice (grades 1 and 2): one subject, at grade 2.
    expect(nausea.locator('[data-col="2:any"]')).to_have_text("1 (16.7%)")
    expect(nausea.locator('[data-col="2:2"]')).to_have_text("1 (16.7%)")
    expect(nausea.locator('[data-col="2:ge3"]')).to_have_text("0")
    expect(nausea.locator('[data-col="2:1"]')).to_have_text("0")
    page.set_viewport_size({"width": 1920, "height": 1400})
    shot(page, "monitoring-ae-table")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.get_by_role("link", name="Any grade and ≥3 only").click()
    expect(page.locator('[data-ae-table] tr[data-term="Nausea"] [data-col="5:any"]')).to_have_text(
        "3 (21.4%)"
    )  # total: 14 dosed subjects; D-02, D-03 (twice) and D-11 with nausea
    shot(page, "monitoring-ae-table-compact")
    page.get_by_role("link", name="Related TEAEs only").click()
    expect(page.locator("[data-ae-table]")).not_to_contain_text("Diarrhea")  # not related

    nav(page, "SAEs & DLTs")
    expect(page.locator('[data-listing="dlt"]')).to_contain_text("Neutrophil count decreased")
    expect(page.locator('[data-listing="sae"]')).to_contain_text("Lung infection")
    shot(page, "monitoring-listings")

    nav(page, "Committee")
    expect(page.locator("[data-decisions] tbody tr")).to_have_count(5)
    page.locator("[data-pending]").get_by_role("link").first.click()
    expect(page.locator("[data-rec-text]")).to_contain_text("escalate to 0.2 mg/kg")
    expect(page.locator("[data-evidence] tbody tr")).to_have_count(11)
    shot(page, "monitoring-committee-review-history")
