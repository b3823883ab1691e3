"""The medical monitor's pages. Each view parses the filters, authorises, calls one selector or
committee service, and renders (or downloads the page's table as CSV); the dashboards share that
course in `_dashboard`."""

from __future__ import annotations

import re
from functools import partial

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ObjectDoesNotExist
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods

from accounts.scoping import monitoring_studies, only_study_roles
from core.errors import PermissionDenied, StaleRecord, ValidationError
from core.exports import csv_text
from core.forms import apply_service_errors, stale_edit
from escalation.committee import committee_confirm, committee_override
from escalation.models import CommitteeDecision
from escalation.selectors import (
    decision_history,
    track_recommendation,
    visible_recommendation,
    visible_track,
)
from quality.selectors import study_lock_state
from safety.models import AdverseEvent
from safety.selectors import visible_adverse_event
from safety.services import adverse_event_adjudicate

from . import tables
from .forms import (
    ADJUDICATION_FIELDS,
    COMMITTEE_FIELDS,
    AdjudicationForm,
    ConfirmForm,
    OverrideForm,
)
from .pages.ae_tables import ae_tables
from .pages.committee import committee_page, outcome_word, recommendation_review, study_choices
from .pages.listings import FORM_LISTINGS, LISTING_PAGE_PARAMS, form_listing
from .pages.listings import listings as listings_page
from .pages.notifications import NOTIFICATION_KINDS, recent_alerts
from .pages.notifications import notifications as notifications_page
from .pages.overview import escalation_overview
from .pages.paging import page_number
from .pages.scope import can_adjudicate, can_sign, load_scope
from .pages.timeline import dlt_timeline

ONSET_HELP = "Adverse events by onset date."
FORM_DATE_HELP = "Records by their date (measured, sampled, assessed, started or contacted)."
NOTIFIED_HELP = "Notifications by the date they were recorded (UTC)."
WINDOW_HELP = "Subjects whose DLT window (or enrollment, before the first dose) meets the range."


def _dashboard(
    request, template: str, *, slug: str, build, date_help: str = "", context=None, fixed=None
):
    """The course every dashboard page takes: parse the filters against what the user may see
    (invalid: 400, and nothing is computed), build the page with `build(user, scope)`, then
    download one of its tables as CSV (`?format=csv&table=`) or render it, with what
    `context(scope, page)` adds (and `fixed`, which every rendering has)."""
    fixed = fixed or {}
    scope = load_scope(request.user, request.GET, date_help=date_help)
    if not scope.valid:
        return render(request, template, {"scope": scope, "page": None, **fixed}, status=400)
    page = build(request.user, scope)
    if request.GET.get("format") == "csv":
        return _csv(request, scope, page, slug)
    extra = context(scope, page) if context else {}
    return render(request, template, {"scope": scope, "page": page, **fixed, **extra})


def _downloading(request) -> bool:
    """A table's CSV is asked for: the page builds whole tables, not a page of them."""
    return request.GET.get("format") == "csv"


def _csv(request, scope, page, slug: str):
    """The page's table `?table=` as a CSV download, every cell neutralised."""
    table = request.GET.get("table", "")
    try:
        header, rows = page.csv(table)
    except KeyError:
        raise Http404("No such table on this page.") from None
    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    protocol = re.sub(r"[^A-Za-z0-9_.-]+", "_", scope.study.protocol_number)
    name = f"{protocol}-{slug}-{table}-{stamp}.csv"
    response = HttpResponse(csv_text(header, rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_GET
def overview(request):
    """Each track's dose levels: enrolled, evaluable, pending, DLTs; the ladder and the steps."""
    return _dashboard(
        request,
        "monitoring/overview.html",
        slug="escalation",
        date_help=WINDOW_HELP,
        build=escalation_overview,
        context=lambda scope, page: {
            "can_sign": can_sign(request.user, scope.study.pk),
            "alerts": recent_alerts(request.user, scope.study),
        },
    )


@login_required
@require_GET
def timeline(request):
    """One row per subject, grouped by cohort: DLT window, doses, AEs by grade, today; a page
    of subjects at a time (the CSV has them all)."""
    return _dashboard(
        request,
        "monitoring/timeline.html",
        slug="dlt-windows",
        date_help=WINDOW_HELP,
        build=partial(dlt_timeline, page=page_number(request.GET), whole=_downloading(request)),
    )


@login_required
@require_GET
def adverse_events(request):
    """Treatment-emergent AEs by SOC and term x worst grade, per dose level and regimen."""
    related_only = request.GET.get("view") == "related"
    compact = request.GET.get("grades") == "compact"
    columns = [c for c in tables.COLUMNS if not compact or c[0] in ("any", "ge3")]
    return _dashboard(
        request,
        "monitoring/adverse_events.html",
        slug="ae-table",
        date_help=ONSET_HELP,
        build=partial(ae_tables, related_only=related_only),
        context=lambda scope, page: {
            "related_only": related_only,
            "related_hidden": [("view", "related")] if related_only else [],
            "compact": compact,
            "columns": columns,
            "rows": tables.display_rows(page.table, [key for key, _ in columns]),
        },
    )


@login_required
@require_GET
def listings(request):
    """Listings of serious adverse events and of DLTs, each row linked to the casebook, and of
    dose deviations; a page of each at a time (the CSV has them all)."""
    return _dashboard(
        request,
        "monitoring/listings.html",
        slug="listing",
        date_help=ONSET_HELP,
        build=partial(
            listings_page,
            pages={name: page_number(request.GET, name) for name in LISTING_PAGE_PARAMS},
            download=_downloading(request),
        ),
        context=lambda scope, page: {
            "can_adjudicate": can_adjudicate(request.user, scope.study.pk),
            "form_listings": FORM_LISTINGS.values(),
        },
    )


@login_required
@require_GET
def form_listing_view(request, form: str):
    """One casebook form's records in the selection, a page at a time, with its CSV (every
    record of the selection)."""
    listing = FORM_LISTINGS.get(form)
    if listing is None:
        raise Http404("No listing of that form.")
    try:
        number = int(request.GET.get("page") or 1)
    except ValueError:
        number = 1
    return _dashboard(
        request,
        "monitoring/form_listing.html",
        slug="listing",
        date_help=FORM_DATE_HELP,
        build=partial(form_listing, form=form, page=number),
        fixed={"listing": listing, "form_listings": FORM_LISTINGS.values()},
        context=lambda scope, page: {
            "filter_fields": None if page.dated else ("study", "track", "dose_level", "site"),
        },
    )


@login_required
@require_GET
def committee(request):
    """The recommendations awaiting the committee, and the signed decisions."""
    return _dashboard(
        request,
        "monitoring/committee.html",
        slug="committee",
        build=committee_page,
        context=lambda scope, page: {
            "pending": page.pending,
            "decisions": page.decisions,
            "can_sign": can_sign(request.user, scope.study.pk),
            "filter_fields": ("study", "track"),
        },
    )


def _printed_name(user) -> str:
    """The name the signature will carry (as core.records.sign_record prints it)."""
    return user.get_full_name().strip() or user.get_username()


def _override_form(user, study, data=None, **kwargs) -> OverrideForm:
    """The override form, offering the study's dose levels, tracks and regimens."""
    levels, tracks, regimens = study_choices(user, study)
    return OverrideForm(
        data,
        prefix="override",
        levels=levels,
        tracks=tracks,
        regimens=regimens,
        unit=study.dose_unit,
        **kwargs,
    )


def _sign(request, form, service, **subject) -> CommitteeDecision | None:
    """Sign with `service` (committee_confirm or committee_override) once the form is valid:
    the decision, or None with the form's errors (the service's refusals on their fields)."""
    if not form.is_valid():
        return None
    try:
        return service(
            by=request.user,
            password=form.cleaned_data["password"],
            request=request,
            **subject,
            **form.service_arguments(),
        )
    except ValidationError as error:
        apply_service_errors(form, error, COMMITTEE_FIELDS)
        return None


def _review_context(request, recommendation, *, confirm_form=None, override_form=None):
    study = recommendation.track.study
    review = recommendation_review(request.user, recommendation)
    if override_form is None:
        initial = {
            "step": review.confirm_step or "",
            "dose_level": recommendation.dose_level_id,
            "n_subjects": recommendation.n_subjects or None,
        }
        override_form = _override_form(request.user, study, initial=initial)
    return {
        "review": review,
        "recommendation": recommendation,
        "study": study,
        "can_sign": can_sign(request.user, study.pk),
        "can_adjudicate": can_adjudicate(request.user, study.pk),
        "confirm_form": confirm_form or ConfirmForm(prefix="confirm"),
        "override_form": override_form,
        "printed_name": _printed_name(request.user),
        "history": decision_history(request.user, study, track=recommendation.track),
        # A locked study database takes no decision (docs/quality.md §5).
        "study_lock": study_lock_state(study),
    }


@login_required
@require_http_methods(["GET", "POST"])
def review(request, pk: int):
    """A recommendation with its evidence; the committee confirms or overrides it, signing."""
    try:
        recommendation = visible_recommendation(request.user, pk)
    except ObjectDoesNotExist:
        raise Http404("No such recommendation.") from None
    study = recommendation.track.study
    if request.method == "GET":
        return render(request, "monitoring/review.html", _review_context(request, recommendation))

    if not can_sign(request.user, study.pk):
        raise PermissionDenied("Only a member of the Safety Review Committee signs decisions.")
    action = request.POST.get("decision")
    if action == "confirm":
        form = ConfirmForm(request.POST, prefix="confirm")
        decision = _sign(request, form, committee_confirm, recommendation=recommendation)
        refused = {"confirm_form": form}
    elif action == "override":
        form = _override_form(request.user, study, request.POST)
        decision = _sign(request, form, committee_override, recommendation=recommendation)
        refused = {"override_form": form}
    else:
        raise Http404("Choose confirm or override.")
    if decision is not None:
        return _signed(request, decision, recommendation)
    context = _review_context(request, recommendation, **refused)
    return render(request, "monitoring/review.html", context, status=400)


@login_required
@require_http_methods(["GET", "POST"])
def track_decision(request, pk: int):
    """A decision on the committee's own initiative about a track (no recommendation asked for
    it): open the Q2W track at a cleared level, open an expansion cohort, pause or stop."""
    try:
        track = visible_track(request.user, pk)
    except ObjectDoesNotExist:
        raise Http404("No such track.") from None
    study = track.study
    if not can_sign(request.user, study.pk):
        raise PermissionDenied("Only a member of the Safety Review Committee signs decisions.")
    if request.method == "POST":
        form = _override_form(request.user, study, request.POST)
        decision = _sign(request, form, committee_override, track=track)
        if decision is not None:
            return _signed(request, decision, None)
        status = 400
    else:
        form = _override_form(request.user, study, initial={"step": "open_track"})
        status = 200
    return render(
        request,
        "monitoring/track_decision.html",
        {
            "track": track,
            "study": study,
            "form": form,
            "printed_name": _printed_name(request.user),
            "history": decision_history(request.user, study, track=track),
            "study_lock": study_lock_state(study),
        },
        status=status,
    )


def _signed(request, decision, recommendation):
    text = f"Decision signed: {outcome_word(decision)}, {decision.get_step_display().lower()}"
    if decision.opened_cohort is not None:
        cohort = decision.opened_cohort
        text += f". {cohort.label} is open for {cohort.planned_size} subject{'s' if cohort.planned_size != 1 else ''}."
    messages.success(request, text)
    if recommendation is not None:
        return redirect("monitoring:review", pk=recommendation.pk)
    return redirect(f"{reverse('monitoring:committee')}?study={decision.track.study_id}")


# --------------------------------------------------------------------------------------------
# The committee's DLT call


@login_required
@require_http_methods(["GET", "POST"])
def adjudicate(request, pk: int):
    """One adverse event's two DLT calls, and (for the committee) the form to make its own.

    The call goes through safety.services.adverse_event_adjudicate with the version the monitor
    saw: if the site changed the event since, nothing is saved and what changed is shown. The
    escalation evaluation re-runs after the commit, so the message says whether the track's
    recommendation changed, or that it may.
    """
    if not monitoring_studies(request.user):
        raise PermissionDenied("The DLT adjudication is for the study team.")
    try:
        event = visible_adverse_event(request.user, pk)
    except ObjectDoesNotExist:
        raise Http404("No such adverse event.") from None
    study_id = event.subject.study_id
    may_adjudicate = can_adjudicate(request.user, study_id)
    default_next = f"{reverse('monitoring:listings')}?study={study_id}"
    stale, status = None, 200
    if request.method == "POST":
        if not may_adjudicate:
            raise PermissionDenied(
                "Only a medical monitor of the Safety Review Committee adjudicates DLTs."
            )
        form = AdjudicationForm(request.POST)
        status = 400
        if form.is_valid():
            before, _ = track_recommendation(request.user, event)
            try:
                updated = adverse_event_adjudicate(
                    by=request.user,
                    adverse_event=event,
                    is_dlt=form.is_dlt,
                    note=form.cleaned_data["note"],
                    expected_version=form.cleaned_data["version"],
                )
            except StaleRecord as error:
                form, stale = _stale(request, error)
                event = visible_adverse_event(request.user, pk)
                status = 409
            except ValidationError as error:
                apply_service_errors(form, error, ADJUDICATION_FIELDS)
            else:
                updated = visible_adverse_event(request.user, updated.pk)
                after, owed = track_recommendation(request.user, updated)
                messages.success(request, _adjudicated(updated, before, after, owed))
                return redirect(_safe_next(request, form.cleaned_data["next"], default_next))
    else:
        form = AdjudicationForm(
            initial={
                "version": event.version,
                "call": _call_of(event),
                "next": request.GET.get("next", ""),
            }
        )
    current, owed = track_recommendation(request.user, event)
    return render(
        request,
        "monitoring/adjudicate.html",
        {
            "event": event,
            "subject": event.subject,
            "study": event.subject.study,
            "form": form,
            "can_adjudicate": may_adjudicate,
            "stale": stale,
            "current": current,
            "evaluation_owed": owed,
            "back": _safe_next(request, form["next"].value() or "", default_next),
        },
        status=status,
    )


def _call_of(event: AdverseEvent) -> str:
    if event.dlt_adjudicated is None:
        return ""
    return "dlt" if event.dlt_adjudicated else "not_dlt"


def _stale(request, error: StaleRecord) -> tuple[AdjudicationForm, dict]:
    """A call refused because the site changed the event meanwhile: the one stale-edit flow
    (core/forms.py) gives the form again, the monitor's call and note kept and the version now
    current (saving again is a deliberate act), and what changed, by whom and when."""
    return stale_edit(
        AdjudicationForm,
        request.POST,
        error,
        model=AdverseEvent,
        tz_name=error.record.subject.site.timezone,
        message="Someone changed this adverse event after you opened the page, so nothing "
        "was saved: check what changed (below), then save your call again.",
    )


def _safe_next(request, url: str, default: str) -> str:
    if url and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return default


def _words(call: bool | None) -> str:
    return "not adjudicated" if call is None else ("a DLT" if call else "not a DLT")


def _adjudicated(event: AdverseEvent, before, after, owed: bool) -> str:
    text = (
        f"The committee's DLT call is saved: {event.subject.subject_number} "
        f"{event.ctcae_term.term} grade {event.grade} is {_words(event.dlt_adjudicated)} "
        f"(the investigator's call, kept as it was: {_words(event.dlt_investigator)})."
    )
    if event.subject.cohort_id is None:
        return text + " The subject is in no cohort, so no escalation decision rests on it."
    track = event.subject.cohort.track.name
    if (before.pk if before else None) != (after.pk if after else None):
        was = f" (was \u201c{before.text}\u201d)" if before else ""
        now = f"\u201c{after.text}\u201d" if after else "none"
        return (
            f"{text} The escalation evaluation re-ran with this call and the recommendation on "
            f"{track} changed: now {now}{was}. Review it before the committee decides."
        )
    if owed:
        return (
            f"{text} The escalation evaluation of {track} re-runs with this call, so its "
            "recommendation may change: reload the overview in a moment."
        )
    kept = f": \u201c{after.text}\u201d" if after else ""
    return (
        f"{text} The escalation evaluation of {track} re-ran with this call; the "
        f"recommendation did not change{kept}."
    )


# --------------------------------------------------------------------------------------------
# Notifications


@login_required
@require_GET
def notifications(request):
    """Who was told what, when: every recorded notification of the study, newest first."""
    kind = request.GET.get("kind", "")
    if kind not in dict(NOTIFICATION_KINDS):
        kind = ""
    try:
        number = int(request.GET.get("page") or 1)
    except ValueError:
        number = 1
    return _dashboard(
        request,
        "monitoring/notifications.html",
        slug="notifications",
        date_help=NOTIFIED_HELP,
        build=partial(notifications_page, kind=kind, page=number),
        context=lambda scope, page: {
            "kind": kind,
            "kinds": NOTIFICATION_KINDS,
            "kind_hidden": [("kind", kind)] if kind else [],
            "filter_fields": ("study", "site", "date_from", "date_to"),
        },
    )


# --------------------------------------------------------------------------------------------
# After sign-in


@login_required
@require_GET
def after_sign_in(request):
    """Where signing in leads when no page was asked for (`?next=` wins, see LoginView): the
    safety dashboards for the study team whose roles all span the study; the portal's home
    page for everyone else (site roles, mixed roles, administrators)."""
    if only_study_roles(request.user):
        return redirect("monitoring:overview")
    return redirect("home")
