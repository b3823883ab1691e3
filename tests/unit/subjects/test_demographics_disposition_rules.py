"""Race, ethnicity and the coded disposition reasons (subjects/rules.py; docs/subjects.md §1-§2),
from tables of cases, and their values against the pinned CDISC CT (standards/ct/)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from standards.ct import codelist
from subjects.rules import (
    END_OF_STUDY_REASONS,
    END_OF_TREATMENT_REASONS,
    ETHNICITIES,
    RACE_CHOICES,
    Disposition,
    DispositionEvent,
    disposition_problems,
    ordered_races,
    race_problems,
    sdtm_race,
)

W, A, B = "WHITE", "ASIAN", "BLACK OR AFRICAN AMERICAN"


def test_the_lists_are_the_cdisc_codelists():
    # RACE (C74457) and ETHNIC (C66790) are offered whole, in the form's order.
    assert set(RACE_CHOICES) == set(codelist("RACE").terms)
    assert set(ETHNICITIES) == set(codelist("ETHNIC").terms)
    assert codelist("RACE").code == "C74457" and codelist("ETHNIC").code == "C66790"
    # Each coded reason is an NCOMPLT (C66727) term, but OTHER: a sponsor extension of the
    # extensible codelist.
    ncomplt = codelist("NCOMPLT")
    assert ncomplt.code == "C66727" and ncomplt.extensible
    assert set(END_OF_TREATMENT_REASONS) - set(ncomplt.terms) == {"OTHER"}
    assert set(END_OF_STUDY_REASONS) - set(ncomplt.terms) == {"OTHER"}
    # Leaving the study ends treatment for the same reason: every study reason is a treatment one.
    assert set(END_OF_STUDY_REASONS) <= set(END_OF_TREATMENT_REASONS)


RACE_CASES = [
    # (races, race_other, problems: field -> words in the message)
    ([W], "", {}),
    ([W, A], "", {}),
    ([A, W, B], "", {}),
    (["OTHER"], "Romani", {}),
    ([W, "OTHER"], "Romani", {}),
    (["NOT REPORTED"], "", {}),
    (["UNKNOWN"], "", {}),
    ([], "", {"races": "at least one race"}),
    (["CAUCASIAN"], "", {"races": "Not a race of the CDISC list (RACE): CAUCASIAN"}),
    (["white"], "", {"races": "Not a race of the CDISC list"}),
    ([W, W], "", {"races": "Each race is chosen once"}),
    ([W, "NOT REPORTED"], "", {"races": "Not reported stands alone"}),
    (["UNKNOWN", A], "", {"races": "Unknown stands alone"}),
    (["NOT REPORTED", "UNKNOWN"], "", {"races": "stands alone"}),
    (["OTHER"], "", {"race_other": "write the race"}),
    (["OTHER"], "   ", {"race_other": "write the race"}),
    ([W], "Romani", {"race_other": "goes with Other"}),
    ([], "Romani", {"races": "at least one race", "race_other": "goes with Other"}),
]


@pytest.mark.parametrize(("races", "other", "expected"), RACE_CASES)
def test_race_rules(races, other, expected):
    problems = race_problems(races, other)
    assert set(problems) == set(expected), problems
    for field, words in expected.items():
        assert words in problems[field], problems[field]


@pytest.mark.parametrize(
    ("races", "rac"),
    [
        ([], ""),
        ([W], W),
        (["NOT REPORTED"], "NOT REPORTED"),
        (["OTHER"], "OTHER"),
        ([A, W], "MULTIPLE"),  # SDTMIG 3.4 DM: several races are MULTIPLE, each in SUPPDM
        ([W, "OTHER"], "MULTIPLE"),
    ],
)
def test_dm_race(races, rac):
    assert sdtm_race(races) == rac


def test_races_keep_the_lists_order():
    assert ordered_races([W, "OTHER", A, B]) == [A, B, W, "OTHER"]


ENROLLED, DIED = date(2026, 1, 10), date(2026, 3, 1)


def _state(
    *,
    eot=None,
    eot_code="",
    eot_text="",
    eos=None,
    eos_code="",
    eos_text="",
    death=None,
    enrolled=ENROLLED,
):
    return Disposition(
        enrollment_date=enrolled,
        death_date=death,
        end_of_treatment=DispositionEvent(
            "end_of_treatment",
            "end of treatment",
            eot,
            eot_code,
            eot_text,
            END_OF_TREATMENT_REASONS,
        ),
        end_of_study=DispositionEvent(
            "end_of_study", "end of study", eos, eos_code, eos_text, END_OF_STUDY_REASONS
        ),
    )


D = date
DISPOSITION_CASES = [
    # (state, problems: field -> words in the message); an empty dict: no problem.
    (_state(), {}),
    (_state(eot=D(2026, 2, 1), eot_code="PROGRESSIVE DISEASE"), {}),
    (_state(eot=D(2026, 2, 1), eot_code="ADVERSE EVENT", eot_text="Grade 3 pneumonitis"), {}),
    (
        _state(
            eot=D(2026, 2, 1),
            eot_code="PROGRESSIVE DISEASE",
            eos=D(2026, 2, 20),
            eos_code="LOST TO FOLLOW-UP",
        ),
        {},
    ),
    (_state(eot=D(2026, 2, 1), eot_code="OTHER", eot_text="Moved abroad for surgery"), {}),
    (
        _state(eot=DIED, eot_code="DEATH", eos=DIED, eos_code="DEATH", death=DIED),
        {},
    ),
    (
        _state(
            eot=D(2026, 2, 1),
            eot_code="PROGRESSIVE DISEASE",
            eos=DIED,
            eos_code="DEATH",
            death=DIED,
        ),
        {},
    ),  # fmt: skip
    # A date without its reason, a reason without its date.
    (_state(eot=D(2026, 2, 1)), {"end_of_treatment_reason_code": "Choose the reason"}),
    (_state(eos_code="COMPLETED"), {"end_of_study_date": "required with its reason"}),
    # A reason of the other event, or of no list.
    (
        _state(
            eot=D(2026, 2, 1),
            eot_code="PROGRESSIVE DISEASE",
            eos=D(2026, 2, 2),
            eos_code="PREGNANCY",
        ),
        {"end_of_study_reason_code": "PREGNANCY is not a reason for the end of study"},
    ),
    (
        _state(eot=D(2026, 2, 1), eot_code="SCREEN FAILURE"),
        {"end_of_treatment_reason_code": "not a reason for the end of treatment"},
    ),
    # OTHER says what it was.
    (_state(eot=D(2026, 2, 1), eot_code="OTHER"), {"end_of_treatment_reason": "say what"}),
    (
        _state(eot=D(2026, 2, 1), eot_code="OTHER", eot_text="  "),
        {"end_of_treatment_reason": "say"},
    ),
    # Dates in order.
    (
        _state(eot=D(2026, 1, 9), eot_code="ADVERSE EVENT"),
        {"end_of_treatment_date": "cannot precede enrollment"},
    ),
    (
        _state(
            eot=D(2026, 2, 1), eot_code="ADVERSE EVENT", eos=D(2026, 1, 31), eos_code="COMPLETED"
        ),
        {"end_of_study_date": "cannot precede end of treatment"},
    ),
    # Death: the reason only on the date of death, and nothing ends after it.
    (
        _state(eot=D(2026, 2, 1), eot_code="DEATH"),
        {"end_of_treatment_reason_code": "no date of death is recorded"},
    ),
    (
        _state(eot=D(2026, 2, 1), eot_code="DEATH", death=DIED),
        {"end_of_treatment_date": "is the date of death (2026-03-01)"},
    ),
    (
        _state(
            eot=D(2026, 2, 1),
            eot_code="PROGRESSIVE DISEASE",
            eos=D(2026, 3, 5),
            eos_code="COMPLETED",
            death=DIED,
        ),
        {"end_of_study_date": "cannot follow the date of death (2026-03-01)"},
    ),  # fmt: skip
]


@pytest.mark.parametrize(("state", "expected"), DISPOSITION_CASES)
def test_disposition_rules(state, expected):
    problems = disposition_problems(state)
    assert set(problems) == set(expected), problems
    for field, words in expected.items():
        assert any(words in message for message in problems[field]), problems[field]


def test_a_boundary_the_same_day_is_allowed():
    """End of treatment on the enrollment day, end of study on the end of treatment day, the
    ends on the day of death: all allowed."""
    state = _state(
        eot=ENROLLED, eot_code="ADVERSE EVENT", eos=ENROLLED, eos_code="DEATH", death=ENROLLED
    )
    assert disposition_problems(state) == {}
    assert disposition_problems(replace(state, death_date=None)) == {
        "end_of_study_reason_code": [
            "The reason is death but no date of death is recorded: record the death (it ends "
            "treatment and the study on that date) rather than the end of study."
        ]
    }
