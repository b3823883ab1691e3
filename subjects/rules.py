"""Which steps a subject may take now, stated once (docs/safety.md §5).

Plain Python, no Django: the services refuse a step with these rules, the coordinator pages
send a user back to the casebook with them, and the casebook offers the buttons they allow.
Each caller words the refusal for its place (a field error in a service, a note on a page); the
rule itself, and the reason it gives, live here.

The steps and their rules:

| step | allowed when |
|---|---|
| screening (consent, eligibility, screen failure, enrollment) | the subject is in screening |
| a dose | the subject is enrolled and on treatment |
| an adverse event | informed consent is recorded and the subject is not a screen failure |
| end of treatment | the subject is enrolled and on treatment |
| end of study | the subject is enrolled, on treatment or in follow-up |
| death | no date of death is recorded and the subject is not a screen failure |

A screen failure is not followed after screening: no adverse events and no death are recorded
for them (a death during screening makes the subject a screen failure, through the death step).

Enrollment: a cohort of an active track takes a new subject while it is open; a full one takes
only a replacement (a subject found not evaluable gives up the place, docs/escalation.md §4.4).

Eligibility (the protocol's checklist): eligible when every inclusion criterion is answered yes
and every exclusion criterion no; the criteria answered against are what a screen failure's
reason names.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum


class Status(StrEnum):
    """A subject's status, as `subjects.models.Subject.Status` stores it."""

    SCREENING = "screening"
    SCREEN_FAILED = "screen_failed"
    ENROLLED = "enrolled"
    OFF_TREATMENT = "off_treatment"
    OFF_STUDY = "off_study"


class Step(StrEnum):
    SCREENING = "screening"
    DOSE = "dose"
    ADVERSE_EVENT = "adverse_event"
    END_TREATMENT = "end_treatment"
    END_STUDY = "end_study"
    DEATH = "death"


class Refused(StrEnum):
    """Why a step is not allowed now."""

    NOT_IN_SCREENING = "not_in_screening"
    NOT_ON_TREATMENT = "not_on_treatment"
    NOT_ENROLLED = "not_enrolled"
    SCREEN_FAILED = "screen_failed"
    NO_CONSENT = "no_consent"
    DEATH_RECORDED = "death_recorded"


@dataclass(frozen=True)
class SubjectState:
    """What the rules read of a subject."""

    status: str
    consent_recorded: bool
    death_recorded: bool


def refusal(step: Step, state: SubjectState) -> Refused | None:
    """Why `step` is not allowed for a subject in `state`, or None when it is."""
    status = state.status
    if step is Step.SCREENING:
        return None if status == Status.SCREENING else Refused.NOT_IN_SCREENING
    if step is Step.DOSE or step is Step.END_TREATMENT:
        return None if status == Status.ENROLLED else Refused.NOT_ON_TREATMENT
    if step is Step.END_STUDY:
        on_study = status in (Status.ENROLLED, Status.OFF_TREATMENT)
        return None if on_study else Refused.NOT_ENROLLED
    if step is Step.ADVERSE_EVENT:
        if status == Status.SCREEN_FAILED:
            return Refused.SCREEN_FAILED
        return None if state.consent_recorded else Refused.NO_CONSENT
    # Step.DEATH
    if state.death_recorded:
        return Refused.DEATH_RECORDED
    return Refused.SCREEN_FAILED if status == Status.SCREEN_FAILED else None


def allowed_steps(state: SubjectState) -> frozenset[Step]:
    """Every step the subject may take now."""
    return frozenset(step for step in Step if refusal(step, state) is None)


def eligible(
    inclusion: Sequence[str], exclusion: Sequence[str], answers: Mapping[str, bool]
) -> bool:
    """Every inclusion criterion answered yes and every exclusion criterion no."""
    return all(answers.get(c) is True for c in inclusion) and all(
        answers.get(c) is False for c in exclusion
    )


def criteria_not_met(
    inclusion: Sequence[str], exclusion: Sequence[str], answers: Mapping[str, bool]
) -> list[str]:
    """The criteria answered against eligibility: inclusion answered no, exclusion yes."""
    return [c for c in inclusion if answers.get(c) is False] + [
        c for c in exclusion if answers.get(c) is True
    ]


def cohort_takes(cohort_status: str, track_active: bool, *, replacing: bool) -> bool:
    """Does the cohort take a new subject now: open on an active track, or full on an active
    track when the subject replaces one found not evaluable."""
    if not track_active:
        return False
    return cohort_status == "open" or (replacing and cohort_status == "full")
