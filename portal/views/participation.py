"""The end of a subject's participation: end of treatment (the subject stays in follow-up), end
of study, death. Each page parses the form, calls its one service (which checks the rules and the
record's version) and shows the service's refusals on the fields, keeping what was typed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from accounts.roles import Capability
from core.dates import site_today
from core.errors import StaleRecord, ValidationError
from core.forms import apply_service_errors
from core.records import changes_since
from portal.forms import DeathForm, EndStudyForm, EndTreatmentForm
from subjects.models import Subject
from subjects.rules import Refused, Step, refusal
from subjects.services import subject_end_study, subject_end_treatment, subject_record_death

from .common import merge_stale, not_stale, require_capability, site_timezone, visible_subject


@dataclass(frozen=True)
class Page:
    """One step's page: `step` is the rule (subjects/rules.py) that decides whether it applies;
    `not_allowed` says why not, for the reason the rule gives."""

    form_class: type
    template: str
    step: Step
    not_allowed: Callable[[Subject, Refused], str]
    initial: Callable[[Subject, object], dict]
    save: Callable[..., Subject]
    done: Callable[[Subject], str]


def _record_step(request, pk: int, step: Page):
    subject = visible_subject(request.user, pk)
    require_capability(request.user, Capability.ENTER_DATA, subject)
    site = subject.site
    today = site_today(site.timezone)
    kwargs = {"site_today": today}
    stale = not_stale()
    refused = refusal(step.step, subject.rule_state)
    if request.method == "GET" and refused is not None:
        messages.info(request, step.not_allowed(subject, refused))
        return redirect("subject_detail", pk=pk)
    if request.method == "POST":
        form = step.form_class(request.POST, **kwargs)
        if form.is_valid():
            expected = form.cleaned_data["version"]
            try:
                updated = step.save(request.user, subject, form.cleaned_data)
            except StaleRecord as error:
                form, stale = merge_stale(step.form_class, request, error, Subject, site, kwargs)
            except ValidationError as error:
                if expected != subject.version:
                    # Refused because of what someone else saved meanwhile: show what changed.
                    stale_error = StaleRecord(
                        record=subject,
                        expected_version=expected,
                        changes=changes_since(subject, expected),
                    )
                    form, stale = merge_stale(
                        step.form_class, request, stale_error, Subject, site, kwargs
                    )
                apply_service_errors(form, error)
            else:
                messages.success(request, step.done(updated))
                return redirect(reverse("subject_detail", args=[pk]) + "#timeline")
    else:
        form = step.form_class(
            initial=step.initial(subject, today) | {"version": subject.version}, **kwargs
        )
    with site_timezone(site):
        return render(
            request,
            step.template,
            {
                "subject": subject,
                "form": form,
                "today": today,
                "last_dose": _last_dose(subject) if subject.is_enrolled else None,
                **stale,
            },
        )


def _last_dose(subject: Subject):
    return subject.dose_administrations.order_by("-administered_on").first()


END_TREATMENT = Page(
    form_class=EndTreatmentForm,
    template="portal/end_treatment.html",
    step=Step.END_TREATMENT,
    not_allowed=lambda s, _: (
        f"{s} is not on treatment ({s.get_status_display().lower()}): there is no treatment to end."
    ),
    initial=lambda s, today: {"end_of_treatment_date": today},
    save=lambda by, s, data: subject_end_treatment(
        by=by,
        subject=s,
        end_date=data["end_of_treatment_date"],
        reason_code=data["end_of_treatment_reason_code"],
        reason=data["end_of_treatment_reason"],
        expected_version=data["version"],
    ),
    done=lambda s: (
        f"End of treatment recorded for {s} on {s.end_of_treatment_date:%Y-%m-%d}: the subject "
        "is in follow-up. Keep reporting adverse events."
    ),
)

END_STUDY = Page(
    form_class=EndStudyForm,
    template="portal/end_study.html",
    step=Step.END_STUDY,
    not_allowed=lambda s, _: (
        f"{s} is {s.get_status_display().lower()}: only an enrolled subject ends the study."
    ),
    initial=lambda s, today: {"end_of_study_date": today},
    save=lambda by, s, data: subject_end_study(
        by=by,
        subject=s,
        end_date=data["end_of_study_date"],
        reason_code=data["end_of_study_reason_code"],
        reason=data["end_of_study_reason"],
        expected_version=data["version"],
    ),
    done=lambda s: f"End of study recorded for {s} on {s.end_of_study_date:%Y-%m-%d}.",
)

DEATH = Page(
    form_class=DeathForm,
    template="portal/death.html",
    step=Step.DEATH,
    not_allowed=lambda s, why: (
        f"A date of death ({s.death_date:%Y-%m-%d}) is already recorded for {s}; correct it "
        "with a reason."
        if why is Refused.DEATH_RECORDED
        else f"{s} is a screen failure: they are not followed after screening, so no date of "
        "death is recorded."
    ),
    initial=lambda s, today: {"death_date": None},
    save=lambda by, s, data: subject_record_death(
        by=by, subject=s, death_date=data["death_date"], expected_version=data["version"]
    ),
    done=lambda s: (
        f"Death recorded for {s} on {s.death_date:%Y-%m-%d}."
        + (
            " Treatment and study participation end on that date unless already ended."
            if s.is_enrolled
            else ""
        )
        + " If an adverse event was fatal, report it now with grade 5 and the outcome fatal."
    ),
)


@login_required
@require_http_methods(["GET", "POST"])
def end_treatment(request, pk: int):
    """End of treatment: the subject stops study drug and stays in follow-up."""
    return _record_step(request, pk, END_TREATMENT)


@login_required
@require_http_methods(["GET", "POST"])
def end_study(request, pk: int):
    """End of study (ends treatment the same day if it had not ended)."""
    return _record_step(request, pk, END_STUDY)


@login_required
@require_http_methods(["GET", "POST"])
def record_death(request, pk: int):
    """Date of death: an enrolled subject leaves treatment and the study on that date."""
    return _record_step(request, pk, DEATH)
