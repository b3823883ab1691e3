"""Display helpers: times in a site's timezone or in UTC, the idle-session settings."""

import datetime as dt
from zoneinfo import ZoneInfo

from django import template
from django.conf import settings

from accounts.scoping import enters_data_at_a_site

register = template.Library()


@register.filter
def time_in_tz(value, tz_name):
    """The time of day of an aware datetime in the given timezone (the page names the zone)."""
    if not value:
        return "\u2014"
    local = value.astimezone(ZoneInfo(tz_name))
    return f"{local:%H:%M}"


@register.filter
def utc(value):
    """Audit times are kept and shown in UTC."""
    if not value:
        return "\u2014"
    return f"{value.astimezone(dt.UTC):%Y-%m-%d %H:%M:%S} UTC"


@register.filter
def utc_minute(value):
    """A time as the pages show times: "YYYY-MM-DD HH:MM UTC", from an aware datetime or the
    ISO 8601 text an API serializer gives."""
    if not value:
        return "\u2014"
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return f"{value.astimezone(dt.UTC):%Y-%m-%d %H:%M} UTC"


@register.filter
def number(value):
    """A Decimal without trailing zeros or exponent (0.0100 -> 0.01)."""
    if value is None:
        return "\u2014"
    try:
        return f"{value.normalize():f}"
    except AttributeError:
        return value


@register.simple_tag
def session_timeout_seconds():
    return settings.SESSION_COOKIE_AGE


@register.simple_tag
def session_timeout_minutes():
    return settings.SESSION_COOKIE_AGE // 60


@register.filter
def enters_data(user) -> bool:
    """Does the user enter data at some site (so the Screen a subject link is worth showing)?
    Uses the memberships already loaded for the request."""
    return enters_data_at_a_site(user)


@register.filter
def get(mapping, key):
    return mapping.get(key) if mapping else None
