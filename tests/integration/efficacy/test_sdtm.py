"""SDTM TU, TR and RS from the recorded tumour assessments (docs/efficacy.md §17): each lesion
once in TU, each lesion at each scan in TR, the investigator's responses in RS, linked by the
lesion's code; the datasets validate without errors."""

import pytest

from standards import registry
from standards.build import build_datasets
from standards.checks import Submission, validate
from standards.context import ExportContext
from tests.integration.efficacy.helpers import day, follow_up, record_follow_up

pytestmark = pytest.mark.django_db


@pytest.fixture
def datasets(study, coordinator_a, with_baseline, first_dose_on):
    rows = follow_up(35, 21, 14, new=[("NEW1", "equivocal")])
    rows[1] = {"code": "T2", "status": "too small to measure"}
    rows[3] = {"code": "NT1", "status": "not evaluated"}
    record_follow_up(coordinator_a, with_baseline, day(first_dose_on, 43), rows, "PR")
    built = {d.name: d for d in build_datasets(ExportContext(study))}
    return built


def test_tu_tr_rs(datasets, study, first_dose_on):
    usubjid = f"{study.protocol_number}-101-101-001"
    tu = {r["TULNKID"]: r for r in datasets["TU"].rows}
    assert set(tu) == {"N1", "NEW1", "NT1", "T1", "T2"}
    assert (tu["T1"]["TUSTRESC"], tu["T1"]["TULOC"], tu["T1"]["TUMETHOD"]) == (
        "TARGET", "LIVER", "CT SCAN"
    )  # fmt: skip
    assert (tu["T1"]["TULOBXFL"], tu["T1"]["VISITNUM"], tu["T1"]["VISIT"]) == ("Y", 1, "SCREENING")
    assert (tu["NEW1"]["TUSTRESC"], tu["NEW1"]["VISITNUM"], tu["NEW1"]["TUDY"]) == (
        "NEW", 80001, 43
    )  # fmt: skip
    assert tu["T1"]["USUBJID"] == usubjid
    follow = {
        (r["TRLNKID"], r["TRTESTCD"]): r
        for r in datasets["TR"].rows
        if r["TRDTC"] == day(first_dose_on, 43).isoformat()
    }
    assert (follow["T1", "LDIAM"]["TRORRES"], follow["T1", "LDIAM"]["TRSTRESN"]) == ("35", 35.0)
    assert follow["N1", "DIAMETER"]["TRSTRESC"] == "14"  # the node's short axis
    assert (follow["T2", "LDIAM"]["TRORRES"], follow["T2", "LDIAM"]["TRSTRESN"]) == (
        "TOO SMALL TO MEASURE", 5.0
    )  # fmt: skip
    assert (follow["NT1", "TUMSTATE"]["TRSTAT"], follow["NT1", "TUMSTATE"]["TRSTRESC"]) == (
        "NOT DONE", None
    )  # fmt: skip
    assert follow["NEW1", "TUMSTATE"]["TRSTRESC"] == "EQUIVOCAL"
    assert not follow["T1", "LDIAM"]["TRLOBXFL"]
    baseline = [r for r in datasets["TR"].rows if r["TRLOBXFL"] == "Y"]
    assert len(baseline) == 4
    (rs,) = datasets["RS"].rows
    assert (rs["RSTESTCD"], rs["RSCAT"], rs["RSSTRESC"], rs["RSEVAL"], rs["RSDY"]) == (
        "OVRLRESP", "RECIST 1.1", "PR", "INVESTIGATOR", 43
    )  # fmt: skip


def test_the_tumour_datasets_validate_without_errors(datasets):
    findings = validate(Submission(tuple(datasets.values()), registry.sponsor_codelists()))
    mine = [f for f in findings if f.dataset in ("TU", "TR", "RS")]
    assert [f for f in mine if f.severity == "error"] == []
    # the equivocal new lesion and the not-evaluated one leave results empty: no other finding
    assert {(f.check, f.variable) for f in mine} <= {("STD0003", "TRORRESU")}
