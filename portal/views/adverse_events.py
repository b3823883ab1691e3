"""Adverse events graded by CTCAE v5.0: term search (term or MedDRA code, with its SOC), the
grades that exist for the chosen term with their CTCAE text, seriousness, relationship, action,
outcome and the investigator's DLT call. Works without JavaScript (Search and Show grades
buttons re-render the page); htmx makes both live."""

from datetime import UTC

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.roles import Capability
from accounts.scoping import can, restrict
from core.dates import site_today
from core.errors import StaleRecord, ValidationError
from core.forms import apply_service_errors, as_int
from escalation.models import Notification
from portal.forms import AdverseEventEditForm, AdverseEventForm
from safety.models import AdverseEvent, CtcaeTerm
from safety.selectors import search_terms
from safety.services import (
    adverse_event_report,
    adverse_event_update,
    adverse_event_void,
    attest_dlt_call,
)
from subjects.rules import Refused, Step, refusal

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

REDISPLAY_ACTIONS = frozenset({"search", "grades"})


def _term(term_id):
    if term_id is None:
        return None
    return CtcaeTerm.objects.filter(pk=term_id).first()


def grade_choices(term: CtcaeTerm | None) -> list[tuple[int, str]]:
    """The grades the term defines, each with its CTCAE text; all five, untitled, before a term
    is chosen (without JavaScript the term is only known on submit)."""
    if term is None:
        return [(g, "") for g in (1, 2, 3, 4, 5)]
    return [(g, term.grade_text(g)) for g in term.grades]


def _chosen_first(results: list[CtcaeTerm], selected: CtcaeTerm | None) -> list[CtcaeTerm]:
    """The search results with the chosen term at the top, whatever the query."""
    if selected is not None and all(t.pk != selected.pk for t in results):
        return [selected, *results]
    return results


def _term_context(form) -> dict:
    selected = _term(form.selected_term_id())
    query = form.data.get("term_query", "")  # an unbound form's data is empty
    results = search_terms(query) if query else []
    return {
        "selected_term": selected,
        "results": _chosen_first(results, selected),
        "term_query": query,
        "grades": grade_choices(selected),
        "selected_grade": form.selected_grade(),
    }


@login_required
@require_GET
def ctcae_search(request):
    """htmx: matching terms as a radio list (the chosen term stays at the top)."""
    query = request.GET.get("term_query", "")
    selected = _term(as_int(request.GET.get("ctcae_term")))
    return render(
        request,
        "portal/_term_results.html",
        {
            "results": _chosen_first(search_terms(query), selected),
            "selected_term": selected,
            "term_query": query,
        },
    )


@login_required
@require_GET
def ctcae_grades(request):
    """htmx: the grade choices of the chosen term, each with its CTCAE v5.0 text."""
    term = _term(as_int(request.GET.get("ctcae_term")))
    return render(
        request,
        "portal/_grades.html",
        {
            "selected_term": term,
            "grades": grade_choices(term),
            "selected_grade": as_int(request.GET.get("grade")),
            "swap": True,
        },
    )


def _notice_for(request, event: AdverseEvent, verb: str) -> None:
    """Say what was saved; for an SAE or a DLT, say who is told and whether the e-mail has gone
    (the escalation service records the monitors' notifications in the same transaction as the
    event; the e-mail follows after commit, or from the sweep when the queue is down)."""
    flags = []
    if event.serious:
        flags.append("serious (SAE)")
    if event.is_dlt:
        flags.append("a DLT")
    text = f"{event.ctcae_term.term}, grade {event.grade}, {verb}."
    if not flags:
        messages.success(request, text)
        return
    by_recipient: dict = {}
    for n in restrict(
        Notification.objects.filter(key=f"ae:{event.pk}").select_related("recipient"),
        request.user,
    ):
        by_recipient.setdefault(n.recipient, []).append(n)
    sent, queued, app_only = [], [], []
    for recipient, notes in sorted(by_recipient.items(), key=lambda item: _name(item[0])):
        if not recipient.email:
            app_only.append(_name(recipient))
        elif all(n.sent_at is not None for n in notes):
            at = max(n.sent_at for n in notes).astimezone(UTC)
            sent.append(f"{_name(recipient)} at {at:%Y-%m-%d %H:%M} UTC")
        else:
            queued.append(_name(recipient))
    told = []
    if sent:
        told.append(f"the medical monitor was notified ({'; '.join(sent)})")
    if queued:
        told.append(
            f"the medical monitor will be notified ({', '.join(queued)}): the e-mail is queued"
        )
    if app_only:
        told.append(f"{', '.join(app_only)} will see it in the app (no e-mail address)")
    if not told:
        told.append(
            "no medical monitor is assigned to this study in the system, so tell the study's "
            "medical monitor directly"
        )
    messages.warning(
        request,
        f"{text} It is {' and '.join(flags)}: {'; '.join(told)}. An SAE must reach the monitor "
        "within 24 hours.",
    )


def _name(user) -> str:
    return user.get_full_name() or user.username


def _can_attest(user, subject) -> bool:
    return can(user, Capability.ATTEST_DLT, study_id=subject.study_id, site_id=subject.site_id)


def _form_kwargs(user, subject) -> dict:
    """The DLT call only for a user who may assess it; no date after the site's today."""
    return {
        "can_assess_dlt": can(
            user, Capability.ASSESS_DLT, study_id=subject.study_id, site_id=subject.site_id
        ),
        "site_today": site_today(subject.site.timezone),
    }


@login_required
@require_http_methods(["GET", "POST"])
def adverse_event_new(request, pk: int):
    subject = visible_subject(request.user, pk)
    require_capability(request.user, Capability.ENTER_DATA, subject)
    refused = refusal(Step.ADVERSE_EVENT, subject.rule_state)
    if request.method == "GET" and refused is not None:
        messages.info(
            request,
            f"{subject} is a screen failure: no adverse events are collected."
            if refused is Refused.SCREEN_FAILED
            else f"Adverse events are collected from informed consent, which is not recorded "
            f"yet for {subject}.",
        )
        return redirect("subject_detail", pk=pk)
    kwargs = _form_kwargs(request.user, subject)
    if request.method == "POST":
        form = AdverseEventForm(request.POST, **kwargs)
        with site_timezone(subject.site):  # the awareness time is typed in the site's time
            saving = valid_to_save(request, form, REDISPLAY_ACTIONS)
        if saving:
            try:
                event = adverse_event_report(
                    by=request.user, subject=subject, **form.report_kwargs()
                )
            except ValidationError as error:
                apply_service_errors(form, error)
            else:
                _notice_for(request, event, "reported")
                return redirect(reverse("subject_detail", args=[pk]) + f"#ae-{event.pk}")
    else:
        form = AdverseEventForm(initial={"onset_date": None}, **kwargs)
    with site_timezone(subject.site):
        return render(
            request,
            "portal/ae_form.html",
            {
                "subject": subject,
                "form": form,
                "editing": None,
                "can_attest": _can_attest(request.user, subject),
                **_term_context(form),
            },
        )


def _event(request, pk):
    return scoped_record(
        request.user,
        AdverseEvent.objects.select_related(
            "subject__site", "subject__study", "subject__cohort", "ctcae_term"
        ),
        pk,
    )


@login_required
@require_http_methods(["GET", "POST"])
def adverse_event_edit(request, pk: int):
    """Correct an adverse event with a reason; a stale form is refused with what changed."""
    event = _event(request, pk)
    subject = event.subject
    require_capability(request.user, Capability.EDIT_DATA, subject)
    kwargs = _form_kwargs(request.user, subject)
    stale = not_stale()
    if request.method == "POST":
        form = AdverseEventEditForm(request.POST, **kwargs)
        with site_timezone(subject.site):  # the awareness time is typed in the site's time
            saving = valid_to_save(request, form, REDISPLAY_ACTIONS)
        if saving:
            done, form, stale = save_correction(
                request,
                form,
                update=lambda **kw: adverse_event_update(
                    by=request.user, adverse_event=event, **kw
                ),
                model=AdverseEvent,
                site=subject.site,
                form_kwargs=kwargs,
                saved=lambda updated: _notice_for(
                    request, updated, f"corrected (version {updated.version})"
                ),
                then=reverse("subject_detail", args=[subject.pk]) + f"#ae-{event.pk}",
            )
            if done is not None:
                return done
    else:
        initial = AdverseEventForm.initial_for(event)
        initial |= {"ctcae_term": event.ctcae_term_id, "version": event.version}
        form = AdverseEventEditForm(initial=initial, **kwargs)
    with site_timezone(subject.site):
        return render(
            request,
            "portal/ae_form.html",
            {
                "subject": subject,
                "form": form,
                "editing": event,
                "can_attest": _can_attest(request.user, subject),
                **stale,
                **_term_context(form),
            },
        )


@login_required
@require_POST
def adverse_event_attest(request, pk: int):
    """The investigator attests the DLT call proposed on the event (docs/safety.md §8): one
    button on the casebook, carrying the version the investigator saw."""
    event = _event(request, pk)
    subject = event.subject
    require_capability(request.user, Capability.ATTEST_DLT, subject)
    then = reverse("subject_detail", args=[subject.pk]) + f"#ae-{event.pk}"
    try:
        attest_dlt_call(
            by=request.user,
            adverse_event=event,
            expected_version=as_int(request.POST.get("version")),
        )
    except StaleRecord:
        messages.error(
            request,
            "The adverse event changed since this page was opened: read it again, then attest.",
        )
    except ValidationError as error:
        messages.error(request, " ".join(m for ms in error.message_dict.values() for m in ms))
    else:
        messages.success(
            request, f"DLT call on {event.ctcae_term.term}, grade {event.grade}, attested."
        )
    return redirect(then)


@login_required
@require_http_methods(["GET", "POST"])
def adverse_event_void_view(request, pk: int):
    event = _event(request, pk)
    return void_page(
        request,
        record=event,
        subject=event.subject,
        void=lambda **kw: adverse_event_void(by=request.user, adverse_event=event, **kw),
        noun="adverse event",
        what=f"adverse event {event.ctcae_term.term}, grade {event.grade} "
        f"(onset {event.onset_date:%Y-%m-%d})",
        done=f"{event.ctcae_term.term} voided.",
        anchor="#adverse-events",
    )
