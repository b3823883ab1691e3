"""The PK journey in the browser: a coordinator records the Cycle 1 PK sample times, one of
them late; a data manager imports the laboratory's file, first refused with its row-by-row
report, then accepted; the monitor opens the PK page and sees the curves and the parameters."""

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from core.dates import site_today
from pharmacology.models import Concentration, NcaAnalysis
from tests.conftest import PASSWORD
from tests.factories import dosed, enrolled_subject

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Hours after the infusion start (the late one last) and the laboratory's results (ug/mL).
TIMES = {"pre-dose": -0.5, "EOI": 1.5, "6 h": 6, "24 h": 24, "48 h": 48, "96 h": 96,
         "168 h": 168, "2 h": 2 + 40 / 60}  # fmt: skip
RESULTS = {"pre-dose": "BLQ", "EOI": "2.10", "2 h": "2.05", "6 h": "1.90", "24 h": "1.60",
           "48 h": "1.42", "96 h": "1.15", "168 h": "0.90"}  # fmt: skip


def sign_in(page, user):
    page.context.clear_cookies()
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def barcode(label):
    return "PK-" + label.replace(" ", "").replace("-", "")


def lab_file(subject, *, broken=False):
    lines = ["sample_id,subject,timepoint,analyte,result,unit,lloq,uloq,run_id"]
    for label, result in RESULTS.items():
        unit = "mg" if broken and label == "24 h" else "ug/mL"
        lines.append(
            f"{barcode(label)},{subject.subject_number},{label},MIL97,{result},{unit},0.05,50,R1"
        )
    if broken:
        lines.append(f"PK-UNKNOWN,{subject.subject_number},2 h,MIL97,1.0,ug/mL,0.05,50,R1")
    return ("\n".join(lines) + "\n").encode()


@pytest.fixture
def dose(coordinator_a, site_a, cohort1):
    subject = enrolled_subject(coordinator_a, site_a, "S-0101", cohort1, days_ago=20)
    return dosed(coordinator_a, subject, on=site_today(site_a.timezone) - timedelta(days=10))


def test_pk_journey(page, shot, coordinator_a, data_manager, monitor, site_a, dose):
    subject = dose.subject
    tz = ZoneInfo(site_a.timezone)
    sign_in(page, coordinator_a)
    page.goto(f"/subjects/{subject.pk}/")
    page.get_by_role("link", name="Samples C1D1").click()
    expect(page.get_by_role("heading", name=f"Samples at C1D1: {subject}")).to_be_visible()
    for label, hours in TIMES.items():
        row = page.locator(f'[data-sample-row="pk:{label}"]')
        row.get_by_label("Sample ID (barcode)").fill(barcode(label))
        when = (dose.infusion_start + timedelta(hours=hours)).astimezone(tz)
        row.get_by_label("Actual date and time").fill(when.strftime("%Y-%m-%dT%H:%M"))
        row.get_by_role("button", name=f"Save PK {label}").click()
        expect(page.locator(".messages")).to_contain_text(f"sample {label} saved")
    late = page.locator('[data-sample-row="pk:2 h"]')
    expect(late.locator("[data-flag]")).to_have_text("outside the window")
    expect(late.locator("[data-deviation]")).to_have_text("deviation 0.67 h")
    shot(page, "pk-samples-c1d1")

    sign_in(page, data_manager)
    page.goto("/pharmacology/lab-files/")
    page.get_by_label("Kind of results").select_option("pk")
    page.get_by_label("CSV file").set_input_files(
        files=[
            {"name": "run-1.csv", "mimeType": "text/csv", "buffer": lab_file(subject, broken=True)}
        ]
    )
    page.get_by_role("button", name="Import the file").click()
    expect(page.get_by_role("heading", name="Refused: nothing was saved")).to_be_visible()
    report = page.locator("[data-import-report]")
    expect(report).to_contain_text("'mg' is not one of")
    expect(report).to_contain_text("PK-UNKNOWN")
    expect(report).to_contain_text("unknown sample")
    shot(page, "pk-import-refused")
    assert not Concentration.objects.exists()

    page.goto("/pharmacology/lab-files/")
    page.get_by_label("Kind of results").select_option("pk")
    page.get_by_label("CSV file").set_input_files(
        files=[{"name": "run-2.csv", "mimeType": "text/csv", "buffer": lab_file(subject)}]
    )
    page.get_by_role("button", name="Import the file").click()
    expect(page.get_by_role("heading", name="Accepted: 8 results saved")).to_be_visible()
    assert NcaAnalysis.objects.filter(subject=subject, interval=1).exists()

    sign_in(page, monitor)
    page.goto("/pharmacology/pk/")
    level = page.locator('[data-dose-level="1"]')
    expect(level.locator("svg.pk-chart")).to_have_count(4)
    row = level.locator(f'[data-nca-subject="{subject.subject_number}"]')
    expect(row.locator("td").first).to_have_text("2.1")  # Cmax, ug/mL
    expect(row.locator("td").nth(1)).to_have_text("1.5")  # Tmax, h
    shot(page, "pk-page")
