"""The cycle schedule of a regimen, as plain date arithmetic (no database).

Clinics dose each cycle from the day the previous cycle actually started, not from a calendar
fixed at the first dose: when Cycle 2 Day 1 is delayed a week, Cycle 3 and everything after it
move a week too (docs/dosing.md §1). So:

- Day d of cycle c is planned d - 1 days after the cycle's own Day 1 as given (Q2W: Day 15 is 14
  days after the actual Day 1 of its cycle).
- Day 1 of cycle c, not given yet, is planned one cycle length after the Day 1 of the latest
  earlier cycle that was given (c - k cycle lengths after it when k cycles were skipped).
- Before any dose, Cycle 1 Day 1 is whenever it is given.

Two infusions closer together than the regimen's minimum interval are a protocol deviation
(docs/dosing.md §2): `too_close` finds them. The minimum is a protocol setting per regimen;
omitted, it is the interval between infusions minus the visit window (MIL97 Q3W: 21 - 3 = 18
days; Q2W: 14 - 2 = 12 days), the earliest an infusion on time within its window can come.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta


@dataclass(frozen=True)
class Schedule:
    """What the arithmetic needs of a regimen."""

    cycle_length_days: int
    infusion_days: tuple[int, ...]  # ascending, starting at Day 1: Q3W (1,), Q2W (1, 15)
    window_days: int  # a visit's window: planned day +/- this many days
    min_days_between_infusions: int

    def __post_init__(self) -> None:
        days = self.infusion_days
        if not days or days[0] != 1 or list(days) != sorted(set(days)):
            raise ValueError("infusion_days: ascending day numbers starting at Day 1")
        if days[-1] > self.cycle_length_days:
            raise ValueError("infusion_days: every infusion day lies within the cycle")
        if self.window_days < 0 or self.min_days_between_infusions < 0:
            raise ValueError("window_days and min_days_between_infusions are not negative")


def default_min_days(interval_days: int, window_days: int) -> int:
    """The minimum interval when the protocol sets none: the regimen's interval minus its visit
    window (a dose on the first day of its window, after one given on time)."""
    return max(interval_days - window_days, 0)


@dataclass(frozen=True)
class GivenDose:
    cycle: int
    day: int
    given_on: date

    @property
    def code(self) -> str:
        return f"C{self.cycle}D{self.day}"


@dataclass(frozen=True)
class DoseSlot:
    cycle: int
    day: int
    planned_on: date | None  # None before the first dose: Cycle 1 Day 1 is whenever it happens
    window_days: int
    anchor: GivenDose | None = None  # the given Day 1 the planned date is counted from

    @property
    def label(self) -> str:
        return f"Cycle {self.cycle} Day {self.day}"

    @property
    def code(self) -> str:
        return f"C{self.cycle}D{self.day}"

    @property
    def earliest(self) -> date | None:
        if self.planned_on is None:
            return None
        return self.planned_on - timedelta(days=self.window_days)

    @property
    def latest(self) -> date | None:
        if self.planned_on is None:
            return None
        return self.planned_on + timedelta(days=self.window_days)

    def contains(self, day: date) -> bool:
        if self.planned_on is None:
            return True
        low = self.planned_on - timedelta(days=self.window_days)
        high = self.planned_on + timedelta(days=self.window_days)
        return low <= day <= high


def _given(doses: Iterable[GivenDose]) -> list[GivenDose]:
    return sorted(doses, key=lambda d: (d.cycle, d.day))


def planned_date(
    cycle: int, day: int, doses: Iterable[GivenDose], schedule: Schedule
) -> tuple[date | None, GivenDose | None]:
    """When Cycle `cycle` Day `day` is planned, and the given Day 1 it is counted from.

    (None, None) while no earlier cycle's Day 1 (nor this cycle's) has been given.
    """
    first_day = schedule.infusion_days[0]
    day_ones = {d.cycle: d for d in doses if d.day == first_day}
    own = day_ones.get(cycle)
    if own is not None and day != first_day:
        return own.given_on + timedelta(days=day - first_day), own
    earlier = [c for c in day_ones if c < cycle]
    if not earlier:
        return None, None
    anchor = day_ones[max(earlier)]
    start = anchor.given_on + timedelta(days=(cycle - anchor.cycle) * schedule.cycle_length_days)
    return start + timedelta(days=day - first_day), anchor


def slot_for(cycle: int, day: int, doses: Iterable[GivenDose], schedule: Schedule) -> DoseSlot:
    """The slot of Cycle `cycle` Day `day`, with its planned date from the doses given."""
    planned, anchor = planned_date(cycle, day, list(doses), schedule)
    return DoseSlot(cycle, day, planned, schedule.window_days, anchor)


def slot_after(doses: Iterable[GivenDose], schedule: Schedule) -> DoseSlot:
    """The dose that follows the last one given (by cycle and day); Cycle 1 Day 1 when nothing
    was given yet."""
    given = _given(doses)
    if not given:
        return DoseSlot(1, schedule.infusion_days[0], None, schedule.window_days)
    last = given[-1]
    later = [d for d in schedule.infusion_days if d > last.day]
    cycle, day = (last.cycle, later[0]) if later else (last.cycle + 1, schedule.infusion_days[0])
    return slot_for(cycle, day, given, schedule)


@dataclass(frozen=True)
class TooClose:
    """An infusion closer to a neighbouring one than the regimen allows."""

    other: GivenDose
    days_apart: int
    minimum: int
    other_is_before: bool

    def describe(self, this: str) -> str:
        side = "after" if self.other_is_before else "before"
        return (
            f"{this} is {self.days_apart} day{'s' if self.days_apart != 1 else ''} {side} "
            f"{self.other.code} ({self.other.given_on:%Y-%m-%d}); the protocol's minimum "
            f"between infusions is {self.minimum} days"
        )


def too_close(
    cycle: int,
    day: int,
    on: date,
    doses: Sequence[GivenDose],
    schedule: Schedule,
) -> TooClose | None:
    """Is an infusion of Cycle `cycle` Day `day` on `on` closer than the minimum interval to the
    given infusion just before it or just after it (by cycle and day)? The nearer one is named."""
    given = [d for d in _given(doses) if (d.cycle, d.day) != (cycle, day)]
    before = [d for d in given if (d.cycle, d.day) < (cycle, day)]
    after = [d for d in given if (d.cycle, d.day) > (cycle, day)]
    found: list[TooClose] = []
    if before:
        gap = (on - before[-1].given_on).days
        if gap < schedule.min_days_between_infusions:
            found.append(TooClose(before[-1], gap, schedule.min_days_between_infusions, True))
    if after:
        gap = (after[0].given_on - on).days
        if gap < schedule.min_days_between_infusions:
            found.append(TooClose(after[0], gap, schedule.min_days_between_infusions, False))
    return min(found, key=lambda t: t.days_apart) if found else None
