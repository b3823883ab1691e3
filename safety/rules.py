"""Pure rules about adverse events (no Django): treatment emergence (docs/safety.md §3).

Tested from a table of scenarios (tests/unit/safety/test_treatment_emergent.py).
"""

from dataclasses import dataclass
from datetime import date, time


@dataclass(frozen=True)
class Emergence:
    """Whether an AE is treatment-emergent (TEAE), and why, in words."""

    emergent: bool
    why: str


def treatment_emergence(
    *,
    onset_date: date,
    onset_time: time | None,
    first_dose_date: date | None,
    first_dose_time: time | None,
    grade: int,
    baseline_grade: int | None,
) -> Emergence:
    """An AE is treatment-emergent when it starts on or after the start of the first infusion
    (Cycle 1 Day 1), or, for a pre-existing condition (a baseline grade is given), when it
    worsens after it: its grade is above the baseline grade (ICH E9 glossary; docs/safety.md §3).

    Times are the site's local times. On the day of the first dose, an onset before the start of
    the infusion is before treatment; when either time is not known, the AE is counted as
    treatment-emergent (the safe side: it cannot be shown to precede the dose).
    """
    if first_dose_date is None:
        return Emergence(False, "not dosed yet")
    if onset_date < first_dose_date:
        return Emergence(False, "onset before the first dose")
    if (
        onset_date == first_dose_date
        and onset_time is not None
        and first_dose_time is not None
        and onset_time < first_dose_time
    ):
        return Emergence(
            False,
            f"onset {onset_time:%H:%M}, before the first infusion started ({first_dose_time:%H:%M})",
        )
    if baseline_grade is None:
        return Emergence(True, "new after the first dose")
    if grade > baseline_grade:
        return Emergence(True, f"worsened after the first dose (baseline grade {baseline_grade})")
    return Emergence(False, f"not worse than the baseline grade {baseline_grade}")
