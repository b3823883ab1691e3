"""The demographics form: ethnicity and races (docs/subjects.md §1). The first entry by a role that
enters data; once recorded, a correction with a reason by a role that corrects data. One service
call (`subjects.services.subject_record_demographics`), which checks the rules and the version."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from accounts.roles import Capability
from core.dates import site_today
from core.errors import StaleRecord, ValidationError
from core.forms import apply_service_errors
from portal.forms import DemographicsForm
from subjects.models import Subject
from subjects.services import subject_record_demographics

from .common import merge_stale, not_stale, require_capability, site_timezone, visible_subject


@login_required
@require_http_methods(["GET", "POST"])
def demographics(request, pk: int):
    subject = visible_subject(request.user, pk)
    correcting = subject.demographics_recorded
    require_capability(
        request.user, Capability.EDIT_DATA if correcting else Capability.ENTER_DATA, subject
    )
    if subject.consent_date is None:
        messages.info(
            request,
            f"Record {subject}'s informed consent first: nothing is collected before it.",
        )
        return redirect("subject_detail", pk=pk)
    site = subject.site
    kwargs = {"correcting": correcting, "site_today": site_today(site.timezone)}
    stale = not_stale()
    if request.method == "POST":
        form = DemographicsForm(request.POST, **kwargs)
        if form.is_valid():
            data = form.cleaned_data
            try:
                updated = subject_record_demographics(
                    by=request.user,
                    subject=subject,
                    ethnicity=data["ethnicity"],
                    races=data["races"],
                    race_other=data["race_other"],
                    reason=data.get("reason", ""),
                    expected_version=data["version"],
                )
            except StaleRecord as error:
                form, stale = merge_stale(DemographicsForm, request, error, Subject, site, kwargs)
            except ValidationError as error:
                apply_service_errors(form, error)
            else:
                verb = "corrected" if correcting else "recorded"
                messages.success(request, f"Demographics {verb} for {updated}.")
                return redirect(reverse("subject_detail", args=[pk]))
    else:
        form = DemographicsForm(
            initial={
                "ethnicity": subject.ethnicity,
                "races": subject.races,
                "race_other": subject.race_other,
                "version": subject.version,
            },
            **kwargs,
        )
    with site_timezone(site):
        return render(
            request,
            "portal/demographics.html",
            {"subject": subject, "form": form, "correcting": correcting, **stale},
        )
