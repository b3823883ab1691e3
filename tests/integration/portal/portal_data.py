"""Data for the coordinator pages' tests, made through the services."""

from datetime import timedelta

from core.dates import site_today
from safety.models import CtcaeTerm
from tests.factories import dosed, enrolled_subject, reported_ae, screened_subject


def populate_site(by, site, cohort, count, *, start=0):
    """`count` subjects in a mix of states: screening, screen failure, enrolled not dosed,
    dosed with an ongoing adverse event."""
    today = site_today(site.timezone)
    fatigue = CtcaeTerm.objects.get(term="Fatigue")
    made = []
    for index in range(start, start + count):
        number = f"L-{index:03d}"
        kind = index % 4
        if kind == 0:
            made.append(screened_subject(by, site, number, eligible=False))
            continue
        if kind == 1:
            made.append(screened_subject(by, site, number))
            continue
        subject = enrolled_subject(by, site, number, cohort, days_ago=20)
        if kind == 3:
            dosed(by, subject, on=today - timedelta(days=15))
            reported_ae(
                by,
                subject,
                fatigue,
                verbatim_term="tired",
                onset_date=today - timedelta(days=10),
                relationship="unlikely",
            )
        made.append(subject)
    return made


def under_dosed_subject(by, site, number, cohort, *, days_ago=12):
    """An enrolled subject given half of the C1D1 infusion: under-dosed, so the escalation
    evaluation finds them not evaluable at once (to be replaced)."""
    today = site_today(site.timezone)
    subject = enrolled_subject(by, site, number, cohort, days_ago=days_ago)
    dosed(
        by,
        subject,
        on=today - timedelta(days=days_ago - 2),
        amount=cohort.dose_level.amount / 2,
        dose_change_reason="Infusion stopped at half: reaction",
        interrupted=True,
        interruption_details="Stopped after 45 minutes",
    )
    subject.refresh_from_db()
    return subject
