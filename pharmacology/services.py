"""Every write of the pharmacology app: the protocol section, samples, laboratory imports and
the NCA (docs/pharmacology.md §7-§9)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from django.db import transaction

from accounts.roles import Capability
from accounts.scoping import require
from core import events
from core.dates import refuse_future
from core.errors import ValidationError, field_error
from core.records import create_record, retry_on_conflict, update_record, void_record
from subjects.models import Subject

from . import selectors
from .models import Sample, SampleKind, StudyPharmacology
from .rules import PharmacologyInputError, Role, time_sample
from .rules.protocol import read_protocol

SAMPLE_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,59}$")
SPECIMENS = {SampleKind.PK: "SERUM", SampleKind.ADA: "SERUM", SampleKind.BIOMARKER: "PLASMA"}


# --- the protocol section -------------------------------------------------------------------


def load_protocol_section(*, study, section: dict[str, Any] | None, summary, by) -> None:
    """Store the study's [pharmacology] section after checking it (called by load_study)."""
    if section is None:
        return
    try:
        read_protocol(section)
    except PharmacologyInputError as error:
        raise field_error("pharmacology", str(error), "invalid") from None
    row = StudyPharmacology.objects.filter(study=study).first()
    if row is None:
        row = StudyPharmacology(study=study, section=section)
        label = "pharmacology settings"
        summary.created.append(label)
    elif row.section != section:
        row.section = section
        summary.updated.append("pharmacology settings")
    else:
        return
    row._history_user = by
    row._change_reason = "Loaded from protocol file"
    row.save()


# --- samples ---------------------------------------------------------------------------------


def _expected(subject: Subject, dose, kind: str, timepoint: str):
    for row in selectors.expected_rows(subject):
        if (
            row.dose.pk == dose.pk
            and row.expected.kind.value == kind
            and row.expected.label == timepoint
        ):
            return row
    raise field_error(
        "timepoint",
        f"The sampling schedule has no {kind} sample '{timepoint}' for the infusion of "
        f"C{dose.cycle}D{dose.day}.",
        "not_scheduled",
    )


def _timing(sample: Sample, subject: Subject) -> None:
    """ARRLT, AFRLT, deviation and the flags of a collected sample (docs/pharmacology.md §1.3)."""
    row = _expected(subject, sample.dose, sample.kind, sample.timepoint)
    expected = row.expected
    sample.interval = expected.cycle
    sample.role = expected.role.value
    sample.nominal_at = expected.nominal_at
    sample.window_start = expected.window_start
    sample.window_end = expected.window_end
    sample.nrrlt_hours = expected.nrrlt
    sample.nfrlt_hours = expected.nfrlt
    if sample.collected_at is None:
        sample.arrlt_hours = sample.afrlt_hours = sample.deviation_hours = None
        sample.out_of_window = sample.deviation_flagged = False
        return
    doses = [d.times for d in selectors.subject_doses(subject)]
    try:
        timing = time_sample(expected, sample.collected_at, doses)
    except PharmacologyInputError as error:
        raise field_error("collected_at", _sentence(error), "invalid") from None
    if expected.role is not Role.PREDOSE and timing.arrlt < 0:
        raise field_error(
            "collected_at",
            f"The {expected.label} sample is timed from the infusion: it cannot be taken before "
            f"the infusion started ({sample.dose.infusion_start:%Y-%m-%d %H:%M}).",
            "before_dose",
        )
    sample.arrlt_hours = timing.arrlt
    sample.afrlt_hours = timing.afrlt
    sample.deviation_hours = timing.deviation_hours
    sample.out_of_window = timing.out_of_window
    protocol = selectors.protocol_for(subject.study_id)
    limit = protocol.samples.flag_deviation_hours if protocol else None
    sample.deviation_flagged = limit is not None and abs(timing.deviation_hours) > limit


def _sentence(error: Exception) -> str:
    text = str(error)
    return text[0].upper() + text[1:] + ("" if text.endswith(".") else ".")


def _validate_sample(sample: Sample, subject: Subject) -> None:
    errors: dict[str, list[str]] = {}
    if sample.status == Sample.Status.COLLECTED:
        sample.sample_id = (sample.sample_id or "").strip()
        if not sample.sample_id:
            errors.setdefault("sample_id", []).append("Scan or type the tube's barcode.")
        elif not SAMPLE_ID_PATTERN.match(sample.sample_id):
            errors.setdefault("sample_id", []).append(
                "A sample ID is letters, digits, '.', '_' and '-' (at most 60), starting with a "
                "letter or digit."
            )
        if sample.collected_at is None:
            errors.setdefault("collected_at", []).append(
                "Enter the date and time the sample was taken."
            )
        else:
            try:
                refuse_future(
                    sample.collected_at, field="collected_at", tz_name=subject.site.timezone
                )
            except ValidationError as error:
                errors.update(error.message_dict)
        if sample.out_of_window or sample.deviation_flagged:
            pass  # shown and flagged; a comment is optional
        sample.not_collected_reason = ""
    else:
        sample.sample_id = ""
        sample.collected_at = None
        if not (sample.not_collected_reason or "").strip():
            errors.setdefault("not_collected_reason", []).append(
                "Say why the sample was not collected."
            )
    if errors:
        raise ValidationError(errors)


@retry_on_conflict
@transaction.atomic
def sample_record(
    *,
    by,
    subject: Subject,
    dose,
    kind: str,
    timepoint: str,
    collected: bool = True,
    sample_id: str = "",
    collected_at: datetime | None = None,
    not_collected_reason: str = "",
    deviation_comment: str = "",
) -> Sample:
    """Record a scheduled sample as collected (barcode and actual time) or not collected (with
    a reason). The nominal time comes from the actual infusion (docs/pharmacology.md §1.2)."""
    require(by, Capability.ENTER_DATA, study_id=subject.study_id, site_id=subject.site_id)
    if dose.subject_id != subject.pk:
        raise field_error("dose", "This infusion is another subject's.", "invalid")
    if kind not in SampleKind.values:
        raise field_error("kind", f"'{kind}' is not one of {', '.join(SampleKind.values)}.")
    sample = Sample(
        study_id=subject.study_id,
        subject=subject,
        dose=dose,
        kind=kind,
        timepoint=timepoint,
        specimen=SPECIMENS[SampleKind(kind)],
        status=Sample.Status.COLLECTED if collected else Sample.Status.NOT_COLLECTED,
        sample_id=sample_id,
        collected_at=collected_at,
        not_collected_reason=not_collected_reason.strip(),
        deviation_comment=deviation_comment.strip(),
    )
    _validate_sample(sample, subject)
    _timing(sample, subject)
    return create_record(sample, by=by)


@retry_on_conflict
def sample_update(
    *, by, sample: Sample, changes: dict, reason: str, expected_version: int | None
) -> Sample:
    """Correct a sample (barcode, actual time, status, reason) with a reason for the change."""
    subject = sample.subject
    require(by, Capability.EDIT_DATA, study_id=subject.study_id, site_id=subject.site_id)
    allowed = {"sample_id", "collected_at", "status", "not_collected_reason", "deviation_comment"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationError({name: ["This field cannot be changed here."] for name in unknown})

    def validate(current: Sample) -> None:
        _validate_sample(current, subject)
        _timing(current, subject)

    return update_record(
        sample,
        by=by,
        changes=changes,
        reason=reason,
        expected_version=expected_version,
        validate=validate,
    )


@retry_on_conflict
def sample_void(*, by, sample: Sample, reason: str, expected_version: int | None) -> Sample:
    subject = sample.subject
    require(by, Capability.EDIT_DATA, study_id=subject.study_id, site_id=subject.site_id)
    if sample.concentrations.exists() or sample.ada_results.exists():
        raise field_error(
            "__all__",
            "The laboratory has reported results for this sample: void them first.",
            "has_results",
        )
    if sample.biomarker_results.exists():
        raise field_error(
            "__all__",
            "The laboratory has reported results for this sample: void them first.",
            "has_results",
        )
    return void_record(sample, by=by, reason=reason, expected_version=expected_version)


def on_clinical_data_changed(event: events.ClinicalDataChanged) -> None:
    """A corrected infusion moves the nominal times of the samples timed from it, and with them
    the deviations (docs/pharmacology.md §7.2). Runs in the dose service's transaction."""
    if event.record != "dose" or event.action != "updated":
        return
    samples = list(Sample.objects.filter(dose_id=event.record_id).select_related("subject"))
    if not samples:
        return
    from accounts.models import User

    by = User.objects.get(pk=event.by_id) if event.by_id else None
    for sample in samples:
        before = (sample.nominal_at, sample.deviation_hours, sample.out_of_window)
        try:
            _timing(sample, sample.subject)
        except ValidationError:
            continue  # the time point left the schedule: the sample keeps its times, shown
        if (sample.nominal_at, sample.deviation_hours, sample.out_of_window) != before:
            sample.version += 1
            sample._history_user = by
            sample._change_reason = "The infusion times were corrected: nominal time re-derived"
            sample.save()
