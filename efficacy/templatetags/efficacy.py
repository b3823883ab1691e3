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


@register.filter
def schedule_of(record, assessment):
    """The scan's place on the protocol's schedule, flagged when out of window."""
    if assessment.is_baseline:
        if record.baseline_in_window(assessment.assessed_on):
            return "baseline, in window"
        return (
            f"baseline OUT OF WINDOW (at most {record.settings.baseline_window_days} days before "
            "the first dose)"
        )
    return record.schedule(assessment.assessed_on)[0]
