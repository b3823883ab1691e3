"""The casebook's timeline: milestones, doses, adverse events and the DLT window placed on one
date axis (percent positions for the page). Plain geometry over rows already read."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from datetime import date

from escalation.selectors import DltInfo
from subjects.models import Subject


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
            f"End of treatment: {subject.end_of_treatment_reason_text}",
        ),
        (subject.end_of_study_date, f"End of study: {subject.end_of_study_reason_text}"),
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
