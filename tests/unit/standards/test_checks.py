"""Each conformance check against a table of cases: a conforming submission gives no finding,
each broken one the finding it should (docs/standards.md §8)."""

import copy

import pytest

from standards.build import SUPPQUAL_VARIABLES, Column, Dataset
from standards.checks import CHECKS, Submission, validate
from standards.mapping import Domain, Qualifier, SponsorCodelist, Variable, identifiers

V = Variable


def _dataset(name, label, variables, rows, *, domain=None, parent=None, qualifiers=(), keys=()):
    columns = [
        Column(
            v, 8 if v.type == "Num" else max([len(str(r.get(v.name) or "")) for r in rows] + [1])
        )
        for v in variables
    ]
    return Dataset(
        name=name,
        label=label,
        observation_class="EVENTS",
        structure="",
        keys=keys,
        columns=columns,
        rows=[{v.name: r.get(v.name) for v in variables} for r in rows],
        domain=domain,
        parent=parent,
        qualifiers=qualifiers,
    )


DM_VARS = (
    *identifiers("DM", seq=False),
    V("SUBJID", "Subject Identifier for the Study", "Char", "Req", "Collected", ""),
    V("RFSTDTC", "Subject Reference Start Date/Time", "Char", "Exp", "Derived", ""),
    V("RFXSTDTC", "Date/Time of First Study Treatment", "Char", "Exp", "Derived", ""),
    V("RFXENDTC", "Date/Time of Last Study Treatment", "Char", "Exp", "Derived", ""),
    V("RFICDTC", "Date/Time of Informed Consent", "Char", "Exp", "Collected", ""),
    V("SITEID", "Study Site Identifier", "Char", "Req", "Collected", ""),
    V("SEX", "Sex", "Char", "Req", "Collected", "", "SEX"),
    V("ARMCD", "Planned Arm Code", "Char", "Exp", "Assigned", ""),
    V("COUNTRY", "Country", "Char", "Req", "Derived", ""),
)
AE_VARS = (
    *identifiers("AE"),
    V("AETERM", "Reported Term for the Adverse Event", "Char", "Req", "Collected", ""),
    V("AEDECOD", "Dictionary-Derived Term", "Char", "Req", "Assigned", ""),
    V("AEACN", "Action Taken with Study Treatment", "Char", "Exp", "Collected", "", "ACN"),
    V("AEREL", "Causality", "Char", "Exp", "Collected", "", "AEREL"),
    V("AEOUT", "Outcome of Adverse Event", "Char", "Perm", "Collected", "", "OUT"),
    V("EPOCH", "Epoch", "Char", "Perm", "Derived", "", "EPOCH"),
    V("AESTDTC", "Start Date/Time of Adverse Event", "Char", "Exp", "Collected", ""),
    V("AESTDY", "Study Day of Start of Adverse Event", "Num", "Perm", "Derived", ""),
)
EX_VARS = (
    *identifiers("EX"),
    V("EXTRT", "Name of Treatment", "Char", "Req", "Protocol", ""),
    V("EXSTDTC", "Start Date/Time of Treatment", "Char", "Exp", "Collected", ""),
    V("EXENDTC", "End Date/Time of Treatment", "Char", "Exp", "Collected", ""),
)
TA_VARS = (
    *identifiers("TA", seq=False, subject=False),
    V("ARMCD", "Planned Arm Code", "Char", "Req", "Assigned", ""),
    V("ARM", "Description of Planned Arm", "Char", "Req", "Assigned", ""),
    V("TAETORD", "Planned Order of Element within Arm", "Num", "Req", "Assigned", ""),
    V("ETCD", "Element Code", "Char", "Req", "Assigned", ""),
    V("EPOCH", "Epoch", "Char", "Req", "Assigned", "", "EPOCH"),
)
U1 = "S-101-001"
AE_DOMAIN = Domain(
    code="AE",
    label="Adverse Events",
    observation_class="EVENTS",
    structure="",
    keys=("STUDYID", "USUBJID", "AESEQ"),
    variables=AE_VARS,
    rows=lambda ctx: [],
)
SUPP_QUALIFIERS = (Qualifier("AEDLTINV", "DLT (Investigator)", "Collected", "", codelist="NY"),)
SPONSOR = {"AEREL": SponsorCodelist("AEREL", "Causality", (("RELATED", "Related"),))}


def conforming() -> Submission:
    dm = _dataset(
        "DM",
        "Demographics",
        DM_VARS,
        [
            {
                "STUDYID": "S",
                "DOMAIN": "DM",
                "USUBJID": U1,
                "SUBJID": "101-001",
                "RFSTDTC": "2025-03-04T09:30",
                "RFXSTDTC": "2025-03-04T09:30",
                "RFXENDTC": "2025-03-25T11:00",
                "RFICDTC": "2025-02-20",
                "SITEID": "101",
                "SEX": "F",
                "ARMCD": "COH01_Q3W",
                "COUNTRY": "USA",
            }
        ],
        keys=("STUDYID", "USUBJID"),
    )
    ae = _dataset(
        "AE",
        "Adverse Events",
        AE_VARS,
        [
            {
                "STUDYID": "S",
                "DOMAIN": "AE",
                "USUBJID": U1,
                "AESEQ": 1,
                "AETERM": "Headache",
                "AEDECOD": "Headache",
                "AEACN": "DOSE NOT CHANGED",
                "AEREL": "RELATED",
                "AEOUT": "RECOVERED/RESOLVED",
                "EPOCH": "SCREENING",
                "AESTDTC": "2025-03-03",
                "AESTDY": -1,
            },
            {
                "STUDYID": "S",
                "DOMAIN": "AE",
                "USUBJID": U1,
                "AESEQ": 2,
                "AETERM": "Fatigue",
                "AEDECOD": "Fatigue",
                "AEACN": "DRUG INTERRUPTED",
                "AEREL": "RELATED",
                "AEOUT": "FATAL",
                "EPOCH": "TREATMENT",
                "AESTDTC": "2025-03-04",
                "AESTDY": 1,
            },
        ],
        domain=AE_DOMAIN,
        keys=("STUDYID", "USUBJID", "AESEQ"),
    )
    supp = _dataset(
        "SUPPAE",
        "Supplemental Qualifiers for AE",
        SUPPQUAL_VARIABLES,
        [
            {
                "STUDYID": "S",
                "RDOMAIN": "AE",
                "USUBJID": U1,
                "IDVAR": "AESEQ",
                "IDVARVAL": "2",
                "QNAM": "AEDLTINV",
                "QLABEL": "DLT (Investigator)",
                "QVAL": "Y",
                "QORIG": "COLLECTED",
                "QEVAL": "INVESTIGATOR",
            }
        ],
        parent="AE",
        qualifiers=SUPP_QUALIFIERS,
    )
    ex = _dataset(
        "EX",
        "Exposure",
        EX_VARS,
        [
            {
                "STUDYID": "S",
                "DOMAIN": "EX",
                "USUBJID": U1,
                "EXSEQ": 1,
                "EXTRT": "MIL97",
                "EXSTDTC": "2025-03-04T09:30",
                "EXENDTC": "2025-03-04T11:00",
            },
            {
                "STUDYID": "S",
                "DOMAIN": "EX",
                "USUBJID": U1,
                "EXSEQ": 2,
                "EXTRT": "MIL97",
                "EXSTDTC": "2025-03-25T09:30",
                "EXENDTC": "2025-03-25T11:00",
            },
        ],
    )
    ta = _dataset(
        "TA",
        "Trial Arms",
        TA_VARS,
        [
            {
                "STUDYID": "S",
                "DOMAIN": "TA",
                "ARMCD": "COH01_Q3W",
                "ARM": "Cohort 1",
                "TAETORD": o,
                "ETCD": e,
                "EPOCH": p,
            }
            for o, e, p in ((1, "SCRN", "SCREENING"), (2, "L1Q3W", "TREATMENT"))
        ],
    )
    return Submission((dm, ae, supp, ex, ta), SPONSOR)


def broken(change):
    submission = conforming()
    datasets = copy.deepcopy(list(submission.datasets))
    change({d.name: d for d in datasets})
    return Submission(tuple(datasets), SPONSOR)


def _set(dataset, record, name, value):
    def change(d):
        d[dataset].rows[record][name] = value

    return change


def _drop_column(dataset, name):
    def change(d):
        d[dataset].columns = [c for c in d[dataset].columns if c.name != name]
        for row in d[dataset].rows:
            row.pop(name, None)

    return change


def _relabel(dataset, name, label):
    def change(d):
        column = d[dataset].column(name)
        v = column.variable
        column.variable = Variable(v.name, label, v.type, v.core, v.origin, v.source, v.codelist)

    return change


def _swap(dataset, first, second):
    def change(d):
        cols = d[dataset].columns
        i, j = [k for k, c in enumerate(cols) if c.name in (first, second)]
        cols[i], cols[j] = cols[j], cols[i]

    return change


def test_a_conforming_submission_has_no_error():
    errors = [f for f in validate(conforming()) if f.severity == "error"]
    assert errors == []


CASES = [
    # (check, change, dataset, variable, what the message says)
    ("STD0001", _drop_column("DM", "SEX"), "DM", "SEX", "Required variable SEX is missing"),
    ("STD0002", _set("AE", 0, "AEDECOD", None), "AE", "AEDECOD", "AEDECOD is null"),
    ("STD0003", lambda d: None, "AE", "AESER", "Expected variable AESER is not included"),
    ("STD0005", _set("SUPPAE", 0, "QLABEL", "x" * 41), "SUPPAE", "QLABEL", "over 40"),
    ("STD0006", _set("AE", 0, "AETERM", "Céphalée"), "AE", "AETERM", "Not ASCII"),
    ("STD0006", _set("AE", 0, "AETERM", "x" * 201), "AE", "AETERM", "201 characters"),
    ("STD0007", _set("AE", 0, "AESTDY", "-1"), "AE", "AESTDY", "Num variable holds '-1'"),
    ("STD0008", _relabel("DM", "SEX", "Gender"), "DM", "SEX", "'Gender' != 'Sex'"),
    ("STD0008", _swap("DM", "SEX", "SITEID"), "DM", "", "not in the SDTMIG order"),
    ("STD0009", _set("AE", 0, "AEACN", "DOSE DELAYED"), "AE", "AEACN", "non-extensible"),
    ("STD0009", _set("AE", 0, "AEREL", "MAYBE"), "AE", "AEREL", "sponsor codelist AEREL"),
    ("STD0009", _set("SUPPAE", 0, "QVAL", "YES"), "SUPPAE", "QVAL", "non-extensible codelist NY"),
    ("STD0010", _set("AE", 0, "EPOCH", "RUN-OUT"), "AE", "EPOCH", "extends the extensible"),
    ("STD0011", _set("AE", 1, "AESEQ", 1), "AE", "AESEQ", "AESEQ=1 appears 2x"),
    ("STD0012", _set("AE", 0, "AESTDTC", "03/03/2025"), "AE", "AESTDTC", "not ISO 8601"),
    ("STD0013", _set("AE", 1, "AESTDY", 0), "AE", "AESTDY", "Study day 0 does not exist"),
    ("STD0013", _set("AE", 0, "AESTDY", 0), "AE", "AESTDY", "but AESTDTC gives -1"),
    ("STD0014", _set("DM", 0, "RFSTDTC", "2025-03-05"), "DM", "RFSTDTC", "exposure gives"),
    ("STD0014", _set("DM", 0, "RFXENDTC", "2025-03-04T11:00"), "DM", "RFXENDTC", "exposure"),
    ("STD0014", _set("DM", 0, "RFICDTC", "2025-03-05"), "DM", "RFICDTC", "consent after"),
    ("STD0015", _set("AE", 0, "USUBJID", "S-999"), "AE", "USUBJID", "S-999 is not in DM"),
    ("STD0016", _set("SUPPAE", 0, "IDVARVAL", "7"), "SUPPAE", "IDVARVAL", "No AE record"),
    ("STD0016", _set("SUPPAE", 0, "RDOMAIN", "CM"), "SUPPAE", "RDOMAIN", "RDOMAIN 'CM'"),
    ("STD0016", _set("SUPPAE", 0, "IDVAR", None), "SUPPAE", "IDVARVAL", "No AE record"),
    ("STD0017", _set("DM", 0, "ARMCD", "COH02_Q3W"), "DM", "ARMCD", "not an arm of TA"),
    ("STD0017", _set("TA", 0, "ARMCD", "C" * 21), "TA", "ARMCD", "longer than 20"),
    ("STD0017", _set("AE", 1, "EPOCH", "FOLLOW-UP"), "AE", "EPOCH", "not an epoch of TA"),
]


@pytest.mark.parametrize(("check", "change", "dataset", "variable", "message"), CASES)
def test_each_check_finds_what_is_broken(check, change, dataset, variable, message):
    findings = CHECKS[check].run(broken(change))
    assert any(
        f.dataset == dataset and f.variable == variable and message in f.message for f in findings
    ), findings
    assert all(f.severity == CHECKS[check].severity for f in findings)


def test_names_longer_than_eight_characters_are_refused():
    def change(d):
        column = d["AE"].column("AETERM")
        v = column.variable
        column.variable = Variable("AETERMLONG", v.label, v.type, v.core, v.origin, v.source)
        for row in d["AE"].rows:
            row["AETERMLONG"] = row.pop("AETERM")

    findings = CHECKS["STD0004"].run(broken(change))
    assert [(f.dataset, f.variable) for f in findings] == [("AE", "AETERMLONG")]


def test_every_check_is_named_versioned_and_sourced():
    assert len(CHECKS) >= 17
    for registered in CHECKS.values():
        assert registered.id.startswith("STD") and registered.version
        assert registered.name and registered.source
        assert registered.severity in ("error", "warning")
