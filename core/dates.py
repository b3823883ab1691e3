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
    """No date in the future, judged in the site's timezone; a time (an infusion start) is
    judged to the minute: five hours from now is refused even on today's date."""
    if value is None:
        return
    if isinstance(value, datetime):
        zone = ZoneInfo(tz_name)
        now = timezone.now().astimezone(zone).replace(second=0, microsecond=0)
        moment = value.astimezone(zone).replace(second=0, microsecond=0)
        if moment > now:
            raise field_error(
                field,
                f"{moment:%Y-%m-%d %H:%M} is in the future (it is {now:%Y-%m-%d %H:%M} at the "
                f"site, {tz_name}).",
                "future_date",
            )
        return
    today = site_today(tz_name)
    if value > today:
        raise field_error(
            field,
            f"{value:%Y-%m-%d} is in the future (today is {today:%Y-%m-%d} at the site, {tz_name}).",
            "future_date",
        )
