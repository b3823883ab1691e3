"""Demo samples and laboratory results for the demo study (`manage.py load_demo`): a Cycle 1
PK profile with a late sample and a missed one, ADA and biomarker samples, and the laboratory's
files imported through the same service as the page (docs/pharmacology.md §12)."""

from __future__ import annotations

import math
from datetime import timedelta

from .models import Sample
from .services import lab_import, sample_record

# A one-compartment picture of a 30-minute infusion: C(t) = C0 exp(-k t), t1/2 = 10 days.
C0_UG_PER_ML, HALF_LIFE_H, LLOQ = 0.23, 240.0, 0.005
LATE = {"2 h": 40}  # minutes late: outside its +-15 minute window, flagged
MISSED = {"96 h": "Subject could not attend on Day 5"}


def _conc(hours: float) -> str:
    if hours <= 0:
        return "BLQ"
    return f"{C0_UG_PER_ML * math.exp(-math.log(2) / HALF_LIFE_H * hours):.4f}"


def load(*, subject, dose, coordinator, data_manager) -> None:
    """Record the Cycle 1 samples of the demo subject and import the laboratory's results."""
    from .selectors import expected_rows

    number = subject.subject_number
    pk_rows, ada_rows, bm_rows = [], [], []
    for row in expected_rows(subject):
        expected = row.expected
        if row.dose.pk != dose.pk or row.sample is not None:
            continue
        kind, label = expected.kind.value, expected.label
        barcode = f"{kind.upper()[:2]}-{number}-{label.replace(' ', '').replace('-', '')}"
        if kind == "pk" and label in MISSED:
            sample_record(
                by=coordinator, subject=subject, dose=dose, kind=kind, timepoint=label,
                collected=False, not_collected_reason=MISSED[label],
            )  # fmt: skip
            continue
        taken = expected.nominal_at + timedelta(minutes=LATE.get(label, 0) if kind == "pk" else 0)
        if expected.role.value == "predose":
            taken = expected.nominal_at - timedelta(minutes=25)
        sample = sample_record(
            by=coordinator, subject=subject, dose=dose, kind=kind, timepoint=label,
            sample_id=barcode, collected_at=taken,
        )  # fmt: skip
        hours = (taken - dose.infusion_start).total_seconds() / 3600
        if kind == "pk":
            pk_rows.append(
                f"{sample.sample_id},{number},{label},MIL97,{_conc(hours)},ug/mL,{LLOQ},5,PK-RUN-01"
            )
        elif kind == "ada":
            ada_rows.append(f"{sample.sample_id},{number},{label},negative,,,,ADA-RUN-01")
        else:
            peak = 1 + 2.5 * math.exp(-max(hours, 0) / 12) if hours > 0 else 1
            for code, base, unit, lloq in (("IL6", 4.2, "pg/mL", 1.5), ("IFNG", 2.0, "pg/mL", 1.0),
                                           ("SCD80", 0.8, "ng/mL", 0.1)):  # fmt: skip
                bm_rows.append(
                    f"{sample.sample_id},{number},{label},{code},{base * peak:.2f},{unit},{lloq},1000,"
                    "BM-RUN-01"
                )
    study = subject.study
    for kind, header, rows in (
        ("pk", "sample_id,subject,timepoint,analyte,result,unit,lloq,uloq,run_id", pk_rows),
        (
            "ada",
            "sample_id,subject,timepoint,screening,confirmatory,titer,neutralising,run_id",
            ada_rows,
        ),
        ("biomarker", "sample_id,subject,timepoint,analyte,result,unit,lloq,uloq,run_id", bm_rows),
    ):
        if rows:
            lab_import(
                by=data_manager, study=study, kind=kind, file_name=f"demo-{kind}.csv",
                content=("\n".join([header, *rows]) + "\n").encode(),
            )  # fmt: skip


def loaded(subject) -> bool:
    return Sample.all_objects.filter(subject=subject).exists()
