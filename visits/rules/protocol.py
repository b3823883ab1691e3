"""The visit schedule of a regimen read from the protocol file's `[[visit_schedules]]` tables
(docs/visits.md §2.1): plain data in, a `Schedule` out, every bad entry refused by name.

A table names its regimen and may set any `Schedule` field; windows are `[days before, days
after]`; cycle visits are `[[visit_schedules.cycle_visits]]` with `day`, `window`, `forms`,
`first_cycle_only` and `dose`. Omitted fields take the defaults of `Schedule`. The forms a visit
expects must be forms the casebook captures (`known_forms`), so that a missing-forms report
never lists a form nobody can enter.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import fields
from typing import Any

from .errors import VisitsInputError
from .schedule import CycleVisit, Schedule, Window

_WINDOW_FIELDS = (
    "scan_window",
    "end_of_treatment_window",
    "safety_follow_up_window",
    "survival_window",
)
_FORM_FIELDS = (
    "screening_forms",
    "scan_forms",
    "end_of_treatment_forms",
    "safety_follow_up_forms",
    "survival_forms",
)
_INT_FIELDS = (
    "cycle_days",
    "screening_days",
    "survival_every_weeks",
    "horizon_months",
    "projected_cycles",
)


def _window(value: object, where: str) -> Window:
    if (
        not isinstance(value, list | tuple)
        or len(value) != 2
        or not all(isinstance(v, int) and not isinstance(v, bool) for v in value)
    ):
        raise VisitsInputError(f"{where}: a window is [days before, days after], got {value!r}")
    return Window(int(value[0]), int(value[1]))


def _forms(value: object, where: str, known: frozenset[str]) -> tuple[str, ...]:
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise VisitsInputError(f"{where}: a list of form codes is required, got {value!r}")
    unknown = sorted(set(value) - known)
    if unknown:
        raise VisitsInputError(
            f"{where}: unknown form(s) {', '.join(unknown)}; the casebook captures "
            f"{', '.join(sorted(known))}"
        )
    return tuple(value)


def _int(value: object, where: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise VisitsInputError(f"{where}: a whole number is required, got {value!r}")
    return value


def _cycle_visit(entry: object, where: str, known: frozenset[str]) -> CycleVisit:
    if not isinstance(entry, Mapping):
        raise VisitsInputError(f"{where}: a table is required")
    allowed = {"day", "window", "forms", "first_cycle_only", "dose"}
    extra = sorted(set(entry) - allowed)
    if extra:
        raise VisitsInputError(f"{where}: unknown setting(s) {', '.join(extra)}")
    if "day" not in entry:
        raise VisitsInputError(f"{where}: day is required")
    return CycleVisit(
        day=_int(entry["day"], f"{where}.day"),
        window=_window(entry.get("window", [3, 3]), f"{where}.window"),
        forms=_forms(entry.get("forms", []), f"{where}.forms", known),
        first_cycle_only=bool(entry.get("first_cycle_only", False)),
        dose=bool(entry.get("dose", False)),
    )


def schedule_from_mapping(data: Mapping[str, Any], known_forms: Iterable[str]) -> Schedule:
    """A `Schedule` from one `[[visit_schedules]]` table; VisitsInputError names the bad entry."""
    known = frozenset(known_forms)
    regimen = data.get("regimen")
    if not isinstance(regimen, str) or not regimen:
        raise VisitsInputError("visit_schedules: each schedule names its regimen")
    where = f"visit_schedules[{regimen}]"
    names = {f.name for f in fields(Schedule)}
    extra = sorted(set(data) - names)
    if extra:
        raise VisitsInputError(f"{where}: unknown setting(s) {', '.join(extra)}")
    values: dict[str, Any] = {"regimen": regimen}
    for name in _INT_FIELDS:
        if name in data:
            values[name] = _int(data[name], f"{where}.{name}")
    if "cycle_days" not in values:
        raise VisitsInputError(f"{where}.cycle_days: required")
    if "scan_every_weeks" in data:
        weeks = data["scan_every_weeks"]
        values["scan_every_weeks"] = (
            None if weeks == 0 else _int(weeks, f"{where}.scan_every_weeks")
        )
    for name in _WINDOW_FIELDS:
        if name in data:
            values[name] = _window(data[name], f"{where}.{name}")
    for name in _FORM_FIELDS:
        if name in data:
            values[name] = _forms(data[name], f"{where}.{name}", known)
    if "safety_follow_up_days" in data:
        days = data["safety_follow_up_days"]
        if not isinstance(days, list | tuple):
            raise VisitsInputError(f"{where}.safety_follow_up_days: a list of days is required")
        values["safety_follow_up_days"] = tuple(
            _int(day, f"{where}.safety_follow_up_days") for day in days
        )
    entries = data.get("cycle_visits")
    if not isinstance(entries, list | tuple) or not entries:
        raise VisitsInputError(f"{where}.cycle_visits: at least the Day 1 visit is required")
    values["cycle_visits"] = tuple(
        _cycle_visit(entry, f"{where}.cycle_visits[{index}]", known)
        for index, entry in enumerate(entries)
    )
    return Schedule(**values)


def schedule_to_mapping(schedule: Schedule) -> dict[str, Any]:
    """The schedule as the plain data `schedule_from_mapping` reads (stored with the study)."""
    data: dict[str, Any] = {}
    for item in fields(Schedule):
        value = getattr(schedule, item.name)
        if isinstance(value, Window):
            data[item.name] = [value.before, value.after]
        elif item.name == "cycle_visits":
            data[item.name] = [
                {
                    "day": visit.day,
                    "window": [visit.window.before, visit.window.after],
                    "forms": list(visit.forms),
                    "first_cycle_only": visit.first_cycle_only,
                    "dose": visit.dose,
                }
                for visit in value
            ]
        elif isinstance(value, tuple):
            data[item.name] = list(value)
        elif item.name == "scan_every_weeks" and value is None:
            data[item.name] = 0
        else:
            data[item.name] = value
    return data
