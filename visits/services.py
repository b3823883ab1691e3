"""Every write to visits and the forms entered at them: record, correct (with a reason), void.

Each service checks the user's capability at the subject's site (accounts/scoping.py),
validates the whole record (a refusal names the field and the rule; nothing is saved in part),
derives what the rules core computes (standard units, CTCAE grades) and saves once through
core.records, which keeps the audit trail.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db import transaction

from accounts.roles import Capability
from accounts.scoping import require
from core.dates import refuse_future, site_today
from core.errors import ValidationError, field_error
from core.records import create_record, retry_on_conflict, update_record, void_record
from dosing.models import DoseAdministration
from safety.models import AdverseEvent, CtcaeTerm
from safety.services import adverse_event_report
from subjects.models import Subject

from .models import (
    CancerHistory,
    ConcomitantMedication,
    EcgAssessment,
    EcogAssessment,
    LabResult,
    MedicalHistory,
    PriorCancerTherapy,
    SurvivalContact,
    Visit,
    VisitSchedule,
    VitalSigns,
)
from .rules import (
    METASTATIC_SITES,
    RULES_VERSION,
    Baseline,
    CancerHistoryFacts,
    EcgReading,
    LabGradingSettings,
    NormalRange,
    PriorTherapyFacts,
    VisitsInputError,
    VitalSign,
    blood_pressure,
    check_cancer_history,
    check_prior_therapy,
    corrected_qt,
    ecog_status,
    grade_lab_result,
    grade_qtc,
    lab_test,
    vital_sign,
)
from .rules import LabResult as RulesLabResult
from .schedules import calendars

UNSCHEDULED = re.compile(r"^UNS[1-9][0-9]{0,2}$")
# What a correction may change, per record (the API's correction inputs take these too).
VISIT_FIELDS = ("visit_date", "not_done", "not_done_reason")
ECOG_FIELDS = ("assessed_on", "status")


class _Errors:
    def __init__(self) -> None:
        self.errors: dict[str, list[str]] = {}

    def add(self, field: str, message: str) -> None:
        self.errors.setdefault(field, []).append(message)

    def merge(self, error: ValidationError) -> None:
        for field, messages in error.message_dict.items():
            for message in messages:
                self.add(field, message)

    def raise_any(self) -> None:
        if self.errors:
            raise ValidationError(self.errors)


def _check_date(errors: _Errors, subject: Subject, value: date | None, field: str) -> None:
    """A form's date: not in the future at the site, not before consent, not after death."""
    if value is None:
        errors.add(field, "Enter the date.")
        return
    try:
        refuse_future(value, field=field, tz_name=subject.site.timezone)
    except ValidationError as error:
        errors.merge(error)
    if subject.consent_date is None:
        errors.add(field, "Data are collected from informed consent, which is not recorded yet.")
    elif value < subject.consent_date:
        errors.add(field, f"{value} is before informed consent ({subject.consent_date}).")
    if subject.death_date and value > subject.death_date:
        errors.add(field, f"{value} is after the date of death ({subject.death_date}).")


def _subject_for_entry(subject: Subject, by, capability=Capability.ENTER_DATA) -> None:
    require(by, capability, study_id=subject.study_id, site_id=subject.site_id)
    if subject.status == Subject.Status.SCREEN_FAILED:
        raise field_error(
            "subject",
            f"{subject} is a screen failure: no visit data are collected.",
            "wrong_status",
        )


def _editable(changes: dict, allowed: set[str]) -> None:
    extra = set(changes) - allowed
    if extra:
        raise ValidationError({name: ["This field cannot be changed here."] for name in extra})


@dataclass(frozen=True)
class _Form:
    """The steps every record of this app shares, around what is its own: the model, the fields
    entered and corrected, the validation (which also derives), the audit reason of a new record.

    A form entered at a visit may be corrected to another visit; `lock_subject` serialises the
    subject's new records where only one may exist (a visit per code, a cancer history)."""

    model: Any
    fields: tuple[str, ...]
    validate: Callable[[Any], None]
    recorded: str
    at_visit: bool = False
    lock_subject: bool = False

    def enter(self, *, by, subject: Subject, fields: dict, **visit):
        """A new record from what was entered: the user may enter data for the subject, only
        the form's fields, then `create`."""
        _subject_for_entry(subject, by)
        _editable(fields, set(self.fields))
        return self.create(self.model(subject=subject, **visit, **fields), by=by)

    def create(self, record, *, by):
        """Validate and save a new record once, audited with the form's reason."""
        with transaction.atomic():
            if self.lock_subject:
                Subject.objects.select_for_update().filter(pk=record.subject_id).first()
            self.validate(record)
            create_record(record, by=by, reason=self.recorded)
        return record

    def may_correct(self, record, *, by, changes: dict) -> None:
        """The user may edit data at the subject's site, and changes only the form's fields."""
        subject = record.subject
        require(by, Capability.EDIT_DATA, study_id=subject.study_id, site_id=subject.site_id)
        _editable(changes, set(self.fields) | ({"visit"} if self.at_visit else set()))

    def save_correction(self, record, *, by, changes: dict, reason: str, expected_version):
        with transaction.atomic():
            return update_record(
                record,
                by=by,
                changes=changes,
                reason=reason,
                expected_version=expected_version,
                validate=self.validate,
            )

    def correct(self, record, *, by, changes: dict, reason: str, expected_version):
        """Correct a record with a reason, at the version the user saw."""
        self.may_correct(record, by=by, changes=changes)
        return self.save_correction(
            record, by=by, changes=changes, reason=reason, expected_version=expected_version
        )


# --- Visits ---------------------------------------------------------------------------------


def _validate_visit(visit: Visit) -> None:
    errors = _Errors()
    subject = visit.subject
    code = (visit.code or "").strip().upper()
    visit.code = code
    if not UNSCHEDULED.match(code):
        calendar = calendars([subject])[0]
        codes = {row.visit.code for row in calendar.rows}
        if code not in codes:
            shown = ", ".join(sorted(codes)) or "none yet"
            errors.add(
                "code",
                f"{code or 'The visit'} is not a visit of the subject's calendar (visits: "
                f"{shown}); an unscheduled visit is UNS1, UNS2...",
            )
    if visit.not_done:
        if visit.visit_date is not None:
            errors.add("visit_date", "A visit not done has no date.")
        if not visit.not_done_reason.strip():
            errors.add("not_done_reason", "Say why the visit was not done.")
    else:
        _check_date(errors, subject, visit.visit_date, "visit_date")
        if visit.not_done_reason.strip():
            errors.add("not_done_reason", "A reason is given only for a visit not done.")
    duplicate = Visit.objects.filter(subject=subject, code=code).exclude(pk=visit.pk).exists()
    if duplicate:
        errors.add("code", f"{code} is already recorded for {subject}: open it to enter forms.")
    errors.raise_any()


# One visit per code: the subject's new visits are serialised.
_VISIT = _Form(Visit, VISIT_FIELDS, _validate_visit, "Visit recorded", lock_subject=True)


@retry_on_conflict
def visit_record(
    *,
    by,
    subject: Subject,
    code: str,
    visit_date: date | None = None,
    not_done: bool = False,
    not_done_reason: str = "",
) -> Visit:
    """Record a visit of the subject's calendar as done on a date, or as not done (a reason)."""
    _subject_for_entry(subject, by)
    visit = Visit(
        subject=subject,
        code=code,
        visit_date=visit_date,
        not_done=not_done,
        not_done_reason=(not_done_reason or "").strip(),
    )
    return _VISIT.create(visit, by=by)


@retry_on_conflict
def visit_update(
    *, by, visit: Visit, changes: dict, reason: str, expected_version: int | None
) -> Visit:
    return _VISIT.correct(
        visit, by=by, changes=changes, reason=reason, expected_version=expected_version
    )


def _void(record, *, by, reason: str, expected_version: int | None):
    subject = record.subject
    require(by, Capability.EDIT_DATA, study_id=subject.study_id, site_id=subject.site_id)
    with transaction.atomic():
        return void_record(record, by=by, reason=reason, expected_version=expected_version)


@retry_on_conflict
def visit_void(*, by, visit: Visit, reason: str, expected_version: int | None) -> Visit:
    """Void a visit recorded in error; its forms must be voided (or moved) first."""
    for model in (VitalSigns, LabResult, EcogAssessment, EcgAssessment, SurvivalContact):
        if model.objects.filter(visit=visit).exists():
            raise field_error(
                "__all__",
                f"{visit.code} still has {model._meta.verbose_name_plural}: void or correct them "
                "first.",
            )
    return _void(visit, by=by, reason=reason, expected_version=expected_version)


def _check_visit(errors: _Errors, record) -> None:
    visit = record.visit
    if visit is None:
        errors.add("visit", "Choose the visit.")
    elif visit.subject_id != record.subject_id:
        errors.add("visit", "This visit belongs to another subject.")
    elif visit.voided_at is not None:
        errors.add("visit", "This visit is voided.")
    elif visit.not_done:
        errors.add("visit", f"{visit.code} is recorded as not done: correct the visit first.")


# --- Vital signs ----------------------------------------------------------------------------

VITALS_FIELDS = (
    "measured_on",
    "timepoint",
    "systolic_bp",
    "diastolic_bp",
    "pulse",
    "respiratory_rate",
    "temperature",
    "temperature_unit",
    "spo2",
    "weight",
    "weight_unit",
)
# Signs entered as typed, their unit fixed, and the model field they land in.
_WHOLE_SIGNS = (
    (VitalSign.PULSE, "pulse", "beats/min"),
    (VitalSign.RESPIRATORY_RATE, "respiratory_rate", "breaths/min"),
    (VitalSign.SPO2, "spo2", "%"),
)


def _derive_vitals(record: VitalSigns, typed: dict) -> None:
    """Apply what was typed (docs/visits.md §6): convert and check each sign's plausibility."""
    errors = _Errors()
    for name in ("measured_on", "timepoint"):
        if name in typed:
            setattr(record, name, typed[name])
    if "systolic_bp" in typed or "diastolic_bp" in typed:
        _derive_blood_pressure(record, typed, errors)
    for sign, name, unit in _WHOLE_SIGNS:
        if name in typed:
            _derive_whole_sign(record, sign, name, unit, typed[name], errors)
    for sign, name, field, reported in _CONVERTED_SIGNS:
        if name in typed or f"{name}_unit" in typed:
            _derive_converted_sign(record, sign, name, (field, reported), typed, errors)
    errors.raise_any()
    record.rules_version = RULES_VERSION


# Signs that may be typed in another unit: the model field in the standard unit and the field
# keeping what was typed (docs/visits.md §6).
_CONVERTED_SIGNS = (
    (VitalSign.TEMPERATURE, "temperature", "temperature_c", "temperature_reported"),
    (VitalSign.WEIGHT, "weight", "weight_kg", "weight_reported"),
)


def _derive_blood_pressure(record: VitalSigns, typed: dict, errors: _Errors) -> None:
    """Both values or neither; the diastolic below the systolic (docs/visits.md §6)."""
    systolic = typed.get("systolic_bp", record.systolic_bp)
    diastolic = typed.get("diastolic_bp", record.diastolic_bp)
    if systolic is None and diastolic is None:
        record.systolic_bp = record.diastolic_bp = None
        return
    if systolic is None or diastolic is None:
        errors.add(
            "diastolic_bp" if diastolic is None else "systolic_bp",
            "A blood pressure has both the systolic and the diastolic value.",
        )
        return
    try:
        high, low = blood_pressure(systolic, diastolic)
    except VisitsInputError as error:
        field = "diastolic_bp" if "diastolic" in str(error) else "systolic_bp"
        errors.add(field, str(error))
    else:
        record.systolic_bp, record.diastolic_bp = _whole(high.value), _whole(low.value)


def _derive_whole_sign(
    record: VitalSigns, sign: VitalSign, name: str, unit: str, value, errors: _Errors
) -> None:
    if value is None:
        setattr(record, name, None)
        return
    try:
        setattr(record, name, _whole(vital_sign(sign, value, unit).value))
    except VisitsInputError as error:
        errors.add(name, str(error))


def _derive_converted_sign(
    record: VitalSigns,
    sign: VitalSign,
    name: str,
    fields: tuple[str, str],
    typed: dict,
    errors: _Errors,
) -> None:
    """A temperature or a weight in its standard unit, and as typed when typed otherwise."""
    field, reported = fields
    value = typed.get(name)
    if value is None:
        setattr(record, field, None)
        setattr(record, reported, "")
        return
    unit = typed.get(f"{name}_unit") or ("C" if name == "temperature" else "kg")
    try:
        converted = vital_sign(sign, value, unit)
    except VisitsInputError as error:
        errors.add(name, str(error))
        return
    places = Decimal("0.01") if name == "temperature" else Decimal("0.001")
    setattr(record, field, converted.value.quantize(places))
    shown = f"{converted.reported_value} {converted.reported_unit}"
    setattr(record, reported, "" if converted.reported_unit == converted.unit else shown)


def _whole(value: Decimal) -> int:
    if value != value.to_integral_value():
        raise VisitsInputError(f"{value}: a whole number is expected")
    return int(value)


def _validate_vitals(record: VitalSigns) -> None:
    errors = _Errors()
    _check_visit(errors, record)
    _check_date(errors, record.subject, record.measured_on, "measured_on")
    signs = (
        "systolic_bp",
        "pulse",
        "respiratory_rate",
        "temperature_c",
        "spo2",
        "weight_kg",
    )
    if all(getattr(record, name) is None for name in signs):
        errors.add("__all__", "Enter at least one vital sign.")
    errors.raise_any()


_VITALS = _Form(VitalSigns, VITALS_FIELDS, _validate_vitals, "Vital signs recorded", at_visit=True)


@retry_on_conflict
def vital_signs_record(*, by, subject: Subject, visit: Visit, **typed) -> VitalSigns:
    """Record vital signs at a visit, each in its standard unit (docs/visits.md §6)."""
    _subject_for_entry(subject, by)
    _editable(typed, set(VITALS_FIELDS))
    record = VitalSigns(subject=subject, visit=visit)
    _derive_vitals(record, {name: typed.get(name) for name in VITALS_FIELDS})
    return _VITALS.create(record, by=by)


@retry_on_conflict
def vital_signs_update(
    *, by, vital_signs: VitalSigns, changes: dict, reason: str, expected_version: int | None
) -> VitalSigns:
    _VITALS.may_correct(vital_signs, by=by, changes=changes)
    model_changes = {k: v for k, v in changes.items() if k == "visit"}
    typed = {k: v for k, v in changes.items() if k != "visit"}
    probe = VitalSigns.objects.get(pk=vital_signs.pk)
    _derive_vitals(probe, typed)
    for name in (
        "measured_on",
        "timepoint",
        "systolic_bp",
        "diastolic_bp",
        "pulse",
        "respiratory_rate",
        "temperature_c",
        "temperature_reported",
        "spo2",
        "weight_kg",
        "weight_reported",
    ):
        model_changes[name] = getattr(probe, name)
    return _VITALS.save_correction(
        vital_signs,
        by=by,
        changes=model_changes,
        reason=reason,
        expected_version=expected_version,
    )


@retry_on_conflict
def vital_signs_void(
    *, by, vital_signs: VitalSigns, reason: str, expected_version: int | None
) -> VitalSigns:
    return _void(vital_signs, by=by, reason=reason, expected_version=expected_version)


# --- Local lab results ----------------------------------------------------------------------

LAB_FIELDS = (
    "sampled_on",
    "test",
    "value",
    "unit",
    "normal_low",
    "normal_high",
    "clinically_significant",
    "symptomatic",
)


def grading_settings(subject: Subject) -> LabGradingSettings:
    """The study's lab grading settings (protocol file [visits], docs/visits.md §4.3)."""
    schedule = None
    if subject.cohort_id:
        schedule = VisitSchedule.objects.filter(regimen_id=subject.cohort.track.regimen_id).first()
    if schedule is None:
        schedule = VisitSchedule.objects.filter(study_id=subject.study_id).order_by("pk").first()
    if schedule is None:
        return LabGradingSettings()
    return LabGradingSettings(missing_range=schedule.lab_missing_range)


def _baseline(record: LabResult) -> Baseline | None:
    """The subject's last result of the test on or before the first dose (docs/visits.md §4.3),
    for results after the first dose."""
    first = (
        DoseAdministration.objects.filter(subject_id=record.subject_id)
        .order_by("administered_on")
        .values_list("administered_on", flat=True)
        .first()
    )
    if first is None or record.sampled_on is None or record.sampled_on <= first:
        return None
    prior = (
        LabResult.objects.filter(
            subject_id=record.subject_id, test=record.test, sampled_on__lte=first
        )
        .exclude(pk=record.pk)
        .order_by("-sampled_on", "-id")
        .first()
    )
    if prior is None:
        return None
    own = None
    if prior.normal_high is not None or prior.normal_low is not None:
        own = NormalRange(prior.normal_low, prior.normal_high, prior.unit)
    return Baseline(prior.value, prior.unit, own)


def _derive_lab(record: LabResult) -> None:
    """Standard units, the low/normal/high flag and the CTCAE grade (docs/visits.md §3-4)."""
    errors = _Errors()
    try:
        test = lab_test(record.test)
    except VisitsInputError as error:
        raise field_error("test", str(error)) from error
    record.test = test.code
    if record.value is None:
        raise field_error("value", "Enter the value as the lab reported it.")
    record.unit = (record.unit or "").strip()
    normal = None
    if record.normal_low is not None or record.normal_high is not None:
        try:
            normal = NormalRange(record.normal_low, record.normal_high, record.unit)
        except VisitsInputError as error:
            errors.add("normal_high", str(error))
    errors.raise_any()
    try:
        result = RulesLabResult(
            test.code,
            record.value,
            record.unit,
            normal_range=normal,
            baseline=_baseline(record),
            sampled_on=record.sampled_on,
            symptomatic=record.symptomatic,
            reference=str(record.pk or ""),
        )
        grading = grade_lab_result(result, grading_settings(record.subject))
    except VisitsInputError as error:
        field = "unit" if "unit" in str(error) else "value"
        raise field_error(field, str(error)) from error
    record.standard_value = grading.standard.value.quantize(Decimal("0.000001"))
    record.standard_unit = grading.standard.unit
    if normal is None:
        record.reference_flag = LabResult.Flag.UNKNOWN
    elif normal.low is not None and record.value < normal.low:
        record.reference_flag = LabResult.Flag.LOW
    elif normal.high is not None and record.value > normal.high:
        record.reference_flag = LabResult.Flag.HIGH
    else:
        record.reference_flag = LabResult.Flag.NORMAL
    shown = grading.worst
    if shown is None:
        # Nothing graded: the first term that could not be graded says why.
        shown = next((g for g in grading.grades if g.grade is None), None)
    record.ctcae_term = shown.term if shown else ""
    record.ctcae_meddra_code = shown.meddra_code if shown else None
    record.ctcae_grade = shown.grade if shown else None
    record.ctcae_version = grading.ctcae_version if grading.grades else ""
    record.grading_rule = shown.rule if shown else "CTCAE grades no term from this test."
    record.grading_flags = sorted({flag.value for g in grading.grades for flag in g.flags})
    record.grading = [
        {
            "term": g.term,
            "meddra_code": g.meddra_code,
            "grade": g.grade,
            "rule": g.rule,
            "flags": [flag.value for flag in g.flags],
            "notes": list(g.notes),
            "not_computed": list(g.not_computed),
        }
        for g in grading.grades
    ]
    record.rules_version = grading.rules_version


def _validate_lab(record: LabResult) -> None:
    errors = _Errors()
    _check_visit(errors, record)
    _check_date(errors, record.subject, record.sampled_on, "sampled_on")
    errors.raise_any()
    _derive_lab(record)


_LAB = _Form(LabResult, LAB_FIELDS, _validate_lab, "Lab result recorded", at_visit=True)


@retry_on_conflict
def lab_result_record(
    *,
    by,
    subject: Subject,
    visit: Visit,
    sampled_on: date,
    test: str,
    value: Decimal,
    unit: str,
    normal_low: Decimal | None = None,
    normal_high: Decimal | None = None,
    clinically_significant: bool | None = None,
    symptomatic: bool | None = None,
) -> LabResult:
    """Record a local lab result; its standard value and CTCAE grade are derived."""
    _subject_for_entry(subject, by)
    record = LabResult(
        subject=subject,
        visit=visit,
        sampled_on=sampled_on,
        test=(test or "").strip().upper(),
        value=value,
        unit=unit or "",
        normal_low=normal_low,
        normal_high=normal_high,
        clinically_significant=clinically_significant,
        symptomatic=symptomatic,
    )
    return _LAB.create(record, by=by)


@retry_on_conflict
def lab_result_update(
    *, by, lab_result: LabResult, changes: dict, reason: str, expected_version: int | None
) -> LabResult:
    """Correct a lab result; the standard value and the grade are derived again."""
    return _LAB.correct(
        lab_result, by=by, changes=changes, reason=reason, expected_version=expected_version
    )


@retry_on_conflict
def lab_result_void(
    *, by, lab_result: LabResult, reason: str, expected_version: int | None
) -> LabResult:
    return _void(lab_result, by=by, reason=reason, expected_version=expected_version)


def suggested_adverse_event(lab_result: LabResult) -> dict | None:
    """What an AE reported from this result starts with (the site confirms every field): the
    graded CTCAE term, its grade and the sample date as onset. None when there is nothing to
    report (no grade, grade 0, or already reported)."""
    if lab_result.adverse_event_id or not lab_result.ctcae_grade:
        return None
    term = CtcaeTerm.objects.filter(meddra_code=lab_result.ctcae_meddra_code).first()
    if term is None:
        return None
    grade = lab_result.ctcae_grade if lab_result.ctcae_grade in term.grades else None
    return {
        "ctcae_term": term,
        "grade": grade,
        "onset_date": lab_result.sampled_on,
        "verbatim_term": f"{term.term} ({lab_result.get_test_display()} {lab_result.value} "
        f"{lab_result.unit}, {lab_result.sampled_on})",
    }


@retry_on_conflict
def lab_result_report_adverse_event(
    *,
    by,
    lab_result: LabResult,
    expected_version: int | None,
    relationship: str,
    action_taken: str,
    outcome: str,
    verbatim_term: str | None = None,
    grade: int | None = None,
    onset_date: date | None = None,
    resolution_date: date | None = None,
    serious: bool = False,
    seriousness: tuple[str, ...] = (),
    sae_awareness_at: datetime | None = None,
    dlt_investigator: bool = False,
) -> AdverseEvent:
    """Report the adverse event a graded lab result is, as the site confirmed it, and link the
    two (one transaction: both or neither). Never done without the site's confirmation."""
    subject = lab_result.subject
    require(by, Capability.ENTER_DATA, study_id=subject.study_id, site_id=subject.site_id)
    with transaction.atomic():
        current = LabResult.objects.select_for_update().get(pk=lab_result.pk)
        if expected_version is not None and current.version != expected_version:
            raise field_error(
                "__all__", "The lab result changed since you opened it: reload and check it."
            )
        if current.adverse_event_id:
            raise field_error("__all__", "An adverse event is already reported from this result.")
        suggestion = suggested_adverse_event(current)
        if suggestion is None:
            raise field_error(
                "__all__",
                "This result has no CTCAE grade above 0: there is no graded abnormality to report.",
            )
        event = adverse_event_report(
            by=by,
            subject=subject,
            ctcae_term=suggestion["ctcae_term"],
            verbatim_term=verbatim_term or suggestion["verbatim_term"],
            grade=grade if grade is not None else suggestion["grade"],
            onset_date=onset_date or suggestion["onset_date"],
            relationship=relationship,
            action_taken=action_taken,
            outcome=outcome,
            resolution_date=resolution_date,
            serious=serious,
            seriousness=seriousness,
            sae_awareness_at=sae_awareness_at,
            dlt_investigator=dlt_investigator,
        )
        update_record(
            current,
            by=by,
            changes={"adverse_event": event},
            reason=f"Reported as adverse event {event.pk}",
            expected_version=None,
        )
    return event


# --- ECOG -----------------------------------------------------------------------------------


def _validate_ecog(record: EcogAssessment) -> None:
    errors = _Errors()
    _check_visit(errors, record)
    _check_date(errors, record.subject, record.assessed_on, "assessed_on")
    try:
        record.status = ecog_status(record.status).value
    except VisitsInputError as error:
        errors.add("status", str(error))
    errors.raise_any()


_ECOG = _Form(
    EcogAssessment, ECOG_FIELDS, _validate_ecog, "ECOG performance status recorded", at_visit=True
)


@retry_on_conflict
def ecog_record(
    *, by, subject: Subject, visit: Visit, assessed_on: date, status: int
) -> EcogAssessment:
    _subject_for_entry(subject, by)
    record = EcogAssessment(subject=subject, visit=visit, assessed_on=assessed_on, status=status)
    return _ECOG.create(record, by=by)


@retry_on_conflict
def ecog_update(
    *, by, ecog: EcogAssessment, changes: dict, reason: str, expected_version: int | None
) -> EcogAssessment:
    return _ECOG.correct(
        ecog, by=by, changes=changes, reason=reason, expected_version=expected_version
    )


@retry_on_conflict
def ecog_void(*, by, ecog: EcogAssessment, reason: str, expected_version: int | None):
    return _void(ecog, by=by, reason=reason, expected_version=expected_version)


def first_doses(subject_ids) -> dict[int, date]:
    """Each subject's first dose date (one query)."""
    from django.db.models import Min

    rows = (
        DoseAdministration.objects.filter(subject_id__in=subject_ids)
        .values("subject_id")
        .annotate(first=Min("administered_on"))
    )
    return {row["subject_id"]: row["first"] for row in rows}


# --- 12-lead ECG ----------------------------------------------------------------------------

ECG_FIELDS = (
    "recorded_on",
    "timepoint",
    "qt_ms_1",
    "rr_ms_1",
    "heart_rate_1",
    "qt_ms_2",
    "rr_ms_2",
    "heart_rate_2",
    "qt_ms_3",
    "rr_ms_3",
    "heart_rate_3",
    "pr_ms",
    "qrs_ms",
    "interpretation",
)


def _ecg_baseline(record: EcgAssessment) -> int | None:
    """The QTcF of the last time point on or before the first dose, for time points after it."""
    first = first_doses([record.subject_id]).get(record.subject_id)
    if first is None or record.recorded_on is None or record.recorded_on <= first:
        return None
    prior = (
        EcgAssessment.objects.filter(subject_id=record.subject_id, recorded_on__lte=first)
        .exclude(pk=record.pk)
        .order_by("-recorded_on", "-id")
        .first()
    )
    return None if prior is None else prior.qtcf_ms


def _validate_ecg(record: EcgAssessment) -> None:
    """QTcF per tracing and their mean, graded by CTCAE v5.0 (docs/visits.md §7)."""
    errors = _Errors()
    _check_visit(errors, record)
    _check_date(errors, record.subject, record.recorded_on, "recorded_on")
    readings = []
    for n in (1, 2, 3):
        qt, rr, hr = (getattr(record, f"{name}_{n}") for name in ("qt_ms", "rr_ms", "heart_rate"))
        if qt is None:
            if rr is not None or hr is not None:
                errors.add(f"qt_ms_{n}", f"Tracing {n}: enter the QT with its RR or heart rate.")
            continue
        try:
            readings.append(EcgReading(qt, rr, hr))
        except VisitsInputError as error:
            field = f"rr_ms_{n}" if "RR" in str(error) else f"qt_ms_{n}"
            if "heart rate" in str(error):
                field = f"heart_rate_{n}"
            errors.add(field, f"Tracing {n}: {error}")
    if not readings and "qt_ms_1" not in errors.errors:
        errors.add("qt_ms_1", "Enter at least one tracing's QT with its RR or heart rate.")
    errors.raise_any()
    qtc = corrected_qt(readings)
    baseline = _ecg_baseline(record)
    grade = grade_qtc(qtc, baseline)
    record.qtcf_ms = qtc.graded_ms
    record.qtcf_replicates = [str(value.quantize(Decimal("0.1"))) for value in qtc.replicates]
    record.baseline_qtcf_ms = baseline
    record.qtc_grade = grade.grade
    record.grading_rule = f"{qtc.describe()}. {grade.rule}" + (
        f" ({'; '.join(grade.notes)})" if grade.notes else ""
    )
    record.rules_version = RULES_VERSION


_ECG = _Form(EcgAssessment, ECG_FIELDS, _validate_ecg, "ECG recorded", at_visit=True)


@retry_on_conflict
def ecg_record(*, by, subject: Subject, visit: Visit, **fields) -> EcgAssessment:
    """Record a 12-lead ECG time point (one tracing or a triplicate); QTcF and its grade are
    derived."""
    return _ECG.enter(by=by, subject=subject, visit=visit, fields=fields)


@retry_on_conflict
def ecg_update(
    *, by, ecg: EcgAssessment, changes: dict, reason: str, expected_version: int | None
) -> EcgAssessment:
    return _ECG.correct(
        ecg, by=by, changes=changes, reason=reason, expected_version=expected_version
    )


@retry_on_conflict
def ecg_void(*, by, ecg: EcgAssessment, reason: str, expected_version: int | None):
    return _void(ecg, by=by, reason=reason, expected_version=expected_version)


# --- Concomitant medications ----------------------------------------------------------------

# WHO ATC: level 1 a letter, 2 two digits, 3 and 4 a letter each, 5 two digits.
ATC_CODE = re.compile(r"^[A-Z]([0-9]{2}([A-Z]([A-Z]([0-9]{2})?)?)?)?$")
CM_FIELDS = (
    "medication",
    "atc_code",
    "indication",
    "adverse_event",
    "dose",
    "dose_unit",
    "frequency",
    "route",
    "start_date",
    "end_date",
    "ongoing",
)


def _validate_cm(record: ConcomitantMedication) -> None:
    errors = _Errors()
    record.medication = (record.medication or "").strip()
    record.indication = (record.indication or "").strip()
    record.atc_code = (record.atc_code or "").strip().upper()
    if not record.medication:
        errors.add("medication", "Enter the medication as the site recorded it.")
    if not record.indication:
        errors.add("indication", "Enter what it is taken for.")
    if record.atc_code and not ATC_CODE.match(record.atc_code):
        errors.add(
            "atc_code",
            f"{record.atc_code} is not a WHO ATC code (e.g. N, N02, N02B, N02BE, N02BE01).",
        )
    subject = record.subject
    for name in ("start_date", "end_date"):
        value = getattr(record, name)
        if value is not None:
            try:
                refuse_future(value, field=name, tz_name=subject.site.timezone)
            except ValidationError as error:
                errors.merge(error)
    if record.ongoing and record.end_date is not None:
        errors.add("end_date", "An ongoing medication has no end date.")
    if not record.ongoing and record.end_date is None:
        errors.add("end_date", "Give the end date, or mark the medication ongoing.")
    if record.end_date and record.start_date and record.end_date < record.start_date:
        errors.add("end_date", "The end date cannot precede the start date.")
    if record.dose is not None and record.dose <= 0:
        errors.add("dose", "A dose is more than zero.")
    if record.dose is not None and not record.dose_unit:
        errors.add("dose_unit", "A dose needs its unit.")
    event = record.adverse_event
    if event is not None and event.subject_id != record.subject_id:
        errors.add("adverse_event", "This adverse event belongs to another subject.")
    errors.raise_any()


_CM = _Form(ConcomitantMedication, CM_FIELDS, _validate_cm, "Concomitant medication recorded")


@retry_on_conflict
def concomitant_medication_record(*, by, subject: Subject, **fields) -> ConcomitantMedication:
    """Record a concomitant medication, verbatim, with its ATC code when coded."""
    return _CM.enter(by=by, subject=subject, fields=fields)


@retry_on_conflict
def concomitant_medication_update(
    *, by, medication: ConcomitantMedication, changes: dict, reason: str, expected_version
) -> ConcomitantMedication:
    """Correct a medication (coding it to ATC later is a correction with a reason)."""
    return _CM.correct(
        medication, by=by, changes=changes, reason=reason, expected_version=expected_version
    )


@retry_on_conflict
def concomitant_medication_void(
    *, by, medication: ConcomitantMedication, reason: str, expected_version
):
    return _void(medication, by=by, reason=reason, expected_version=expected_version)


# --- Medical history ------------------------------------------------------------------------

MH_FIELDS = (
    "term",
    "ctcae_term",
    "start_year",
    "start_month",
    "start_day",
    "ongoing",
    "end_date",
    "baseline_grade",
)


def _check_mh_start(errors: _Errors, record: MedicalHistory) -> None:
    """The start as far as known: a year; a month 1-12; a day that exists; not ahead."""
    year, month, day = record.start_year, record.start_month, record.start_day
    if year is None:
        errors.add("start_year", "Enter at least the year the condition started.")
        return
    start = None
    try:
        if day is not None and month is None:
            errors.add("start_day", "A start day needs its month.")
        elif month is not None and not 1 <= month <= 12:
            errors.add("start_month", f"Month {month} is not 1 to 12.")
        elif year < 1900:
            errors.add("start_year", f"{year} is not a plausible start year.")
        else:
            start = date(year, month or 1, day or 1)
    except ValueError:
        errors.add("start_day", f"{year}-{month:02d}-{day:02d} is not a date.")
    if start is not None and start > site_today(record.subject.site.timezone):
        errors.add("start_year", f"The start ({record.start_text}) is in the future.")


def _check_mh_grade(errors: _Errors, record: MedicalHistory) -> None:
    """A baseline grade only for an ongoing condition, one its CTCAE term defines, not 5."""
    grade = record.baseline_grade
    if grade is None:
        return
    if not record.ongoing:
        errors.add(
            "baseline_grade",
            "A baseline grade is given only for a condition ongoing at the first dose.",
        )
    elif record.ctcae_term is None:
        errors.add("baseline_grade", "Choose the CTCAE term the grade belongs to.")
    elif grade not in record.ctcae_term.grades:
        allowed = ", ".join(str(g) for g in record.ctcae_term.grades)
        errors.add(
            "baseline_grade",
            f"CTCAE v5.0 defines no grade {grade} for '{record.ctcae_term.term}' "
            f"(grades: {allowed}).",
        )
    elif grade == 5:
        errors.add("baseline_grade", "Grade 5 is death: not a baseline grade.")


def _validate_mh(record: MedicalHistory) -> None:
    errors = _Errors()
    subject = record.subject
    record.term = (record.term or "").strip()
    if not record.term:
        errors.add("term", "Enter the condition as the site recorded it.")
    _check_mh_start(errors, record)
    if record.end_date is not None:
        try:
            refuse_future(record.end_date, field="end_date", tz_name=subject.site.timezone)
        except ValidationError as error:
            errors.merge(error)
        if record.ongoing:
            errors.add("end_date", "An ongoing condition has no end date.")
    _check_mh_grade(errors, record)
    errors.raise_any()


_MH = _Form(MedicalHistory, MH_FIELDS, _validate_mh, "Medical history recorded")


@retry_on_conflict
def medical_history_record(*, by, subject: Subject, **fields) -> MedicalHistory:
    """Record a medical history condition, with its grade at the first dose when ongoing."""
    return _MH.enter(by=by, subject=subject, fields=fields)


@retry_on_conflict
def medical_history_update(
    *, by, condition: MedicalHistory, changes: dict, reason: str, expected_version
) -> MedicalHistory:
    return _MH.correct(
        condition, by=by, changes=changes, reason=reason, expected_version=expected_version
    )


@retry_on_conflict
def medical_history_void(*, by, condition: MedicalHistory, reason: str, expected_version):
    return _void(condition, by=by, reason=reason, expected_version=expected_version)


# --- Survival follow-up ---------------------------------------------------------------------

SURVIVAL_FIELDS = (
    "contact_date",
    "status",
    "last_known_alive",
    "new_therapy",
    "new_therapy_regimen",
    "new_therapy_start",
    "cause_of_death",
    "cause_adverse_event",
    "cause_other",
)


def _check_new_therapy(errors: _Errors, record: SurvivalContact) -> None:
    """A new anticancer therapy is named, with a start no later than the contact."""
    if not record.new_therapy:
        if record.new_therapy_regimen or record.new_therapy_start:
            errors.add("new_therapy", "A new therapy is named: tick 'new anticancer therapy'.")
        return
    if not record.new_therapy_regimen:
        errors.add("new_therapy_regimen", "Name the new anticancer therapy.")
    if record.new_therapy_start is None:
        errors.add("new_therapy_start", "Give the date the new therapy started.")
    elif record.new_therapy_start > record.contact_date:
        errors.add("new_therapy_start", "The therapy start cannot follow the contact date.")


def _check_cause_of_death(errors: _Errors, record: SurvivalContact) -> None:
    """For a death: recorded on the subject first, and its cause (docs/visits.md §10)."""
    if record.status != SurvivalContact.Status.DEAD:
        if record.cause_of_death or record.cause_adverse_event or record.cause_other:
            errors.add("cause_of_death", "A cause of death is given only for a death.")
        return
    if record.subject.death_date is None:
        errors.add(
            "status",
            "The subject's death is not recorded: record the death on the casebook first "
            "(the date of death is the subject's), then its cause here.",
        )
    if not record.cause_of_death:
        errors.add("cause_of_death", "Give the cause of death (unknown if it is not known).")
    if record.cause_of_death == SurvivalContact.Cause.ADVERSE_EVENT:
        event = record.cause_adverse_event
        if event is None:
            errors.add("cause_adverse_event", "Choose the adverse event that caused death.")
        elif event.subject_id != record.subject_id:
            errors.add("cause_adverse_event", "This adverse event belongs to another subject.")
    elif record.cause_adverse_event is not None:
        errors.add("cause_adverse_event", "An adverse event is linked only as the cause.")
    if record.cause_of_death == SurvivalContact.Cause.OTHER and not record.cause_other:
        errors.add("cause_other", "Say what the other cause was.")


def _validate_survival(record: SurvivalContact) -> None:
    errors = _Errors()
    subject = record.subject
    _check_visit(errors, record)
    try:
        refuse_future(record.contact_date, field="contact_date", tz_name=subject.site.timezone)
    except ValidationError as error:
        errors.merge(error)
    record.new_therapy_regimen = (record.new_therapy_regimen or "").strip()
    record.cause_other = (record.cause_other or "").strip()
    if record.status == SurvivalContact.Status.ALIVE:
        record.last_known_alive = record.last_known_alive or record.contact_date
    if record.last_known_alive and record.last_known_alive > record.contact_date:
        errors.add("last_known_alive", "Last known alive cannot follow the contact date.")
    _check_new_therapy(errors, record)
    _check_cause_of_death(errors, record)
    errors.raise_any()


_SURVIVAL = _Form(
    SurvivalContact, SURVIVAL_FIELDS, _validate_survival, "Survival contact recorded", at_visit=True
)


@retry_on_conflict
def survival_contact_record(*, by, subject: Subject, visit: Visit, **fields) -> SurvivalContact:
    """Record a survival follow-up contact at its visit."""
    return _SURVIVAL.enter(by=by, subject=subject, visit=visit, fields=fields)


@retry_on_conflict
def survival_contact_update(
    *, by, contact: SurvivalContact, changes: dict, reason: str, expected_version
) -> SurvivalContact:
    return _SURVIVAL.correct(
        contact, by=by, changes=changes, reason=reason, expected_version=expected_version
    )


@retry_on_conflict
def survival_contact_void(*, by, contact: SurvivalContact, reason: str, expected_version):
    return _void(contact, by=by, reason=reason, expected_version=expected_version)


# --- Cancer history and prior anticancer therapy (docs/visits.md §11) -----------------------

CANCER_HISTORY_FIELDS = (
    "primary_site",
    "histology",
    "diagnosis_date",
    "stage_at_diagnosis",
    "tnm_at_diagnosis",
    "stage_at_entry",
    "tnm_at_entry",
    "advanced_disease_date",
    "metastatic_sites",
    "metastatic_sites_other",
    "no_prior_therapy",
)
PRIOR_THERAPY_FIELDS = (
    "therapy_type",
    "treatment",
    "setting",
    "line",
    "start_date",
    "end_date",
    "best_response",
    "stop_reason",
    "stop_reason_other",
)
_SITE_ORDER = {code: n for n, (code, _) in enumerate(METASTATIC_SITES)}


def _strip(record, names: tuple[str, ...]) -> None:
    for name in names:
        setattr(record, name, (getattr(record, name) or "").strip())


def _add_problems(errors: _Errors, problems: list[tuple[str, str]]) -> None:
    for field, message in problems:
        errors.add(field, message)


def _metastatic_sites(errors: _Errors, record: CancerHistory) -> tuple[str, ...]:
    """The sites as a list of codes, in the form's order (duplicates kept for the check)."""
    sites = record.metastatic_sites or []
    if not isinstance(sites, list | tuple) or not all(isinstance(s, str) for s in sites):
        errors.add("metastatic_sites", "Give the sites of metastases as a list of sites.")
        return ()
    ordered = sorted(sites, key=lambda code: (_SITE_ORDER.get(code, len(_SITE_ORDER)), code))
    record.metastatic_sites = ordered
    return tuple(ordered)


def _validate_cancer_history(record: CancerHistory) -> None:
    """One per subject, and the rules of docs/visits.md §11.2 (visits.rules.history)."""
    errors = _Errors()
    subject = record.subject
    _strip(
        record,
        (
            "primary_site",
            "histology",
            "diagnosis_date",
            "tnm_at_diagnosis",
            "tnm_at_entry",
            "advanced_disease_date",
            "metastatic_sites_other",
        ),
    )
    sites = _metastatic_sites(errors, record)
    if CancerHistory.objects.filter(subject=subject).exclude(pk=record.pk).exists():
        errors.add(
            "__all__", f"The cancer history of {subject} is already recorded: correct it instead."
        )
    therapies = PriorCancerTherapy.objects.filter(subject=subject).order_by("start_date", "pk")
    facts = CancerHistoryFacts(
        primary_site=record.primary_site,
        histology=record.histology,
        diagnosis_date=record.diagnosis_date,
        stage_at_diagnosis=record.stage_at_diagnosis or "",
        stage_at_entry=record.stage_at_entry or "",
        advanced_disease_date=record.advanced_disease_date,
        metastatic_sites=sites,
        metastatic_sites_other=record.metastatic_sites_other,
        no_prior_therapy=bool(record.no_prior_therapy),
        consented_on=subject.consent_date,
        today=site_today(subject.site.timezone),
        prior_therapies=tuple((t.treatment, t.start_date) for t in therapies),
    )
    _add_problems(errors, check_cancer_history(facts))
    errors.raise_any()


# One per subject: the subject's new cancer histories are serialised.
_CANCER_HISTORY = _Form(
    CancerHistory,
    CANCER_HISTORY_FIELDS,
    _validate_cancer_history,
    "Cancer history recorded",
    lock_subject=True,
)


@retry_on_conflict
def cancer_history_record(*, by, subject: Subject, **fields) -> CancerHistory:
    """Record the subject's cancer history (once; a later change is a correction)."""
    return _CANCER_HISTORY.enter(by=by, subject=subject, fields=fields)


@retry_on_conflict
def cancer_history_update(
    *, by, history: CancerHistory, changes: dict, reason: str, expected_version
) -> CancerHistory:
    return _CANCER_HISTORY.correct(
        history, by=by, changes=changes, reason=reason, expected_version=expected_version
    )


@retry_on_conflict
def cancer_history_void(*, by, history: CancerHistory, reason: str, expected_version):
    return _void(history, by=by, reason=reason, expected_version=expected_version)


def _validate_prior_therapy(record: PriorCancerTherapy) -> None:
    """The rules of docs/visits.md §11.3, against the subject's cancer history when recorded."""
    errors = _Errors()
    subject = record.subject
    _strip(record, ("treatment", "start_date", "end_date", "stop_reason_other"))
    history = CancerHistory.objects.filter(subject=subject).first()
    facts = PriorTherapyFacts(
        therapy_type=record.therapy_type or "",
        treatment=record.treatment,
        setting=record.setting or "",
        start_date=record.start_date,
        end_date=record.end_date,
        line=record.line,
        best_response=record.best_response or "",
        stop_reason=record.stop_reason or "",
        stop_reason_other=record.stop_reason_other,
        consented_on=subject.consent_date,
        today=site_today(subject.site.timezone),
        diagnosis_date=history.diagnosis_date if history else "",
        no_prior_therapy=bool(history and history.no_prior_therapy),
    )
    _add_problems(errors, check_prior_therapy(facts))
    errors.raise_any()


_PRIOR_THERAPY = _Form(
    PriorCancerTherapy,
    PRIOR_THERAPY_FIELDS,
    _validate_prior_therapy,
    "Prior cancer therapy recorded",
)


@retry_on_conflict
def prior_therapy_record(*, by, subject: Subject, **fields) -> PriorCancerTherapy:
    """Record an anticancer therapy the subject had before the study."""
    return _PRIOR_THERAPY.enter(by=by, subject=subject, fields=fields)


@retry_on_conflict
def prior_therapy_update(
    *, by, therapy: PriorCancerTherapy, changes: dict, reason: str, expected_version
) -> PriorCancerTherapy:
    return _PRIOR_THERAPY.correct(
        therapy, by=by, changes=changes, reason=reason, expected_version=expected_version
    )


@retry_on_conflict
def prior_therapy_void(*, by, therapy: PriorCancerTherapy, reason: str, expected_version):
    return _void(therapy, by=by, reason=reason, expected_version=expected_version)
