"""Display helpers for the monitor's pages: AE table rows, chart marks, UTC times, legends."""

import datetime as dt

from django import template
from django.utils.html import escape, format_html
from django.utils.safestring import mark_safe

from monitoring.charts import GRADE_LABELS, STATUS_MARKERS
from monitoring.pages import committee, notifications

register = template.Library()


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
    return committee.outcome_word(decision)


@register.simple_tag
def ae_table_rows(rows):
    """The AE table's body rows. Built here rather than in template loops: a table of 50 terms
    over 6 groups has 2,000 cells, and this keeps the page's server time low. Every text is
    escaped; numbers are formatted here."""
    out = []
    for row, cells in rows:
        tds = []
        for col, key, n, pct, empty in cells:
            css = "num" + (" ge3" if key == "ge3" else "") + ("" if n else " zero")
            if empty:
                text = "\u2014"
            elif pct:
                text = f'{n} <span class="pct">({pct}%)</span>'
            else:
                text = str(n)
            tds.append(f'<td class="{css}" data-col="{escape(col)}">{text}</td>')
        out.append(
            f'<tr class="ae-{escape(row.level)}" data-row="{escape(row.level)}" '
            f'data-soc="{escape(row.soc)}" data-term="{escape(row.term)}">'
            f'<th scope="row" class="ae-label">{escape(row.label)}</th>{"".join(tds)}</tr>'
        )
    return mark_safe("\n".join(out))


@register.simple_tag
def timeline_events(line):
    """One subject row's adverse-event marks: a square numbered with the grade, coloured by
    grade, ringed when a DLT, a thin bar to the resolution, and the description as the title.
    Built here rather than in template loops (a study has thousands of events)."""
    out = []
    for ev in line["events"]:
        grade = int(ev["grade"])
        dlt = ev["is_dlt"]
        parts = [
            f'<g class="mtl-ae g{grade}{" is-dlt" if dlt else ""}" data-grade="{grade}"'
            f"{' data-dlt' if dlt else ''}><title>{escape(ev['title'])}</title>"
        ]
        if ev["span_w"]:
            parts.append(
                f'<rect x="{ev["x"]}" y="{line["span_y"]}" width="{ev["span_w"]}" height="3" '
                'class="mtl-ae-span"/>'
            )
        if dlt:
            parts.append(f'<circle cx="{ev["x"]}" cy="{line["cy"]}" r="11" class="mtl-dlt-ring"/>')
        parts.append(
            f'<rect x="{ev["mark_x"]}" y="{line["mark_y"]}" width="12" height="12" rx="2" '
            f'class="mtl-ae-mark"/><text x="{ev["x"]}" y="{line["text_y"]}" text-anchor="middle" '
            f'dominant-baseline="middle" class="mtl-ae-grade">{grade}</text></g>'
        )
        out.append("".join(parts))
    return mark_safe("\n".join(out))


@register.simple_tag
def timeline_doses(line):
    """One subject row's dose ticks, each with its description as the title. Built here rather
    than in a template loop, as timeline_events is: a page draws hundreds of doses."""
    top, bottom = line["tick_top"], line["tick_bottom"]
    return mark_safe(
        "\n".join(
            f'<g class="mtl-dose"><title>{escape(dose["title"])}</title><line x1="{dose["x"]}" '
            f'y1="{top}" x2="{dose["x"]}" y2="{bottom}"/><path d="M{dose["x"]} {top} l-4 -5 h8 z"/>'
            "</g>"
            for dose in line["doses"]
        )
    )


@register.simple_tag
def timeline_dose_list(doses):
    """One subject's doses in the timeline's table, one a line: the visit, the date and, when
    not the planned dose, its share of it ("—" without any)."""
    lines = []
    for dose in doses:
        line = f"{escape(dose.label)} {dose.given_on:%Y-%m-%d}"
        if dose.fraction is not None and dose.fraction != 1.0:
            line += f" ({percent(dose.fraction)})"
        lines.append(line)
    return mark_safe("<br>".join(lines)) if lines else "\u2014"


@register.simple_tag
def timeline_event_list(events):
    """One subject's adverse events in the timeline's table, one a line: the grade, the term,
    the onset, DLT and SAE badges and both DLT calls ("—" without any). Built here rather than
    in a template loop, as timeline_events is: the table lists every event of the study."""
    lines = []
    for ev in events:
        grade = int(ev.grade)
        line = f'<span class="ae-inline g{grade}">G{grade}</span> {escape(ev.term)}, {ev.onset:%Y-%m-%d}'
        if ev.is_dlt:
            line += ' <span class="badge badge-dlt">DLT</span>'
        if ev.serious:
            line += ' <span class="badge badge-sae">SAE</span>'
        if ev.calls:
            line += (
                f' <span class="muted small" data-dlt-calls>(DLT calls: {escape(ev.calls)})</span>'
            )
        lines.append(line)
    return mark_safe("<br>".join(lines)) if lines else "\u2014"


@register.filter
def delivery_state(notification):
    """(state, words) of a notification's e-mail: sent, error, no_email or queued."""
    return notifications.delivery(notification)


@register.filter
def notification_target(notification):
    """(url, label) of what a notification is about: the casebook or the recommendation."""
    return notifications.notification_target(notification)
