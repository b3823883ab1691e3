"""A laboratory file of 5,000 rows imports in one transaction; the same file with one bad row
saves nothing (docs/pharmacology.md §8.2). The time is printed (README: "Pharmacology")."""

import time
from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext

from pharmacology.models import Concentration, LabImport, Sample
from pharmacology.services import lab_import

ROWS = 5_000


def seed_samples(study, subject, dose, by) -> list[str]:
    """5,000 collected PK samples of one infusion, made in bulk (test set-up: the import is
    what is measured). Each row satisfies the table's constraints."""
    start = dose.infusion_start
    rows = [
        Sample(
            study=study,
            subject=subject,
            dose=dose,
            kind="pk",
            interval=1,
            timepoint=f"T{i:05d}",
            role="postdose",
            specimen="SERUM",
            nominal_at=start + timedelta(minutes=i),
            window_start=start,
            window_end=start,
            nrrlt_hours=i / 60,
            nfrlt_hours=i / 60,
            status="collected",
            sample_id=f"BULK-{i:05d}",
            collected_at=start + timedelta(minutes=i),
            created_by=by,
        )  # fmt: skip
        for i in range(ROWS)
    ]
    Sample.objects.bulk_create(rows, batch_size=1000)
    return [r.sample_id for r in rows]


def csv_of(ids, subject, bad_line: int | None = None) -> bytes:
    lines = ["sample_id,subject,timepoint,analyte,result,unit,lloq,uloq,run_id"]
    for n, sample_id in enumerate(ids, start=2):
        unit = "mg" if n == bad_line else "ug/mL"
        timepoint = sample_id.replace("BULK-", "T")  # each seeded sample's own time point
        lines.append(
            f"{sample_id},{subject.subject_number},{timepoint},MIL97,1.25,{unit},0.05,50,R1"
        )
    return ("\n".join(lines) + "\n").encode()


def test_five_thousand_rows_in_one_transaction(
    data_manager, coordinator_a, study, subject_a, dose_a, capsys
):
    ids = seed_samples(study, subject_a, dose_a, coordinator_a)
    bad = lab_import(
        by=data_manager, study=study, kind="pk", file_name="bad.csv",
        content=csv_of(ids, subject_a, bad_line=4_000),
    )  # fmt: skip
    assert bad.status == "refused" and [e["line"] for e in bad.report] == [4_000]
    assert not Concentration.objects.exists()
    began = time.perf_counter()
    with CaptureQueriesContext(connection) as queries:
        good = lab_import(
            by=data_manager, study=study, kind="pk", file_name="good.csv",
            content=csv_of(ids, subject_a),
        )  # fmt: skip
    seconds = time.perf_counter() - began
    assert good.status == "accepted" and good.saved == ROWS
    assert Concentration.objects.count() == ROWS
    assert Concentration.history.filter(history_type="+").count() == ROWS
    # One transaction: the service's atomic block opens once (a savepoint for the results).
    opened = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("SAVEPOINT")]
    assert len([q for q in queries.captured_queries if q["sql"] == "BEGIN"]) <= 1, opened[:3]
    assert LabImport.objects.filter(status="accepted").count() == 1
    with capsys.disabled():
        print(f"\n{ROWS} rows imported in {seconds:.1f} s on {connection.vendor}")
