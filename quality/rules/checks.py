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
from datetime import date, timedelta
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
    LAB_RESULT = "lab_result"
    LESION = "lesion"
    PRIOR_THERAPY = "prior_therapy"
    SURVIVAL = "survival"


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
    # The first dose given (Cycle 1 Day 1): the washout and the survival checks count from it.
    first_dose_date: date | None = None


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
class LabResultFacts:
    """A local lab result with the window of its visit as the subject's calendar plans it
    (docs/visits.md §2.2); no window for an unscheduled visit or one the calendar does not
    have."""

    result_id: int
    test: str
    sampled_on: date
    visit_code: str
    window_earliest: date | None = None
    window_latest: date | None = None


@dataclass(frozen=True)
class LesionFacts:
    """A lesion of the tumour assessments as identified (docs/efficacy.md §2): its role
    ("target", "non-target", "new") and the organ the limit per organ counts it in."""

    lesion_id: int
    code: str
    role: str
    organ: str
    nodal: bool = False


@dataclass(frozen=True)
class PriorTherapyFacts:
    """A prior cancer therapy (docs/visits.md §11.3) with its end date as entered (ISO 8601 as
    far as known) and the first and last day it may be: the caller reads the partial date, so
    "2026-02" ends between 2026-02-01 and 2026-02-28. A surgery has no end (None)."""

    therapy_id: int
    treatment: str
    therapy_type: str  # "systemic", "radiotherapy", "surgery"
    end_text: str = ""
    end_earliest: date | None = None
    end_latest: date | None = None


@dataclass(frozen=True)
class SurvivalContactFacts:
    """A survival follow-up contact's new anticancer therapy (docs/visits.md §10)."""

    contact_id: int
    contact_date: date
    new_therapy_regimen: str = ""
    new_therapy_start: date | None = None


@dataclass(frozen=True)
class CheckSettings:
    """Study settings the checks read (trial/protocols/<study>.toml [quality])."""

    weight_expected_min_kg: Decimal = Decimal("40")
    weight_expected_max_kg: Decimal = Decimal("150")
    # The protocol's washout of prior anticancer therapy before the first dose, in days (MIL97:
    # "Anticancer therapy within 4 weeks before the first dose" excludes); None: no washout.
    anticancer_washout_days: int | None = None


@dataclass(frozen=True)
class Casebook:
    """A subject's casebook as the checks read it. A check reads the subject's facts and the
    records of its own form, so a caller running some checks loads only those forms
    (`forms_read`)."""

    subject: SubjectFacts
    doses: tuple[DoseFacts, ...] = ()
    adverse_events: tuple[AdverseEventFacts, ...] = ()
    settings: CheckSettings = field(default_factory=CheckSettings)
    lab_results: tuple[LabResultFacts, ...] = ()
    lesions: tuple[LesionFacts, ...] = ()
    prior_therapies: tuple[PriorTherapyFacts, ...] = ()
    survival_contacts: tuple[SurvivalContactFacts, ...] = ()


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


def forms_read(names: list[str] | None = None) -> set[Form]:
    """The forms the registered checks (or those named) read besides the subject's facts."""
    return {c.form for c in REGISTRY.values() if names is None or c.name in names}


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


@edit_check(
    name="lab_result.date_in_visit_window",
    version=1,
    form=Form.LAB_RESULT,
    field="sampled_on",
    kind=Kind.CROSS_FORM,
    description="A lab result's sample date is inside the window of the visit it is entered at.",
)
def lab_date_in_visit_window(book: Casebook) -> list[Hit]:
    return [
        Hit(
            lab.result_id,
            f"The {lab.test} sample dated {lab.sampled_on:%Y-%m-%d} is outside the window of "
            f"visit {lab.visit_code} ({lab.window_earliest:%Y-%m-%d} to "
            f"{lab.window_latest:%Y-%m-%d}): correct the sample date, or enter the result at "
            "the visit it was taken for (an unscheduled visit if none).",
        )
        for lab in book.lab_results
        if lab.window_earliest is not None
        and lab.window_latest is not None
        and not lab.window_earliest <= lab.sampled_on <= lab.window_latest
    ]


# RECIST 1.1 §4.2: at most 5 target lesions in total, at most 2 per organ.
MAX_TARGETS = 5
MAX_TARGETS_PER_ORGAN = 2
_SIDES = frozenset({"left", "right", "l", "r", "lt", "rt", "bilateral", "both"})
# Paired organs written in the plural, as one organ.
_PAIRED = {
    "lungs": "lung",
    "kidneys": "kidney",
    "ovaries": "ovary",
    "adrenals": "adrenal",
    "breasts": "breast",
    "testes": "testis",
}


def organ_key(organ: str, nodal: bool) -> str:
    """The organ as the limit per organ counts it (docs/quality.md §1): every lymph node is one
    organ, "lymph nodes"; paired organs are one organ (EORTC RECIST FAQ, "Paired organs"), so a
    side (left, right) or the plural is not part of the name; nor are case and spacing."""
    if nodal:
        return "lymph nodes"
    words = [w.strip(".,;:()") for w in organ.lower().split()]
    words = [_PAIRED.get(w, w) for w in words if w and w not in _SIDES]
    return " ".join(words) or " ".join(organ.lower().split())


def _targets(book: Casebook) -> list[LesionFacts]:
    """The target lesions in the order they were entered."""
    return sorted(
        (les for les in book.lesions if les.role == "target"), key=lambda les: les.lesion_id
    )


def _named(lesions: list[LesionFacts]) -> str:
    return ", ".join(f"{les.code} ({les.organ})" for les in lesions)


@edit_check(
    name="lesion.targets_in_total",
    version=1,
    form=Form.LESION,
    field="role",
    kind=Kind.RANGE,
    description="At most 5 target lesions in total (RECIST 1.1 §4.2).",
)
def targets_in_total(book: Casebook) -> list[Hit]:
    targets = _targets(book)
    return [
        Hit(
            extra.lesion_id,
            f"{extra.code} is one of {len(targets)} target lesions ({_named(targets)}): RECIST "
            f"1.1 allows at most {MAX_TARGETS} in total (§4.2); the others are followed as "
            "non-target lesions (void the baseline assessment and enter it again).",
        )
        for extra in targets[MAX_TARGETS:]
    ]


@edit_check(
    name="lesion.targets_per_organ",
    version=1,
    form=Form.LESION,
    field="organ",
    kind=Kind.RANGE,
    description="At most 2 target lesions per organ, paired organs and all lymph nodes counted "
    "as one organ (RECIST 1.1 §4.2).",
)
def targets_per_organ(book: Casebook) -> list[Hit]:
    by_organ: dict[str, list[LesionFacts]] = {}
    for target in _targets(book):
        by_organ.setdefault(organ_key(target.organ, target.nodal), []).append(target)
    return [
        Hit(
            extra.lesion_id,
            f"{extra.code} is one of {len(found)} target lesions in the {organ} ({_named(found)}): "
            f"RECIST 1.1 allows at most {MAX_TARGETS_PER_ORGAN} per organ (§4.2; paired organs "
            "and all lymph nodes count as one organ); correct the organ, or follow the extra "
            "lesions as non-target lesions (void the baseline assessment and enter it again).",
        )
        for organ, found in by_organ.items()
        for extra in found[MAX_TARGETS_PER_ORGAN:]
    ]


@edit_check(
    name="prior_therapy.washout_before_first_dose",
    version=1,
    form=Form.PRIOR_THERAPY,
    field="end_date",
    kind=Kind.CROSS_FORM,
    description="A prior systemic therapy or radiotherapy ended before the protocol's washout "
    "before the first dose (exclusion criterion), and not at or after the first dose.",
)
def washout_before_first_dose(book: Casebook) -> list[Hit]:
    first = book.subject.first_dose_date
    washout = book.settings.anticancer_washout_days
    if first is None or washout is None:
        return []
    limit = first - timedelta(days=washout)
    hits = []
    for therapy in book.prior_therapies:
        if therapy.end_earliest is None or therapy.end_latest is None:
            continue  # a surgery: one date, not a therapy given over time
        what = f"'{therapy.treatment}' (ended {therapy.end_text})"
        if therapy.end_latest >= first:
            certain = therapy.end_earliest >= first
            hits.append(
                Hit(
                    therapy.therapy_id,
                    f"{what} {'was' if certain else 'may have been'} still given at the first "
                    f"dose ({first:%Y-%m-%d}): prior anticancer therapy must have ended "
                    f"{washout} days before it; correct the end date, or record it as a "
                    "concomitant medication and a protocol deviation.",
                )
            )
        elif therapy.end_latest > limit:
            certain = therapy.end_earliest > limit
            hits.append(
                Hit(
                    therapy.therapy_id,
                    f"{what} {'ended' if certain else 'may have ended'} within the {washout}-day "
                    f"washout before the first dose ({first:%Y-%m-%d}; it had to end on or "
                    f"before {limit:%Y-%m-%d}): confirm the end date against the source "
                    "(exclusion criterion), or record a protocol deviation.",
                )
            )
    return hits


@edit_check(
    name="survival.new_therapy_before_first_dose",
    version=1,
    form=Form.SURVIVAL,
    field="new_therapy_start",
    kind=Kind.CROSS_FORM,
    description="A survival contact's new anticancer therapy starts after the first dose.",
)
def new_therapy_before_first_dose(book: Casebook) -> list[Hit]:
    first = book.subject.first_dose_date
    if first is None:
        return []
    return [
        Hit(
            contact.contact_id,
            f"The new anticancer therapy '{contact.new_therapy_regimen}' of the "
            f"{contact.contact_date:%Y-%m-%d} contact starts {contact.new_therapy_start:%Y-%m-%d}, "
            f"before the first dose ({first:%Y-%m-%d}): a therapy before the study is a prior "
            "cancer therapy; correct the start date.",
        )
        for contact in book.survival_contacts
        if contact.new_therapy_start is not None and contact.new_therapy_start < first
    ]
