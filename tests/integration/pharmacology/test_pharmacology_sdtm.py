"""SDTM PC, PP and IS from the pharmacology records (docs/pharmacology.md §11)."""

from datetime import timedelta

import pytest

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
