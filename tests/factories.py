"""Test data made through the services, so every record is validated and audited like a real one."""

from datetime import datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.utils import timezone

from core.dates import site_today
from dosing.services import dose_record
from safety.models import CtcaeTerm
from safety.services import adverse_event_report
from subjects.services import (
    subject_enroll,
    subject_record_consent,
    subject_record_eligibility,
    subject_screen,
)


def eligible_answers(study):
    return {c: True for c in study.inclusion_criteria()} | {
        c: False for c in study.exclusion_criteria()
    }


def screened_subject(by, site, number, *, days_ago=20, consent=True, eligible=True):
    today = site_today(site.timezone)
    subject = subject_screen(
        by=by,
        site=site,
        screening_number=number,
        sex="F",
        year_of_birth=1960,
        screening_date=today - timedelta(days=days_ago),
    )
    if consent:
        subject = subject_record_consent(
            by=by,
            subject=subject,
            consent_date=today - timedelta(days=days_ago),
            consent_version="v1.0",
            expected_version=None,
        )
    if consent and eligible:
        subject = subject_record_eligibility(
            by=by,
            subject=subject,
            answers=eligible_answers(site.study),
            assessed_on=today - timedelta(days=days_ago),
            expected_version=None,
        )
    return subject


def enrolled_subject(by, site, number, cohort, *, days_ago=20):
    subject = screened_subject(by, site, number, days_ago=days_ago)
    today = site_today(site.timezone)
    return subject_enroll(
        by=by, subject=subject, cohort=cohort, enrollment_date=today - timedelta(days=days_ago - 1)
    )


def infusion(site, day, hour=9, minute=0):
    tz = ZoneInfo(site.timezone)
    start = datetime.combine(day, time(hour, minute), tz)
    return start, start + timedelta(hours=1, minutes=30)


def dosed(by, subject, *, on, cycle=1, day=1, weight="70", amount=None, hour=9, minute=0, **extra):
    start, end = infusion(subject.site, on, hour, minute)
    return dose_record(
        by=by,
        subject=subject,
        cycle=cycle,
        day=day,
        actual_dose_per_kg=amount if amount is not None else subject.cohort.dose_level.amount,
        body_weight_kg=Decimal(weight),
        infusion_start=start,
        infusion_end=end,
        lot_number="LOT-1",
        **extra,
    )


def first_dose_day(subject):
    """The site-local day of the subject's first dose."""
    return subject.dose_administrations.order_by("administered_on").first().administered_on


def reported_ae(
    by,
    subject,
    term="Nausea",
    *,
    grade=1,
    onset_date=None,
    days_ago=None,
    days_after_first_dose=None,
    verbatim_term=None,
    relationship="possible",
    action_taken="none",
    outcome="not_recovered",
    **extra,
):
    """An adverse event reported through `adverse_event_report`: the one factory for AEs.

    `term` is a CTCAE v5.0 term (its text or the row). The onset is `onset_date`, or `days_ago`
    before the site's today, or `days_after_first_dose`; without any, 5 days ago. The verbatim
    term defaults to the term in lower case. Anything else (`resolution_date`, `serious`,
    `seriousness`, `sae_awareness_at`, `dlt_investigator`) goes to the service as given; a
    serious event's awareness defaults to now.
    """
    ctcae_term = term if isinstance(term, CtcaeTerm) else CtcaeTerm.objects.get(term=term)
    if onset_date is None and days_after_first_dose is not None:
        onset_date = first_dose_day(subject) + timedelta(days=days_after_first_dose)
    if onset_date is None:
        days = 5 if days_ago is None else days_ago
        onset_date = site_today(subject.site.timezone) - timedelta(days=days)
    if extra.get("serious") and "sae_awareness_at" not in extra:
        # The site became aware as it reports: on time for the 24-hour clock.
        extra["sae_awareness_at"] = timezone.now()
    return adverse_event_report(
        by=by,
        subject=subject,
        ctcae_term=ctcae_term,
        verbatim_term=ctcae_term.term.lower() if verbatim_term is None else verbatim_term,
        grade=grade,
        onset_date=onset_date,
        relationship=relationship,
        action_taken=action_taken,
        outcome=outcome,
        **extra,
    )
