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
from datetime import date as date_type
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


# --- Demographics: race and ethnicity (docs/subjects.md §1) ----------------------------------
# The CDISC CT submission values (RACE, C74457; ETHNIC, C66790; the pinned release in
# standards/ct/), as the form offers them: the five races, OTHER (with its "specify" text), and
# NOT REPORTED or UNKNOWN, each of which stands alone.

RACES = (
    "AMERICAN INDIAN OR ALASKA NATIVE",
    "ASIAN",
    "BLACK OR AFRICAN AMERICAN",
    "NATIVE HAWAIIAN OR OTHER PACIFIC ISLANDER",
    "WHITE",
)
RACE_OTHER = "OTHER"
RACE_ALONE = ("NOT REPORTED", "UNKNOWN")
RACE_CHOICES = (*RACES, RACE_OTHER, *RACE_ALONE)
ETHNICITIES = ("HISPANIC OR LATINO", "NOT HISPANIC OR LATINO", "NOT REPORTED", "UNKNOWN")
# SDTMIG 3.4 DM: RACE is MULTIPLE when several races are collected; each goes to SUPPDM.
MULTIPLE = "MULTIPLE"


def race_problems(races: Sequence[str], race_other: str) -> dict[str, str]:
    """What is wrong with the races chosen (field -> the rule), empty when they are fine: at least
    one; each a race of the list, once; NOT REPORTED and UNKNOWN alone; OTHER with the race
    written out, and that text only with OTHER."""
    problems: dict[str, str] = {}
    unknown = [r for r in races if r not in RACE_CHOICES]
    if not races:
        problems["races"] = "Choose at least one race, or Not reported or Unknown."
    elif unknown:
        problems["races"] = (
            f"Not a race of the CDISC list (RACE): {', '.join(map(str, unknown))}. "
            f"Choose among {', '.join(RACE_CHOICES)}."
        )
    elif len(set(races)) != len(races):
        problems["races"] = "Each race is chosen once."
    else:
        alone = [r for r in races if r in RACE_ALONE]
        if alone and len(races) > 1:
            problems["races"] = (
                f"{alone[0].capitalize()} stands alone: it cannot be combined with another answer."
            )
    other_chosen = RACE_OTHER in races
    if other_chosen and not race_other.strip():
        problems["race_other"] = "Other race chosen: write the race as the subject gave it."
    elif race_other.strip() and not other_chosen:
        problems["race_other"] = "A race written out goes with Other: choose Other, or clear it."
    return problems


def ordered_races(races: Sequence[str]) -> list[str]:
    """The races in the list's order, whatever order they were given in."""
    return sorted(races, key=lambda r: RACE_CHOICES.index(r) if r in RACE_CHOICES else 99)


def sdtm_race(races: Sequence[str]) -> str:
    """DM RACE: the one race, MULTIPLE for several, empty when not recorded."""
    if not races:
        return ""
    return races[0] if len(races) == 1 else MULTIPLE


# --- Disposition: the coded reasons (docs/subjects.md §2) ------------------------------------
# CDISC CT NCOMPLT (C66727) submission values a Phase 1 unit uses, per disposition event, and
# OTHER (a sponsor extension of the extensible codelist) with the reason written out. The
# free text beside the code is the "specify" detail, kept as the site wrote it.

REASON_OTHER = "OTHER"
REASON_DEATH = "DEATH"
END_OF_TREATMENT_REASONS = (
    "COMPLETED",
    "ADVERSE EVENT",
    "PROGRESSIVE DISEASE",
    REASON_DEATH,
    "PHYSICIAN DECISION",
    "WITHDRAWAL BY SUBJECT",
    "WITHDRAWAL OF CONSENT",
    "LOST TO FOLLOW-UP",
    "NON-COMPLIANCE WITH STUDY DRUG",
    "PROTOCOL DEVIATION",
    "PREGNANCY",
    "STUDY TERMINATED BY SPONSOR",
    REASON_OTHER,
)
# Every end-of-study reason is also an end-of-treatment reason: leaving the study ends
# treatment the same day, for the same reason.
END_OF_STUDY_REASONS = (
    "COMPLETED",
    REASON_DEATH,
    "WITHDRAWAL BY SUBJECT",
    "WITHDRAWAL OF CONSENT",
    "LOST TO FOLLOW-UP",
    "PHYSICIAN DECISION",
    "ADVERSE EVENT",
    "PROGRESSIVE DISEASE",
    "STUDY TERMINATED BY SPONSOR",
    REASON_OTHER,
)


@dataclass(frozen=True)
class DispositionEvent:
    """End of treatment or end of study as recorded: date, coded reason, the "specify" text."""

    prefix: str  # "end_of_treatment" or "end_of_study": the fields' names
    words: str  # "end of treatment"
    date: date_type | None
    code: str
    text: str
    allowed: tuple[str, ...]


@dataclass(frozen=True)
class Disposition:
    enrollment_date: date_type | None
    death_date: date_type | None
    end_of_treatment: DispositionEvent
    end_of_study: DispositionEvent


def disposition_problems(state: Disposition) -> dict[str, list[str]]:
    """Every disposition rule `state` breaks (field -> messages): the coded reason goes with its
    date, is one of its event's reasons, OTHER says what it was; end of study is not before end
    of treatment nor enrollment; DEATH is the reason only on the date of death, and nothing
    ends after it."""
    problems: dict[str, list[str]] = {}

    def add(field: str, message: str) -> None:
        problems.setdefault(field, []).append(message)

    for event in (state.end_of_treatment, state.end_of_study):
        code_field, date_field = f"{event.prefix}_reason_code", f"{event.prefix}_date"
        if event.date is not None and not event.code:
            add(code_field, f"Choose the reason for the {event.words} (a coded reason).")
        if event.code and event.date is None:
            add(date_field, f"The date of the {event.words} is required with its reason.")
        if event.code and event.code not in event.allowed:
            add(
                code_field,
                f"{event.code} is not a reason for the {event.words}; choose among "
                f"{', '.join(event.allowed)}.",
            )
        if event.code == REASON_OTHER and not event.text.strip():
            add(f"{event.prefix}_reason", "Other reason chosen: say what the reason was.")
        if event.code == REASON_DEATH and event.date is not None:
            if state.death_date is None:
                add(
                    code_field,
                    f"The reason is death but no date of death is recorded: record the death "
                    f"(it ends treatment and the study on that date) rather than the {event.words}.",
                )
            elif state.death_date != event.date:
                add(
                    date_field,
                    f"The reason is death: the {event.words} is the date of death "
                    f"({state.death_date:%Y-%m-%d}).",
                )
        if (
            state.death_date is not None
            and event.date is not None
            and event.date > state.death_date
        ):
            add(
                date_field,
                f"The {event.words} ({event.date:%Y-%m-%d}) cannot follow the date of death "
                f"({state.death_date:%Y-%m-%d}).",
            )
    eot, eos = state.end_of_treatment.date, state.end_of_study.date
    if eos is not None and eot is not None and eos < eot:
        add("end_of_study_date", "End of study cannot precede end of treatment.")
    start = state.enrollment_date
    for event in (state.end_of_treatment, state.end_of_study):
        if event.date is not None and start is not None and event.date < start:
            add(f"{event.prefix}_date", f"The {event.words} cannot precede enrollment.")
    return problems
