"""The quality pages: a subject's forms with their queries, verification, freeze, signature and
lock; the study's query report, SDV status, casebooks awaiting signature and database lock.
Each view authorises through the selectors (scoped), calls one service and redirects."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ObjectDoesNotExist
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.roles import Capability
from accounts.scoping import can
from core.errors import ValidationError

from . import selectors, services, two_factor
from .forms import CodeForm, QueryOpenForm, ReasonForm, RecordForm, SignForm, TextForm
from .models import Freeze, SubjectLock


def _subject(request, pk):
    try:
        return selectors.subject_for(request.user, pk)
    except ObjectDoesNotExist:
        raise Http404("No such subject.") from None


def _query(request, pk):
    try:
        return selectors.query_for(request.user, pk)
    except ObjectDoesNotExist:
        raise Http404("No such query.") from None


def _study(request):
    study_id = request.GET.get("study")
    study = selectors.study_for(
        request.user, int(study_id) if study_id and study_id.isdigit() else None
    )
    if study is None:
        raise Http404("No study.")
    return study


def _refused(request, error: ValidationError) -> None:
    for field, texts in error.message_dict.items():
        for text in texts:
            prefix = "" if field == "__all__" else f"{field.replace('_', ' ').capitalize()}: "
            messages.error(request, prefix + text)


def _back(subject, anchor: str = ""):
    return redirect(reverse("quality:subject", args=[subject.pk]) + anchor)


@login_required
@require_GET
def subject_page(request, pk: int):
    subject = _subject(request, pk)
    page = selectors.subject_quality(request.user, subject)
    return render(request, "quality/subject.html", {"page": page, "subject": subject})


def _run(request, subject, action, success: str, anchor: str = ""):
    try:
        action()
    except ValidationError as error:
        _refused(request, error)
    else:
        messages.success(request, success)
    return _back(subject, anchor)


@login_required
@require_POST
def query_open(request, pk: int):
    subject = _subject(request, pk)
    form = QueryOpenForm(request.POST)
    if not form.is_valid():
        _refused(request, ValidationError(form.errors))
        return _back(subject)
    data = form.cleaned_data
    return _run(
        request,
        subject,
        lambda: services.query_open(
            by=request.user,
            subject=subject,
            form=data["form"],
            record_id=data["record_id"],
            field=data["field"],
            text=data["text"],
        ),
        "Query opened.",
        f"#{data['form']}-{data['record_id']}",
    )


@login_required
@require_POST
def query_step(request, pk: int, step: str):
    query = _query(request, pk)
    form = TextForm(request.POST)
    text = form.cleaned_data["text"] if form.is_valid() else ""
    service = {
        "answer": services.query_answer,
        "close": services.query_close,
        "reopen": services.query_reopen,
    }.get(step)
    if service is None:
        raise Http404("No such step.")
    done = {"answer": "answered", "close": "closed", "reopen": "re-opened"}[step]
    return _run(
        request,
        query.subject,
        lambda: service(by=request.user, query=query, text=text),
        f"Query {query.pk} {done}.",
        f"#query-{query.pk}",
    )


@login_required
@require_POST
def run_checks(request, pk: int):
    subject = _subject(request, pk)

    def action():
        opened = services.edit_checks_run(by=request.user, subject=subject)
        messages.info(
            request, f"Edit checks run: {len(opened)} new quer{'y' if len(opened) == 1 else 'ies'}."
        )

    return _run(request, subject, action, "Edit checks are up to date.")


@login_required
@require_POST
def verify(request, pk: int):
    subject = _subject(request, pk)
    form = RecordForm(request.POST)
    if not form.is_valid():
        _refused(request, ValidationError(form.errors))
        return _back(subject)
    data = form.cleaned_data
    return _run(
        request,
        subject,
        lambda: services.sdv_verify(
            by=request.user,
            subject=subject,
            form=data["form"],
            record_id=data["record_id"],
            field=data["field"],
        ),
        "Verified against the source.",
        f"#{data['form']}-{data['record_id']}",
    )


@login_required
@require_POST
def freeze(request, pk: int):
    subject = _subject(request, pk)
    form = RecordForm(request.POST)
    reason = ReasonForm(request.POST)
    if not (form.is_valid() and reason.is_valid()):
        _refused(request, ValidationError(form.errors))
        return _back(subject)
    data = form.cleaned_data
    return _run(
        request,
        subject,
        lambda: services.form_freeze(
            by=request.user,
            subject=subject,
            form=data["form"],
            record_id=data["record_id"],
            reason=reason.cleaned_data["reason"],
        ),
        "Form frozen.",
        f"#{data['form']}-{data['record_id']}",
    )


@login_required
@require_POST
def unfreeze(request, pk: int):
    try:
        frozen = selectors.restrict(Freeze.objects.all(), request.user).get(pk=pk)
    except ObjectDoesNotExist:
        raise Http404("No such freeze.") from None
    form = ReasonForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    return _run(
        request,
        frozen.subject,
        lambda: services.form_unfreeze(by=request.user, freeze=frozen, reason=reason),
        "Form unfrozen.",
        f"#{frozen.form}-{frozen.record_id}",
    )


@login_required
@require_POST
def lock_subject(request, pk: int):
    subject = _subject(request, pk)
    form = ReasonForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    return _run(
        request,
        subject,
        lambda: services.subject_lock(by=request.user, subject=subject, reason=reason),
        f"{subject} locked.",
    )


@login_required
@require_POST
def unlock_subject(request, pk: int):
    subject = _subject(request, pk)
    lock = SubjectLock.objects.filter(subject=subject, unlocked_at__isnull=True).first()
    if lock is None:
        messages.error(request, f"{subject} is not locked.")
        return _back(subject)
    form = ReasonForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    return _run(
        request,
        subject,
        lambda: services.subject_unlock(by=request.user, lock=lock, reason=reason),
        f"{subject} unlocked.",
    )


@login_required
@require_http_methods(["GET", "POST"])
def sign(request, pk: int):
    """The investigator signs the casebook: user name (first signing of the session) and
    password, the statement and the meaning shown before signing."""
    subject = _subject(request, pk)
    if not can(
        request.user, Capability.SIGN_CASEBOOK, study_id=subject.study_id, site_id=subject.site_id
    ):
        raise Http404("No such page.")
    first = not request.session.get(services.SIGNED_IN_SESSION)
    form = SignForm(request.POST or None, first_in_session=first)
    if request.method == "POST" and form.is_valid():
        try:
            services.casebook_sign(
                by=request.user,
                subject=subject,
                password=form.cleaned_data["password"],
                username=form.cleaned_data.get("username"),
                first_in_session=first,
                request=request,
            )
        except ValidationError as error:
            for field, texts in error.message_dict.items():
                for text in texts:
                    form.add_error(field if field in form.fields else None, text)
        else:
            messages.success(request, f"Casebook of {subject} signed.")
            return _back(subject, "#signature")
    return render(
        request,
        "quality/sign.html",
        {
            "subject": subject,
            "form": form,
            "statement": services.CASEBOOK_STATEMENT,
            "printed_name": request.user.get_full_name().strip() or request.user.get_username(),
            "page": selectors.subject_quality(request.user, subject),
        },
        status=400 if form.errors else 200,
    )


@login_required
@require_GET
def query_report(request):
    study = _study(request)
    report = selectors.query_report(request.user, study)
    return render(request, "quality/queries.html", {"report": report, "study": study})


@login_required
@require_GET
def sdv_report(request):
    study = _study(request)
    status = selectors.sdv_status(request.user, study)
    return render(request, "quality/sdv.html", {"status": status, "study": study})


@login_required
@require_GET
def signatures(request):
    study = _study(request)
    waiting = list(selectors.awaiting_signature(request.user, study))
    return render(request, "quality/signatures.html", {"waiting": waiting, "study": study})


@login_required
@require_http_methods(["GET", "POST"])
def study_lock(request):
    study = _study(request)
    lock = selectors.study_lock_state(study)
    if request.method == "POST":
        form = ReasonForm(request.POST)
        reason = form.cleaned_data["reason"] if form.is_valid() else ""
        step = request.POST.get("step")
        try:
            if step == "lock":
                services.study_lock(by=request.user, study=study, reason=reason)
                messages.success(request, "The study database is locked.")
            elif step == "request" and lock is not None:
                services.study_unlock_request(by=request.user, lock=lock, reason=reason)
                messages.success(request, "Unlock asked: another person confirms it.")
            elif step == "unlock" and lock is not None:
                services.study_unlock(by=request.user, lock=lock, reason=reason)
                messages.success(request, "The study database is unlocked.")
            else:
                messages.error(request, "Nothing to do.")
        except ValidationError as error:
            _refused(request, error)
        return redirect(reverse("quality:study_lock") + f"?study={study.pk}")
    return render(
        request,
        "quality/study_lock.html",
        {
            "study": study,
            "lock": lock,
            "may_lock": can(request.user, Capability.LOCK_DATA, study_id=study.pk),
            "may_unlock": can(request.user, Capability.UNLOCK_STUDY, study_id=study.pk),
        },
    )


def _safe_next(request) -> str:
    from django.utils.http import url_has_allowed_host_and_scheme

    target = request.POST.get("next") or request.GET.get("next") or "/"
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return "/"
    return target


@login_required
@require_http_methods(["GET", "POST"])
def two_factor_page(request):
    """Set up the authenticator (the first time) or give its code (docs/quality.md §7)."""
    device = two_factor.confirmed_device(request.user)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        code = form.cleaned_data["code"]
        try:
            if device is None:
                codes = two_factor.confirm_setup(request, code)
                return render(
                    request,
                    "quality/recovery_codes.html",
                    {"codes": codes, "next": _safe_next(request)},
                )
            two_factor.verify(request, code)
        except ValidationError as error:
            for texts in error.message_dict.values():
                for text in texts:
                    form.add_error("code", text)
        else:
            return redirect(_safe_next(request))
    context = {"form": form, "next": _safe_next(request), "setting_up": device is None}
    if device is None:
        pending = two_factor.pending_device(request.user)
        context |= {"key": _base32(pending.bin_key), "config_url": pending.config_url}
    return render(request, "quality/two_factor.html", context, status=400 if form.errors else 200)


def _base32(key: bytes) -> str:
    from base64 import b32encode

    text = b32encode(key).decode()
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))


def _date(value: str | None):
    from datetime import date

    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


@login_required
@require_GET
def audit_report(request):
    """The audit trail, per subject or study, filterable by user, form and date; ?format=csv
    exports the same rows (docs/quality.md §8)."""
    from django.http import HttpResponse

    from core.exports import csv_text

    from . import audit

    study = _study(request)
    subject = request.GET.get("subject", "")
    filters = audit.AuditFilters(
        subject_id=int(subject) if subject.isdigit() else None,
        username=request.GET.get("user", "").strip(),
        form=request.GET.get("form", "") if request.GET.get("form") in dict(audit.forms()) else "",
        date_from=_date(request.GET.get("from")),
        date_to=_date(request.GET.get("to")),
    )
    entries = audit.audit_trail(request.user, study, filters)
    if request.GET.get("format") == "csv":
        response = HttpResponse(
            csv_text(audit.CSV_HEADER, audit.csv_rows(entries)), content_type="text/csv"
        )
        response["Content-Disposition"] = (
            f'attachment; filename="audit-trail-{study.protocol_number}.csv"'
        )
        return response
    return render(
        request,
        "quality/audit.html",
        {
            "study": study,
            "entries": entries[:AUDIT_PAGE_ROWS],
            "total": len(entries),
            "filters": filters,
            "forms": audit.forms(),
            "query_string": request.GET.urlencode(),
            "page_rows": AUDIT_PAGE_ROWS,
        },
    )


AUDIT_PAGE_ROWS = 500
