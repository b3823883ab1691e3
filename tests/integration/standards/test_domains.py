"""Every registered SDTM domain against the SDTMIG 3.4 variable table (names, labels, types,
order, required variables), and the values the mapping must give for the cases of the study
(docs/standards.md §5)."""

from datetime import time

import pytest

from standards import registry
from standards.build import build_datasets
from standards.checks import MODEL_TIMING, Submission, validate
from standards.context import ExportContext
from standards.ct import terminology
from standards.spec import ig_dataset
from tests.factories import reported_ae

CURRENT_DOMAINS = {
    "DM", "DS", "IE", "EX", "SV", "AE", "TA", "TE", "TV", "TI", "TS", "VS", "LB", "CM", "TU", "TR",
    "RS", "MH", "PC", "PP", "IS", "EG", "PR", "SS",
}  # fmt: skip


def test_the_apps_register_the_domains_the_data_support():
    assert {d.code for d in registry.domains()} == CURRENT_DOMAINS
    assert registry.domains()[0].code == "DM"  # RFSTDTC first: the others need it


def test_contributions_add_to_registered_domains():
    """Records one app adds to another's domain (docs/standards.md §9.1): biomarkers in LB,
    the ECOG performance status in RS."""
    contributed = registry.contributions()
    assert {code: [c.by for c in listed] for code, listed in contributed.items()} == {
        "LB": ["biomarkers"],
        "RS": ["ECOG performance status"],
    }
    assert set(contributed) <= CURRENT_DOMAINS


@pytest.mark.parametrize("code", sorted(CURRENT_DOMAINS))
def test_each_mapping_follows_the_sdtmig_table(code):
    domain = registry.domain(code)
    spec = ig_dataset(code)
    assert spec is not None and domain.label == spec.label
    orders = []
    for variable in domain.variables:
        listed = spec.variable(variable.name)
        if listed is None:
            # Only SDTM model timing variables may be added to a domain's table.
            assert MODEL_TIMING[variable.name] == (variable.label, variable.type), variable.name
            continue
        assert (variable.label, variable.type, variable.core) == (
            listed.label,
            listed.type,
            listed.core,
        ), variable.name
        orders.append(listed.order)
    assert orders == sorted(orders), f"{code}: variables out of the SDTMIG order"
    required = {v.name for v in spec.variables if v.core == "Req"}
    assert required <= {v.name for v in domain.variables}
    expected = {v.name for v in spec.variables if v.core == "Exp"}
    missing = expected - {v.name for v in domain.variables}
    # Expected variables left out, each for a reason given in docs/standards.md §5.
    assert missing <= {"EPOCH", "TAETORD", "SVCNTMOD", "SVEPCHGI", "AEMODIFY", "VISITNUM"}, missing


def test_every_codelist_named_by_a_mapping_exists():
    known = set(terminology()) | set(registry.sponsor_codelists()) | {"ISO 3166"}
    for domain in registry.domains():
        names = [v.codelist for v in domain.variables if v.codelist]
        names += [q.codelist for q in domain.qualifiers if q.codelist]
        for name in names:
            assert set(name.split("|")) <= known, (domain.code, name)


def test_qualifier_names_and_labels_fit():
    for domain in registry.domains():
        for qualifier in domain.qualifiers:
            assert len(qualifier.qnam) <= 8 and qualifier.qnam.isupper()
            assert len(qualifier.qlabel) <= 40


@pytest.fixture
def datasets(trial_data, study):
    return {d.name: d for d in build_datasets(ExportContext(study))}


def by_subject(dataset, usubjid):
    return [r for r in dataset.rows if r["USUBJID"] == usubjid]


def test_the_study_validates_without_errors(datasets):
    findings = validate(Submission(tuple(datasets.values()), registry.sponsor_codelists()))
    assert [f for f in findings if f.severity == "error"] == []


def test_dm_one_record_per_consented_subject(datasets, trial_data):
    dm = {r["SUBJID"]: r for r in datasets["DM"].rows}
    s1, failed = trial_data["s1"], trial_data["failed"]
    assert set(dm) == {"101-001", "101-002", "102-001", "S-004", "S-005"}  # S-006: no consent
    row = dm["101-001"]
    assert row["USUBJID"] == "MIL97-001-101-101-001"
    first = trial_data["first_dose"]
    assert (
        row["RFSTDTC"]
        == row["RFXSTDTC"]
        == "{:%Y-%m-%dT%H:%M}".format(
            first.infusion_start.astimezone(__import__("zoneinfo").ZoneInfo("America/New_York"))
        )
    )
    assert row["RFICDTC"] == s1.consent_date.isoformat()
    assert row["BRTHDTC"] == "1960" and row["AGE"] == s1.consent_date.year - 1960
    assert (row["ARMCD"], row["ACTARMCD"]) == ("COH01_Q3W", "COH01_Q3W")
    assert row["ARM"] == "Cohort 1: MIL97 0.01 mg/kg Q3W"
    assert row["COUNTRY"] == "USA" and dm["102-001"]["COUNTRY"] == "AUS"
    assert (dm["S-004"]["ARMCD"], dm["S-004"]["ARMNRS"]) == (None, "SCREEN FAILURE")
    assert dm["S-004"]["USUBJID"] == f"MIL97-001-101-{failed.screening_number}"
    assert dm["S-005"]["ARMNRS"] == "NOT ASSIGNED"
    died = dm["101-002"]
    assert died["DTHFL"] == "Y" and died["DTHDTC"] == trial_data["s3"].death_date.isoformat()
    assert died["RFENDTC"] == died["DTHDTC"]


def test_ds_codes_milestones_and_dispositions(datasets):
    ds = datasets["DS"]
    rows = by_subject(ds, "MIL97-001-102-102-001")
    assert [(r["DSSEQ"], r["DSDECOD"], r["DSCAT"], r["DSSCAT"], r["EPOCH"]) for r in rows] == [
        (1, "INFORMED CONSENT OBTAINED", "PROTOCOL MILESTONE", None, "SCREENING"),
        (2, "PROGRESSIVE DISEASE", "DISPOSITION EVENT", "STUDY TREATMENT", "TREATMENT"),
        (3, "WITHDRAWAL BY SUBJECT", "DISPOSITION EVENT", "STUDY PARTICIPATION", "FOLLOW-UP"),
    ]
    failed = by_subject(ds, "MIL97-001-101-S-004")
    assert [r["DSDECOD"] for r in failed] == ["INFORMED CONSENT OBTAINED", "SCREEN FAILURE"]
    assert failed[1]["DSTERM"] == "Did not meet inclusion criterion 4"
    # Treatment ended for progression (the site's words kept as DSTERM), then the subject
    # died that day: the end of study's reason is death.
    died = by_subject(ds, "MIL97-001-101-101-002")
    assert [(r["DSTERM"], r["DSDECOD"], r["DSSCAT"]) for r in died] == [
        ("INFORMED CONSENT OBTAINED", "INFORMED CONSENT OBTAINED", None),
        ("Died of disease progression", "PROGRESSIVE DISEASE", "STUDY TREATMENT"),
        ("DEATH", "DEATH", "STUDY PARTICIPATION"),
    ]
    # A coded reason without the site's words: DSTERM is the coded reason.
    assert rows[2]["DSTERM"] == "WITHDRAWAL BY SUBJECT"


def test_ae_codes_days_epochs_and_supplemental_dlt_calls(datasets, trial_data):
    ae = by_subject(datasets["AE"], "MIL97-001-101-101-001")
    before, dlt = ae
    assert (before["AESEQ"], before["EPOCH"], before["AESTDY"]) == (1, "SCREENING", -2)
    assert (dlt["AESEQ"], dlt["EPOCH"], dlt["AESTDY"]) == (2, "TREATMENT", 6)
    assert dlt["AELLTCD"] == 10016256 and dlt["AEDECOD"] == "Fatigue"
    assert dlt["AESER"] == "Y" and dlt["AESHOSP"] == "Y" and dlt["AESDTH"] == "N"
    assert before["AESHOSP"] is None  # criteria only for serious events
    assert (dlt["AEACN"], dlt["AEACNOTH"]) == ("DRUG INTERRUPTED", "DOSE DELAYED")
    assert (dlt["AEREL"], dlt["AEOUT"], dlt["AETOXGR"]) == (
        "PROBABLY RELATED",
        "RECOVERED/RESOLVED",
        "3",
    )
    assert len(dlt["AETERM"]) <= 200
    supp = {
        (r["IDVARVAL"], r["QNAM"]): r["QVAL"]
        for r in datasets["SUPPAE"].rows
        if r["USUBJID"] == "MIL97-001-101-101-001"
    }
    assert supp[("2", "AEDLTINV")] == "Y" and supp[("2", "AEDLTADJ")] == "Y"
    assert supp[("2", "AEDLTNOT")] == "Grade 3 fatigue in the window: a DLT."
    assert supp[("1", "AETRTEM")] == "N" and supp[("2", "AETRTEM")] == "Y"
    assert ("1", "AEDLTADJ") not in supp  # not adjudicated: no record
    assert f"{dlt['AETERM']} {supp[('2', 'AETERM1')]}" == trial_data["dlt"].verbatim_term


def test_ae_onset_time_and_treatment_emergence_before_the_infusion(
    trial_data, study, coordinator_a
):
    """docs/safety.md §3: an onset on Day 1 before the infusion started (09:00) is not
    treatment-emergent; AESTDTC carries the onset time when the site gave it."""
    day1 = trial_data["first_dose"].administered_on
    early = reported_ae(
        coordinator_a, trial_data["s1"], "Nausea", onset_date=day1, onset_time=time(8, 15)
    )
    built = {d.name: d for d in build_datasets(ExportContext(study))}
    (row,) = [r for r in built["AE"].rows if r["AESPID"] == str(early.pk)]
    assert row["AESTDTC"] == f"{day1.isoformat()}T08:15" and row["AESTDY"] == 1
    supp = {
        r["QNAM"]: r["QVAL"]
        for r in built["SUPPAE"].rows
        if r["USUBJID"] == row["USUBJID"] and r["IDVARVAL"] == str(row["AESEQ"])
    }
    assert supp["AETRTEM"] == "N"


def test_ex_sv_visits_and_study_days(datasets):
    ex = by_subject(datasets["EX"], "MIL97-001-101-101-001")
    assert [(r["EXSEQ"], r["VISITNUM"], r["VISIT"], r["EXSTDY"]) for r in ex] == [
        (1, 101, "CYCLE 1 DAY 1", 1),
        (2, 201, "CYCLE 2 DAY 1", 22),
    ]
    assert ex[0]["EXDOSE"] == 0.01 and ex[0]["EXDOSU"] == "mg/kg"
    assert ex[0]["EXDOSFRQ"] == "EVERY 3 WEEKS" and ex[0]["EXROUTE"] == "INTRAVENOUS"
    sv = by_subject(datasets["SV"], "MIL97-001-101-101-001")
    assert [(r["VISITNUM"], r["VISITDY"], r["SVSTDY"]) for r in sv] == [
        (1, None, -5),
        (101, 1, 1),
        (201, 22, 22),
    ]


def test_trial_design_arms_elements_visits_and_summary(datasets, study):
    ta = datasets["TA"].rows
    assert {r["ARMCD"] for r in ta} == {"COH01_Q3W", "COH02_Q3W"}
    assert [(r["TAETORD"], r["ETCD"], r["EPOCH"]) for r in ta if r["ARMCD"] == "COH02_Q3W"] == [
        (1, "SCRN", "SCREENING"),
        (2, "L2Q3W", "TREATMENT"),
        (3, "FU", "FOLLOW-UP"),
    ]
    assert {r["ETCD"] for r in datasets["TE"].rows} == {"SCRN", "L1Q3W", "L2Q3W", "FU"}
    tv = [(r["VISITNUM"], r["VISITDY"]) for r in datasets["TV"].rows if r["ARMCD"] == "COH01_Q3W"]
    assert tv == [(1, None), (101, 1), (201, 22)]  # cycles reached by a subject are planned
    ti = datasets["TI"].rows
    assert len(ti) == len(study.inclusion_criteria()) + len(study.exclusion_criteria())
    ts = {(r["TSPARMCD"], r["TSVAL"]): r for r in datasets["TS"].rows}
    assert ts[("TPHASE", "PHASE I TRIAL")]["TSVALCD"] == "C15600"
    assert ts[("TBLIND", "OPEN LABEL")]["TSVALCD"] == "C49659"
    assert ("SDTIGVER", "3.4") in ts and ("ACTSUB", "3") in ts
    assert ts[("DOSFRQ", "EVERY 3 WEEKS")]["TSVCDVER"] == "2025-03-28"


def test_ie_holds_only_the_criteria_not_met(datasets, trial_data, study):
    # The screen failure answered "no" to the fourth inclusion criterion; the others met all.
    rows = datasets["IE"].rows
    assert [(r["USUBJID"], r["IETESTCD"], r["IECAT"], r["IEORRES"]) for r in rows] == [
        ("MIL97-001-101-S-004", "INCL04", "INCLUSION", "N")
    ]
    assert rows[0]["IETEST"] == study.inclusion_criteria()[3]
    assert rows[0]["IEDTC"] == trial_data["failed"].eligibility_assessed_on.isoformat()
