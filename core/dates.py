"""Dates in the site's own timezone: 'today' at a hospital in Sydney is not 'today' in UTC."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.utils import timezone

from .errors import field_error


def site_today(tz_name: str) -> date:
    return timezone.now().astimezone(ZoneInfo(tz_name)).date()


def local_date(moment: datetime, tz_name: str) -> date:
    return moment.astimezone(ZoneInfo(tz_name)).date()


def refuse_future(value: date | datetime | None, *, field: str, tz_name: str) -> None:
    """DOMAIN.md section 6: no date in the future, judged in the site's timezone."""
    if value is None:
        return
    today = site_today(tz_name)
    day = local_date(value, tz_name) if isinstance(value, datetime) else value
    if day > today:
        raise field_error(
            field,
            f"{day:%Y-%m-%d} is in the future (today is {today:%Y-%m-%d} at the site, {tz_name}).",
            "future_date",
        )
