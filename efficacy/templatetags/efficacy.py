from django import template

register = template.Library()


@register.filter
def study_day_of(record, on):
    """Study day of a date for a subject's efficacy record (day 1 = the first dose)."""
    day = record.study_day(on)
    return "" if day is None else day


@register.filter
def endpoints_of(record):
    return [
        ("Progression-free survival", record.pfs),
        ("Overall survival", record.os),
        ("Duration of response", record.dor),
    ]
