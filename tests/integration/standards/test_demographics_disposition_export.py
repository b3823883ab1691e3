"""Race, ethnicity and the coded dispositions in the export (docs/standards.md §5.1-§5.2, §7.3):
DM RACE and ETHNIC with SUPPDM for several races, DS from the coded reasons and a death after the
end of study, the checks clean, and define.xml's codelists valid against the schema."""

from datetime import UTC, datetime, timedelta

import pytest
from lxml import etree

from core.dates import site_today
from standards import registry
from standards.build import build_datasets
from standards.checks import Submission, validate
from standards.context import ExportContext
from standards.define import build_define, schema_problems
from subjects.services import subject_record_death, subject_record_demographics

NS = {"odm": "http://www.cdisc.org/ns/odm/v1.3", "def": "http://www.cdisc.org/ns/def/v2.1"}


@pytest.fixture
def exported(trial_data, study, coordinator_a, coordinator_b):
    s1, s2, failed = trial_data["s1"], trial_data["s2"], trial_data["failed"]
    subject_record_demographics(
        by=coordinator_a,
        subject=s1,
        ethnicity="NOT HISPANIC OR LATINO",
        races=["WHITE", "ASIAN"],
        expected_version=s1.version,
    )
    s2 = subject_record_demographics(
        by=coordinator_b,
        subject=s2,
        ethnicity="HISPANIC OR LATINO",
        races=["OTHER"],
        race_other="Sami",
        expected_version=s2.version,
    )
    subject_record_demographics(
        by=coordinator_a,
        subject=failed,
        ethnicity="NOT REPORTED",
        races=["NOT REPORTED"],
        expected_version=failed.version,
    )
    # S-002 left the study (withdrawal) five days ago, and died two days ago.
    subject_record_death(
        by=coordinator_b,
        subject=s2,
        death_date=site_today(s2.site.timezone) - timedelta(days=2),
        expected_version=s2.version,
    )
    datasets = {d.name: d for d in build_datasets(ExportContext(study))}
    return datasets, trial_data, study


def test_dm_race_and_ethnicity_with_suppdm(exported):
    datasets, _, _ = exported
    dm = {r["SUBJID"]: r for r in datasets["DM"].rows}
    assert (dm["101-001"]["RACE"], dm["101-001"]["ETHNIC"]) == (
        "MULTIPLE",
        "NOT HISPANIC OR LATINO",
    )
    assert (dm["102-001"]["RACE"], dm["102-001"]["ETHNIC"]) == ("OTHER", "HISPANIC OR LATINO")
    assert (dm["S-004"]["RACE"], dm["S-004"]["ETHNIC"]) == ("NOT REPORTED", "NOT REPORTED")
    assert (dm["S-005"]["RACE"], dm["S-005"]["ETHNIC"]) == (None, None)  # not recorded yet
    supp = [
        (r["USUBJID"], r["IDVAR"], r["IDVARVAL"], r["QNAM"], r["QLABEL"], r["QVAL"], r["QORIG"])
        for r in datasets["SUPPDM"].rows
    ]
    assert supp == [
        ("MIL97-001-101-101-001", None, None, "RACE1", "Race 1", "ASIAN", "COLLECTED"),
        ("MIL97-001-101-101-001", None, None, "RACE2", "Race 2", "WHITE", "COLLECTED"),
        ("MIL97-001-102-102-001", None, None, "RACEOTH", "Race, Other", "Sami", "COLLECTED"),
    ]


def test_ds_gives_a_death_after_the_end_of_study_as_an_other_event(exported):
    datasets, trial_data, _ = exported
    rows = [r for r in datasets["DS"].rows if r["USUBJID"] == "MIL97-001-102-102-001"]
    died = site_today(trial_data["s2"].site.timezone) - timedelta(days=2)
    assert [(r["DSSEQ"], r["DSDECOD"], r["DSCAT"], r["DSSCAT"], r["EPOCH"]) for r in rows] == [
        (1, "INFORMED CONSENT OBTAINED", "PROTOCOL MILESTONE", None, "SCREENING"),
        (2, "PROGRESSIVE DISEASE", "DISPOSITION EVENT", "STUDY TREATMENT", "TREATMENT"),
        (3, "WITHDRAWAL BY SUBJECT", "DISPOSITION EVENT", "STUDY PARTICIPATION", "FOLLOW-UP"),
        (4, "DEATH", "OTHER EVENT", None, "FOLLOW-UP"),
    ]
    assert rows[3]["DSSTDTC"] == died.isoformat()


def test_the_export_validates_and_define_lists_multiple_without_a_c_code(exported):
    datasets, _, study = exported
    findings = validate(Submission(tuple(datasets.values()), registry.sponsor_codelists()))
    assert [f for f in findings if f.severity == "error"] == []
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
    race = root.find(".//odm:CodeList[@OID='CL.RACE']", NS)
    items = {i.get("CodedValue"): i for i in race.findall("odm:EnumeratedItem", NS)}
    assert set(items) == {"ASIAN", "WHITE", "OTHER", "NOT REPORTED", "MULTIPLE"}
    assert items["ASIAN"].find("odm:Alias", NS).get("Name") == "C41260"
    assert items["MULTIPLE"].find("odm:Alias", NS) is None
    assert items["MULTIPLE"].get(f"{{{NS['def']}}}ExtendedValue") is None
    comment_oid = race.get("{http://www.cdisc.org/ns/def/v2.1}CommentOID")
    comment = root.find(f".//def:CommentDef[@OID='{comment_oid}']", NS)
    assert "SDTMIG 3.4 DM prescribes" in comment.find(".//odm:TranslatedText", NS).text
    ethnic = root.find(".//odm:CodeList[@OID='CL.ETHNIC']", NS)
    assert ethnic.find("odm:Alias", NS).get("Name") == "C66790"
    ncomplt = root.find(".//odm:CodeList[@OID='CL.NCOMPLT.PROTMLST']", NS)
    coded = {i.get("CodedValue") for i in ncomplt.findall("odm:EnumeratedItem", NS)}
    assert {"PROGRESSIVE DISEASE", "WITHDRAWAL BY SUBJECT", "DEATH"} <= coded
    # The value-level metadata of SUPPDM's QVAL: one where clause per race qualifier used.
    wheres = {
        w.get("OID") for w in root.findall(".//def:WhereClauseDef", NS) if "SUPPDM" in w.get("OID")
    }
    assert wheres == {
        "WC.SUPPDM.QNAM.RACE1",
        "WC.SUPPDM.QNAM.RACE2",
        "WC.SUPPDM.QNAM.RACEOTH",
    }
