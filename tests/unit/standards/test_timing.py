"""--DTC at the collected precision and --DY without day 0 (SDTMIG 3.4 §4.4.2-§4.4.4)."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from standards.timing import (
    PartialDate,
    complete_date,
    dtc,
    is_iso8601,
    is_iso8601_duration,
    study_day,
)


@pytest.mark.parametrize(
    ("value", "tz", "expected"),
    [
        (None, None, ""),
        (PartialDate(1961), None, "1961"),
        (PartialDate(2025, 3), None, "2025-03"),
        (PartialDate(2025, 3, 4), None, "2025-03-04"),
        (date(2025, 3, 4), None, "2025-03-04"),
        # A stored UTC time is written in the site's clock time, to the minute, no offset.
        (datetime(2025, 3, 4, 14, 15, 59, tzinfo=UTC), "America/New_York", "2025-03-04T09:15"),
        (datetime(2025, 7, 4, 14, 15, tzinfo=UTC), "America/New_York", "2025-07-04T10:15"),
        (datetime(2025, 3, 4, 23, 30, tzinfo=UTC), "Australia/Sydney", "2025-03-05T10:30"),
        (datetime(2025, 3, 4, 10, 15), None, "2025-03-04T10:15"),
        (
            datetime(2025, 3, 4, 10, 15, tzinfo=ZoneInfo("Europe/Paris")),
            "Europe/Paris",
            "2025-03-04T10:15",
        ),
    ],
)
def test_dtc_keeps_the_collected_precision(value, tz, expected):
    assert dtc(value, tz_name=tz) == expected


def test_an_aware_time_needs_the_site_zone():
    with pytest.raises(ValueError, match="time zone"):
        dtc(datetime(2025, 3, 4, 10, 15, tzinfo=UTC))


@pytest.mark.parametrize(
    ("parts", "message"),
    [((2025, None, 4), "day needs a month"), ((2025, 13), "not 1-12"), ((2025, 2, 30), "day")],
)
def test_impossible_partial_dates_are_refused(parts, message):
    with pytest.raises(ValueError, match=message):
        PartialDate(*parts)


@pytest.mark.parametrize(
    ("event", "reference", "expected"),
    [
        ("2025-03-04", "2025-03-04T09:30", 1),  # the reference day is day 1
        ("2025-03-05", "2025-03-04", 2),
        ("2025-03-03", "2025-03-04", -1),  # the day before is -1: there is no day 0
        ("2025-02-25T08:00", "2025-03-04", -7),
        ("2026-03-04", "2025-03-04", 366),
        ("2025-03", "2025-03-04", None),  # partial dates have no study day
        ("2025-03-04", "", None),  # nor subjects without a reference start
        ("", "2025-03-04", None),
    ],
)
def test_study_day_has_no_day_zero(event, reference, expected):
    assert study_day(event, reference) == expected


@pytest.mark.parametrize(
    ("text", "valid"),
    [
        ("2025", True),
        ("2025-03", True),
        ("2025-03-04", True),
        ("2025-03-04T10:15", True),
        ("2025-03-04T10:15:30", True),
        ("2025---04", True),  # month unknown, day known
        ("2025-13-01", False),
        ("2025-02-30", False),
        ("2025-03-04T24:00", False),
        ("2025-3-4", False),
        ("04/03/2025", False),
        ("", False),
    ],
)
def test_iso8601_dates(text, valid):
    assert is_iso8601(text) is valid


@pytest.mark.parametrize(
    ("text", "valid"),
    [("PT30M", True), ("P28D", True), ("P1Y2M", True), ("P", False), ("PT", False), ("30M", False)],
)
def test_iso8601_durations(text, valid):
    assert is_iso8601_duration(text) is valid


def test_complete_date_only_for_full_dates():
    assert complete_date("2025-03-04T10:15") == date(2025, 3, 4)
    assert complete_date("2025-03") is None
