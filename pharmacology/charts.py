"""Concentration-time and change-over-time plots as SVG, drawn on the server from plain data
(docs/pharmacology.md §10). No Django, no library: the picture is a few lines and points. Every
point carries a text title, and every plot has its table and CSV beside it on the page.

On a log axis values of 0 (BLQ) cannot be drawn: they are left out and the caption says how
many; on a linear axis they are drawn at 0 as open markers. A point excluded from the NCA is an
open square, not joined by the line, its reason in its title.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape

PALETTE = ("#1b6ac9", "#c0392b", "#1e8449", "#8e44ad", "#d35400", "#2c3e50", "#b7950b")
WIDTH, HEIGHT = 640, 320
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 16, 44


@dataclass(frozen=True)
class Point:
    x: float
    y: float | None  # None: BLQ (drawn at 0 on a linear axis)
    title: str
    excluded: bool = False  # left out of the NCA by hand: an open square, not on the line


@dataclass(frozen=True)
class Series:
    label: str
    points: tuple[Point, ...]
    connect: bool = True  # False: points only (a scatter)


def _series_marks(one: Series, kept: list[Point], colour: str, sx, sy) -> list[str]:
    """One series: its line through the points used (not the excluded ones) and its markers,
    BLQ open circles, excluded points open squares, each with its title."""
    parts = []
    coords = [(sx(p.x), sy(p.y if p.y is not None else 0.0), p) for p in kept]
    joined = [(x, y) for x, y, p in coords if not p.excluded]
    if len(joined) > 1 and one.connect:
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in joined)
        parts.append(
            f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="1.5">'
            f"<title>{escape(one.label)}</title></polyline>"
        )
    for x, y, point in coords:
        title = f"<title>{escape(one.label)}: {escape(point.title)}</title>"
        if point.excluded:
            parts.append(
                f'<rect x="{x - 3.5:.1f}" y="{y - 3.5:.1f}" width="7" height="7" '
                f'fill="#fff" stroke="{colour}" class="excluded">{title}</rect>'
            )
            continue
        fill = "#fff" if point.y is None else colour
        parts.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{fill}" stroke="{colour}">'
            f"{title}</circle>"
        )
    return parts


def _ticks(low: float, high: float, count: int = 5) -> list[float]:
    if high <= low:
        return [low]
    raw = (high - low) / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first = math.ceil(low / step) * step
    return [first + i * step for i in range(int((high - first) / step) + 1)]


def _fmt(value: float) -> str:
    return f"{value:g}"


def line_chart(
    series: list[Series],
    *,
    title: str,
    x_label: str,
    y_label: str,
    log_y: bool = False,
    log_x: bool = False,
) -> str:
    """An SVG line chart of the series; log_y (log_x) draws the y (x) axis in log10."""
    drawn = [
        (
            s,
            [
                p
                for p in s.points
                if not (log_y and (p.y is None or p.y <= 0)) and not (log_x and p.x <= 0)
            ],
        )
        for s in series
    ]
    hidden = sum(len(s.points) - len(kept) for s, kept in drawn)
    xs = [p.x for _, kept in drawn for p in kept]
    ys = [p.y or 0.0 for _, kept in drawn for p in kept]
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'class="pk-chart" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
    ]
    if not xs:
        parts.append(f'<text x="{WIDTH / 2}" y="{HEIGHT / 2}" text-anchor="middle">No data</text>')
        return "".join(parts) + "</svg>"
    if log_x:
        x_low = float(math.floor(math.log10(min(xs))))
        x_high = float(math.ceil(math.log10(max(xs))))
        if x_high == x_low:
            x_high += 1
    else:
        x_low, x_high = min(0.0, min(xs)), max(xs) or 1.0
    if log_y:
        y_low = math.floor(math.log10(min(ys)))
        y_high = math.ceil(math.log10(max(ys)))
        if y_high == y_low:
            y_high += 1
    else:
        y_low, y_high = 0.0, max(ys) * 1.1 or 1.0

    def sx(x: float) -> float:
        value = math.log10(x) if log_x else x
        return LEFT + (value - x_low) / (x_high - x_low or 1.0) * plot_w

    def sy(y: float) -> float:
        value = math.log10(y) if log_y else y
        return TOP + plot_h - (value - y_low) / (y_high - y_low or 1.0) * plot_h

    parts.append(
        f'<rect x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}" fill="none" '
        'stroke="#8a94a3"/>'
    )
    x_ticks = (
        [10.0**e for e in range(int(x_low), int(x_high) + 1)] if log_x else _ticks(x_low, x_high)
    )
    for tick in x_ticks:
        x = sx(tick)
        parts.append(
            f'<line x1="{x:.1f}" y1="{TOP + plot_h}" x2="{x:.1f}" y2="{TOP + plot_h + 4}" '
            'stroke="#8a94a3"/>'
            f'<text x="{x:.1f}" y="{TOP + plot_h + 16}" text-anchor="middle" '
            f'font-size="11">{_fmt(tick)}</text>'
        )
    y_ticks = (
        [10.0**e for e in range(int(y_low), int(y_high) + 1)] if log_y else _ticks(y_low, y_high)
    )
    for tick in y_ticks:
        y = sy(tick)
        parts.append(
            f'<line x1="{LEFT - 4}" y1="{y:.1f}" x2="{LEFT + plot_w}" y2="{y:.1f}" '
            'stroke="#e3e7ec"/>'
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11">'
            f"{_fmt(tick)}</text>"
        )
    parts.append(
        f'<text x="{LEFT + plot_w / 2}" y="{HEIGHT - 8}" text-anchor="middle" '
        f'font-size="12">{escape(x_label)}</text>'
        f'<text x="14" y="{TOP + plot_h / 2}" text-anchor="middle" font-size="12" '
        f'transform="rotate(-90 14 {TOP + plot_h / 2})">'
        f"{escape(y_label)}{' (log scale)' if log_y else ''}</text>"
    )
    for index, (one, kept) in enumerate(drawn):
        parts.extend(_series_marks(one, kept, PALETTE[index % len(PALETTE)], sx, sy))
    legend_y = TOP + 12
    for index, (one, _) in enumerate(drawn[:12]):
        colour = PALETTE[index % len(PALETTE)]
        y = legend_y + index * 14
        parts.append(
            f'<rect x="{LEFT + plot_w - 150}" y="{y - 8}" width="10" height="10" fill="{colour}"/>'
            f'<text x="{LEFT + plot_w - 136}" y="{y + 1}" font-size="11">{escape(one.label)}</text>'
        )
    excluded = sum(p.excluded for _, kept in drawn for p in kept)
    if excluded:
        parts.append(
            f'<text x="{LEFT + 6}" y="{TOP + plot_h - 6}" font-size="11" fill="#5c6673">'
            f"{excluded} point(s) excluded from the NCA (open squares)</text>"
        )
    if hidden:
        parts.append(
            f'<text x="{LEFT + 6}" y="{TOP + 14}" font-size="11" fill="#5c6673">'
            f"{hidden} BLQ point(s) not drawn on the log axis</text>"
        )
    return "".join(parts) + "</svg>"


@dataclass(frozen=True)
class Bar:
    label: str
    value: float | None  # None: nothing to show (no denominator)
    text: str  # written above the bar and in its title (e.g. "1/3 (33.3%)")


def bar_chart(bars: list[Bar], *, title: str, y_label: str, y_max: float | None = None) -> str:
    """An SVG bar chart, one bar per category, each with its text above it (ADA incidence per
    dose level, docs/pharmacology.md §10)."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'class="pk-chart" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
    ]
    if not bars:
        parts.append(f'<text x="{WIDTH / 2}" y="{HEIGHT / 2}" text-anchor="middle">No data</text>')
        return "".join(parts) + "</svg>"
    top = y_max or max([b.value or 0.0 for b in bars] + [1.0]) * 1.15

    def sy(y: float) -> float:
        return TOP + plot_h - y / top * plot_h

    parts.append(
        f'<rect x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}" fill="none" '
        'stroke="#8a94a3"/>'
    )
    for tick in _ticks(0.0, top):
        parts.append(
            f'<line x1="{LEFT - 4}" y1="{sy(tick):.1f}" x2="{LEFT + plot_w}" y2="{sy(tick):.1f}" '
            f'stroke="#e3e7ec"/><text x="{LEFT - 6}" y="{sy(tick) + 4:.1f}" text-anchor="end" '
            f'font-size="11">{_fmt(tick)}</text>'
        )
    slot = plot_w / len(bars)
    for index, bar in enumerate(bars):
        middle = LEFT + slot * (index + 0.5)
        height = (bar.value or 0.0) / top * plot_h
        colour = PALETTE[index % len(PALETTE)]
        parts.append(
            f'<rect x="{middle - slot * 0.3:.1f}" y="{TOP + plot_h - height:.1f}" '
            f'width="{slot * 0.6:.1f}" height="{height:.1f}" fill="{colour}" class="bar">'
            f"<title>{escape(bar.label)}: {escape(bar.text)}</title></rect>"
            f'<text x="{middle:.1f}" y="{TOP + plot_h - height - 4:.1f}" text-anchor="middle" '
            f'font-size="11">{escape(bar.text)}</text>'
            f'<text x="{middle:.1f}" y="{TOP + plot_h + 16}" text-anchor="middle" '
            f'font-size="11">{escape(bar.label)}</text>'
        )
    parts.append(
        f'<text x="14" y="{TOP + plot_h / 2}" text-anchor="middle" font-size="12" '
        f'transform="rotate(-90 14 {TOP + plot_h / 2})">{escape(y_label)}</text>'
    )
    return "".join(parts) + "</svg>"
