"""Every write of the pharmacology app: the protocol section, samples, laboratory imports and
the NCA (docs/pharmacology.md §7-§9)."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.db import transaction
from django.dispatch import Signal
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from accounts.roles import Capability
from accounts.scoping import require
from core import events
from core.dates import refuse_future
from core.errors import RecordLocked, ValidationError, field_error
from core.records import create_record, retry_on_conflict, update_record, void_record
from subjects.models import Subject

from . import selectors
from .models import (
    AdaResult,
    BiomarkerResult,
    Concentration,
    LabImport,
    NcaAnalysis,
    Sample,
    SampleKind,
    StudyPharmacology,
)
from .rules import (
    NCA_VERSION,
    Dosing,
    PharmacologyInputError,
    Profile,
    Role,
    Route,
    accumulation,
    analyse,
    time_sample,
)
from .rules import Concentration as NcaConcentration
from .rules import SampleRole as NcaSampleRole
from .rules.lab_file import read_lab_file, same_timepoint
from .rules.protocol import read_protocol

RESULT_MODELS = {"pk": Concentration, "ada": AdaResult, "biomarker": BiomarkerResult}

SAMPLE_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,59}$")
SPECIMENS = {SampleKind.PK: "SERUM", SampleKind.ADA: "SERUM", SampleKind.BIOMARKER: "PLASMA"}


# --- the protocol section -------------------------------------------------------------------


def on_study_loaded(sender, *, study, data: dict[str, Any], summary, by=None, **kwargs) -> None:
    """trial.services.study_loaded: the [pharmacology] section, when the file has one."""
    load_protocol_section(study=study, section=data.get("pharmacology"), summary=summary, by=by)


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


# --- laboratory files (docs/pharmacology.md §8) ---------------------------------------------


def _row_error(line: int, column: str, message: str, sample_id: str = "") -> dict[str, Any]:
    return {"line": line, "column": column, "message": message, "sample_id": sample_id}


def _check_against_samples(study, kind: str, parsed) -> tuple[list[dict], dict[str, Sample]]:
    """The checks that need the database: the sample exists in the study as a collected sample
    of this kind, belongs to the subject named, was taken at the time point (and on the day)
    the row names, and has no result yet for the analyte (unless the row is a re-assay with its
    reason)."""
    ids = {row.sample_id for row in parsed.rows}
    samples = {
        s.sample_id: s
        for s in Sample.objects.filter(study=study, sample_id__in=ids).select_related(
            "subject__site", "dose"
        )
    }
    result_model = RESULT_MODELS[kind]
    existing = {
        (r.sample.sample_id, getattr(r, "analyte", "ADA"))
        for r in result_model.objects.filter(sample__in=samples.values()).select_related("sample")
    }
    errors: list[dict] = []
    for row in parsed.rows:
        sample = samples.get(row.sample_id)
        if sample is None:
            errors.append(
                _row_error(
                    row.line,
                    "sample_id",
                    f"no collected sample {row.sample_id} in the study: an unknown sample",
                    row.sample_id,
                )
            )
            continue
        problems = (
            _kind_problem(row, sample, kind),
            _subject_problem(row, sample),
            _timepoint_problem(row, sample),
            _date_problem(row, sample),
            _existing_problem(row, (row.sample_id, row.analyte) in existing),
        )
        errors.extend(
            _row_error(row.line, column, message, row.sample_id)
            for column, message in filter(None, problems)
        )
    return errors, samples


def _kind_problem(row, sample: Sample, kind: str) -> tuple[str, str] | None:
    if sample.kind == kind:
        return None
    return (
        "sample_id",
        f"sample {row.sample_id} is a {sample.get_kind_display()} sample, not "
        f"{SampleKind(kind).label}",
    )


def _subject_problem(row, sample: Sample) -> tuple[str, str] | None:
    if sample.subject.subject_number == row.subject:
        return None
    return "subject", f"sample {row.sample_id} was taken from {sample.subject}, not {row.subject}"


def _timepoint_problem(row, sample: Sample) -> tuple[str, str] | None:
    """A row's time point must be its sample's nominal time point (docs/pharmacology.md §8.2):
    a tube labelled at the laboratory as another time point is a swapped or mislabelled one."""
    if same_timepoint(row.timepoint, sample.timepoint):
        return None
    return (
        "timepoint",
        f"sample {row.sample_id} is the '{sample.timepoint}' sample of C{sample.dose.cycle}"
        f"D{sample.dose.day}, not '{row.timepoint}': the time point must be the sample's "
        "nominal time point",
    )


def _date_problem(row, sample: Sample) -> tuple[str, str] | None:
    """When the file gives the collection date, it is the day the site recorded, at the site."""
    if row.collection_date is None or sample.collected_at is None:
        return None
    taken = sample.collected_at.astimezone(ZoneInfo(sample.subject.site.timezone)).date()
    if taken == row.collection_date:
        return None
    return (
        "collection_date",
        f"sample {row.sample_id} was taken on {taken:%Y-%m-%d} at the site, not "
        f"{row.collection_date:%Y-%m-%d}",
    )


def _existing_problem(row, has_result: bool) -> tuple[str, str] | None:
    if has_result and not row.reassay_reason:
        return (
            "sample_id",
            f"sample {row.sample_id} already has a {row.analyte} result: a duplicate "
            "(a re-assay gives its reason in reassay_reason)",
        )
    if row.reassay_reason and not has_result:
        return "reassay_reason", f"sample {row.sample_id} has no {row.analyte} result to re-assay"
    return None


def _result_values(kind: str, row) -> dict[str, Any]:
    common = {"run_id": row.run_id}
    if kind == "pk":
        return common | {
            "analyte": row.analyte,
            "reported": row.reported,
            "value": row.value,
            "blq": row.blq,
            "unit": row.unit,
            "lloq": row.lloq,
            "uloq": row.uloq,
        }
    if kind == "ada":
        return common | {
            "screening": row.screening,
            "confirmatory": row.confirmatory,
            "titer": row.titer,
            "neutralising": row.neutralising,
        }
    return common | {
        "analyte": row.analyte,
        "reported": row.reported,
        "value": row.value,
        "quantification": row.quantification,
        "unit": row.unit,
        "lloq": row.lloq,
        "uloq": row.uloq,
    }


def lab_import(
    *, by, study, kind: str, file_name: str, content: bytes, source: str = LabImport.Source.PAGE
) -> LabImport:
    """Import one laboratory file: every row checked, and either every result saved in one
    transaction or none, with a per-row report (docs/pharmacology.md §8.2). The file and the
    import are kept in both cases. PK imports enqueue the NCA of the subjects concerned.

    A locked study database takes no file (RecordLocked: nothing kept, the API's 423); a row of
    a locked subject refuses the file like any bad row (docs/quality.md §5)."""
    require(by, Capability.EDIT_DATA, study_id=study.pk)
    events.check_study_writable(study.pk)
    if kind not in LabImport.Kind.values:
        raise field_error("kind", f"'{kind}' is not one of {', '.join(LabImport.Kind.values)}.")
    protocol = selectors.protocol_for(study.pk)
    if protocol is None:
        raise field_error("kind", "The study's protocol file has no [pharmacology] section.")
    name = (file_name or "results.csv")[:255]
    digest = hashlib.sha256(content).hexdigest()
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError as error:
        return _keep_import(
            by,
            study,
            kind,
            source,
            name,
            # Kept as text (PostgreSQL refuses NUL in text: shown as U+FFFD like other bytes).
            content.decode("utf-8", errors="replace").replace("\x00", "\ufffd"),
            digest,
            rows=0,
            report=[_row_error(0, "file", f"the file is not UTF-8 text (byte {error.start})")],
        )
    if "\x00" in text:
        return _keep_import(
            by, study, kind, source, name, text.replace("\x00", "\ufffd"), digest, rows=0,
            report=[_row_error(0, "file", "the file holds NUL characters: not a CSV file")],
        )  # fmt: skip
    parsed = read_lab_file(
        kind,
        text,
        pk_analytes=(protocol.pk.analyte,),
        biomarker_units={a.code: a.units for a in protocol.biomarker_analytes},
    )
    report = [_row_error(e.line, e.column, e.message, e.sample_id) for e in parsed.errors]
    row_count = len(parsed.rows) + len({e.line for e in parsed.errors if e.line > 1})
    with transaction.atomic():
        # Held until commit: a study lock being taken waits for this import, or refuses it.
        events.check_study_writable(study.pk)
        db_errors, samples = _check_against_samples(study, kind, parsed)
        report = sorted(report + db_errors, key=lambda e: (e["line"], e["column"]))
        if report:
            return _keep_import(by, study, kind, source, name, text, digest, row_count, report)
        try:
            with transaction.atomic():
                imported = _save_results(
                    by, study, kind, source, name, text, digest, parsed, samples
                )
        except _RowRefused as refused:
            report = [_row_error(refused.line, field, message, refused.sample_id)
                      for field, messages in refused.error.message_dict.items()
                      for message in messages]  # fmt: skip
            return _keep_import(by, study, kind, source, name, text, digest, row_count, report)
    return imported


class _RowRefused(Exception):
    def __init__(self, line: int, sample_id: str, error: ValidationError):
        super().__init__(str(error))
        self.line, self.sample_id, self.error = line, sample_id, error


def _save_results(by, study, kind, source, name, text, digest, parsed, samples) -> LabImport:
    imported = _keep_import(
        by, study, kind, source, name, text, digest, len(parsed.rows), [], accepted=True
    )
    model = RESULT_MODELS[kind]
    subjects: set[int] = set()
    fresh = []
    for row in parsed.rows:
        sample = samples[row.sample_id]
        values = _result_values(kind, row)
        try:
            if sample.subject_id not in subjects:
                # The write guard of every clinical record (a locked subject, docs/quality.md
                # §5), asked once per subject: the bulk insert below does not pass core.records.
                events.check_writable(model(sample=sample))
        except RecordLocked as error:
            locked = ValidationError({"subject": error.messages})
            raise _RowRefused(row.line, row.sample_id, locked) from None
        subjects.add(sample.subject_id)
        try:
            if row.reassay_reason:
                lookup: dict[str, Any] = {"sample": sample}
                if kind != "ada":
                    lookup["analyte"] = row.analyte
                update_record(
                    model.objects.get(**lookup),
                    by=by,
                    changes=values | {"lab_import": imported},
                    reason=f"Re-assay (file {name}, line {row.line}): {row.reassay_reason}",
                    expected_version=None,
                )
                continue
            result = model(sample=sample, lab_import=imported, created_by=by, **values)
            # The database checks (unknown sample, duplicates) were made for the whole file
            # above; here each value is checked, and the table's constraints guard the insert.
            result.full_clean(
                exclude=[
                    "sample",
                    "lab_import",
                    "created_by",
                ],  # resolved above, not looked up again
                validate_unique=False,
                validate_constraints=False,
            )
        except ValidationError as error:
            raise _RowRefused(row.line, row.sample_id, error) from None
        result._change_reason = f"Imported from {name}, line {row.line}"
        fresh.append(result)
    # One INSERT per 500 results and one for their audit rows: a file of thousands of rows
    # imports in seconds (README, "Pharmacology").
    bulk_create_with_history(fresh, model, batch_size=500, default_user=by)
    imported.unreported = _unreported(study, kind)
    imported.saved = len(parsed.rows)
    imported._history_user = by
    imported._change_reason = "Results saved"
    imported.save(update_fields=["unreported", "saved"])
    if kind == "pk":
        ids = sorted(subjects)
        transaction.on_commit(lambda: _enqueue_nca(ids))
    return imported


def _keep_import(
    by, study, kind, source, name, text, digest, rows, report, *, accepted: bool = False
) -> LabImport:
    row = LabImport(
        study=study,
        kind=kind,
        source=source,
        file_name=name,
        content=text,
        sha256=digest,
        status=LabImport.Status.ACCEPTED if accepted else LabImport.Status.REFUSED,
        rows=rows,
        report=report,
        imported_by=by,
    )
    row._history_user = by
    row._change_reason = "File received: " + ("accepted" if accepted else "refused")
    row.save()
    return row


def _unreported(study, kind: str) -> list[str]:
    """Collected samples of the kind without any result: the laboratory still owes them."""
    related = {"pk": "concentrations", "ada": "ada_results", "biomarker": "biomarker_results"}[kind]
    return list(
        Sample.objects.filter(study=study, kind=kind, status=Sample.Status.COLLECTED)
        .exclude(**{f"{related}__voided_at__isnull": True})
        .order_by("sample_id")
        .values_list("sample_id", flat=True)[:500]
    )


# Sent once concentrations commit (an import, a correction), with `subject_ids`: the NCA is due
# for each. pharmacology/triggers.py (connected in apps.py) enqueues it. The service does not
# import its task; the task imports the service.
nca_due = Signal()


def _enqueue_nca(subject_ids: list[int]) -> None:
    nca_due.send(sender=Concentration, subject_ids=subject_ids)


# --- NCA (docs/pharmacology.md §9) -----------------------------------------------------------

ROLE_FOR_NCA = {
    "predose": NcaSampleRole.PREDOSE,
    "end_of_infusion": NcaSampleRole.END_OF_INFUSION,
}


def _value(value) -> dict[str, Any]:
    return {
        "value": value.value,
        "method": value.method,
        "times": list(value.times),
        "reason": value.reason,
        "flags": [str(f) for f in value.flags],
    }


NCA_PARAMETERS = (
    "cmax", "tmax", "ceoi", "clast", "tlast", "ctrough", "auclast", "aucall", "auctau", "cavg",
    "lambda_z", "half_life", "r_squared", "adj_r_squared", "span_ratio", "aucinf_obs",
    "auc_extrapolated_percent", "aumclast", "aumcinf_obs", "mrt", "clearance", "vz", "vss",
)  # fmt: skip


def _profiles(subject: Subject, protocol) -> list[tuple[Profile | None, dict, str]]:
    """Each (interval, analyte) profile of the subject, its inputs as stored, or the error."""
    schedule = protocol.schedule(subject.cohort.track.regimen.code) if subject.cohort_id else None
    if schedule is None:
        return []
    doses = {d.interval: d.dose for d in selectors.subject_doses(subject)}
    results = (
        Concentration.objects.filter(sample__subject=subject, sample__voided_at__isnull=True)
        .select_related("sample")
        .order_by("sample__collected_at")
    )
    by_key: dict[tuple[int, str], list[Concentration]] = {}
    for result in results:
        by_key.setdefault((result.sample.interval, result.analyte), []).append(result)
        if result.sample.role == "predose" and result.sample.interval - 1 in doses:
            # The next interval's pre-dose sample is this interval's trough (§1.1).
            by_key.setdefault((result.sample.interval - 1, result.analyte), []).append(result)
    out = []
    for (interval, analyte), rows in sorted(by_key.items()):
        dose = doses.get(interval)
        if dose is None:
            continue
        points = []
        for result in rows:
            sample = result.sample
            hours = (sample.collected_at - dose.infusion_start).total_seconds() / 3600
            trough = sample.interval == interval + 1
            points.append(
                NcaConcentration(
                    time=hours,
                    value=result.value,
                    blq=result.blq,
                    sample_id=sample.sample_id,
                    role=NcaSampleRole.TROUGH
                    if trough
                    else ROLE_FOR_NCA.get(sample.role, NcaSampleRole.OTHER),
                    exclude=result.exclude_reason,
                    exclude_from_lambda_z=result.exclude_from_lambda_z_reason,
                )
            )
        units = {r.unit for r in rows}
        inputs = {
            "interval": interval,
            "analyte": analyte,
            "dose_mg": float(dose.total_dose_mg),
            "dose_per_kg": float(dose.actual_dose_per_kg),
            "infusion_hours": (dose.infusion_end - dose.infusion_start).total_seconds() / 3600,
            "tau": schedule.tau_hours,
            "points": [
                [
                    p.time,
                    p.value,
                    p.blq,
                    p.sample_id,
                    p.role.value,
                    p.exclude,
                    p.exclude_from_lambda_z,
                ]
                for p in points
            ],  # fmt: skip
            "units": sorted(units),
        }
        if len(units) != 1:
            out.append((None, inputs, f"results in more than one unit: {', '.join(sorted(units))}"))
            continue
        try:
            profile = Profile(
                subject=str(subject),
                analyte=analyte,
                cycle=interval,
                dosing=Dosing(
                    route=Route.IV_INFUSION,
                    amount_mg=inputs["dose_mg"],
                    infusion_hours=inputs["infusion_hours"],
                    dose_naive=interval == 1,
                    tau=schedule.tau_hours,
                ),
                concentrations=tuple(points),
                unit=units.pop(),
            )
        except PharmacologyInputError as error:
            out.append((None, inputs, str(error)))
            continue
        out.append((profile, inputs, ""))
    return out


def nca_compute_subject(subject_id: int) -> int:
    """(Re)compute the subject's NCA per interval and analyte; a profile whose inputs and
    settings are unchanged is left as it is (idempotent). Returns how many rows changed."""
    subject = Subject.objects.select_related("cohort__track__regimen").get(pk=subject_id)
    protocol = selectors.protocol_for(subject.study_id)
    if protocol is None:
        return 0
    settings_data = {k: str(v) for k, v in asdict(protocol.nca).items()}
    changed = 0
    with transaction.atomic():
        # One computation per subject at a time: a second delivery waits, then finds the digests
        # equal and does nothing.
        Subject.objects.select_for_update().filter(pk=subject.pk).exists()
        first: dict[str, Any] = {}
        for profile, inputs, error in _profiles(subject, protocol):
            digest = hashlib.sha256(
                json.dumps([inputs, settings_data, NCA_VERSION], sort_keys=True).encode()
            ).hexdigest()
            values: dict[str, Any] = {
                "study_id": subject.study_id,
                "unit": inputs["units"][0] if inputs["units"] else "",
                "dose_mg": inputs["dose_mg"],
                "dose_per_kg": inputs["dose_per_kg"],
                "settings": settings_data,
                "version": NCA_VERSION,
                "inputs_digest": digest,
                "error": error,
                "parameters": {},
                "points": [],
                "fit": None,
                "flags": [],
            }
            if profile is not None:
                try:
                    result = analyse(profile, protocol.nca)
                except PharmacologyInputError as failure:
                    values["error"] = str(failure)
                else:
                    if inputs["interval"] == 1:
                        first[inputs["analyte"]] = result
                    values["parameters"] = {n: _value(getattr(result, n)) for n in NCA_PARAMETERS}
                    reference = first.get(inputs["analyte"])
                    if reference is not None and inputs["interval"] > 1:
                        ratio = accumulation(reference, result, inputs["tau"])
                        values["parameters"] |= {
                            "rac_auctau": _value(ratio.auctau),
                            "rac_cmax": _value(ratio.cmax),
                            "rac_ctrough": _value(ratio.ctrough),
                            "rac_predicted": _value(ratio.predicted),
                        }
                    values["points"] = [
                        {
                            "time": p.time,
                            "value": p.value,
                            "observed_time": p.observed_time,
                            "sample_id": p.sample_id,
                            "status": str(p.status),
                            "reason": p.reason,
                        }
                        for p in result.points
                    ]
                    values["fit"] = None if result.fit is None else {
                        k: (list(v) if isinstance(v, tuple) else v)
                        for k, v in asdict(result.fit).items()
                    }  # fmt: skip
                    values["flags"] = [str(f) for f in result.flags]
            current = NcaAnalysis.objects.filter(
                subject=subject, interval=inputs["interval"], analyte=inputs["analyte"]
            ).first()
            if current is not None and current.inputs_digest == digest:
                continue
            row = current or NcaAnalysis(
                subject=subject, interval=inputs["interval"], analyte=inputs["analyte"]
            )
            for key, value in values.items():
                setattr(row, key, value)
            row.computed_at = timezone.now()
            row._change_reason = (
                "NCA computed" if current is None else "NCA recomputed: inputs changed"
            )
            row.save()
            changed += 1
    return changed


# --- exclusions by hand (docs/pharmacology.md §2.1, §9) ---------------------------------------


@retry_on_conflict
def concentration_exclude(
    *,
    by,
    concentration: Concentration,
    exclude_reason: str = "",
    exclude_from_lambda_z_reason: str = "",
    reason: str,
    expected_version: int | None,
) -> Concentration:
    """Leave a concentration out of every NCA parameter, or out of the terminal slope only, with
    the pharmacokineticist's reason (empty reasons put it back). The subject's NCA is recomputed
    after the commit; the result shows the exclusion with its reason."""
    study_id = concentration.sample.study_id
    require(by, Capability.EDIT_DATA, study_id=study_id)
    changes = {
        "exclude_reason": exclude_reason.strip(),
        "exclude_from_lambda_z_reason": exclude_from_lambda_z_reason.strip(),
    }
    if changes["exclude_reason"] and changes["exclude_from_lambda_z_reason"]:
        raise field_error(
            "exclude_from_lambda_z_reason",
            "A result left out of every parameter is already out of the terminal slope.",
            "invalid",
        )
    with transaction.atomic():
        updated = update_record(
            concentration,
            by=by,
            changes=changes,
            reason=reason,
            expected_version=expected_version,
        )
        subject_id = concentration.sample.subject_id
        transaction.on_commit(lambda: _enqueue_nca([subject_id]))
    return updated
