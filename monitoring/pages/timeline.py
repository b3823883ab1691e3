"""The DLT window timeline: each enrolled subject's window, doses and adverse events, by cohort."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import F

from core.dates import site_today
from escalation.selectors import (
    STATUS_LABELS,
    dlt_info,
    dlt_status_of,
)
from monitoring import charts
from safety.models import AdverseEvent
from safety.selectors import dlt_calls_text

from .scope import (
    Scope,
    loaded_doses,
    loaded_events,
    scoped_subjects,
    subject_url,
)


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
