"""Nominal sampling schedules and each subject's expected samples (docs/pharmacology.md §1).

A schedule is data: per regimen and cycle, the time points of PK, ADA and biomarker samples,
each with its nominal time relative to this cycle's dose and its window. From a subject's actual
dose start and end date-times the expected samples get nominal date-times; an actual sample time
then gets the ADaM ADNCA times (ARRLT, AFRLT, NRRLT, NFRLT, in hours), its deviation from
nominal and an out-of-window flag. Every date-time must carry its time zone.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from .errors import PharmacologyInputError, as_choice, require_finite

SAMPLING_VERSION = "pharmacology-sampling 1"


class SampleKind(StrEnum):
    PK = "pk"
    ADA = "ada"
    BIOMARKER = "biomarker"


class Anchor(StrEnum):
    """What a nominal time counts from."""

    START = "start of infusion"
    END = "end of infusion"


class Role(StrEnum):
    PREDOSE = "predose"
    END_OF_INFUSION = "end_of_infusion"
    POSTDOSE = "postdose"


@dataclass(frozen=True)
class TimePoint:
    """One nominal sample: `offset_hours` after the anchor (0 with a PREDOSE role means "before
    the infusion starts"); the window is [nominal - before, nominal + after] in hours."""

    kind: SampleKind
    label: str
    offset_hours: float
    window_before_hours: float
    window_after_hours: float
    anchor: Anchor = Anchor.START
    role: Role = Role.POSTDOSE

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", as_choice(SampleKind, self.kind, "kind"))
        object.__setattr__(self, "anchor", as_choice(Anchor, self.anchor, "anchor"))
        object.__setattr__(self, "role", as_choice(Role, self.role, "role"))
        for name in ("offset_hours", "window_before_hours", "window_after_hours"):
            require_finite(getattr(self, name), f"time point {self.label}: {name}")
        if self.window_before_hours < 0 or self.window_after_hours < 0:
            raise PharmacologyInputError(f"time point {self.label}: windows cannot be negative")
        if self.role is Role.PREDOSE and (self.offset_hours or self.window_after_hours):
            raise PharmacologyInputError(
                f"time point {self.label}: a pre-dose sample is due at the start, not after it"
            )


@dataclass(frozen=True)
class CycleSchedule:
    cycle: int
    timepoints: tuple[TimePoint, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "timepoints", tuple(self.timepoints))
        keys = [(t.kind, t.label) for t in self.timepoints]
        if len(set(keys)) != len(keys):
            raise PharmacologyInputError(f"cycle {self.cycle}: a time point label is repeated")


@dataclass(frozen=True)
class SamplingSchedule:
    """One regimen's schedule. `tau_hours` is the dosing interval; `infusion_hours` the nominal
    infusion duration (for nominal times counted from the end of infusion)."""

    regimen: str
    tau_hours: float
    infusion_hours: float
    cycles: tuple[CycleSchedule, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "cycles", tuple(self.cycles))
        if self.tau_hours <= 0 or self.infusion_hours < 0:
            raise PharmacologyInputError(f"schedule {self.regimen}: tau and infusion time")
        numbers = [c.cycle for c in self.cycles]
        if len(set(numbers)) != len(numbers):
            raise PharmacologyInputError(f"schedule {self.regimen}: a cycle is repeated")

    def cycle(self, number: int) -> CycleSchedule | None:
        return next((c for c in self.cycles if c.cycle == number), None)


@dataclass(frozen=True)
class DoseTimes:
    """A subject's actual infusion in one cycle (time-zone-aware date-times)."""

    cycle: int
    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        for name in ("start", "end"):
            value: datetime = getattr(self, name)
            if value.tzinfo is None or value.utcoffset() is None:
                raise PharmacologyInputError(f"cycle {self.cycle} dose: {name} needs a time zone")
        if self.end < self.start:
            raise PharmacologyInputError(f"cycle {self.cycle} dose: end is before start")


@dataclass(frozen=True)
class ExpectedSample:
    kind: SampleKind
    cycle: int
    label: str
    role: Role
    nominal_at: datetime
    window_start: datetime
    window_end: datetime
    nrrlt: float  # nominal hours since this cycle's dose (start of infusion)
    nfrlt: float  # nominal hours since the first dose


@dataclass(frozen=True)
class SampleTiming:
    """An actual sample against its expected time (docs/pharmacology.md §1.3)."""

    expected: ExpectedSample
    actual_at: datetime
    arrlt: float  # actual hours since this cycle's dose start
    afrlt: float  # actual hours since the first dose start
    nrrlt: float
    nfrlt: float
    deviation_hours: float  # actual - nominal
    out_of_window: bool
    version: str = SAMPLING_VERSION


def _hours(delta: timedelta) -> float:
    return delta.total_seconds() / 3600


def expected_samples(
    schedule: SamplingSchedule, doses: Sequence[DoseTimes]
) -> tuple[ExpectedSample, ...]:
    """Every scheduled sample of every dosed cycle, with nominal date-times from the actual
    dose times (docs/pharmacology.md §1.2)."""
    if not doses:
        return ()
    by_cycle = {d.cycle: d for d in doses}
    if len(by_cycle) != len(doses):
        raise PharmacologyInputError("doses: a cycle is repeated")
    ordered = sorted(doses, key=lambda d: d.cycle)
    for earlier, later in zip(ordered, ordered[1:], strict=False):
        if later.start <= earlier.start:
            raise PharmacologyInputError(
                f"doses: cycle {later.cycle} does not start after cycle {earlier.cycle}"
            )
    out: list[ExpectedSample] = []
    for dose in ordered:
        cycle = schedule.cycle(dose.cycle)
        if cycle is None:
            continue
        for point in cycle.timepoints:
            anchor = dose.start if point.anchor is Anchor.START else dose.end
            nominal = anchor + timedelta(hours=point.offset_hours)
            nominal_offset = point.offset_hours + (
                schedule.infusion_hours if point.anchor is Anchor.END else 0.0
            )
            out.append(
                ExpectedSample(
                    kind=point.kind,
                    cycle=dose.cycle,
                    label=point.label,
                    role=point.role,
                    nominal_at=nominal,
                    window_start=nominal - timedelta(hours=point.window_before_hours),
                    window_end=nominal + timedelta(hours=point.window_after_hours),
                    nrrlt=nominal_offset,
                    nfrlt=(dose.cycle - 1) * schedule.tau_hours + nominal_offset,
                )
            )
    return tuple(out)


def time_sample(
    expected: ExpectedSample, actual_at: datetime, doses: Iterable[DoseTimes]
) -> SampleTiming:
    """ADaM times, deviation and window flag of one actual sample."""
    if actual_at.tzinfo is None or actual_at.utcoffset() is None:
        raise PharmacologyInputError(f"sample {expected.label}: the sample time needs a time zone")
    ordered = sorted(doses, key=lambda d: d.cycle)
    this = next((d for d in ordered if d.cycle == expected.cycle), None)
    if this is None or not ordered:
        raise PharmacologyInputError(f"sample {expected.label}: no dose in cycle {expected.cycle}")
    if expected.role is Role.PREDOSE and actual_at > this.start:
        raise PharmacologyInputError(
            f"sample {expected.label}: a pre-dose sample taken after the infusion started"
        )
    return SampleTiming(
        expected=expected,
        actual_at=actual_at,
        arrlt=_hours(actual_at - this.start),
        afrlt=_hours(actual_at - ordered[0].start),
        nrrlt=expected.nrrlt,
        nfrlt=expected.nfrlt,
        deviation_hours=_hours(actual_at - expected.nominal_at),
        out_of_window=not expected.window_start <= actual_at <= expected.window_end,
    )


def steady_state_interval(schedule: SamplingSchedule) -> int | None:
    """The dosing interval whose PK profile is compared with Cycle 1's: the first later interval
    that repeats the first interval's PK time points (the full profile near steady state, Cycle
    4 in the default schedules; docs/pharmacology.md §1.1, §10). None when no interval does."""
    first = schedule.cycle(1)
    if first is None:
        return None
    wanted = {t.label for t in first.timepoints if t.kind is SampleKind.PK}
    if len(wanted) < 3:  # pre-dose and EOI alone are not a profile
        return None
    for cycle in sorted(schedule.cycles, key=lambda c: c.cycle):
        labels = {t.label for t in cycle.timepoints if t.kind is SampleKind.PK}
        if cycle.cycle > 1 and labels == wanted:
            return cycle.cycle
    return None


# --- a default schedule -----------------------------------------------------------------------


def _pk_cycle(full: bool, last_hours: float) -> tuple[TimePoint, ...]:
    points = [
        TimePoint(SampleKind.PK, "pre-dose", 0, 1.0, 0, role=Role.PREDOSE),
        TimePoint(SampleKind.PK, "EOI", 0, 0, 0.25, anchor=Anchor.END, role=Role.END_OF_INFUSION),
    ]
    if full:
        for hours, window in ((2, 0.25), (6, 0.5), (24, 2), (48, 4), (96, 24), (168, 24)):
            points.append(TimePoint(SampleKind.PK, f"{hours} h", hours, window, window))
        if last_hours > 168:
            points.append(TimePoint(SampleKind.PK, f"{last_hours:g} h", last_hours, 24, 24))
    return tuple(points)


def default_schedule(
    regimen: str,
    *,
    cycles: int = 8,
    full_profile_cycles: tuple[int, ...] = (1, 4),
    eoi_cycles: tuple[int, ...] = (1, 2, 3, 4),
    ada_cycles: tuple[int, ...] = (1, 2, 4, 8),
    biomarker_cycles: tuple[int, ...] = (1, 2),
    infusion_hours: float = 0.5,
) -> SamplingSchedule:
    """A typical schedule for an IV antibody (docs/pharmacology.md §1.1): Q3W (tau 504 h) takes
    Cycle 1 and 4 full profiles to 336 h, Q2W (tau 336 h) to 168 h; pre-dose every cycle (the
    previous cycle's trough), EOI in the first cycles; ADA pre-dose at set cycles; biomarkers
    pre-dose, at EOI, 6 h and 24 h in the first cycles. Every choice is an argument."""
    taus = {"Q3W": 504.0, "Q2W": 336.0}
    if regimen not in taus:
        raise PharmacologyInputError(f"regimen: {regimen!r} is not one of Q3W, Q2W")
    tau = taus[regimen]
    last = 336.0 if regimen == "Q3W" else 168.0
    out = []
    for number in range(1, cycles + 1):
        pk = _pk_cycle(number in full_profile_cycles, last)
        if number not in eoi_cycles and number not in full_profile_cycles:
            pk = pk[:1]
        points = list(pk)
        if number in ada_cycles:
            points.append(TimePoint(SampleKind.ADA, "pre-dose", 0, 1.0, 0, role=Role.PREDOSE))
        if number in biomarker_cycles:
            points += [
                TimePoint(SampleKind.BIOMARKER, "pre-dose", 0, 1.0, 0, role=Role.PREDOSE),
                TimePoint(SampleKind.BIOMARKER, "EOI", 0, 0, 0.25, anchor=Anchor.END,
                          role=Role.END_OF_INFUSION),
                TimePoint(SampleKind.BIOMARKER, "6 h", 6, 0.5, 0.5),
                TimePoint(SampleKind.BIOMARKER, "24 h", 24, 2, 2),
            ]  # fmt: skip
        out.append(CycleSchedule(number, tuple(points)))
    return SamplingSchedule(regimen, tau, infusion_hours, tuple(out))
