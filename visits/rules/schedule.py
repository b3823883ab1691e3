"""The visit schedule as data, and each subject's calendar derived from their doses (docs/visits.md §2).

A `Schedule` (one per regimen) lists screening, the visits of each cycle (some in Cycle 1 only),
tumour scans, end of treatment, safety follow-up after the last dose and survival follow-up up to
a horizon, each with a target, a window and the forms it expects. A subject's calendar anchors:

- screening on the consent date;
- every visit of a cycle on that cycle's actual Day 1 (the Day 1 dose, else the Day 1 visit done),
  so a delayed cycle moves its own visits and every later one;
- cycles not started yet on the last actual Day 1 (projected, `projected_cycles` ahead), or on the
  planned first dose before Cycle 1 starts;
- scans on Cycle 1 Day 1, every `scan_every_weeks` (a calendar fixed at C1D1, as tumour assessment
  schedules usually are, so that delays do not stretch the interval between scans);
- end of treatment on the end-of-treatment date, safety follow-up on the last dose, survival
  follow-up every `survival_every_weeks` from the end of treatment up to `horizon_months` after
  enrollment (MIL97: 2.5 years), never after the subject left the study.

A visit's status on a date: done (with the date entered, flagged when outside its window), missed
(recorded as not done), due (inside its window), overdue (window passed, nothing entered) or not
yet due.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from enum import StrEnum
from typing import Any

from .errors import VisitsInputError
from .version import RULES_VERSION


@dataclass(frozen=True)
class Window:
    """Days allowed before and after the target date, both ends inside."""

    before: int = 0
    after: int = 0

    def __post_init__(self) -> None:
        if self.before < 0 or self.after < 0:
            raise VisitsInputError("visit window: days before and after cannot be negative")


@dataclass(frozen=True)
class CycleVisit:
    day: int  # day of the cycle, Day 1 = the cycle's first day
    window: Window = Window(3, 3)
    forms: tuple[str, ...] = ()
    first_cycle_only: bool = False
    dose: bool = False  # an infusion is planned on this day


@dataclass(frozen=True)
class Schedule:
    regimen: str
    cycle_days: int
    cycle_visits: tuple[CycleVisit, ...]
    screening_days: int = 28
    screening_forms: tuple[str, ...] = ("consent", "eligibility", "demographics", "medical_history")
    scan_every_weeks: int | None = 6
    scan_window: Window = Window(7, 7)
    scan_forms: tuple[str, ...] = ("tumour_assessment",)
    end_of_treatment_window: Window = Window(0, 7)
    end_of_treatment_forms: tuple[str, ...] = ("disposition", "vital_signs", "labs", "ecog")
    safety_follow_up_days: tuple[int, ...] = (30,)
    safety_follow_up_window: Window = Window(7, 7)
    safety_follow_up_forms: tuple[str, ...] = ("adverse_events", "concomitant_medications")
    survival_every_weeks: int = 12
    survival_window: Window = Window(7, 7)
    survival_forms: tuple[str, ...] = ("survival_contact",)
    horizon_months: int = 30
    projected_cycles: int = 1

    def __post_init__(self) -> None:
        if self.cycle_days < 1:
            raise VisitsInputError(f"{self.regimen}: cycle_days must be at least 1")
        days = [visit.day for visit in self.cycle_visits if not visit.first_cycle_only]
        if 1 not in days:
            raise VisitsInputError(f"{self.regimen}: every cycle needs a Day 1 visit")
        for visit in self.cycle_visits:
            if not 1 <= visit.day <= self.cycle_days:
                raise VisitsInputError(
                    f"{self.regimen}: cycle day {visit.day} is outside the {self.cycle_days}-day "
                    "cycle"
                )
        if self.screening_days < 1 or self.survival_every_weeks < 1 or self.horizon_months < 1:
            raise VisitsInputError(f"{self.regimen}: screening, survival and horizon must be > 0")
        if any(days_after < 1 for days_after in self.safety_follow_up_days):
            raise VisitsInputError(f"{self.regimen}: safety follow-up days must be positive")

    @property
    def dose_days(self) -> tuple[int, ...]:
        return tuple(visit.day for visit in self.cycle_visits if visit.dose)

    def visits_of_cycle(self, cycle: int) -> tuple[CycleVisit, ...]:
        return tuple(
            visit for visit in self.cycle_visits if cycle == 1 or not visit.first_cycle_only
        )


_DOSING_FORMS = ("vital_signs", "labs", "ecg", "ecog", "dose", "pk")
_SAFETY_FORMS = ("vital_signs", "labs", "adverse_events")


def q3w_schedule(**settings: Any) -> Schedule:
    """Q3W: 21-day cycles dosed on Day 1; Cycle 1 adds Days 8 and 15 (safety labs). Keyword
    arguments override any other field (e.g. safety_follow_up_days=(30, 90))."""
    schedule = Schedule(
        regimen="Q3W",
        cycle_days=21,
        cycle_visits=(
            CycleVisit(1, Window(3, 3), _DOSING_FORMS, dose=True),
            CycleVisit(8, Window(1, 1), _SAFETY_FORMS, first_cycle_only=True),
            CycleVisit(15, Window(1, 1), _SAFETY_FORMS, first_cycle_only=True),
        ),
    )
    return replace(schedule, **settings)


def q2w_schedule(**settings: Any) -> Schedule:
    """Q2W: 28-day cycles dosed on Days 1 and 15; Cycle 1 adds Day 8."""
    schedule = Schedule(
        regimen="Q2W",
        cycle_days=28,
        cycle_visits=(
            CycleVisit(1, Window(3, 3), _DOSING_FORMS, dose=True),
            CycleVisit(8, Window(1, 1), _SAFETY_FORMS, first_cycle_only=True),
            CycleVisit(15, Window(3, 3), _DOSING_FORMS, dose=True),
        ),
    )
    return replace(schedule, **settings)


@dataclass(frozen=True)
class DoseGiven:
    cycle: int
    day: int
    given_on: date


@dataclass(frozen=True)
class VisitRecord:
    """What the site entered for a visit: the date it was done, or that it was not done."""

    code: str
    done_on: date | None = None
    not_done: bool = False

    def __post_init__(self) -> None:
        if (self.done_on is None) == (not self.not_done):
            raise VisitsInputError(
                f"visit {self.code}: give either the date it was done or that it was not done"
            )


@dataclass(frozen=True)
class SubjectVisitFacts:
    consented_on: date
    enrolled_on: date | None = None
    planned_first_dose_on: date | None = None
    doses: tuple[DoseGiven, ...] = ()
    end_of_treatment_on: date | None = None
    off_study_on: date | None = None  # death, withdrawal, lost to follow-up, end of study
    visits: tuple[VisitRecord, ...] = ()


class VisitStatus(StrEnum):
    NOT_YET_DUE = "not_yet_due"
    DUE = "due"
    OVERDUE = "overdue"
    DONE = "done"
    MISSED = "missed"


@dataclass(frozen=True)
class ScheduledVisit:
    code: str  # "SCR", "C2D1", "SCAN1", "EOT", "SFU30", "SURV3"
    label: str
    target: date
    earliest: date
    latest: date
    study_day: int | None  # from Cycle 1 Day 1 = Day 1 (no Day 0); None before C1D1 is known
    forms: tuple[str, ...]
    anchor: str  # what the target was computed from
    projected: bool  # anchored on a dose that has not happened yet
    status: VisitStatus
    done_on: date | None = None
    out_of_window: bool = False

    def contains(self, day: date) -> bool:
        return self.earliest <= day <= self.latest


@dataclass(frozen=True)
class SubjectCalendar:
    visits: tuple[ScheduledVisit, ...]
    on: date
    first_dose_on: date | None
    horizon: date | None
    notes: tuple[str, ...] = field(default=())
    rules_version: str = RULES_VERSION

    def visit(self, code: str) -> ScheduledVisit:
        for visit in self.visits:
            if visit.code == code:
                return visit
        raise KeyError(code)

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(visit.code for visit in self.visits)


def add_months(day: date, months: int) -> date:
    """The same day `months` later; the month's last day when it has no such day."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    following = date(year + month // 12, month % 12 + 1, 1)
    last_day = (following - timedelta(days=1)).day
    return date(year, month, min(day.day, last_day))


@dataclass(frozen=True)
class _Planned:
    code: str
    label: str
    target: date
    window: Window
    forms: tuple[str, ...]
    anchor: str
    projected: bool


def subject_calendar(schedule: Schedule, facts: SubjectVisitFacts, on: date) -> SubjectCalendar:
    """The subject's expected visits with their status on `on` (docs/visits.md §2)."""
    day1 = _cycle_day1_dates(schedule, facts)
    _check_facts(schedule, facts, day1)
    records = {record.code: record for record in facts.visits}
    # A dose given is its visit done, on the dose date (a visit record entered for it wins).
    dosed = {f"C{dose.cycle}D{dose.day}": dose.given_on for dose in facts.doses}
    notes: list[str] = []

    planned: list[_Planned] = [
        _Planned(
            "SCR",
            "Screening",
            facts.consented_on,
            Window(0, schedule.screening_days - 1),
            schedule.screening_forms,
            f"consent {facts.consented_on.isoformat()}",
            False,
        )
    ]
    first_dose_on = day1.get(1)
    planned.extend(_cycle_visits(schedule, facts, day1))
    c1d1 = first_dose_on or facts.planned_first_dose_on
    eot = facts.end_of_treatment_on
    last_dose = max((dose.given_on for dose in facts.doses), default=None)
    horizon_start = facts.enrolled_on or first_dose_on
    horizon = None if horizon_start is None else add_months(horizon_start, schedule.horizon_months)

    if schedule.scan_every_weeks and first_dose_on is not None:
        cycle_targets = [visit.target for visit in planned if visit.code.startswith("C")]
        until = eot or max(cycle_targets, default=first_dose_on)
        planned.extend(_scans(schedule, first_dose_on, until))

    if eot is not None:
        planned.append(
            _Planned(
                "EOT",
                "End of treatment",
                eot,
                schedule.end_of_treatment_window,
                schedule.end_of_treatment_forms,
                f"end of treatment {eot.isoformat()}",
                False,
            )
        )
        if last_dose is None:
            notes.append("no dose given: no safety follow-up after a last dose")
        else:
            for days_after in schedule.safety_follow_up_days:
                planned.append(
                    _Planned(
                        f"SFU{days_after}",
                        f"Safety follow-up {days_after} days after the last dose",
                        last_dose + timedelta(days=days_after),
                        schedule.safety_follow_up_window,
                        schedule.safety_follow_up_forms,
                        f"last dose {last_dose.isoformat()}",
                        False,
                    )
                )
        if horizon is not None:
            planned.extend(_survival(schedule, eot, horizon))

    visits: list[tuple[date, int, ScheduledVisit]] = []
    for position, item in enumerate(planned):
        record = records.pop(item.code, None)
        if record is None and item.code in dosed:
            record = VisitRecord(item.code, done_on=dosed[item.code])
        if record is None and _no_longer_expected(item, facts):
            continue
        visits.append((item.target, position, _scheduled(item, record, c1d1, on)))
    unknown = sorted(code for code in records if not code.upper().startswith("UNS"))
    if unknown:
        raise VisitsInputError(
            f"visit record(s) {', '.join(unknown)}: no such visit in the subject's {schedule.regimen} "
            "schedule"
        )
    visits.sort(key=lambda entry: (entry[0], entry[1]))
    return SubjectCalendar(
        tuple(visit for _, _, visit in visits), on, first_dose_on, horizon, tuple(notes)
    )


def _cycle_day1_dates(schedule: Schedule, facts: SubjectVisitFacts) -> dict[int, date]:
    """Each started cycle's actual Day 1: the Day 1 dose, else the Day 1 visit done."""
    day1: dict[int, date] = {}
    for record in facts.visits:
        cycle = _cycle_of(record.code)
        if cycle is not None and record.code == f"C{cycle}D1" and record.done_on is not None:
            day1[cycle] = record.done_on
    for dose in facts.doses:
        if dose.day == 1:
            day1[dose.cycle] = dose.given_on
    return day1


def _cycle_of(code: str) -> int | None:
    if not code.startswith("C") or "D" not in code:
        return None
    number = code[1 : code.index("D")]
    return int(number) if number.isdigit() else None


def _check_facts(schedule: Schedule, facts: SubjectVisitFacts, day1: dict[int, date]) -> None:
    slots = [(dose.cycle, dose.day) for dose in facts.doses]
    for cycle, day in sorted({slot for slot in slots if slots.count(slot) > 1}):
        raise VisitsInputError(f"Cycle {cycle} Day {day}: more than one dose recorded")
    codes = [record.code for record in facts.visits]
    for code in sorted({code for code in codes if codes.count(code) > 1}):
        raise VisitsInputError(f"visit {code}: recorded more than once")
    for dose in facts.doses:
        if dose.cycle < 1 or dose.day not in schedule.dose_days:
            raise VisitsInputError(
                f"dose on {dose.given_on.isoformat()}: Cycle {dose.cycle} Day {dose.day} is not a "
                f"dosing day of the {schedule.regimen} schedule (days {schedule.dose_days})"
            )
        if dose.given_on < facts.consented_on:
            raise VisitsInputError(
                f"dose on {dose.given_on.isoformat()}: before consent "
                f"({facts.consented_on.isoformat()})"
            )
    ordered = sorted(day1.items())
    for (cycle, start), (next_cycle, next_start) in zip(ordered, ordered[1:], strict=False):
        if next_start <= start:
            raise VisitsInputError(
                f"Cycle {next_cycle} Day 1 ({next_start.isoformat()}) is not after Cycle {cycle} "
                f"Day 1 ({start.isoformat()})"
            )
    last_dose = max((dose.given_on for dose in facts.doses), default=None)
    eot = facts.end_of_treatment_on
    if eot is not None and last_dose is not None and eot < last_dose:
        raise VisitsInputError(
            f"end of treatment {eot.isoformat()} is before the last dose {last_dose.isoformat()}"
        )
    if facts.off_study_on is not None and facts.off_study_on < facts.consented_on:
        raise VisitsInputError("off-study date is before consent")


def _cycle_visits(
    schedule: Schedule, facts: SubjectVisitFacts, day1: dict[int, date]
) -> Iterable[_Planned]:
    if day1:
        last_cycle = max(day1)
    elif facts.planned_first_dose_on is not None:
        last_cycle = 0
    else:
        return  # Cycle 1 Day 1 is whenever it happens: nothing to anchor cycle visits on yet
    through = last_cycle if facts.end_of_treatment_on else last_cycle + schedule.projected_cycles
    previous: tuple[date, str] | None = None
    for cycle in range(1, through + 1):
        start, anchor, projected = _cycle_start(schedule, facts, day1, cycle)
        for visit in schedule.visits_of_cycle(cycle):
            target = start + timedelta(days=visit.day - 1)
            visit_anchor = anchor
            if visit.day == 1:
                # Day 1 is due one cycle after the previous Day 1 (actual or projected); the
                # actual Day 1 is then compared with that window, so a delay shows.
                if previous is not None:
                    target = previous[0] + timedelta(days=schedule.cycle_days)
                    visit_anchor = f"{schedule.cycle_days} days after {previous[1]}"
                elif facts.planned_first_dose_on is not None:
                    target = facts.planned_first_dose_on
                    visit_anchor = f"planned first dose {target.isoformat()}"
            yield _Planned(
                f"C{cycle}D{visit.day}",
                f"Cycle {cycle} Day {visit.day}",
                target,
                visit.window,
                visit.forms,
                visit_anchor,
                projected,
            )
        label = "actual" if cycle in day1 else "projected"
        previous = (start, f"Cycle {cycle} Day 1 ({label} {start.isoformat()})")


def _cycle_start(
    schedule: Schedule, facts: SubjectVisitFacts, day1: dict[int, date], cycle: int
) -> tuple[date, str, bool]:
    """The date a cycle's visits are anchored on: its actual Day 1, else projected."""
    if cycle in day1:
        return day1[cycle], f"Cycle {cycle} Day 1 {day1[cycle].isoformat()}", False
    earlier = [started for started in day1 if started < cycle]
    if earlier:
        base = max(earlier)
        start = day1[base] + timedelta(days=(cycle - base) * schedule.cycle_days)
        return start, f"projected from Cycle {base} Day 1 {day1[base].isoformat()}", True
    planned = facts.planned_first_dose_on
    assert planned is not None
    start = planned + timedelta(days=(cycle - 1) * schedule.cycle_days)
    return start, f"projected from the planned first dose {planned.isoformat()}", True


def _scans(schedule: Schedule, first_dose_on: date, until: date) -> Iterable[_Planned]:
    assert schedule.scan_every_weeks is not None
    number = 1
    while True:
        target = first_dose_on + timedelta(weeks=schedule.scan_every_weeks * number)
        if target > until:
            return
        yield _Planned(
            f"SCAN{number}",
            f"Tumour assessment {number} (week {schedule.scan_every_weeks * number})",
            target,
            schedule.scan_window,
            schedule.scan_forms,
            f"Cycle 1 Day 1 {first_dose_on.isoformat()}",
            False,
        )
        number += 1


def _survival(schedule: Schedule, eot: date, horizon: date) -> Iterable[_Planned]:
    number = 1
    while True:
        target = eot + timedelta(weeks=schedule.survival_every_weeks * number)
        if target > horizon:
            return
        yield _Planned(
            f"SURV{number}",
            f"Survival follow-up {number}",
            target,
            schedule.survival_window,
            schedule.survival_forms,
            f"end of treatment {eot.isoformat()}, every {schedule.survival_every_weeks} weeks "
            f"to {horizon.isoformat()}",
            False,
        )
        number += 1


def _no_longer_expected(item: _Planned, facts: SubjectVisitFacts) -> bool:
    """Treatment visits after the end of treatment, and any visit after the subject left the
    study, are not expected (unless entered)."""
    eot = facts.end_of_treatment_on
    on_treatment = item.code.startswith(("C", "SCAN"))
    if eot is not None and on_treatment and item.target > eot:
        return True
    return facts.off_study_on is not None and item.target > facts.off_study_on


def _scheduled(
    item: _Planned, record: VisitRecord | None, c1d1: date | None, on: date
) -> ScheduledVisit:
    earliest = item.target - timedelta(days=item.window.before)
    latest = item.target + timedelta(days=item.window.after)
    done_on = record.done_on if record else None
    if done_on is not None:
        status = VisitStatus.DONE
    elif record is not None and record.not_done:
        status = VisitStatus.MISSED
    elif on < earliest:
        status = VisitStatus.NOT_YET_DUE
    elif on <= latest:
        status = VisitStatus.DUE
    else:
        status = VisitStatus.OVERDUE
    return ScheduledVisit(
        code=item.code,
        label=item.label,
        target=item.target,
        earliest=earliest,
        latest=latest,
        study_day=_study_day(item.target, c1d1),
        forms=item.forms,
        anchor=item.anchor,
        projected=item.projected,
        status=status,
        done_on=done_on,
        out_of_window=done_on is not None and not earliest <= done_on <= latest,
    )


def _study_day(day: date, c1d1: date | None) -> int | None:
    """Study day with Cycle 1 Day 1 = Day 1 and the day before it Day -1 (no Day 0)."""
    if c1d1 is None:
        return None
    offset = (day - c1d1).days
    return offset + 1 if offset >= 0 else offset
