"""Every write to a dose administration: record, correct, void (the checks, schedule,
deviations and confirmations of docs/dosing.md §1-§5)."""

from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.db.models import Q

from accounts.models import User
from accounts.roles import Capability
from accounts.scoping import require
from core import events
from core.dates import local_date, refuse_future
from core.errors import FieldErrors, ValidationError, field_error
from core.records import create_record, retry_on_conflict, update_record, void_record
from subjects.models import Subject
from subjects.rules import Step, refusal

from .models import DoseAdministration
from .rules import (
    Amount,
    DoseLimits,
    Weight,
    amount_finding,
    percent_off,
    total_dose_mg,
    weight_change,
    weight_changed,
    weight_finding,
)
from .schedule import DoseSlot, GivenDose, slot_after, slot_for, too_close


def _announce(record, action: str, by: User) -> None:
    """Tell the layers above (escalation evaluation, notifications) inside this transaction."""
    events.clinical_data_changed(
        subject_id=record.subject_id, record="dose", record_id=record.pk, action=action, by=by
    )


def given_doses(subject: Subject, *, excluding: int | None = None) -> list[GivenDose]:
    """The subject's doses as the schedule arithmetic takes them (voided doses left out)."""
    rows = subject.dose_administrations.order_by("cycle", "day")
    if excluding is not None:
        rows = rows.exclude(pk=excluding)
    return [GivenDose(*row) for row in rows.values_list("cycle", "day", "administered_on")]


def next_dose_slot(subject: Subject) -> DoseSlot:
    """The cycle and day the next dose is due, with its visit window (docs/dosing.md §1)."""
    return slot_after(given_doses(subject), subject.cohort.track.regimen.schedule())


def slot_following(regimen, doses: list[tuple[int, int, date]]) -> DoseSlot:
    """The next slot after already-loaded (cycle, day, administered_on) doses: for pages that
    list many subjects with their doses prefetched."""
    return slot_after([GivenDose(*dose) for dose in doses], regimen.schedule())


def _decimal(value, field: str) -> Decimal:
    try:
        number = Decimal(str(value))
    except (InvalidOperation, TypeError, ValueError):
        raise field_error(field, "Enter a number.", "invalid") from None
    if not number.is_finite():
        raise field_error(field, "Enter a number.", "invalid")
    return number


def _amount(value: Decimal) -> str:
    return f"{value.normalize():f}"


def _check_amount(dose: DoseAdministration, study, errors: FieldErrors) -> bool:
    """The dose given against the planned dose (docs/dosing.md §3). An overdose is recorded as
    given once confirmed with a reason; a value implausible as mg/kg (a total in mg typed as
    mg/kg) is refused. Returns whether the dose is a (real) overdose."""
    unit, planned, actual = study.dose_unit, dose.planned_dose_per_kg, dose.actual_dose_per_kg
    finding = amount_finding(actual, planned, DoseLimits.of(study))
    if finding is Amount.NOT_POSITIVE:
        errors.add("actual_dose_per_kg", "The dose given must be above 0.")
        return False
    if finding is Amount.IMPLAUSIBLE:
        errors.add(
            "actual_dose_per_kg",
            f"{_amount(actual)} {unit} is {_amount((actual / planned).quantize(Decimal('0.1')))} "
            f"times the planned {_amount(planned)} {unit}: was a total dose in mg entered as "
            f"{unit}? A dose {study.implausible_dose_factor} times the planned one or more is "
            "not accepted as mg/kg.",
        )
        return False
    overdose = finding is Amount.OVERDOSE
    if overdose and not dose.overdose_confirmed:
        errors.add(
            "actual_dose_per_kg",
            f"{_amount(actual)} {unit} is {percent_off(actual, planned)}% above the planned "
            f"{_amount(planned)} {unit} (more than {study.max_dose_over_planned_percent}%): an "
            "overdose.",
        )
        errors.add(
            "overdose_confirmed",
            "If this dose was given, confirm the overdose and give the reason: it is recorded "
            "as given, as a protocol deviation, and the medical monitors are notified.",
        )
    if finding is not Amount.AS_PLANNED and not dose.dose_change_reason.strip():
        errors.add(
            "dose_change_reason",
            f"The dose differs from the cohort's {_amount(planned)} {unit}: give the reason"
            + (" for the overdose." if overdose else "."),
        )
    return overdose


def _check_weight(
    dose: DoseAdministration, study, previous, errors: FieldErrors
) -> tuple[bool, bool]:
    """The body weight against the study's plausible range and the previous dose's weight
    (docs/dosing.md §4). Returns (outside the range, changed by more than the margin)."""
    weight = dose.body_weight_kg
    limits = DoseLimits.of(study)
    finding = weight_finding(weight, limits)
    if finding is Weight.NOT_POSITIVE:
        errors.add("body_weight_kg", "Body weight must be above 0 kg.")
        return False, False
    outside = finding is Weight.OUTSIDE_RANGE
    if outside and not dose.weight_outside_range_confirmed:
        errors.add(
            "body_weight_kg",
            f"{weight} kg is outside the plausible range {study.min_weight_kg}-"
            f"{study.max_weight_kg} kg: check the unit (kg, not lb).",
        )
        errors.add(
            "weight_outside_range_confirmed",
            f"If {weight} kg is right (e.g. a cachectic adult), confirm it and give the reason.",
        )
    previous_kg = previous.body_weight_kg if previous is not None else None
    changed = weight_changed(weight, previous_kg, limits)
    if changed and not dose.weight_change_confirmed:
        direction = "above" if weight > previous.body_weight_kg else "below"
        errors.add(
            "body_weight_kg",
            f"{weight} kg is {weight_change(weight, previous_kg)}% {direction} the "
            f"{previous.body_weight_kg} kg of C{previous.cycle}D{previous.day} "
            f"({previous.administered_on:%Y-%m-%d}): more than the "
            f"{study.max_weight_change_percent}% change the protocol takes without a check "
            "(kg, not lb?).",
        )
        errors.add(
            "weight_change_confirmed",
            f"Re-weigh if you can; if {weight} kg is right, confirm it.",
        )
    return outside, changed


def _check_schedule(
    dose: DoseAdministration, subject: Subject, regimen, study, errors: FieldErrors
) -> tuple[bool, bool]:
    """The visit window (from the previous cycle's actual Day 1) and the minimum interval
    between infusions (docs/dosing.md §1-2). Returns (outside the window, too close)."""
    given = given_doses(subject, excluding=dose.pk)
    schedule = regimen.schedule()
    day = dose.administered_on
    slot = slot_for(dose.cycle, dose.day, given, schedule)
    outside = not slot.contains(day)
    if outside and not dose.outside_visit_window_confirmed:
        since = (
            f", {schedule.cycle_length_days} days after {slot.anchor.code} given "
            f"{slot.anchor.given_on:%Y-%m-%d}"
            if slot.anchor is not None and slot.anchor.cycle < dose.cycle
            else ""
        )
        errors.add(
            "outside_visit_window_confirmed",
            f"{slot.label} was planned for {slot.planned_on}{since} (window {slot.earliest} to "
            f"{slot.latest}); confirm to record a dose outside its visit window.",
        )
    close = too_close(dose.cycle, dose.day, day, given, schedule)
    if close is None:
        return outside, False
    described = close.describe(f"C{dose.cycle}D{dose.day}")
    if study.short_interval_policy == study.ShortIntervalPolicy.REFUSE:
        errors.add("infusion_start", f"{described}: the protocol does not allow it.")
    elif not dose.short_interval_confirmed:
        errors.add("infusion_start", f"{described}.")
        errors.add(
            "short_interval_confirmed",
            "If it was given on that day, confirm it and give the reason: it is recorded as "
            "given, as a protocol deviation.",
        )
    return outside, True


def _validate_dose(dose: DoseAdministration, subject: Subject) -> None:
    """The rules of one dose against its subject, regimen and study. Raises with every problem.

    The dose's confirmations (`outside_visit_window_confirmed`, `overdose_confirmed`,
    `short_interval_confirmed`, `weight_outside_range_confirmed`, `weight_change_confirmed`)
    are what the coordinator confirmed; each one the dose does not need is cleared, so a saved
    flag always names a deviation or an unusual value the record holds.
    """
    study = subject.study
    regimen = subject.cohort.track.regimen
    errors = FieldErrors()
    others = subject.dose_administrations.exclude(pk=dose.pk).order_by("cycle", "day")
    previous = others.filter(Q(cycle__lt=dose.cycle) | Q(cycle=dose.cycle, day__lt=dose.day)).last()
    _check_entry(dose, subject, errors)
    overdose = _check_amount(dose, study, errors)
    weight_outside, weight_changed = _check_weight(dose, study, previous, errors)
    dates_ok = _check_participation(dose, subject, errors)
    dates_ok = _check_slot(dose, subject, regimen, others, errors) and dates_ok
    outside_window = too_close_found = False
    if dates_ok:
        outside_window, too_close_found = _check_schedule(dose, subject, regimen, study, errors)
    needs_reason = (too_close_found and dose.short_interval_confirmed) or (
        weight_outside and dose.weight_outside_range_confirmed
    )
    if needs_reason and not dose.deviation_reason.strip():
        errors.add("deviation_reason", "Give the reason for the deviation.")
    errors.raise_if_any()
    dose.overdose_confirmed = overdose
    dose.short_interval_confirmed = too_close_found
    dose.outside_visit_window_confirmed = outside_window
    dose.weight_outside_range_confirmed = weight_outside
    dose.weight_change_confirmed = weight_changed


def _check_entry(dose: DoseAdministration, subject: Subject, errors: FieldErrors) -> None:
    """What the entry itself must hold: the study's unit, the interruption described, the lot
    number, an infusion that ends after it starts, no time later than now at the site."""
    study = subject.study
    if dose.dose_unit != study.dose_unit:
        errors.add(
            "dose_unit",
            f"Doses in this study are entered in {study.dose_unit}; a total in mg is computed from the weight.",
        )
    if dose.interrupted and not dose.interruption_details.strip():
        errors.add("interruption_details", "Describe the interruption.")
    if not dose.lot_number.strip():
        errors.add("lot_number", "The lot number is required.")
    if dose.infusion_end <= dose.infusion_start:
        errors.add("infusion_end", "The infusion must end after it starts.")
    for name in ("infusion_start", "infusion_end"):
        try:
            refuse_future(getattr(dose, name), field=name, tz_name=subject.site.timezone)
        except ValidationError as error:
            errors.add_error(error)


def _check_participation(dose: DoseAdministration, subject: Subject, errors: FieldErrors) -> bool:
    """The dose's day within the subject's participation: from consent and enrollment, not after
    death or the end of treatment. Returns whether it is."""
    day = dose.administered_on
    ok = True
    if subject.consent_date is None or day < subject.consent_date:
        errors.add(
            "infusion_start",
            f"A dose cannot be given before informed consent ({subject.consent_date}).",
        )
        ok = False
    elif subject.enrollment_date is None or day < subject.enrollment_date:
        errors.add(
            "infusion_start",
            f"A dose cannot be given before enrollment ({subject.enrollment_date}).",
        )
        ok = False
    if subject.death_date and day > subject.death_date:
        errors.add(
            "infusion_start",
            f"A dose cannot be given after the date of death ({subject.death_date}).",
        )
        ok = False
    if subject.end_of_treatment_date and day > subject.end_of_treatment_date:
        errors.add(
            "infusion_start",
            f"A dose cannot be given after end of treatment ({subject.end_of_treatment_date}).",
        )
        ok = False
    return ok


def _check_slot(dose: DoseAdministration, subject: Subject, regimen, others, errors) -> bool:
    """The cycle and day: an infusion day of the regimen, not recorded yet, Cycle 1 Day 1 first,
    and in order with the subject's other doses. Returns whether they are."""
    ok = True
    if dose.day not in regimen.infusion_days:
        errors.add(
            "day",
            f"{regimen.code} doses on days {', '.join(map(str, regimen.infusion_days))} of each cycle.",
        )
        ok = False
    if others.filter(cycle=dose.cycle, day=dose.day).exists():
        errors.add("day", f"Cycle {dose.cycle} Day {dose.day} is already recorded for {subject}.")
        ok = False
    first = others.filter(cycle=1, day=regimen.infusion_days[0]).first()
    is_first = dose.cycle == 1 and dose.day == regimen.infusion_days[0]
    if first is None and not is_first:
        errors.add("cycle", "The first dose recorded must be Cycle 1 Day 1.")
        ok = False
    return _check_order(dose, others, errors) and ok


def _check_order(dose: DoseAdministration, others, errors: FieldErrors) -> bool:
    """No dose of an earlier cycle or day given after this one, nor a later one before it."""
    day = dose.administered_on
    out_of_order = (
        others.filter(administered_on__gt=day, cycle__lt=dose.cycle).exists()
        or others.filter(administered_on__gt=day, cycle=dose.cycle, day__lt=dose.day).exists()
        or others.filter(administered_on__lt=day, cycle__gt=dose.cycle).exists()
        or others.filter(administered_on__lt=day, cycle=dose.cycle, day__gt=dose.day).exists()
    )
    if not out_of_order:
        return True
    later = others.filter(
        Q(cycle__gt=dose.cycle) | Q(cycle=dose.cycle, day__gt=dose.day),
        administered_on__lt=day,
    ).first()
    if later is not None:
        errors.add(
            "infusion_start",
            f"Cycle {dose.cycle} Day {dose.day} cannot follow C{later.cycle}D{later.day} "
            f"({later.administered_on}).",
        )
    else:
        errors.add("infusion_start", "This date is before a dose of an earlier cycle or day.")
    return False


@retry_on_conflict
def dose_record(
    *,
    by: User,
    subject: Subject,
    cycle: int,
    day: int,
    actual_dose_per_kg,
    body_weight_kg,
    infusion_start: datetime,
    infusion_end: datetime,
    lot_number: str,
    dose_unit: str = "mg/kg",
    interrupted: bool = False,
    interruption_details: str = "",
    dose_change_reason: str = "",
    confirm_outside_window: bool = False,
    overdose_confirmed: bool = False,
    short_interval_confirmed: bool = False,
    weight_outside_range_confirmed: bool = False,
    weight_change_confirmed: bool = False,
    deviation_reason: str = "",
) -> DoseAdministration:
    """Record one infusion at the subject's cohort dose level; the total mg is computed here.

    A deviation (outside the visit window, an overdose, an infusion too soon after the previous
    one) or an unusual weight is recorded as given once the coordinator confirms it (the
    `*_confirmed` arguments), with a reason where the protocol asks for one (docs/dosing.md).
    """
    require(by, Capability.ENTER_DATA, study_id=subject.study_id, site_id=subject.site_id)
    if refusal(Step.DOSE, subject.rule_state) or subject.cohort_id is None:
        raise field_error(
            "subject",
            f"{subject} is not on treatment (status: {subject.get_status_display()}): doses are "
            "recorded for enrolled subjects only.",
            "not_on_treatment",
        )
    if infusion_start is None or infusion_end is None:
        raise ValidationError(
            {
                n: ["This field is required."]
                for n, v in (("infusion_start", infusion_start), ("infusion_end", infusion_end))
                if v is None
            }
        )
    actual = _decimal(actual_dose_per_kg, "actual_dose_per_kg")
    weight = _decimal(body_weight_kg, "body_weight_kg")
    cohort = subject.cohort
    planned = cohort.dose_level.amount
    dose = DoseAdministration(
        subject=subject,
        cohort=cohort,
        cycle=cycle,
        day=day,
        planned_dose_level=cohort.dose_level,
        planned_dose_per_kg=planned,
        actual_dose_per_kg=actual,
        dose_unit=(dose_unit or "").strip(),
        body_weight_kg=weight,
        total_dose_mg=total_dose_mg(actual, weight) if actual > 0 and weight > 0 else Decimal("0"),
        administered_on=local_date(infusion_start, subject.site.timezone),
        infusion_start=infusion_start,
        infusion_end=infusion_end,
        interrupted=interrupted,
        interruption_details=(interruption_details or "").strip(),
        dose_change_reason=(dose_change_reason or "").strip(),
        outside_visit_window_confirmed=confirm_outside_window,
        overdose_confirmed=overdose_confirmed,
        short_interval_confirmed=short_interval_confirmed,
        weight_outside_range_confirmed=weight_outside_range_confirmed,
        weight_change_confirmed=weight_change_confirmed,
        deviation_reason=(deviation_reason or "").strip(),
        lot_number=(lot_number or "").strip(),
    )
    with transaction.atomic():
        # Serialise doses of one subject so two entries of the same visit cannot both pass.
        # FOR NO KEY UPDATE: it must not block the foreign-key checks of rows pointing at the
        # subject (the escalation evaluation's DLT status), see core.records.update_record.
        Subject.objects.select_for_update(no_key=True).filter(pk=subject.pk).first()
        _validate_dose(dose, subject)
        try:
            with transaction.atomic():
                create_record(dose, by=by, reason="Dose recorded")
        except IntegrityError as error:
            raise field_error(
                "day", f"Cycle {cycle} Day {day} is already recorded for {subject}.", "duplicate"
            ) from error
        _announce(dose, "created", by)
    return dose


# What a correction may change, the one list: the correction form (portal/forms.py) and the
# API's update input (api/inputs.py) take theirs from it.
EDITABLE_FIELDS: tuple[str, ...] = (
    "actual_dose_per_kg",
    "body_weight_kg",
    "infusion_start",
    "infusion_end",
    "interrupted",
    "interruption_details",
    "dose_change_reason",
    "lot_number",
    "outside_visit_window_confirmed",
    "overdose_confirmed",
    "short_interval_confirmed",
    "weight_outside_range_confirmed",
    "weight_change_confirmed",
    "deviation_reason",
)


@retry_on_conflict
def dose_update(
    *, by: User, dose: DoseAdministration, changes: dict, reason: str, expected_version: int | None
) -> DoseAdministration:
    """Correct a dose with a reason; the total mg and the local date follow the corrected values."""
    subject = dose.subject
    require(by, Capability.EDIT_DATA, study_id=subject.study_id, site_id=subject.site_id)
    not_editable = set(changes) - set(EDITABLE_FIELDS)
    if not_editable:
        raise ValidationError(
            {
                n: ["This field cannot be corrected; void the dose and record it again."]
                for n in not_editable
            }
        )
    changes = dict(changes)
    for name in ("actual_dose_per_kg", "body_weight_kg"):
        if name in changes:
            changes[name] = _decimal(changes[name], name)
    actual = changes.get("actual_dose_per_kg", dose.actual_dose_per_kg)
    weight = changes.get("body_weight_kg", dose.body_weight_kg)
    if actual > 0 and weight > 0:
        changes["total_dose_mg"] = total_dose_mg(actual, weight)
    if "infusion_start" in changes and changes["infusion_start"] is not None:
        changes["administered_on"] = local_date(changes["infusion_start"], subject.site.timezone)

    def validate(updated: DoseAdministration) -> None:
        _validate_dose(updated, subject)

    with transaction.atomic():
        dose = update_record(
            dose,
            by=by,
            changes=changes,
            reason=reason,
            expected_version=expected_version,
            validate=validate,
        )
        _announce(dose, "updated", by)
    return dose


@retry_on_conflict
def dose_void(
    *, by: User, dose: DoseAdministration, reason: str, expected_version: int | None
) -> DoseAdministration:
    subject = dose.subject
    require(by, Capability.EDIT_DATA, study_id=subject.study_id, site_id=subject.site_id)
    with transaction.atomic():
        dose = void_record(dose, by=by, reason=reason, expected_version=expected_version)
        _announce(dose, "voided", by)
    return dose
