"""Every write of the efficacy app: the study's efficacy settings from the protocol file, tumour
assessments with their lesions, corrections and voids (docs/efficacy.md §15).

A new or corrected assessment is checked field by field (each message names the field and the
RECIST rule), then together with the subject's other assessments by the rules core, before
anything is saved; one transaction saves it all or nothing.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation

from django.db import transaction

from accounts.roles import Capability
from accounts.scoping import require
from core.dates import local_date, refuse_future
from core.errors import ValidationError, field_error
from core.records import create_record, retry_on_conflict, update_record, void_record
from subjects.models import Subject

from .imaging import Scan, evaluate
from .models import EfficacySettings, Lesion, LesionObservation, TumourAssessment
from .rules import BaselineLesion as CoreLesion
from .rules import (
    EfficacyInputError,
    MeasurementStatus,
    NewLesionCertainty,
    NonTargetStatus,
    measurability,
)

SETTING_FIELDS = (
    "baseline_window_days",
    "assessment_every_weeks",
    "assessment_window_days",
    "confirmation_days",
    "sd_minimum_days",
    "max_ne_between",
    "accept_sd_between",
    "continue_confirmed_pr",
    "missed_assessments",
    "km_conf_type",
    "dcr_includes_non_cr_non_pd",
)
MAX_MM = Decimal("999.9")

# ---------------------------------------------------------------------------------------------
# Settings


def load_settings_from_protocol(sender, *, study, data: dict, by=None, summary=None, **kwargs):
    """The [efficacy] section of the protocol file (defaults where absent). Idempotent: a reload
    that changes nothing records nothing."""
    section = dict(data.get("efficacy", {}))
    unknown = set(section) - set(SETTING_FIELDS)
    if unknown:
        raise ValidationError(
            {"efficacy": f"Unknown efficacy settings: {', '.join(sorted(unknown))}."}
        )
    current = EfficacySettings.objects.filter(study=study).first()
    created = current is None
    if created:
        current = EfficacySettings(study=study)
    differing = {k: v for k, v in section.items() if getattr(current, k) != v}
    if not created and not differing:
        return current
    for key, value in differing.items():
        setattr(current, key, value)
    try:
        current.full_clean()
        current.recist()  # the core's own checks of the values
        current.endpoints()
    except EfficacyInputError as error:
        raise ValidationError({"efficacy": str(error)}) from error
    except ValidationError as error:
        raise ValidationError(
            {"efficacy": [f"{k}: {' '.join(v)}" for k, v in error.message_dict.items()]}
        ) from error
    current._history_user = by
    current._change_reason = f"Loaded from protocol file ({'created' if created else 'updated'})"
    current.save()
    if summary is not None:
        label = "efficacy settings"
        if created:
            summary.created.append(label)
        else:
            summary.updated.append(f"{label} ({', '.join(sorted(differing))})")
    return current


def settings_for(study_id: int) -> EfficacySettings:
    """The study's settings; the defaults (unsaved) for a study loaded before they existed."""
    found = EfficacySettings.objects.filter(study_id=study_id).first()
    return found if found is not None else EfficacySettings(study_id=study_id)


# ---------------------------------------------------------------------------------------------
# Facts about the subject the rules need


def first_dose_on(subject: Subject) -> date | None:
    """The date (at the site) of the subject's first infusion of study drug."""
    from dosing.models import DoseAdministration

    first = DoseAdministration.objects.filter(subject=subject).order_by("infusion_start").first()
    return local_date(first.infusion_start, subject.site.timezone) if first else None


def subject_scans(subject: Subject) -> list[Scan]:
    """The subject's active assessments with their observations, in date order."""
    assessments = list(TumourAssessment.objects.filter(subject=subject).order_by("assessed_on"))
    observations = (
        LesionObservation.objects.filter(assessment__in=assessments)
        .select_related("lesion", "merged_into")
        .order_by("lesion__code")
    )
    by_assessment: dict[int, list[LesionObservation]] = {}
    for observation in observations:
        by_assessment.setdefault(observation.assessment_id, []).append(observation)
    return [Scan(a, by_assessment.get(a.pk, [])) for a in assessments]


# ---------------------------------------------------------------------------------------------
# Input checks, each naming the field and the rule


def _mm(value, field: str, errors: dict) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        errors.setdefault(field, []).append(f"'{value}' is not a length in mm.")
        return None
    if not number.is_finite() or number < 0:
        errors.setdefault(field, []).append("A length in mm is 0 or more.")
        return None
    if number > MAX_MM:
        errors.setdefault(field, []).append(f"{number} mm is more than {MAX_MM} mm.")
        return None
    if number != number.quantize(Decimal("0.1")):
        errors.setdefault(field, []).append("Record lengths to 0.1 mm.")
        return None
    return number


def _prefix(item: dict, index: int) -> str:
    return item.get("field_prefix") or f"lesions[{index}]."


def _error(errors: dict, field: str, message: str) -> None:
    errors.setdefault(field, []).append(message)


def _check_measurable(
    assessment: TumourAssessment, lesion: Lesion, size: Decimal | None, prefix: str, errors: dict
) -> None:
    """A target must be measurable with the scan's method (RECIST 1.1 §3.1.1, docs §1); a node
    under 10 mm is not a lesion at all (the core's refusal)."""
    if not (lesion.code and lesion.organ and assessment.method):
        return
    try:
        judged = measurability(
            CoreLesion(
                lesion.code,
                organ=lesion.organ,
                role=lesion.role,  # type: ignore[arg-type]
                method=assessment.method,  # type: ignore[arg-type]
                size_mm=size,
                nodal=lesion.nodal,
                slice_thickness_mm=assessment.slice_thickness_mm,
                measurable_by_nature=lesion.measurable_by_nature,
            )
        )
    except EfficacyInputError as error:
        _error(errors, f"{prefix}size_mm", str(error))
        return
    if lesion.role == Lesion.Role.TARGET and size is not None and not judged.measurable:
        _error(
            errors,
            f"{prefix}size_mm",
            f"A target lesion must be measurable: {judged.reason} ({judged.rule.value}).",
        )


def _baseline_row(
    subject: Subject,
    assessment: TumourAssessment,
    row: dict,
    prefix: str,
    seen: set[str],
    errors: dict,
) -> tuple[Lesion, LesionObservation] | None:
    """One baseline lesion with its observation, each refusal on its field (docs §1-§2)."""
    code = (row.get("code") or "").strip().upper()
    role = row.get("role")
    size = _mm(row.get("size_mm"), f"{prefix}size_mm", errors)
    if not code:
        _error(errors, f"{prefix}code", "Give the lesion a code (e.g. T1).")
    elif code in seen:
        _error(errors, f"{prefix}code", f"Lesion code {code} is used twice.")
    seen.add(code)
    if role not in (Lesion.Role.TARGET, Lesion.Role.NON_TARGET):
        _error(errors, f"{prefix}role", "At baseline a lesion is a target or a non-target lesion.")
        return None
    lesion = Lesion(
        subject=subject,
        code=code,
        role=role,
        organ=" ".join((row.get("organ") or "").split()),
        location=(row.get("location") or "").strip(),
        nodal=bool(row.get("nodal")),
        measurable_by_nature=row.get("measurable_by_nature", True) is not False,
    )
    if not lesion.organ:
        _error(
            errors,
            f"{prefix}organ",
            "Name the organ (at most 2 target lesions per organ, RECIST 1.1 §4.2).",
        )
    if role == Lesion.Role.TARGET and size is None and f"{prefix}size_mm" not in errors:
        _error(
            errors,
            f"{prefix}size_mm",
            "A target lesion needs its size: longest diameter, or short axis for a lymph node "
            "(RECIST 1.1 §4.2).",
        )
    _check_measurable(assessment, lesion, size, prefix, errors)
    status = MeasurementStatus.MEASURED if role == Lesion.Role.TARGET else NonTargetStatus.PRESENT
    return lesion, LesionObservation(lesion=lesion, status=status.value, size_mm=size)


def _check_target_choice(made: dict[int, Lesion], rows: list[dict], errors: dict) -> None:
    """At most 5 targets, at most 2 per organ, all lymph nodes one organ (RECIST 1.1 §4.2).
    `made`: the lesions by the index of their row; an excess lands on the row of the third."""
    targets = [lesion for lesion in made.values() if lesion.role == Lesion.Role.TARGET]
    if len(targets) > 5:
        _error(
            errors,
            "lesions",
            f"{len(targets)} target lesions ({', '.join(t.code for t in targets)}): at most 5 "
            "(RECIST 1.1 §4.2).",
        )
    by_organ: dict[str, list[Lesion]] = {}
    for target in targets:
        key = "lymph nodes" if target.nodal else target.organ.lower()
        by_organ.setdefault(key, []).append(target)
    for organ, found in by_organ.items():
        if len(found) > 2:
            third = next(i for i, lesion in made.items() if lesion is found[2])
            _error(
                errors,
                f"{_prefix(rows[third], third)}organ",
                f"{len(found)} target lesions in {organ} ({', '.join(t.code for t in found)}): "
                "at most 2 per organ (RECIST 1.1 §4.2; all lymph nodes are one organ).",
            )


def _baseline_rows(
    subject: Subject, assessment: TumourAssessment, rows: list[dict], errors: dict
) -> list[tuple[Lesion, LesionObservation]]:
    made: dict[int, tuple[Lesion, LesionObservation]] = {}
    seen: set[str] = set()
    if not rows:
        _error(
            errors,
            "lesions",
            "Record at least one lesion: RECIST response needs disease at baseline (RECIST 1.1 "
            "§3.1).",
        )
    for index, row in enumerate(rows):
        pair = _baseline_row(subject, assessment, row, _prefix(row, index), seen, errors)
        if pair is not None:
            made[index] = pair
    _check_target_choice({i: lesion for i, (lesion, _) in made.items()}, rows, errors)
    return list(made.values())


TARGET_STATUSES = {s.value for s in MeasurementStatus}
NON_TARGET_STATUSES = {s.value for s in NonTargetStatus}
NEW_STATUSES = {s.value for s in NewLesionCertainty}


def _new_lesion_row(
    subject: Subject, row: dict, code: str, lesion: Lesion | None, prefix: str, errors: dict
) -> tuple[Lesion, LesionObservation] | None:
    """A lesion first seen now, or a new lesion seen before: a new lesion (RECIST 1.1 §4.3.5)."""
    status = row.get("status") or ""
    if row.get("role", Lesion.Role.NEW) != Lesion.Role.NEW:
        _error(
            errors,
            f"{prefix}code",
            f"{code} is not a lesion recorded at baseline; a lesion found now is a new lesion "
            "(RECIST 1.1 §4.3.5).",
        )
        return None
    if lesion is None:
        organ = " ".join((row.get("organ") or "").split())
        if not organ:
            _error(errors, f"{prefix}organ", "Name the organ of the new lesion.")
        lesion = Lesion(
            subject=subject,
            code=code,
            role=Lesion.Role.NEW,
            organ=organ,
            location=(row.get("location") or "").strip(),
            nodal=bool(row.get("nodal")),
        )
    if status not in NEW_STATUSES:
        _error(
            errors,
            f"{prefix}status",
            "A new lesion is unequivocal or equivocal (RECIST 1.1 §4.3.5).",
        )
    return lesion, LesionObservation(lesion=lesion, status=status)


def split_parts(value, field: str, errors: dict) -> list[str]:
    """The diameters of a split lesion's parts ("12, 8" or a list), as decimal strings; fewer
    than two is refused (RECIST 1.1 §4.3.2: the parts are added)."""
    items = (
        value if isinstance(value, list | tuple) else str(value or "").replace(";", ",").split(",")
    )
    parts = [_mm(p, field, errors) for p in items if str(p).strip()]
    if len(parts) < 2 and field not in errors:
        _error(
            errors,
            field,
            "A split lesion needs the diameters of its 2 or more parts (RECIST 1.1 §4.3.2: the "
            "parts are added).",
        )
    return [str(p) for p in parts if p is not None]


def _check_target_observation(
    observation: LesionObservation, prefix: str, errors: dict, *, size_checked: bool = False
) -> None:
    """A target at follow-up: a known status, a size exactly when measured, a node never gone
    (RECIST 1.1 §4.3.2; docs §3). `size_checked`: the size already has an error."""
    lesion, status, size = observation.lesion, observation.status, observation.size_mm
    if status not in TARGET_STATUSES:
        _error(
            errors,
            f"{prefix}status",
            f"Target {lesion.code}: choose measured, too small to measure, gone, split, merged "
            "or not evaluated (RECIST 1.1 §4.3.2).",
        )
    elif status == MeasurementStatus.MEASURED and size is None:
        if not size_checked:
            _error(
                errors,
                f"{prefix}size_mm",
                f"Target {lesion.code} is measured: give its "
                + ("short axis" if lesion.nodal else "longest diameter")
                + " in mm.",
            )
    elif status != MeasurementStatus.MEASURED and size is not None:
        _error(
            errors,
            f"{prefix}size_mm",
            f"A size is given only for a measured lesion (status: {status}).",
        )
    if status == MeasurementStatus.GONE and lesion.nodal:
        _error(
            errors,
            f"{prefix}status",
            f"{lesion.code} is a lymph node: it keeps its real short axis even under 10 mm, "
            "never 'gone' (RECIST 1.1 §4.3.2).",
        )


def _target_row(
    observation: LesionObservation, row: dict, known: dict[str, Lesion], prefix: str, errors: dict
) -> None:
    lesion = observation.lesion
    _check_target_observation(
        observation, prefix, errors, size_checked=f"{prefix}size_mm" in errors
    )
    if observation.status == MeasurementStatus.SPLIT:
        observation.parts_mm = split_parts(row.get("parts_mm"), f"{prefix}parts_mm", errors)
    if observation.status == MeasurementStatus.MERGED:
        into = known.get((row.get("merged_into") or "").strip().upper())
        if into is None or into.role != Lesion.Role.TARGET or into is lesion:
            _error(
                errors,
                f"{prefix}merged_into",
                "Name the other target lesion that now holds the merged mass.",
            )
        else:
            observation.merged_into = into


def _check_non_target_observation(
    observation: LesionObservation, prefix: str, errors: dict
) -> None:
    """A non-target lesion: a known status, never a size (RECIST 1.1 §4.3.3; docs §4)."""
    if observation.status not in NON_TARGET_STATUSES:
        _error(
            errors,
            f"{prefix}status",
            f"Non-target {observation.lesion.code}: choose present, absent, unequivocal "
            "progression or not evaluated (RECIST 1.1 §4.3.3).",
        )
    if observation.size_mm is not None:
        _error(
            errors,
            f"{prefix}size_mm",
            "Non-target lesions are followed by status, not size (RECIST 1.1 §4.3.3).",
        )


def _follow_up_row(
    subject: Subject,
    row: dict,
    prefix: str,
    known: dict[str, Lesion],
    seen: set[str],
    errors: dict,
) -> tuple[Lesion, LesionObservation] | None:
    code = (row.get("code") or "").strip().upper()
    if not code:
        _error(errors, f"{prefix}code", "Give the lesion's code.")
        return None
    if code in seen:
        _error(errors, f"{prefix}code", f"Lesion {code} is recorded twice.")
        return None
    seen.add(code)
    lesion = known.get(code)
    if lesion is None or lesion.role == Lesion.Role.NEW:
        return _new_lesion_row(subject, row, code, lesion, prefix, errors)
    size = _mm(row.get("size_mm"), f"{prefix}size_mm", errors)
    observation = LesionObservation(lesion=lesion, status=row.get("status") or "", size_mm=size)
    if lesion.role == Lesion.Role.TARGET:
        _target_row(observation, row, known, prefix, errors)
    else:
        _check_non_target_observation(observation, prefix, errors)
    return lesion, observation


def _follow_up_rows(
    subject: Subject,
    rows: list[dict],
    known: dict[str, Lesion],
    errors: dict,
) -> list[tuple[Lesion, LesionObservation]]:
    made: list[tuple[Lesion, LesionObservation]] = []
    seen: set[str] = set()
    for index, row in enumerate(rows):
        pair = _follow_up_row(subject, row, _prefix(row, index), known, seen, errors)
        if pair is not None:
            made.append(pair)
    missing = sorted(
        code
        for code, lesion in known.items()
        if lesion.role != Lesion.Role.NEW and code not in seen
    )
    if missing:
        _error(
            errors,
            "lesions",
            f"Record every baseline lesion at each assessment (not evaluated if it was not "
            f"looked at): missing {', '.join(missing)}.",
        )
    return made


def _check_dates(subject: Subject, assessment: TumourAssessment, errors: dict) -> None:
    try:
        refuse_future(assessment.assessed_on, field="assessed_on", tz_name=subject.site.timezone)
    except ValidationError as error:
        for key, messages in error.message_dict.items():
            errors.setdefault(key, []).extend(messages)
    if subject.death_date and assessment.assessed_on > subject.death_date:
        errors.setdefault("assessed_on", []).append(
            f"The scan cannot follow the date of death ({subject.death_date})."
        )


def _check_with_the_rest(subject: Subject, scans: list[Scan], settings: EfficacySettings) -> None:
    """The whole record through the rules core; its refusal names the lesion and the rule."""
    outcome = evaluate(settings.recist(), subject.label, first_dose_on(subject), scans)
    if outcome.result is None and outcome.problem.startswith(("no baseline", "no dose")):
        return
    if outcome.result is None:
        raise ValidationError({"__all__": [outcome.problem]})


# ---------------------------------------------------------------------------------------------
# Writes


@retry_on_conflict
def tumour_assessment_record(
    *,
    by,
    subject: Subject,
    kind: str,
    assessed_on: date,
    method: str,
    lesions: list[dict],
    investigator_response: str = "",
    tumour_markers: str = "",
    slice_thickness_mm: Decimal | None = None,
    comment: str = "",
) -> TumourAssessment:
    """Record a baseline or follow-up tumour assessment with every lesion, or nothing.

    `lesions`: at baseline, each {code, role ("target"/"non-target"), organ, location, nodal,
    measurable_by_nature, size_mm}; at follow-up, each baseline lesion {code, status, size_mm,
    parts_mm ("12, 8"), merged_into} and each new lesion {code, role: "new", organ, location,
    status: "unequivocal"/"equivocal"}. An optional `field_prefix` per item names its fields in
    errors (default "lesions[i].").
    """
    require(by, Capability.ENTER_DATA, study_id=subject.study_id, site_id=subject.site_id)
    if subject.status == Subject.Status.SCREEN_FAILED:
        raise field_error("subject", f"{subject} is a screen failure: no tumour assessments.")
    settings = settings_for(subject.study_id)
    assessment = TumourAssessment(
        subject=subject,
        kind=kind,
        assessed_on=assessed_on,
        method=method,
        slice_thickness_mm=slice_thickness_mm,
        tumour_markers=tumour_markers or "",
        investigator_response=investigator_response or "",
        comment=(comment or "").strip(),
        created_by=by,
    )
    errors: dict[str, list[str]] = {}
    if kind not in TumourAssessment.Kind.values:
        raise field_error("kind", "An assessment is a baseline or a follow-up.")
    with transaction.atomic():
        # One writer per subject at a time: the check below reads the other assessments.
        Subject.all_objects.select_for_update(no_key=True).get(pk=subject.pk)
        scans = subject_scans(subject)
        baseline = next((s for s in scans if s.assessment.is_baseline), None)
        _check_dates(subject, assessment, errors)
        if kind == TumourAssessment.Kind.BASELINE:
            if baseline is not None:
                errors.setdefault("kind", []).append(
                    f"A baseline assessment of {baseline.assessment.assessed_on} is recorded: "
                    "void it first to enter another."
                )
            if investigator_response:
                errors.setdefault("investigator_response", []).append(
                    "A baseline assessment has no response."
                )
            made = _baseline_rows(subject, assessment, lesions, errors)
        else:
            if baseline is None:
                raise field_error(
                    "kind", "Record the baseline tumour assessment before any follow-up."
                )
            if first_dose_on(subject) is None:
                raise field_error(
                    "assessed_on",
                    "No dose of study drug is recorded: follow-up assessments come after the "
                    "first dose.",
                )
            if not investigator_response:
                errors.setdefault("investigator_response", []).append(
                    "Give the investigator's overall response (RECIST 1.1)."
                )
            known = {
                lesion.code: lesion
                for scan in scans
                for lesion in (o.lesion for o in scan.observations)
            }
            made = _follow_up_rows(subject, lesions, known, errors)
        if errors:
            raise ValidationError(errors)
        try:
            assessment.full_clean(exclude=["created_by"])
        except ValidationError as error:
            raise ValidationError(error.message_dict) from error
        scan = Scan(assessment, [observation for _, observation in made])
        _check_with_the_rest(subject, [*scans, scan], settings)
        reason = f"{assessment.get_kind_display()} tumour assessment entered"
        create_record(assessment, by=by, reason=reason)
        for lesion, observation in made:
            if lesion.pk is None:
                lesion.first_seen = assessment
                create_record(lesion, by=by, reason=reason)
            observation.assessment = assessment
            observation.lesion = lesion
            create_record(observation, by=by, reason=reason)
    return assessment


ASSESSMENT_FIELDS = {
    "assessed_on",
    "method",
    "slice_thickness_mm",
    "tumour_markers",
    "investigator_response",
    "comment",
}
OBSERVATION_FIELDS = {"status", "size_mm", "parts_mm", "merged_into"}


def _revalidate(
    subject: Subject,
    replace: TumourAssessment | LesionObservation | Lesion,
    field: str = "__all__",
) -> None:
    """The subject's whole record, with `replace` in place of its stored version, through the
    rules core; a refusal lands on `field` (the one field corrected, when there is one)."""
    scans = subject_scans(subject)
    for scan in scans:
        if isinstance(replace, TumourAssessment) and scan.assessment.pk == replace.pk:
            scan.assessment = replace
        if isinstance(replace, LesionObservation):
            scan.observations = [replace if o.pk == replace.pk else o for o in scan.observations]
        if isinstance(replace, Lesion):
            for observation in scan.observations:
                if observation.lesion_id == replace.pk:
                    observation.lesion = replace
    errors: dict[str, list[str]] = {}
    if isinstance(replace, TumourAssessment):
        _check_dates(subject, replace, errors)
    if errors:
        raise ValidationError(errors)
    try:
        _check_with_the_rest(subject, scans, settings_for(subject.study_id))
    except ValidationError as error:
        raise ValidationError({field: error.message_dict.get("__all__", error.messages)}) from error


def _one_field(original, current, changes: dict) -> str:
    """The field a whole-record refusal belongs to: the one field the correction changed."""
    changed = [name for name in changes if getattr(original, name) != getattr(current, name)]
    return changed[0] if len(changed) == 1 else "__all__"


@retry_on_conflict
def tumour_assessment_update(
    *, by, assessment: TumourAssessment, changes: dict, reason: str, expected_version: int | None
) -> TumourAssessment:
    """Correct an assessment's date, method, markers, investigator's response or comment."""
    subject = assessment.subject
    require(by, Capability.EDIT_DATA, study_id=subject.study_id, site_id=subject.site_id)
    not_editable = set(changes) - ASSESSMENT_FIELDS
    if not_editable:
        raise ValidationError({n: ["This field cannot be edited here."] for n in not_editable})
    with transaction.atomic():
        Subject.all_objects.select_for_update(no_key=True).get(pk=subject.pk)
        assessment = update_record(
            assessment,
            by=by,
            changes=changes,
            reason=reason,
            expected_version=expected_version,
            validate=lambda current: _revalidate(
                subject, current, _one_field(assessment, current, changes)
            ),
        )
    return assessment


def _parts(value, errors: dict) -> list[str]:
    items = (
        value if isinstance(value, list | tuple) else str(value or "").replace(";", ",").split(",")
    )
    parts = [_mm(p, "parts_mm", errors) for p in items if str(p).strip()]
    return [str(p) for p in parts if p is not None]


def _check_corrected_observation(current: LesionObservation, changes: dict) -> None:
    """One lesion at one scan after a correction: the status its role allows, a size exactly
    when a target is measured, the parts of a split, the target a merged one went into
    (RECIST 1.1 §4.3; docs/efficacy.md §3-§4); each refusal on its field."""
    lesion = current.lesion
    errors: dict[str, list[str]] = {}
    allowed = {
        Lesion.Role.TARGET: TARGET_STATUSES,
        Lesion.Role.NON_TARGET: NON_TARGET_STATUSES,
        Lesion.Role.NEW: NEW_STATUSES,
    }[lesion.role]  # type: ignore[index]
    if current.status not in allowed:
        raise field_error("status", f"'{current.status}' is not a status of this lesion.")
    follow_up = not current.assessment.is_baseline
    if lesion.role == Lesion.Role.TARGET and follow_up:
        if (current.status == MeasurementStatus.MEASURED) != (current.size_mm is not None):
            raise field_error(
                "size_mm", "A size is given for a measured target lesion, and only then."
            )
        _check_target_observation(current, "", errors, size_checked=True)
    elif lesion.role == Lesion.Role.NON_TARGET and follow_up:
        _check_non_target_observation(current, "", errors)
    elif lesion.role == Lesion.Role.NEW and current.size_mm is not None:
        _error(errors, "size_mm", "A new lesion is recorded by its certainty, not its size.")
    if current.status == MeasurementStatus.SPLIT:
        if len(current.parts_mm or []) < 2:
            _error(
                errors,
                "parts_mm",
                "A split lesion needs the diameters of its 2 or more parts (RECIST 1.1 "
                "§4.3.2: the parts are added).",
            )
    elif changes.get("parts_mm"):
        _error(errors, "parts_mm", "Parts are given only for a split target lesion.")
    else:
        current.parts_mm = []
    into = current.merged_into
    if current.status == MeasurementStatus.MERGED:
        if (
            into is None
            or into.subject_id != lesion.subject_id
            or into.role != Lesion.Role.TARGET
            or into.pk == lesion.pk
        ):
            _error(
                errors,
                "merged_into",
                "Name the other target lesion that now holds the merged mass.",
            )
    elif changes.get("merged_into") is not None:
        _error(errors, "merged_into", "Only a merged target lesion goes into another.")
    else:
        current.merged_into = None
    if errors:
        raise ValidationError(errors)


@retry_on_conflict
def lesion_observation_update(
    *,
    by,
    observation: LesionObservation,
    changes: dict,
    reason: str,
    expected_version: int | None,
) -> LesionObservation:
    """Correct one lesion's status, size, split parts or merge at one assessment; the subject's
    whole record is checked again by the rules core."""
    subject = observation.assessment.subject
    require(by, Capability.EDIT_DATA, study_id=subject.study_id, site_id=subject.site_id)
    not_editable = set(changes) - OBSERVATION_FIELDS
    if not_editable:
        raise ValidationError({n: ["This field cannot be edited here."] for n in not_editable})
    errors: dict[str, list[str]] = {}
    if observation.assessment.is_baseline and changes.get("status", observation.status) != (
        observation.status
    ):
        errors["status"] = [
            "A baseline lesion is recorded as present; correct its size, or void the baseline "
            "and enter it again to change the choice of lesions."
        ]
    if "size_mm" in changes:
        changes["size_mm"] = _mm(changes["size_mm"], "size_mm", errors)
    if "parts_mm" in changes:
        changes["parts_mm"] = _parts(changes["parts_mm"], errors)
    if errors:
        raise ValidationError(errors)

    def validate(current: LesionObservation) -> None:
        _check_corrected_observation(current, changes)
        _revalidate(subject, current, _one_field(observation, current, changes))

    with transaction.atomic():
        Subject.all_objects.select_for_update(no_key=True).get(pk=subject.pk)
        observation = update_record(
            observation,
            by=by,
            changes=changes,
            reason=reason,
            expected_version=expected_version,
            validate=validate,
        )
    return observation


LESION_FIELDS = ("organ", "location", "nodal", "measurable_by_nature")


@retry_on_conflict
def lesion_update(
    *, by, lesion: Lesion, changes: dict, reason: str, expected_version: int | None
) -> Lesion:
    """Correct a lesion's organ, location, lymph-node flag or non-measurability by nature. Its
    code and role are the choice made at baseline (void the baseline to choose again). The
    subject's whole record is checked again by the rules core: a target must stay measurable,
    at most 2 per organ (RECIST 1.1 §3.1, §4.2; docs/efficacy.md §1-§2)."""
    subject = lesion.subject
    require(by, Capability.EDIT_DATA, study_id=subject.study_id, site_id=subject.site_id)
    not_editable = set(changes) - set(LESION_FIELDS)
    if not_editable:
        raise ValidationError(
            {
                n: [
                    "A lesion's code and role are the choice made at baseline: void the "
                    "assessment and enter it again to change them."
                    if n in ("code", "role")
                    else "This field cannot be edited here."
                ]
                for n in not_editable
            }
        )
    if "organ" in changes:
        changes["organ"] = " ".join(str(changes["organ"] or "").split())
        if not changes["organ"]:
            raise field_error("organ", "Name the organ (at most 2 target lesions per organ).")
    if "location" in changes:
        changes["location"] = str(changes["location"] or "").strip()

    with transaction.atomic():
        Subject.all_objects.select_for_update(no_key=True).get(pk=subject.pk)
        lesion = update_record(
            lesion,
            by=by,
            changes=changes,
            reason=reason,
            expected_version=expected_version,
            validate=lambda current: _revalidate(
                subject, current, _one_field(lesion, current, changes)
            ),
        )
    return lesion


@retry_on_conflict
def tumour_assessment_void(
    *, by, assessment: TumourAssessment, reason: str, expected_version: int | None
) -> TumourAssessment:
    """Void an assessment entered in error, with its observations and the lesions first seen
    there. A baseline is voided only once no follow-up assessment depends on it."""
    subject = assessment.subject
    require(by, Capability.EDIT_DATA, study_id=subject.study_id, site_id=subject.site_id)
    with transaction.atomic():
        Subject.all_objects.select_for_update(no_key=True).get(pk=subject.pk)
        later = TumourAssessment.objects.filter(subject=subject).exclude(pk=assessment.pk)
        if assessment.is_baseline and later.exists():
            raise field_error(
                "__all__",
                "Follow-up assessments are measured against this baseline: void them first.",
            )
        first_seen = list(Lesion.objects.filter(first_seen=assessment))
        followed = (
            LesionObservation.objects.filter(lesion__in=first_seen)
            .exclude(assessment=assessment)
            .select_related("lesion", "assessment")
            .first()
        )
        if followed is not None:
            raise field_error(
                "__all__",
                f"Lesion {followed.lesion.code}, first seen here, is recorded again on "
                f"{followed.assessment.assessed_on}: void that assessment first.",
            )
        assessment = void_record(
            assessment, by=by, reason=reason, expected_version=expected_version
        )
        for observation in LesionObservation.objects.filter(assessment=assessment):
            void_record(observation, by=by, reason=reason)
        for lesion in first_seen:
            void_record(lesion, by=by, reason=reason)
    return assessment
