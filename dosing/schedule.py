"""The cycle schedule of a regimen, as plain date arithmetic (no database).

Cycle c, Day d is planned on first_dose + (c - 1) * cycle_length + (d - 1): Cycle 1 Day 1 is the
first dose. Q3W: a 21-day cycle dosed on Day 1. Q2W: a 28-day cycle dosed on Days 1 and 15.
"""

from dataclasses import dataclass
from datetime import date, timedelta


@dataclass(frozen=True)
class DoseSlot:
    cycle: int
    day: int
    planned_on: date | None  # None before the first dose: Cycle 1 Day 1 is whenever it happens
    window_days: int

    @property
    def label(self) -> str:
        return f"Cycle {self.cycle} Day {self.day}"

    @property
    def earliest(self) -> date | None:
        return (
            None if self.planned_on is None else self.planned_on - timedelta(days=self.window_days)
        )

    @property
    def latest(self) -> date | None:
        return (
            None if self.planned_on is None else self.planned_on + timedelta(days=self.window_days)
        )

    def contains(self, day: date) -> bool:
        return self.planned_on is None or self.earliest <= day <= self.latest


def planned_date(first_dose: date, cycle: int, day: int, cycle_length_days: int) -> date:
    return first_dose + timedelta(days=(cycle - 1) * cycle_length_days + (day - 1))


def slot_after(
    last: tuple[int, int] | None,
    *,
    first_dose: date | None,
    infusion_days: list[int],
    cycle_length_days: int,
    window_days: int,
) -> DoseSlot:
    """The dose that follows `last` (cycle, day); Cycle 1 Day 1 when nothing was given yet."""
    if last is None or first_dose is None:
        return DoseSlot(1, infusion_days[0], None, window_days)
    cycle, day = last
    later = [d for d in infusion_days if d > day]
    if later:
        cycle, day = cycle, later[0]
    else:
        cycle, day = cycle + 1, infusion_days[0]
    return DoseSlot(
        cycle, day, planned_date(first_dose, cycle, day, cycle_length_days), window_days
    )


def slot_for(
    cycle: int,
    day: int,
    *,
    first_dose: date | None,
    cycle_length_days: int,
    window_days: int,
) -> DoseSlot:
    planned = (
        None if first_dose is None else planned_date(first_dose, cycle, day, cycle_length_days)
    )
    return DoseSlot(cycle, day, planned, window_days)
