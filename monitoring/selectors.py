"""Reads for the medical monitor's pages.

Every queryset goes through `accounts.scoping.restrict`, and each page runs a fixed number of
queries whatever the number of subjects, doses or adverse events: rows are joined, prefetched or
aggregated once, then grouped in Python. The computations themselves (AE tables, chart geometry)
are plain functions in `monitoring.tables` and `monitoring.charts`.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date

from django.db.models import CharField, F, Min, OuterRef, Prefetch, Q, Subquery, Value
from django.db.models.functions import Coalesce, Concat, NullIf, Trim
from django.urls import reverse
from django.utils.http import urlencode

from accounts.roles import STUDY_ROLES, Capability, Role
from accounts.scoping import can, restrict
from core.dates import site_today
from core.errors import PermissionDenied
from dosing.models import DoseAdministration
from escalation.committee import CONFIRM_STEP
from escalation.models import (
    CommitteeDecision,
    Notification,
    Recommendation,
    SubjectDltStatus,
    TrackEvaluationState,
)
from escalation.rules import Action
from portal.selectors import dlt_info
from safety.models import AdverseEvent
from subjects.models import Subject
from trial.models import Cohort, DoseLevel, EscalationTrack, Regimen, Site, Study

from . import charts, tables
from .forms import FilterForm

# --------------------------------------------------------------------------------------------
# Who may see the dashboards, and the filters


def monitoring_studies(user) -> list[Study]:
    """The studies whose dashboards the user may see: those where their role spans the study
    (medical monitor, data manager, sponsor, administrator). Site roles have their own pages."""
    if user is None or not user.is_authenticated or not user.is_active:
        return []
    studies = restrict(Study.objects.order_by("protocol_number"), user)
    ids = {m.study_id for m in user.memberships_cached() if Role(m.role) in STUDY_ROLES}
    return list(studies.filter(pk__in=ids))


def can_sign(user, study_id: int) -> bool:
    return can(user, Capability.SIGN_COMMITTEE_DECISION, study_id=study_id)


def can_adjudicate(user, study_id: int) -> bool:
    return can(user, Capability.ADJUDICATE_DLT, study_id=study_id)


def has_study_role(user) -> bool:
    """Does the user hold a study-wide role anywhere (so the safety dashboards are theirs)?
    Uses the memberships already loaded for the request."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    return any(Role(m.role) in STUDY_ROLES for m in user.memberships_cached())


def only_study_roles(user) -> bool:
    """Are all the user's roles study-wide (no site work to start from)?"""
    if user is None or not user.is_authenticated:
        return False
    roles = {Role(m.role) for m in user.memberships_cached()}
    return bool(roles) and roles <= STUDY_ROLES


@dataclass
class Scope:
    """The study the page is about, the filter choices and the filters applied."""

    study: Study
    studies: list[Study]
    tracks: list[EscalationTrack]
    levels: list[DoseLevel]
    sites: list[Site]
    form: FilterForm
    track: EscalationTrack | None = None
    dose_level: DoseLevel | None = None
    site: Site | None = None
    date_from: date | None = None
    date_to: date | None = None
    params: dict = field(default_factory=dict)

    @property
    def valid(self) -> bool:
        return self.form.is_valid()

    @property
    def is_filtered(self) -> bool:
        return any((self.track, self.dose_level, self.site, self.date_from, self.date_to))

    def query(self, **extra) -> str:
        """The page's filters as a query string, with `extra` added (e.g. a CSV download)."""
        values = {k: v for k, v in self.params.items() if v not in (None, "")}
        values.update({k: v for k, v in extra.items() if v is not None})
        return urlencode(values)

    def describe(self) -> str:
        parts = [self.study.protocol_number]
        if self.track:
            parts.append(self.track.name)
        if self.dose_level:
            parts.append(self.dose_level.label)
        if self.site:
            parts.append(f"site {self.site.number}")
        if self.date_from or self.date_to:
            parts.append(f"{self.date_from or '…'} to {self.date_to or '…'}")
        return " · ".join(parts)

    def overlaps(self, start: date | None, end: date | None) -> bool:
        """Does [start, end] meet the date range? (True without a range.)"""
        if not (self.date_from or self.date_to):
            return True
        if start is None:
            return False
        end = end or start
        if self.date_from and end < self.date_from:
            return False
        return not (self.date_to and start > self.date_to)


FILTER_KEYS = ("study", "track", "dose_level", "site", "date_from", "date_to")


def load_scope(user, params, *, date_help: str = "") -> Scope:
    """Parse the filters against what the user may see. PermissionDenied without a study role."""
    studies = monitoring_studies(user)
    if not studies:
        raise PermissionDenied(
            "The safety dashboards are for the study team (medical monitor, data manager, "
            "sponsor): your role does not include them."
        )
    raw_study = params.get("study")
    study = next((s for s in studies if str(s.pk) == raw_study), studies[0])
    tracks = list(
        restrict(
            EscalationTrack.objects.filter(study=study).select_related(
                "regimen", "lowest_dose_level", "highest_dose_level"
            ),
            user,
        ).order_by("display_order", "code")
    )
    levels = list(restrict(DoseLevel.objects.filter(study=study), user).order_by("amount"))
    sites = list(restrict(Site.objects.filter(study=study), user).order_by("number"))
    data = {key: params.get(key, "") for key in FILTER_KEYS}
    data["study"] = data["study"] or str(study.pk)
    form = FilterForm(
        data, studies=studies, tracks=tracks, levels=levels, sites=sites, date_help=date_help
    )
    scope = Scope(
        study=study,
        studies=studies,
        tracks=tracks,
        levels=levels,
        sites=sites,
        form=form,
        params={k: v for k, v in data.items() if v},
    )
    if form.is_valid():
        cleaned = form.cleaned_data
        scope.track = next((t for t in tracks if t.pk == cleaned["track"]), None)
        scope.dose_level = next((lv for lv in levels if lv.pk == cleaned["dose_level"]), None)
        scope.site = next((s for s in sites if s.pk == cleaned["site"]), None)
        scope.date_from = cleaned["date_from"]
        scope.date_to = cleaned["date_to"]
    return scope


def track_levels(track: EscalationTrack, levels: list[DoseLevel]) -> list[DoseLevel]:
    """The levels open to the track, lowest first (as `EscalationTrack.dose_levels`, no query)."""
    low = track.lowest_dose_level.amount if track.lowest_dose_level_id else None
    high = track.highest_dose_level.amount if track.highest_dose_level_id else None
    return [
        lv
        for lv in levels
        if (low is None or lv.amount >= low) and (high is None or lv.amount <= high)
    ]


def scoped_subjects(user, scope: Scope):
    """Enrolled subjects (a cohort assigned) of the study under the filters, voided left out."""
    subjects = restrict(
        Subject.objects.filter(study=scope.study, cohort__isnull=False), user
    ).select_related("site", "cohort__dose_level", "cohort__track__regimen", "dlt_status")
    if scope.site:
        subjects = subjects.filter(site=scope.site)
    if scope.track:
        subjects = subjects.filter(cohort__track=scope.track)
    if scope.dose_level:
        subjects = subjects.filter(cohort__dose_level=scope.dose_level)
    return subjects.order_by("cohort__number", "enrollment_date", "subject_number")


def dlt_status_of(subject: Subject) -> SubjectDltStatus | None:
    try:
        return subject.dlt_status
    except SubjectDltStatus.DoesNotExist:
        return None


def subject_url(subject_id: int) -> str:
    return reverse("subject_detail", args=[subject_id])


def loaded_doses() -> Prefetch:
    """Each subject's doses as `loaded_doses`, in the order given."""
    return Prefetch(
        "dose_administrations",
        queryset=DoseAdministration.objects.order_by("administered_on", "cycle", "day"),
        to_attr="loaded_doses",
    )


def loaded_events(queryset) -> Prefetch:
    """Each subject's adverse events of `queryset` as `loaded_events`, by onset."""
    return Prefetch(
        "adverse_events", queryset=queryset.order_by("onset_date", "id"), to_attr="loaded_events"
    )


def with_adjudicator(queryset):
    """Adverse events annotated with who made the committee's DLT call (`adjudicator`, None when
    not adjudicated), from the audit trail: the first history row carrying the call's current
    time. A subquery of the same query, so pages keep a fixed number of queries."""
    rows = AdverseEvent.history.filter(
        id=OuterRef("pk"), dlt_adjudicated_at=OuterRef("dlt_adjudicated_at")
    ).order_by("history_id")
    name = NullIf(
        Trim(Concat("history_user__first_name", Value(" "), "history_user__last_name")), Value("")
    )
    who = rows.annotate(who=Coalesce(name, "history_user__username")).values("who")[:1]
    return queryset.annotate(adjudicator=Subquery(who, output_field=CharField()))


def dlt_calls_text(event) -> str:
    """Both DLT calls in words, e.g. "investigator: DLT; committee: not a DLT"."""
    investigator = "DLT" if event.dlt_investigator else "not a DLT"
    if event.dlt_adjudicated is None:
        committee = "not adjudicated"
    else:
        committee = "DLT" if event.dlt_adjudicated else "not a DLT"
    return f"investigator: {investigator}; committee: {committee}"


def regimen_order(tracks: list[EscalationTrack]) -> dict[int, int]:
    """Regimens in the order of the study's tracks (Q3W escalation first for MIL97)."""
    order: dict[int, int] = {}
    for track in tracks:
        order.setdefault(track.regimen_id, len(order))
    return order


# --------------------------------------------------------------------------------------------
# Escalation overview


STATUS_LABELS = dict(SubjectDltStatus.Status.choices) | {"unevaluated": "Not evaluated yet"}


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


def _decisions(user, study: Study):
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
    decisions = list(_decisions(user, scope.study))
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


# --------------------------------------------------------------------------------------------
# DLT window timeline


@dataclass
class TimelinePage:
    groups: list[charts.TimelineGroup]
    chart: charts.TimelineChart | None

    def csv(self, table: str):
        if table != "windows":
            raise KeyError(table)
        header = [
            "Cohort",
            "Subject",
            "Site",
            "DLT status",
            "Window start",
            "Window end",
            "Doses",
            "Adverse events (onset, grade)",
            "DLTs",
            "DLT calls (investigator; committee)",
        ]
        rows = []
        for group in self.groups:
            for s in group.subjects:
                rows.append(
                    [
                        group.label,
                        s.label,
                        s.sublabel,
                        s.status_label,
                        s.window_start.isoformat() if s.window_start else "",
                        s.window_end.isoformat() if s.window_end else "",
                        "; ".join(f"{d.label} {d.given_on.isoformat()}" for d in s.doses),
                        "; ".join(f"{e.term} G{e.grade} {e.onset.isoformat()}" for e in s.events),
                        "; ".join(f"{e.term} G{e.grade}" for e in s.events if e.is_dlt),
                        " | ".join(f"{e.term} G{e.grade}: {e.calls}" for e in s.events if e.calls),
                    ]
                )
        return header, rows


def dlt_timeline(user, scope: Scope) -> TimelinePage:
    subjects = (
        scoped_subjects(user, scope)
        .select_related("study")  # its day-count convention, for windows not evaluated yet
        .prefetch_related(
            loaded_doses(),
            # The term's name, not a CtcaeTerm object per event: the page draws thousands.
            loaded_events(AdverseEvent.objects.annotate(term=F("ctcae_term__term"))),
        )
    )
    groups: dict[int, tuple[tuple, str, list]] = {}
    order = {t.pk: t.display_order for t in scope.tracks}
    for subject in subjects:
        status = dlt_status_of(subject)
        cohort = subject.cohort
        today = site_today(subject.site.timezone)
        # The evaluation's window, else the one the first dose opens (as the casebook shows it).
        window = dlt_info(subject, subject.loaded_doses, today)
        if not scope.overlaps(window.start or subject.enrollment_date, window.end):
            continue
        dlt_event_id = status.dlt_adverse_event_id if status else None
        row = charts.TimelineSubject(
            key=subject.pk,
            label=str(subject.subject_number),
            sublabel=f"site {subject.site.number}",
            status=status.status if status else "unevaluated",
            status_label=(status.get_status_display() if status else STATUS_LABELS["unevaluated"])
            + (f": {status.reason}" if status and status.reason else ""),
            window_start=window.start,
            window_end=window.end,
            today=today,
            doses=tuple(
                charts.TimelineDose(
                    given_on=d.administered_on,
                    label=f"C{d.cycle}D{d.day}",
                    fraction=float(d.fraction_of_planned),
                )
                for d in subject.loaded_doses
            ),
            events=tuple(
                charts.TimelineEvent(
                    onset=e.onset_date,
                    resolution=e.resolution_date,
                    grade=e.grade,
                    term=e.term,
                    is_dlt=e.is_dlt or e.pk == dlt_event_id,
                    serious=e.serious,
                    calls=dlt_calls_text(e)
                    if e.dlt_investigator or e.dlt_adjudicated is not None
                    else "",
                )
                for e in subject.loaded_events
            ),
            url=subject_url(subject.pk),
        )
        key = cohort.pk
        if key not in groups:
            label = (
                f"Cohort {cohort.number} · {cohort.dose_level.label} "
                f"{cohort.track.regimen.code} · {cohort.get_status_display()}"
            )
            groups[key] = ((order.get(cohort.track_id, 0), cohort.number), label, [])
        groups[key][2].append(row)
    ordered = [
        charts.TimelineGroup(label=label, subjects=tuple(rows))
        for _, label, rows in sorted(groups.values(), key=lambda g: g[0])
    ]
    chart = charts.timeline_chart(
        ordered,
        start=scope.date_from,
        end=scope.date_to,
        title=f"DLT windows, {scope.describe()}",
    )
    return TimelinePage(groups=ordered, chart=chart)


# --------------------------------------------------------------------------------------------
# Adverse-event tables and listings


def _population(user, scope: Scope):
    """Each subject of the filters with their column group and first (non-voided) dose."""
    rows = (
        scoped_subjects(user, scope)
        .select_related(None)
        .annotate(
            first_dose=Min(
                "dose_administrations__administered_on",
                filter=Q(dose_administrations__voided_at__isnull=True),
            )
        )
        .values(
            "pk",
            "first_dose",
            "cohort__dose_level__amount",
            "cohort__dose_level__unit",
            "cohort__track__regimen_id",
            "cohort__track__regimen__code",
        )
    )
    order = regimen_order(scope.tracks)
    return [
        tables.Exposure(
            subject_id=row["pk"],
            group=tables.dose_group(
                regimen=row["cohort__track__regimen__code"],
                regimen_order=order.get(row["cohort__track__regimen_id"], 99),
                amount=row["cohort__dose_level__amount"],
                unit=row["cohort__dose_level__unit"],
            ),
            first_dose=row["first_dose"],
        )
        for row in rows
    ]


def _events(user, scope: Scope, subjects):
    events = restrict(AdverseEvent.objects.filter(subject__in=subjects.values("pk")), user).values(
        "subject_id", "ctcae_term__soc", "ctcae_term__term", "grade", "onset_date", "relationship"
    )
    return [
        tables.Event(
            subject_id=row["subject_id"],
            soc=row["ctcae_term__soc"],
            term=row["ctcae_term__term"],
            grade=row["grade"],
            onset=row["onset_date"],
            related=row["relationship"] in AdverseEvent.RELATED,
        )
        for row in events
    ]


@dataclass
class AeTablesPage:
    all_events: tables.AeTable
    related: tables.AeTable
    related_only: bool

    @property
    def table(self) -> tables.AeTable:
        return self.related if self.related_only else self.all_events

    def csv(self, table: str):
        chosen = {"teae": self.all_events, "teae_related": self.related}[table]
        return tables.ae_table_csv(chosen)


def ae_tables(user, scope: Scope, *, related_only: bool = False) -> AeTablesPage:
    """Both tables (all TEAEs, related TEAEs) from one read of the population and the events."""
    population = _population(user, scope)
    events = _events(user, scope, scoped_subjects(user, scope))
    window = {"onset_from": scope.date_from, "onset_to": scope.date_to}
    return AeTablesPage(
        all_events=tables.build_ae_table(population, events, **window),
        related=tables.build_ae_table(population, events, related_only=True, **window),
        related_only=related_only,
    )


@dataclass
class ListingRow:
    event: AdverseEvent  # annotated with the subject's first dose (and the adjudicator)

    @property
    def first_dose(self) -> date | None:
        return self.event.first_dose

    @property
    def in_window(self) -> bool | None:
        """Onset inside the subject's DLT window (None while the window is unknown)."""
        status = dlt_status_of(self.event.subject)
        if status and status.window_start and status.window_end:
            return status.window_start <= self.event.onset_date <= status.window_end
        return None

    @property
    def study_day(self) -> int | None:
        """Day 1 = the first dose (no day 0); negative before it."""
        if self.first_dose is None:
            return None
        days = (self.event.onset_date - self.first_dose).days
        return days + 1 if days >= 0 else days

    @property
    def treatment_emergent(self) -> bool:
        return self.first_dose is not None and self.event.onset_date >= self.first_dose

    @property
    def subject(self) -> Subject:
        return self.event.subject


LISTING_HEADER = [
    "Subject",
    "Site",
    "Cohort",
    "Dose level",
    "Regimen",
    "CTCAE term",
    "System organ class",
    "Verbatim term",
    "Grade",
    "Onset",
    "Study day",
    "Resolution",
    "Treatment-emergent",
    "Serious",
    "Seriousness criteria",
    "Relationship",
    "Action taken",
    "Outcome",
    "DLT (investigator)",
    "DLT (adjudicated)",
    "DLT (final call)",
    "Onset in DLT window",
    "DLT adjudicated at (UTC)",
    "DLT adjudicated by",
    "Adjudication note",
]


def listing_csv_row(row: ListingRow) -> list:
    e, s = row.event, row.event.subject
    return [
        s.subject_number,
        s.site.number,
        s.cohort.number if s.cohort else "",
        s.cohort.dose_level.label if s.cohort else "",
        s.cohort.track.regimen.code if s.cohort else "",
        e.ctcae_term.term,
        e.ctcae_term.soc,
        e.verbatim_term,
        e.grade,
        e.onset_date.isoformat(),
        row.study_day if row.study_day is not None else "",
        e.resolution_date.isoformat() if e.resolution_date else "",
        row.treatment_emergent,
        e.serious,
        "; ".join(e.seriousness_criteria()),
        e.get_relationship_display(),
        e.get_action_taken_display(),
        e.get_outcome_display(),
        e.dlt_investigator,
        "" if e.dlt_adjudicated is None else e.dlt_adjudicated,
        e.is_dlt,
        "" if row.in_window is None else row.in_window,
        e.dlt_adjudicated_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
        if e.dlt_adjudicated_at
        else "",
        getattr(e, "adjudicator", None) or "",
        e.dlt_adjudication_note,
    ]


DOSE_DEVIATION_HEADER = [
    "Subject",
    "Site",
    "Cohort",
    "Visit",
    "Date given",
    "Planned dose",
    "Dose given",
    "Unit",
    "Body weight (kg)",
    "Total dose (mg)",
    "Protocol deviations",
    "Values confirmed as measured",
    "Reason the dose differs",
    "Reason for the deviation",
    "Recorded by",
]


def dose_deviation_csv_row(dose: DoseAdministration) -> list:
    s = dose.subject
    return [
        s.subject_number,
        s.site.number,
        dose.cohort.number,
        f"C{dose.cycle}D{dose.day}",
        dose.administered_on.isoformat(),
        f"{dose.planned_dose_per_kg.normalize():f}",
        f"{dose.actual_dose_per_kg.normalize():f}",
        dose.dose_unit,
        f"{dose.body_weight_kg}",
        f"{dose.total_dose_mg}",
        "; ".join(dose.protocol_deviations),
        "; ".join(dose.confirmed_values),
        dose.dose_change_reason,
        dose.deviation_reason,
        dose.created_by.get_full_name() or dose.created_by.username,
    ]


# A dose recorded with a protocol deviation or an unusual value the site confirmed.
DOSE_FLAGGED = (
    Q(overdose_confirmed=True)
    | Q(short_interval_confirmed=True)
    | Q(outside_visit_window_confirmed=True)
    | Q(weight_outside_range_confirmed=True)
    | Q(weight_change_confirmed=True)
)


@dataclass
class ListingsPage:
    saes: list[ListingRow]
    dlts: list[ListingRow]
    # The investigator called a DLT, the committee adjudicated it as not a DLT.
    not_upheld: list[ListingRow] = field(default_factory=list)
    # Doses recorded as given with a confirmed deviation (docs/dosing.md).
    dose_deviations: list[DoseAdministration] = field(default_factory=list)

    def csv(self, table: str):
        if table == "dose_deviations":
            return DOSE_DEVIATION_HEADER, [dose_deviation_csv_row(d) for d in self.dose_deviations]
        rows = {"sae": self.saes, "dlt": self.dlts, "dlt_not_upheld": self.not_upheld}[table]
        return LISTING_HEADER, [listing_csv_row(r) for r in rows]


def dose_deviations(user, scope: Scope, subjects) -> list[DoseAdministration]:
    doses = (
        restrict(DoseAdministration.objects.filter(subject__in=subjects.values("pk")), user)
        .filter(DOSE_FLAGGED)
        .select_related(
            "subject__site", "cohort__dose_level", "cohort__track__regimen", "created_by"
        )
        .order_by("administered_on", "subject__subject_number", "cycle", "day")
    )
    if scope.date_from:
        doses = doses.filter(administered_on__gte=scope.date_from)
    if scope.date_to:
        doses = doses.filter(administered_on__lte=scope.date_to)
    return list(doses)


DLT_FINAL = Q(dlt_adjudicated=True) | Q(dlt_adjudicated__isnull=True, dlt_investigator=True)


def listings(user, scope: Scope) -> ListingsPage:
    subjects = scoped_subjects(user, scope)
    first_dose = (
        DoseAdministration.objects.filter(subject=OuterRef("subject"))
        .order_by("administered_on")
        .values("administered_on")[:1]
    )
    events = (
        with_adjudicator(
            restrict(AdverseEvent.objects.filter(subject__in=subjects.values("pk")), user)
        )
        .filter(Q(serious=True) | DLT_FINAL | Q(dlt_investigator=True))
        .select_related(
            "ctcae_term",
            "subject__site",
            "subject__cohort__dose_level",
            "subject__cohort__track__regimen",
            "subject__dlt_status",
        )
        .annotate(first_dose=Subquery(first_dose))
        .order_by("onset_date", "subject__subject_number", "pk")
    )
    if scope.date_from:
        events = events.filter(onset_date__gte=scope.date_from)
    if scope.date_to:
        events = events.filter(onset_date__lte=scope.date_to)
    saes, dlts, not_upheld = [], [], []
    for event in events:
        row = ListingRow(event)
        if event.serious:
            saes.append(row)
        if event.is_dlt:
            dlts.append(row)
        elif event.dlt_investigator:
            not_upheld.append(row)
    return ListingsPage(
        saes=saes,
        dlts=dlts,
        not_upheld=not_upheld,
        dose_deviations=dose_deviations(user, scope, subjects),
    )


# --------------------------------------------------------------------------------------------
# Committee review


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
    decisions = _decisions(user, study).order_by("-decided_at", "-pk")
    if track is not None:
        decisions = decisions.filter(Q(track=track) | Q(target_track=track))
    return list(decisions)


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


# --------------------------------------------------------------------------------------------
# DLT adjudication


def visible_adverse_event(user, pk: int) -> AdverseEvent:
    """An adverse event of one of the user's dashboard studies (else DoesNotExist), with what
    its page shows: the subject, site, cohort, DLT status and who adjudicated it."""
    studies = [s.pk for s in monitoring_studies(user)]
    return (
        with_adjudicator(restrict(AdverseEvent.objects.filter(subject__study_id__in=studies), user))
        .select_related(
            "ctcae_term",
            "subject__study",
            "subject__site",
            "subject__cohort__dose_level",
            "subject__cohort__track__regimen",
            "subject__dlt_status",
        )
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


# --------------------------------------------------------------------------------------------
# Notifications: who was told what, when


def delivery(notification: Notification) -> tuple[str, str]:
    """(state, words) of the e-mail of a recorded notification."""
    if notification.sent_at is not None:
        return "sent", f"e-mailed {notification.sent_at.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC"
    if not notification.recipient.email:
        return "no_email", "no e-mail address: shown in the app only"
    if notification.error:
        return "error", f"not sent: {notification.error}"
    return "queued", "not e-mailed yet (queued)"


def notification_target(notification: Notification) -> tuple[str, str]:
    """(url, label) of what the notification is about: the subject's casebook, or the
    recommendation's review page."""
    if notification.subject_id is not None:
        return subject_url(notification.subject_id), str(notification.subject.subject_number)
    pk = _keyed_id(notification.key, "recommendation")
    if pk is not None:
        return reverse("monitoring:review", args=[pk]), f"recommendation #{pk}"
    return "", ""


def _keyed_id(key: str, kind: str) -> int | None:
    """The id in a notification's key ("ae:12", "recommendation:3") when it names a `kind`."""
    prefix, _, pk = key.partition(":")
    return int(pk) if prefix == kind and pk.isdigit() else None


NOTIFICATION_KINDS = [("", "All")] + [(k.value, k.label) for k in Notification.Kind]
NOTIFICATIONS_PER_PAGE = 50

NOTIFICATION_HEADER = [
    "Recorded (UTC)",
    "Kind",
    "Title",
    "Recipient",
    "Recipient e-mail",
    "E-mailed at (UTC)",
    "Delivery",
    "Subject",
    "Site",
    "About",
    "Message",
]


@dataclass
class NotificationsPage:
    queryset: object  # every notification of the selection, newest first
    rows: list[Notification]  # this page's
    number: int
    pages: int
    total: int

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages

    def csv(self, table: str):
        if table != "notifications":
            raise KeyError(table)
        rows = []
        for n in self.queryset:
            state, words = delivery(n)
            rows.append(
                [
                    n.created_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S"),
                    n.get_kind_display(),
                    n.title,
                    n.recipient.get_full_name() or n.recipient.get_username(),
                    n.recipient.email,
                    n.sent_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S") if n.sent_at else "",
                    words,
                    n.subject.subject_number if n.subject_id else "",
                    n.subject.site.number if n.subject_id else "",
                    n.key,
                    n.body,
                ]
            )
        return NOTIFICATION_HEADER, rows


def _notifications(user, study: Study):
    return (
        restrict(Notification.objects.filter(study=study), user)
        .select_related("recipient", "subject__site")
        .order_by("-created_at", "-pk")
    )


def notifications(user, scope: Scope, *, kind: str = "", page: int = 1) -> NotificationsPage:
    """The study's recorded notifications, newest first, a page at a time: two queries (the
    count and the page) whatever their number."""
    rows = _notifications(user, scope.study)
    if kind:
        rows = rows.filter(kind=kind)
    if scope.site:
        rows = rows.filter(subject__site=scope.site)
    if scope.date_from:
        rows = rows.filter(created_at__date__gte=scope.date_from)
    if scope.date_to:
        rows = rows.filter(created_at__date__lte=scope.date_to)
    total = rows.count()
    pages = max(1, -(-total // NOTIFICATIONS_PER_PAGE))
    number = min(max(1, page), pages)
    start = (number - 1) * NOTIFICATIONS_PER_PAGE
    shown = list(rows[start : start + NOTIFICATIONS_PER_PAGE]) if total else []
    return NotificationsPage(queryset=rows, rows=shown, number=number, pages=pages, total=total)


@dataclass
class Alert:
    """A DLT or an SAE as announced to the monitors: one line per event, with each recipient."""

    kind: str
    kind_label: str
    title: str
    created_at: object
    subject: Subject | None
    event: AdverseEvent | None  # the adverse event as it stands now (None if voided since)
    told: list[Notification] = field(default_factory=list)

    @property
    def url(self) -> str:
        return subject_url(self.subject.pk) if self.subject else ""


RECENT_ALERTS = 8


def recent_alerts(user, study: Study, *, limit: int = RECENT_ALERTS) -> list[Alert]:
    """The latest DLT and SAE announcements of the study, with whom each reached and the
    adverse event's calls as they stand now. Two or three queries whatever the study's size."""
    rows = list(
        _notifications(user, study).filter(
            kind__in=[Notification.Kind.NEW_DLT, Notification.Kind.SAE]
        )[: limit * 12]
    )
    alerts: dict[tuple[str, str], Alert] = {}
    for n in rows:
        key = (n.kind, n.key)
        if key not in alerts:
            if len(alerts) == limit:
                continue
            alerts[key] = Alert(
                kind=n.kind,
                kind_label=n.get_kind_display(),
                title=n.title,
                created_at=n.created_at,
                subject=n.subject,
                event=None,
            )
        alerts[key].told.append(n)
    ids = {_keyed_id(key, "ae") for _, key in alerts} - {None}
    events = {
        e.pk: e
        for e in with_adjudicator(
            restrict(AdverseEvent.objects.filter(pk__in=ids), user)
        ).select_related("ctcae_term")
    }
    for (_, key), alert in alerts.items():
        alert.event = events.get(_keyed_id(key, "ae"))
        alert.told.sort(key=lambda n: (n.recipient.last_name, n.recipient.username))
    return list(alerts.values())
