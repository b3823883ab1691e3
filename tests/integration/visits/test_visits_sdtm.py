"""SDTM VS, LB and EG from the visit forms: the values each record gives, and the conformance
checks pass on a study holding them (docs/visits.md §9, docs/standards.md §9)."""

import subprocess
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from lxml import etree

from core.dates import site_today
from standards import registry
from standards.build import build_datasets
from standards.checks import Submission, validate
from standards.context import ExportContext
from standards.define import build_define
from tests.factories import dosed, enrolled_subject
from visits.services import ecg_record, lab_result_record, visit_record, vital_signs_record


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


@pytest.fixture
def ecgs(study, coordinator_a, site_a, open_cohort):
    """A triplicate at screening (the baseline), a single tracing at C1D8 read as abnormal."""
    today = site_today(site_a.timezone)
    subject = enrolled_subject(coordinator_a, site_a, "EG-1", open_cohort, days_ago=20)
    scr = visit_record(
        by=coordinator_a, subject=subject, code="SCR", visit_date=today - timedelta(20)
    )
    # 400 / 1.0^(1/3) = 400.0; 420 / 0.8^(1/3) = 452.4 (HR 75: RR 0.8 s); 410 / 0.9^(1/3) =
    # 424.7; mean 425.7 -> 426 ms, grade 0 (docs/visits.md §7).
    ecg_record(
        by=coordinator_a,
        subject=subject,
        visit=scr,
        recorded_on=scr.visit_date,
        timepoint="visit",
        qt_ms_1=400,
        rr_ms_1=1000,
        qt_ms_2=420,
        heart_rate_2=75,
        qt_ms_3=410,
        rr_ms_3=900,
        pr_ms=160,
        qrs_ms=90,
        interpretation="normal",
    )
    c1d1 = today - timedelta(days=15)
    dosed(coordinator_a, subject, on=c1d1)
    c1d8 = visit_record(
        by=coordinator_a, subject=subject, code="C1D8", visit_date=c1d1 + timedelta(7)
    )
    # 490 / 1.0^(1/3) = 490 ms: 64 ms over the baseline 426 (> 60): grade 3.
    ecg_record(
        by=coordinator_a,
        subject=subject,
        visit=c1d8,
        recorded_on=c1d8.visit_date,
        timepoint="post_dose",
        qt_ms_1=490,
        rr_ms_1=1000,
        interpretation="abnormal_cs",
    )
    return {d.name: d for d in build_datasets(ExportContext(study))}


def test_eg_records_each_tracing_the_mean_qtcf_and_the_reading(ecgs):
    rows = ecgs["EG"].rows
    shown = [
        (
            r["VISIT"],
            r["EGTESTCD"],
            r["EGREPNUM"],
            r["EGORRES"],
            r["EGSTRESN"],
            r["EGSTRESU"],
            r["EGDRVFL"],
            r["EGLOBXFL"],
        )
        for r in rows
    ]
    assert shown == [
        ("SCREENING", "EGHRMN", 2, "75", 75.0, "beats/min", None, None),
        ("SCREENING", "INTP", None, "NORMAL", None, None, None, "Y"),
        ("SCREENING", "PRAG", None, "160", 160.0, "ms", None, "Y"),
        ("SCREENING", "QRSAG", None, "90", 90.0, "ms", None, "Y"),
        ("SCREENING", "QTAG", 1, "400", 400.0, "ms", None, None),
        ("SCREENING", "QTAG", 2, "420", 420.0, "ms", None, None),
        ("SCREENING", "QTAG", 3, "410", 410.0, "ms", None, None),
        ("SCREENING", "QTCFAG", 1, "400", 400.0, "ms", "Y", None),
        ("SCREENING", "QTCFAG", 2, "452.4", 452.4, "ms", "Y", None),
        ("SCREENING", "QTCFAG", 3, "424.7", 424.7, "ms", "Y", None),
        ("SCREENING", "QTCFAG", None, "426", 426.0, "ms", "Y", "Y"),
        ("SCREENING", "RRAG", 1, "1000", 1000.0, "ms", None, None),
        ("SCREENING", "RRAG", 3, "900", 900.0, "ms", None, None),
        ("CYCLE 1 DAY 8", "INTP", None, "ABNORMAL", None, None, None, None),
        ("CYCLE 1 DAY 8", "QTAG", None, "490", 490.0, "ms", None, None),
        ("CYCLE 1 DAY 8", "QTCFAG", None, "490", 490.0, "ms", "Y", None),
        ("CYCLE 1 DAY 8", "RRAG", None, "1000", 1000.0, "ms", None, None),
    ]
    assert [r["EGSEQ"] for r in rows] == list(range(1, 18))
    c1d8 = rows[-4:]
    assert {(r["VISITNUM"], r["EPOCH"], r["EGDY"], r["EGTPT"]) for r in c1d8} == {
        (108, "TREATMENT", 8, "POST-DOSE")
    }
    assert (c1d8[0]["EGCLSIG"], c1d8[0]["EGSTRESC"]) == ("Y", "ABNORMAL")
    assert rows[0]["EGTEST"] == "ECG Mean Heart Rate" and rows[0]["EGDY"] < 0
    # The CTCAE grade of each time point's mean QTcF in SUPPEG.
    supp = {(r["IDVARVAL"], r["QNAM"]): r["QVAL"] for r in ecgs["SUPPEG"].rows}
    assert supp == {
        ("11", "EGTOXGR"): "0",
        ("16", "EGTOX"): "ELECTROCARDIOGRAM QT CORRECTED INTERVAL PROLONGED",
        ("16", "EGTOXGR"): "3",
    }


def test_the_conformance_checks_pass_with_eg(ecgs):
    findings = validate(Submission(tuple(ecgs.values()), registry.sponsor_codelists()))
    assert [f for f in findings if f.severity == "error"] == []
    # The QTc grade is derived, not a judgement: no evaluator (docs/standards.md §8.3).
    assert [(f.check, f.dataset, f.variable) for f in findings if "EG" in f.dataset] == [
        ("STD0003", "SUPPEG", "QEVAL")
    ]


DEFINE_NS = {
    "odm": "http://www.cdisc.org/ns/odm/v1.3",
    "def": "http://www.cdisc.org/ns/def/v2.1",
}
# CDISC's Define-XML 2.1 schema, read from the local mirror tests/integration/standards uses.
MIRROR = Path("/work/.mirror/rubentalstra+Trial-Submission-Studio/repo")
SCHEMA_DIR = "resources/Define-XML_2.1/schema"


def test_define_xml_describes_eg_with_the_ct_codes(ecgs, study, tmp_path):
    xml = build_define(
        list(ecgs.values()),
        study=study,
        sponsor_codelists=registry.sponsor_codelists(),
        created=datetime.now(UTC),
        file_oid="TEST.define",
        source_system=("Phase 1 EDC", "test"),
    )
    root = etree.fromstring(xml)
    group = root.find(".//odm:ItemGroupDef[@OID='IG.EG']", DEFINE_NS)
    assert group.get("Name") == "EG"
    assert group.find("def:Class", DEFINE_NS).get("Name") == "FINDINGS"
    testcd = root.find(".//odm:CodeList[@OID='CL.EGTESTCD']", DEFINE_NS)
    codes = {
        i.get("CodedValue"): i.find("odm:Alias", DEFINE_NS).get("Name")
        for i in testcd.findall("odm:EnumeratedItem", DEFINE_NS)
    }
    assert codes["QTCFAG"] == "C117786" and codes["EGHRMN"] == "C119259"
    assert root.find(".//def:ValueListDef[@OID='VL.SUPPEG.QVAL']", DEFINE_NS) is not None
    if not MIRROR.exists():
        return  # the schema check runs where the mirror is (tests/integration/standards)
    names = subprocess.run(
        ["git", "-C", str(MIRROR), "ls-tree", "-r", "--name-only", "HEAD", SCHEMA_DIR],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for name in names.split():
        target = tmp_path / name.removeprefix(SCHEMA_DIR + "/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(
            subprocess.run(
                ["git", "-C", str(MIRROR), "show", f"HEAD:{name}"], capture_output=True, check=True
            ).stdout
        )
    schema = etree.XMLSchema(etree.parse(str(tmp_path / "cdisc-define-2.1/define2-1-0.xsd")))
    assert schema.validate(root), schema.error_log
