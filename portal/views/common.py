"""What every coordinator view shares: the scoped lookups, the site's timezone, the handling of a
stale form (someone else saved the record first), and the correction and void flows."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.core.exceptions import ObjectDoesNotExist
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from accounts.roles import Capability
from accounts.scoping import can, restrict
from core.errors import PermissionDenied, StaleRecord, ValidationError
from core.history import describe_changes
from portal.forms import DATETIME_FORMAT, VoidForm, apply_errors
from subjects.selectors import subject_for


@contextmanager
def site_timezone(site):
    """Times typed and shown in the site's own timezone (stored in UTC)."""
    with timezone.override(ZoneInfo(site.timezone)):
        yield


def visible_subject(user, pk: int):
    """The subject if the user may see it; 404 otherwise (another site's subject is not found)."""
    try:
        return subject_for(user, pk)
    except ObjectDoesNotExist:
        raise Http404("No such subject.") from None


def scoped_record(user, queryset, pk: int):
    try:
        return restrict(queryset, user).get(pk=pk)
    except ObjectDoesNotExist:
        raise Http404("No such record.") from None


def require_capability(user, capability: Capability, subject) -> None:
    """403 for a user who may see the subject but not do this (e.g. the sponsor)."""
    if not can(user, capability, study_id=subject.study_id, site_id=subject.site_id):
        raise PermissionDenied(
            f"Your role does not allow '{capability.value.replace('_', ' ')}' for this subject."
        )


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


def merge_stale(form_class, request, error: StaleRecord, model, site, form_kwargs: dict):
    """Rebuild the form after a stale save, losing nothing.

    Fields the other person changed and this user did not touch take the new values; fields both
    changed keep this user's value and say what the other person entered. The version becomes the
    current one, so saving again is a deliberate act after seeing what changed.
    Returns (form, stale): `stale` is the page context of `portal/_stale.html`, the changes for
    the message and who changed the record when.
    """
    tz = ZoneInfo(site.timezone)
    data = request.POST.copy()
    probe = form_class(request.POST, **form_kwargs)
    conflicts = []
    with site_timezone(site):
        for change in error.changes:
            name = change["field"]
            if name not in probe.fields:
                continue
            form_field = probe.fields[name]
            raw = form_field.widget.value_from_datadict(request.POST, None, probe.add_prefix(name))
            if _typed_value(form_field, raw) == change["old"]:
                value = _as_widget_value(change["new"], tz)
                if value is None:
                    data.pop(name, None)
                else:
                    data[name] = value
            else:
                conflicts.append(change)
        data["version"] = str(error.current_version)
        form = form_class(data, **form_kwargs)
        form.is_valid()
    latest = error.record.history.select_related("history_user").order_by("-history_id").first()
    described = describe_changes(model, error.changes)
    labels = {c["field"]: d for c, d in zip(error.changes, described, strict=True)}
    for change in conflicts:
        if change["field"] in form.fields:
            form.add_error(
                change["field"],
                f"Meanwhile changed to \u201c{labels[change['field']]['new']}\u201d: your entry is "
                "kept here; check which is right before saving again.",
            )
    form.add_error(
        None,
        "Someone else saved this record after you opened it. Nothing of yours was saved yet: "
        "what they changed is listed below, your entries are kept, and you can save again.",
    )
    who = {
        "user": getattr(latest, "history_user", None),
        "at": getattr(latest, "history_date", None),
        "reason": getattr(latest, "history_change_reason", ""),
        "version": error.current_version,
    }
    return form, {"stale_changes": described, "stale_by": who}


def valid_to_save(request, form, redisplay_actions: frozenset[str]) -> bool:
    """Is the form submitted to be saved, and valid? A button whose `action` only shows the page
    again (search a term, show its grades, calculate the total) parses the form but shows no
    errors: the user has not finished typing."""
    valid = form.is_valid()
    if request.POST.get("action", "save") in redisplay_actions:
        form.errors.clear()
        return False
    return valid


def not_stale() -> dict:
    """The context of `portal/_stale.html` when nobody saved the record meanwhile."""
    return {"stale_changes": None, "stale_by": None}


def save_correction(request, form, *, update, model, site, form_kwargs: dict, saved, then: str):
    """Save a valid correction form (its `changes()`, a reason and the version the user saw)
    through `update(changes=..., reason=..., expected_version=...)`.

    Returns (response, form, stale): once saved, the redirect to `then`, after `saved(record)`
    has said what was saved (or the message that nothing changed); otherwise no response and the
    form to show again, with a stale save merged by `merge_stale` or the service's refusal on its
    fields.
    """
    try:
        updated = update(
            changes=form.changes(),
            reason=form.cleaned_data["reason"],
            expected_version=form.cleaned_data["version"],
        )
    except StaleRecord as error:
        form, stale = merge_stale(type(form), request, error, model, site, form_kwargs)
        return None, form, stale
    except ValidationError as error:
        apply_errors(form, error)
        return None, form, not_stale()
    if updated.version == form.cleaned_data["version"]:
        messages.info(request, "Nothing was changed, so nothing was saved.")
    else:
        saved(updated)
    return redirect(then), form, not_stale()


def void_page(request, *, record, subject, void, noun: str, what: str, done: str, anchor: str):
    """The void confirmation for any clinical record: a reason and the version the user saw,
    then `void(reason=..., expected_version=...)`; the record stays on record, out of every count."""
    require_capability(request.user, Capability.EDIT_DATA, subject)
    if request.method == "POST":
        form = VoidForm(request.POST)
        if form.is_valid():
            try:
                void(
                    reason=form.cleaned_data["reason"],
                    expected_version=form.cleaned_data["version"],
                )
            except StaleRecord as error:
                form.add_error(
                    None,
                    f"Someone else changed this {noun} (now version {error.current_version}); "
                    "review it before voiding.",
                )
            except ValidationError as error:
                apply_errors(form, error)
            else:
                messages.success(request, done)
                return redirect(reverse("subject_detail", args=[subject.pk]) + anchor)
    else:
        form = VoidForm(initial={"version": record.version})
    with site_timezone(subject.site):
        return render(request, "portal/void.html", {"subject": subject, "form": form, "what": what})
