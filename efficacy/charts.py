"""Geometry of the efficacy plots, computed on the server from plain values (docs/efficacy.md
§16): waterfall, spider, swimmer and Kaplan-Meier. No database and no Django here; the
templates draw the shapes, every mark has a text title, and each plot has its table and CSV
beside it, so colour is never the only cue.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction

WIDTH = 720
LEFT = 56
RIGHT = 16
TOP = 16
PLOT_W = WIDTH - LEFT - RIGHT


@dataclass(frozen=True)
class Tick:
    position: float
    label: str


def _ticks(lo: float, hi: float, step: float, scale, fmt="{:g}") -> list[Tick]:
    first = math.ceil(lo / step) * step
    ticks = []
    value = first
    while value <= hi + 1e-9:
        ticks.append(Tick(round(scale(value), 1), fmt.format(value)))
        value += step
    return ticks


# ---------------------------------------------------------------------------------------------
# Waterfall: best % change of the sum of diameters from baseline, a bar per subject


@dataclass(frozen=True)
class WaterfallInput:
    label: str
    best_change_pct: Decimal
    bor: str
    dose_level: str
    pd_other: bool = False  # PD from non-target or new lesions (marked)


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    css: str
    title: str
    marker: bool = False
    label: str = ""


@dataclass
class Waterfall:
    height: int
    bars: list[Bar]
    y_ticks: list[Tick]
    zero_y: float
    line_pd: float
    line_pr: float
    width: int = WIDTH
    left: int = LEFT


def waterfall(items: Sequence[WaterfallInput], height: int = 280) -> Waterfall:
    plot_h = height - TOP - 40
    ordered = sorted(items, key=lambda i: (-i.best_change_pct, i.label))
    top = max([20.0, *(float(i.best_change_pct) for i in ordered)])
    top = min(math.ceil(top / 20) * 20, 200.0)
    bottom = -100.0

    def scale(value: float) -> float:
        value = max(bottom, min(top, value))
        return TOP + (top - value) / (top - bottom) * plot_h

    zero = scale(0)
    slot = PLOT_W / max(len(ordered), 1)
    bars = []
    for index, item in enumerate(ordered):
        value = float(item.best_change_pct)
        y = scale(value)
        bars.append(
            Bar(
                x=round(LEFT + index * slot + slot * 0.15, 1),
                y=round(min(y, zero), 1),
                width=round(slot * 0.7, 1),
                height=round(max(abs(zero - y), 1), 1),
                css=f"bor-{item.bor.replace('/', '-').lower()}",
                title=f"{item.label} ({item.dose_level}): best change {item.best_change_pct}% "
                f"from baseline; best overall response {item.bor}"
                + ("; PD from non-target or new lesions" if item.pd_other else ""),
                marker=item.pd_other,
                label=item.label,
            )
        )
    return Waterfall(
        height=height,
        bars=bars,
        y_ticks=_ticks(bottom, top, 20, scale, "{:+g}%"),
        zero_y=round(zero, 1),
        line_pd=round(scale(20), 1),
        line_pr=round(scale(-30), 1),
    )


# ---------------------------------------------------------------------------------------------
# Spider: % change of the sum over weeks since the first dose, a line per subject


@dataclass(frozen=True)
class SpiderLine:
    label: str
    css: str
    points: str  # "x,y x,y ..."
    dots: tuple[tuple[float, float, str], ...]


@dataclass
class Spider:
    height: int
    lines: list[SpiderLine]
    x_ticks: list[Tick]
    y_ticks: list[Tick]
    line_pd: float
    line_pr: float
    zero_y: float
    width: int = WIDTH
    left: int = LEFT


def spider(
    series: Sequence[tuple[str, str, Sequence[tuple[int, Decimal]]]], height: int = 280
) -> Spider:
    """`series`: (label, BOR, [(study day, % change), ...]) per subject."""
    plot_h = height - TOP - 40
    weeks = [day / 7 for _, _, points in series for day, _ in points]
    right = max([12.0, *weeks])
    right = math.ceil(right / 6) * 6
    values = [float(v) for _, _, points in series for _, v in points]
    top = min(math.ceil(max([20.0, *values]) / 20) * 20, 200.0)
    bottom = -100.0

    def sx(week: float) -> float:
        return LEFT + week / right * PLOT_W

    def sy(value: float) -> float:
        value = max(bottom, min(top, value))
        return TOP + (top - value) / (top - bottom) * plot_h

    lines = []
    for label, bor, points in series:
        coords = [(0.0, 0.0)] + [(day / 7, float(v)) for day, v in points]
        xy = [(round(sx(w), 1), round(sy(v), 1)) for w, v in coords]
        dots = tuple(
            (x, y, f"{label}: week {w:.1f}, {v:+.1f}% from baseline")
            for (x, y), (w, v) in zip(xy[1:], coords[1:], strict=True)
        )
        lines.append(
            SpiderLine(
                label,
                f"bor-{bor.replace('/', '-').lower()}",
                " ".join(f"{x},{y}" for x, y in xy),
                dots,
            )
        )
    return Spider(
        height=height,
        lines=lines,
        x_ticks=_ticks(0, right, 6, sx),
        y_ticks=_ticks(bottom, top, 20, sy, "{:+g}%"),
        line_pd=round(sy(20), 1),
        line_pr=round(sy(-30), 1),
        zero_y=round(sy(0), 1),
    )


# ---------------------------------------------------------------------------------------------
# Swimmer: time on treatment per subject, by dose level, with response, PD and death marks


@dataclass(frozen=True)
class SwimmerInput:
    label: str
    dose_level: str
    treatment_days: int  # first dose to the last dose (or end of treatment), day 1 included
    follow_up_days: int  # to the last date known (a thinner bar beyond treatment)
    response_day: int | None
    response: str  # CR/PR or ""
    progression_day: int | None
    death_day: int | None
    ongoing: bool


@dataclass(frozen=True)
class Mark:
    x: float
    y: float
    kind: str  # response, progression, death
    title: str


@dataclass(frozen=True)
class Lane:
    label: str
    dose_level: str
    y: float
    x0: float
    x_treatment: float
    x_follow_up: float
    title: str
    ongoing: bool
    marks: tuple[Mark, ...]


@dataclass
class Swimmer:
    height: int
    lanes: list[Lane]
    x_ticks: list[Tick]
    lane_h: int
    width: int = WIDTH
    left: int = 110


def swimmer(items: Sequence[SwimmerInput], lane_h: int = 22) -> Swimmer:
    left = 110
    plot_w = WIDTH - left - RIGHT - 16
    ordered = sorted(items, key=lambda i: (i.dose_level, -i.follow_up_days, i.label))
    right_days = max([84, *(i.follow_up_days for i in ordered)])
    right_weeks = math.ceil(right_days / 7 / 6) * 6

    def sx(day: float) -> float:
        return left + day / (right_weeks * 7) * plot_w

    lanes = []
    for index, item in enumerate(ordered):
        y = TOP + index * lane_h + lane_h / 2
        marks = []
        if item.response_day is not None:
            marks.append(
                Mark(round(sx(item.response_day), 1), y, "response",
                     f"{item.label}: first {item.response} on day {item.response_day}")
            )  # fmt: skip
        if item.progression_day is not None:
            marks.append(
                Mark(round(sx(item.progression_day), 1), y, "progression",
                     f"{item.label}: progression on day {item.progression_day}")
            )  # fmt: skip
        if item.death_day is not None:
            marks.append(
                Mark(round(sx(item.death_day), 1), y, "death",
                     f"{item.label}: death on day {item.death_day}")
            )  # fmt: skip
        lanes.append(
            Lane(
                label=item.label,
                dose_level=item.dose_level,
                y=y,
                x0=left,
                x_treatment=round(sx(item.treatment_days), 1),
                x_follow_up=round(sx(item.follow_up_days), 1),
                title=f"{item.label} ({item.dose_level}): {item.treatment_days} days on "
                f"treatment, followed {item.follow_up_days} days"
                + ("; on treatment" if item.ongoing else ""),
                ongoing=item.ongoing,
                marks=tuple(marks),
            )
        )
    height = TOP + len(ordered) * lane_h + 40
    return Swimmer(
        height=height,
        lanes=lanes,
        x_ticks=_ticks(0, right_weeks, 6, lambda w: sx(w * 7), "wk {:g}"),
        lane_h=lane_h,
    )


# ---------------------------------------------------------------------------------------------
# Kaplan-Meier: the step curve with censor ticks, and numbers at risk


@dataclass(frozen=True)
class KmStep:
    time: Fraction
    survival: Fraction
    n_event: int
    n_censor: int


@dataclass
class KmPlot:
    height: int
    path: str
    censors: list[tuple[float, float, str]]
    x_ticks: list[Tick]
    y_ticks: list[Tick]
    at_risk: list[tuple[float, int]]
    median_y: float
    width: int = WIDTH
    left: int = LEFT
    at_risk_times: list[int] = field(default_factory=list)


def km_plot(
    steps: Sequence[KmStep], at_risk: Sequence[tuple[int, int]], height: int = 260
) -> KmPlot:
    """`steps`: the curve's rows in time order; `at_risk`: (day, number at risk) under the axis."""
    plot_h = height - TOP - 60
    last = max([84, *(float(s.time) for s in steps), *(t for t, _ in at_risk)])
    right_weeks = math.ceil(last / 7 / 6) * 6

    def sx(day: float) -> float:
        return LEFT + day / (right_weeks * 7) * PLOT_W

    def sy(value: float) -> float:
        return TOP + (1 - value) * plot_h

    x, y = sx(0), sy(1)
    parts = [f"M{x:.1f},{y:.1f}"]
    censors = []
    survival = 1.0
    for step in steps:
        x = sx(float(step.time))
        parts.append(f"H{x:.1f}")
        if step.n_event:
            survival = float(step.survival)
            parts.append(f"V{sy(survival):.1f}")
        if step.n_censor:
            censors.append(
                (
                    round(x, 1),
                    round(sy(survival), 1),
                    f"{step.n_censor} censored on day {step.time}",
                )
            )
    return KmPlot(
        height=height,
        path=" ".join(parts),
        censors=censors,
        x_ticks=_ticks(0, right_weeks, 6, lambda w: sx(w * 7), "wk {:g}"),
        y_ticks=_ticks(0, 1, 0.25, sy, "{:.2f}"),
        at_risk=[(round(sx(t), 1), n) for t, n in at_risk],
        median_y=round(sy(0.5), 1),
        at_risk_times=[t for t, _ in at_risk],
    )
