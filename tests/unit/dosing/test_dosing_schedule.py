"""The cycle schedule as clinics dose: each cycle counted from the previous cycle's actual Day 1,
and the minimum interval between infusions (docs/dosing.md §1-2). Scenarios worked by hand."""

from __future__ import annotations

import ast
from datetime import date, timedelta
from pathlib import Path

import pytest

import dosing.schedule as schedule_module
from dosing.schedule import (
    GivenDose,
    Schedule,
    default_min_days,
    planned_date,
    slot_after,
    slot_for,
    too_close,
)

# MIL97: Q3W a 21-day cycle dosed on Day 1, window +/- 3 days; Q2W a 28-day cycle dosed on Days
# 1 and 15, window +/- 2 days. Minimum interval = interval - window (21 - 3, 14 - 2).
Q3W = Schedule(
    cycle_length_days=21,
    infusion_days=(1,),
    window_days=3,
    min_days_between_infusions=default_min_days(21, 3),
)
Q2W = Schedule(
    cycle_length_days=28,
    infusion_days=(1, 15),
    window_days=2,
    min_days_between_infusions=default_min_days(14, 2),
)
C1D1 = date(2026, 3, 2)


def d(cycle: int, day: int, on: date) -> GivenDose:
    return GivenDose(cycle, day, on)


def test_default_minimum_is_the_interval_minus_the_window() -> None:
    assert Q3W.min_days_between_infusions == 18
    assert Q2W.min_days_between_infusions == 12
    assert default_min_days(2, 3) == 0  # never negative


# (schedule, doses given, slot asked, expected planned date or None, expected anchor code)
PLANNED = [
    # Nothing given: Cycle 1 Day 1 is whenever it happens.
    (Q3W, [], (1, 1), None, None),
    # On time: C2D1 = C1D1 + 21, C3D1 = C2D1 + 21.
    (Q3W, [d(1, 1, C1D1)], (2, 1), date(2026, 3, 23), "C1D1"),
    (Q3W, [d(1, 1, C1D1), d(2, 1, date(2026, 3, 23))], (3, 1), date(2026, 4, 13), "C2D1"),
    # C2D1 delayed 7 days (Day 29, 2026-03-30): C3D1 moves 7 days, to 2026-04-20, and C4D1
    # (not given yet, C3D1 neither) to 2026-05-11.
    (Q3W, [d(1, 1, C1D1), d(2, 1, date(2026, 3, 30))], (3, 1), date(2026, 4, 20), "C2D1"),
    (Q3W, [d(1, 1, C1D1), d(2, 1, date(2026, 3, 30))], (4, 1), date(2026, 5, 11), "C2D1"),
    # A given cycle's own Day 1 answers for itself (a correction of C2D1 is checked against
    # C1D1, not against itself).
    (Q3W, [d(1, 1, C1D1), d(2, 1, date(2026, 3, 30))], (2, 1), date(2026, 3, 23), "C1D1"),
    # Q2W: Day 15 from its own cycle's actual Day 1.
    (Q2W, [d(1, 1, C1D1)], (1, 15), date(2026, 3, 16), "C1D1"),
    (Q2W, [d(1, 1, C1D1), d(1, 15, date(2026, 3, 16))], (2, 1), date(2026, 3, 30), "C1D1"),
    # Q2W C2D1 delayed 5 days (2026-04-04): C2D15 = 2026-04-18, C3D1 = 2026-05-02.
    (Q2W, [d(1, 1, C1D1), d(2, 1, date(2026, 4, 4))], (2, 15), date(2026, 4, 18), "C2D1"),
    (Q2W, [d(1, 1, C1D1), d(2, 1, date(2026, 4, 4))], (3, 1), date(2026, 5, 2), "C2D1"),
    # A delayed Day 15 does not move the next cycle's Day 1 (counted from Day 1).
    (Q2W, [d(1, 1, C1D1), d(1, 15, date(2026, 3, 20))], (2, 1), date(2026, 3, 30), "C1D1"),
    # Cycle 3 skipped (not given): C4D1 two cycle lengths after the given C2D1.
    (Q3W, [d(1, 1, C1D1), d(2, 1, date(2026, 3, 25))], (4, 1), date(2026, 5, 6), "C2D1"),
]


@pytest.mark.parametrize(("schedule", "doses", "slot", "expected", "anchor"), PLANNED)
def test_planned_date_counts_from_the_actual_day_1_before(
    schedule: Schedule,
    doses: list[GivenDose],
    slot: tuple[int, int],
    expected: date | None,
    anchor: str | None,
) -> None:
    planned, from_dose = planned_date(*slot, doses, schedule)
    assert planned == expected
    assert (from_dose.code if from_dose else None) == anchor


def test_the_window_of_the_delayed_schedule() -> None:
    """The reproduction of the review: C2D1 delayed to 2026-03-30; C3D1 is proposed on
    2026-04-20 with window 04-17..04-23, so 04-13 (14 days after C2D1) is outside it."""
    doses = [d(1, 1, C1D1), d(2, 1, date(2026, 3, 30))]
    slot = slot_after(doses, Q3W)
    assert (slot.cycle, slot.day) == (3, 1)
    assert (slot.planned_on, slot.earliest, slot.latest) == (
        date(2026, 4, 20),
        date(2026, 4, 17),
        date(2026, 4, 23),
    )
    assert slot.contains(date(2026, 4, 20)) and slot.contains(date(2026, 4, 17))
    assert not slot.contains(date(2026, 4, 13)) and not slot.contains(date(2026, 4, 24))
    assert slot.anchor == doses[1]


def test_next_slot_walks_the_infusion_days() -> None:
    assert slot_after([], Q2W).label == "Cycle 1 Day 1"
    assert slot_after([], Q2W).planned_on is None
    assert slot_after([], Q2W).contains(date(2030, 1, 1))
    after_day_1 = slot_after([d(1, 1, C1D1)], Q2W)
    assert (after_day_1.cycle, after_day_1.day, after_day_1.planned_on) == (
        1,
        15,
        date(2026, 3, 16),
    )
    after_day_15 = slot_after([d(1, 1, C1D1), d(1, 15, date(2026, 3, 17))], Q2W)
    assert (after_day_15.cycle, after_day_15.day, after_day_15.planned_on) == (
        2,
        1,
        date(2026, 3, 30),
    )
    # Given out of order in the list: the last by cycle and day counts.
    out_of_order = [d(2, 1, date(2026, 3, 23)), d(1, 1, C1D1)]
    assert slot_after(out_of_order, Q3W).code == "C3D1"


def test_slot_for_a_cycle_before_any_day_1() -> None:
    assert slot_for(1, 1, [], Q3W).planned_on is None
    assert slot_for(3, 1, [d(1, 1, C1D1)], Q3W).planned_on == date(2026, 4, 13)


# (schedule, doses given, infusion (cycle, day, date), expected (other, days, before) or None)
INTERVALS = [
    # Q3W C3D1 14 days after a delayed C2D1: closer than 18 days.
    (
        Q3W,
        [d(1, 1, C1D1), d(2, 1, date(2026, 3, 30))],
        (3, 1, date(2026, 4, 13)),
        ("C2D1", 14, True),
    ),
    # 18 days (first day of the window after an on-time dose) is allowed.
    (Q3W, [d(1, 1, C1D1)], (2, 1, date(2026, 3, 20)), None),
    (Q3W, [d(1, 1, C1D1)], (2, 1, date(2026, 3, 19)), ("C1D1", 17, True)),
    # Q2W Day 15 given 11 days after Day 1: closer than 12.
    (Q2W, [d(1, 1, C1D1)], (1, 15, date(2026, 3, 13)), ("C1D1", 11, True)),
    (Q2W, [d(1, 1, C1D1)], (1, 15, date(2026, 3, 14)), None),
    # A delayed Day 15 brings the next cycle's Day 1 close to it: 2026-03-22 -> 2026-03-30 is 8.
    (
        Q2W,
        [d(1, 1, C1D1), d(1, 15, date(2026, 3, 22))],
        (2, 1, date(2026, 3, 30)),
        ("C1D15", 8, True),
    ),
    # Correcting an earlier dose's date towards the next one: the next one is named.
    (
        Q3W,
        [d(1, 1, C1D1), d(2, 1, date(2026, 3, 23))],
        (1, 1, date(2026, 3, 10)),
        ("C2D1", 13, False),
    ),
    # The dose itself (a correction) is not its own neighbour.
    (Q3W, [d(1, 1, C1D1), d(2, 1, date(2026, 3, 23))], (2, 1, date(2026, 3, 24)), None),
    # Nothing given yet.
    (Q3W, [], (1, 1, C1D1), None),
]


@pytest.mark.parametrize(("schedule", "doses", "infusion", "expected"), INTERVALS)
def test_too_close_names_the_nearer_neighbour(
    schedule: Schedule,
    doses: list[GivenDose],
    infusion: tuple[int, int, date],
    expected: tuple[str, int, bool] | None,
) -> None:
    found = too_close(*infusion, doses, schedule)
    if expected is None:
        assert found is None
        return
    assert found is not None
    assert (found.other.code, found.days_apart, found.other_is_before) == expected
    assert found.minimum == schedule.min_days_between_infusions
    assert f"{expected[1]} days" in found.describe("This dose")


def test_a_delay_shifts_every_later_cycle_by_the_same_days() -> None:
    """Property: delaying C2D1 by k days moves the planned C3D1..C6D1 by k days."""
    on_time = [d(1, 1, C1D1), d(2, 1, C1D1 + timedelta(days=21))]
    for k in range(0, 15):
        delayed = [d(1, 1, C1D1), d(2, 1, C1D1 + timedelta(days=21 + k))]
        for cycle in range(3, 7):
            base, _ = planned_date(cycle, 1, on_time, Q3W)
            moved, _ = planned_date(cycle, 1, delayed, Q3W)
            assert base is not None and moved is not None
            assert (moved - base).days == k


@pytest.mark.parametrize(
    "kwargs",
    [
        {"infusion_days": ()},
        {"infusion_days": (2,)},
        {"infusion_days": (1, 1)},
        {"infusion_days": (1, 30)},
        {"window_days": -1},
    ],
)
def test_an_inconsistent_schedule_is_refused(kwargs: dict[str, object]) -> None:
    values: dict[str, object] = {
        "cycle_length_days": 28,
        "infusion_days": (1, 15),
        "window_days": 2,
        "min_days_between_infusions": 12,
    } | kwargs
    with pytest.raises(ValueError):
        Schedule(**values)  # type: ignore[arg-type]


def test_the_schedule_module_is_plain_python() -> None:
    tree = ast.parse(Path(schedule_module.__file__).read_text())
    imported = [
        (node.module or "") if isinstance(node, ast.ImportFrom) else alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    ]
    assert all(
        name.split(".")[0] in {"__future__", "collections", "dataclasses", "datetime"}
        for name in imported
    ), imported
