"""The Safety Review Committee's pages: recommendations awaiting a decision, the signed
decisions, and the evidence behind one recommendation."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from accounts.scoping import restrict
from dosing.models import DoseAdministration
from escalation.committee import CONFIRM_STEP
from escalation.models import (
    CommitteeDecision,
    Recommendation,
)
from escalation.rules import Action
from escalation.selectors import (
    STATUS_LABELS,
    decision_history,
    pending_recommendations,
)
from safety.models import AdverseEvent
from safety.selectors import with_adjudicator
from subjects.models import Subject
from trial.models import DoseLevel, EscalationTrack, Regimen, Study

from .scope import (
    Scope,
    loaded_doses,
    loaded_events,
    subject_url,
)


def outcome_word(decision: CommitteeDecision) -> str:
    """The outcome in one word, "Confirmed" or "Overridden" (its label without the gloss)."""
    return decision.get_outcome_display().split(" (")[0]


def decisions_csv(decisions: list[CommitteeDecision]):
    header = [
        "Decided at (UTC)",
        "Track",
        "Outcome",
        "Step",
        "Dose level",
        "Subjects",
        "Cohort opened",
        "Track opened",
        "Recommendation",
        "Rule",
        "Rationale",
        "Signed by (printed name)",
        "Meaning",
        "Signed at (UTC)",
        "Signature valid",
    ]
    rows = [
        [
            d.decided_at.isoformat(),
            d.track.name,
            d.get_outcome_display(),
            d.get_step_display(),
            d.dose_level.label if d.dose_level else "",
            d.n_subjects,
            d.opened_cohort.number if d.opened_cohort else "",
            d.target_track.name if d.target_track else "",
            d.recommendation.text if d.recommendation else "(the committee's own decision)",
            d.recommendation.rule if d.recommendation else "",
            d.rationale,
            d.signature.printed_name,
            d.signature.get_meaning_display(),
            d.signature.signed_at.isoformat(),
            d.signature.is_valid,
        ]
        for d in decisions
    ]
    return header, rows


@dataclass
class CommitteePage:
    pending: list[Recommendation]  # awaiting a decision, oldest first
    decisions: list[CommitteeDecision]  # signed, newest first

    def csv(self, table: str):
        if table != "decisions":
            raise KeyError(table)
        return decisions_csv(self.decisions)


def committee_page(user, scope: Scope) -> CommitteePage:
    """The study's recommendations awaiting the committee and its decisions (on the track)."""
    return CommitteePage(
        pending=pending_recommendations(user, scope.study),
        decisions=decision_history(user, scope.study, track=scope.track),
    )


@dataclass
class SubjectEvidence:
    number: str
    level_label: str
    status: str
    status_label: str
    window_start: str | None
    window_end: str | None
    reason: str
    dlt: str
    replaced: bool
    subject: Subject | None = None
    doses: list[DoseAdministration] = field(default_factory=list)
    events_in_window: list[AdverseEvent] = field(default_factory=list)
    events_outside: int = 0

    @property
    def url(self) -> str:
        return subject_url(self.subject.pk) if self.subject else ""


@dataclass
class Review:
    recommendation: Recommendation
    track: EscalationTrack
    levels: list[dict]
    subjects: list[SubjectEvidence]
    decision: CommitteeDecision | None
    current: Recommendation | None  # the track's current one, when this one is not
    flags: list[str]
    notes: list[str]
    trigger: dict | None
    confirm_step: str | None

    @property
    def can_be_decided(self) -> bool:
        return self.recommendation.status == Recommendation.Status.PENDING


def recommendation_review(user, recommendation: Recommendation) -> Review:
    track = recommendation.track
    data = recommendation.data or {}
    numbers = [s["number"] for level in data.get("levels", []) for s in level.get("subjects", [])]
    subjects = {
        s.subject_number: s
        for s in restrict(
            Subject.objects.filter(study=track.study, subject_number__in=numbers), user
        )
        .select_related("site")
        .prefetch_related(
            loaded_doses(),
            loaded_events(with_adjudicator(AdverseEvent.objects.select_related("ctcae_term"))),
        )
    }
    evidence = []
    for level in data.get("levels", []):
        label = (level.get("dose_level") or {}).get("label", "")
        for item in level.get("subjects", []):
            subject = subjects.get(item["number"])
            row = SubjectEvidence(
                number=item["number"],
                level_label=label,
                status=item.get("status", ""),
                status_label=STATUS_LABELS.get(item.get("status", ""), item.get("status", "")),
                window_start=item.get("window_start"),
                window_end=item.get("window_end"),
                reason=item.get("reason", ""),
                dlt=item.get("dlt", ""),
                replaced=item.get("replaced", False),
                subject=subject,
            )
            if subject is not None:
                row.doses = subject.loaded_doses
                start = date.fromisoformat(row.window_start) if row.window_start else None
                end = date.fromisoformat(row.window_end) if row.window_end else None
                for event in subject.loaded_events:
                    if start and end and start <= event.onset_date <= end:
                        row.events_in_window.append(event)
                    else:
                        row.events_outside += 1
            evidence.append(row)
    try:
        decision = recommendation.committee_decision
    except CommitteeDecision.DoesNotExist:
        decision = None
    current = None
    if not recommendation.is_current:
        current = (
            restrict(Recommendation.objects.filter(track=track), user)
            .filter(status__in=Recommendation.CURRENT)
            .first()
        )
    try:
        confirm_step = CONFIRM_STEP.get(Action(recommendation.action))
    except ValueError:
        confirm_step = None
    return Review(
        recommendation=recommendation,
        track=track,
        levels=data.get("levels", []),
        subjects=evidence,
        decision=decision,
        current=current,
        flags=list(data.get("flags", [])),
        notes=list(data.get("notes", [])),
        trigger=data.get("titration_trigger"),
        confirm_step=confirm_step,
    )


def study_choices(user, study: Study):
    """Dose levels, tracks and regimens the override form offers."""
    levels = list(restrict(DoseLevel.objects.filter(study=study), user).order_by("amount"))
    tracks = list(
        restrict(EscalationTrack.objects.filter(study=study), user).order_by(
            "display_order", "code"
        )
    )
    regimens = list(restrict(Regimen.objects.filter(study=study), user).order_by("code"))
    return levels, tracks, regimens
