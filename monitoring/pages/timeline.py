"""The DLT window timeline: each enrolled subject's window, doses and adverse events, by cohort."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import NamedTuple

from django.db.models import (
    BooleanField,
    Count,
    DateField,
    ExpressionWrapper,
    F,
    OuterRef,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce

from core.dates import site_today
from dosing.models import DoseAdministration
from escalation.selectors import (
    STATUS_LABELS,
    dlt_info,
    dlt_status_of,
    dlt_window_span,
)
from monitoring import charts
from safety.models import AdverseEvent
from safety.selectors import DLT_FINAL, dlt_calls_text

from .paging import Pager
from .scope import (
    Scope,
    scoped_subjects,
    subject_url,
)

# A page of the timeline draws up to SUBJECTS_PER_PAGE subjects and MARKS_PER_PAGE doses and
# adverse events, and reads only theirs: its time does not grow with the study.
SUBJECTS_PER_PAGE = 20
MARKS_PER_PAGE = 400


class TimelineEventRow(NamedTuple):
    """What the timeline shows of an adverse event (`final_dlt`: safety.selectors.DLT_FINAL)."""

    id: int
    subject_id: int
    onset_date: date
    resolution_date: date | None
    grade: int
    term: str
    serious: bool
    dlt_investigator: bool
    dlt_adjudicated: bool | None
    dlt_attested_at: datetime | None
    final_dlt: bool


@dataclass
class TimelinePage:
    groups: list[charts.TimelineGroup]  # this page's subjects, by cohort
    chart: charts.TimelineChart | None
    pager: Pager

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


def _placed(user, scope: Scope) -> list[int]:
    """The subjects of the selection whose window (or enrollment, before the first dose) meets
    the date range, in the order drawn (by track, cohort, enrollment): one query of plain
    values, the window as `dlt_info` gives it (worked out only when there is a date range)."""
    rows = scoped_subjects(user, scope).select_related(None)
    dated = bool(scope.date_from or scope.date_to)
    if dated:
        first_dose = (
            DoseAdministration.objects.filter(subject=OuterRef("pk"))
            .order_by("administered_on")
            .values("administered_on")[:1]
        )
        rows = rows.annotate(first_dose_on=Subquery(first_dose))
    else:
        rows = rows.annotate(first_dose_on=Value(None, output_field=DateField()))
    order = {t.pk: t.display_order for t in scope.tracks}
    convention = scope.study.dlt_window_convention
    placed = []
    for pk, enrolled, cohort, track, days, status, w_start, w_end, first in rows.values_list(
        "pk",
        "enrollment_date",
        "cohort__number",
        "cohort__track_id",
        "cohort__track__regimen__dlt_window_days",
        "dlt_status__pk",
        "dlt_status__window_start",
        "dlt_status__window_end",
        "first_dose_on",
    ):
        if dated:
            stored = (w_start, w_end) if status is not None else None
            start, end = dlt_window_span(stored, first, days, convention)
            if not scope.overlaps(start or enrolled, end):
                continue
        placed.append(((order.get(track, 0), cohort), pk))
    # Stable: by enrollment within a cohort, as the subjects came.
    return [pk for _, pk in sorted(placed, key=lambda row: row[0])]


def _counted(queryset):
    """Subjects with their number of doses and adverse events (`marks`): each counted on its
    subject's index, so a page pays for its own subjects' rows only."""

    def count(model):
        rows = model.objects.filter(subject=OuterRef("pk")).order_by().values("subject")
        return Coalesce(Subquery(rows.annotate(n=Count("pk")).values("n")), 0)

    return queryset.annotate(marks=count(DoseAdministration) + count(AdverseEvent))


def _pages(marks: list[int]) -> list[int]:
    """Where each page starts: up to SUBJECTS_PER_PAGE subjects and MARKS_PER_PAGE doses and
    adverse events a page (a subject with more than that has a page of their own)."""
    starts, subjects, total = [0], 0, 0
    for i, n in enumerate(marks):
        if subjects and (subjects == SUBJECTS_PER_PAGE or total + n > MARKS_PER_PAGE):
            starts.append(i)
            subjects, total = 0, 0
        subjects += 1
        total += n
    return starts


def _by_subject(queryset, ids: list[int]) -> dict[int, list]:
    """The rows of `queryset` of these subjects, by subject, in the queryset's order."""
    rows: dict[int, list] = {pk: [] for pk in ids}
    for row in queryset.filter(subject_id__in=ids):
        rows[row.subject_id].append(row)
    return rows


def _page_of(user, scope: Scope, page: int, whole: bool) -> tuple[Pager, list]:
    """The pager and the page's subjects (with their site, cohort, DLT status and study): pages
    follow one another through the placed subjects, so page N reads the doses and events counts
    of the subjects of pages 1 to N only (at most N x SUBJECTS_PER_PAGE of them). Two queries."""
    placed = _placed(user, scope)
    subjects = scoped_subjects(user, scope).select_related("study")  # its window convention
    if whole:
        by_pk = {s.pk: s for s in subjects.filter(pk__in=placed)}
        pager = Pager(number=1, pages=1, total=len(placed), per_page=max(1, len(placed)))
        return pager, [by_pk[pk] for pk in placed]
    page = max(1, page)
    candidates = placed[: page * SUBJECTS_PER_PAGE]  # pages 1 to `page` lie among them
    by_pk = {s.pk: s for s in _counted(subjects.filter(pk__in=candidates))}
    starts = _pages([by_pk[pk].marks for pk in candidates])
    number = min(page, len(starts))
    begin = starts[number - 1]
    end = starts[number] if number < len(starts) else len(candidates)
    known = len(candidates) == len(placed)  # every page is known, not only the first ones
    pager = Pager(
        number=number,
        pages=len(starts) if known else None,
        more=end < len(placed),
        total=len(placed),
        per_page=SUBJECTS_PER_PAGE,
        span=(begin + 1, end) if end > begin else (0, 0),
    )
    return pager, [by_pk[pk] for pk in candidates[begin:end]]


def dlt_timeline(user, scope: Scope, *, page: int = 1, whole: bool = False) -> TimelinePage:
    """A page of subjects (`whole`: all of them, for the CSV), each with their window, doses and
    adverse events: four queries (the subjects placed, the pages' subjects with their counts,
    the page's doses, the page's events) whatever the size of the study."""
    pager, shown = _page_of(user, scope, page, whole)
    pager.anchor, pager.query = "chart-title", scope.query()
    ids = [subject.pk for subject in shown]
    doses = _by_subject(DoseAdministration.objects.order_by("administered_on", "cycle", "day"), ids)
    # Plain rows, not an AdverseEvent object per event: a page can draw hundreds.
    events = _by_subject(
        AdverseEvent.objects.annotate(
            term=F("ctcae_term__term"),
            final_dlt=ExpressionWrapper(DLT_FINAL, output_field=BooleanField()),
        )
        .order_by("onset_date", "id")
        .values_list(*TimelineEventRow._fields, named=True),
        ids,
    )
    groups: dict[int, tuple[str, list]] = {}  # in the order placed: by track, then cohort
    for subject in shown:
        pk = subject.pk
        status = dlt_status_of(subject)
        cohort = subject.cohort
        today = site_today(subject.site.timezone)
        window = dlt_info(subject, doses[pk], today)
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
                for d in doses[subject.pk]
            ),
            events=tuple(
                charts.TimelineEvent(
                    onset=e.onset_date,
                    resolution=e.resolution_date,
                    grade=e.grade,
                    term=e.term,
                    is_dlt=e.final_dlt or e.id == dlt_event_id,
                    serious=e.serious,
                    calls=dlt_calls_text(e)
                    if e.dlt_investigator or e.dlt_adjudicated is not None
                    else "",
                )
                for e in events[subject.pk]
            ),
            url=subject_url(subject.pk),
        )
        key = cohort.pk
        if key not in groups:
            label = (
                f"Cohort {cohort.number} · {cohort.dose_level.label} "
                f"{cohort.track.regimen.code} · {cohort.get_status_display()}"
            )
            groups[key] = (label, [])
        groups[key][1].append(row)
    ordered = [
        charts.TimelineGroup(label=label, subjects=tuple(rows)) for label, rows in groups.values()
    ]
    chart = charts.timeline_chart(
        ordered,
        start=scope.date_from,
        end=scope.date_to,
        title=f"DLT windows, {scope.describe()}",
    )
    return TimelinePage(groups=ordered, chart=chart, pager=pager)
