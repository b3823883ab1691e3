"""SDTM VS and LB from the visit forms: the values each record gives, and the conformance
checks pass on a study holding them (docs/visits.md §9, docs/standards.md §9)."""

from datetime import timedelta
from decimal import Decimal

import pytest

from core.dates import site_today
from standards import registry
from standards.build import build_datasets
from standards.checks import Submission, validate
from standards.context import ExportContext
from tests.factories import dosed, enrolled_subject
from visits.services import lab_result_record, visit_record, vital_signs_record


@pytest.fixture
def forms(study, coordinator_a, site_a, open_cohort):
    today = site_today(site_a.timezone)
    subject = enrolled_subject(coordinator_a, site_a, "S-1", open_cohort, days_ago=20)
    c1d1 = today - timedelta(days=15)
    scr = visit_record(
        by=coordinator_a, subject=subject, code="SCR", visit_date=today - timedelta(20)
    )
    vital_signs_record(
        by=coordinator_a,
        subject=subject,
        visit=scr,
        measured_on=scr.visit_date,
        timepoint="visit",
        systolic_bp=130,
        diastolic_bp=85,
        temperature=Decimal("98.6"),
        temperature_unit="F",
        weight=Decimal("70"),
        weight_unit="kg",
    )
    lab_result_record(
        by=coordinator_a,
        subject=subject,
        visit=scr,
        sampled_on=scr.visit_date,
        test="BILI",
        value=Decimal("0.8"),
        unit="mg/dL",
        normal_low=Decimal("0.2"),
        normal_high=Decimal("1.2"),
    )
    dosed(coordinator_a, subject, on=c1d1)
    c1d8 = visit_record(
        by=coordinator_a, subject=subject, code="C1D8", visit_date=c1d1 + timedelta(7)
    )
    lab_result_record(
        by=coordinator_a,
        subject=subject,
        visit=c1d8,
        sampled_on=c1d8.visit_date,
        test="BILI",
        value=Decimal("2.0"),
        unit="mg/dL",
        normal_low=Decimal("0.2"),
        normal_high=Decimal("1.2"),
    )
    lab_result_record(
        by=coordinator_a,
        subject=subject,
        visit=c1d8,
        sampled_on=c1d8.visit_date,
        test="LIPASE",
        value=Decimal("50"),
        unit="U/L",
    )
    return subject, {d.name: d for d in build_datasets(ExportContext(study))}


def test_vs_records_in_original_and_standard_units(forms):
    subject, datasets = forms
    rows = {r["VSTESTCD"]: r for r in datasets["VS"].rows}
    assert set(rows) == {"SYSBP", "DIABP", "TEMP", "WEIGHT"}
    temp = rows["TEMP"]
    assert (temp["VSORRES"], temp["VSORRESU"], temp["VSSTRESN"], temp["VSSTRESU"]) == (
        "98.6",
        "F",
        37.0,
        "C",
    )
    assert (temp["VISITNUM"], temp["VISIT"], temp["EPOCH"], temp["VSLOBXFL"]) == (
        1,
        "SCREENING",
        "SCREENING",
        "Y",
    )
    assert temp["VSDY"] < 0


def test_lb_records_with_ranges_flags_and_ctcae_grade(forms):
    subject, datasets = forms
    rows = sorted(datasets["LB"].rows, key=lambda r: (r["LBTESTCD"], r["LBDTC"]))
    assert [(r["LBTESTCD"], r["VISIT"]) for r in rows] == [
        ("BILI", "SCREENING"),
        ("BILI", "CYCLE 1 DAY 8"),
        ("LIPASET", "CYCLE 1 DAY 8"),
    ]
    baseline, later, lipase = rows
    assert baseline["LBLOBXFL"] == "Y" and later["LBLOBXFL"] is None
    # 2.0 mg/dL = 34.2 umol/L; ULN 1.2 mg/dL = 20.52 umol/L; 1.67 x ULN -> grade 2.
    assert (later["LBORRES"], later["LBORRESU"], later["LBSTRESN"], later["LBSTRESU"]) == (
        "2",
        "mg/dL",
        34.2,
        "umol/L",
    )
    assert later["LBSTNRHI"] == pytest.approx(20.52)
    assert (later["LBNRIND"], later["LBTOX"], later["LBTOXGR"], later["VISITNUM"]) == (
        "HIGH",
        "BLOOD BILIRUBIN INCREASED",
        "2",
        108,
    )
    # No normal range: no indicator and no grade.
    assert (lipase["LBTEST"], lipase["LBNRIND"], lipase["LBTOXGR"]) == ("Lipase", None, None)
    assert later["LBCAT"] == "CHEMISTRY"


def test_the_conformance_checks_pass_with_vs_and_lb(forms):
    _, datasets = forms
    findings = validate(Submission(tuple(datasets.values()), registry.sponsor_codelists()))
    assert [f for f in findings if f.severity == "error"] == []
    coded = [f for f in findings if f.dataset in ("VS", "LB") and "codelist" in f.message]
    assert coded == []
