"""Five months of a MIL97 escalation, entered through the services with the clock moved forward
step by step, so that every recommendation, committee decision and DLT status is the product's
own. Used for the dashboard screenshots and as an end-to-end check of the pages on real data.

Q3W: 0.01 (1 subject) -> 0.03 (1) -> 0.1 (3, one DLT) -> 0.1 again (3 more) -> the committee
overrides "escalate to 0.2" with an intermediate 0.15 (3) -> "escalate to 0.2" awaits the
committee. Q2W opens on the committee's own initiative at 0.03; its last subject's DLT window is
still open today.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import time_machine

from core.dates import site_today
from escalation.committee import committee_confirm, committee_override
from escalation.models import Recommendation
from escalation.services import evaluate_track
from safety.services import adverse_event_adjudicate
from tests.conftest import PASSWORD
from tests.factories import dosed as dosed_at_nine
from tests.factories import enrolled_subject, reported_ae
from trial.models import DoseLevel, EscalationTrack

START_DAYS_AGO = 150


def dosed(*args, **kwargs):
    """Infusions at 01:00-02:30 site time: the clock stands at 17:00 UTC, already 03:00 of the
    next day in Sydney, and an infusion cannot start later than now at the site."""
    return dosed_at_nine(*args, hour=1, **kwargs)


def _at(day: date):
    """Travel to 17:00 UTC on `day` (midday in New York, early next morning in Sydney)."""
    return time_machine.travel(datetime.combine(day, time(17), UTC), tick=False)


def _ae(by, subject, term, grade, onset, relationship, *, resolved_after=None, **extra):
    """Report an AE; resolved `resolved_after` days after onset if that day has come."""
    resolution = None
    if resolved_after is not None:
        resolution = onset + timedelta(days=resolved_after)
        if resolution > site_today(subject.site.timezone):
            resolution = None
    return reported_ae(
        by,
        subject,
        term,
        grade=grade,
        onset_date=onset,
        relationship=relationship,
        outcome="recovered" if resolution else "not_recovered",
        resolution_date=resolution,
        **extra,
    )


def after(subject, days: int) -> date:
    """A date `days` after the subject's first dose (the site's calendar)."""
    first = subject.dose_administrations.order_by("administered_on").first().administered_on
    return first + timedelta(days=days)


def _pending(track) -> Recommendation:
    return Recommendation.objects.get(track=track, status=Recommendation.Status.PENDING)


def build(*, study, site_a, site_b, coordinator_a, coordinator_b, monitor, cohort1) -> dict:
    q3w = cohort1.track
    q2w = EscalationTrack.objects.get(study=study, code="Q2W-ESC")
    level2 = DoseLevel.objects.get(study=study, number=2)
    d0 = site_today(site_a.timezone) - timedelta(days=START_DAYS_AGO)

    def day(n: int) -> date:
        return d0 + timedelta(days=n)

    subjects = {}

    def enroll(key, by, site, cohort, on: date):
        with _at(on):
            subject = enrolled_subject(by, site, key, cohort, days_ago=4)
            dosed(by, subject, on=site_today(site.timezone))
        subjects[key] = subject
        return subject

    # Accelerated titration: one subject at 0.01, then one at 0.03.
    s1 = enroll("D-01", coordinator_a, site_a, cohort1, day(0))
    with _at(day(22)):
        _ae(coordinator_a, s1, "Fatigue", 1, after(s1, 3), "possible", resolved_after=4)
        evaluate_track(q3w.pk)
        cohort2 = committee_confirm(
            by=monitor, recommendation=_pending(q3w), password=PASSWORD
        ).opened_cohort
    s2 = enroll("D-02", coordinator_b, site_b, cohort2, day(23))

    # No trigger by level 2: 0.1 opens with a cohort of 3; one DLT there.
    with _at(day(45)):
        _ae(coordinator_b, s2, "Nausea", 1, after(s2, 2), "probable", resolved_after=2)
        evaluate_track(q3w.pk)
        cohort3 = committee_confirm(
            by=monitor, recommendation=_pending(q3w), password=PASSWORD
        ).opened_cohort
    s3 = enroll("D-03", coordinator_a, site_a, cohort3, day(46))
    s4 = enroll("D-04", coordinator_b, site_b, cohort3, day(47))
    s5 = enroll("D-05", coordinator_a, site_a, cohort3, day(48))
    with _at(day(56)):
        _ae(coordinator_a, s3, "Nausea", 1, after(s3, 3), "possible", resolved_after=2)
        _ae(coordinator_a, s3, "Nausea", 2, after(s3, 7), "possible", resolved_after=3)
        _ae(coordinator_a, s5, "Headache", 1, after(s5, 2), "unlikely", resolved_after=1)
        _ae(coordinator_a, s5, "Fatigue", 2, after(s5, 6), "probable")
        dlt = _ae(
            coordinator_b,
            s4,
            "Neutrophil count decreased",
            3,
            after(s4, 6),
            "probable",
            action_taken="delayed",
            dlt_investigator=True,
        )
    with _at(day(60)):
        adverse_event_adjudicate(
            by=monitor,
            adverse_event=dlt,
            is_dlt=True,
            note="Grade 3 neutropenia lasting more than 7 days: a DLT under the protocol.",
            expected_version=dlt.version,
        )

    # 1/3: add 3 at 0.1; then 1/6 -> escalate, which the committee overrides to 0.15.
    with _at(day(70)):
        evaluate_track(q3w.pk)
        cohort4 = committee_confirm(
            by=monitor, recommendation=_pending(q3w), password=PASSWORD
        ).opened_cohort
    s6 = enroll("D-06", coordinator_a, site_a, cohort4, day(71))
    s7 = enroll("D-07", coordinator_b, site_b, cohort4, day(72))
    s8 = enroll("D-08", coordinator_a, site_a, cohort4, day(73))
    with _at(day(96)):
        _ae(coordinator_a, s6, "Rash maculo-papular", 1, after(s6, 4), "possible", resolved_after=6)
        _ae(coordinator_b, s7, "Alanine aminotransferase increased", 2, after(s7, 5), "possible")
        _ae(coordinator_a, s8, "Diarrhea", 1, after(s8, 3), "not_related", resolved_after=2)
        evaluate_track(q3w.pk)
        cohort5 = committee_override(
            by=monitor,
            password=PASSWORD,
            recommendation=_pending(q3w),
            step="open_cohort",
            new_dose_amount="0.15",
            n_subjects=3,
            rationale="One grade 3 neutropenia at 0.1 mg/kg and exposure above the model's "
            "prediction: escalate by a smaller step to 0.15 mg/kg.",
        ).opened_cohort
    s9 = enroll("D-09", coordinator_a, site_a, cohort5, day(97))
    s10 = enroll("D-10", coordinator_b, site_b, cohort5, day(98))
    s11 = enroll("D-11", coordinator_a, site_a, cohort5, day(99))

    # Q2W opens at a level cleared on Q3W, on the committee's own initiative.
    with _at(day(100)):
        cohort6 = committee_override(
            by=monitor,
            password=PASSWORD,
            track=q3w,
            step="open_track",
            target_track=q2w,
            dose_level=level2,
            n_subjects=3,
            rationale="Explore Q2W dosing at 0.03 mg/kg, cleared on Q3W, for PK exposure.",
        ).opened_cohort
    s12 = enroll("D-12", coordinator_b, site_b, cohort6, day(101))
    s13 = enroll("D-13", coordinator_a, site_a, cohort6, day(102))
    with _at(day(116)):
        dosed(coordinator_b, s12, on=after(s12, 14), day=15)
        dosed(coordinator_a, s13, on=after(s13, 14), day=15)
        _ae(coordinator_a, s9, "Fatigue", 3, after(s9, 7), "possible", resolved_after=9)
        _ae(
            coordinator_b,
            s10,
            "Infusion related reaction",
            2,
            after(s10, 0),
            "definite",
            resolved_after=0,
        )
        _ae(coordinator_a, s11, "Nausea", 1, after(s11, 2), "possible", resolved_after=3)
    with _at(day(122)):
        _ae(
            coordinator_b,
            s12,
            "Lung infection",
            3,
            after(s12, 8),
            "not_related",
            serious=True,
            seriousness=("serious_hospitalisation",),
            action_taken="interrupted",
            resolved_after=8,
        )
        evaluate_track(q3w.pk)  # 0/3 at 0.15: escalate to 0.2, left for the committee

    # Today: a third Q2W subject, dosed 10 days ago, is inside the DLT window.
    s14 = enrolled_subject(coordinator_a, site_a, "D-14", cohort6, days_ago=13)
    dosed(coordinator_a, s14, on=site_today(site_a.timezone) - timedelta(days=10))
    _ae(
        coordinator_a,
        s14,
        "Fatigue",
        2,
        site_today(site_a.timezone) - timedelta(days=6),
        "probable",
    )
    subjects["D-14"] = s14
    evaluate_track(q3w.pk)
    evaluate_track(q2w.pk)
    return {
        "subjects": subjects,
        "cohorts": [cohort1, cohort2, cohort3, cohort4, cohort5, cohort6],
        "q3w": q3w,
        "q2w": q2w,
        "pending": _pending(q3w),
    }
