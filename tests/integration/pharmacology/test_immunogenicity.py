"""ADA status and incidence by dose level, biomarker change from baseline, from imported
results (docs/pharmacology.md §4, §5)."""

from datetime import timedelta

import pytest
from django.urls import reverse

from core.dates import site_today
from pharmacology import selectors
from pharmacology.services import lab_import, sample_record
from tests.factories import dosed, enrolled_subject


@pytest.fixture
def two_cycles(coordinator_a, site_a, cohort1):
    subject = enrolled_subject(coordinator_a, site_a, "A-7", cohort1, days_ago=40)
    today = site_today(site_a.timezone)
    c1 = dosed(coordinator_a, subject, on=today - timedelta(days=30))
    c2 = dosed(coordinator_a, subject, on=today - timedelta(days=9), cycle=2)
    return subject, c1, c2


def sample(by, subject, dose, kind, label, barcode, minutes):
    return sample_record(
        by=by, subject=subject, dose=dose, kind=kind, timepoint=label, sample_id=barcode,
        collected_at=dose.infusion_start + timedelta(minutes=minutes),
    )  # fmt: skip


def test_treatment_induced_ada_and_incidence_per_dose_level(
    client, coordinator_a, data_manager, monitor, study, two_cycles
):
    subject, c1, c2 = two_cycles
    sample(coordinator_a, subject, c1, "ada", "pre-dose", "ADA-1", -20)
    sample(coordinator_a, subject, c2, "ada", "pre-dose", "ADA-2", -20)
    number = subject.subject_number
    content = (
        "sample_id,subject,timepoint,screening,confirmatory,titer,neutralising,run_id\n"
        f"ADA-1,{number},pre-dose,negative,,,,R1\n"
        f"ADA-2,{number},pre-dose,positive,positive,200,negative,R1\n"
    ).encode()
    assert lab_import(by=data_manager, study=study, kind="ada", file_name="ada.csv",
                      content=content).status == "accepted"  # fmt: skip
    overview = selectors.ada_overview(monitor, study.pk)
    [status] = overview["statuses"]
    assert (
        status.evaluable and status.ada_class == "treatment-induced" and status.treatment_emergent
    )
    level, overall = overview["incidence"]
    assert level.group.startswith("Dose level 1") and overall.group == "Overall"
    assert (level.ada_incidence.n, level.ada_incidence.denominator) == (1, 1)
    assert level.ada_incidence.denominator_name == "ADA-evaluable subjects"
    client.force_login(monitor)
    page = client.get(reverse("pharmacology:immunogenicity"))
    assert b"1/1 (100.0%)" in page.content and b"treatment-induced" in page.content
    # The incidence plotted beside its table, and its own CSV.
    assert b"data-ada-incidence-chart" in page.content
    assert page.content.decode().count('class="bar"') == 2  # the dose level and overall
    incidence = client.get(reverse("pharmacology:immunogenicity") + "?csv=incidence")
    header, level_row, overall_row = incidence.content.decode().splitlines()
    assert header.startswith("group,subjects,ada_evaluable,te_ada_n,te_ada_denominator,te_ada_over")
    assert level_row.split(",")[1:8] == ["1", "1", "1", "1", "ADA-evaluable subjects", "100", "1"]
    assert overall_row.startswith("Overall,1,1,1,1,")
    csv_text = client.get(reverse("pharmacology:immunogenicity") + "?csv=ada").content.decode()
    assert f"{number},Dose level 1" in csv_text
    from tests.integration.pharmacology.test_pharmacology_api import api

    [row] = api(monitor).get("/api/v1/ada-status/", {"study": study.pk}).json()
    assert (row["subject"], row["ada_class"], row["treatment_emergent"]) == (
        number,
        "treatment-induced",
        True,
    )
    assert api(monitor).get("/api/v1/ada-status/", {"colour": "red"}).status_code == 400


def test_biomarker_change_from_baseline(coordinator_a, data_manager, monitor, study, two_cycles):
    subject, c1, _ = two_cycles
    sample(coordinator_a, subject, c1, "biomarker", "pre-dose", "BM-1", -20)
    sample(coordinator_a, subject, c1, "biomarker", "6 h", "BM-2", 360)
    number = subject.subject_number
    content = (
        "sample_id,subject,timepoint,analyte,result,unit,lloq,uloq\n"
        f"BM-1,{number},pre-dose,IL6,4.0,pg/mL,1.5,500\nBM-2,{number},6 h,IL6,12,pg/mL,1.5,500\n"
        f"BM-1,{number},pre-dose,SCD80,<LLOQ,ng/mL,0.1,50\n"
        f"BM-2,{number},6 h,SCD80,0.4,ng/mL,0.1,50\n"
    ).encode()
    imported = lab_import(
        by=data_manager, study=study, kind="biomarker", file_name="bm.csv", content=content
    )
    assert imported.status == "accepted", imported.report
    overview = selectors.biomarker_overview(monitor, study.pk)
    il6 = next(c for c in overview["changes"] if c.analyte == "IL6")
    assert (il6.timepoint, il6.change, il6.fold_change) == ("C1 6 h", 8.0, 3.0)
    cd80 = next(c for c in overview["changes"] if c.analyte == "SCD80")
    # Baseline below the LLOQ is left out (the protocol's setting): no change, and it says why.
    assert cd80.change is None and cd80.value == 400.0 and "baseline" in cd80.note
    [summary] = [s for s in overview["summaries"] if s.analyte == "IL6"]
    assert summary.median_fold == 3.0 and summary.group.startswith("Dose level 1")
