"""Helpers shared by the API tests."""

from datetime import timedelta

from core.dates import site_today
from safety.models import CtcaeTerm
from safety.services import adverse_event_report


def report_ae(by, subject, *, term="Nausea", grade=1, days_ago=5, **extra):
    values = dict(
        by=by,
        subject=subject,
        ctcae_term=CtcaeTerm.objects.get(term=term),
        verbatim_term=f"{term.lower()} after infusion",
        grade=grade,
        onset_date=site_today(subject.site.timezone) - timedelta(days=days_ago),
        relationship="possible",
        action_taken="none",
        outcome="not_recovered",
    )
    values.update(extra)
    return adverse_event_report(**values)
