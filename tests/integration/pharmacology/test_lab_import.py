"""Importing the laboratory's results: all rows or none, a per-row report, the file kept, BLQ
with its LLOQ, re-assays with a reason, NCA enqueued on commit (docs/pharmacology.md §8-§9)."""

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from core.errors import PermissionDenied
from core.records import history_entries
from pharmacology.models import Concentration, LabImport, NcaAnalysis
from pharmacology.services import lab_import, nca_compute_subject
from tests.integration.pharmacology.conftest import pk_csv


def run(by, study, content, kind="pk", name="run1.csv"):
    return lab_import(by=by, study=study, kind=kind, file_name=name, content=content)


def test_a_good_file_saves_every_result_and_computes_the_nca(
    data_manager, study, subject_a, pk_samples, django_capture_on_commit_callbacks
):
    content = pk_csv(pk_samples, subject_a)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        imported = run(data_manager, study, content)
    assert len(callbacks) == 1
    assert imported.status == "accepted" and imported.saved == 8 and imported.report == []
    assert imported.content.encode() == content and len(imported.sha256) == 64
    blq = Concentration.objects.get(sample=pk_samples["pre-dose"])
    assert (blq.blq, blq.value, blq.reported, blq.lloq) == (True, None, "BLQ", 0.05)
    eoi = Concentration.objects.get(sample=pk_samples["EOI"])
    assert eoi.value == 2.1 and eoi.lab_import == imported
    assert history_entries(eoi)[0]["reason"] == "Imported from run1.csv, line 3"
    nca = NcaAnalysis.objects.get(subject=subject_a, interval=1, analyte="MIL97")
    assert nca.error == ""
    assert nca.parameters["cmax"]["value"] == 2.1
    assert nca.parameters["tmax"]["value"] == 1.5
    assert nca.parameters["tlast"]["value"] == 168.0
    # Traceable: the lambda_z fit names its points, each sample says how it was used.
    assert nca.fit["times"] and set(nca.fit["times"]) <= {24.0, 48.0, 96.0, 168.0}
    used = {p["sample_id"]: p["status"] for p in nca.points}
    assert used["PK-EOI"] == "used"
    assert used["PK-predose"] == "excluded"  # dose-naive: C0 = 0 is used instead
    # Idempotent: the same inputs leave the row alone.
    assert nca_compute_subject(subject_a.pk) == 0
    assert nca.history.count() == 1


def test_one_bad_row_refuses_the_whole_file_and_keeps_it(
    data_manager, study, subject_a, pk_samples
):
    content = pk_csv(
        pk_samples,
        subject_a,
        overrides={"6 h": "1.9 ug"},
        extra=[f"NO-SUCH-TUBE,{subject_a.subject_number},2 h,MIL97,1.0,ug/mL,0.05,50,RUN-1"],
    )
    imported = run(data_manager, study, content, name="bad.csv")
    assert imported.status == "refused" and imported.saved == 0
    assert not Concentration.objects.exists() and not NcaAnalysis.objects.exists()
    assert [(e["line"], e["column"]) for e in imported.report] == [(5, "result"), (10, "sample_id")]
    assert "unknown sample" in imported.report[1]["message"]
    assert LabImport.objects.get(pk=imported.pk).content == content.decode()
    assert imported.history.count() == 1


def test_duplicates_and_re_assays(data_manager, study, subject_a, pk_samples):
    run(data_manager, study, pk_csv(pk_samples, subject_a))
    again = run(data_manager, study, pk_csv(pk_samples, subject_a), name="again.csv")
    assert again.status == "refused" and len(again.report) == 8
    assert "already has a MIL97 result: a duplicate" in again.report[0]["message"]
    reassay = (
        "sample_id,subject,timepoint,analyte,result,unit,lloq,uloq,run_id,reassay_reason\n"
        f"PK-6h,{subject_a.subject_number},6 h,MIL97,1.85,ug/mL,0.05,50,RUN-2,Haemolysed aliquot\n"
    ).encode()
    accepted = run(data_manager, study, reassay, name="reassay.csv")
    assert accepted.status == "accepted", accepted.report
    result = Concentration.objects.get(sample=pk_samples["6 h"])
    assert result.value == 1.85 and result.run_id == "RUN-2"
    assert (
        "Re-assay (file reassay.csv, line 2): Haemolysed aliquot"
        in history_entries(result)[-1]["reason"]
    )


def test_the_subject_must_match_the_sample(data_manager, study, subject_a, pk_samples):
    content = (
        b"sample_id,subject,timepoint,analyte,result,unit,lloq\n"
        b"PK-6h,101-999,6 h,MIL97,1.2,ug/mL,0.05\n"
    )
    imported = run(data_manager, study, content)
    assert imported.report[0]["column"] == "subject"
    assert f"taken from {subject_a.subject_number}, not 101-999" in imported.report[0]["message"]


def test_each_row_is_its_samples_time_point_and_day(
    data_manager, study, subject_a, dose_a, pk_samples
):
    """A tube the laboratory lists at another time point (or day) than the site recorded is
    swapped or mislabelled: the file is refused with the row and the rule, nothing saved."""
    number = subject_a.subject_number
    taken = pk_samples["6 h"].collected_at.astimezone(ZoneInfo(subject_a.site.timezone)).date()
    header = "sample_id,subject,timepoint,collection_date,analyte,result,unit,lloq\n"
    content = (
        header + f"PK-6h,{number},24 h,{taken},MIL97,1.9,ug/mL,0.05\n"
        f"PK-24h,{number},24 h,{taken},MIL97,1.6,ug/mL,0.05\n"
        f"PK-EOI,{number},EOI,{taken - timedelta(days=1)},MIL97,2.1,ug/mL,0.05\n"
    ).encode()
    imported = run(data_manager, study, content)
    assert imported.status == "refused" and not Concentration.objects.exists()
    assert [(e["line"], e["column"], e["sample_id"]) for e in imported.report] == [
        (2, "timepoint", "PK-6h"),
        (3, "collection_date", "PK-24h"),
        (4, "collection_date", "PK-EOI"),
    ]
    assert imported.report[0]["message"] == (
        "sample PK-6h is the '6 h' sample of C1D1, not '24 h': the time point must be the "
        "sample's nominal time point"
    )
    taken_24 = pk_samples["24 h"].collected_at.astimezone(ZoneInfo(subject_a.site.timezone))
    assert (
        f"was taken on {taken_24:%Y-%m-%d} at the site, not {taken}"
        in (imported.report[1]["message"])
    )
    # The schedule's label in another case or spacing is the same time point.
    good = (
        header + f"PK-6h,{number},6 H,{taken},MIL97,1.9,ug/mL,0.05\n"
        f"PK-24h,{number}, 24 h ,,MIL97,1.6,ug/mL,0.05\n"
    ).encode()
    accepted = run(data_manager, study, good, name="good.csv")
    assert accepted.status == "accepted", accepted.report
    assert Concentration.objects.count() == 2


def test_only_study_wide_data_roles_import(coordinator_a, sponsor, study, subject_a, pk_samples):
    for user in (coordinator_a, sponsor):
        with pytest.raises(PermissionDenied):
            run(user, study, pk_csv(pk_samples, subject_a))
    assert not LabImport.objects.exists()


def test_a_file_that_is_not_text_is_refused_and_kept(data_manager, study):
    imported = run(data_manager, study, b"\xff\xfe\x00binary")
    assert imported.status == "refused" and "not UTF-8" in imported.report[0]["message"]


def test_a_locked_subject_refuses_the_file_and_a_locked_study_takes_none(
    data_manager, study, subject_a, pk_samples
):
    from core.errors import RecordLocked
    from quality.services import study_lock, subject_lock, subject_unlock

    lock = subject_lock(by=data_manager, subject=subject_a, reason="Clean")
    refused = run(data_manager, study, pk_csv(pk_samples, subject_a))
    assert refused.status == "refused" and refused.saved == 0
    [error] = refused.report
    assert (error["line"], error["column"], error["sample_id"]) == (2, "subject", "PK-predose")
    assert f"{subject_a} is locked" in error["message"]
    assert not Concentration.objects.exists()

    subject_unlock(by=data_manager, lock=lock, reason="Lab results to come")
    study_lock(by=data_manager, study=study, reason="Database lock")
    kept = LabImport.objects.count()
    with pytest.raises(RecordLocked, match="The study database is locked"):
        run(data_manager, study, pk_csv(pk_samples, subject_a), name="late.csv")
    assert LabImport.objects.count() == kept and not Concentration.objects.exists()
