"""A sponsor starts an export in the browser, watches the progress bar move (htmx polling), and
the zip arrives with the checksum the page shows (docs/standards.md §11)."""

import hashlib
import time
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect

from core.dates import site_today
from standards import services
from standards.models import Export
from tests.conftest import PASSWORD
from tests.factories import dosed, enrolled_subject

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WATCH_PROGRESS = """
() => {
  window.__progress = [];
  const record = () => {
    const bar = document.querySelector('#export-bar');
    if (bar) window.__progress.push(Number(bar.getAttribute('value')));
  };
  record();
  new MutationObserver(record).observe(document.querySelector('main'),
                                       {childList: true, subtree: true});
}
"""


def test_the_progress_bar_moves_and_the_download_arrives(
    page,
    settings,
    tmp_path,
    monkeypatch,
    shot,
    sponsor,
    study,
    site_a,
    coordinator_a,
    cohort1,
    ctcae,
):
    settings.STANDARDS_EXPORT_DIR = tmp_path
    subject = enrolled_subject(coordinator_a, site_a, "S-0100", cohort1, days_ago=10)

    dosed(coordinator_a, subject, on=site_today(site_a.timezone) - timedelta(days=8))
    # The job is run below, by this test, slowly enough for the page's polls to see it move.
    monkeypatch.setattr(services, "_enqueue", lambda export_id: None)
    progress = services._progress

    def slow_progress(*args, **kwargs):
        progress(*args, **kwargs)
        time.sleep(0.4)

    monkeypatch.setattr(services, "_progress", slow_progress)

    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(sponsor.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name="Data exports").click()
    expect(page.get_by_role("heading", name="Start an export")).to_be_visible()
    page.get_by_role("button", name="Start the export").click()
    expect(page.get_by_role("heading", name="Queued")).to_be_visible()
    page.evaluate(WATCH_PROGRESS)
    export = Export.objects.get()

    services.run_export(export.pk)  # the browser keeps polling while this runs

    download_link = page.get_by_role("link", name="Download the zip")
    expect(download_link).to_be_visible(timeout=15_000)
    seen = page.evaluate("window.__progress")
    assert seen[0] == 0 and seen[-1] == 100
    moving = [value for value in seen if 0 < value < 100]
    assert moving, f"the bar never showed the job under way: {seen}"
    assert seen == sorted(seen)  # it only moves forward
    expect(page.get_by_text("0 errors")).to_be_visible()
    shot(page, "standards-export")
    with page.expect_download() as download_info:
        download_link.click()
    download = download_info.value
    export.refresh_from_db()
    assert download.suggested_filename == f"MIL97-001-export-{export.pk}.zip"
    assert hashlib.sha256(Path(download.path()).read_bytes()).hexdigest() == export.sha256
    expect(page.get_by_text(export.sha256)).to_be_visible()
