"""The disposition and race checks (standards/checks.py; docs/standards.md §5.1-§5.2, §8.2)
from a table of cases: DSDECOD from its category's codelist (STD0018), deaths the same in DM and
DS (STD0019), and DM RACE MULTIPLE, the SDTMIG's own value, accepted (STD0009)."""

import copy

import pytest

from standards.build import Column, Dataset
from standards.checks import CHECKS, Submission
from standards.mapping import Variable, identifiers

V = Variable
U1, U2 = "S-101-001", "S-101-002"

DM_VARS = (
    *identifiers("DM", seq=False),
    V("DTHDTC", "Date/Time of Death", "Char", "Exp", "Collected", ""),
    V("DTHFL", "Subject Death Flag", "Char", "Exp", "Derived", "", "NY"),
    V("RACE", "Race", "Char", "Exp", "Collected", "", "RACE"),
    V("ETHNIC", "Ethnicity", "Char", "Perm", "Collected", "", "ETHNIC"),
)
DS_VARS = (
    *identifiers("DS"),
    V("DSTERM", "Reported Term for the Disposition Event", "Char", "Req", "Collected", ""),
    V("DSDECOD", "Standardized Disposition Term", "Char", "Req", "Collected", "", "NCOMPLT|PROTMLST"),
    V("DSCAT", "Category for Disposition Event", "Char", "Exp", "Assigned", "", "DSCAT"),
    V("DSSCAT", "Subcategory for Disposition Event", "Char", "Perm", "Assigned", "", "DSSCAT"),
    V("DSSTDTC", "Start Date/Time of Disposition Event", "Char", "Exp", "Collected", ""),
)  # fmt: skip


def _dataset(name, variables, rows):
    columns = [Column(v, 200 if v.type == "Char" else 8) for v in variables]
    return Dataset(
        name=name,
        label=name,
        observation_class="EVENTS",
        structure="",
        keys=(),
        columns=columns,
        rows=[{v.name: r.get(v.name) for v in variables} for r in rows],
    )


def _ds(usubjid, seq, term, decode, category, subcategory, day):
    return {
        "STUDYID": "S",
        "DOMAIN": "DS",
        "USUBJID": usubjid,
        "DSSEQ": seq,
        "DSTERM": term,
        "DSDECOD": decode,
        "DSCAT": category,
        "DSSCAT": subcategory,
        "DSSTDTC": day,
    }


def conforming() -> Submission:
    """U1 lost to follow-up, race MULTIPLE; U2 ended treatment for progression and died."""
    dm = _dataset(
        "DM",
        DM_VARS,
        [
            {"STUDYID": "S", "DOMAIN": "DM", "USUBJID": U1, "RACE": "MULTIPLE",
             "ETHNIC": "NOT HISPANIC OR LATINO"},
            {"STUDYID": "S", "DOMAIN": "DM", "USUBJID": U2, "DTHDTC": "2026-03-01",
             "DTHFL": "Y", "RACE": "WHITE", "ETHNIC": "NOT REPORTED"},
        ],
    )  # fmt: skip
    consent = ("INFORMED CONSENT OBTAINED",) * 2 + ("PROTOCOL MILESTONE", None)
    ds = _dataset(
        "DS",
        DS_VARS,
        [
            _ds(U1, 1, *consent, "2026-01-02"),
            _ds(U1, 2, "Moved away", "LOST TO FOLLOW-UP", "DISPOSITION EVENT",
                "STUDY PARTICIPATION", "2026-02-10"),
            _ds(U2, 1, *consent, "2026-01-03"),
            _ds(U2, 2, "PROGRESSIVE DISEASE", "PROGRESSIVE DISEASE", "DISPOSITION EVENT",
                "STUDY TREATMENT", "2026-02-01"),
            _ds(U2, 3, "DEATH", "DEATH", "DISPOSITION EVENT", "STUDY PARTICIPATION",
                "2026-03-01"),
        ],
    )  # fmt: skip
    return Submission((dm, ds), {})


def broken(change):
    datasets = {d.name: d for d in copy.deepcopy(list(conforming().datasets))}
    change(datasets)
    return Submission(tuple(datasets.values()), {})


def _set(dataset, record, name, value):
    def change(d):
        d[dataset].rows[record][name] = value

    return change


# The checks of the values these datasets hold (the structure checks need whole datasets).
VALUE_CHECKS = ("STD0009", "STD0010", "STD0018", "STD0019")


def validate(submission):
    return [f for check in VALUE_CHECKS for f in CHECKS[check].run(submission)]


def test_the_conforming_submission_has_no_error_and_multiple_is_accepted():
    findings = validate(conforming())
    assert [f for f in findings if f.severity == "error"] == []
    assert not [f for f in findings if "MULTIPLE" in f.message]


CASES = [
    # (check, change, dataset, variable, what the message says)
    ("STD0009", _set("DM", 0, "RACE", "MIXED"), "DM", "RACE", "non-extensible codelist RACE"),
    ("STD0009", _set("DM", 0, "ETHNIC", "LATINO"), "DM", "ETHNIC", "non-extensible"),
    (
        "STD0018",
        _set("DS", 1, "DSDECOD", "INFORMED CONSENT OBTAINED"),
        "DS",
        "DSDECOD",
        "is a PROTMLST term, not NCOMPLT (DISPOSITION EVENT)",
    ),
    (
        "STD0018",
        _set("DS", 0, "DSDECOD", "COMPLETED"),
        "DS",
        "DSDECOD",
        "is a NCOMPLT term, not PROTMLST (PROTOCOL MILESTONE)",
    ),
    ("STD0019", _set("DM", 1, "DTHFL", None), "DM", "DTHFL", "DTHFL None, DTHDTC '2026-03-01'"),
    ("STD0019", _set("DM", 0, "DTHFL", "Y"), "DM", "DTHFL", "DTHFL 'Y', DTHDTC None"),
    (
        "STD0019",
        _set("DS", 4, "DSDECOD", "COMPLETED"),
        "DS",
        "DSDECOD",
        "died on 2026-03-01: no DS record DEATH that day",
    ),
    (
        "STD0019",
        _set("DS", 4, "DSSTDTC", "2026-03-02"),
        "DS",
        "DSSTDTC",
        "DEATH on '2026-03-02', DM DTHDTC '2026-03-01'",
    ),
    (
        "STD0019",
        _set("DS", 1, "DSDECOD", "DEATH"),
        "DS",
        "DSSTDTC",
        f"{U1}: DEATH on '2026-02-10', DM DTHDTC None",
    ),
]


@pytest.mark.parametrize(("check", "change", "dataset", "variable", "message"), CASES)
def test_each_check_finds_what_is_broken(check, change, dataset, variable, message):
    findings = CHECKS[check].run(broken(change))
    assert any(
        f.dataset == dataset and f.variable == variable and message in f.message for f in findings
    ), findings
    assert all(f.severity == "error" for f in findings)


def test_a_sponsor_reason_of_a_disposition_event_is_a_warning_not_an_error():
    """OTHER extends the extensible NCOMPLT: STD0010 lists it, STD0009 and STD0018 accept it."""
    submission = broken(_set("DS", 1, "DSDECOD", "OTHER"))
    findings = validate(submission)
    assert [f for f in findings if f.severity == "error"] == []
    assert [(f.check, f.variable) for f in findings if "OTHER" in f.message] == [
        ("STD0010", "DSDECOD")
    ]
