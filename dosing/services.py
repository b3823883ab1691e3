"""Every write to a dose administration: record, correct, void (DOMAIN.md section 6 checks)."""

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.db import IntegrityError, transaction

from accounts.roles import Capability
from accounts.scoping import require
from core import events
from core.dates import local_date, refuse_future
from core.errors import ValidationError, field_error
from core.records import create_record, retry_on_conflict, update_record, void_record
from subjects.models import Subject

from .models import DoseAdministration
from .schedule import DoseSlot, slot_after, slot_for

MG = Decimal("0.001")


def _announce(record, action: str, by) -> None:
    """Tell the layers above (escalation evaluation, notifications) inside this transaction."""
    events.clinical_data_changed(
        subject_id=record.subject_id, record="dose", record_id=record.pk, action=action, by=by
    )


def total_dose_mg(dose_per_kg: Decimal, body_weight_kg: Decimal) -> Decimal:
    """mg/kg x kg, to the microgram."""
    return (Decimal(dose_per_kg) * Decimal(body_weight_kg)).quantize(MG, rounding=ROUND_HALF_UP)


def next_dose_slot(subject: Subject) -> DoseSlot:
    """The cycle and day the next dose is due, with its visit window."""
    doses = list(
        subject.dose_administrations.order_by("cycle", "day").values_list(
            "cycle", "day", "administered_on"
        )
    )
    return slot_following(subject.cohort.track.regimen, doses)


def slot_following(regimen, doses: list[tuple[int, int, date]]) -> DoseSlot:
    """The next slot after already-loaded (cycle, day, administered_on) doses, ordered by cycle
    and day: for pages that list many subjects with their doses prefetched."""
    first = next((d[2] for d in doses if (d[0], d[1]) == (1, regimen.infusion_days[0])), None)
    last = (doses[-1][0], doses[-1][1]) if doses else None
    return slot_after(
        last,
        first_dose=first,
        infusion_days=regimen.infusion_days,
        cycle_length_days=regimen.cycle_length_days,
        window_days=regimen.visit_window_days,
    )


def _decimal(value, field: str) -> Decimal:
    try:
        number = Decimal(str(value))
    except (InvalidOperation, TypeError, ValueError):
        raise field_error(field, "Enter a number.", "invalid") from None
    if not number.is_finite():
        raise field_error(field, "Enter a number.", "invalid")
    return number


def _validate_dose(
    dose: DoseAdministration, subject: Subject, *, confirm_outside_window: bool
) -> None:
    """The rules of one dose against its subject, regimen and study. Raises with every problem."""
    study = subject.study
    site = subject.site
    regimen = subject.cohort.track.regimen
    errors: dict[str, list[str]] = {}

    def add(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    if dose.dose_unit != study.dose_unit:
        add(
            "dose_unit",
            f"Doses in this study are entered in {study.dose_unit}; a total in mg is computed from the weight.",
        )
    if dose.body_weight_kg <= 0:
        add("body_weight_kg", "Body weight must be above 0 kg.")
    elif not (study.min_weight_kg <= dose.body_weight_kg <= study.max_weight_kg):
        add(
            "body_weight_kg",
            f"{dose.body_weight_kg} kg is outside the plausible range "
            f"{study.min_weight_kg}-{study.max_weight_kg} kg: check the unit (kg, not lb).",
        )
    if dose.actual_dose_per_kg <= 0:
        add("actual_dose_per_kg", "The dose given must be above 0.")
    else:
        ceiling = dose.planned_dose_per_kg * (
            1 + Decimal(study.max_dose_over_planned_percent) / 100
        )
        if dose.actual_dose_per_kg > ceiling:
            add(
                "actual_dose_per_kg",
                f"{dose.actual_dose_per_kg} {study.dose_unit} is more than "
                f"{study.max_dose_over_planned_percent}% above the planned "
                f"{dose.planned_dose_per_kg.normalize():f} {study.dose_unit}: was a total dose in mg "
                f"entered as {study.dose_unit}?",
            )
        elif (
            dose.actual_dose_per_kg != dose.planned_dose_per_kg
            and not dose.dose_change_reason.strip()
        ):
            add(
                "dose_change_reason",
                f"The dose differs from the cohort's {dose.planned_dose_per_kg.normalize():f} "
                f"{study.dose_unit}: give the reason.",
            )
    if dose.interrupted and not dose.interruption_details.strip():
        add("interruption_details", "Describe the interruption.")
    if not dose.lot_number.strip():
        add("lot_number", "The lot number is required.")
    if dose.infusion_end <= dose.infusion_start:
        add("infusion_end", "The infusion must end after it starts.")
    for name in ("infusion_start", "infusion_end"):
        try:
            refuse_future(getattr(dose, name), field=name, tz_name=site.timezone)
        except ValidationError as error:
            errors.update(error.message_dict)
    day = dose.administered_on
    if subject.consent_date is None or day < subject.consent_date:
        add(
            "infusion_start",
            f"A dose cannot be given before informed consent ({subject.consent_date}).",
        )
    elif subject.enrollment_date is None or day < subject.enrollment_date:
        add(
            "infusion_start",
            f"A dose cannot be given before enrollment ({subject.enrollment_date}).",
        )
    if subject.death_date and day > subject.death_date:
        add(
            "infusion_start",
            f"A dose cannot be given after the date of death ({subject.death_date}).",
        )
    if subject.end_of_treatment_date and day > subject.end_of_treatment_date:
        add(
            "infusion_start",
            f"A dose cannot be given after end of treatment ({subject.end_of_treatment_date}).",
        )
    if dose.day not in regimen.infusion_days:
        add(
            "day",
            f"{regimen.code} doses on days {', '.join(map(str, regimen.infusion_days))} of each cycle.",
        )
    others = subject.dose_administrations.exclude(pk=dose.pk).order_by("cycle", "day")
    if others.filter(cycle=dose.cycle, day=dose.day).exists():
        add("day", f"Cycle {dose.cycle} Day {dose.day} is already recorded for {subject}.")
    first = others.filter(cycle=1, day=regimen.infusion_days[0]).first()
    is_first = dose.cycle == 1 and dose.day == regimen.infusion_days[0]
    if first is None and not is_first:
        add("cycle", "The first dose recorded must be Cycle 1 Day 1.")
    if first is not None and not errors:
        slot = slot_for(
            dose.cycle,
            dose.day,
            first_dose=first.administered_on,
            cycle_length_days=regimen.cycle_length_days,
            window_days=regimen.visit_window_days,
        )
        earlier = (
            others.filter(administered_on__gt=day, cycle__lt=dose.cycle).exists()
            or others.filter(administered_on__gt=day, cycle=dose.cycle, day__lt=dose.day).exists()
        )
        if earlier:
            add("infusion_start", "This date is before a dose of an earlier cycle or day.")
        elif not slot.contains(day) and not confirm_outside_window:
            add(
                "outside_visit_window_confirmed",
                f"{slot.label} was planned for {slot.planned_on} (window {slot.earliest} to "
                f"{slot.latest}); confirm to record a dose outside its visit window.",
            )
    if is_first and first is None:
        later = others.filter(administered_on__lt=day).first()
        if later is not None:
            add("infusion_start", f"Cycle 1 Day 1 cannot follow {later} ({later.administered_on}).")
    if errors:
        raise ValidationError(errors)


@retry_on_conflict
def dose_record(
    *,
    by,
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
) -> DoseAdministration:
    """Record one infusion at the subject's cohort dose level; the total mg is computed here."""
    require(by, Capability.ENTER_DATA, study_id=subject.study_id, site_id=subject.site_id)
    if subject.status != Subject.Status.ENROLLED or subject.cohort_id is None:
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
        lot_number=(lot_number or "").strip(),
    )
    with transaction.atomic():
        # Serialise doses of one subject so two entries of the same visit cannot both pass.
        # FOR NO KEY UPDATE: it must not block the foreign-key checks of rows pointing at the
        # subject (the escalation evaluation's DLT status), see core.records.update_record.
        Subject.objects.select_for_update(no_key=True).filter(pk=subject.pk).first()
        _validate_dose(dose, subject, confirm_outside_window=confirm_outside_window)
        try:
            with transaction.atomic():
                create_record(dose, by=by, reason="Dose recorded")
        except IntegrityError as error:
            raise field_error(
                "day", f"Cycle {cycle} Day {day} is already recorded for {subject}.", "duplicate"
            ) from error
        _announce(dose, "created", by)
    return dose


EDITABLE_FIELDS = {
    "actual_dose_per_kg",
    "body_weight_kg",
    "infusion_start",
    "infusion_end",
    "interrupted",
    "interruption_details",
    "dose_change_reason",
    "lot_number",
    "outside_visit_window_confirmed",
}


@retry_on_conflict
def dose_update(
    *, by, dose: DoseAdministration, changes: dict, reason: str, expected_version: int | None
) -> DoseAdministration:
    """Correct a dose with a reason; the total mg and the local date follow the corrected values."""
    subject = dose.subject
    require(by, Capability.EDIT_DATA, study_id=subject.study_id, site_id=subject.site_id)
    not_editable = set(changes) - EDITABLE_FIELDS
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
        _validate_dose(
            updated, subject, confirm_outside_window=updated.outside_visit_window_confirmed
        )

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
    *, by, dose: DoseAdministration, reason: str, expected_version: int | None
) -> DoseAdministration:
    subject = dose.subject
    require(by, Capability.EDIT_DATA, study_id=subject.study_id, site_id=subject.site_id)
    with transaction.atomic():
        dose = void_record(dose, by=by, reason=reason, expected_version=expected_version)
        _announce(dose, "voided", by)
    return dose
