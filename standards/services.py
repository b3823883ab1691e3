"""Exports: asked for by a study-wide role, run as a job, kept for good (docs/standards.md §11).

`export_request` records the request and enqueues the job after the commit; `run_export` (the
Celery task's body) builds the SDTM datasets (XPT v5 and Dataset-JSON), define.xml, the ODM
file and the validation report, zips them with a manifest of SHA-256 checksums, and stores the
zip's own checksum. It is idempotent: a second delivery of the same job finds the export
claimed or finished and does nothing.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import tempfile
import zipfile
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.dispatch import Signal
from django.utils import timezone

from accounts.scoping import exportable, may_export
from core.errors import PermissionDenied, field_error

from . import registry
from .build import ExportRefused, build_datasets
from .checks import Finding, Submission, validate
from .context import ExportContext
from .ct import CT_VERSION
from .define import DEFINE_VERSION, build_define, schema_problems
from .formats import read_xpt, write_dataset_json, write_xpt
from .models import Export
from .odm import build_odm
from .spec import IG_NAME, IG_VERSION

log = logging.getLogger(__name__)

SOURCE_SYSTEM = ("Phase 1 EDC", "0.1.0")
# A job claimed longer ago than this (a worker that died) may be taken over.
STALE_AFTER = timedelta(minutes=45)


def exports_for(user):
    """The exports the user may see: their studies', for the roles that may export."""
    return exportable(Export.objects.select_related("study", "requested_by"), user)


def export_request(*, by, study, data_cut_at: datetime | None = None) -> Export:
    """Ask for an export of `study` (as of `data_cut_at`, else as the data stand when it runs).
    The job starts after the commit."""
    if not may_export(by, study.pk):
        raise PermissionDenied(
            "Exports are for the sponsor, data manager, medical monitor and study administrator."
        )
    now = timezone.now()
    if data_cut_at is not None:
        if timezone.is_naive(data_cut_at):
            raise field_error("data_cut_at", "Give the data cut with its time zone.", "naive")
        if data_cut_at > now:
            raise field_error("data_cut_at", "A data cut cannot be in the future.", "future")
    with transaction.atomic():
        export = Export(study=study, requested_by=by, requested_at=now, data_cut_at=data_cut_at)
        export.full_clean()
        export._history_user = by
        export._change_reason = "Export requested"
        export.save()
        transaction.on_commit(lambda: _enqueue(export.pk))
    return export


# Sent once an export request commits, with `export_id`: standards/triggers.py (connected in
# apps.py) enqueues the job. The service does not import its task; the task imports the service.
export_requested = Signal()


def _enqueue(export_id: int) -> None:
    export_requested.send(sender=Export, export_id=export_id)


def _claim(export_id: int) -> bool:
    """Take the job: a queued export, or a running one whose worker is gone."""
    now = timezone.now()
    claimed = Export.objects.filter(pk=export_id, status=Export.Status.QUEUED).update(
        status=Export.Status.RUNNING, started_at=now, attempts=F("attempts") + 1, progress=1
    )
    if not claimed:
        claimed = Export.objects.filter(
            pk=export_id, status=Export.Status.RUNNING, started_at__lt=now - STALE_AFTER
        ).update(started_at=now, attempts=F("attempts") + 1, progress=1)
    return bool(claimed)


def _progress(export_id: int, percent: float, step: str) -> None:
    Export.objects.filter(pk=export_id).update(progress=max(1, min(99, int(percent))), step=step)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def run_export(export_id: int) -> str:
    """Run the export job (the Celery task's body); returns what it did."""
    if not _claim(export_id):
        status = Export.objects.filter(pk=export_id).values_list("status", flat=True).first()
        return f"export {export_id}: nothing to do ({status or 'no such export'})"
    export = Export.objects.select_related("study").get(pk=export_id)
    try:
        with tempfile.TemporaryDirectory(prefix="edc-export-") as scratch:
            result = _produce(export, Path(scratch))
    except Exception as error:  # the job fails with the reason; nothing half-made is kept
        log.exception("export %s failed", export_id)
        export.refresh_from_db()
        export.status = Export.Status.FAILED
        export.failure = str(error)[:4000] or error.__class__.__name__
        export.finished_at = timezone.now()
        export._change_reason = "Export failed"
        export.save()
        if not isinstance(error, ExportRefused | PermissionDenied):
            raise
        return f"export {export_id}: failed ({error})"
    return result


def _produce(export: Export, scratch: Path) -> str:
    study = export.study
    snapshot = export.data_cut_at or timezone.now()
    ctx = ExportContext(study, as_of=export.data_cut_at)
    ctx.data_cut = snapshot
    _progress(export.pk, 3, "Reading the data")
    domains = registry.domains()
    done = []

    def on_domain(code: str) -> None:
        done.append(code)
        _progress(export.pk, 5 + 40 * len(done) / max(len(domains), 1), f"Building {code}")

    datasets = build_datasets(ctx, on_domain=on_domain)
    _progress(export.pk, 48, "Checking conformance")
    codelists = registry.sponsor_codelists(study.pk)
    findings = validate(Submission(tuple(datasets), codelists))

    base = f"{study.protocol_number}-export-{export.pk}"
    root = scratch / base
    (root / "sdtm" / "xpt").mkdir(parents=True)
    (root / "sdtm" / "json").mkdir(parents=True)
    (root / "odm").mkdir()
    meta = dict(
        study_oid=f"STDY.{study.protocol_number}",
        metadata_version_oid=f"MDV.{study.protocol_number}.SDTMIG.{IG_VERSION}",
        created=timezone.now(),
        data_cut=snapshot,
        originator=study.sponsor,
        source_system=SOURCE_SYSTEM,
    )
    for index, dataset in enumerate(datasets, start=1):
        _progress(export.pk, 50 + 30 * index / len(datasets), f"Writing {dataset.name}")
        xpt = root / "sdtm" / "xpt" / f"{dataset.filename}.xpt"
        write_xpt(dataset, xpt)
        findings += _read_back(dataset, xpt)
        write_dataset_json(dataset, root / "sdtm" / "json" / f"{dataset.filename}.json", **meta)
    _progress(export.pk, 82, "Writing define.xml")
    define = build_define(
        datasets,
        study=study,
        sponsor_codelists=codelists,
        created=meta["created"],
        file_oid=f"{base}.define",
        source_system=SOURCE_SYSTEM,
    )
    findings += [
        Finding("DEF0001", "1", "error", "define.xml", "", None, f"Define-XML 2.1 schema: {p}")
        for p in schema_problems(define)
    ]
    (root / "sdtm" / "define.xml").write_bytes(define)
    _progress(export.pk, 86, "Writing the ODM file")
    odm_name = f"{study.protocol_number}-odm.xml"
    (root / "odm" / odm_name).write_bytes(
        build_odm(
            study,
            created=meta["created"],
            as_of=export.data_cut_at,
            file_oid=f"{base}.odm",
            source_system=SOURCE_SYSTEM,
            progress=lambda share: _progress(export.pk, 86 + 8 * share, "Writing the ODM file"),
        )
    )
    report = [f.as_dict() for f in findings]
    errors = sum(1 for f in findings if f.severity == "error")
    warnings = len(findings) - errors
    (root / "validation-report.json").write_text(
        json.dumps(
            {
                "checks": "standards/checks.py (the product's conformance checks)",
                "errors": errors,
                "warnings": warnings,
                "findings": report,
            },
            indent=1,
        ),
        encoding="utf-8",
    )
    _progress(export.pk, 95, "Packing the zip")
    files = sorted(p for p in root.rglob("*") if p.is_file())
    manifest = {
        "study": study.protocol_number,
        "export": export.pk,
        "requested_by": export.requested_by.get_username(),
        "requested_at": export.requested_at.isoformat(),
        "data_cut": snapshot.isoformat(),
        "data_cut_from_audit_history": export.data_cut_at is not None,
        "standards": {
            IG_NAME: IG_VERSION,
            "SDTM": "2.0",
            "CDISC CT (SDTM)": CT_VERSION,
            "Define-XML": DEFINE_VERSION,
            "ODM": "1.3.2",
            "Dataset-JSON": "1.1",
            "MedDRA": f"{codelists['MedDRA'].external[1]} (via CTCAE v5.0)",
            "CTCAE": "5.0",
        },
        "datasets": [[d.name, len(d.rows)] for d in datasets],
        "validation": {"errors": errors, "warnings": warnings},
        "files": [
            {"path": str(p.relative_to(root)), "bytes": p.stat().st_size, "sha256": _sha256(p)}
            for p in files
        ],
    }
    (root / "manifest.json").write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    target_dir = Path(settings.STANDARDS_EXPORT_DIR) / study.protocol_number
    target_dir.mkdir(parents=True, exist_ok=True)
    target = target_dir / f"{base}.zip"
    partial = target_dir / f".{base}.zip.partial"
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in [*files, root / "manifest.json"]:
            archive.write(path, f"{base}/{path.relative_to(root)}")
    shutil.move(partial, target)
    with transaction.atomic():
        export = Export.objects.select_for_update().get(pk=export.pk)
        export.status = Export.Status.COMPLETED
        export.progress = 100
        export.step = "Done"
        export.finished_at = timezone.now()
        export.snapshot_at = snapshot
        export.ig_version = IG_VERSION
        export.ct_version = CT_VERSION
        export.define_version = DEFINE_VERSION
        export.odm_version = "1.3.2"
        export.file_name = f"{study.protocol_number}/{target.name}"
        export.file_size = target.stat().st_size
        export.sha256 = _sha256(target)
        export.errors = errors
        export.warnings = warnings
        export.validation = report
        export.datasets = manifest["datasets"]
        export._change_reason = "Export completed"
        export.save()
    return f"export {export.pk}: {len(datasets)} datasets, {errors} errors, {warnings} warnings"


def _read_back(dataset, path: Path) -> list[Finding]:
    """Read the XPT file with a second reader and compare it with the rows written."""
    frame, meta = read_xpt(path)
    problems = []
    if list(frame.columns) != [c.name for c in dataset.columns]:
        problems.append("columns differ")
    if len(frame) != len(dataset.rows):
        problems.append(f"{len(frame)} records read, {len(dataset.rows)} written")
    if meta.column_labels != [c.variable.label for c in dataset.columns]:
        problems.append("labels differ")
    return [
        Finding("XPT0001", "1", "error", dataset.name, "", None, f"XPT read-back: {p}")
        for p in problems
    ]


def export_path(export: Export) -> Path:
    return Path(settings.STANDARDS_EXPORT_DIR) / export.file_name
