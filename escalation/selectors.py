"""Reads of the escalation state, scoped to the user through `accounts.scoping`: each subject's
DLT window and status, the recommendations, the committee's decisions, and which not-evaluable
subjects a new subject can replace.

The escalation evaluation stores each subject's DLT status (`subject.dlt_status`) and each track's
current recommendation; where the evaluation has not run yet, the DLT window is computed here from
the first dose with the study's day-count convention, and labelled as such.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import Q

from accounts.scoping import monitoring_studies, restrict
from safety.models import AdverseEvent
from subjects.models import Subject
from subjects.rules import cohort_takes
from subjects.selectors import place_holders
from trial.models import Cohort, DoseLevel, EscalationTrack, Study

from .models import CommitteeDecision, Recommendation, SubjectDltStatus, TrackEvaluationState
from .rules import dlt_window


@dataclass(frozen=True)
class DltInfo:
    """A subject's DLT window as the pages show it."""

    status: str  # SubjectDltStatus.Status value, or "" when only computed
    status_label: str
    start: date | None
    end: date | None
    is_open: bool
    reason: str = ""
    evaluated: bool = False  # True: from the escalation evaluation; False: computed here

    @property
    def summary(self) -> str:
        if self.start is None:
            return "Opens at the first dose"
        if self.is_open:
            return f"Open until {self.end:%Y-%m-%d}"
        return f"Closed {self.end:%Y-%m-%d}"

    @property
    def css(self) -> str:
        if self.status == SubjectDltStatus.Status.DLT:
            return "dlt"
        if self.status == SubjectDltStatus.Status.NOT_EVALUABLE:
            return "warn"
        return "open" if self.is_open else "closed"


def dlt_info(subject: Subject, doses: list, today: date) -> DltInfo | None:
    """From the evaluation's stored status when there is one, else computed from the doses."""
    if subject.cohort_id is None:
        return None
    stored = getattr(subject, "dlt_status", None)
    if stored is not None:
        open_ = stored.window_end is not None and today <= stored.window_end
        label = stored.get_status_display()
        if stored.status == SubjectDltStatus.Status.PENDING and stored.window_end and not open_:
            # The window ended since the last evaluation; the periodic sweep evaluates it.
            label = "Window complete, evaluation due"
        return DltInfo(
            status=stored.status,
            status_label=label,
            start=stored.window_start,
            end=stored.window_end,
            is_open=open_,
            reason=stored.reason,
            evaluated=True,
        )
    regimen = subject.cohort.track.regimen
    dates = [d.administered_on for d in doses]
    if not dates:
        return DltInfo(
            status="",
            status_label="Awaiting first dose",
            start=None,
            end=None,
            is_open=False,
        )
    window = dlt_window(min(dates), regimen.dlt_window_days, subject.study.dlt_window_convention)
    open_ = not window.is_complete(today)
    return DltInfo(
        status="",
        status_label="DLT window open" if open_ else "DLT window complete",
        start=window.start,
        end=window.end,
        is_open=open_,
    )


def dlt_window_span(
    stored: tuple[date | None, date | None] | None,
    first_dose_on: date | None,
    window_days: int,
    convention: str,
) -> tuple[date | None, date | None]:
    """The window `dlt_info` shows, from plain values (a page that places many subjects and
    draws a few): the evaluation's stored (start, end) when there is one, else the window the
    first dose opens, else none yet."""
    if stored is not None:
        return stored
    if first_dose_on is None:
        return None, None
    window = dlt_window(first_dose_on, window_days, convention)
    return window.start, window.end


def takes_replacement(cohort: Cohort) -> bool:
    """Can a new subject take a not-evaluable subject's place in this cohort? An open or full
    cohort of an active track (a full cohort accepts a replacement only)."""
    active = cohort.track.status == EscalationTrack.Status.ACTIVE
    return cohort_takes(cohort.status, active, replacing=True)


@dataclass
class ReplacementLine:
    """A subject found not evaluable and not yet replaced, whose cohort place a new subject can
    take (`subjects.services.subject_enroll(..., replaces=subject)` checks it again)."""

    subject: Subject
    cohort: Cohort
    reason: str  # why the escalation evaluation found the subject not evaluable
    recommendation: Recommendation | None  # the track's current recommendation

    @property
    def requested(self) -> bool:
        """Does the current recommendation name this subject for replacement?"""
        if self.recommendation is None:
            return False
        # The stored recommendation: the page shows its redacted text, but whether it names this
        # subject is read from what it says in full.
        stored = getattr(self.recommendation, "unredacted", self.recommendation)
        named = (stored.data or {}).get("subjects_to_replace") or []
        return self.subject.subject_number in named


def replacement_candidates(
    cohorts, recommendations: dict, hidden_numbers: frozenset[str] = frozenset()
) -> list[ReplacementLine]:
    """Not-evaluable, not-replaced subjects of the given cohorts whose place a new subject can
    take (`takes_replacement`). A cohort is the study's, so another site's subject can be
    replaced: its number names the place, but why it is not evaluable is that site's clinical
    fact and is not shown (`hidden_numbers`, docs/audit.md §5)."""
    taking = [c.pk for c in cohorts if takes_replacement(c)]
    if not taking:
        return []
    by_id = {c.pk: c for c in cohorts}
    subjects = (
        place_holders()
        .filter(
            cohort_id__in=taking,
            dlt_status__status=SubjectDltStatus.Status.NOT_EVALUABLE,
        )
        .select_related("dlt_status")
        .order_by("subject_number")
    )
    lines = [
        ReplacementLine(
            subject=subject,
            cohort=by_id[subject.cohort_id],
            reason=(
                "a subject of another site"
                if subject.subject_number in hidden_numbers
                else subject.dlt_status.reason or "not evaluable"
            ),
            recommendation=recommendations.get(by_id[subject.cohort_id].track_id),
        )
        for subject in subjects
    ]
    order = {pk: index for index, pk in enumerate(taking)}
    lines.sort(key=lambda line: order[line.cohort.pk])
    return lines


def track_levels(track: EscalationTrack, levels: list[DoseLevel]) -> list[DoseLevel]:
    """The levels open to the track, lowest first (as `EscalationTrack.dose_levels`, no query)."""
    low = track.lowest_dose_level.amount if track.lowest_dose_level_id else None
    high = track.highest_dose_level.amount if track.highest_dose_level_id else None
    return [
        lv
        for lv in levels
        if (low is None or lv.amount >= low) and (high is None or lv.amount <= high)
    ]


def dlt_status_of(subject: Subject) -> SubjectDltStatus | None:
    try:
        return subject.dlt_status
    except SubjectDltStatus.DoesNotExist:
        return None


STATUS_LABELS = dict(SubjectDltStatus.Status.choices) | {"unevaluated": "Not evaluated yet"}


def committee_decisions(user, study: Study):
    return (
        restrict(CommitteeDecision.objects.filter(track__study=study), user)
        .select_related(
            "recommendation",
            "track",
            "target_track",
            "dose_level",
            "opened_cohort__dose_level",
            "signature",
            "decided_by",
        )
        .order_by("decided_at", "pk")
    )


def pending_recommendations(user, study: Study) -> list[Recommendation]:
    return list(
        restrict(
            Recommendation.objects.filter(
                track__study=study, status=Recommendation.Status.PENDING
            ).select_related("track__regimen", "dose_level"),
            user,
        ).order_by("created_at")
    )


def decision_history(user, study: Study, *, track: EscalationTrack | None = None):
    decisions = committee_decisions(user, study).order_by("-decided_at", "-pk")
    if track is not None:
        decisions = decisions.filter(Q(track=track) | Q(target_track=track))
    return list(decisions)


def visible_recommendation(user, pk: int) -> Recommendation:
    """The recommendation if it is in one of the user's dashboard studies (else DoesNotExist)."""
    studies = [s.pk for s in monitoring_studies(user)]
    return (
        restrict(Recommendation.objects.filter(track__study_id__in=studies), user)
        .select_related("track__study", "track__regimen", "track__lowest_dose_level", "dose_level")
        .get(pk=pk)
    )


def visible_track(user, pk: int) -> EscalationTrack:
    """The track if it is in one of the user's dashboard studies (else DoesNotExist)."""
    studies = [s.pk for s in monitoring_studies(user)]
    return (
        restrict(EscalationTrack.objects.filter(study_id__in=studies), user)
        .select_related("study")
        .get(pk=pk)
    )


def track_recommendation(user, event: AdverseEvent) -> tuple[Recommendation | None, bool]:
    """The current recommendation of the event's subject's track, and whether the track still
    owes an evaluation (data changed since the last one). (None, False) outside a cohort."""
    cohort = event.subject.cohort
    if cohort is None:
        return None, False
    current = (
        restrict(Recommendation.objects.filter(track_id=cohort.track_id), user)
        .filter(status__in=Recommendation.CURRENT)
        .select_related("track")
        .first()
    )
    state = TrackEvaluationState.objects.filter(track_id=cohort.track_id).first()
    owed = state is not None and state.requested_at is not None
    return current, owed


def cohort_opened_by(cohort: Cohort) -> CommitteeDecision | None:
    """The committee decision that opened a cohort the caller already sees (None for the first)."""
    return (
        CommitteeDecision.objects.select_related("track", "decided_by", "signature")
        .filter(opened_cohort=cohort)
        .first()
    )


def cohort_recommendations(cohort: Cohort):
    """The track's recommendations made while this cohort was its latest (from its opening to the
    next cohort's), oldest first, each with the committee's decision on it."""
    recommendations = Recommendation.objects.filter(track_id=cohort.track_id)
    if cohort.opened_at is not None:
        recommendations = recommendations.filter(created_at__gte=cohort.opened_at)
    following = (
        Cohort.objects.filter(
            track_id=cohort.track_id, number__gt=cohort.number, opened_at__isnull=False
        )
        .order_by("number")
        .values_list("opened_at", flat=True)
        .first()
    )
    if following is not None:
        recommendations = recommendations.filter(created_at__lt=following)
    return recommendations.select_related(
        "track",
        "dose_level",
        "committee_decision__signature",
    ).order_by("sequence")
