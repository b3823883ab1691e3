"""Geometry of the dashboard's SVG charts, computed on the server from plain data.

No database and no Django here: the selectors pass plain values in, the templates draw the
shapes out. Every mark carries a text title (the tooltip and what a screen reader announces), and
each chart has a table beside it with the same facts, so colour is never the only cue.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

# Subject status -> (label, marker shape). The shapes differ as well as the colours.
STATUS_MARKERS = {
    "dlt": ("DLT", "diamond"),
    "evaluable_no_dlt": ("Evaluable, no DLT", "circle"),
    "pending": ("DLT window open", "ring"),
    "not_evaluable": ("Not evaluable", "square"),
    "not_dosed": ("Awaiting first dose", "dashed"),
    "unevaluated": ("Not evaluated yet", "dashed"),
    "open_place": ("Open place", "place"),
}

GRADE_LABELS = {
    1: "Grade 1 (mild)",
    2: "Grade 2 (moderate)",
    3: "Grade 3 (severe)",
    4: "Grade 4 (life-threatening)",
    5: "Grade 5 (death)",
}


# --------------------------------------------------------------------------------------------
# Dose-escalation ladder


@dataclass(frozen=True)
class LadderLevel:
    id: int
    label: str


@dataclass(frozen=True)
class LadderSubject:
    label: str
    status: str  # a STATUS_MARKERS key
    detail: str = ""


@dataclass(frozen=True)
class LadderCohort:
    number: int
    level_id: int
    planned_size: int
    status: str  # open, full, closed, planned
    subjects: tuple[LadderSubject, ...]
    opened_by: str = ""  # how the cohort came to be, e.g. "confirmed by A. Monitor 2026-01-02"


@dataclass(frozen=True)
class LadderNext:
    """The current recommendation: a next cohort at a level, or a decision about a level."""

    level_id: int | None
    n_subjects: int
    text: str
    awaiting_committee: bool


@dataclass
class Marker:
    x: float
    y: float
    shape: str
    status: str
    title: str


@dataclass
class Arrow:
    x1: float
    y1: float
    x2: float
    y2: float
    kind: str  # escalate, same, de-escalate
    title: str
    proposed: bool = False


@dataclass
class Ladder:
    width: int
    height: int
    plot_left: int
    plot_right: int
    rows: list[dict]  # y, label, band_y, band_h
    columns: list[dict]  # x, label, sublabel, status
    markers: list[Marker]
    arrows: list[Arrow]
    next_box: dict | None
    highlight_row: dict | None
    title: str
    description: str

    @property
    def plot_width(self) -> int:
        return self.plot_right - self.plot_left

    @property
    def label_x(self) -> int:
        return self.plot_left - 10

    @property
    def label_y(self) -> int:
        return self.height - 26

    @property
    def sublabel_y(self) -> int:
        return self.height - 11


LADDER_LEFT = 118
LADDER_TOP = 14
LADDER_ROW = 50
LADDER_COL = 88
LADDER_BOTTOM = 46
MARK_GAP = 15
LADDER_MIN_COLUMNS = 4


def _slots(cx: float, cy: float, n: int) -> list[tuple[float, float]]:
    per_line = 3 if n <= 6 else 5
    lines = max(1, -(-n // per_line))
    points = []
    for i in range(n):
        line, pos = divmod(i, per_line)
        in_line = min(per_line, n - line * per_line)
        x = cx + (pos - (in_line - 1) / 2) * MARK_GAP
        y = cy + (line - (lines - 1) / 2) * MARK_GAP
        points.append((round(x, 1), round(y, 1)))
    return points


def _direction(previous: int, current: int) -> str:
    if current > previous:
        return "escalate"
    if current < previous:
        return "de-escalate"
    return "same"


DIRECTION_WORDS = {
    "escalate": "escalation",
    "same": "same dose",
    "de-escalate": "de-escalation",
}


def _cohort_markers(cohort: LadderCohort, cx: float, cy: float) -> list[Marker]:
    """One marker per subject of the cohort, then one per place still open."""
    markers = []
    places = max(cohort.planned_size, len(cohort.subjects))
    for i, (x, y) in enumerate(_slots(cx, cy, places)):
        if i < len(cohort.subjects):
            subject = cohort.subjects[i]
            status_label, shape = STATUS_MARKERS.get(subject.status, ("", "dashed"))
            title = f"{subject.label}: {status_label}"
            if subject.detail:
                title += f" ({subject.detail})"
            markers.append(Marker(x, y, shape, subject.status, f"{title}; cohort {cohort.number}"))
        elif cohort.status in ("open", "planned"):
            markers.append(
                Marker(x, y, "place", "open_place", f"Open place in cohort {cohort.number}")
            )
    return markers


def ladder_chart(
    track_name: str,
    levels: list[LadderLevel],
    cohorts: list[LadderCohort],
    next_step: LadderNext | None,
) -> Ladder:
    """Dose levels up the y-axis, the track's cohorts in order along the x-axis, one marker per
    subject (or open place), arrows for the steps, and the recommended next step dashed."""
    level_ids = [level.id for level in levels]
    for cohort in cohorts:  # a cohort at a level outside the list still gets a row
        if cohort.level_id not in level_ids:
            level_ids.append(cohort.level_id)
            levels = [*levels, LadderLevel(cohort.level_id, f"level {cohort.level_id}")]
    index = {level_id: i for i, level_id in enumerate(level_ids)}
    n_rows = max(1, len(levels))
    proposes_cohort = next_step is not None and next_step.level_id in index
    n_cols = max(1, len(cohorts) + (1 if proposes_cohort and next_step.n_subjects else 0))
    width = LADDER_LEFT + max(n_cols, LADDER_MIN_COLUMNS) * LADDER_COL + 16
    height = LADDER_TOP + n_rows * LADDER_ROW + LADDER_BOTTOM

    def y_of(level_id: int) -> float:
        return LADDER_TOP + (n_rows - 1 - index[level_id] + 0.5) * LADDER_ROW

    def x_of(column: int) -> float:
        return LADDER_LEFT + (column + 0.5) * LADDER_COL

    rows = [
        {
            "y": y_of(level.id),
            "band_y": y_of(level.id) - LADDER_ROW / 2,
            "band_h": LADDER_ROW,
            "label": level.label,
            "odd": i % 2 == 1,
        }
        for i, level in enumerate(levels)
    ]
    columns, markers, arrows = [], [], []
    previous = None
    for column, cohort in enumerate(cohorts):
        cx, cy = x_of(column), y_of(cohort.level_id)
        label = levels[index[cohort.level_id]].label
        columns.append(
            {
                "x": cx,
                "label": f"C{cohort.number}",
                "sublabel": cohort.status,
                "title": f"Cohort {cohort.number} at {label}: {cohort.status}, "
                f"{len(cohort.subjects)} of {cohort.planned_size} enrolled",
            }
        )
        markers.extend(_cohort_markers(cohort, cx, cy))
        if previous is not None:
            px, py, plevel = previous
            kind = _direction(index[plevel], index[cohort.level_id])
            arrows.append(
                Arrow(
                    px + LADDER_COL * 0.3,
                    py,
                    cx - LADDER_COL * 0.3,
                    cy,
                    kind,
                    f"Cohort {cohort.number}: {DIRECTION_WORDS[kind]} to {label}"
                    + (f", {cohort.opened_by}" if cohort.opened_by else ""),
                )
            )
        previous = (cx, cy, cohort.level_id)

    next_box = highlight_row = None
    if next_step is not None and proposes_cohort and next_step.n_subjects:
        column = len(cohorts)
        cx, cy = x_of(column), y_of(next_step.level_id)
        label = levels[index[next_step.level_id]].label
        state = "awaiting the committee" if next_step.awaiting_committee else "current"
        next_box = {
            "x": cx - LADDER_COL / 2 + 4,
            "y": cy - LADDER_ROW / 2 + 3,
            "w": LADDER_COL - 8,
            "h": LADDER_ROW - 6,
            "cx": cx,
            "title": f"Recommended ({state}): {next_step.text}",
        }
        columns.append(
            {"x": cx, "label": "next", "sublabel": "recommended", "title": next_box["title"]}
        )
        for x, y in _slots(cx, cy, next_step.n_subjects):
            markers.append(Marker(x, y, "proposed", "proposed", f"Recommended place at {label}"))
        if previous is not None:
            px, py, plevel = previous
            kind = _direction(index[plevel], index[next_step.level_id])
            arrows.append(
                Arrow(
                    px + LADDER_COL * 0.3,
                    py,
                    cx - LADDER_COL * 0.3,
                    cy,
                    kind,
                    f"Recommended {DIRECTION_WORDS[kind]} to {label} ({state})",
                    proposed=True,
                )
            )
    elif next_step is not None and next_step.level_id in index:
        y = y_of(next_step.level_id)
        highlight_row = {
            "y": y - LADDER_ROW / 2,
            "h": LADDER_ROW,
            "title": f"Recommendation: {next_step.text}",
        }

    steps = len(cohorts)
    description = (
        f"{track_name}: {steps} cohort{'s' if steps != 1 else ''} over "
        f"{len(levels)} dose level{'s' if len(levels) != 1 else ''}."
    )
    if next_step is not None:
        description += f" Current recommendation: {next_step.text}."
    return Ladder(
        width=width,
        height=height,
        plot_left=LADDER_LEFT,
        plot_right=width - 16,
        rows=rows,
        columns=columns,
        markers=markers,
        arrows=arrows,
        next_box=next_box,
        highlight_row=highlight_row,
        title=f"Dose-escalation ladder, {track_name}",
        description=description,
    )


# --------------------------------------------------------------------------------------------
# DLT window timeline


@dataclass(frozen=True)
class TimelineEvent:
    onset: date
    resolution: date | None
    grade: int
    term: str
    is_dlt: bool = False
    serious: bool = False
    calls: str = ""  # both DLT calls in words, when either was made


@dataclass(frozen=True)
class TimelineDose:
    given_on: date
    label: str  # C1D1
    fraction: float | None = None


@dataclass(frozen=True)
class TimelineSubject:
    key: int
    label: str
    sublabel: str
    status: str
    status_label: str
    window_start: date | None
    window_end: date | None
    today: date  # the site's today
    doses: tuple[TimelineDose, ...] = ()
    events: tuple[TimelineEvent, ...] = ()
    url: str = ""


@dataclass(frozen=True)
class TimelineGroup:
    label: str
    subjects: tuple[TimelineSubject, ...]


@dataclass
class TimelineChart:
    width: int
    height: int
    plot_left: int
    plot_right: int
    top: int
    start: date
    end: date
    ticks: list[dict]
    lines: list[dict]  # header rows and subject rows, in order, with their marks
    today_line: dict | None
    title: str
    description: str

    @property
    def grid_top(self) -> int:
        return self.top - 6

    @property
    def tick_y(self) -> int:
        return self.top - 12


TIMELINE_LEFT = 200
TIMELINE_WIDTH = 1100
TIMELINE_TOP = 34
HEADER_ROW = 26
SUBJECT_ROW = 30


def _ticks(start: date, end: date) -> list[date]:
    """Axis ticks: every day, 2 days, week (Mondays) or fortnight; months beyond that."""
    span = (end - start).days + 1
    for step in (1, 2, 7, 14):
        if span / step <= 14:
            day = start if step < 7 else start + timedelta(days=(7 - start.weekday()) % 7)
            out = []
            while day <= end:
                out.append(day)
                day += timedelta(days=step)
            return out
    months = (end.year - start.year) * 12 + end.month - start.month + 1
    step = max(1, -(-months // 12))
    year, month = start.year, start.month + (0 if start.day == 1 else 1)
    out, i = [], 0
    while True:
        if month > 12:
            year, month = year + 1, month - 12
        day = date(year, month, 1)
        if day > end:
            return out
        if i % step == 0:
            out.append(day)
        i += 1
        month += 1


def timeline_bounds(groups: list[TimelineGroup]) -> tuple[date, date] | None:
    days = []
    for group in groups:
        for s in group.subjects:
            days += [d for d in (s.window_start, s.window_end) if d]
            days += [d.given_on for d in s.doses]
            days += [e.onset for e in s.events]
            if s.window_start:
                days.append(s.today)
    if not days:
        return None
    return min(days) - timedelta(days=2), max(days) + timedelta(days=2)


def _event_marks(s, x_of, scale: float, start: date, end: date) -> list[dict]:
    """A subject's adverse events inside [start, end] as marks at their onset, worst grade
    first on a day, nudged apart when several share it."""
    marks = []
    seen: dict[date, int] = {}
    for event in sorted(s.events, key=lambda e: (e.onset, -e.grade)):
        if not start <= event.onset <= end:
            continue
        nudge = seen.get(event.onset, 0)
        seen[event.onset] = nudge + 1
        x = x_of(event.onset) + scale / 2 + nudge * 9
        stop = min(event.resolution or end, end)
        flags = []
        if event.is_dlt:
            flags.append("DLT")
        if event.serious:
            flags.append("serious")
        marks.append(
            {
                "x": round(x, 1),
                "mark_x": round(x - 6, 1),
                "grade": event.grade,
                "is_dlt": event.is_dlt,
                "serious": event.serious,
                "span_w": max(0.0, round((stop - event.onset).days * scale, 1)),
                "title": f"{s.label}: {event.term}, {GRADE_LABELS.get(event.grade, event.grade)}, "
                f"onset {event.onset:%Y-%m-%d}"
                + (f", resolved {event.resolution:%Y-%m-%d}" if event.resolution else ", ongoing")
                + (f" ({', '.join(flags)})" if flags else "")
                + (f"; DLT calls: {event.calls}" if event.calls else ""),
            }
        )
    return marks


def timeline_chart(
    groups: list[TimelineGroup],
    *,
    start: date | None = None,
    end: date | None = None,
    title: str = "DLT windows",
) -> TimelineChart | None:
    """One row per subject under a header per cohort: the DLT window as a band, a tick per
    dose, a mark per adverse event at its onset coloured by grade (DLTs ringed), and each
    site's today. Marks outside [start, end] are left out (the table beside lists them all)."""
    bounds = timeline_bounds(groups)
    if bounds is None and (start is None or end is None):
        return None
    start = start or bounds[0]
    end = end or bounds[1]
    if end < start:
        start, end = end, start
    days = (end - start).days + 1
    plot_left, plot_right = TIMELINE_LEFT, TIMELINE_WIDTH - 12
    scale = (plot_right - plot_left) / days

    def x_of(day: date) -> float:
        return round(plot_left + (day - start).days * scale, 1)

    def inside(day: date) -> bool:
        return start <= day <= end

    lines: list[dict] = []
    y = TIMELINE_TOP
    todays = set()
    n_subjects = 0
    for group in groups:
        lines.append(
            {"kind": "header", "y": y, "h": HEADER_ROW, "text_y": y + 17, "label": group.label}
        )
        y += HEADER_ROW
        for s in group.subjects:
            n_subjects += 1
            cy = y + SUBJECT_ROW / 2
            line = {
                "kind": "subject",
                "y": y,
                "cy": cy,
                "h": SUBJECT_ROW,
                "bottom": y + SUBJECT_ROW,
                "band_y": cy - 9,
                "tick_top": cy - 12,
                "tick_bottom": cy + 12,
                "mark_y": cy - 6,
                "span_y": cy + 7,
                "text_y": cy + 0.5,
                "label_x": plot_left - 8,
                "subject": s,
                "band": None,
                "doses": [],
                "events": [],
                "today_x": x_of(s.today) + scale / 2 if inside(s.today) else None,
            }
            todays.add(s.today)
            if s.window_start and s.window_end:
                left = max(s.window_start, start)
                right = min(s.window_end, end)
                if left <= right:
                    line["band"] = {
                        "x": x_of(left),
                        "w": max(1.0, round((right - left).days * scale + scale, 1)),
                        "title": f"{s.label}: DLT window {s.window_start:%Y-%m-%d} to "
                        f"{s.window_end:%Y-%m-%d} ({s.status_label})",
                    }
            for dose in s.doses:
                if inside(dose.given_on):
                    fraction = (
                        f", {dose.fraction:.0%} of planned" if dose.fraction is not None else ""
                    )
                    line["doses"].append(
                        {
                            "x": x_of(dose.given_on) + scale / 2,
                            "title": f"{s.label}: dose {dose.label} on {dose.given_on:%Y-%m-%d}{fraction}",
                            "label": dose.label,
                        }
                    )
            line["events"] = _event_marks(s, x_of, scale, start, end)
            lines.append(line)
            y += SUBJECT_ROW
    height = y + 10
    today_line = None
    if len(todays) == 1:
        (today,) = todays
        if inside(today):
            today_line = {"x": x_of(today) + scale / 2, "label": f"Today {today:%Y-%m-%d}"}
    monthly = days / 14 > 14
    ticks = [
        {"x": x_of(day), "label": f"{day:%b %Y}" if monthly else f"{day:%d %b}"}
        for day in _ticks(start, end)
    ]

    return TimelineChart(
        width=TIMELINE_WIDTH,
        height=int(height),
        plot_left=plot_left,
        plot_right=plot_right,
        top=TIMELINE_TOP,
        start=start,
        end=end,
        ticks=ticks,
        lines=lines,
        today_line=today_line,
        title=title,
        description=(
            f"{n_subjects} subject{'s' if n_subjects != 1 else ''} from {start:%Y-%m-%d} to "
            f"{end:%Y-%m-%d}: DLT windows as bands, doses as ticks, adverse events as squares "
            "numbered with their grade, DLTs ringed. The table below lists the same."
        ),
    )
