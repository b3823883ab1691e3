"""Every write to an adverse event: report, correct, adjudicate the DLT call, void."""

from datetime import date

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from accounts.roles import Capability
from accounts.scoping import can, require
from core import events
from core.dates import refuse_future
from core.errors import FieldErrors, ValidationError, field_error
from core.records import create_record, retry_on_conflict, update_record, void_record
from subjects.models import Subject
from subjects.rules import Refused, Step, refusal

from .models import ADJUDICATED_DLT_RELATED, AdverseEvent, CtcaeTerm

RESOLVED_OUTCOMES = (AdverseEvent.Outcome.RECOVERED, AdverseEvent.Outcome.SEQUELAE)
ONGOING_OUTCOMES = (AdverseEvent.Outcome.RECOVERING, AdverseEvent.Outcome.NOT_RECOVERED)


def _announce(record, action: str, by: User) -> None:
    """Tell the layers above (escalation evaluation, notifications) inside this transaction."""
    events.clinical_data_changed(
        subject_id=record.subject_id,
        record="adverse_event",
        record_id=record.pk,
        action=action,
        by=by,
    )


def _validate_adverse_event(event: AdverseEvent) -> None:
    """The adverse event rules (docs/safety.md §2, §5), checked on every entry and correction.
    Raises with every problem, each on its field."""
    errors = FieldErrors()
    _check_term(event, errors)
    _check_dates(event, errors)
    _check_outcome(event, errors)
    _check_seriousness(event, errors)
    _check_dlt_calls(event, errors)
    errors.raise_if_any()


def _check_term(event: AdverseEvent, errors: FieldErrors) -> None:
    """The CTCAE term: a grade it defines, and the event as the investigator described it."""
    term: CtcaeTerm = event.ctcae_term
    if event.grade not in term.grades:
        allowed = ", ".join(str(g) for g in term.grades)
        errors.add(
            "grade",
            f"CTCAE v5.0 defines no grade {event.grade} for '{term.term}' (grades: {allowed}).",
        )
    verbatim = event.verbatim_term.strip()
    if not verbatim:
        errors.add("verbatim_term", "Enter the event as the investigator described it.")
    elif term.is_other_specify and verbatim.casefold() in (
        term.term.casefold(),
        "other",
        "other, specify",
    ):
        # CTCAE v5.0: an "Other, specify" term is reported with the event named (docs/safety.md §7).
        errors.add(
            "verbatim_term",
            f"'{term.term}' is reported with the event named: enter what happened, as the "
            "investigator described it.",
        )


def _check_dates(event: AdverseEvent, errors: FieldErrors) -> None:
    """Onset and resolution: not in the future at the site, onset from informed consent and not
    after death, resolution not before onset."""
    subject = event.subject
    for name in ("onset_date", "resolution_date"):
        try:
            refuse_future(getattr(event, name), field=name, tz_name=subject.site.timezone)
        except ValidationError as error:
            errors.update(error.message_dict)
    if subject.consent_date is None:
        errors.add(
            "onset_date",
            "Adverse events are collected from informed consent, which is not recorded yet.",
        )
    elif event.onset_date < subject.consent_date:
        errors.add("onset_date", f"Onset cannot precede informed consent ({subject.consent_date}).")
    if subject.death_date and event.onset_date > subject.death_date:
        errors.add("onset_date", f"Onset cannot follow the date of death ({subject.death_date}).")
    if event.resolution_date and event.resolution_date < event.onset_date:
        errors.add("resolution_date", "Resolution cannot precede onset.")


def _check_outcome(event: AdverseEvent, errors: FieldErrors) -> None:
    """The outcome agrees with the resolution date, and grade 5 with a fatal outcome and a
    recorded death."""
    if event.outcome in RESOLVED_OUTCOMES and event.resolution_date is None:
        errors.add(
            "resolution_date", f"Outcome '{event.get_outcome_display()}' needs the resolution date."
        )
    if event.outcome in ONGOING_OUTCOMES and event.resolution_date is not None:
        errors.add("outcome", "The event has a resolution date, so it is no longer ongoing.")
    if event.grade == 5:
        if event.outcome != AdverseEvent.Outcome.FATAL:
            errors.add("outcome", "Grade 5 is death related to the event: the outcome is fatal.")
        if event.subject.death_date is None:
            errors.add(
                "grade", "Grade 5 needs the subject's date of death: record the death first."
            )
    elif event.outcome == AdverseEvent.Outcome.FATAL:
        errors.add("outcome", "A fatal outcome is CTCAE grade 5.")


def _check_seriousness(event: AdverseEvent, errors: FieldErrors) -> None:
    """Serious with at least one criterion, criteria only when serious (ICH E2A); grade 5
    results in death."""
    criteria = [name for name, _ in AdverseEvent.SERIOUSNESS_CRITERIA if getattr(event, name)]
    if event.serious and not criteria:
        errors.add("serious", "A serious adverse event needs at least one seriousness criterion.")
    if criteria and not event.serious:
        errors.add("serious", "Seriousness criteria are given: mark the event serious.")
    if event.grade == 5 and not event.serious_death:
        errors.add(
            "serious_death", "A grade 5 event is serious, with the criterion 'results in death'."
        )


def _check_dlt_calls(event: AdverseEvent, errors: FieldErrors) -> None:
    """A DLT call, the investigator's or the committee's, needs an event at least possibly
    related (docs/escalation.md §2.3)."""
    related = event.relationship in AdverseEvent.RELATED
    if event.dlt_investigator and not related:
        errors.add("dlt_investigator", "A DLT must be at least possibly related to the study drug.")
    if event.dlt_adjudicated and not related:
        # The committee's call is the committee's to change (docs/safety.md §6).
        errors.add("relationship", ADJUDICATED_DLT_RELATED)


@retry_on_conflict
def adverse_event_report(
    *,
    by: User,
    subject: Subject,
    ctcae_term: CtcaeTerm,
    verbatim_term: str,
    grade: int,
    onset_date: date,
    relationship: str,
    action_taken: str,
    outcome: str,
    resolution_date: date | None = None,
    serious: bool = False,
    seriousness: tuple[str, ...] = (),
    dlt_investigator: bool = False,
) -> AdverseEvent:
    """Report an adverse event graded by CTCAE v5.0. `seriousness` names the criteria fields."""
    require(by, Capability.ENTER_DATA, study_id=subject.study_id, site_id=subject.site_id)
    # Without informed consent the step is refused too; the event's own rules say so on its
    # onset date, with every other problem of the entry (`_validate_adverse_event`).
    if refusal(Step.ADVERSE_EVENT, subject.rule_state) is Refused.SCREEN_FAILED:
        raise field_error(
            "subject",
            f"{subject} is a screen failure: no adverse events are collected.",
            "wrong_status",
        )
    known = {name for name, _ in AdverseEvent.SERIOUSNESS_CRITERIA}
    unknown = set(seriousness) - known
    if unknown:
        raise field_error(
            "seriousness", f"Unknown seriousness criteria: {', '.join(sorted(unknown))}.", "invalid"
        )
    if dlt_investigator and not by_can_assess_dlt(by, subject):
        raise field_error(
            "dlt_investigator", "Your role cannot make the investigator's DLT call.", "forbidden"
        )
    event = AdverseEvent(
        subject=subject,
        ctcae_term=ctcae_term,
        verbatim_term=(verbatim_term or "").strip(),
        grade=grade,
        onset_date=onset_date,
        resolution_date=resolution_date,
        serious=serious,
        relationship=relationship,
        action_taken=action_taken,
        outcome=outcome,
        dlt_investigator=dlt_investigator,
        **{name: True for name in seriousness},
    )
    with transaction.atomic():
        _validate_adverse_event(event)
        create_record(event, by=by, reason="Adverse event reported")
        _announce(event, "created", by)
    return event


def by_can_assess_dlt(by: User, subject: Subject) -> bool:
    return can(by, Capability.ASSESS_DLT, study_id=subject.study_id, site_id=subject.site_id)


# What a correction may change, the one list: the correction form (portal/forms.py) and the
# API's update input (api/inputs.py) take theirs from it.
EDITABLE_FIELDS: tuple[str, ...] = (
    "ctcae_term",
    "verbatim_term",
    "grade",
    "onset_date",
    "resolution_date",
    "serious",
    "relationship",
    "action_taken",
    "outcome",
    "dlt_investigator",
    *(name for name, _ in AdverseEvent.SERIOUSNESS_CRITERIA),
)


@retry_on_conflict
def adverse_event_update(
    *,
    by: User,
    adverse_event: AdverseEvent,
    changes: dict,
    reason: str,
    expected_version: int | None,
) -> AdverseEvent:
    """Correct an adverse event, with a reason; the history shows old and new values."""
    subject = adverse_event.subject
    require(by, Capability.EDIT_DATA, study_id=subject.study_id, site_id=subject.site_id)
    not_editable = set(changes) - set(EDITABLE_FIELDS)
    if not_editable:
        raise ValidationError({n: ["This field cannot be edited here."] for n in not_editable})
    if (
        "dlt_investigator" in changes
        and changes["dlt_investigator"] != adverse_event.dlt_investigator
    ) and not by_can_assess_dlt(by, subject):
        raise field_error(
            "dlt_investigator",
            "Your role cannot make the investigator's DLT call.",
            "forbidden",
        )
    with transaction.atomic():
        adverse_event = update_record(
            adverse_event,
            by=by,
            changes=changes,
            reason=reason,
            expected_version=expected_version,
            validate=_validate_adverse_event,
        )
        _announce(adverse_event, "updated", by)
    return adverse_event


@retry_on_conflict
def adverse_event_adjudicate(
    *, by: User, adverse_event: AdverseEvent, is_dlt: bool, note: str, expected_version: int | None
) -> AdverseEvent:
    """The Safety Review Committee's DLT call, kept apart from the investigator's (docs/escalation.md §2.3)."""
    subject = adverse_event.subject
    require(by, Capability.ADJUDICATE_DLT, study_id=subject.study_id)
    with transaction.atomic():
        adverse_event = update_record(
            adverse_event,
            by=by,
            changes={
                "dlt_adjudicated": bool(is_dlt),
                "dlt_adjudicated_at": timezone.now(),
                "dlt_adjudication_note": (note or "").strip(),
            },
            reason=f"DLT adjudicated: {'DLT' if is_dlt else 'not a DLT'}. {note}".strip(),
            expected_version=expected_version,
            validate=_validate_adjudication,
        )
        _announce(adverse_event, "updated", by)
    return adverse_event


def _validate_adjudication(event: AdverseEvent) -> None:
    if event.dlt_adjudicated and event.relationship not in AdverseEvent.RELATED:
        raise field_error(
            "dlt_adjudicated", "A DLT must be at least possibly related to the study drug."
        )


@retry_on_conflict
def adverse_event_void(
    *, by: User, adverse_event: AdverseEvent, reason: str, expected_version: int | None
) -> AdverseEvent:
    subject = adverse_event.subject
    require(by, Capability.EDIT_DATA, study_id=subject.study_id, site_id=subject.site_id)
    with transaction.atomic():
        adverse_event = void_record(
            adverse_event, by=by, reason=reason, expected_version=expected_version
        )
        _announce(adverse_event, "voided", by)
    return adverse_event
