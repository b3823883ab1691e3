"""Every write to an adverse event: report, correct, attest and adjudicate the DLT call, void."""

import re
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from accounts.roles import Capability
from accounts.scoping import can, require
from core import events
from core.dates import refuse_future
from core.errors import FieldErrors, ValidationError, field_error
from core.records import create_record, retry_on_conflict, update_record, void_record
from core.text import free_text_problem
from subjects.models import Subject
from subjects.rules import Refused, Step, refusal

from .models import (
    ADJUDICATED_DLT_RELATED,
    DEFAULT_MEDDRA_VERSION,
    AdverseEvent,
    CtcaeTerm,
    SafetySettings,
)

RESOLVED_OUTCOMES = (AdverseEvent.Outcome.RECOVERED, AdverseEvent.Outcome.SEQUELAE)
ONGOING_OUTCOMES = (AdverseEvent.Outcome.RECOVERING, AdverseEvent.Outcome.NOT_RECOVERED)


# --- The study's safety settings: the protocol file's [safety] section (docs/safety.md §9) ----

SAFETY_KEYS = frozenset({"meddra_version"})
MEDDRA_VERSION_FORMAT = re.compile(r"[0-9]{1,2}\.[0-9]")


def meddra_version_of(study_id: int) -> str:
    """The MedDRA version the study codes adverse events with (CTCAE v5.0's 20.1 by default)."""
    stored = SafetySettings.objects.filter(study_id=study_id).values_list(
        "meddra_version", flat=True
    )
    return next(iter(stored), DEFAULT_MEDDRA_VERSION)


def on_study_loaded(sender, *, study, data: dict, by=None, **kwargs) -> None:
    """trial.services.study_loaded: the [safety] section, when the file has one. Loading the same
    file again changes nothing; a wrong key or value refuses the whole load, naming it."""
    section = data.get("safety")
    if section is None:
        return
    if not isinstance(section, dict):
        raise field_error("safety", "[safety] must be a table of settings.", "invalid")
    unknown = sorted(set(section) - SAFETY_KEYS)
    if unknown:
        raise field_error(
            "safety",
            f"[safety]: unknown setting {', '.join(unknown)} (known: {', '.join(sorted(SAFETY_KEYS))}).",
            "invalid",
        )
    version = section.get("meddra_version", DEFAULT_MEDDRA_VERSION)
    if not isinstance(version, str) or not MEDDRA_VERSION_FORMAT.fullmatch(version):
        raise field_error(
            "safety",
            f'[safety] meddra_version: give the MedDRA version as a text like "20.1" (got '
            f"{version!r}).",
            "invalid",
        )
    row = SafetySettings.objects.filter(study=study).first()
    if row is not None and row.meddra_version == version:
        return
    if row is None:
        row = SafetySettings(study=study)
    row.meddra_version = version
    row.full_clean()
    row._history_user = by
    row._change_reason = "Loaded from the protocol file"
    row.save()
    summary = kwargs.get("summary")
    if summary is not None:
        summary.updated.append(f"safety settings (MedDRA {version})")


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
    _check_sae_awareness(event, errors)
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
    _check_baseline_grade(event, errors)
    verbatim = event.verbatim_term.strip()
    hidden = free_text_problem(verbatim, "The verbatim term")
    if not verbatim:
        errors.add("verbatim_term", "Enter the event as the investigator described it.")
    elif hidden:
        errors.add("verbatim_term", hidden)
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


def _check_baseline_grade(event: AdverseEvent, errors: FieldErrors) -> None:
    """The baseline grade of a pre-existing condition (docs/safety.md §3): a grade the term
    defines, 1 to 4 (a baseline is never death), and not above the event's grade (a grade at
    or below the baseline is recorded, and is not treatment-emergent)."""
    baseline = event.baseline_grade
    if baseline is None:
        return
    term: CtcaeTerm = event.ctcae_term
    if baseline not in term.grades or baseline == 5:
        allowed = ", ".join(str(g) for g in term.grades if g < 5)
        errors.add(
            "baseline_grade",
            f"CTCAE v5.0 defines no baseline grade {baseline} for '{term.term}' "
            f"(grades: {allowed}).",
        )
    elif baseline > event.grade:
        errors.add(
            "baseline_grade",
            f"The baseline grade ({baseline}) cannot be above the event's grade ({event.grade}): "
            "record the event at its current grade, or leave the baseline empty.",
        )


def _to_the_minute(moment: datetime | None) -> datetime | None:
    """Awareness is recorded to the minute, as the form shows and sends it."""
    return moment.replace(second=0, microsecond=0) if moment is not None else None


def site_moment(day: date, at: time, tz_name: str) -> datetime:
    """A date and a local time at the site, as an aware datetime."""
    return datetime.combine(day, at, tzinfo=ZoneInfo(tz_name))


def _check_dates(event: AdverseEvent, errors: FieldErrors) -> None:
    """Onset and resolution: not in the future at the site, onset from informed consent and not
    after death, resolution not before onset."""
    subject = event.subject
    for name in ("onset_date", "resolution_date"):
        try:
            refuse_future(getattr(event, name), field=name, tz_name=subject.site.timezone)
        except ValidationError as error:
            errors.update(error.message_dict)
    if event.onset_time is not None and "onset_date" not in errors:
        try:
            refuse_future(
                site_moment(event.onset_date, event.onset_time, subject.site.timezone),
                field="onset_time",
                tz_name=subject.site.timezone,
            )
        except ValidationError as error:
            errors.add_error(error)
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


def _check_sae_awareness(event: AdverseEvent, errors: FieldErrors) -> None:
    """When the site became aware of an SAE, the start of the 24-hour reporting clock (ICH E2A;
    docs/safety.md §4): required when serious, only then; not in the future, not before the
    onset, not after the SAE was entered."""
    aware = event.sae_awareness_at
    if not event.serious:
        if aware is not None:
            errors.add(
                "sae_awareness_at",
                "The awareness date and time is recorded for a serious adverse event only: mark "
                "the event serious, or leave it empty.",
            )
        return
    if aware is None:
        errors.add(
            "sae_awareness_at",
            "A serious adverse event needs the date and time the site became aware of it: the "
            "24-hour reporting clock starts then.",
        )
        return
    tz_name = event.subject.site.timezone
    try:
        refuse_future(aware, field="sae_awareness_at", tz_name=tz_name)
    except ValidationError as error:
        errors.add_error(error)
        return
    local = aware.astimezone(ZoneInfo(tz_name))
    onset = site_moment(event.onset_date, event.onset_time or time(0, 0), tz_name)
    if aware < onset:
        onset_text = f"{event.onset_date:%Y-%m-%d}" + (
            f" {event.onset_time:%H:%M}" if event.onset_time else ""
        )
        errors.add(
            "sae_awareness_at",
            f"The site cannot have become aware ({local:%Y-%m-%d %H:%M}) before the onset "
            f"({onset_text}, {tz_name}).",
        )
    reported = event.sae_reported_at
    if reported is not None and aware.replace(second=0, microsecond=0) > reported:
        errors.add(
            "sae_awareness_at",
            f"The SAE was entered as serious at "
            f"{reported.astimezone(ZoneInfo(tz_name)):%Y-%m-%d %H:%M} ({tz_name}): the site "
            "was aware of it by then.",
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
    onset_time: time | None = None,
    baseline_grade: int | None = None,
    resolution_date: date | None = None,
    serious: bool = False,
    seriousness: tuple[str, ...] = (),
    sae_awareness_at: datetime | None = None,
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
    attested = _attestation(by, subject, dlt_call=dlt_investigator)
    event = AdverseEvent(
        **attested,
        subject=subject,
        ctcae_term=ctcae_term,
        verbatim_term=(verbatim_term or "").strip(),
        meddra_version=meddra_version_of(subject.study_id),
        grade=grade,
        onset_date=onset_date,
        onset_time=onset_time,
        baseline_grade=baseline_grade,
        resolution_date=resolution_date,
        serious=serious,
        sae_awareness_at=_to_the_minute(sae_awareness_at),
        sae_reported_at=timezone.now() if serious else None,
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


def by_can_attest_dlt(by: User, subject: Subject) -> bool:
    return can(by, Capability.ATTEST_DLT, study_id=subject.study_id, site_id=subject.site_id)


# The fields a DLT call rests on (docs/safety.md §8): changing one clears the investigator's
# attestation, so the call is attested again on what the record now says.
DLT_RELEVANT_FIELDS: tuple[str, ...] = (
    "ctcae_term",
    "grade",
    "onset_date",
    "onset_time",
    "resolution_date",
    "relationship",
    "dlt_investigator",
)


def _attestation(by: User, subject: Subject, *, dlt_call: bool) -> dict:
    """Who attests a DLT call entered by `by`: the investigator's own call is attested at once
    (docs/safety.md §8); a call proposed by another role awaits the investigator."""
    if dlt_call and by_can_attest_dlt(by, subject):
        return {"dlt_attested_by": by, "dlt_attested_at": timezone.now()}
    return {"dlt_attested_by": None, "dlt_attested_at": None}


# What a correction may change, the one list: the correction form (portal/forms.py) and the
# API's update input (api/inputs.py) take theirs from it.
EDITABLE_FIELDS: tuple[str, ...] = (
    "ctcae_term",
    "verbatim_term",
    "grade",
    "baseline_grade",
    "onset_date",
    "onset_time",
    "resolution_date",
    "serious",
    "sae_awareness_at",
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
    if "ctcae_term" in changes and changes["ctcae_term"] != adverse_event.ctcae_term:
        # A new term is a new coding: stamped with the study's MedDRA version now.
        changes = {**changes, "meddra_version": meddra_version_of(subject.study_id)}
    if changes.get("sae_awareness_at") is not None:
        changes = {**changes, "sae_awareness_at": _to_the_minute(changes["sae_awareness_at"])}
    if "serious" in changes and changes["serious"] != adverse_event.serious:
        # The 24-hour clock ends when the record first says "serious" (docs/safety.md §4); an
        # event no longer serious has no awareness date or report time (the history keeps them).
        if changes["serious"]:
            changes = {**changes, "sae_reported_at": timezone.now()}
        else:
            changes = {**changes, "sae_reported_at": None, "sae_awareness_at": None}
    touched = any(
        name in changes and changes[name] != getattr(adverse_event, name)
        for name in DLT_RELEVANT_FIELDS
    )
    if touched:
        dlt_call = changes.get("dlt_investigator", adverse_event.dlt_investigator)
        changes = {**changes, **_attestation(by, subject, dlt_call=dlt_call)}
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
def attest_dlt_call(
    *, by: User, adverse_event: AdverseEvent, expected_version: int | None
) -> AdverseEvent:
    """The investigator attests the DLT call a coordinator proposed (docs/safety.md §8): who
    and when are stored on the record, and the audit trail keeps the step. Until then the call
    counts as a DLT (the safe side) and the committee cannot sign on it (docs/escalation.md §7)."""
    subject = adverse_event.subject
    require(by, Capability.ATTEST_DLT, study_id=subject.study_id, site_id=subject.site_id)
    if not adverse_event.dlt_investigator:
        raise field_error(
            "dlt_investigator",
            "There is no DLT call on this event to attest: the investigator's call is 'not a DLT'.",
            "no_dlt_call",
        )
    if adverse_event.dlt_attested_at is not None:
        raise field_error(
            "dlt_attested_at", "The investigator has already attested this DLT call.", "attested"
        )
    with transaction.atomic():
        adverse_event = update_record(
            adverse_event,
            by=by,
            changes={"dlt_attested_by": by, "dlt_attested_at": timezone.now()},
            reason="DLT call attested by the investigator",
            expected_version=expected_version,
            validate=_validate_attestation,
        )
        _announce(adverse_event, "updated", by)
    return adverse_event


def _validate_attestation(event: AdverseEvent) -> None:
    if not event.dlt_investigator:
        raise field_error("dlt_investigator", "There is no DLT call on this event to attest.")


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
