"""The escalation overview: each track's dose levels with enrolled, evaluable and DLT counts,
the ladder chart and the committee's steps."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from accounts.scoping import restrict
from core.dates import site_today
from escalation.committee import CONFIRM_STEP
from escalation.models import (
    CommitteeDecision,
    Recommendation,
    SubjectDltStatus,
    TrackEvaluationState,
)
from escalation.rules import Action
from escalation.selectors import (
    committee_decisions,
    dlt_status_of,
    track_levels,
)
from monitoring import charts
from subjects.models import Subject
from trial.models import Cohort, DoseLevel, EscalationTrack

from .committee import decisions_csv, outcome_word
from .scope import (
    Scope,
    scoped_subjects,
)


@dataclass
class LevelLine:
    level: DoseLevel
    enrolled: int = 0
    evaluable: int = 0
    dlts: int = 0
    pending: list[tuple[Subject, date | None]] = field(default_factory=list)
    not_evaluable: int = 0
    not_dosed: int = 0
    cohorts: list[Cohort] = field(default_factory=list)
    recommended: bool = False

    @property
    def dlt_rate(self) -> str:
        return f"{self.dlts}/{self.evaluable}" if self.evaluable else "—"

    @property
    def pending_until(self) -> str:
        return "; ".join(
            f"{s.subject_number} until {end:%Y-%m-%d}" if end else str(s.subject_number)
            for s, end in self.pending
        )


@dataclass
class TrackOverview:
    track: EscalationTrack
    levels: list[LevelLine]  # highest first, as the ladder
    recommendation: Recommendation | None
    decisions: list[CommitteeDecision]  # oldest first
    cohorts: list[Cohort]
    ladder: charts.Ladder | None

    enrolled_by_cohort: dict[int, int] = field(default_factory=dict)
    evaluation: TrackEvaluationState | None = None

    @property
    def subjects(self) -> int:
        return sum(line.enrolled for line in self.levels)

    @property
    def evaluation_owed(self) -> bool:
        """Data changed since the last evaluation, or it failed: the figures may lag."""
        state = self.evaluation
        return state is not None and (state.requested_at is not None or bool(state.last_error))

    @property
    def open_cohorts(self) -> list[tuple[Cohort, int]]:
        return [
            (c, self.enrolled_by_cohort.get(c.pk, 0))
            for c in self.cohorts
            if c.status == Cohort.Status.OPEN
        ]


@dataclass
class Overview:
    tracks: list[TrackOverview]
    pending: list[Recommendation]

    def csv(self, table: str):
        if table == "levels":
            header = [
                "Track",
                "Dose level",
                "Cohorts",
                "Enrolled",
                "Evaluable",
                "DLTs",
                "Pending",
                "Pending: DLT window ends",
                "Not evaluable",
                "Awaiting first dose or evaluation",
                "Current recommendation here",
            ]
            rows = [
                [
                    t.track.name,
                    line.level.label,
                    ", ".join(str(c.number) for c in line.cohorts),
                    line.enrolled,
                    line.evaluable,
                    line.dlts,
                    len(line.pending),
                    line.pending_until,
                    line.not_evaluable,
                    line.not_dosed,
                    t.recommendation.text if line.recommended and t.recommendation else "",
                ]
                for t in self.tracks
                for line in t.levels
            ]
            return header, rows
        if table == "steps":
            return decisions_csv([d for t in self.tracks for d in t.decisions])
        raise KeyError(table)


def escalation_overview(user, scope: Scope) -> Overview:
    tracks = [t for t in scope.tracks if scope.track is None or t.pk == scope.track.pk]
    cohorts = list(
        restrict(Cohort.objects.filter(study=scope.study), user)
        .select_related("dose_level")
        .order_by("number")
    )
    subjects = [
        s
        for s in scoped_subjects(user, scope)
        if scope.overlaps(*_subject_span(s, dlt_status_of(s)))
    ]
    current = {
        r.track_id: r
        for r in restrict(
            Recommendation.objects.filter(
                track__study=scope.study, status__in=Recommendation.CURRENT
            ),
            user,
        )
    }
    decisions = list(committee_decisions(user, scope.study))
    states = {
        s.track_id: s
        for s in restrict(TrackEvaluationState.objects.filter(track__study=scope.study), user)
    }
    pending = sorted(
        (r for r in current.values() if r.status == Recommendation.Status.PENDING),
        key=lambda r: r.created_at,
    )
    tracks_by_pk = {t.pk: t for t in scope.tracks}
    for r in pending:  # the track without another query
        if r.track_id in tracks_by_pk:
            r.track = tracks_by_pk[r.track_id]

    by_cohort: dict[int, list[Subject]] = defaultdict(list)
    for subject in subjects:
        by_cohort[subject.cohort_id].append(subject)
    opened_by = {d.opened_cohort_id: d for d in decisions if d.opened_cohort_id}

    out = []
    for track in tracks:
        levels = track_levels(track, scope.levels)
        track_cohorts = [c for c in cohorts if c.track_id == track.pk]
        if scope.dose_level:
            levels = [lv for lv in levels if lv.pk == scope.dose_level.pk]
            track_cohorts = [c for c in track_cohorts if c.dose_level_id == scope.dose_level.pk]
        recommendation = current.get(track.pk)
        lines = {lv.pk: LevelLine(level=lv) for lv in levels}
        for cohort in track_cohorts:
            line = lines.get(cohort.dose_level_id)
            if line is None:  # an intermediate level outside the track's range
                line = lines[cohort.dose_level_id] = LevelLine(level=cohort.dose_level)
            line.cohorts.append(cohort)
            for subject in by_cohort.get(cohort.pk, []):
                _count(line, subject)
        if (
            recommendation
            and recommendation.action != Action.WAIT
            and recommendation.dose_level_id in lines
        ):
            lines[recommendation.dose_level_id].recommended = True
        ordered = sorted(lines.values(), key=lambda line: line.level.amount, reverse=True)
        track_decisions = [d for d in decisions if track.pk in (d.track_id, d.target_track_id)]
        ladder = None
        if track_cohorts or track.status != EscalationTrack.Status.PLANNED:
            ladder = _ladder(
                track,
                sorted(lines.values(), key=lambda line: line.level.amount),
                track_cohorts,
                by_cohort,
                opened_by,
                recommendation,
            )
        out.append(
            TrackOverview(
                track=track,
                levels=ordered,
                recommendation=recommendation,
                decisions=track_decisions,
                cohorts=track_cohorts,
                ladder=ladder,
                enrolled_by_cohort={c.pk: len(by_cohort.get(c.pk, [])) for c in track_cohorts},
                evaluation=states.get(track.pk),
            )
        )
    return Overview(tracks=out, pending=pending)


def _subject_span(subject: Subject, status: SubjectDltStatus | None):
    start = status.window_start if status and status.window_start else subject.enrollment_date
    end = status.window_end if status and status.window_end else None
    return start, end or site_today(subject.site.timezone)


def _count(line: LevelLine, subject: Subject) -> None:
    status = dlt_status_of(subject)
    line.enrolled += 1
    value = status.status if status else "unevaluated"
    if value == SubjectDltStatus.Status.DLT:
        line.dlts += 1
        line.evaluable += 1
    elif value == SubjectDltStatus.Status.EVALUABLE_NO_DLT:
        line.evaluable += 1
    elif value == SubjectDltStatus.Status.PENDING:
        line.pending.append((subject, status.window_end))
    elif value == SubjectDltStatus.Status.NOT_EVALUABLE:
        line.not_evaluable += 1
    else:
        line.not_dosed += 1


def _ladder(track, levels, cohorts, by_cohort, opened_by, recommendation) -> charts.Ladder:
    ladder_cohorts = []
    for cohort in cohorts:
        decision = opened_by.get(cohort.pk)
        how = ""
        if decision is not None:
            how = (
                f"{outcome_word(decision).lower()} by "
                f"{decision.signature.printed_name} on {decision.decided_at:%Y-%m-%d}"
            )
        marks = []
        for subject in by_cohort.get(cohort.pk, []):
            status = dlt_status_of(subject)
            value = status.status if status else "unevaluated"
            detail = ""
            if status and status.window_end:
                detail = f"window {status.window_start:%Y-%m-%d} to {status.window_end:%Y-%m-%d}"
            if status and status.reason:
                detail = f"{detail}; {status.reason}" if detail else status.reason
            marks.append(charts.LadderSubject(str(subject.subject_number), value, detail))
        ladder_cohorts.append(
            charts.LadderCohort(
                number=cohort.number,
                level_id=cohort.dose_level_id,
                planned_size=cohort.planned_size,
                status=cohort.status,
                subjects=tuple(marks),
                opened_by=how,
            )
        )
    next_step = None
    if recommendation is not None and recommendation.action != Action.WAIT:
        opens = (
            recommendation.needs_decision
            and CONFIRM_STEP.get(Action(recommendation.action))
            == CommitteeDecision.Step.OPEN_COHORT
        )
        level_id = recommendation.dose_level_id
        if level_id is None:
            for key in ("mtd_level", "mad_level", "exceeded_level"):
                value = (recommendation.data or {}).get(key)
                if value:
                    level_id = value.get("id")
                    break
        next_step = charts.LadderNext(
            level_id=level_id,
            n_subjects=recommendation.n_subjects if opens else 0,
            text=recommendation.text,
            awaiting_committee=recommendation.needs_decision,
        )
    return charts.ladder_chart(
        track.name,
        [charts.LadderLevel(line.level.pk, line.level.label) for line in levels],
        ladder_cohorts,
        next_step,
    )
