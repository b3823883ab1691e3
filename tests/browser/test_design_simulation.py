"""A medical monitor simulates 10,000 trials of the MIL97 dose levels under BOIN and the 3+3,
watches the progress bar move, and compares the two designs side by side (docs/designs.md §13)."""

import time

import pytest
from playwright.sync_api import expect

from simulations import services
from simulations.models import Simulation
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WATCH_PROGRESS = """
() => {
  window.__progress = [];
  const record = () => {
    const bar = document.querySelector('#simulation-bar');
    if (bar) window.__progress.push(Number(bar.getAttribute('value')));
  };
  record();
  new MutationObserver(record).observe(document.querySelector('main'),
                                       {childList: true, subtree: true});
}
"""


def test_a_monitor_runs_boin_and_3_plus_3_and_compares_them(
    page, monkeypatch, shot, monitor, study
):
    # The job is run below, by this test, slowly enough for the page's polls to see it move.
    monkeypatch.setattr(services, "_enqueue", lambda simulation_id: None)
    progress = services._progress

    def slow_progress(*args, **kwargs):
        progress(*args, **kwargs)
        time.sleep(0.15)

    monkeypatch.setattr(services, "_progress", slow_progress)

    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(monitor.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("navigation", name="Main").get_by_role(
        "link", name="Design simulations"
    ).click()
    expect(page.get_by_role("heading", name="Simulate")).to_be_visible()
    # BOIN and the 3+3 are offered checked, the MIL97 levels' scenarios filled in, 10,000 trials.
    expect(page.get_by_label("BOIN", exact=True)).to_be_checked()
    expect(page.get_by_label("3+3", exact=True)).to_be_checked()
    expect(page.get_by_label("Trials")).to_have_value("10000")
    page.get_by_label("Seed").fill("20261130")
    page.get_by_role("button", name="Run the simulation").click()
    expect(page.get_by_role("heading", name="Queued")).to_be_visible()
    page.evaluate(WATCH_PROGRESS)
    simulation = Simulation.objects.get()
    assert simulation.n_trials == 10_000 and len(simulation.dose_levels) == 6
    assert [d["name"] for d in simulation.designs] == ["boin", "3+3"]

    services.run_simulation(simulation.pk)  # the browser keeps polling while this runs

    csv_link = page.get_by_role("link", name="Download as CSV")
    expect(csv_link).to_be_visible(timeout=30_000)
    seen = page.evaluate("window.__progress")
    assert seen[0] == 0 and seen[-1] == 100
    assert [v for v in seen if 0 < v < 100], f"the bar never showed the run under way: {seen}"
    assert seen == sorted(seen)
    # Side by side: one table per scenario, BOIN and the 3+3 in adjacent columns, the 3+3's
    # exact closed form beside its simulated figure.
    first = page.locator('[data-comparison="1"]')
    headers = first.locator("thead th")
    expect(headers.nth(1)).to_contain_text("BOIN")
    expect(headers.nth(2)).to_contain_text("3+3")
    pcs = first.locator('tr[data-metric="pcs"] td')
    expect(pcs).to_have_count(2)
    expect(
        first.locator('tr[data-metric="selection"]').first.locator("[data-exact]")
    ).to_have_count(1)
    expect(page.locator('[data-comparison="2"]')).to_be_visible()
    shot(page, "design-simulation")
    with page.expect_download() as download_info:
        csv_link.click()
    assert download_info.value.suggested_filename == f"simulation-{simulation.pk}.csv"
