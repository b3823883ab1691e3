"""SDTM PC, PP and IS from the pharmacology records (docs/pharmacology.md §11)."""

from datetime import UTC, datetime, timedelta

import pytest
from lxml import etree

from pharmacology.services import lab_import, sample_record
from standards import registry
from standards.build import build_datasets
from standards.checks import Submission, validate
from standards.context import ExportContext
from tests.integration.pharmacology.conftest import pk_csv


@pytest.fixture
def exported(coordinator_a, data_manager, study, subject_a, dose_a, pk_samples,
             django_capture_on_commit_callbacks):  # fmt: skip
    ada = sample_record(
        by=coordinator_a, subject=subject_a, dose=dose_a, kind="ada", timepoint="pre-dose",
        sample_id="ADA-1", collected_at=dose_a.infusion_start - timedelta(minutes=20),
    )  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        lab_import(by=data_manager, study=study, kind="pk", file_name="pk.csv",
                   content=pk_csv(pk_samples, subject_a))  # fmt: skip
    content = (
        "sample_id,subject,timepoint,screening,confirmatory,titer,neutralising\n"
        f"{ada.sample_id},{subject_a.subject_number},pre-dose,positive,positive,50,negative\n"
    ).encode()
    assert lab_import(by=data_manager, study=study, kind="ada", file_name="ada.csv",
                      content=content).status == "accepted"  # fmt: skip
    return {d.name: d for d in build_datasets(ExportContext(study))}


def test_pc_pp_is_values_and_conformance(exported, subject_a):
    pc = exported["PC"].rows
    assert len(pc) == 8
    blq = next(r for r in pc if r["PCTPT"] == "PRE-DOSE")
    assert (blq["PCORRES"], blq["PCSTRESC"], blq["PCSTRESN"], blq["PCLLOQ"]) == (
        "BLQ", "BLQ", None, 0.05,
    )  # fmt: skip
    assert blq["PCELTM"] == "PT0H" and blq["PCREFID"] == "PK-predose"
    two = next(r for r in pc if r["PCTPT"] == "2 H")
    assert (two["PCSTRESN"], two["PCSTRESU"], two["PCTPTNUM"], two["PCELTM"]) == (
        2.05, "ug/mL", 2.0, "PT2H",
    )  # fmt: skip
    assert two["VISITNUM"] == 101 and two["PCTPTREF"] == "DOSE CYCLE 1 DAY 1"
    pp = {r["PPTESTCD"]: r for r in exported["PP"].rows}
    assert (pp["CMAX"]["PPSTRESN"], pp["CMAX"]["PPSTRESU"], pp["CMAX"]["PPTEST"]) == (
        2.1, "ug/mL", "Max Conc",
    )  # fmt: skip
    assert pp["AUCLST"]["PPSTRESU"] == "h*ug/mL" and pp["LAMZHL"]["PPSTRESU"] == "h"
    # A parameter the interval cannot give is NOT DONE, with the core's reason.
    assert pp["CTROUGH"]["PPSTAT"] == "NOT DONE" and pp["CTROUGH"]["PPREASND"]
    assert pp["CTROUGH"]["PPSTRESN"] is None and pp["CMAX"]["PPSTAT"] in ("", None)
    tiers = [(r["ISTESTCD"], r["ISTSTOPO"], r["ISORRES"]) for r in exported["IS"].rows]
    assert tiers == [
        ("ADA_BAB", "SCREEN", "POSITIVE"),
        ("ADA_BAB", "CONFIRM", "POSITIVE"),
        ("ADA_BAB", "QUANTIFY", "50"),
        ("ADA_NAB", None, "NEGATIVE"),
    ]
    assert all(r["ISBLFL"] == "Y" and r["ISBDAGNT"] == "MIL97" for r in exported["IS"].rows)
    findings = validate(Submission(tuple(exported.values()), registry.sponsor_codelists()))
    errors = [f for f in findings if f.severity == "error" and f.dataset in ("PC", "PP", "IS")]
    assert errors == []


@pytest.fixture
def labs_and_biomarkers(coordinator_a, data_manager, study, subject_a, dose_a):
    """A local laboratory result (visits app) and the biomarker results of the same subject
    (this app): both go to LB."""
    from decimal import Decimal

    from visits.services import lab_result_record, visit_record

    c1d8 = dose_a.administered_on + timedelta(days=7)
    visit = visit_record(by=coordinator_a, subject=subject_a, code="C1D8", visit_date=c1d8)
    lab_result_record(
        by=coordinator_a, subject=subject_a, visit=visit, sampled_on=c1d8, test="BILI",
        value=Decimal("0.8"), unit="mg/dL", normal_low=Decimal("0.2"), normal_high=Decimal("1.2"),
    )  # fmt: skip
    for label, barcode, minutes in (("pre-dose", "BM-PRE", -20), ("6 h", "BM-6H", 360)):
        sample_record(
            by=coordinator_a, subject=subject_a, dose=dose_a, kind="biomarker", timepoint=label,
            sample_id=barcode, collected_at=dose_a.infusion_start + timedelta(minutes=minutes),
        )  # fmt: skip
    sample_record(
        by=coordinator_a, subject=subject_a, dose=dose_a, kind="biomarker", timepoint="EOI",
        collected=False, not_collected_reason="Line occluded",
    )  # fmt: skip
    number = subject_a.subject_number
    content = (
        "sample_id,subject,timepoint,analyte,result,unit,lloq,uloq\n"
        f"BM-PRE,{number},pre-dose,IL6,4.0,pg/mL,1.5,500\n"
        f"BM-6H,{number},6 h,IL6,12,pg/mL,1.5,500\n"
        f"BM-PRE,{number},pre-dose,SCD80,<LLOQ,ng/mL,0.1,50\n"
        f"BM-6H,{number},6 h,SCD80,0.4,ng/mL,0.1,50\n"
    ).encode()
    imported = lab_import(
        by=data_manager, study=study, kind="biomarker", file_name="bm.csv", content=content
    )
    assert imported.status == "accepted", imported.report
    return {d.name: d for d in build_datasets(ExportContext(study))}


def test_biomarkers_and_local_labs_merge_into_one_lb(labs_and_biomarkers, subject_a, study):
    """One LB dataset: the visits app's local labs and this app's biomarkers sorted together,
    LBSEQ numbered once per subject, SUPPLB pointing to the biomarker records (docs/standards.md
    §9.1, docs/pharmacology.md §11)."""
    from standards.define import build_define

    datasets = labs_and_biomarkers
    lb = [r for r in datasets["LB"].rows if r["USUBJID"].endswith(subject_a.subject_number)]
    # BILI (local lab), then INTLK6, SCD80 and the NOT DONE records of the panel by LBTESTCD.
    assert [r["LBSEQ"] for r in lb] == list(range(1, len(lb) + 1))
    assert [r["LBTESTCD"] for r in lb] == sorted(r["LBTESTCD"] for r in lb)
    bili = next(r for r in lb if r["LBTESTCD"] == "BILI")
    assert (bili["LBCAT"], bili["LBREFID"], bili["LBTPT"]) == ("CHEMISTRY", None, None)
    il6 = [r for r in lb if r["LBTESTCD"] == "INTLK6" and r["LBSTAT"] is None]
    assert [(r["LBORRES"], r["LBSTRESN"], r["LBTPT"], r["LBLOBXFL"]) for r in il6] == [
        ("4.0", 4.0, "PRE-DOSE", "Y"), ("12", 12.0, "6 H", None),
    ]  # fmt: skip
    first = il6[0]
    assert (first["LBTEST"], first["LBCAT"], first["LBSCAT"], first["LBSPEC"]) == (
        "Interleukin 6", "BIOMARKER", "CYTOKINE", "PLASMA",
    )  # fmt: skip
    assert (first["LBORRESU"], first["LBSTRESU"], first["LBREFID"], first["VISITNUM"]) == (
        "ng/L", "ng/L", "BM-PRE", 101,
    )  # fmt: skip
    assert (first["LBTPTNUM"], first["LBELTM"], first["LBTPTREF"]) == (
        0.0, "PT0H", "DOSE CYCLE 1 DAY 1",
    )  # fmt: skip
    cd80 = [r for r in lb if r["LBTESTCD"] == "SCD80" and r["LBSTAT"] is None]
    # Below the LLOQ: the laboratory's text, no number, the limit in the protocol's unit.
    assert [(r["LBORRES"], r["LBORRESU"], r["LBSTRESC"], r["LBSTRESN"]) for r in cd80] == [
        ("<LLOQ", "ug/L", "<100", None), ("0.4", "ug/L", "400", 400.0),
    ]  # fmt: skip
    assert cd80[0]["LBTEST"] == "Soluble CD80"
    not_done = [r for r in lb if r["LBSTAT"] == "NOT DONE"]
    assert len(not_done) == 7 and {r["LBREASND"] for r in not_done} == {"Line occluded"}
    assert all(r["LBTPT"] == "EOI" and r["LBDTC"] is None for r in not_done)
    supp = {(r["IDVARVAL"], r["QNAM"]): r["QVAL"] for r in datasets["SUPPLB"].rows}
    assert supp[(str(first["LBSEQ"]), "LBLLOQ")] == "1.5"
    assert supp[(str(cd80[0]["LBSEQ"]), "LBLLOQ")] == "100"
    assert supp[(str(cd80[0]["LBSEQ"]), "LBULOQ")] == "50000"
    assert not any(idvarval == str(bili["LBSEQ"]) for idvarval, _ in supp)
    findings = validate(Submission(tuple(datasets.values()), registry.sponsor_codelists()))
    assert [f for f in findings if f.severity == "error" and "LB" in f.dataset] == []
    # Soluble CD80 has no CDISC test code: a sponsor extension, warned and listed as one.
    extensions = [f for f in findings if f.check == "STD0010" and f.dataset == "LB"]
    assert {f.variable for f in extensions} == {"LBTESTCD", "LBTEST"}
    root = etree.fromstring(
        build_define(
            list(datasets.values()), study=study, sponsor_codelists=registry.sponsor_codelists(),
            created=datetime.now(UTC), file_oid="T", source_system=("EDC", "test"),
        )
    )  # fmt: skip
    ns = {"odm": "http://www.cdisc.org/ns/odm/v1.3", "def": "http://www.cdisc.org/ns/def/v2.1"}
    testcd = root.find(".//odm:CodeList[@OID='CL.LBTESTCD']", ns)
    items = {i.get("CodedValue"): i for i in testcd.findall("odm:EnumeratedItem", ns)}
    assert set(items) >= {"BILI", "INTLK6", "SCD80"}
    assert items["SCD80"].get(f"{{{ns['def']}}}ExtendedValue") == "Yes"
    assert items["INTLK6"].find("odm:Alias", ns).get("Name") == "C74834"
    refs = root.findall(".//odm:ItemGroupDef[@OID='IG.LB']/odm:ItemRef", ns)
    names = [r.get("ItemOID").split(".")[-1] for r in refs]
    assert names == [c.name for c in datasets["LB"].columns]
    assert {"LBREFID", "LBTPT", "LBSPEC", "LBTOXGR"} <= set(names)
