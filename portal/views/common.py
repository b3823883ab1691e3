"""What every coordinator view shares: the scoped lookups, the site's timezone, the handling of a
stale form (someone else saved the record first), and the correction and void flows."""

from __future__ import annotations

from contextlib import contextmanager
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
from core.forms import apply_service_errors, stale_edit
from portal.forms import VoidForm
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


def merge_stale(form_class, request, error: StaleRecord, model, site, form_kwargs: dict):
    """The form again after a stale save, through the one stale-edit flow (core/forms.py):
    untouched fields take the new values, fields both changed keep this user's entry and are
    marked, the version becomes the current one.
    Returns (form, stale): `stale` is the page context of `portal/_stale.html`, the changes for
    the message and who changed the record when.
    """
    form, stale = stale_edit(
        form_class,
        request.POST,
        error,
        model=model,
        tz_name=site.timezone,
        form_kwargs=form_kwargs,
    )
    return form, {"stale_changes": stale["changes"], "stale_by": stale}


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
        apply_service_errors(form, error)
        return None, form, not_stale()
    if updated.version == form.cleaned_data["version"]:
        messages.info(request, "Nothing was changed, so nothing was saved.")
    else:
        saved(updated)
    return redirect(then), form, not_stale()


def void_page(
    request,
    *,
    record,
    subject,
    void,
    noun: str,
    what: str,
    done: str,
    anchor: str,
    back: str | None = None,
):
    """The void confirmation for any clinical record: a reason and the version the user saw,
    then `void(reason=..., expected_version=...)`; the record stays on record, out of every count.
    A record changed meanwhile is shown with what changed (the one stale-edit flow) before it
    can be voided. Voided, and on cancel, the user goes back to the page of the record's form
    (`back`; the subject's page when not given), at `anchor`."""
    back = back or reverse("subject_detail", args=[subject.pk])
    require_capability(request.user, Capability.EDIT_DATA, subject)
    stale = not_stale()
    if request.method == "POST":
        form = VoidForm(request.POST)
        if form.is_valid():
            try:
                void(
                    reason=form.cleaned_data["reason"],
                    expected_version=form.cleaned_data["version"],
                )
            except StaleRecord as error:
                form, changed = stale_edit(
                    VoidForm,
                    request.POST,
                    error,
                    model=type(record),
                    tz_name=subject.site.timezone,
                    message=f"Someone else changed this {noun} (now version "
                    f"{error.current_version}); review what changed, then void it again.",
                )
                stale = {"stale_changes": changed["changes"], "stale_by": changed}
            except ValidationError as error:
                apply_service_errors(form, error)
            else:
                messages.success(request, done)
                return redirect(back + anchor)
    else:
        form = VoidForm(initial={"version": record.version})
    with site_timezone(subject.site):
        return render(
            request,
            "portal/void.html",
            {"subject": subject, "form": form, "what": what, "back": back, **stale},
        )
