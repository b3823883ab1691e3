"""Filters of the pharmacology pages: parameters with their method, significant digits."""

import re

from django import template

from dosing.models import DoseAdministration

register = template.Library()


@register.filter
def sig(value, digits: int = 4) -> str:
    if value is None or value == "":
        return ""
    try:
        return f"{float(value):.{int(digits)}g}"
    except (TypeError, ValueError):
        return str(value)


@register.filter
def days(hours) -> str:
    """Hours as days, one decimal (AFRLT on the trough table)."""
    if hours is None or hours == "":
        return ""
    return f"{float(hours) / 24:.1f}"


@register.filter
def split(value: str) -> list[str]:
    return value.split()


@register.filter
def param(parameters: dict, name: str) -> str:
    entry = (parameters or {}).get(name) or {}
    if entry.get("value") is None:
        return "—"
    return sig(entry["value"])


@register.filter
def param_method(parameters: dict, name: str) -> str:
    """The method and the points used, or why the parameter is empty (shown as a tooltip)."""
    entry = (parameters or {}).get(name) or {}
    if entry.get("value") is None:
        return entry.get("reason", "")
    times = ", ".join(f"{t:g}" for t in entry.get("times", []))
    return f"{entry.get('method', '')}; points at {times} h" if times else entry.get("method", "")


@register.filter
def proportions(row) -> list:
    """The incidence row's proportions in the order of the table's columns."""
    return [
        row.ada_incidence,
        row.treatment_induced,
        row.treatment_boosted,
        row.baseline_prevalence,
        row.nab_among_te_ada,
    ]


VISIT_CODE = re.compile(r"^C(\d{1,3})D(\d{1,3})$")


@register.inclusion_tag("pharmacology/_visit_samples.html")
def visit_samples(subject, code: str) -> dict:
    """On a dosing visit's page (C<cycle>D<day>), the link to the samples of its infusion."""
    match = VISIT_CODE.match(str(code or "").upper())
    dose = None
    if match:
        dose = (
            DoseAdministration.objects.filter(
                subject=subject, cycle=int(match[1]), day=int(match[2])
            )
            .only("pk", "cycle", "day")
            .first()
        )
    return {"dose": dose}
