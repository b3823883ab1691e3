"""Sampling schedules, expected samples and ADaM times (docs/pharmacology.md §1)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from pharmacology.rules.errors import PharmacologyInputError
from pharmacology.rules.sampling import (
    Anchor,
    CycleSchedule,
    DoseTimes,
    ExpectedSample,
    Role,
    SampleKind,
    SamplingSchedule,
    TimePoint,
    default_schedule,
    expected_samples,
    time_sample,
)

CET = timezone(timedelta(hours=1))
C1_START = datetime(2026, 1, 5, 9, 0, tzinfo=CET)
# The infusion ran 40 minutes, not the nominal 30.
C1 = DoseTimes(1, C1_START, C1_START + timedelta(minutes=40))
# Cycle 2 given a day late (22 days after Cycle 1).
C2 = DoseTimes(2, C1_START + timedelta(days=22), C1_START + timedelta(days=22, minutes=30))


def find(samples: tuple[ExpectedSample, ...], kind: str, cycle: int, label: str):
    return next(s for s in samples if (s.kind, s.cycle, s.label) == (kind, cycle, label))


def test_q3w_default_schedule_as_data() -> None:
    schedule = default_schedule("Q3W")
    assert schedule.tau_hours == 504
    c1 = schedule.cycle(1)
    assert c1 is not None
    pk = [t.label for t in c1.timepoints if t.kind is SampleKind.PK]
    assert pk == ["pre-dose", "EOI", "2 h", "6 h", "24 h", "48 h", "96 h", "168 h", "336 h"]
    c2 = schedule.cycle(2)
    assert c2 is not None
    assert [t.label for t in c2.timepoints if t.kind is SampleKind.PK] == ["pre-dose", "EOI"]
    c5 = schedule.cycle(5)
    assert c5 is not None and [t.label for t in c5.timepoints] == ["pre-dose"]
    assert {t.kind for t in c1.timepoints} == set(SampleKind)


def test_q2w_profile_ends_at_168_hours() -> None:
    schedule = default_schedule("Q2W")
    c1 = schedule.cycle(1)
    assert schedule.tau_hours == 336 and c1 is not None
    assert [t.label for t in c1.timepoints if t.kind is SampleKind.PK][-1] == "168 h"


def test_expected_samples_take_nominal_times_from_the_actual_dose() -> None:
    samples = expected_samples(default_schedule("Q3W"), [C1, C2])
    eoi = find(samples, "pk", 1, "EOI")
    assert eoi.nominal_at == C1.end  # counted from the actual end of infusion
    assert (eoi.nrrlt, eoi.nfrlt) == (0.5, 0.5)
    h24 = find(samples, "pk", 1, "24 h")
    assert h24.nominal_at == C1_START + timedelta(hours=24)
    assert (h24.window_start, h24.window_end) == (
        C1_START + timedelta(hours=22),
        C1_START + timedelta(hours=26),
    )
    pre2 = find(samples, "pk", 2, "pre-dose")
    assert pre2.nominal_at == C2.start
    assert (pre2.nrrlt, pre2.nfrlt) == (0, 504)  # nominal: Day 22, whatever the delay
    assert find(samples, "ada", 2, "pre-dose").role is Role.PREDOSE
    assert not [s for s in samples if s.cycle == 3]  # Cycle 3 not dosed yet


def test_actual_times_deviation_and_window() -> None:
    samples = expected_samples(default_schedule("Q3W"), [C1, C2])
    h24 = find(samples, "pk", 1, "24 h")
    late = time_sample(h24, C1_START + timedelta(hours=26, minutes=30), [C1, C2])
    assert (late.arrlt, late.afrlt, late.nrrlt, late.nfrlt) == (26.5, 26.5, 24, 24)
    assert late.deviation_hours == pytest.approx(2.5)
    assert late.out_of_window
    on_time = time_sample(h24, C1_START + timedelta(hours=25, minutes=59), [C1, C2])
    assert not on_time.out_of_window
    edge = time_sample(h24, C1_START + timedelta(hours=26), [C1, C2])
    assert not edge.out_of_window  # the window includes its ends

    pre2 = find(samples, "pk", 2, "pre-dose")
    trough = time_sample(pre2, C2.start - timedelta(minutes=20), [C1, C2])
    assert trough.arrlt == pytest.approx(-1 / 3)
    assert trough.afrlt == pytest.approx(22 * 24 - 1 / 3)
    assert (trough.nrrlt, trough.nfrlt) == (0, 504)
    assert not trough.out_of_window
    early = time_sample(pre2, C2.start - timedelta(hours=2), [C1, C2])
    assert early.out_of_window


def test_times_across_a_time_zone_change_use_real_elapsed_hours() -> None:
    # A sample recorded in UTC while the dose was recorded in CET: 24 h after, not 25.
    samples = expected_samples(default_schedule("Q3W"), [C1])
    h24 = find(samples, "pk", 1, "24 h")
    timing = time_sample(h24, datetime(2026, 1, 6, 8, 0, tzinfo=UTC), [C1])
    assert timing.arrlt == pytest.approx(24.0)
    assert timing.deviation_hours == pytest.approx(0.0)


@pytest.mark.parametrize(
    ("build", "message"),
    [
        pytest.param(lambda: DoseTimes(1, datetime(2026, 1, 5, 9), datetime(2026, 1, 5, 10)),
                     "start needs a time zone", id="naive-dose"),
        pytest.param(lambda: DoseTimes(1, C1_START, C1_START - timedelta(minutes=1)),
                     "end is before start", id="end-before-start"),
        pytest.param(lambda: TimePoint(SampleKind.PK, "pre", 0, 1, 0.5, role=Role.PREDOSE),
                     "pre-dose sample is due at the start", id="predose-after-start"),
        pytest.param(lambda: TimePoint(SampleKind.PK, "2 h", 2, -1, 1), "windows cannot be negative",
                     id="negative-window"),
        pytest.param(lambda: TimePoint("urine", "2 h", 2, 1, 1), "kind: 'urine'", id="unknown-kind"),
        pytest.param(lambda: CycleSchedule(1, (TimePoint(SampleKind.PK, "2 h", 2, 1, 1),) * 2),
                     "label is repeated", id="repeated-label"),
        pytest.param(lambda: default_schedule("Q4W"), "regimen: 'Q4W'", id="unknown-regimen"),
        pytest.param(lambda: expected_samples(default_schedule("Q3W"),
                                              [C1, DoseTimes(2, C1_START, C1_START)]),
                     "cycle 2 does not start after cycle 1", id="cycles-out-of-order"),
    ],
)  # fmt: skip
def test_bad_schedules_and_times_are_refused(build, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(PharmacologyInputError, match=message):
        build()


def test_a_naive_sample_time_or_a_late_predose_is_refused() -> None:
    samples = expected_samples(default_schedule("Q3W"), [C1])
    pre = find(samples, "pk", 1, "pre-dose")
    with pytest.raises(PharmacologyInputError, match="sample time needs a time zone"):
        time_sample(pre, datetime(2026, 1, 5, 8, 30), [C1])
    with pytest.raises(PharmacologyInputError, match="taken after the infusion started"):
        time_sample(pre, C1_START + timedelta(minutes=5), [C1])


def test_a_custom_schedule_is_plain_data() -> None:
    schedule = SamplingSchedule(
        "Q3W",
        504,
        0.5,
        (
            CycleSchedule(
                1,
                (
                    TimePoint(SampleKind.PK, "EOI+1h", 1, 0.1, 0.1, anchor=Anchor.END),
                    TimePoint(SampleKind.BIOMARKER, "Day 8", 168, 24, 24),
                ),
            ),
        ),
    )
    [eoi1, day8] = expected_samples(schedule, [C1])
    assert eoi1.nominal_at == C1.end + timedelta(hours=1)
    assert eoi1.nrrlt == 1.5
    assert day8.nfrlt == 168


@pytest.mark.parametrize(
    ("schedule", "interval"),
    [
        (default_schedule("Q3W"), 4),  # Cycle 4 repeats Cycle 1's profile
        (default_schedule("Q2W"), 4),
        (default_schedule("Q3W", full_profile_cycles=(1, 3, 6)), 3),  # the first repeat
        (default_schedule("Q3W", full_profile_cycles=(1,)), None),  # no repeat: no comparison
        # Pre-dose and EOI alone are not a profile, even when every cycle has them.
        (default_schedule("Q3W", full_profile_cycles=(), eoi_cycles=(1, 2, 3, 4)), None),
        (SamplingSchedule("Q3W", 504, 0.5, default_schedule("Q3W").cycles[1:]), None),
    ],
)
def test_the_steady_state_interval_repeats_the_first_profile(schedule, interval) -> None:
    from pharmacology.rules.sampling import steady_state_interval

    assert steady_state_interval(schedule) == interval
