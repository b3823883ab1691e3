"""What every page's forms share: the date, time, version and reason fields, the one mapping of
a service's refusals onto a form, the corrections' editable fields, and the one flow for a save
refused as stale (someone else saved the record first, docs/audit.md §3).

The rules stay in the services; a form parses and labels what the user typed, and these helpers
put the service's answer back on it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from .errors import StaleRecord
from .history import describe_changes
from .records import REASON_MAX_LENGTH

DATETIME_FORMAT = "%Y-%m-%dT%H:%M"


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__({"step": 60, **(attrs or {})}, format=DATETIME_FORMAT)


def date_field(label, *, required=True, help_text=""):
    return forms.DateField(
        label=label,
        required=required,
        widget=DateInput(),
        input_formats=["%Y-%m-%d"],
        help_text=help_text,
    )


class TimeInput(forms.TimeInput):
    input_type = "time"

    def __init__(self, attrs=None):
        super().__init__({"step": 60, **(attrs or {})}, format="%H:%M")


def time_field(label, *, required=False, help_text=""):
    """A local time of day to the minute (site time), e.g. an adverse event's onset time."""
    return forms.TimeField(
        label=label,
        required=required,
        widget=TimeInput(),
        input_formats=["%H:%M", "%H:%M:%S"],
        help_text=help_text,
    )


def datetime_field(label, *, required=True, help_text=""):
    return forms.DateTimeField(
        label=label,
        required=required,
        widget=DateTimeInput(),
        input_formats=[DATETIME_FORMAT, "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"],
        help_text=help_text,
    )


def version_field():
    return forms.IntegerField(widget=forms.HiddenInput, min_value=1)


def reason_field(label="Reason for change"):
    return forms.CharField(
        label=label,
        max_length=REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Kept in the audit trail with who, when and the old and new values.",
        error_messages={"required": "Give the reason for this change."},
    )


def as_int(value) -> int | None:
    """A submitted number or id, or None where there is none or it is not a number."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


# ------------------------------------------------------------------------------------------
# Service errors onto form fields

# Where a service's field error goes when the form has no field of that name: onto another
# field, or (None) at the top of the form without a field name, being about the whole record.
SERVICE_FIELD_ALIASES: dict[str, str | None] = {
    "seriousness": "serious",
    "eligibility_outcome": None,
    "answers": None,
    "subject": None,
    "__all__": None,
}


def apply_service_errors(
    form: forms.Form, error: ValidationError, aliases: Mapping[str, str | None] | None = None
) -> None:
    """Put a service's ValidationError on the form: each message on its field when the form has
    that field (or the field `aliases`, the form's `service_fields` or `SERVICE_FIELD_ALIASES`
    name for it), at the top of the form for an alias of None, otherwise at the top with the
    field named."""
    if hasattr(error, "error_dict"):
        items: Iterable[tuple[str, list[str]]] = error.message_dict.items()
    else:
        items = [("__all__", error.messages)]
    names = {**SERVICE_FIELD_ALIASES, **getattr(form, "service_fields", {}), **(aliases or {})}
    for key, messages in items:
        name = names.get(key, key)
        for message in messages:
            if name in form.fields:
                form.add_error(name, message)
            elif not name:
                form.add_error(None, message)
            else:
                label = key.replace("_", " ").capitalize()
                form.add_error(None, f"{label}: {message}")


# ------------------------------------------------------------------------------------------
# Corrections


class CorrectionFields:
    """A correction form's fields are its service's editable fields (`editable_fields`, the
    service's `EDITABLE_FIELDS`): the form shows those it has a field for and sends those."""

    editable_fields: tuple[str, ...] = ()
    fields: dict[str, forms.Field]
    cleaned_data: dict[str, Any]

    def changes(self) -> dict[str, Any]:
        return {n: self.cleaned_data[n] for n in self.editable_fields if n in self.fields}

    @classmethod
    def initial_for(cls, record: object) -> dict[str, Any]:
        """The record's current values, as the form's initial data."""
        return {name: getattr(record, name) for name in cls.editable_fields}


# ------------------------------------------------------------------------------------------
# A save refused as stale

# Bookkeeping columns every save changes: not shown as "what changed".
BOOKKEEPING = frozenset({"version", "updated_at"})


def _as_widget_value(value, tz: ZoneInfo) -> str | None:
    """A stored value as a form widget would submit it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "on" if value else None
    if isinstance(value, datetime):
        return value.astimezone(tz).strftime(DATETIME_FORMAT)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.strftime("%H:%M")
    if isinstance(value, Decimal):
        return f"{value:f}"
    return str(value)


def _typed_value(form_field, raw):
    """What the user typed, as the field cleans it (a related object as its pk). Input that does
    not parse comes back as a value equal to nothing: it is the user's own, so it is kept."""
    try:
        value = form_field.clean(raw)
    except Exception:
        return object()
    return getattr(value, "pk", value)


STALE_MESSAGE = (
    "Someone else saved this record after you opened it. Nothing of yours was saved yet: what "
    "they changed is listed below, your entries are kept, and you can save again."
)


def stale_edit(
    form_class: Callable[..., forms.Form],
    submitted: Mapping[str, Any],
    error: StaleRecord,
    *,
    model: type,
    tz_name: str,
    form_kwargs: Mapping[str, Any] | None = None,
    message: str | None = STALE_MESSAGE,
) -> tuple[forms.Form, dict[str, Any]]:
    """The form again after a save refused as stale, losing nothing (docs/audit.md §3).

    Fields the other person changed and this user did not touch take the new values; fields both
    changed keep this user's value and say what the other person entered. The version becomes
    the current one, so saving again is a deliberate act after seeing what changed. `message`
    (when given) goes at the top of the form; the changes are put in words as the record's history
    shows them (`core.history.describe_changes` of `model`).

    Returns (form, stale): `stale` holds the changes in words (`changes`), who saved the record
    (`user`), when (`at`), why (`reason`), the version now (`version`) and the one the user saw
    (`seen`).
    """
    kwargs = dict(form_kwargs or {})
    tz = ZoneInfo(tz_name)
    data = submitted.copy() if hasattr(submitted, "copy") else dict(submitted)
    probe = form_class(submitted, **kwargs)
    changes = [c for c in error.changes if c["field"] not in BOOKKEEPING]
    conflicts = []
    with timezone.override(tz):
        for change in changes:
            name = change["field"]
            if name not in probe.fields:
                continue
            form_field = probe.fields[name]
            raw = form_field.widget.value_from_datadict(submitted, None, probe.add_prefix(name))
            if _typed_value(form_field, raw) == change["old"]:
                if isinstance(change["new"], list):  # a multiple choice: one entry per value
                    values = [str(v) for v in change["new"]]
                    if hasattr(data, "setlist"):
                        data.setlist(name, values)
                    else:
                        data[name] = values
                    continue
                value = _as_widget_value(change["new"], tz)
                if value is None:
                    data.pop(name, None)
                else:
                    data[name] = value
            else:
                conflicts.append(change)
        data["version"] = str(error.current_version)
        form = form_class(data, **kwargs)
        form.is_valid()
    for change in conflicts:
        if change["field"] in form.fields:
            rows = describe_changes(model, [change])
            now = rows[0]["new"] if rows else ""
            form.add_error(
                change["field"],
                f"Meanwhile changed to \u201c{now}\u201d: your entry is kept here; check which is "
                "right before saving again.",
            )
    if message:
        form.add_error(None, message)
    described = describe_changes(model, changes)
    latest = error.record.history.select_related("history_user").order_by("-history_id").first()
    return form, {
        "changes": described,
        "user": getattr(latest, "history_user", None),
        "at": getattr(latest, "history_date", None),
        "reason": getattr(latest, "history_change_reason", ""),
        "version": error.current_version,
        "seen": error.expected_version,
    }
