"""Page assembly for the coordinator pages (home, enrollment options, casebook), over the
selectors of the apps that own the data (`subjects.selectors`, `escalation.selectors`,
`safety.selectors`, `core.history`).

Every queryset that depends on the user goes through `accounts.scoping.restrict`, and each page
runs a fixed number of queries whatever the number of subjects (related rows are joined,
prefetched or counted in subqueries, never fetched per row).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from django.db.models import Count, IntegerField, OuterRef, Prefetch, Q, Subquery, Value
from django.db.models.functions import Coalesce

from accounts.roles import Capability
from accounts.scoping import can, restrict
from core.dates import site_today
from core.history import (
    RecordHistory,
    record_histories,
)
from dosing.models import DoseAdministration
from dosing.services import slot_following
from escalation.models import Notification, Recommendation, SubjectDltStatus
from escalation.redaction import EscalationRedaction
from escalation.selectors import (
    DltInfo,
    ReplacementLine,
    dlt_info,
    replacement_candidates,
    takes_replacement,
)
from portal.timeline import Timeline, build_timeline
from safety.models import AdverseEvent
from safety.selectors import emergence_of
from subjects.models import Subject
from subjects.selectors import (
    SUBJECT_RELATED,
    cohort_closed_reason,
    cohorts_with_places,
    replacements_prefetch,
)
from trial.models import Cohort, EscalationTrack, Site

# --------------------------------------------------------------------------------------------
# Open tasks


@dataclass(frozen=True)
class Task:
    text: str
    urgent: bool = False
    url_name: str = ""


def dose_task(subject: Subject, doses: list, today: date) -> Task | None:
    """The next dose when it is due (inside or past its visit window), for a subject on treatment."""
    if subject.status != Subject.Status.ENROLLED or subject.cohort_id is None:
        return None
    slot = slot_following(
        subject.cohort.track.regimen, [(d.cycle, d.day, d.administered_on) for d in doses]
    )
    code = f"C{slot.cycle}D{slot.day}"
    if slot.planned_on is None:
        return Task(f"{code} to give (first dose)", urgent=True, url_name="dose_new")
    if today > slot.latest:
        return Task(
            f"{code} overdue: window closed {slot.latest:%Y-%m-%d}",
            urgent=True,
            url_name="dose_new",
        )
    if today >= slot.earliest:
        return Task(
            f"{code} due {slot.planned_on:%Y-%m-%d} (window {slot.earliest:%Y-%m-%d} to "
            f"{slot.latest:%Y-%m-%d})",
            urgent=True,
            url_name="dose_new",
        )
    return Task(f"Next: {code} on {slot.planned_on:%Y-%m-%d}")


def screening_task(subject: Subject) -> Task | None:
    if subject.status != Subject.Status.SCREENING:
        return None
    if subject.consent_date is None:
        return Task("Record informed consent", urgent=True, url_name="screening")
    if subject.eligibility_outcome == Subject.Eligibility.PENDING:
        return Task("Assess eligibility", urgent=True, url_name="screening")
    if subject.eligibility_outcome == Subject.Eligibility.INELIGIBLE:
        return Task("Not eligible: record the screen failure", urgent=True, url_name="screening")
    return Task("Eligible: enroll", urgent=True, url_name="enroll")


# --------------------------------------------------------------------------------------------
# Home page


@dataclass
class SubjectRow:
    subject: Subject  # annotated with its open_aes, serious_aes and dlt_aes counts
    dlt: DltInfo | None
    tasks: list[Task]


@dataclass
class SiteBlock:
    site: Site
    today: date
    can_enter: bool
    rows: list[SubjectRow] = field(default_factory=list)


@dataclass
class CohortLine:
    cohort: Cohort
    occupied: int
    closed_reason: str | None


@dataclass
class TrackBlock:
    track: EscalationTrack
    cohorts: list[CohortLine]
    recommendation: Recommendation | None


STATUS_FILTERS = {
    "active": (
        "Screening and on study",
        [Subject.Status.SCREENING, Subject.Status.ENROLLED, Subject.Status.OFF_TREATMENT],
    ),
    "screening": ("Screening", [Subject.Status.SCREENING]),
    "enrolled": ("On treatment", [Subject.Status.ENROLLED]),
    "follow_up": ("Follow-up", [Subject.Status.OFF_TREATMENT]),
    "ended": (
        "Off study, screen failures",
        [Subject.Status.OFF_STUDY, Subject.Status.SCREEN_FAILED],
    ),
    "all": ("All", None),
}


def _count(queryset_filter: Q):
    rows = (
        AdverseEvent.objects.filter(queryset_filter, subject=OuterRef("pk"))
        .order_by()
        .values("subject")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(rows, output_field=IntegerField()), Value(0))


def replacement_task(subject: Subject) -> Task | None:
    """A subject the escalation evaluation found not evaluable and nobody replaced yet."""
    stored = getattr(subject, "dlt_status", None)
    if stored is None or stored.status != SubjectDltStatus.Status.NOT_EVALUABLE:
        return None
    if getattr(subject, "replacements", None) or subject.cohort_id is None:
        return None
    if not takes_replacement(subject.cohort):
        return None
    return Task(
        f"Not evaluable ({stored.reason or 'see the DLT status'}): a screened, eligible subject "
        "can be enrolled as the replacement",
        urgent=True,
    )


def subjects_for_listing(user):
    """The user's subjects with what the listing shows, in a fixed number of queries."""
    return (
        restrict(Subject.objects.select_related(*SUBJECT_RELATED), user)
        .annotate(
            open_aes=_count(Q(resolution_date__isnull=True)),
            serious_aes=_count(Q(serious=True)),
            dlt_aes=_count(Q(dlt_investigator=True) | Q(dlt_adjudicated=True)),
        )
        .prefetch_related(
            Prefetch(
                "dose_administrations",
                queryset=DoseAdministration.objects.order_by("cycle", "day").only(
                    "id", "subject_id", "cycle", "day", "administered_on"
                ),
                to_attr="loaded_doses",
            ),
            replacements_prefetch(),
        )
        .order_by("site__number", "subject_number", "screening_number")
    )


def home_sites(user, status_filter: str = "active") -> list[SiteBlock]:
    sites = list(restrict(Site.objects.select_related("study"), user).order_by("study", "number"))
    blocks = {
        site.pk: SiteBlock(
            site=site,
            today=site_today(site.timezone),
            can_enter=can(user, Capability.ENTER_DATA, study_id=site.study_id, site_id=site.pk),
        )
        for site in sites
    }
    subjects = subjects_for_listing(user)
    statuses = STATUS_FILTERS.get(status_filter, STATUS_FILTERS["active"])[1]
    if statuses is not None:
        subjects = subjects.filter(status__in=statuses)
    for subject in subjects:
        block = blocks.get(subject.site_id)
        if block is None:
            continue
        doses = subject.loaded_doses
        tasks = [
            t
            for t in (
                screening_task(subject),
                dose_task(subject, doses, block.today),
                replacement_task(subject),
            )
            if t
        ]
        if subject.open_aes:
            tasks.append(
                Task(
                    f"{subject.open_aes} adverse event{'s' if subject.open_aes != 1 else ''} "
                    "without a resolution date"
                )
            )
        block.rows.append(
            SubjectRow(
                subject=subject,
                dlt=dlt_info(subject, doses, block.today),
                tasks=tasks,
            )
        )
    return list(blocks.values())


def escalation_tracks(user) -> list[TrackBlock]:
    """Each track of the user's studies: its cohorts (open, full, planned) and its current
    recommendation from the escalation evaluation."""
    tracks = list(
        restrict(EscalationTrack.objects.select_related("regimen", "study"), user).order_by(
            "study", "display_order", "code"
        )
    )
    cohorts = (
        cohorts_with_places(restrict(Cohort.objects.all(), user))
        .exclude(status=Cohort.Status.CLOSED)
        .order_by("number")
    )
    by_track: dict[int, list[CohortLine]] = defaultdict(list)
    for cohort in cohorts:
        by_track[cohort.track_id].append(
            CohortLine(
                cohort=cohort, occupied=cohort.occupied, closed_reason=cohort_closed_reason(cohort)
            )
        )
    current = {
        r.track_id: r
        for r in restrict(
            Recommendation.objects.filter(status__in=Recommendation.CURRENT).select_related(
                "dose_level"
            ),
            user,
        )
    }
    # A site role reads other sites' subjects out of the recommendation (escalation/redaction.py).
    redaction = EscalationRedaction(user)
    return [
        TrackBlock(
            track=t,
            cohorts=by_track.get(t.pk, []),
            recommendation=redaction.recommendation(current.get(t.pk), t.study_id),
        )
        for t in tracks
        if t.status != EscalationTrack.Status.PLANNED or by_track.get(t.pk)
    ]


# --------------------------------------------------------------------------------------------
# Enrollment


@dataclass
class EnrollmentOptions:
    open_cohorts: list[CohortLine]
    reasons: list[str]  # why no cohort takes a subject, per active track
    replacements: list[ReplacementLine] = field(default_factory=list)

    @property
    def cohort_ids(self) -> list[int]:
        """Cohorts a subject can be enrolled into now: a new place, or as a replacement."""
        ids = [line.cohort.pk for line in self.open_cohorts]
        return ids + [r.cohort.pk for r in self.replacements if r.cohort.pk not in ids]


def enrollment_options(user, study) -> EnrollmentOptions:
    """Cohorts with a free place now, places a replacement can take, or in words why no cohort
    takes a subject. Cohort states and wording come from `subjects.services`."""
    cohorts = list(
        cohorts_with_places(restrict(Cohort.objects.filter(study=study), user))
        .exclude(status=Cohort.Status.CLOSED)
        .order_by("track__display_order", "number")
    )
    redaction = EscalationRedaction(user)
    current = {
        r.track_id: redaction.recommendation(r, study.pk)
        for r in restrict(Recommendation.objects.filter(status__in=Recommendation.CURRENT), user)
        .filter(track__study=study)
        .select_related("track")
    }
    open_lines, reasons = [], []
    for cohort in cohorts:
        reason = cohort_closed_reason(cohort)
        if reason is None:
            open_lines.append(CohortLine(cohort, cohort.occupied, None))
        else:
            reasons.append(reason)
    if not open_lines:
        for recommendation in current.values():
            if not recommendation.needs_decision:
                continue
            reasons.append(
                f"{recommendation.track.name}: waiting for the Safety Review Committee to "
                f"confirm the recommendation \u201c{recommendation.text}\u201d."
            )
        if not cohorts:
            reasons.append("No cohort is open: waiting for the Safety Review Committee.")
    return EnrollmentOptions(
        open_cohorts=open_lines,
        reasons=reasons,
        replacements=replacement_candidates(cohorts, current, redaction.hidden_numbers(study.pk)),
    )


# --------------------------------------------------------------------------------------------
# Casebook


ALERT_WORDS = {Notification.Kind.SAE: "SAE", Notification.Kind.NEW_DLT: "DLT"}


@dataclass(frozen=True)
class NotifiedMonitor:
    """One monitor told about an adverse event: which alerts, and when the e-mail left (the
    latest; None while one is still queued)."""

    name: str
    alerts: tuple[str, ...]
    sent_at: dt.datetime | None

    @property
    def summary(self) -> str:
        if self.sent_at is None:
            return f"{self.name} ({', '.join(self.alerts)}; e-mail queued)"
        when = f"e-mailed {self.sent_at.astimezone(dt.UTC):%Y-%m-%d %H:%M} UTC"
        return f"{self.name} ({', '.join(self.alerts)}; {when})"


def notified_monitors(notifications: list[Notification]) -> list[NotifiedMonitor]:
    """Each monitor once, with the alerts they had about the event (SAE, DLT)."""
    by_recipient: dict[int, list[Notification]] = defaultdict(list)
    for note in notifications:
        by_recipient[note.recipient_id].append(note)
    out = []
    for rows in by_recipient.values():
        recipient = rows[0].recipient
        sent = [n.sent_at for n in rows]
        out.append(
            NotifiedMonitor(
                name=recipient.get_full_name() or recipient.username,
                alerts=tuple(
                    ALERT_WORDS.get(n.kind, n.get_kind_display())
                    for n in sorted(rows, key=lambda n: n.kind != Notification.Kind.SAE)
                ),
                sent_at=None if None in sent else max(sent),
            )
        )
    return sorted(out, key=lambda m: m.name)


@dataclass
class Casebook:
    subject: Subject
    today: date
    doses: list[DoseAdministration]
    adverse_events: list[AdverseEvent]
    dlt: DltInfo | None
    timeline: Timeline
    histories: list[RecordHistory]
    notifications: dict[int, list[NotifiedMonitor]]  # by adverse event
    voided_doses: list[DoseAdministration]
    voided_adverse_events: list[AdverseEvent]
    replacement: Subject | None = None  # who took this subject's cohort place
    visible_subject_ids: frozenset[int] = frozenset()  # related subjects the user may open


def casebook(user, subject: Subject) -> Casebook:
    today = site_today(subject.site.timezone)
    all_doses = list(
        DoseAdministration.all_objects.filter(subject=subject)
        .select_related("planned_dose_level")
        .order_by("cycle", "day", "id")
    )
    doses = [d for d in all_doses if d.voided_at is None]
    all_events = list(
        AdverseEvent.all_objects.filter(subject=subject)
        .select_related("ctcae_term", "dlt_attested_by")
        .order_by("onset_date", "id")
    )
    events = [e for e in all_events if e.voided_at is None]
    # Treatment-emergent or not, from the first infusion's start (docs/safety.md §3).
    first = min(doses, key=lambda d: (d.administered_on, d.infusion_start), default=None)
    for event in events:
        event.emergence = emergence_of(
            event, first.infusion_start if first else None, subject.site.timezone
        )
    dlt = dlt_info(subject, doses, today)
    replacement = (
        Subject.objects.filter(replaces=subject).order_by("id").first()
        if subject.cohort_id
        else None
    )
    related = [s.pk for s in (subject.replaces, replacement) if s is not None]
    visible_ids = (
        frozenset(
            restrict(Subject.objects.filter(pk__in=related), user).values_list("pk", flat=True)
        )
        if related
        else frozenset()
    )
    dose_names = {d.pk: f"Dose C{d.cycle}D{d.day}" for d in all_doses}
    ae_names = {
        e.pk: f"Adverse event: {e.ctcae_term.term} (onset {e.onset_date:%Y-%m-%d})"
        for e in all_events
    }
    histories = [
        *record_histories(
            Subject, Subject.history.filter(id=subject.pk), lambda _pk: f"Subject {subject}"
        ),
        *record_histories(
            DoseAdministration,
            DoseAdministration.history.filter(subject_id=subject.pk),
            lambda pk: dose_names.get(pk, f"Dose {pk}"),
        ),
        *record_histories(
            AdverseEvent,
            AdverseEvent.history.filter(subject_id=subject.pk),
            lambda pk: ae_names.get(pk, f"Adverse event {pk}"),
        ),
    ]
    # The record changed most recently first: that is usually the one being looked for.
    histories.sort(key=lambda h: h.entries[0]["at"], reverse=True)
    notes: dict[int, list[Notification]] = defaultdict(list)
    for note in restrict(
        Notification.objects.filter(subject=subject, key__startswith="ae:")
        .select_related("recipient")
        .order_by("recipient__last_name", "recipient__username", "kind"),
        user,
    ):
        try:
            notes[int(note.key.split(":", 1)[1])].append(note)
        except ValueError:
            continue
    return Casebook(
        subject=subject,
        today=today,
        doses=doses,
        adverse_events=events,
        dlt=dlt,
        timeline=build_timeline(subject, doses, events, dlt, today, replacement),
        histories=histories,
        notifications={pk: notified_monitors(rows) for pk, rows in notes.items()},
        voided_doses=[d for d in all_doses if d.voided_at is not None],
        voided_adverse_events=[e for e in all_events if e.voided_at is not None],
        replacement=replacement,
        visible_subject_ids=visible_ids,
    )
