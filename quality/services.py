"""Every write of data quality and sign-off (docs/quality.md): edit checks and their queries,
the query workflow, source data verification, the investigator's casebook signature, frozen
forms, locked subjects and the locked study database.

Each service checks the caller's access through accounts.scoping, validates with messages that
name the field, and saves inside one transaction with the user and the reason in the audit
history (simple-history). Two hooks connect the clinical services to this app, both registered
in QualityConfig.ready:

- `refuse_locked_write` runs before every create, correction and void of a clinical record
  (core.records): the one place that refuses writes to frozen or locked data.
- `on_clinical_data_changed` runs after each (core.events, inside the same transaction): the
  edit checks of the subject, clearing source data verification of what changed, and
  invalidating the casebook signature.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.utils import timezone

from accounts.roles import Capability, Role
from accounts.scoping import require, roles_in_study
from core.errors import RecordLocked, StaleRecord, ValidationError, field_error
from core.events import ClinicalDataChanged
from core.models import Signature
from core.records import changes_since, check_signing_password, record_digest, require_reason
from dosing.models import DoseAdministration
from efficacy.models import Lesion
from efficacy.selectors import subject_lesions
from escalation.triggers import request_evaluation
from safety.models import AdverseEvent
from subjects.models import Subject
from trial.models import EscalationTrack, Study
from visits.models import LabResult, PriorCancerTherapy, SurvivalContact, Visit
from visits.rules.errors import VisitsInputError
from visits.rules.history import partial_day
from visits.selectors import lab_windows

from .models import (
    FORM_LABELS,
    CasebookSignature,
    Freeze,
    QualitySettings,
    Query,
    QueryMessage,
    StudyLock,
    SubjectLock,
    Verification,
)
from .rules import (
    REGISTRY,
    AdverseEventFacts,
    Casebook,
    CheckSettings,
    DoseFacts,
    Finding,
    Form,
    LabResultFacts,
    LesionFacts,
    PriorTherapyFacts,
    SubjectFacts,
    SurvivalContactFacts,
    forms_read,
    run_checks,
)

TEXT_MAX_LENGTH = 2000

# --- The casebook's forms ------------------------------------------------------------------

FORM_MODELS = {
    "subject": Subject,
    "dose": DoseAdministration,
    "adverse_event": AdverseEvent,
    "lab_result": LabResult,
    "lesion": Lesion,
    "prior_therapy": PriorCancerTherapy,
    "survival": SurvivalContact,
}


def form_of(instance) -> str | None:
    for name, model in FORM_MODELS.items():
        if isinstance(instance, model):
            return name
    return None


def record_of(form: str, record_id: int):
    """The record of a form (voided ones included), or a field error."""
    model = FORM_MODELS.get(form)
    if model is None:
        raise field_error("form", f"Not a casebook form: {form!r}.", "invalid")
    record = model.all_objects.filter(pk=record_id).first()
    if record is None:
        raise field_error("record_id", f"No {FORM_LABELS[form].lower()} {record_id}.", "not_found")
    return record


def _subject_of(form: str, record) -> Subject:
    return record if form == "subject" else record.subject


def _field_names(form: str) -> set[str]:
    return {f.name for f in FORM_MODELS[form]._meta.concrete_fields}


def _check_record(subject: Subject, form: str, record_id: int, field: str):
    record = record_of(form, record_id)
    if _subject_of(form, record).pk != subject.pk:
        raise field_error(
            "record_id", f"{FORM_LABELS[form]} {record_id} is not {subject}'s.", "wrong_subject"
        )
    if field and field not in _field_names(form):
        raise field_error("field", f"{FORM_LABELS[form]} has no field {field!r}.", "unknown_field")
    return record


def _text(value: str | None, field: str, *, required: bool = True) -> str:
    text = (value or "").strip()
    if required and not text:
        raise field_error(field, "Write the text.", "required")
    if len(text) > TEXT_MAX_LENGTH:
        raise field_error(field, f"Keep it under {TEXT_MAX_LENGTH} characters.", "max_length")
    if "\x00" in text:
        raise field_error(field, "Null characters are not allowed.", "invalid")
    return text


def _save(instance, *, by, reason: str) -> None:
    instance.full_clean()
    instance._history_user = by
    instance._change_reason = reason
    instance.save()


def settings_for(study: Study) -> QualitySettings:
    """The study's quality settings (the defaults of docs/quality.md §6 until the protocol file
    sets them)."""
    existing = QualitySettings.objects.filter(study=study).first()
    if existing is not None:
        return existing
    return QualitySettings(study=study, sdv_forms=list(DEFAULT_SDV_FORMS))


DEFAULT_SDV_FORMS = ("subject", "dose", "adverse_event")
SETTING_KEYS = {
    "sdv_forms",
    "weight_expected_min_kg",
    "weight_expected_max_kg",
    "two_factor_roles",
    "anticancer_washout_days",
}


def apply_protocol_settings(study: Study, section: dict, *, by=None) -> QualitySettings:
    """The protocol file's [quality] section (trial.services.load_study sends it): unknown keys
    and forms are refused by name."""
    unknown = set(section) - SETTING_KEYS
    if unknown:
        raise ValidationError(
            {"quality": f"Unknown quality settings: {', '.join(sorted(unknown))}."}
        )
    values = {}
    if "sdv_forms" in section:
        forms = list(section["sdv_forms"])
        wrong = [f for f in forms if f not in FORM_MODELS]
        if wrong:
            raise ValidationError({"quality": f"sdv_forms: not a form: {', '.join(wrong)}."})
        values["sdv_forms"] = forms
    if "two_factor_roles" in section:
        roles = list(section["two_factor_roles"])
        wrong = [r for r in roles if r not in {role.value for role in Role}]
        if wrong:
            raise ValidationError({"quality": f"two_factor_roles: not a role: {', '.join(wrong)}."})
        values["two_factor_roles"] = roles
    for key in ("weight_expected_min_kg", "weight_expected_max_kg"):
        if key in section:
            values[key] = str(section[key])
    if "anticancer_washout_days" in section:
        days = section["anticancer_washout_days"]
        if isinstance(days, bool) or not isinstance(days, int) or not 0 < days <= 365:
            raise ValidationError(
                {"quality": "anticancer_washout_days: a whole number of days, 1 to 365."}
            )
        values["anticancer_washout_days"] = days
    current = settings_for(study)
    for key, value in values.items():
        setattr(current, key, value)
    _save(current, by=by, reason="Loaded from the protocol file")
    return current


def on_study_loaded(sender, *, study: Study, data: dict, by=None, **kwargs) -> None:
    """trial.services.study_loaded: the [quality] section, when the file has one. Loading the
    same file again changes nothing."""
    section = data.get("quality")
    if section is None:
        return
    current = settings_for(study)
    if current.pk is not None and all(
        _same(getattr(current, key), value) for key, value in section.items() if key in SETTING_KEYS
    ):
        return
    apply_protocol_settings(study, section, by=by)


def _same(stored, loaded) -> bool:
    if isinstance(stored, Decimal):
        return stored == Decimal(str(loaded))
    return stored == loaded


# --- Frozen and locked data: the one check --------------------------------------------------


@dataclass(frozen=True)
class WriteTarget:
    study_id: int
    subject_id: int | None
    form: str | None
    record_id: int | None


def _subject_path(model) -> str | None:
    """The path from a casebook record to its subject, from its scoping declaration
    ("subject__site" -> "subject"; "sample__subject__site" -> "sample__subject")."""
    site_path = getattr(model, "scope_site", None) or ""
    if site_path == "subject__site" or site_path.endswith("__subject__site"):
        return site_path[: -len("__site")]
    return None


def _subject_id_of(instance) -> int | None:
    if isinstance(instance, Subject):
        return instance.pk
    path = _subject_path(type(instance))
    if path is None:
        return None
    *hops, last = path.split("__")
    target = instance
    for hop in hops:
        target = getattr(target, hop, None)
        if target is None:
            return None
    return getattr(target, f"{last}_id", None)


def casebook_models() -> list:
    """Every clinical record model that belongs to a subject's casebook (besides the subject)."""
    from django.apps import apps

    from core.models import ClinicalRecord

    return sorted(
        (
            m
            for m in apps.get_models()
            if issubclass(m, ClinicalRecord) and m is not Subject and _subject_path(m)
        ),
        key=lambda m: m._meta.label,
    )


def _target(instance) -> WriteTarget | None:
    if isinstance(instance, Subject):
        return WriteTarget(instance.study_id, instance.pk, "subject", instance.pk)
    subject_id = _subject_id_of(instance)
    if subject_id is None:
        return None
    study_id = Subject.all_objects.filter(pk=subject_id).values_list("study_id", flat=True).first()
    if study_id is None:
        return None
    return WriteTarget(study_id, subject_id, form_of(instance), instance.pk)


def _hold_against_locking(study_id: int, subject_id: int | None) -> None:
    """On PostgreSQL, share the study's and the subject's rows (FOR KEY SHARE) until commit:
    locking takes them FOR UPDATE, so a write either finishes before a lock or waits for it and
    then sees it (docs/quality.md §5). KEY SHARE does not block the clinical services' own row
    locks (FOR NO KEY UPDATE), so no new lock order arises among them."""
    if connection.vendor != "postgresql":
        return  # SQLite runs one write transaction at a time
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT 1 FROM {Study._meta.db_table} WHERE id = %s FOR KEY SHARE", [study_id]
        )
        if subject_id is not None:
            cursor.execute(
                f"SELECT 1 FROM {Subject._meta.db_table} WHERE id = %s FOR KEY SHARE",
                [subject_id],
            )


def refuse_if_locked(
    *, study_id: int, subject_id: int | None, form: str | None = None, record_id: int | None = None
) -> None:
    """Refuse (RecordLocked) a write to a locked study database, a locked subject, or a frozen
    form. Called by every write of a clinical record and of this app."""
    _hold_against_locking(study_id, subject_id)
    study_lock = StudyLock.objects.filter(study_id=study_id, unlocked_at__isnull=True).first()
    if study_lock is not None:
        raise RecordLocked(
            f"The study database is locked (since {study_lock.locked_at:%Y-%m-%d %H:%M} UTC): "
            "it is read-only for everyone until it is unlocked."
        )
    if subject_id is None:
        return
    subject_lock = (
        SubjectLock.objects.filter(subject_id=subject_id, unlocked_at__isnull=True)
        .select_related("subject")
        .first()
    )
    if subject_lock is not None:
        raise RecordLocked(
            f"{subject_lock.subject} is locked (since {subject_lock.locked_at:%Y-%m-%d %H:%M} "
            "UTC): no change until the data manager unlocks the subject with a reason."
        )
    if form is not None and record_id is not None:
        frozen = Freeze.objects.filter(
            form=form, record_id=record_id, unfrozen_at__isnull=True
        ).first()
        if frozen is not None:
            raise RecordLocked(
                f"This {FORM_LABELS.get(form, form).lower()} is frozen (since "
                f"{frozen.frozen_at:%Y-%m-%d %H:%M} UTC): the data manager unfreezes it, with a "
                "reason, before it can be changed."
            )


def refuse_study_write(study_id: int) -> None:
    """core.events study write guard: the writes of a study that are not a subject's record
    (committee decisions, stored recommendations) are refused while the study database is
    locked (docs/quality.md §5)."""
    refuse_if_locked(study_id=study_id, subject_id=None)


def refuse_locked_write(instance) -> None:
    """core.events write guard: before every create, correction and void of a clinical record."""
    target = _target(instance)
    if target is None:
        return
    refuse_if_locked(
        study_id=target.study_id,
        subject_id=target.subject_id,
        form=target.form,
        record_id=target.record_id if instance.pk is not None else None,
    )


def _refuse_if_subject_locked(subject: Subject) -> None:
    refuse_if_locked(study_id=subject.study_id, subject_id=subject.pk)


# --- After each clinical write --------------------------------------------------------------


def on_record_written(instance, by) -> None:
    """core.events after-write hook, for every form of the casebook: clear the verifications
    of what changed, invalidate the casebook signature if its content changed."""
    subject_id = _subject_id_of(instance)
    if subject_id is None:
        return
    form = form_of(instance)
    if form is not None:
        _clear_changed_verifications(form, instance.pk, by=by)
    _invalidate_casebook_signatures(subject_id, by=by)
    checks = _checks_on_write(instance)
    if checks:
        subject = Subject.all_objects.select_related("study", "site").get(pk=subject_id)
        if subject.voided_at is None:
            run_edit_checks(subject, by=by, names=checks)


def _checks_on_write(instance) -> list[str]:
    """The edit checks a write of this record runs (docs/quality.md §1). The subject's, a
    dose's and an adverse event's services announce their changes (core.events), and run every
    check there; a lab result or a visit (whose date may anchor the calendar) runs the lab
    checks, a lesion the lesion checks, a prior cancer therapy the washout check and a survival
    contact the new therapy check."""
    if isinstance(instance, (LabResult, Visit)):
        forms = {Form.LAB_RESULT}
    elif isinstance(instance, Lesion):
        forms = {Form.LESION}
    elif isinstance(instance, PriorCancerTherapy):
        forms = {Form.PRIOR_THERAPY}
    elif isinstance(instance, SurvivalContact):
        forms = {Form.SURVIVAL}
    else:
        return []
    return [name for name, check in REGISTRY.items() if check.form in forms]


def on_clinical_data_changed(event: ClinicalDataChanged) -> None:
    """core.events subscriber, inside the writing service's transaction: the edit checks."""
    subject = Subject.all_objects.select_related("study", "site").get(pk=event.subject_id)
    if subject.voided_at is None:
        run_edit_checks(subject, by=_user(event.by_id))


def _user(pk: int | None):
    if pk is None:
        return None
    from accounts.models import User

    return User.objects.filter(pk=pk).first()


# --- Edit checks ----------------------------------------------------------------------------


def casebook_facts(subject: Subject, names: list[str] | None = None) -> Casebook:
    """The subject's casebook as the rules core reads it (non-voided records only): the
    subject's facts and the forms the checks (or those named) read."""
    study = subject.study
    criterion = study.age_criterion()
    answer = subject.eligibility_answers.get(criterion) if criterion else None
    forms = forms_read(names)
    return Casebook(
        SubjectFacts(
            subject_id=subject.pk,
            year_of_birth=subject.year_of_birth,
            consent_date=subject.consent_date,
            min_age_years=study.min_age_years,
            age_criterion_answer=answer if isinstance(answer, bool) else None,
            enrolled=subject.is_enrolled,
            end_of_treatment_date=subject.end_of_treatment_date,
            first_dose_date=_first_dose(subject) if forms & FIRST_DOSE_FORMS else None,
        ),
        doses=_dose_facts(subject) if Form.DOSE in forms else (),
        adverse_events=_event_facts(subject) if Form.ADVERSE_EVENT in forms else (),
        settings=_check_settings(study) if forms & SETTINGS_FORMS else CheckSettings(),
        lab_results=_lab_facts(subject) if Form.LAB_RESULT in forms else (),
        lesions=_lesion_facts(subject) if Form.LESION in forms else (),
        prior_therapies=_prior_therapy_facts(subject) if Form.PRIOR_THERAPY in forms else (),
        survival_contacts=_survival_facts(subject) if Form.SURVIVAL in forms else (),
    )


# The forms whose checks read the first dose, and the study's check settings.
FIRST_DOSE_FORMS = {Form.PRIOR_THERAPY, Form.SURVIVAL}
SETTINGS_FORMS = {Form.DOSE, Form.PRIOR_THERAPY}


def _first_dose(subject: Subject) -> date | None:
    return (
        DoseAdministration.objects.filter(subject=subject)
        .order_by("administered_on")
        .values_list("administered_on", flat=True)
        .first()
    )


def _prior_therapy_facts(subject: Subject) -> tuple[PriorTherapyFacts, ...]:
    """Each prior therapy with the days its end may be (docs/visits.md §11.1: a date as far as
    known stands for the range of days it may be); an end that cannot be read has none."""
    facts = []
    for therapy in PriorCancerTherapy.objects.filter(subject=subject).order_by("pk"):
        earliest = latest = None
        if therapy.end_date:
            try:
                end = partial_day(therapy.end_date, "end_date")
                earliest, latest = end.earliest, end.latest
            except VisitsInputError:
                pass
        facts.append(
            PriorTherapyFacts(
                therapy.pk,
                therapy.treatment,
                therapy.therapy_type,
                therapy.end_date,
                earliest,
                latest,
            )
        )
    return tuple(facts)


def _survival_facts(subject: Subject) -> tuple[SurvivalContactFacts, ...]:
    return tuple(
        SurvivalContactFacts(c.pk, c.contact_date, c.new_therapy_regimen, c.new_therapy_start)
        for c in SurvivalContact.objects.filter(subject=subject, new_therapy=True).order_by(
            "contact_date", "pk"
        )
    )


def _dose_facts(subject: Subject) -> tuple[DoseFacts, ...]:
    return tuple(
        DoseFacts(d.pk, d.administered_on, d.body_weight_kg, f"C{d.cycle}D{d.day}")
        for d in DoseAdministration.objects.filter(subject=subject).order_by(
            "administered_on", "pk"
        )
    )


def _event_facts(subject: Subject) -> tuple[AdverseEventFacts, ...]:
    return tuple(
        AdverseEventFacts(ae.pk, ae.ctcae_term.term, ae.onset_date, ae.action_taken)
        for ae in AdverseEvent.objects.filter(subject=subject)
        .select_related("ctcae_term")
        .order_by("onset_date", "pk")
    )


def _check_settings(study: Study) -> CheckSettings:
    settings = settings_for(study)
    return CheckSettings(
        weight_expected_min_kg=settings.weight_expected_min_kg,
        weight_expected_max_kg=settings.weight_expected_max_kg,
        anticancer_washout_days=settings.anticancer_washout_days,
    )


def _lab_facts(subject: Subject) -> tuple[LabResultFacts, ...]:
    """Each lab result with its visit's window on the subject's calendar (visits selectors)."""
    return tuple(
        LabResultFacts(
            lab.result.pk,
            lab.result.test,
            lab.result.sampled_on,
            lab.result.visit.code,
            *(lab.window or (None, None)),
        )
        for lab in lab_windows(subject)
    )


def _lesion_facts(subject: Subject) -> tuple[LesionFacts, ...]:
    """The lesions of the tumour assessments (efficacy selectors)."""
    return tuple(
        LesionFacts(lesion.pk, lesion.code, lesion.role, lesion.organ, lesion.nodal)
        for lesion in subject_lesions(subject)
    )


def _record_version(form: str, record_id: int) -> int:
    return (
        FORM_MODELS[form].all_objects.filter(pk=record_id).values_list("version", flat=True).first()
        or 1
    )


def run_edit_checks(subject: Subject, *, by=None, names: list[str] | None = None) -> list[Query]:
    """Run the registered checks (or those named) on the subject's casebook and bring its
    edit-check queries up to date: a new finding opens a query on its field with the check's
    message; an unresolved query whose finding is gone is closed as resolved by the data.
    A query a person closed is not raised again for the same finding (same message); one the
    data resolved is, if the finding comes back.
    Returns the queries opened."""
    findings = run_checks(casebook_facts(subject, names), names)
    checks_run = set(names) if names is not None else set(REGISTRY)
    existing = list(Query.objects.filter(subject=subject, origin=Query.Origin.EDIT_CHECK))
    unresolved = {_key(q): q for q in existing if q.is_unresolved}
    # Closed by a person (accepted as it is); one the data resolved is raised again if the
    # finding comes back.
    closed_messages = {
        (_key(q), q.text) for q in existing if not q.is_unresolved and q.closed_by_id is not None
    }
    found = {f.key for f in findings}
    now = timezone.now()
    opened = []
    for finding in findings:
        if finding.key in unresolved or (finding.key, finding.message) in closed_messages:
            continue
        opened.append(_open_from_check(subject, finding, by=by, at=now))
    for key, query in unresolved.items():
        if key not in found and query.check_name in checks_run:
            query.version += 1
            query.status = Query.Status.CLOSED
            query.closed_at = now
            query.closed_by = None
            _save(
                query,
                by=by,
                reason=f"Resolved by a data change: {query.check_name} no longer fires",
            )
            QueryMessage.objects.create(
                query=query,
                action=QueryMessage.Action.RESOLVED,
                text="The data no longer raise this check.",
                by=by,
                at=now,
            )
    return opened


def _key(query: Query) -> tuple[str, str, int, str]:
    return (query.check_name, query.form, query.record_id, query.field)


def _open_from_check(subject: Subject, finding: Finding, *, by, at) -> Query:
    query = Query(
        study_id=subject.study_id,
        site_id=subject.site_id,
        subject=subject,
        form=finding.form.value,
        record_id=finding.record_id,
        field=finding.field,
        origin=Query.Origin.EDIT_CHECK,
        check_name=finding.check,
        check_version=finding.version,
        text=finding.message,
        record_version=_record_version(finding.form.value, finding.record_id),
        opened_at=at,
    )
    _save(query, by=by, reason=f"Raised by edit check {finding.check} v{finding.version}")
    QueryMessage.objects.create(
        query=query, action=QueryMessage.Action.OPENED, text=finding.message, by=None, at=at
    )
    return query


def edit_checks_run(*, by, subject: Subject, names: list[str] | None = None) -> list[Query]:
    """Run the edit checks on demand (a monitor or data manager), as on save."""
    require(by, Capability.MANAGE_QUERIES, study_id=subject.study_id, site_id=subject.site_id)
    unknown = sorted(set(names or ()) - set(REGISTRY))
    if unknown:
        raise field_error("checks", f"No such edit check: {', '.join(unknown)}.", "unknown")
    with transaction.atomic():
        _refuse_if_subject_locked(subject)
        return run_edit_checks(subject, by=by, names=names)


# --- The query workflow (docs/quality.md §2) ------------------------------------------------


def query_open(
    *, by, subject: Subject, form: str, record_id: int, field: str = "", text: str
) -> Query:
    """A monitor's or data manager's query on a field (or, with no field, the whole form)."""
    require(by, Capability.MANAGE_QUERIES, study_id=subject.study_id, site_id=subject.site_id)
    text = _text(text, "text")
    field = (field or "").strip()
    record = _check_record(subject, form, record_id, field)
    with transaction.atomic():
        _refuse_if_subject_locked(subject)
        now = timezone.now()
        query = Query(
            study_id=subject.study_id,
            site_id=subject.site_id,
            subject=subject,
            form=form,
            record_id=record_id,
            field=field,
            origin=Query.Origin.MANUAL,
            text=text,
            record_version=record.version,
            opened_by=by,
            opened_at=now,
        )
        _save(query, by=by, reason="Query opened")
        QueryMessage.objects.create(
            query=query, action=QueryMessage.Action.OPENED, text=text, by=by, at=now
        )
    return query


def _locked_query(query: Query, expected_version: int | None) -> Query:
    """The query's row, locked for the step; refused if someone took a step since the version
    the caller saw (the API's If-Match)."""
    current = Query.objects.select_for_update().select_related("subject").get(pk=query.pk)
    if expected_version is not None and current.version != expected_version:
        raise StaleRecord(
            record=current,
            expected_version=expected_version,
            changes=changes_since(current, expected_version),
        )
    current.version += 1
    return current


def query_answer(*, by, query: Query, text: str, expected_version: int | None = None) -> Query:
    """The site's answer to an open query (the correction itself goes through the form)."""
    require(by, Capability.ANSWER_QUERIES, study_id=query.study_id, site_id=query.site_id)
    text = _text(text, "text")
    with transaction.atomic():
        _refuse_if_subject_locked(query.subject)
        query = _locked_query(query, expected_version)
        if query.status != Query.Status.OPEN:
            raise field_error(
                "status",
                f"This query is {query.get_status_display().lower()}: only an open "
                "query is answered.",
                "wrong_status",
            )
        now = timezone.now()
        query.status = Query.Status.ANSWERED
        query.answered_at = now
        _save(query, by=by, reason=f"Query answered: {text}")
        QueryMessage.objects.create(
            query=query, action=QueryMessage.Action.ANSWERED, text=text, by=by, at=now
        )
    return query


def query_close(*, by, query: Query, text: str = "", expected_version: int | None = None) -> Query:
    """The monitor closes an open or answered query."""
    require(by, Capability.MANAGE_QUERIES, study_id=query.study_id, site_id=query.site_id)
    text = _text(text, "text", required=False)
    with transaction.atomic():
        _refuse_if_subject_locked(query.subject)
        query = _locked_query(query, expected_version)
        if query.status == Query.Status.CLOSED:
            raise field_error("status", "This query is already closed.", "wrong_status")
        now = timezone.now()
        query.status = Query.Status.CLOSED
        query.closed_at = now
        query.closed_by = by
        _save(query, by=by, reason="Query closed" + (f": {text}" if text else ""))
        QueryMessage.objects.create(
            query=query, action=QueryMessage.Action.CLOSED, text=text, by=by, at=now
        )
    return query


def query_reopen(*, by, query: Query, text: str, expected_version: int | None = None) -> Query:
    """The monitor re-opens an answered or closed query, saying what is still wrong."""
    require(by, Capability.MANAGE_QUERIES, study_id=query.study_id, site_id=query.site_id)
    text = _text(text, "text")
    with transaction.atomic():
        _refuse_if_subject_locked(query.subject)
        query = _locked_query(query, expected_version)
        if query.status == Query.Status.OPEN:
            raise field_error("status", "This query is already open.", "wrong_status")
        if (
            query.origin == Query.Origin.EDIT_CHECK
            and Query.objects.filter(
                origin=Query.Origin.EDIT_CHECK,
                check_name=query.check_name,
                form=query.form,
                record_id=query.record_id,
                field=query.field,
            )
            .exclude(pk=query.pk)
            .exclude(status=Query.Status.CLOSED)
            .exists()
        ):
            raise field_error(
                "status", "The check has raised a newer query here: answer that one.", "superseded"
            )
        now = timezone.now()
        query.status = Query.Status.OPEN
        query.answered_at = None
        query.closed_at = None
        query.closed_by = None
        _save(query, by=by, reason=f"Query re-opened: {text}")
        QueryMessage.objects.create(
            query=query, action=QueryMessage.Action.REOPENED, text=text, by=by, at=now
        )
    return query


# --- Source data verification (docs/quality.md §3) ------------------------------------------


def value_digest(record, field: str) -> str:
    """SHA-256 of what is verified: the whole record (as a signature binds it) or one field."""
    if not field:
        return record_digest(record)
    value = getattr(record, record._meta.get_field(field).attname)
    payload = json.dumps({field: value}, cls=DjangoJSONEncoder, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()


def sdv_verify(*, by, subject: Subject, form: str, record_id: int, field: str = "") -> Verification:
    """Mark a form (no field) or one field verified against the source documents."""
    require(by, Capability.VERIFY_SOURCE, study_id=subject.study_id, site_id=subject.site_id)
    field = (field or "").strip()
    record = _check_record(subject, form, record_id, field)
    if record.voided_at is not None:
        raise field_error("record_id", "A voided record is not verified.", "voided")
    with transaction.atomic():
        _refuse_if_subject_locked(subject)
        if Verification.objects.filter(
            form=form, record_id=record_id, field=field, cleared_at__isnull=True
        ).exists():
            raise field_error("field" if field else "form", "This is already verified.", "exists")
        verification = Verification(
            study_id=subject.study_id,
            site_id=subject.site_id,
            subject=subject,
            form=form,
            record_id=record_id,
            field=field,
            record_version=record.version,
            value_digest=value_digest(record, field),
            verified_by=by,
            verified_at=timezone.now(),
        )
        what = f"{FORM_LABELS[form]} {record_id}" + (f" field {field}" if field else "")
        _save(verification, by=by, reason=f"Source data verified: {what}")
    return verification


def _clear_changed_verifications(form: str, record_id: int, *, by) -> None:
    model = FORM_MODELS.get(form)
    if model is None:
        return
    current = list(
        Verification.objects.filter(form=form, record_id=record_id, cleared_at__isnull=True)
    )
    if not current:
        return
    record = model.all_objects.get(pk=record_id)
    last = record.history.order_by("-history_id").first()
    why = (last.history_change_reason or "") if last is not None else ""
    for verification in current:
        if value_digest(record, verification.field) == verification.value_digest:
            continue
        what = f"field {verification.field}" if verification.field else "the form"
        verification.cleared_at = timezone.now()
        verification.cleared_reason = (
            f"Changed after verification: {what} is now at version {record.version}"
            + (f" ({why})" if why else "")
            + "; verify it again."
        )
        _save(verification, by=by, reason=verification.cleared_reason)


# --- The investigator's casebook signature (docs/quality.md §4) -----------------------------

CASEBOOK_STATEMENT = (
    "I have reviewed the data of this casebook and, to the best of my knowledge, they are "
    "complete and accurate."
)
SIGNED_IN_SESSION = "quality_signed_in_session"


def casebook_digest(subject: Subject) -> str:
    """SHA-256 over the digests of every record of the casebook (every clinical record
    that belongs to the subject, voided ones included, as they stay on record): the content the
    investigator's signature is bound to."""
    parts = [("subject", subject.pk, record_digest(subject))]
    for model in casebook_models():
        lookup = {f"{_subject_path(model)}_id": subject.pk}
        for record in model.all_objects.filter(**lookup).order_by("pk"):
            parts.append((model._meta.label_lower, record.pk, record_digest(record)))
    payload = json.dumps(parts, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()


def casebook_sign(
    *,
    by,
    subject: Subject,
    password: str,
    username: str | None = None,
    first_in_session: bool = False,
    request=None,
) -> CasebookSignature:
    """The investigator signs the subject's casebook, re-entering the password.

    21 CFR 11.200(a)(1): the first signing of a session asks for both components (user name and
    password), later signings in the same session the password. With `request`, a wrong password
    counts towards the account lockout, as at sign-in (core.records.check_signing_password)."""
    require(by, Capability.SIGN_CASEBOOK, study_id=subject.study_id, site_id=subject.site_id)
    if first_in_session and (username or "").strip() != by.get_username():
        raise field_error(
            "username",
            "The first signature of a session asks for your user name as well: it does not "
            "match the account signed in; nothing was signed.",
            "mismatch",
        )
    if request is not None:
        # Before the transaction: the failure count must not roll back with the refusal.
        check_signing_password(by, password, request=request)
    with transaction.atomic():
        _refuse_if_subject_locked(subject)
        subject = Subject.objects.select_for_update(no_key=True).get(pk=subject.pk)
        if request is None:
            check_signing_password(by, password)
        digest = casebook_digest(subject)
        current = current_casebook_signature(subject)
        if current is not None and current.signature.record_digest == digest:
            raise field_error(
                "__all__",
                "You or another investigator already signed this casebook as it stands.",
                "already_signed",
            )
        signature = Signature(
            signer=by,
            printed_name=by.get_full_name().strip() or by.get_username(),
            meaning=Signature.Meaning.APPROVED,
            signed_at=timezone.now(),
            content_type_id=_subject_content_type_id(),
            object_id=subject.pk,
            record_version=subject.version,
            record_digest=digest,
        )
        _save(signature, by=by, reason="Signed: casebook approved by the investigator")
        signed = CasebookSignature(
            study_id=subject.study_id,
            site_id=subject.site_id,
            subject=subject,
            signature=signature,
            statement=CASEBOOK_STATEMENT,
        )
        _save(signed, by=by, reason="Casebook signed")
    if request is not None:
        request.session[SIGNED_IN_SESSION] = True
    return signed


def _subject_content_type_id() -> int:
    from django.contrib.contenttypes.models import ContentType

    return ContentType.objects.get_for_model(Subject).pk


def current_casebook_signature(subject: Subject) -> CasebookSignature | None:
    return (
        CasebookSignature.objects.filter(subject=subject, signature__invalidated_at__isnull=True)
        .select_related("signature")
        .order_by("-pk")
        .first()
    )


def _invalidate_casebook_signatures(subject_id: int, *, by) -> None:
    valid = list(
        CasebookSignature.objects.filter(
            subject_id=subject_id, signature__invalidated_at__isnull=True
        ).select_related("signature")
    )
    if not valid:
        return
    digest = casebook_digest(Subject.all_objects.get(pk=subject_id))
    for signed in valid:
        signature = signed.signature
        if signature.record_digest == digest:
            continue
        signature.invalidated_at = timezone.now()
        signature.invalidation_reason = (
            "The casebook changed after signing: the investigator signs it again."
        )
        _save(signature, by=by, reason=signature.invalidation_reason)


# --- Freeze and lock (docs/quality.md §5) ---------------------------------------------------


def form_freeze(*, by, subject: Subject, form: str, record_id: int, reason: str = "") -> Freeze:
    require(by, Capability.LOCK_DATA, study_id=subject.study_id, site_id=subject.site_id)
    _check_record(subject, form, record_id, "")
    reason = _text(reason, "reason", required=False)
    with transaction.atomic():
        _refuse_if_subject_locked(subject)
        # The record's row, as its writers take it: a correction in flight finishes first.
        FORM_MODELS[form].all_objects.select_for_update(no_key=True).get(pk=record_id)
        if Freeze.objects.filter(form=form, record_id=record_id, unfrozen_at__isnull=True).exists():
            raise field_error("__all__", "This form is already frozen.", "exists")
        freeze = Freeze(
            study_id=subject.study_id,
            site_id=subject.site_id,
            subject=subject,
            form=form,
            record_id=record_id,
            frozen_by=by,
            frozen_at=timezone.now(),
            reason=reason,
        )
        _save(freeze, by=by, reason="Form frozen" + (f": {reason}" if reason else ""))
    return freeze


def form_unfreeze(*, by, freeze: Freeze, reason: str) -> Freeze:
    require(by, Capability.LOCK_DATA, study_id=freeze.study_id, site_id=freeze.site_id)
    reason = require_reason(reason)
    with transaction.atomic():
        refuse_if_locked(study_id=freeze.study_id, subject_id=freeze.subject_id)
        freeze = Freeze.objects.select_for_update().get(pk=freeze.pk)
        if freeze.unfrozen_at is not None:
            raise field_error("__all__", "This form is not frozen.", "not_frozen")
        freeze.unfrozen_at = timezone.now()
        freeze.unfrozen_by = by
        freeze.unfreeze_reason = reason
        _save(freeze, by=by, reason=f"Form unfrozen: {reason}")
    return freeze


def subject_lock(*, by, subject: Subject, reason: str = "") -> SubjectLock:
    """Lock a subject's casebook. Refused while queries on it are unresolved."""
    require(by, Capability.LOCK_DATA, study_id=subject.study_id, site_id=subject.site_id)
    reason = _text(reason, "reason", required=False)
    with transaction.atomic():
        # FOR UPDATE: waits for every write holding the subject's row (FOR KEY SHARE in
        # refuse_if_locked, or a correction's own row lock), and makes later writes wait.
        subject = Subject.all_objects.select_for_update().get(pk=subject.pk)
        refuse_if_locked(study_id=subject.study_id, subject_id=subject.pk)
        unresolved = Query.objects.filter(subject=subject).exclude(status=Query.Status.CLOSED)
        count = unresolved.count()
        if count:
            raise field_error(
                "__all__",
                f"{subject} has {count} unresolved quer{'y' if count == 1 else 'ies'}: close "
                "them before locking the subject.",
                "unresolved_queries",
            )
        lock = SubjectLock(
            study_id=subject.study_id,
            site_id=subject.site_id,
            subject=subject,
            locked_by=by,
            locked_at=timezone.now(),
            reason=reason,
        )
        _save(lock, by=by, reason="Subject locked" + (f": {reason}" if reason else ""))
    return lock


def subject_unlock(*, by, lock: SubjectLock, reason: str) -> SubjectLock:
    require(by, Capability.LOCK_DATA, study_id=lock.study_id, site_id=lock.site_id)
    reason = require_reason(reason)
    with transaction.atomic():
        refuse_if_locked(study_id=lock.study_id, subject_id=None)
        lock = SubjectLock.objects.select_for_update().get(pk=lock.pk)
        if lock.unlocked_at is not None:
            raise field_error("__all__", "This subject is not locked.", "not_locked")
        lock.unlocked_at = timezone.now()
        lock.unlocked_by = by
        lock.unlock_reason = reason
        _save(lock, by=by, reason=f"Subject unlocked: {reason}")
    return lock


def study_lock(*, by, study: Study, reason: str) -> StudyLock:
    """Lock the study database: read-only for everyone."""
    require(by, Capability.LOCK_DATA, study_id=study.pk)
    reason = require_reason(reason)
    with transaction.atomic():
        # FOR UPDATE on the study's row: every write holds it FOR KEY SHARE until commit.
        Study.objects.select_for_update().get(pk=study.pk)
        if StudyLock.objects.filter(study=study, unlocked_at__isnull=True).exists():
            raise field_error("__all__", "The study database is already locked.", "exists")
        lock = StudyLock(study=study, locked_by=by, locked_at=timezone.now(), reason=reason)
        _save(lock, by=by, reason=f"Study database locked: {reason}")
    return lock


def study_unlock_request(*, by, lock: StudyLock, reason: str) -> StudyLock:
    """The first of the two people who unlock the study database asks, with a reason."""
    require(by, Capability.UNLOCK_STUDY, study_id=lock.study_id)
    reason = require_reason(reason)
    with transaction.atomic():
        lock = StudyLock.objects.select_for_update().get(pk=lock.pk)
        if lock.unlocked_at is not None:
            raise field_error("__all__", "The study database is not locked.", "not_locked")
        lock.unlock_requested_by = by
        lock.unlock_requested_at = timezone.now()
        lock.unlock_request_reason = reason
        _save(lock, by=by, reason=f"Unlock of the study database asked: {reason}")
    return lock


def study_unlock(*, by, lock: StudyLock, reason: str) -> StudyLock:
    """Unlock the study database: a second person confirms another's request, or a study
    administrator unlocks alone with a reason."""
    require(by, Capability.UNLOCK_STUDY, study_id=lock.study_id)
    reason = require_reason(reason)
    with transaction.atomic():
        lock = StudyLock.objects.select_for_update().get(pk=lock.pk)
        if lock.unlocked_at is not None:
            raise field_error("__all__", "The study database is not locked.", "not_locked")
        is_admin = Role.ADMIN in roles_in_study(by, lock.study_id)
        if not is_admin:
            if lock.unlock_requested_by_id is None:
                raise field_error(
                    "__all__",
                    "Unlocking the study database takes two people: ask for the unlock first; "
                    "another data manager (or a study administrator) confirms it.",
                    "two_people",
                )
            if lock.unlock_requested_by_id == by.pk:
                raise field_error(
                    "__all__",
                    "You asked for this unlock: another person confirms it.",
                    "two_people",
                )
        lock.unlocked_at = timezone.now()
        lock.unlocked_by = by
        lock.unlock_reason = reason
        _save(lock, by=by, reason=f"Study database unlocked: {reason}")
        _owe_evaluations(lock.study_id)
    return lock


def _owe_evaluations(study_id: int) -> None:
    """While the database was locked the evaluations stored nothing (docs/quality.md §5): each
    live track of the study owes one now, queued once the unlock commits."""
    live = EscalationTrack.objects.filter(study_id=study_id).exclude(
        status=EscalationTrack.Status.PLANNED
    )
    for track_id in live.order_by("pk").values_list("pk", flat=True):
        request_evaluation(track_id)
