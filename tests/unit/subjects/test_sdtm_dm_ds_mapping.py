"""The DM race and ethnicity and the DS records of a subject (subjects/sdtm.py; docs/standards.md
§5.1-§5.2), from tables of cases: the mapping's rows for subjects as the services leave them,
read through a context that only names subjects and epochs."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace

import pytest

from standards.mapping import SUPP
from subjects.models import Subject
from subjects.sdtm import _race_fields, ds_rows

CONSENT, FIRST_DOSE = date(2026, 1, 5), date(2026, 1, 12)


class Context:
    """The little of ExportContext that DS reads: identifiers, epochs, study days."""

    studyid = "MIL97-001"

    def __init__(self, subject):
        self._subjects = [subject]

    def subjects(self):
        return self._subjects

    def usubjid(self, subject):
        return "MIL97-001-101-101-001"

    def epoch(self, subject, when):
        day = date.fromisoformat(when)
        if subject.enrollment_date is None or day < FIRST_DOSE:
            return "SCREENING"
        if subject.end_of_treatment_date and day > subject.end_of_treatment_date:
            return "FOLLOW-UP"
        return "TREATMENT"

    def study_day(self, subject, when):
        return None


def subject(**fields):
    values = {
        "status": Subject.Status.ENROLLED,
        "consent_date": CONSENT,
        "enrollment_date": date(2026, 1, 10),
        "eligibility_assessed_on": date(2026, 1, 8),
        "screen_failure_reason": "",
        "end_of_treatment_date": None,
        "end_of_treatment_reason_code": "",
        "end_of_treatment_reason": "",
        "end_of_study_date": None,
        "end_of_study_reason_code": "",
        "end_of_study_reason": "",
        "death_date": None,
        "Status": Subject.Status,
    }
    return SimpleNamespace(**(values | fields))


C = ("INFORMED CONSENT OBTAINED", "INFORMED CONSENT OBTAINED", "PROTOCOL MILESTONE", None)
CONSENTED = (*C, "2026-01-05", "SCREENING")
DE, PM, OE = "DISPOSITION EVENT", "PROTOCOL MILESTONE", "OTHER EVENT"
TRT, PART = "STUDY TREATMENT", "STUDY PARTICIPATION"
FEB1, FEB20, MAR1 = date(2026, 2, 1), date(2026, 2, 20), date(2026, 3, 1)

DS_CASES = [
    ("consented, on treatment", subject(), [CONSENTED]),
    (
        "screen failure",
        subject(
            status=Subject.Status.SCREEN_FAILED,
            enrollment_date=None,
            screen_failure_reason="Did not meet inclusion 4",
        ),
        [
            CONSENTED,
            ("Did not meet inclusion 4", "SCREEN FAILURE", DE, PART, "2026-01-08", "SCREENING"),
        ],
    ),
    (
        "death during screening: the screen failure, and the death",
        subject(
            status=Subject.Status.SCREEN_FAILED,
            enrollment_date=None,
            eligibility_assessed_on=None,
            screen_failure_reason="Death during screening",
            death_date=date(2026, 1, 7),
        ),
        [
            CONSENTED,
            ("Death during screening", "SCREEN FAILURE", DE, PART, "2026-01-05", "SCREENING"),
            ("DEATH", "DEATH", OE, None, "2026-01-07", "SCREENING"),
        ],
    ),
    (
        "end of treatment coded, with the site's words",
        subject(
            end_of_treatment_date=FEB1,
            end_of_treatment_reason_code="ADVERSE EVENT",
            end_of_treatment_reason="Grade 3 pneumonitis",
        ),
        [CONSENTED, ("Grade 3 pneumonitis", "ADVERSE EVENT", DE, TRT, "2026-02-01", "TREATMENT")],
    ),
    (
        "coded reasons without words: DSTERM is the coded reason",
        subject(
            end_of_treatment_date=FEB1,
            end_of_treatment_reason_code="PROGRESSIVE DISEASE",
            end_of_study_date=FEB20,
            end_of_study_reason_code="LOST TO FOLLOW-UP",
        ),
        [
            CONSENTED,
            ("PROGRESSIVE DISEASE", "PROGRESSIVE DISEASE", DE, TRT, "2026-02-01", "TREATMENT"),
            ("LOST TO FOLLOW-UP", "LOST TO FOLLOW-UP", DE, PART, "2026-02-20", "FOLLOW-UP"),
        ],
    ),
    (
        "OTHER, a sponsor extension, with the reason written out",
        subject(
            end_of_treatment_date=FEB1,
            end_of_treatment_reason_code="OTHER",
            end_of_treatment_reason="Moved abroad",
        ),
        [CONSENTED, ("Moved abroad", "OTHER", DE, TRT, "2026-02-01", "TREATMENT")],
    ),
    (
        "the death form: both ends are the death, no other record",
        subject(
            end_of_treatment_date=MAR1,
            end_of_treatment_reason_code="DEATH",
            end_of_study_date=MAR1,
            end_of_study_reason_code="DEATH",
            death_date=MAR1,
        ),
        [
            CONSENTED,
            ("DEATH", "DEATH", DE, TRT, "2026-03-01", "TREATMENT"),
            ("DEATH", "DEATH", DE, PART, "2026-03-01", "TREATMENT"),
        ],
    ),
    (
        "a death after the end of study: an other event",
        subject(
            end_of_treatment_date=FEB1,
            end_of_treatment_reason_code="PROGRESSIVE DISEASE",
            end_of_study_date=FEB20,
            end_of_study_reason_code="LOST TO FOLLOW-UP",
            death_date=MAR1,
        ),
        [
            CONSENTED,
            ("PROGRESSIVE DISEASE", "PROGRESSIVE DISEASE", DE, TRT, "2026-02-01", "TREATMENT"),
            ("LOST TO FOLLOW-UP", "LOST TO FOLLOW-UP", DE, PART, "2026-02-20", "FOLLOW-UP"),
            ("DEATH", "DEATH", OE, None, "2026-03-01", "FOLLOW-UP"),
        ],
    ),
    (
        "as of a data cut before reasons were coded: read from the text",
        subject(
            end_of_treatment_date=FEB1,
            end_of_treatment_reason="Progressive disease.",
            end_of_study_date=FEB20,
            end_of_study_reason="Moved away",
        ),
        [
            CONSENTED,
            ("Progressive disease.", "PROGRESSIVE DISEASE", DE, TRT, "2026-02-01", "TREATMENT"),
            ("Moved away", "OTHER", DE, PART, "2026-02-20", "FOLLOW-UP"),
        ],
    ),
    (
        "as of such a cut, died that day",
        subject(
            end_of_study_date=FEB20,
            end_of_study_reason="Death",
            end_of_treatment_date=FEB20,
            end_of_treatment_reason="Death",
            death_date=FEB20,
        ),
        [
            CONSENTED,
            ("Death", "DEATH", DE, TRT, "2026-02-20", "TREATMENT"),
            ("Death", "DEATH", DE, PART, "2026-02-20", "TREATMENT"),
        ],
    ),
]


@pytest.mark.parametrize(("case", "record", "expected"), DS_CASES, ids=[c[0] for c in DS_CASES])
def test_ds_records(case, record, expected):
    rows = list(ds_rows(Context(record)))
    got = [
        (r["DSTERM"], r["DSDECOD"], r["DSCAT"], r["DSSCAT"] or None, r["DSSTDTC"], r["EPOCH"])
        for r in rows
    ]
    assert got == expected


DM_CASES = [
    # (races, race_other, ethnicity) -> (RACE, ETHNIC, SUPPDM)
    ([], "", "", ("", "", {})),
    (["WHITE"], "", "NOT HISPANIC OR LATINO", ("WHITE", "NOT HISPANIC OR LATINO", {})),
    (["UNKNOWN"], "", "NOT REPORTED", ("UNKNOWN", "NOT REPORTED", {})),
    (["OTHER"], "Sami", "UNKNOWN", ("OTHER", "UNKNOWN", {"RACEOTH": "Sami"})),
    (
        ["ASIAN", "WHITE"],
        "",
        "HISPANIC OR LATINO",
        ("MULTIPLE", "HISPANIC OR LATINO", {"RACE1": "ASIAN", "RACE2": "WHITE"}),
    ),
    (
        ["BLACK OR AFRICAN AMERICAN", "WHITE", "OTHER"],
        "Sami",
        "NOT HISPANIC OR LATINO",
        (
            "MULTIPLE",
            "NOT HISPANIC OR LATINO",
            {
                "RACE1": "BLACK OR AFRICAN AMERICAN",
                "RACE2": "WHITE",
                "RACE3": "OTHER",
                "RACEOTH": "Sami",
            },
        ),
    ),
]


@pytest.mark.parametrize(("races", "other", "ethnicity", "expected"), DM_CASES)
def test_dm_race_and_ethnicity(races, other, ethnicity, expected):
    fields = _race_fields(SimpleNamespace(races=races, race_other=other, ethnicity=ethnicity))
    assert (fields["RACE"], fields["ETHNIC"], fields[SUPP]) == expected
