"""Dose entry: the next cycle and day proposed from the regimen's schedule with its visit window,
the total dose (mg/kg x kg) shown before saving, corrections with a reason, voids."""

from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from accounts.roles import Capability
from core.dates import site_today
from core.errors import ValidationError
from dosing.models import DoseAdministration
from dosing.services import dose_record, dose_update, dose_void, next_dose_slot, total_dose_mg
from portal.forms import DoseEditForm, DoseForm, apply_errors
from subjects.models import Subject

from .common import (
    not_stale,
    require_capability,
    save_correction,
    scoped_record,
    site_timezone,
    valid_to_save,
    visible_subject,
    void_page,
)

REDISPLAY_ACTIONS = frozenset({"preview"})  # "Calculate the total" without JavaScript


def dose_preview(subject, form) -> dict:
    """What the page shows before saving, from what is typed in the form so far: the total in mg
    and early warnings. The service checks the same rules again on save."""
    actual = form.raw_decimal("actual_dose_per_kg")
    weight = form.raw_decimal("body_weight_kg")
    study = subject.study
    planned = subject.cohort.dose_level.amount if subject.cohort_id else None
    preview = {
        "actual": actual,
        "weight": weight,
        "planned": planned,
        "unit": study.dose_unit,
        "total": None,
        "warnings": [],
    }
    if actual is not None and weight is not None:
        preview["total"] = total_dose_mg(actual, weight)
    if weight is not None and not (study.min_weight_kg <= weight <= study.max_weight_kg):
        preview["warnings"].append(
            f"{weight} kg is outside the plausible {study.min_weight_kg}-{study.max_weight_kg} kg: "
            "check the unit (kg, not lb)."
        )
    if actual is not None and planned is not None and actual != planned:
        ceiling = planned * (1 + Decimal(study.max_dose_over_planned_percent) / 100)
        if actual > ceiling:
            preview["warnings"].append(
                f"More than {study.max_dose_over_planned_percent}% above the planned "
                f"{planned.normalize():f} {study.dose_unit}: was a total in mg entered as "
                f"{study.dose_unit}?"
            )
        else:
            preview["warnings"].append(
                f"Differs from the cohort's {planned.normalize():f} {study.dose_unit}: give the "
                "reason."
            )
    return preview


@login_required
@require_http_methods(["GET", "POST"])
def dose_new(request, pk: int):
    subject = visible_subject(request.user, pk)
    require_capability(request.user, Capability.ENTER_DATA, subject)
    if subject.status != Subject.Status.ENROLLED:
        messages.error(
            request,
            f"{subject} is not on treatment ({subject.get_status_display()}): doses are recorded "
            "for enrolled subjects only.",
        )
        return redirect("subject_detail", pk=pk)
    site = subject.site
    today = site_today(site.timezone)
    slot = next_dose_slot(subject)
    kwargs = {"unit": subject.study.dose_unit, "site_today": today}
    with site_timezone(site):
        if request.method == "POST":
            form = DoseForm(request.POST, **kwargs)
            if valid_to_save(request, form, REDISPLAY_ACTIONS):
                data = form.cleaned_data
                try:
                    dose = dose_record(
                        by=request.user,
                        subject=subject,
                        cycle=data["cycle"],
                        day=data["day"],
                        actual_dose_per_kg=data["actual_dose_per_kg"],
                        body_weight_kg=data["body_weight_kg"],
                        infusion_start=data["infusion_start"],
                        infusion_end=data["infusion_end"],
                        lot_number=data["lot_number"],
                        dose_unit=subject.study.dose_unit,
                        interrupted=data["interrupted"],
                        interruption_details=data["interruption_details"],
                        dose_change_reason=data["dose_change_reason"],
                        confirm_outside_window=data["outside_visit_window_confirmed"],
                    )
                except ValidationError as error:
                    apply_errors(form, error)
                else:
                    messages.success(
                        request,
                        f"Cycle {dose.cycle} Day {dose.day} recorded: "
                        f"{dose.actual_dose_per_kg.normalize():f} {dose.dose_unit} \u00d7 "
                        f"{dose.body_weight_kg} kg = {dose.total_dose_mg} mg.",
                    )
                    return redirect(reverse("subject_detail", args=[pk]) + "#doses")
        else:
            form = DoseForm(
                initial={
                    "cycle": slot.cycle,
                    "day": slot.day,
                    "actual_dose_per_kg": subject.cohort.dose_level.amount.normalize(),
                },
                **kwargs,
            )
        preview = dose_preview(subject, form)
        return render(
            request,
            "portal/dose_form.html",
            {
                "subject": subject,
                "form": form,
                "preview": preview,
                "editing": None,
                "slot": slot,
                "regimen": subject.cohort.track.regimen,
            },
        )


@login_required
@require_GET
def dose_total(request, pk: int):
    """The total dose for what is typed so far (htmx: updated as the coordinator types)."""
    subject = visible_subject(request.user, pk)
    form = DoseForm(request.GET, unit=subject.study.dose_unit)
    preview = dose_preview(subject, form)
    return render(request, "portal/_dose_total.html", {"preview": preview})


def _dose(request, pk):
    return scoped_record(
        request.user,
        DoseAdministration.objects.select_related(
            "subject__site",
            "subject__study",
            "subject__cohort__dose_level",
            "subject__cohort__track__regimen",
            "planned_dose_level",
        ),
        pk,
    )


@login_required
@require_http_methods(["GET", "POST"])
def dose_edit(request, pk: int):
    """Correct a dose with a reason; a stale form is refused with what changed."""
    dose = _dose(request, pk)
    subject = dose.subject
    require_capability(request.user, Capability.EDIT_DATA, subject)
    site = subject.site
    kwargs = {"unit": subject.study.dose_unit, "site_today": site_today(site.timezone)}
    stale = not_stale()
    with site_timezone(site):
        if request.method == "POST":
            form = DoseEditForm(request.POST, **kwargs)
            if valid_to_save(request, form, REDISPLAY_ACTIONS):
                done, form, stale = save_correction(
                    request,
                    form,
                    update=lambda **kw: dose_update(by=request.user, dose=dose, **kw),
                    model=DoseAdministration,
                    site=site,
                    form_kwargs=kwargs,
                    saved=lambda updated: messages.success(
                        request,
                        f"Cycle {updated.cycle} Day {updated.day} corrected (version "
                        f"{updated.version}); total {updated.total_dose_mg} mg.",
                    ),
                    then=reverse("subject_detail", args=[subject.pk]) + "#doses",
                )
                if done is not None:
                    return done
        else:
            form = DoseEditForm(
                initial={name: getattr(dose, name) for name in DoseEditForm.DOSE_FIELDS}
                | {
                    "actual_dose_per_kg": dose.actual_dose_per_kg.normalize(),
                    "version": dose.version,
                },
                **kwargs,
            )
        preview = dose_preview(subject, form)
        return render(
            request,
            "portal/dose_form.html",
            {
                "subject": subject,
                "form": form,
                "preview": preview,
                "editing": dose,
                **stale,
            },
        )


@login_required
@require_http_methods(["GET", "POST"])
def dose_void_view(request, pk: int):
    """Void a dose entered in error: it stays on record with who and why, out of every count."""
    dose = _dose(request, pk)
    return void_page(
        request,
        record=dose,
        subject=dose.subject,
        void=lambda **kw: dose_void(by=request.user, dose=dose, **kw),
        noun="dose",
        what=f"dose Cycle {dose.cycle} Day {dose.day} ({dose.administered_on:%Y-%m-%d})",
        done=f"Cycle {dose.cycle} Day {dose.day} voided.",
        anchor="#doses",
    )
