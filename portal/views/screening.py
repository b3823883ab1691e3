"""Screening to enrollment: register at screening, consent, eligibility checklist, enrollment
into the cohort with an open place (or why none is open), screen failure. Each view parses,
authorises, calls one service and renders; the services hold the rules."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from accounts.roles import Capability
from accounts.scoping import can, visible_sites
from core.dates import site_today
from core.errors import PermissionDenied, StaleRecord, ValidationError
from core.forms import apply_service_errors, stale_edit
from portal import selectors
from portal.forms import (
    ConsentForm,
    EligibilityForm,
    EnrollForm,
    ScreenFailForm,
    ScreeningForm,
    SubjectEditForm,
)
from subjects.models import Subject
from subjects.rules import Step, criteria_not_met, refusal
from subjects.selectors import cohorts_with_places
from subjects.services import (
    subject_enroll,
    subject_record_consent,
    subject_record_eligibility,
    subject_screen,
    subject_screen_fail,
    subject_update,
)
from trial.models import Cohort, Site

from .common import (
    not_stale,
    require_capability,
    save_correction,
    site_timezone,
    visible_subject,
)


def _entry_sites(user):
    sites = visible_sites(user).select_related("study").filter(is_active=True)
    return [s for s in sites if can(user, Capability.ENTER_DATA, study_id=s.study_id, site_id=s.pk)]


@login_required
@require_http_methods(["GET", "POST"])
def subject_new(request):
    """Register a person at screening under the site's screening number."""
    sites = _entry_sites(request.user)
    if not sites:
        raise PermissionDenied("You have no active site where you may register subjects.")
    queryset = Site.objects.filter(pk__in=[s.pk for s in sites]).select_related("study")
    chosen = next((s for s in sites if str(s.pk) == request.POST.get("site")), sites[0])
    today = site_today(chosen.timezone)
    if request.method == "POST":
        form = ScreeningForm(request.POST, sites=queryset, site_today=today)
        if form.is_valid():
            data = form.cleaned_data
            try:
                subject = subject_screen(
                    by=request.user,
                    site=data["site"],
                    screening_number=data["screening_number"],
                    sex=data["sex"],
                    year_of_birth=data["year_of_birth"],
                    screening_date=data["screening_date"],
                )
            except ValidationError as error:
                apply_service_errors(form, error)
            else:
                messages.success(
                    request,
                    f"{subject} registered at site {subject.site.number}. Record the informed "
                    "consent next.",
                )
                return redirect("screening", pk=subject.pk)
    else:
        initial = {"screening_date": today}
        if request.GET.get("site"):
            initial["site"] = request.GET["site"]
        form = ScreeningForm(initial=initial, sites=queryset, site_today=today)
    return render(request, "portal/subject_new.html", {"form": form, "sites": sites})


def _screening_page(request, subject, *, consent_form=None, eligibility_form=None, status=200):
    today = site_today(subject.site.timezone)
    if consent_form is None:
        consent_form = ConsentForm(
            initial={
                "consent_date": subject.consent_date or today,
                "consent_version": subject.consent_version,
                "version": subject.version,
            },
            site_today=today,
        )
    if eligibility_form is None:
        eligibility_form = EligibilityForm(
            initial={
                "assessed_on": subject.eligibility_assessed_on or today,
                "version": subject.version,
            },
            study=subject.study,
            answers=subject.eligibility_answers,
            site_today=today,
        )
    return render(
        request,
        "portal/screening.html",
        {
            "subject": subject,
            "consent_form": consent_form,
            "eligibility_form": eligibility_form,
            "options": selectors.enrollment_options(request.user, subject.study)
            if subject.eligibility_outcome == Subject.Eligibility.ELIGIBLE
            else None,
            "can_enter": can(
                request.user,
                Capability.ENTER_DATA,
                study_id=subject.study_id,
                site_id=subject.site_id,
            ),
        },
        status=status,
    )


@login_required
def screening(request, pk: int):
    """The screening steps of one subject: consent, eligibility, then enrollment."""
    subject = visible_subject(request.user, pk)
    if refusal(Step.SCREENING, subject.rule_state):
        return redirect("subject_detail", pk=subject.pk)
    return _screening_page(request, subject)


def _refused_as_stale(request, error: StaleRecord, form_class, **form_kwargs):
    """Someone else saved the subject first: the one stale-edit flow (core/forms.py) gives back
    the form with the user's entries and the current version, so saving again is a deliberate
    act; the message at the top of the screening page says what changed."""
    form, stale = stale_edit(
        form_class,
        request.POST,
        error,
        model=Subject,
        tz_name=error.record.site.timezone,
        form_kwargs=form_kwargs,
        message=None,
    )
    listed = "; ".join(f"{c['field']}: {c['old']} \u2192 {c['new']}" for c in stale["changes"])
    messages.error(
        request,
        "Someone else saved this subject after you opened the page, so nothing was saved. "
        f"What changed: {listed or 'the record'}. Your entries are kept below: check them and "
        "save again.",
    )
    return form


@login_required
@require_http_methods(["GET", "POST"])
def consent(request, pk: int):
    subject = visible_subject(request.user, pk)
    if request.method == "GET":  # a reload or a link: the form lives on the screening page
        return redirect(reverse("screening", args=[pk]) + "#consent")
    require_capability(request.user, Capability.ENTER_DATA, subject)
    form = ConsentForm(request.POST, site_today=site_today(subject.site.timezone))
    if form.is_valid():
        try:
            subject_record_consent(
                by=request.user,
                subject=subject,
                consent_date=form.cleaned_data["consent_date"],
                consent_version=form.cleaned_data["consent_version"],
                expected_version=form.cleaned_data["version"],
                age_confirmed=form.cleaned_data["age_confirmed"],
            )
        except StaleRecord as error:
            subject = visible_subject(request.user, pk)
            form = _refused_as_stale(
                request, error, ConsentForm, site_today=site_today(subject.site.timezone)
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, "Informed consent recorded. Assess eligibility next.")
            return redirect(reverse("screening", args=[pk]) + "#eligibility")
    return _screening_page(request, subject, consent_form=form)


@login_required
@require_http_methods(["GET", "POST"])
def eligibility(request, pk: int):
    subject = visible_subject(request.user, pk)
    if request.method == "GET":  # a reload or a link: the form lives on the screening page
        return redirect(reverse("screening", args=[pk]) + "#eligibility")
    require_capability(request.user, Capability.ENTER_DATA, subject)
    today = site_today(subject.site.timezone)
    form = EligibilityForm(request.POST, study=subject.study, site_today=today)
    if form.is_valid():
        try:
            subject = subject_record_eligibility(
                by=request.user,
                subject=subject,
                answers=form.answers(),
                assessed_on=form.cleaned_data["assessed_on"],
                expected_version=form.cleaned_data["version"],
            )
        except StaleRecord as error:
            subject = visible_subject(request.user, pk)
            form = _refused_as_stale(
                request, error, EligibilityForm, study=subject.study, site_today=today
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            if subject.eligibility_outcome == Subject.Eligibility.ELIGIBLE:
                messages.success(request, "Eligible: every inclusion met, no exclusion applies.")
                return redirect("enroll", pk=pk)
            messages.warning(
                request,
                "Not eligible by this checklist. Record the screen failure with its reason, or "
                "correct the answers.",
            )
            return redirect(reverse("screening", args=[pk]) + "#eligibility")
    return _screening_page(request, subject, eligibility_form=form)


@login_required
@require_http_methods(["GET", "POST"])
def screen_fail(request, pk: int):
    subject = visible_subject(request.user, pk)
    require_capability(request.user, Capability.ENTER_DATA, subject)
    if request.method == "POST":
        form = ScreenFailForm(request.POST)
        if form.is_valid():
            try:
                subject_screen_fail(
                    by=request.user,
                    subject=subject,
                    reason=form.cleaned_data["screen_failure_reason"],
                    expected_version=form.cleaned_data["version"],
                )
            except StaleRecord as error:
                form = _refused_as_stale(request, error, ScreenFailForm)
            except ValidationError as error:
                apply_service_errors(form, error)
            else:
                messages.success(request, f"{subject} recorded as a screen failure.")
                return redirect("subject_detail", pk=pk)
    else:
        study = subject.study
        unmet = criteria_not_met(
            study.inclusion_criteria(), study.exclusion_criteria(), subject.eligibility_answers
        )
        suggested = ("Eligibility not met: " + "; ".join(unmet)) if unmet else ""
        form = ScreenFailForm(
            initial={"screen_failure_reason": suggested, "version": subject.version}
        )
    return render(request, "portal/screen_fail.html", {"subject": subject, "form": form})


@login_required
@require_http_methods(["GET", "POST"])
def enroll(request, pk: int):
    """Enrollment into the cohort with an open place, or as the replacement of a subject found
    not evaluable (a full cohort takes a replacement only); the page says which dose and
    regimen, why a replacement is asked for, or why no cohort takes a subject now. The subject
    number is assigned on enrollment."""
    subject = visible_subject(request.user, pk)
    require_capability(request.user, Capability.ENTER_DATA, subject)
    if refusal(Step.SCREENING, subject.rule_state):
        messages.info(request, f"{subject} is already {subject.get_status_display().lower()}.")
        return redirect("subject_detail", pk=pk)
    options = selectors.enrollment_options(request.user, subject.study)
    cohorts = cohorts_with_places(Cohort.objects.filter(pk__in=options.cohort_ids)).order_by(
        "track__display_order", "number"
    )
    today = site_today(subject.site.timezone)
    kwargs = {"cohorts": cohorts, "replacements": options.replacements, "site_today": today}
    if request.method == "POST":
        form = EnrollForm(request.POST, **kwargs)
        if form.is_valid():
            replaced = form.cleaned_data.get("replaces")
            try:
                subject = subject_enroll(
                    by=request.user,
                    subject=subject,
                    cohort=form.cleaned_data["cohort"],
                    enrollment_date=form.cleaned_data["enrollment_date"],
                    replaces=replaced,
                    expected_version=form.cleaned_data["version"],
                )
            except StaleRecord as error:
                form = _refused_as_stale(request, error, EnrollForm, **kwargs)
            except ValidationError as error:
                apply_service_errors(form, error)
            else:
                messages.success(
                    request,
                    f"Enrolled: subject number {subject.subject_number}, {subject.cohort}"
                    + (f", replacing {replaced} (not evaluable)" if replaced else "")
                    + ". Record Cycle 1 Day 1 when it is given.",
                )
                return redirect("subject_detail", pk=pk)
    else:
        form = EnrollForm(initial={"enrollment_date": today, "version": subject.version}, **kwargs)
    return render(
        request,
        "portal/enroll.html",
        {
            "subject": subject,
            "form": form,
            "options": options,
            "cohorts": list(cohorts),
            "eligible": subject.eligibility_outcome == Subject.Eligibility.ELIGIBLE
            and subject.consent_date is not None,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def subject_edit(request, pk: int):
    """Correct the subject's own data, with a reason (audited with old and new values)."""
    subject = visible_subject(request.user, pk)
    require_capability(request.user, Capability.EDIT_DATA, subject)
    today = site_today(subject.site.timezone)
    kwargs = {"subject": subject, "site_today": today}
    stale = not_stale()
    if request.method == "POST":
        form = SubjectEditForm(request.POST, **kwargs)
        if form.is_valid():
            done, form, stale = save_correction(
                request,
                form,
                update=lambda **kw: subject_update(by=request.user, subject=subject, **kw),
                model=Subject,
                site=subject.site,
                form_kwargs=kwargs,
                saved=lambda updated: messages.success(
                    request, f"{updated} corrected (version {updated.version})."
                ),
                then=reverse("subject_detail", args=[pk]) + "#history",
            )
            if done is not None:
                return done
    else:
        form = SubjectEditForm(
            initial=SubjectEditForm.initial_for(subject) | {"version": subject.version},
            **kwargs,
        )
    with site_timezone(subject.site):
        return render(
            request,
            "portal/subject_edit.html",
            {"subject": subject, "form": form, **stale},
        )
