"""Efficacy pages: a subject's tumour assessments with the computed response beside the
investigator's, the assessment form, and the study's endpoints with their plots. Each view
authorises, calls one selector or service, and renders (or downloads a table as CSV)."""

from __future__ import annotations

import re

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from accounts.roles import Capability
from accounts.scoping import can, member_study_ids
from core.errors import ValidationError
from core.exports import csv_text
from portal.forms import apply_errors
from portal.views.common import (
    not_stale,
    require_capability,
    save_correction,
    scoped_record,
    site_timezone,
    visible_subject,
    void_page,
)
from trial.models import Study

from . import selectors, tables
from .forms import ObservationCorrectionForm, TumourAssessmentForm
from .models import Lesion, LesionObservation, TumourAssessment
from .services import (
    lesion_observation_update,
    tumour_assessment_record,
    tumour_assessment_void,
)


def _csv(name: str, header, rows) -> HttpResponse:
    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", name)
    response = HttpResponse(csv_text(header, rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{safe}-{stamp}.csv"'
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_GET
def subject_page(request, pk: int):
    """The subject's response history: baseline, each time point (computed and investigator's
    response, with the rule and the reason), the best overall response and the endpoints."""
    subject = visible_subject(request.user, pk)
    record = selectors.subject_efficacy(request.user, subject)
    if request.GET.get("format") == "csv":
        header, rows = tables.time_point_table(record)
        rows = [[tables.iso(cell) for cell in row] for row in rows]
        return _csv(f"{subject.label}-tumour-responses", header, rows)
    return render(
        request,
        "efficacy/subject.html",
        {
            "subject": subject,
            "record": record,
            "can_enter": can(
                request.user,
                Capability.ENTER_DATA,
                study_id=subject.study_id,
                site_id=subject.site_id,
            ),
            "can_edit": can(
                request.user,
                Capability.EDIT_DATA,
                study_id=subject.study_id,
                site_id=subject.site_id,
            ),
            "has_baseline": any(s.assessment.is_baseline for s in record.scans),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def assessment_new(request, pk: int, kind: str):
    subject = visible_subject(request.user, pk)
    require_capability(request.user, Capability.ENTER_DATA, subject)
    if kind not in TumourAssessment.Kind.values:
        raise Http404("No such kind of assessment.")
    lesions = list(
        Lesion.objects.filter(subject=subject).order_by("role", "first_seen__assessed_on", "code")
    )
    order = {Lesion.Role.TARGET: 0, Lesion.Role.NON_TARGET: 1, Lesion.Role.NEW: 2}
    lesions.sort(key=lambda lesion: order[lesion.role])
    if request.method == "POST":
        form = TumourAssessmentForm(request.POST, kind=kind, lesions=lesions)
        if form.is_valid():
            try:
                assessment = tumour_assessment_record(
                    by=request.user, subject=subject, **form.record_kwargs()
                )
            except ValidationError as error:
                apply_errors(form, error)
            else:
                record = selectors.subject_efficacy(request.user, subject)
                point = next(
                    (p for p in record.time_points if p.assessed_on == assessment.assessed_on),
                    None,
                )
                text = f"{assessment} saved."
                if point is not None:
                    text += f" Computed response: {point.response.value}"
                    if (
                        point.investigator_response
                        and point.investigator_response != point.response
                    ):
                        text += (
                            f", the investigator's is {point.investigator_response.value}: the "
                            "disagreement is flagged for the monitor"
                        )
                    text += "."
                messages.success(request, text)
                return redirect(
                    reverse("efficacy:subject", args=[pk]) + f"#assessment-{assessment.pk}"
                )
    else:
        form = TumourAssessmentForm(kind=kind, lesions=lesions)
    with site_timezone(subject.site):
        return render(
            request,
            "efficacy/assessment_form.html",
            {"subject": subject, "form": form, "kind": kind},
        )


@login_required
@require_http_methods(["GET", "POST"])
def assessment_void(request, pk: int):
    assessment = scoped_record(
        request.user, TumourAssessment.objects.select_related("subject__site"), pk
    )
    subject = assessment.subject
    require_capability(request.user, Capability.EDIT_DATA, subject)
    return void_page(
        request,
        record=assessment,
        subject=subject,
        void=lambda **kw: tumour_assessment_void(by=request.user, assessment=assessment, **kw),
        noun="tumour assessment",
        what=str(assessment),
        done=f"{assessment} voided.",
        anchor="#tumour-assessments",
    )


@login_required
@require_http_methods(["GET", "POST"])
def observation_edit(request, pk: int):
    """Correct one lesion at one scan, with a reason; the computed responses follow."""
    observation = scoped_record(
        request.user,
        LesionObservation.objects.select_related("assessment__subject__site", "lesion"),
        pk,
    )
    subject = observation.assessment.subject
    require_capability(request.user, Capability.EDIT_DATA, subject)
    kwargs = {"observation": observation}
    context = not_stale()
    if request.method == "POST":
        form = ObservationCorrectionForm(request.POST, **kwargs)
        if form.is_valid():
            response, form, context = save_correction(
                request,
                form,
                update=lambda **kw: lesion_observation_update(
                    by=request.user, observation=observation, **kw
                ),
                model=LesionObservation,
                site=subject.site,
                form_kwargs=kwargs,
                saved=lambda record: messages.success(
                    request,
                    f"{observation.lesion.code} on {observation.assessment.assessed_on} corrected.",
                ),
                then=reverse("efficacy:subject", args=[subject.pk]) + "#lesions",
            )
            if response is not None:
                return response
    else:
        form = ObservationCorrectionForm(
            initial={
                "status": observation.status,
                "size_mm": observation.size_mm,
                "version": observation.version,
            },
            **kwargs,
        )
    with site_timezone(subject.site):
        return render(
            request,
            "efficacy/observation_form.html",
            {"subject": subject, "observation": observation, "form": form, **context},
        )


def _study(request) -> Study:
    ids = sorted(member_study_ids(request.user))
    if not ids:
        raise Http404("You are not a member of any study.")
    wanted = request.GET.get("study")
    study_id = int(wanted) if wanted and wanted.isdigit() and int(wanted) in ids else ids[0]
    return Study.objects.get(pk=study_id)


@login_required
@require_GET
def endpoints(request):
    """ORR and DCR per dose level, each subject's BOR, PFS, OS and DoR, the Kaplan-Meier
    curves, and the waterfall, spider and swimmer plots; every table also as CSV."""
    study = _study(request)
    page = selectors.study_efficacy(request.user, study.pk)
    if request.GET.get("format") == "csv":
        table = request.GET.get("table", "")
        try:
            header, rows = tables.study_table(page, table)
        except KeyError:
            raise Http404("No such table on this page.") from None
        return _csv(f"{study.protocol_number}-efficacy-{table}", header, rows)
    return render(
        request,
        "efficacy/endpoints.html",
        {"study": study, "page": page, "plots": tables.plots(page)},
    )
