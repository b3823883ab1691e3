"""SDTM timing values: ISO 8601 --DTC text at the precision collected, and --DY study days.

Plain Python (no Django), so the rules are tested from tables (tests/unit/standards).

- --DTC is ISO 8601 text at the precision the EDC collected: a year alone ("1961"), a year and
  month ("2025-03"), a date, or a date and local clinic time to the minute ("2025-03-04T10:15").
  SDTM never imputes a missing part (SDTMIG 3.4 §4.4.2, §4.4.3; docs/standards.md §4).
- --DY counts from the subject's reference start (RFSTDTC): date - RFSTDTC + 1 on or after it,
  date - RFSTDTC before it, so there is no day 0; only complete dates have a study day
  (SDTMIG 3.4 §4.4.4).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

# SDTMIG 3.4 §4.4.1: the ISO 8601 extended forms SDTM uses, each part optional from the right
# (a missing middle part is written as "-", e.g. "2025---15"; not produced here but accepted).
_DATE = r"(\d{4})(-(\d{2}|-)(-(\d{2}|-))?)?"
_TIME = r"T(\d{2}|-)(:(\d{2}|-)(:(\d{2}(\.\d+)?))?)?"
DTC_PATTERN = re.compile(rf"^{_DATE}({_TIME})?$")
# ISO 8601 durations (--DUR, TEDUR): P[nY][nM][nW][nD][T[nH][nM][nS]].
DURATION_PATTERN = re.compile(
    r"^P(?!$)(\d+(\.\d+)?Y)?(\d+(\.\d+)?M)?(\d+(\.\d+)?W)?(\d+(\.\d+)?D)?"
    r"(T(?=\d)(\d+(\.\d+)?H)?(\d+(\.\d+)?M)?(\d+(\.\d+)?S)?)?$"
)


@dataclass(frozen=True)
class PartialDate:
    """A date known to the year, the month or the day (e.g. a birth date where only the year
    may be collected)."""

    year: int
    month: int | None = None
    day: int | None = None

    def __post_init__(self) -> None:
        if self.day is not None and self.month is None:
            raise ValueError("A day needs a month.")
        if self.day is not None and self.month is not None:
            date(self.year, self.month, self.day)  # raises for an impossible date
        elif self.month is not None and not 1 <= self.month <= 12:
            raise ValueError(f"Month {self.month} is not 1-12.")
        if not 1 <= self.year <= 9999:
            raise ValueError(f"Year {self.year} is not 1-9999.")


def dtc(value: date | datetime | PartialDate | None, *, tz_name: str | None = None) -> str:
    """ISO 8601 text at the value's own precision.

    A date-time is written in the site's local clock time (`tz_name`), to the minute, without an
    offset: SDTM --DTC values are clinic times (SDTMIG 3.4 §4.4.2). A naive date-time is taken as
    already local.
    """
    if value is None:
        return ""
    if isinstance(value, PartialDate):
        text = f"{value.year:04d}"
        if value.month is not None:
            text += f"-{value.month:02d}"
            if value.day is not None:
                text += f"-{value.day:02d}"
        return text
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            if tz_name is None:
                raise ValueError("A time-zone-aware date-time needs the site's time zone.")
            value = value.astimezone(ZoneInfo(tz_name))
        return value.strftime("%Y-%m-%dT%H:%M")
    return value.isoformat()


def is_iso8601(text: str) -> bool:
    """An SDTM --DTC value: ISO 8601 date, partial date or date-time (empty is not)."""
    return bool(text) and DTC_PATTERN.match(text) is not None and _parts_in_range(text)


def is_iso8601_duration(text: str) -> bool:
    return bool(text) and DURATION_PATTERN.match(text) is not None


def _parts_in_range(text: str) -> bool:
    match = DTC_PATTERN.match(text)
    if match is None:
        return False
    month, day = match.group(3), match.group(5)
    if month and month != "-" and not 1 <= int(month) <= 12:
        return False
    if day and day != "-" and not 1 <= int(day) <= 31:
        return False
    complete = complete_date(text)
    if month and day and month != "-" and day != "-" and complete is None:
        return False  # e.g. 2025-02-30
    hour, minute = match.group(7), match.group(9)
    if hour and hour != "-" and not 0 <= int(hour) <= 23:
        return False
    return not (minute and minute != "-" and not 0 <= int(minute) <= 59)


def complete_date(text: str) -> date | None:
    """The calendar date of a --DTC value when year, month and day are all known."""
    if len(text) < 10 or text[4] != "-" or text[7] != "-":
        return None
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        return None


def study_day(event_dtc: str, reference_dtc: str) -> int | None:
    """--DY of an event: no day 0; None unless both dates are complete (SDTMIG 3.4 §4.4.4)."""
    event, reference = complete_date(event_dtc), complete_date(reference_dtc)
    if event is None or reference is None:
        return None
    delta = (event - reference).days
    return delta + 1 if delta >= 0 else delta
