"""Which steps a subject may take (subjects/rules.py; docs/safety.md §5), from a table of
scenarios, and the module's purity (plain Python, the standard library only)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import subjects.rules as rules
from subjects.rules import (
    Refused,
    Status,
    Step,
    SubjectState,
    allowed_steps,
    cohort_takes,
    criteria_not_met,
    eligible,
    refusal,
)

S, D, A = Step.SCREENING, Step.DOSE, Step.ADVERSE_EVENT
ET, ES, DE = Step.END_TREATMENT, Step.END_STUDY, Step.DEATH

# (status, consent recorded, death recorded) -> the steps allowed.
SCENARIOS = [
    ("screening", False, False, {S, DE}),
    ("screening", True, False, {S, A, DE}),
    ("screen_failed", True, False, set()),
    ("screen_failed", True, True, set()),  # died during screening
    ("enrolled", True, False, {D, A, ET, ES, DE}),
    ("off_treatment", True, False, {A, ES, DE}),
    ("off_study", True, False, {A, DE}),
    ("off_study", True, True, {A}),
]


@pytest.mark.parametrize(("status", "consent", "death", "expected"), SCENARIOS)
def test_allowed_steps(status: str, consent: bool, death: bool, expected: set[Step]) -> None:
    state = SubjectState(status=status, consent_recorded=consent, death_recorded=death)
    assert allowed_steps(state) == frozenset(expected)


# (step, status, consent recorded, death recorded) -> why it is refused.
REFUSALS = [
    (S, "enrolled", True, False, Refused.NOT_IN_SCREENING),
    (D, "off_treatment", True, False, Refused.NOT_ON_TREATMENT),
    (D, "screening", True, False, Refused.NOT_ON_TREATMENT),
    (ET, "off_study", True, False, Refused.NOT_ON_TREATMENT),
    (ES, "off_study", True, False, Refused.NOT_ENROLLED),
    (ES, "screening", True, False, Refused.NOT_ENROLLED),
    (A, "screening", False, False, Refused.NO_CONSENT),
    # A screen failure is the reason given first, consent or not.
    (A, "screen_failed", False, False, Refused.SCREEN_FAILED),
    (DE, "screen_failed", True, False, Refused.SCREEN_FAILED),
    # A recorded death is the reason given first: it is corrected, not recorded again.
    (DE, "screen_failed", True, True, Refused.DEATH_RECORDED),
    (DE, "enrolled", True, True, Refused.DEATH_RECORDED),
]


@pytest.mark.parametrize(("step", "status", "consent", "death", "expected"), REFUSALS)
def test_refusal_names_the_reason(
    step: Step, status: str, consent: bool, death: bool, expected: Refused
) -> None:
    state = SubjectState(status=status, consent_recorded=consent, death_recorded=death)
    assert refusal(step, state) is expected


def test_every_status_and_step_is_covered() -> None:
    assert {row[0] for row in SCENARIOS} == {s.value for s in Status}
    assert set().union(*(row[3] for row in SCENARIOS)) == set(Step)
    assert {row[-1] for row in REFUSALS} == set(Refused)


def test_the_module_imports_the_standard_library_only() -> None:
    tree = ast.parse(Path(rules.__file__).read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add((node.module or "").split(".")[0])
    assert imported <= {"__future__", "collections", "dataclasses", "datetime", "enum"}


INCLUSION = ("Age 18 or older", "ECOG 0-1")
EXCLUSION = ("Prior anti-CD47 therapy",)

# answers -> (eligible, the criteria answered against)
CHECKLISTS = [
    ({"Age 18 or older": True, "ECOG 0-1": True, "Prior anti-CD47 therapy": False}, True, []),
    (
        {"Age 18 or older": True, "ECOG 0-1": False, "Prior anti-CD47 therapy": True},
        False,
        ["ECOG 0-1", "Prior anti-CD47 therapy"],
    ),
    # Unanswered is not eligible, but nothing was answered against.
    ({"Age 18 or older": True}, False, []),
    ({}, False, []),
]


@pytest.mark.parametrize(("answers", "is_eligible", "not_met"), CHECKLISTS)
def test_eligibility(answers: dict[str, bool], is_eligible: bool, not_met: list[str]) -> None:
    assert eligible(INCLUSION, EXCLUSION, answers) is is_eligible
    assert criteria_not_met(INCLUSION, EXCLUSION, answers) == not_met


# (cohort status, track active, replacing) -> takes the subject
COHORTS = [
    ("open", True, False, True),
    ("open", True, True, True),
    ("full", True, False, False),
    ("full", True, True, True),  # a full cohort takes a replacement only
    ("planned", True, True, False),  # waiting for the committee
    ("closed", True, True, False),
    ("open", False, False, False),  # paused or stopped track
    ("full", False, True, False),
]


@pytest.mark.parametrize(("status", "active", "replacing", "takes"), COHORTS)
def test_cohort_takes(status: str, active: bool, replacing: bool, takes: bool) -> None:
    assert cohort_takes(status, active, replacing=replacing) is takes
