"""Visit pages: a subject's calendar, a visit as the entry point of its forms, the forms, the
lab result reported as an adverse event, and the monitor's missing-forms report and lab
listing. Thin: reads through visits/selectors.py, writes through visits/services.py."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ObjectDoesNotExist
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from accounts.roles import Capability
from accounts.scoping import can, member_study_ids, restrict
from core.dates import site_today
from core.errors import PermissionDenied, ValidationError
from portal.forms import apply_errors
from portal.views.common import (
    not_stale,
    require_capability,
    save_correction,
    scoped_record,
    site_timezone,
    void_page,
)
from safety.models import AdverseEvent
from trial.models import Study

from . import selectors, services
from .forms import (
    CancerHistoryCorrectionForm,
    CancerHistoryForm,
    ConcomitantMedicationForm,
    EcgForm,
    EcogForm,
    LabAdverseEventForm,
    LabResultForm,
    MedicalHistoryForm,
    PriorTherapyCorrectionForm,
    PriorTherapyForm,
    SurvivalContactForm,
    VisitForm,
    VitalSignsForm,
)
from .models import CancerHistory, PriorCancerTherapy, Visit
from .schedules import FORMS


def _subject(request, pk: int, capability=Capability.VIEW):
    try:
        subject = selectors.subject(request.user, pk)
    except ObjectDoesNotExist:
        raise Http404("No such subject.") from None
    if capability is not Capability.VIEW and not can(
        request.user, capability, study_id=subject.study_id, site_id=subject.site_id
    ):
        raise PermissionDenied(
            f"Your role does not allow '{capability.value.replace('_', ' ')}' for this subject."
        )
    return subject


def _visit(request, pk: int, capability=Capability.ENTER_DATA) -> Visit:
    try:
        visit = selectors.visit(request.user, pk)
    except ObjectDoesNotExist:
        raise Http404("No such visit.") from None
    _subject(request, visit.subject_id, capability)
    return visit


def _may_enter(request, subject) -> bool:
    return can(
        request.user, Capability.ENTER_DATA, study_id=subject.study_id, site_id=subject.site_id
    )


@login_required
@require_GET
def subject_calendar(request, pk: int):
    """The subject's visits: due, overdue, done, missed, not yet due, with the forms missing."""
    subject = _subject(request, pk)
    book = selectors.calendar(request.user, pk)
    return render(
        request,
        "visits/calendar.html",
        {
            "subject": subject,
            "book": book,
            "cancer_history": selectors.cancer_history(request.user, subject),
            "therapies": list(selectors.prior_therapies(request.user, subject)),
            "can_enter": _may_enter(request, subject),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def visit_page(request, pk: int, code: str):
    """A visit: record it (date, or not done), then see and fill its forms."""
    subject = _subject(request, pk)
    code = code.upper()
    book = selectors.calendar(request.user, pk)
    row = next((r for r in book.rows if r.visit.code == code), None)
    visit = Visit.objects.filter(subject=subject, code=code).first()
    if row is None and visit is None and not services.UNSCHEDULED.match(code):
        raise Http404("No such visit in the subject's calendar.")
    today = site_today(subject.site.timezone)
    form = None
    if visit is None:
        if request.method == "POST":
            _subject(request, pk, Capability.ENTER_DATA)
            form = VisitForm(request.POST, site_today=today)
            if form.is_valid():
                try:
                    visit = services.visit_record(
                        by=request.user, subject=subject, code=code, **form.cleaned_data
                    )
                except ValidationError as error:
                    apply_errors(form, error)
                else:
                    messages.success(request, f"{code} recorded.")
                    return redirect("visits:visit", pk=pk, code=code)
        else:
            initial = {}
            if row is not None and row.visit.done_on:
                initial["visit_date"] = row.visit.done_on
            form = VisitForm(initial=initial, site_today=today)
    entered = selectors.visit_forms(request.user, visit) if visit else {}
    return render(
        request,
        "visits/visit.html",
        {
            "subject": subject,
            "code": code,
            "row": row,
            "visit": visit,
            "form": form,
            "entered": entered,
            "expected": [(c, FORMS[c]) for c in (row.visit.forms if row else ())],
            "can_enter": _may_enter(request, subject),
        },
    )


def _form_page(
    request, pk: int, *, form_class, service, template: str, title: str, kwargs=None, extra=None
):
    visit = _visit(request, pk)
    subject = visit.subject
    today = site_today(subject.site.timezone)
    extra = extra(request, subject) if extra else {}
    if request.method == "POST":
        form = form_class(request.POST, site_today=today, **extra)
        if form.is_valid():
            data = form.service_kwargs() if hasattr(form, "service_kwargs") else form.cleaned_data
            try:
                record = service(by=request.user, subject=subject, visit=visit, **data)
            except ValidationError as error:
                apply_errors(form, error)
            else:
                messages.success(request, f"{title} saved for {visit.code}.")
                anchor = f"#{record._meta.model_name}-{record.pk}"
                return redirect(
                    reverse("visits:visit", kwargs={"pk": subject.pk, "code": visit.code}) + anchor
                )
    else:
        form = form_class(initial=dict(kwargs or {}), site_today=today, **extra)
        for name in ("measured_on", "sampled_on", "assessed_on", "recorded_on", "contact_date"):
            if name in form.fields:
                form.fields[name].initial = visit.visit_date
    return render(
        request,
        template,
        {"subject": subject, "visit": visit, "form": form, "title": title},
    )


def _form_view(form_class, service, title: str, extra=None):
    """The page entering one form at a visit (`_form_page`): each form names its own form
    class, service and title."""

    @login_required
    @require_http_methods(["GET", "POST"])
    def view(request, pk: int):
        return _form_page(
            request,
            pk,
            form_class=form_class,
            service=service,
            template="visits/form.html",
            title=title,
            extra=extra,
        )

    return view


def _subject_events(request, subject) -> dict:
    return {"events": restrict(AdverseEvent.objects.filter(subject=subject), request.user)}


vital_signs_new = _form_view(VitalSignsForm, services.vital_signs_record, "Vital signs")
lab_new = _form_view(LabResultForm, services.lab_result_record, "Lab result")
ecog_new = _form_view(EcogForm, services.ecog_record, "ECOG performance status")
ecg_new = _form_view(EcgForm, services.ecg_record, "12-lead ECG")
survival_new = _form_view(
    SurvivalContactForm,
    services.survival_contact_record,
    "Survival follow-up contact",
    extra=_subject_events,
)


@login_required
@require_http_methods(["GET", "POST"])
def lab_adverse_event(request, pk: int):
    """A graded lab result reported as an adverse event: the term, grade and onset are
    suggested; the coordinator checks them and fills the rest; nothing happens until they
    confirm."""
    try:
        lab = selectors.lab_result(request.user, pk)
    except ObjectDoesNotExist:
        raise Http404("No such lab result.") from None
    subject = _subject(request, lab.subject_id, Capability.ENTER_DATA)
    suggestion = services.suggested_adverse_event(lab)
    back = reverse("visits:visit", kwargs={"pk": subject.pk, "code": lab.visit.code})
    if suggestion is None:
        messages.info(request, "This result has no graded abnormality to report, or is reported.")
        return redirect(back)
    term = suggestion["ctcae_term"]
    grades = [(g, f"Grade {g}: {term.grade_text(g)}") for g in term.grades]
    today = site_today(subject.site.timezone)
    if request.method == "POST":
        form = LabAdverseEventForm(request.POST, grades=grades, site_today=today)
        if form.is_valid():
            data = dict(form.cleaned_data)
            version = data.pop("version")
            try:
                event = services.lab_result_report_adverse_event(
                    by=request.user, lab_result=lab, expected_version=version, **data
                )
            except ValidationError as error:
                apply_errors(form, error)
            else:
                messages.success(
                    request,
                    f"{event.ctcae_term.term}, grade {event.grade}, reported from the "
                    f"{lab.get_test_display()} result of {lab.sampled_on}.",
                )
                return redirect(reverse("subject_detail", args=[subject.pk]) + f"#ae-{event.pk}")
    else:
        form = LabAdverseEventForm(
            initial={
                "verbatim_term": suggestion["verbatim_term"],
                "grade": suggestion["grade"],
                "onset_date": suggestion["onset_date"],
                "version": lab.version,
            },
            grades=grades,
            site_today=today,
        )
    return render(
        request,
        "visits/lab_adverse_event.html",
        {"subject": subject, "lab": lab, "term": term, "form": form, "back": back},
    )


def _study(request) -> Study:
    ids = sorted(member_study_ids(request.user))
    if not ids:
        raise Http404("You are not a member of any study.")
    wanted = request.GET.get("study")
    chosen = int(wanted) if wanted and wanted.isdigit() and int(wanted) in ids else ids[0]
    return Study.objects.get(pk=chosen)


@login_required
@require_GET
def missing_forms(request):
    """Study-wide (in the user's scope): the forms due and not entered, by site."""
    study = _study(request)
    report = selectors.missing_forms(request.user, study.pk)
    return render(request, "visits/missing_forms.html", {"study": study, "report": report})


@login_required
@require_GET
def lab_listing(request):
    """Every lab result in the user's scope with its CTCAE grade (the monitor's listing)."""
    study = _study(request)
    rows = selectors.lab_listing(request.user, study.pk)
    flags = selectors.neutropenia_flags(request.user, study.pk)
    return render(
        request, "visits/lab_listing.html", {"study": study, "rows": rows, "flags": flags}
    )


@login_required
@require_http_methods(["GET", "POST"])
def medications(request, pk: int):
    """The subject's concomitant medications, and the form to add one."""
    subject = _subject(request, pk)
    events = restrict(AdverseEvent.objects.filter(subject=subject), request.user)
    today = site_today(subject.site.timezone)
    form = ConcomitantMedicationForm(events=events, site_today=today)
    if request.method == "POST":
        _subject(request, pk, Capability.ENTER_DATA)
        form = ConcomitantMedicationForm(request.POST, events=events, site_today=today)
        if form.is_valid():
            try:
                record = services.concomitant_medication_record(
                    by=request.user, subject=subject, **form.cleaned_data
                )
            except ValidationError as error:
                apply_errors(form, error)
            else:
                messages.success(request, f"{record.medication} recorded.")
                return redirect(reverse("visits:medications", args=[pk]) + f"#cm-{record.pk}")
    return render(
        request,
        "visits/medications.html",
        {
            "subject": subject,
            "form": form,
            "rows": selectors.medications(request.user, subject),
            "can_enter": _may_enter(request, subject),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def medical_history(request, pk: int):
    """The subject's medical history, and the form to add a condition."""
    subject = _subject(request, pk)
    today = site_today(subject.site.timezone)
    form = MedicalHistoryForm(site_today=today)
    if request.method == "POST":
        _subject(request, pk, Capability.ENTER_DATA)
        form = MedicalHistoryForm(request.POST, site_today=today)
        if form.is_valid():
            try:
                record = services.medical_history_record(
                    by=request.user, subject=subject, **form.cleaned_data
                )
            except ValidationError as error:
                apply_errors(form, error)
            else:
                messages.success(request, f"{record.term} recorded.")
                return redirect(reverse("visits:medical_history", args=[pk]) + f"#mh-{record.pk}")
    return render(
        request,
        "visits/medical_history.html",
        {
            "subject": subject,
            "form": form,
            "rows": selectors.medical_history(request.user, subject),
            "can_enter": _may_enter(request, subject),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def cancer_history(request, pk: int):
    """The subject's cancer history (entered once, at screening), or the form to record it."""
    subject = _subject(request, pk)
    record = selectors.cancer_history(request.user, subject)
    today = site_today(subject.site.timezone)
    form = CancerHistoryForm(site_today=today) if record is None else None
    if request.method == "POST":
        _subject(request, pk, Capability.ENTER_DATA)
        form = CancerHistoryForm(request.POST, site_today=today)
        if form.is_valid():
            try:
                services.cancer_history_record(
                    by=request.user, subject=subject, **form.cleaned_data
                )
            except ValidationError as error:
                apply_errors(form, error)
            else:
                messages.success(request, "Cancer history recorded.")
                return redirect("visits:cancer_history", pk=pk)
    return render(
        request,
        "visits/cancer_history.html",
        {
            "subject": subject,
            "record": record,
            "form": form,
            "therapies": selectors.prior_therapies(request.user, subject),
            "voided": selectors.voided_cancer_histories(request.user, subject),
            "can_enter": _may_enter(request, subject),
            "can_edit": can(
                request.user,
                Capability.EDIT_DATA,
                study_id=subject.study_id,
                site_id=subject.site_id,
            ),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def prior_therapy(request, pk: int):
    """The subject's prior anticancer therapies, and the form to add one."""
    subject = _subject(request, pk)
    today = site_today(subject.site.timezone)
    form = PriorTherapyForm(site_today=today)
    if request.method == "POST":
        _subject(request, pk, Capability.ENTER_DATA)
        form = PriorTherapyForm(request.POST, site_today=today)
        if form.is_valid():
            try:
                record = services.prior_therapy_record(
                    by=request.user, subject=subject, **form.cleaned_data
                )
            except ValidationError as error:
                apply_errors(form, error)
            else:
                messages.success(request, f"{record.treatment} recorded.")
                return redirect(reverse("visits:prior_therapy", args=[pk]) + f"#pt-{record.pk}")
    return render(
        request,
        "visits/prior_therapy.html",
        {
            "subject": subject,
            "form": form,
            "rows": selectors.prior_therapies(request.user, subject),
            "voided": selectors.voided_prior_therapies(request.user, subject),
            "history": selectors.cancer_history(request.user, subject),
            "can_enter": _may_enter(request, subject),
            "can_edit": can(
                request.user,
                Capability.EDIT_DATA,
                study_id=subject.study_id,
                site_id=subject.site_id,
            ),
        },
    )


def _correction_page(request, *, record, form_class, update, title: str, back: str, saved: str):
    """Correct a subject-level history record with a reason, against the version the user saw:
    the shared correction flow (portal.views.common.save_correction), a stale form shown with
    what changed."""
    subject = record.subject
    require_capability(request.user, Capability.EDIT_DATA, subject)
    kwargs = {"site_today": site_today(subject.site.timezone)}
    stale = not_stale()
    if request.method == "POST":
        form = form_class(request.POST, **kwargs)
        if form.is_valid():
            done, form, stale = save_correction(
                request,
                form,
                update=update,
                model=type(record),
                site=subject.site,
                form_kwargs=kwargs,
                saved=lambda updated: messages.success(
                    request, f"{saved} corrected (version {updated.version})."
                ),
                then=back,
            )
            if done is not None:
                return done
    else:
        form = form_class(
            initial=form_class.initial_for(record) | {"version": record.version}, **kwargs
        )
    with site_timezone(subject.site):
        return render(
            request,
            "visits/history_correct.html",
            {"subject": subject, "form": form, "title": title, "back": back, **stale},
        )


def _history(request, pk: int) -> CancerHistory:
    return scoped_record(request.user, CancerHistory.objects.select_related("subject__site"), pk)


def _therapy(request, pk: int) -> PriorCancerTherapy:
    return scoped_record(
        request.user, PriorCancerTherapy.objects.select_related("subject__site"), pk
    )


@login_required
@require_http_methods(["GET", "POST"])
def cancer_history_edit(request, pk: int):
    """Correct the cancer history with a reason (docs/visits.md §11)."""
    record = _history(request, pk)
    return _correction_page(
        request,
        record=record,
        form_class=CancerHistoryCorrectionForm,
        update=lambda **kw: services.cancer_history_update(by=request.user, history=record, **kw),
        title="Correct the cancer history",
        back=reverse("visits:cancer_history", args=[record.subject_id]),
        saved="Cancer history",
    )


@login_required
@require_http_methods(["GET", "POST"])
def cancer_history_void(request, pk: int):
    """Void the cancer history with a reason: it stays on record, struck through, out of the
    listings and SDTM; a new one can then be recorded."""
    record = _history(request, pk)
    return void_page(
        request,
        record=record,
        subject=record.subject,
        void=lambda **kw: services.cancer_history_void(by=request.user, history=record, **kw),
        noun="cancer history",
        what=f"cancer history ({record.diagnosis}, diagnosed {record.diagnosis_date})",
        done="Cancer history voided.",
        anchor="",
        back=reverse("visits:cancer_history", args=[record.subject_id]),
    )


@login_required
@require_http_methods(["GET", "POST"])
def prior_therapy_edit(request, pk: int):
    """Correct a prior cancer therapy with a reason (docs/visits.md §11)."""
    record = _therapy(request, pk)
    return _correction_page(
        request,
        record=record,
        form_class=PriorTherapyCorrectionForm,
        update=lambda **kw: services.prior_therapy_update(by=request.user, therapy=record, **kw),
        title=f"Correct the prior therapy {record.treatment}",
        back=reverse("visits:prior_therapy", args=[record.subject_id]) + f"#pt-{record.pk}",
        saved=record.treatment,
    )


@login_required
@require_http_methods(["GET", "POST"])
def prior_therapy_void(request, pk: int):
    """Void a prior cancer therapy with a reason: struck through, out of listings and SDTM."""
    record = _therapy(request, pk)
    return void_page(
        request,
        record=record,
        subject=record.subject,
        void=lambda **kw: services.prior_therapy_void(by=request.user, therapy=record, **kw),
        noun="prior cancer therapy",
        what=f"prior therapy {record.treatment} ({record.start_date})",
        done=f"{record.treatment} voided.",
        anchor="",
        back=reverse("visits:prior_therapy", args=[record.subject_id]),
    )
