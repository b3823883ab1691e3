"""Dose entry: the next cycle and day proposed from the regimen's schedule with its visit window,
the total dose (mg/kg x kg) shown before saving, corrections with a reason, voids."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from accounts.roles import Capability
from core.dates import site_today
from core.errors import ValidationError
from core.forms import apply_service_errors, as_int
from dosing.models import DoseAdministration
from dosing.rules import (
    Amount,
    DoseLimits,
    Weight,
    amount_finding,
    total_dose_mg,
    weight_changed,
    weight_finding,
)
from dosing.services import dose_record, dose_update, dose_void, next_dose_slot
from portal.forms import DoseEditForm, DoseForm
from subjects.rules import Step, refusal

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


def _previous_dose(subject, editing=None):
    """The dose before the one being entered (the last one given) or corrected (the one before
    it by cycle and day): its weight is what a large change is measured against."""
    doses = DoseAdministration.objects.filter(subject=subject).order_by("cycle", "day")
    if editing is not None:
        doses = doses.exclude(pk=editing.pk).filter(
            Q(cycle__lt=editing.cycle) | Q(cycle=editing.cycle, day__lt=editing.day)
        )
    return doses.only("cycle", "day", "body_weight_kg", "administered_on").last()


def dose_preview(subject, form, previous=None) -> dict:
    """What the page shows before saving, from what is typed in the form so far: the total in mg
    and early warnings, from the findings the service checks again on save (dosing/rules.py,
    docs/dosing.md §3-§4)."""
    actual = form.raw_decimal("actual_dose_per_kg")
    weight = form.raw_decimal("body_weight_kg")
    study = subject.study
    limits = DoseLimits.of(study)
    planned = subject.cohort.dose_level.amount if subject.cohort_id else None
    unit = study.dose_unit
    preview = {
        "actual": actual,
        "weight": weight,
        "planned": planned,
        "unit": unit,
        "total": None,
        "warnings": [],
    }
    warn = preview["warnings"].append
    if actual is not None and weight is not None:
        preview["total"] = total_dose_mg(actual, weight)
    if weight is not None and weight_finding(weight, limits) is not Weight.PLAUSIBLE:
        warn(
            f"{weight} kg is outside the plausible {study.min_weight_kg}-{study.max_weight_kg} kg: "
            "check the unit (kg, not lb). If it is right, you confirm it with a reason."
        )
    previous_kg = previous.body_weight_kg if previous is not None else None
    if weight is not None and weight_changed(weight, previous_kg, limits):
        warn(
            f"More than {study.max_weight_change_percent}% from the "
            f"{previous.body_weight_kg} kg of C{previous.cycle}D{previous.day}: re-weigh, "
            "check the unit; if it is right, you confirm it."
        )
    finding = (
        amount_finding(actual, planned, limits)
        if actual is not None and planned is not None
        else None
    )
    if finding is Amount.IMPLAUSIBLE:
        warn(
            f"{study.implausible_dose_factor} times the planned {planned.normalize():f} "
            f"{unit} or more: was a total in mg entered as {unit}?"
        )
    elif finding is Amount.OVERDOSE:
        warn(
            f"More than {study.max_dose_over_planned_percent}% above the planned "
            f"{planned.normalize():f} {unit}: an overdose, recorded only with your "
            "confirmation and the reason (a protocol deviation; the medical monitors are "
            "notified)."
        )
    elif finding is Amount.DIFFERS:
        warn(f"Differs from the cohort's {planned.normalize():f} {unit}: give the reason.")
    return preview


def _dose_arguments(data) -> dict:
    """The service's arguments from the dose form's cleaned data."""
    return {
        "actual_dose_per_kg": data["actual_dose_per_kg"],
        "body_weight_kg": data["body_weight_kg"],
        "infusion_start": data["infusion_start"],
        "infusion_end": data["infusion_end"],
        "lot_number": data["lot_number"],
        "interrupted": data["interrupted"],
        "interruption_details": data["interruption_details"],
        "dose_change_reason": data["dose_change_reason"],
        "confirm_outside_window": data["outside_visit_window_confirmed"],
        "overdose_confirmed": data["overdose_confirmed"],
        "short_interval_confirmed": data["short_interval_confirmed"],
        "weight_outside_range_confirmed": data["weight_outside_range_confirmed"],
        "weight_change_confirmed": data["weight_change_confirmed"],
        "deviation_reason": data["deviation_reason"],
    }


def _saved_message(dose, verb: str) -> str:
    text = (
        f"Cycle {dose.cycle} Day {dose.day} {verb}: {dose.actual_dose_per_kg.normalize():f} "
        f"{dose.dose_unit} \u00d7 {dose.body_weight_kg} kg = {dose.total_dose_mg} mg."
    )
    if dose.protocol_deviations:
        text += (
            f" Recorded as a protocol deviation ({', '.join(dose.protocol_deviations).lower()})"
            + (
                ": the medical monitors are notified of the overdose."
                if dose.overdose_confirmed
                else "."
            )
        )
    return text


@login_required
@require_http_methods(["GET", "POST"])
def dose_new(request, pk: int):
    subject = visible_subject(request.user, pk)
    require_capability(request.user, Capability.ENTER_DATA, subject)
    if refusal(Step.DOSE, subject.rule_state):
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
                        dose_unit=subject.study.dose_unit,
                        **_dose_arguments(data),
                    )
                except ValidationError as error:
                    apply_service_errors(form, error)
                else:
                    done = messages.warning if dose.protocol_deviations else messages.success
                    done(request, _saved_message(dose, "recorded"))
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
        preview = dose_preview(subject, form, _previous_dose(subject))
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
    editing = None
    if as_int(request.GET.get("editing")) is not None:
        editing = DoseAdministration.objects.filter(
            subject=subject, pk=as_int(request.GET["editing"])
        ).first()
    preview = dose_preview(subject, form, _previous_dose(subject, editing))
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
                    saved=lambda updated: (
                        messages.warning if updated.protocol_deviations else messages.success
                    )(request, _saved_message(updated, f"corrected (version {updated.version})")),
                    then=reverse("subject_detail", args=[subject.pk]) + "#doses",
                )
                if done is not None:
                    return done
        else:
            form = DoseEditForm(
                initial=DoseEditForm.initial_for(dose)
                | {
                    "actual_dose_per_kg": dose.actual_dose_per_kg.normalize(),
                    "version": dose.version,
                },
                **kwargs,
            )
        preview = dose_preview(subject, form, _previous_dose(subject, dose))
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
