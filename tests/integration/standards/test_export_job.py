"""The export job: a zip with the datasets, define.xml, the ODM file, the validation report and
a manifest of SHA-256 checksums; kept for good; idempotent; and a data cut read from the audit
history shows the data as they were then (docs/standards.md §6, §11)."""

import hashlib
import json
import zipfile
from datetime import timedelta

import pyreadstat
import pytest
from django.utils import timezone

from core.errors import PermissionDenied
from core.models import ClinicalDataProtected
from safety.services import adverse_event_update
from standards import services
from standards.build import ExportRefused
from standards.models import Export
from standards.services import export_path, export_request, run_export
from tests.factories import reported_ae


@pytest.fixture(autouse=True)
def export_dir(settings, tmp_path):
    settings.STANDARDS_EXPORT_DIR = tmp_path
    return tmp_path


def requested(by, study, django_capture_on_commit_callbacks, **kwargs) -> Export:
    """Request an export; the commit's callbacks run the job (tasks run in process in tests)."""
    with django_capture_on_commit_callbacks(execute=True):
        export = export_request(by=by, study=study, **kwargs)
    return Export.objects.get(pk=export.pk)


def members(path):
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def test_an_export_makes_a_checked_zip(
    trial_data, study, sponsor, django_capture_on_commit_callbacks
):
    export = requested(sponsor, study, django_capture_on_commit_callbacks)
    assert export.status == Export.Status.COMPLETED, export.failure
    assert (export.progress, export.errors) == (100, 0)
    assert (export.ig_version, export.ct_version, export.define_version, export.odm_version) == (
        "3.4",
        "2025-03-28",
        "2.1.0",
        "1.3.2",
    )
    assert export.snapshot_at is not None and export.data_cut_at is None
    path = export_path(export)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == export.sha256
    assert path.stat().st_size == export.file_size
    files = members(path)
    base = f"MIL97-001-export-{export.pk}/"
    names = {n.removeprefix(base) for n in files}
    for dataset in (
        "dm",
        "ds",
        "ie",
        "ex",
        "suppex",
        "sv",
        "ae",
        "suppae",
        "ta",
        "te",
        "tv",
        "ti",
        "ts",
    ):
        assert f"sdtm/xpt/{dataset}.xpt" in names and f"sdtm/json/{dataset}.json" in names
    assert {
        "sdtm/define.xml",
        "odm/MIL97-001-odm.xml",
        "validation-report.json",
        "manifest.json",
    } <= names
    manifest = json.loads(files[base + "manifest.json"])
    assert manifest["standards"]["CDISC CT (SDTM)"] == "2025-03-28"
    assert {f["path"] for f in manifest["files"]} == names - {"manifest.json"}
    for entry in manifest["files"]:
        assert hashlib.sha256(files[base + entry["path"]]).hexdigest() == entry["sha256"]
    report = json.loads(files[base + "validation-report.json"])
    assert report["errors"] == 0 and report["warnings"] == export.warnings
    assert report["findings"] == export.validation
    assert dict(export.datasets)["AE"] == 2
    # Every XPT file was read back with a second reader and matched (check XPT0001).
    assert not [f for f in export.validation if f["check"] == "XPT0001"]


def test_the_job_is_idempotent(trial_data, study, sponsor, django_capture_on_commit_callbacks):
    export = requested(sponsor, study, django_capture_on_commit_callbacks)
    before = (export.sha256, export.finished_at, export.attempts)
    assert run_export(export.pk).endswith("nothing to do (completed)")
    export.refresh_from_db()
    assert (export.sha256, export.finished_at, export.attempts) == before
    # A job another worker is running (and not stale) is left to it.
    running = Export.objects.create(
        study=study,
        requested_by=sponsor,
        requested_at=timezone.now(),
        status="running",
        started_at=timezone.now(),
    )
    assert run_export(running.pk).endswith("nothing to do (running)")
    # One whose worker died long ago is taken over.
    Export.objects.filter(pk=running.pk).update(
        started_at=timezone.now() - services.STALE_AFTER - timedelta(minutes=1)
    )
    run_export(running.pk)
    running.refresh_from_db()
    assert running.status == Export.Status.COMPLETED and running.attempts == 1


def test_a_data_cut_shows_the_data_as_they_were(
    trial_data, study, sponsor, coordinator_a, django_capture_on_commit_callbacks
):
    cut = timezone.now()
    s1, dlt = trial_data["s1"], trial_data["dlt"]
    adverse_event_update(
        by=coordinator_a,
        adverse_event=dlt,
        changes={"grade": 2},
        reason="Grade corrected after source data verification",
        expected_version=dlt.version,
    )
    reported_ae(
        coordinator_a,
        s1,
        "Nausea",
        verbatim_term="Nausea",
        grade=1,
        onset_date=timezone.localdate() - timedelta(days=2),
        relationship="possible",
        action_taken="none",
        outcome="recovering",
    )
    as_of = requested(sponsor, study, django_capture_on_commit_callbacks, data_cut_at=cut)
    now = requested(sponsor, study, django_capture_on_commit_callbacks)
    assert as_of.status == now.status == Export.Status.COMPLETED
    assert as_of.snapshot_at == cut

    def ae_rows(export):
        files = members(export_path(export))
        name = next(n for n in files if n.endswith("sdtm/xpt/ae.xpt"))
        path = export_path(export).with_suffix(f".{export.pk}.ae.xpt")
        path.write_bytes(files[name])
        frame, _ = pyreadstat.read_xport(str(path))
        return sorted(zip(frame["AEDECOD"], frame["AETOXGR"], strict=True))

    assert ae_rows(as_of) == [("Fatigue", "3"), ("Headache", "1")]
    assert ae_rows(now) == [("Fatigue", "2"), ("Headache", "1"), ("Nausea", "1")]
    odm = next(v for k, v in members(export_path(as_of)).items() if k.endswith("odm.xml"))
    assert b"Grade corrected" not in odm and b'AsOfDateTime="' in odm
    ts = next(v for k, v in members(export_path(as_of)).items() if k.endswith("json/ts.json"))
    rows = json.loads(ts)["rows"]
    assert any(r[3] == "DCUTDTC" and r[5] == cut.strftime("%Y-%m-%dT%H:%M") for r in rows)


def test_a_failed_export_says_why_and_keeps_no_file(
    trial_data, study, sponsor, export_dir, monkeypatch, django_capture_on_commit_callbacks
):
    def refuse(ctx, **kwargs):
        raise ExportRefused("TI.IETEST is longer than 200 characters")

    monkeypatch.setattr(services, "build_datasets", refuse)
    export = requested(sponsor, study, django_capture_on_commit_callbacks)
    assert export.status == Export.Status.FAILED
    assert export.failure == "TI.IETEST is longer than 200 characters"
    assert not any(export_dir.rglob("*.zip"))


def test_exports_are_kept(trial_data, study, sponsor, django_capture_on_commit_callbacks):
    export = requested(sponsor, study, django_capture_on_commit_callbacks)
    with pytest.raises(ClinicalDataProtected):
        export.delete()
    with pytest.raises(ClinicalDataProtected):
        Export.objects.all().delete()
    assert export.history.count() >= 2  # requested, completed


def test_who_may_export_and_which_cuts(
    study, sponsor, data_manager, monitor, coordinator_a, investigator_a
):
    for user in (sponsor, data_manager, monitor):
        assert export_request(by=user, study=study).status == Export.Status.QUEUED
    for user in (coordinator_a, investigator_a):
        with pytest.raises(PermissionDenied):
            export_request(by=user, study=study)
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="cannot be in the future"):
        export_request(by=sponsor, study=study, data_cut_at=timezone.now() + timedelta(hours=1))
