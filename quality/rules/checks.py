"""Edit checks as data: one registry of named, versioned checks over a subject's casebook.

Each check reads a `Casebook` (plain frozen dataclasses, no Django) and returns the records it
fires on, each with the message the query carries. The services' hard rules refuse impossible
data at entry (docs/quality.md §1); these checks find what passes them but needs a person's look:
values outside the expected range, a field that another answer makes required, and
inconsistencies between forms that a later correction of one form introduces.

A check's `version` goes up whenever what it fires on or its message changes, so a query names
the exact rule that raised it. Every check has a table of scenarios in
tests/unit/quality/test_edit_checks_table.py.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum


class Kind(StrEnum):
    RANGE = "range"
    REQUIRED_IF = "required_if"
    CROSS_FORM = "cross_form"


class Form(StrEnum):
    """The casebook's forms, named as the services announce their records."""

    SUBJECT = "subject"
    DOSE = "dose"
    ADVERSE_EVENT = "adverse_event"


@dataclass(frozen=True)
class SubjectFacts:
    subject_id: int
    year_of_birth: int
    consent_date: date | None = None
    min_age_years: int | None = None
    # The answer to the protocol's age criterion on the eligibility checklist (None: unanswered).
    age_criterion_answer: bool | None = None
    enrolled: bool = False
    end_of_treatment_date: date | None = None


@dataclass(frozen=True)
class DoseFacts:
    dose_id: int
    given_on: date
    body_weight_kg: Decimal
    label: str = ""  # "C1D1"


@dataclass(frozen=True)
class AdverseEventFacts:
    event_id: int
    term: str
    onset_date: date
    action_taken: str  # safety.models.AdverseEvent.ActionTaken values


@dataclass(frozen=True)
class CheckSettings:
    """Study settings the checks read (trial/protocols/<study>.toml [quality])."""

    weight_expected_min_kg: Decimal = Decimal("40")
    weight_expected_max_kg: Decimal = Decimal("150")


@dataclass(frozen=True)
class Casebook:
    subject: SubjectFacts
    doses: tuple[DoseFacts, ...] = ()
    adverse_events: tuple[AdverseEventFacts, ...] = ()
    settings: CheckSettings = field(default_factory=CheckSettings)


@dataclass(frozen=True)
class Hit:
    """One record a check fires on, and the message its query carries."""

    record_id: int
    message: str


@dataclass(frozen=True)
class Finding:
    check: str
    version: int
    form: Form
    record_id: int
    field: str
    message: str

    @property
    def key(self) -> tuple[str, str, int, str]:
        return (self.check, self.form.value, self.record_id, self.field)


@dataclass(frozen=True)
class EditCheck:
    name: str
    version: int
    form: Form
    field: str
    kind: Kind
    description: str
    run: Callable[[Casebook], list[Hit]]


REGISTRY: dict[str, EditCheck] = {}


def edit_check(
    *, name: str, version: int, form: Form, field: str, kind: Kind, description: str
) -> Callable[[Callable[[Casebook], list[Hit]]], Callable[[Casebook], list[Hit]]]:
    """Register a check under a unique name."""

    def register(run: Callable[[Casebook], list[Hit]]) -> Callable[[Casebook], list[Hit]]:
        if name in REGISTRY:
            raise ValueError(f"Edit check {name!r} is registered twice")
        REGISTRY[name] = EditCheck(name, version, form, field, kind, description, run)
        return run

    return register


def run_checks(casebook: Casebook, names: list[str] | None = None) -> list[Finding]:
    """Every finding of the registered checks (or of those named) on one casebook."""
    findings: list[Finding] = []
    for check in REGISTRY.values():
        if names is not None and check.name not in names:
            continue
        for hit in check.run(casebook):
            findings.append(
                Finding(
                    check.name, check.version, check.form, hit.record_id, check.field, hit.message
                )
            )
    return findings


def _kg(value: Decimal) -> str:
    """A weight as written: 35, 39.9, 150 (no trailing zeros)."""
    return format(value.normalize(), "f")


def _ages(year_of_birth: int, on: date) -> tuple[int, int]:
    """With only the year of birth, the age on a date is one of two (before or after the
    birthday that year)."""
    return on.year - year_of_birth - 1, on.year - year_of_birth


# --- The checks ------------------------------------------------------------------------------


@edit_check(
    name="subject.age_vs_criterion",
    version=1,
    form=Form.SUBJECT,
    field="eligibility_answers",
    kind=Kind.CROSS_FORM,
    description="The age criterion's answer agrees with the year of birth at informed consent.",
)
def age_vs_criterion(book: Casebook) -> list[Hit]:
    s = book.subject
    if s.consent_date is None or not s.min_age_years or s.age_criterion_answer is None:
        return []
    low, high = _ages(s.year_of_birth, s.consent_date)
    ages = f"born in {s.year_of_birth}, the subject was {low} or {high} at informed consent ({s.consent_date:%Y-%m-%d})"
    if s.age_criterion_answer and high < s.min_age_years:
        return [
            Hit(
                s.subject_id,
                f"The age criterion ({s.min_age_years} or older) is answered yes, but {ages}: "
                "correct the year of birth or the checklist.",
            )
        ]
    if not s.age_criterion_answer and low >= s.min_age_years:
        return [
            Hit(
                s.subject_id,
                f"The age criterion ({s.min_age_years} or older) is answered no, but {ages}: "
                "correct the year of birth or the checklist.",
            )
        ]
    return []


@edit_check(
    name="adverse_event.onset_before_consent",
    version=1,
    form=Form.ADVERSE_EVENT,
    field="onset_date",
    kind=Kind.CROSS_FORM,
    description="An adverse event's onset is on or after informed consent.",
)
def onset_before_consent(book: Casebook) -> list[Hit]:
    consent = book.subject.consent_date
    if consent is None:
        return []
    return [
        Hit(
            ae.event_id,
            f"Onset {ae.onset_date:%Y-%m-%d} of '{ae.term}' is before informed consent "
            f"({consent:%Y-%m-%d}): correct the onset or the consent date.",
        )
        for ae in book.adverse_events
        if ae.onset_date < consent
    ]


@edit_check(
    name="dose.after_end_of_treatment",
    version=1,
    form=Form.DOSE,
    field="administered_on",
    kind=Kind.CROSS_FORM,
    description="No dose is dated after the subject's end of treatment.",
)
def dose_after_end_of_treatment(book: Casebook) -> list[Hit]:
    end = book.subject.end_of_treatment_date
    if end is None:
        return []
    return [
        Hit(
            dose.dose_id,
            f"Dose {dose.label or dose.dose_id} is dated {dose.given_on:%Y-%m-%d}, after end of "
            f"treatment ({end:%Y-%m-%d}): correct the dose date or the end of treatment.",
        )
        for dose in book.doses
        if dose.given_on > end
    ]


@edit_check(
    name="dose.body_weight_range",
    version=1,
    form=Form.DOSE,
    field="body_weight_kg",
    kind=Kind.RANGE,
    description="The body weight is within the expected range of the study's settings.",
)
def body_weight_range(book: Casebook) -> list[Hit]:
    low, high = book.settings.weight_expected_min_kg, book.settings.weight_expected_max_kg
    return [
        Hit(
            dose.dose_id,
            f"Body weight {_kg(dose.body_weight_kg)} kg is outside the expected "
            f"{_kg(low)}-{_kg(high)} kg: "
            "confirm it against the source (the dose in mg depends on it).",
        )
        for dose in book.doses
        if not (low <= dose.body_weight_kg <= high)
    ]


@edit_check(
    name="adverse_event.withdrawn_requires_end_of_treatment",
    version=1,
    form=Form.ADVERSE_EVENT,
    field="action_taken",
    kind=Kind.REQUIRED_IF,
    description="When the drug is withdrawn for an event, the end of treatment is recorded.",
)
def withdrawn_requires_end_of_treatment(book: Casebook) -> list[Hit]:
    s = book.subject
    if not s.enrolled or s.end_of_treatment_date is not None:
        return []
    return [
        Hit(
            ae.event_id,
            f"The drug was withdrawn for '{ae.term}', but no end of treatment is recorded: "
            "record the end of treatment, or correct the action taken.",
        )
        for ae in book.adverse_events
        if ae.action_taken == "withdrawn"
    ]
