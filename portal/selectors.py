"""Reads for the coordinator pages: every queryset that depends on the user goes through
`accounts.scoping.restrict`, and each page runs a fixed number of queries whatever the number of
subjects (related rows are joined, prefetched or counted in subqueries, never fetched per row).

The escalation service stores each subject's DLT status (`subject.dlt_status`) and each track's
current recommendation; where the evaluation has not run yet, the DLT window is computed here from
the first dose with the study's day-count convention, and labelled as such.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from django.db.models import CharField, Count, IntegerField, OuterRef, Prefetch, Q, Subquery, Value
from django.db.models.functions import Cast, Coalesce

from accounts.redaction import EscalationRedaction
from accounts.roles import Capability
from accounts.scoping import can, restrict
from core.dates import site_today
from core.records import history_for_rows
from dosing.models import DoseAdministration
from dosing.services import slot_following
from escalation.models import Notification, Recommendation, SubjectDltStatus
from escalation.rules import dlt_window
from safety.models import AdverseEvent, CtcaeTerm
from subjects.models import Subject
from subjects.selectors import occupied_places_annotation, place_holders
from subjects.services import cohort_closed_reason
from trial.models import Cohort, EscalationTrack, Site

# --------------------------------------------------------------------------------------------
# DLT window


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


def replacements_prefetch() -> Prefetch:
    """The (non-voided) subject who replaced each subject, as `subject.replacements`."""
    return Prefetch(
        "replaced_by",
        queryset=Subject.objects.only(
            "id", "replaces_id", "subject_number", "screening_number", "site_id", "enrollment_date"
        ).order_by("id"),
        to_attr="replacements",
    )


def takes_replacement(cohort: Cohort) -> bool:
    """Can a new subject take a not-evaluable subject's place in this cohort? An open or full
    cohort of an active track (a full cohort accepts a replacement only)."""
    return cohort.track.status == EscalationTrack.Status.ACTIVE and cohort.status in (
        Cohort.Status.OPEN,
        Cohort.Status.FULL,
    )


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


# What the pages show with a subject: its site, study, cohort (dose level, regimen), DLT status and
# the subject it replaces, joined in the subject's own query.
SUBJECT_RELATED = (
    "site",
    "study",
    "cohort__dose_level",
    "cohort__track__regimen",
    "dlt_status",
    "replaces",
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


def cohorts_with_places(queryset):
    """The cohorts with their dose level, track and regimen joined, and `occupied`: the places
    held (`subjects.selectors.occupied_places_annotation`), in the one query."""
    return queryset.select_related("dose_level", "track__regimen").annotate(
        occupied=occupied_places_annotation()
    )


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
    # A site role reads other sites' subjects out of the recommendation (accounts/redaction.py).
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


@dataclass
class TimelineItem:
    kind: str  # milestone, dose, ae, window
    label: str
    start: date
    end: date | None = None
    grade: int | None = None
    flags: tuple[str, ...] = ()
    left: float = 0.0
    width: float = 0.0


@dataclass
class Timeline:
    start: date
    end: date
    today: date
    items: list[TimelineItem]
    ticks: list[tuple[float, str]]

    @property
    def milestones(self):
        return [i for i in self.items if i.kind == "milestone"]

    @property
    def doses(self):
        return [i for i in self.items if i.kind == "dose"]

    @property
    def adverse_events(self):
        return [i for i in self.items if i.kind == "ae"]

    @property
    def window(self):
        return next((i for i in self.items if i.kind == "window"), None)

    @property
    def in_order(self):
        return sorted(self.items, key=lambda i: (i.start, i.kind != "milestone"))


def _enrollment_label(subject) -> str:
    if not subject.cohort_id:
        return ""
    label = f"Enrolled in {subject.cohort}"
    if subject.replaces_id:
        label += f", replacing {subject.replaces} (not evaluable)"
    return label


def build_timeline(
    subject,
    doses,
    adverse_events,
    dlt: DltInfo | None,
    today: date,
    replacement: Subject | None = None,
) -> Timeline:
    items: list[TimelineItem] = []
    for when, label in (
        (subject.screening_date, "Screening"),
        (subject.consent_date, f"Informed consent ({subject.consent_version})"),
        (
            subject.eligibility_assessed_on,
            f"Eligibility: {subject.get_eligibility_outcome_display()}",
        ),
        (subject.enrollment_date, _enrollment_label(subject)),
        (
            subject.end_of_treatment_date,
            f"End of treatment: {subject.end_of_treatment_reason}",
        ),
        (subject.end_of_study_date, f"End of study: {subject.end_of_study_reason}"),
        (subject.death_date, "Death"),
        (
            replacement.enrollment_date if replacement is not None else None,
            f"Replaced by {replacement} (this subject is not evaluable)",
        ),
    ):
        if when is not None and label:
            items.append(TimelineItem("milestone", label, when))
    for dose in doses:
        items.append(
            TimelineItem(
                "dose",
                f"C{dose.cycle}D{dose.day}: {dose.actual_dose_per_kg.normalize():f} "
                f"{dose.dose_unit}, {dose.total_dose_mg.normalize():f} mg",
                dose.administered_on,
            )
        )
    for event in adverse_events:
        flags = tuple(f for f, on in (("SAE", event.serious), ("DLT", event.is_dlt)) if on)
        items.append(
            TimelineItem(
                "ae",
                f"{event.ctcae_term.term}, grade {event.grade}"
                + (f" ({', '.join(flags)})" if flags else "")
                + ("" if event.resolution_date else ", ongoing"),
                event.onset_date,
                event.resolution_date,
                grade=event.grade,
                flags=flags,
            )
        )
    if dlt is not None and dlt.start is not None:
        items.append(
            TimelineItem(
                "window",
                f"DLT window {dlt.start:%Y-%m-%d} to {dlt.end:%Y-%m-%d}",
                dlt.start,
                dlt.end,
            )
        )
    dates = [i.start for i in items] + [i.end for i in items if i.end] + [today]
    start, end = min(dates), max(dates)
    span = max((end - start).days, 1)

    def pos(day: date) -> float:
        return round((day - start).days / span * 100, 2)

    for item in items:
        item.left = pos(item.start)
        last = item.end or (today if item.kind == "ae" else item.start)
        item.width = max(round(pos(last) - item.left, 2), 0.8)
    step = max(span // 6, 1)
    ticks = []
    day = start
    while day <= end:
        ticks.append((pos(day), f"{day:%Y-%m-%d}"))
        day += dt.timedelta(days=step)
    return Timeline(start=start, end=end, today=today, items=items, ticks=ticks)


@dataclass
class RecordHistory:
    label: str
    anchor: str
    entries: list[dict]


def _labels_for(model, rows_changes: list[dict]) -> dict:
    """Resolve foreign-key ids in history changes to readable labels, one query per field."""
    ids: dict[str, set] = defaultdict(set)
    for change in rows_changes:
        try:
            field_obj = model._meta.get_field(change["field"])
        except Exception:  # not a model field
            continue
        if not field_obj.is_relation:
            continue
        for value in (change["old"], change["new"]):
            if value is not None:
                ids[change["field"]].add(value)
    resolved: dict[tuple[str, object], str] = {}
    for name, values in ids.items():
        field_obj = model._meta.get_field(name)
        related = field_obj.related_model
        manager = getattr(related, "all_objects", related.objects)
        queryset = manager.filter(pk__in=values)
        if related is Cohort:
            queryset = queryset.select_related("dose_level", "track__regimen")
        for obj in queryset:
            resolved[(name, obj.pk)] = str(obj)
    return resolved


def format_value(model, name: str, value, labels: dict | None = None) -> str:
    if value is None or value == "":
        return "\u2014"
    try:
        field_obj = model._meta.get_field(name)
    except Exception:  # not a model field (e.g. a derived one)
        field_obj = None
    if labels and (name, value) in labels:
        return labels[(name, value)]
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if field_obj is not None and getattr(field_obj, "choices", None):
        return str(dict(field_obj.flatchoices).get(value, value))
    if isinstance(value, dt.datetime):
        return f"{value.astimezone(dt.UTC):%Y-%m-%d %H:%M} UTC"
    if isinstance(value, date):
        return f"{value:%Y-%m-%d}"
    if isinstance(value, dict):
        return "; ".join(f"{k}: {'yes' if v else 'no'}" for k, v in value.items())
    if hasattr(value, "normalize"):
        return f"{value.normalize():f}"
    return str(value)


def field_label(model, name: str) -> str:
    try:
        label = str(model._meta.get_field(name).verbose_name)
    except Exception:
        label = name.replace("_", " ")
    return label[:1].upper() + label[1:]


def describe_changes(model, changes: list[dict], labels: dict | None = None) -> list[dict]:
    """Changes as readable rows: field label, old and new values."""
    if labels is None:
        labels = _labels_for(model, changes)
    out = []
    for change in changes:
        name = change["field"]
        old, new = change["old"], change["new"]
        if isinstance(old, dict) and isinstance(new, dict):
            keys = [k for k in {**old, **new} if old.get(k) != new.get(k)]
            for key in keys:
                out.append(
                    {
                        "field": f"{field_label(model, name)}: {key}",
                        "old": format_value(model, "", old.get(key)),
                        "new": format_value(model, "", new.get(key)),
                    }
                )
            continue
        out.append(
            {
                "field": field_label(model, name),
                "old": format_value(model, name, old, labels),
                "new": format_value(model, name, new, labels),
            }
        )
    return out


# Bookkeeping, not data entered: left out of the values a "created" entry lists.
NOT_ENTERED = {
    "id",
    "version",
    "created_at",
    "created_by",
    "updated_at",
    "voided_at",
    "voided_by",
    "void_reason",
    "subject",
    "study",
}


def initial_values(model, row) -> list[dict]:
    """What was first entered, as changes from nothing: every data field of the record's first
    history row that holds a value."""
    values = []
    for field_obj in model._meta.concrete_fields:
        if field_obj.name in NOT_ENTERED:
            continue
        value = getattr(row, field_obj.attname, None)
        if value is None or value is False or value in ("", {}, []):
            continue
        values.append({"field": field_obj.name, "old": None, "new": value})
    return values


def _histories(model, rows, record_label) -> list[RecordHistory]:
    """One RecordHistory per record among the history rows, with readable changes; a
    "created" entry lists the values first entered."""
    rows = list(rows.select_related("history_user").order_by("history_id"))
    entries = history_for_rows(rows)
    for entry, row in zip(entries, rows, strict=True):
        if entry["type"] == "created":
            entry["changes"] = initial_values(model, row)
            entry["initial"] = True
    labels = _labels_for(model, [c for e in entries for c in e["changes"]])
    grouped: dict[int, list[dict]] = defaultdict(list)
    for entry in entries:
        entry["changes"] = describe_changes(model, entry["changes"], labels)
        grouped[entry["record_id"]].append(entry)
    return [
        RecordHistory(
            label=record_label(record_id),
            anchor=f"history-{model._meta.model_name}-{record_id}",
            entries=list(reversed(items)),
        )
        for record_id, items in grouped.items()
    ]


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


def subject_for(user, pk: int, capability: Capability = Capability.VIEW):
    """The subject, scoped to the user (another site's subject is not found)."""
    return restrict(Subject.objects.select_related(*SUBJECT_RELATED), user, capability).get(pk=pk)


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
        .select_related("ctcae_term")
        .order_by("onset_date", "id")
    )
    events = [e for e in all_events if e.voided_at is None]
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
        *_histories(
            Subject, Subject.history.filter(id=subject.pk), lambda _pk: f"Subject {subject}"
        ),
        *_histories(
            DoseAdministration,
            DoseAdministration.history.filter(subject_id=subject.pk),
            lambda pk: dose_names.get(pk, f"Dose {pk}"),
        ),
        *_histories(
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


# --------------------------------------------------------------------------------------------
# CTCAE


def search_terms(query: str, limit: int = 30) -> list[CtcaeTerm]:
    """By term (words in any order) or by MedDRA code; terms starting with the query first."""
    query = (query or "").strip()
    if not query:
        return []
    terms = CtcaeTerm.objects.all()
    if query.isdigit():
        terms = terms.annotate(code_text=Cast("meddra_code", CharField())).filter(
            code_text__startswith=query
        )
    else:
        for word in query.split()[:6]:
            terms = terms.filter(Q(term__icontains=word) | Q(soc__icontains=word))
    found = list(terms.order_by("term")[:200])
    lowered = query.lower()
    found.sort(
        key=lambda t: (
            not t.term.lower().startswith(lowered),
            lowered not in t.term.lower(),
            t.term,
        )
    )
    return found[:limit]
