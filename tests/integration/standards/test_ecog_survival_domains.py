"""ECOG performance status as RS records (RSCAT ECOG, RSTESTCD ECOG101: a clinical
classification contributed to the efficacy app's RS), survival follow-up as SS (SURVSTAT) and
the new anticancer therapy as CM (SUBSEQUENT ANTICANCER THERAPY); in define.xml (valid against
the Define-XML 2.1 schema), XPT v5 and Dataset-JSON like every other domain (docs/visits.md §9,
docs/standards.md §9)."""

import json
from datetime import UTC, datetime, timedelta

import pyreadstat
import pytest
from jsonschema import Draft201909Validator
from lxml import etree

from core.dates import site_today
from standards import registry
from standards.build import build_datasets
from standards.checks import Submission, validate
from standards.context import ExportContext
from standards.define import build_define, schema_problems
from standards.formats import write_dataset_json, write_xpt
from tests.integration.standards.test_formats import SCHEMA as DATASET_JSON_SCHEMA
from visits.services import ecog_record, ecog_void, survival_contact_record, visit_record

NS = {"odm": "http://www.cdisc.org/ns/odm/v1.3", "def": "http://www.cdisc.org/ns/def/v2.1"}
FULLY_ACTIVE = "Fully active, able to carry on all pre-disease performance without restriction"
RESTRICTED = (
    "Restricted in physically strenuous activity but ambulatory and able to carry out work of a "
    "light or sedentary nature, e.g., light house work, office work"
)


@pytest.fixture
def followed(trial_data, coordinator_a, site_a):
    """S-001: ECOG 0 at screening, 1 at Cycle 1 Day 1, a voided one; alive at a contact with a
    new therapy. S-003 (dead): a contact with the death and its cause."""
    today = site_today(site_a.timezone)
    s1, s3 = trial_data["s1"], trial_data["s3"]
    first = trial_data["first_dose"].administered_on
    screening = visit_record(
        by=coordinator_a, subject=s1, code="SCR", visit_date=first - timedelta(days=3)
    )
    c1d1 = visit_record(by=coordinator_a, subject=s1, code="C1D1", visit_date=first)
    ecog_record(
        by=coordinator_a, subject=s1, visit=screening, assessed_on=screening.visit_date, status=0
    )
    ecog_record(by=coordinator_a, subject=s1, visit=c1d1, assessed_on=first, status=1)
    wrong = ecog_record(by=coordinator_a, subject=s1, visit=c1d1, assessed_on=first, status=4)
    ecog_void(by=coordinator_a, ecog=wrong, reason="Entered twice", expected_version=1)
    contact_visit = visit_record(by=coordinator_a, subject=s1, code="UNS1", visit_date=today)
    survival_contact_record(
        by=coordinator_a,
        subject=s1,
        visit=contact_visit,
        contact_date=today,
        status="alive",
        new_therapy=True,
        new_therapy_regimen="Docetaxel",
        new_therapy_start=today - timedelta(days=2),
    )
    died = s3.death_date  # no visit after it: the call that learnt of the death is dated then
    death_visit = visit_record(by=coordinator_a, subject=s3, code="UNS1", visit_date=died)
    survival_contact_record(
        by=coordinator_a,
        subject=s3,
        visit=death_visit,
        contact_date=died,
        status="dead",
        cause_of_death="progression",
    )
    return trial_data, today


@pytest.fixture
def datasets(followed, study):
    return {d.name: d for d in build_datasets(ExportContext(study))}


def test_ecog_is_a_clinical_classification_in_rs(followed, datasets):
    trial_data, _ = followed
    first = trial_data["first_dose"].administered_on
    ecog = [r for r in datasets["RS"].rows if r["RSCAT"] == "ECOG"]
    assert [
        (r["RSTESTCD"], r["RSTEST"], r["RSORRES"], r["RSSTRESC"], r["RSSTRESN"], r["RSEVAL"])
        for r in ecog
    ] == [
        ("ECOG101", "ECOG1-Performance Status", FULLY_ACTIVE, "0", 0, "INVESTIGATOR"),
        ("ECOG101", "ECOG1-Performance Status", RESTRICTED, "1", 1, "INVESTIGATOR"),
    ]  # the voided assessment is left out
    screening, c1d1 = ecog
    assert (screening["VISITNUM"], screening["VISIT"], screening["EPOCH"]) == (
        1,
        "SCREENING",
        "SCREENING",
    )
    assert (screening["RSDTC"], screening["RSDY"]) == (str(first - timedelta(days=3)), -3)
    assert (c1d1["VISITNUM"], c1d1["VISIT"], c1d1["EPOCH"], c1d1["RSDY"]) == (
        101,
        "CYCLE 1 DAY 1",
        "TREATMENT",
        1,
    )
    # One RSSEQ numbering across the tumour responses and the ECOG records of a subject.
    seqs = [r["RSSEQ"] for r in datasets["RS"].rows if r["USUBJID"] == c1d1["USUBJID"]]
    assert seqs == list(range(1, len(seqs) + 1))


def test_survival_status_in_ss_and_the_new_therapy_in_cm(followed, datasets, study):
    trial_data, today = followed
    ctx = ExportContext(study)
    ss = datasets["SS"]
    assert ss.label == "Subject Status"
    rows = {r["USUBJID"]: r for r in ss.rows}
    s1, s3 = ctx.usubjid(trial_data["s1"]), ctx.usubjid(trial_data["s3"])
    assert {k: (r["SSTESTCD"], r["SSTEST"], r["SSORRES"], r["SSSTRESC"]) for k, r in rows.items()} == {
        s1: ("SURVSTAT", "Survival Status", "ALIVE", "ALIVE"),
        s3: ("SURVSTAT", "Survival Status", "DEAD", "DEAD"),
    }  # fmt: skip
    assert rows[s3]["SSDTC"] == str(trial_data["s3"].death_date)
    assert (rows[s1]["SSDTC"], rows[s1]["EPOCH"]) == (str(today), "TREATMENT")
    assert rows[s1]["SSSEQ"] == 1 and rows[s1]["VISIT"] == "UNSCHEDULED 1"
    subsequent = [r for r in datasets["CM"].rows if r["CMCAT"] == "SUBSEQUENT ANTICANCER THERAPY"]
    assert [(r["USUBJID"], r["CMTRT"], r["CMSTDTC"]) for r in subsequent] == [
        (s1, "Docetaxel", str(today - timedelta(days=2)))
    ]
    findings = validate(Submission(tuple(datasets.values()), registry.sponsor_codelists()))
    assert [f for f in findings if f.severity == "error"] == []


def test_define_xml_describes_rs_ecog_and_ss_and_validates(datasets, study):
    xml = build_define(
        list(datasets.values()),
        study=study,
        sponsor_codelists=registry.sponsor_codelists(),
        created=datetime.now(UTC),
        file_oid="TEST.define",
        source_system=("Phase 1 EDC", "test"),
    )
    assert schema_problems(xml) == []
    root = etree.fromstring(xml)
    assert root.find(".//odm:ItemGroupDef[@OID='IG.SS']", NS) is not None
    items = {
        (c.get("OID"), i.get("CodedValue")): i.find("odm:Alias", NS).get("Name")
        for c in root.findall(".//odm:CodeList", NS)
        for i in c.findall("odm:EnumeratedItem", NS) + c.findall("odm:CodeListItem", NS)
        if i.find("odm:Alias", NS) is not None
    }
    codes = {value: code for (_, value), code in items.items()}
    assert codes["ECOG101"] == "C102408"
    assert codes["SURVSTAT"] == "C25717"
    assert codes["ECOG"] == "C102116"
    assert codes["ALIVE"] == "C37987" and codes["DEAD"] == "C28554"


def test_xpt_and_dataset_json_hold_the_new_records(datasets, tmp_path):
    validator = Draft201909Validator(json.loads(DATASET_JSON_SCHEMA.read_text()))
    now = datetime.now(UTC)
    for name in ("RS", "SS", "CM"):
        dataset = datasets[name]
        path = tmp_path / f"{dataset.filename}.xpt"
        write_xpt(dataset, path)
        frame, meta = pyreadstat.read_xport(str(path))
        assert meta.table_name == name and len(frame) == len(dataset.rows)
        if name == "RS":
            assert set(frame["RSCAT"]) >= {"ECOG"}
        json_path = tmp_path / f"{dataset.filename}.json"
        write_dataset_json(
            dataset,
            json_path,
            study_oid="STDY.X",
            metadata_version_oid="MDV.X",
            created=now,
            data_cut=now,
            originator="Sponsor",
            source_system=("EDC", "1"),
        )
        document = json.loads(json_path.read_text())
        assert sorted(validator.iter_errors(document), key=str) == []
        assert document["records"] == len(dataset.rows)
