"""Display helpers for the monitor's pages: AE table cells, UTC times, query strings."""

import datetime as dt

from django import template
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from monitoring.charts import GRADE_LABELS, STATUS_MARKERS
from monitoring.tables import format_cell

register = template.Library()


@register.filter
def cell_text(cell, column):
    """`n (x.x%)` for one grade column of an AE table cell."""
    return format_cell(cell.count(column), cell.percent(column))


@register.filter
def cell_html(cell, column):
    """The count, with the percentage under it in smaller type (the text reads "n (x.x%)")."""
    n, percent = cell.count(column), cell.percent(column)
    if percent is None or n == 0:
        return format_cell(n, percent)
    return format_html('{} <span class="pct">({}%)</span>', n, f"{percent:.1f}")


@register.filter
def cell_count(cell, column):
    return cell.count(column)


@register.filter
def utc(value):
    if not value:
        return "\u2014"
    return f"{value.astimezone(dt.UTC):%Y-%m-%d %H:%M:%S} UTC"


@register.simple_tag
def local_time(value):
    """A <time> the page's script shows in the reader's own timezone (UTC without script)."""
    if not value:
        return "\u2014"
    moment = value.astimezone(dt.UTC)
    return format_html(
        '<time datetime="{}" data-local-time>{}</time>',
        moment.isoformat().replace("+00:00", "Z"),
        f"{moment:%Y-%m-%d %H:%M} UTC",
    )


@register.filter
def status_label(status):
    return STATUS_MARKERS.get(status, (status, ""))[0]


@register.filter
def grade_label(grade):
    return GRADE_LABELS.get(grade, grade)


@register.filter
def percent(value):
    if value is None:
        return "\u2014"
    return f"{value:.0%}"


@register.filter
def decimal(value):
    if value is None:
        return "\u2014"
    try:
        return f"{value.normalize():f}"
    except AttributeError:
        return value


@register.simple_tag
def marker(shape, css, x=0, y=0, size=6):
    """One status marker (the ladder's and the legend's), drawn at (x, y)."""
    s = float(size)
    shapes = {
        "circle": '<circle cx="{x}" cy="{y}" r="{s}" class="mk {css}"/>',
        "diamond": '<path d="M{x} {top} L{right} {y} L{x} {bottom} L{left} {y} Z" class="mk {css}"/>',
        "ring": '<circle cx="{x}" cy="{y}" r="{r}" class="mk ring {css}"/>',
        "square": '<rect x="{left2}" y="{top2}" width="{w}" height="{w}" class="mk {css}"/>'
        '<line x1="{left2}" y1="{bottom2}" x2="{right2}" y2="{top2}" class="mk-slash"/>',
        "dashed": '<circle cx="{x}" cy="{y}" r="{r}" class="mk dashed {css}"/>',
        "place": '<circle cx="{x}" cy="{y}" r="{r}" class="mk place"/>',
        "proposed": '<circle cx="{x}" cy="{y}" r="{r}" class="mk proposed"/>',
    }
    x, y = float(x), float(y)
    if css not in STATUS_CSS.values():
        css = "st-nd"
    values = {
        "x": x,
        "y": y,
        "s": s,
        "r": s - 0.5,
        "css": css,
        "top": y - s - 1.5,
        "bottom": y + s + 1.5,
        "left": x - s - 1.5,
        "right": x + s + 1.5,
        "left2": x - s + 0.5,
        "top2": y - s + 0.5,
        "right2": x + s - 0.5,
        "bottom2": y + s - 0.5,
        "w": 2 * s - 1,
    }
    # Only numbers and the fixed class names of STATUS_CSS reach this markup.
    return mark_safe(shapes.get(shape, shapes["dashed"]).format(**values))


STATUS_CSS = {
    "dlt": "st-dlt",
    "evaluable_no_dlt": "st-ok",
    "pending": "st-pending",
    "not_evaluable": "st-ne",
    "not_dosed": "st-nd",
    "unevaluated": "st-nd",
    "open_place": "st-place",
    "proposed": "st-proposed",
}


@register.filter
def status_css(status):
    return STATUS_CSS.get(status, "st-nd")


@register.filter
def status_shape(status):
    if status == "proposed":
        return "proposed"
    return STATUS_MARKERS.get(status, ("", "dashed"))[1]


@register.simple_tag
def status_legend():
    order = ("evaluable_no_dlt", "dlt", "pending", "not_evaluable", "not_dosed", "open_place")
    return [(key, STATUS_MARKERS[key][0]) for key in order] + [
        ("proposed", "Recommended place (next cohort)")
    ]


@register.simple_tag
def grade_legend():
    return list(GRADE_LABELS.items())


@register.filter
def outcome_word(decision):
    return "Confirmed" if decision.outcome == "confirmed" else "Overridden"
