"""A small study entered through the services, with every case the SDTM mapping must handle:
enrolled and dosed subjects on two cohorts, a screen failure, a subject still in screening, one
not yet consented, an adverse event before the first dose, a serious DLT adjudicated by the
committee, a dose delayed, an end of treatment and of study, a death, a verbatim term longer
than 200 characters and a correction with a reason."""

from datetime import timedelta

import pytest

from core.dates import site_today
from safety.models import CtcaeTerm
from safety.services import adverse_event_adjudicate, adverse_event_update
from subjects.services import (
    subject_end_study,
    subject_end_treatment,
    subject_record_death,
    subject_record_eligibility,
    subject_screen_fail,
)
from tests.factories import dosed, eligible_answers, enrolled_subject, reported_ae, screened_subject
from trial.models import Cohort, EscalationTrack

LONG_TERM = (
    "Tiredness that began on the evening after the first infusion, worse in the afternoons, "
    "with the subject resting most of the day and unable to keep up with her usual walks; "
    "she also described a heaviness in both legs and difficulty concentrating while reading"
)


@pytest.fixture
def cohort2(study, cohort1):
    return Cohort.objects.create(
        study=study,
        track=EscalationTrack.objects.get(study=study, code="Q3W-ESC"),
        number=2,
        dose_level=study.dose_levels.get(number=2),
        planned_size=3,
        status=Cohort.Status.OPEN,
        opened_at=cohort1.opened_at,
    )


def term(name: str) -> CtcaeTerm:
    return CtcaeTerm.objects.get(term=name)


@pytest.fixture
def trial_data(
    study,
    site_a,
    site_b,
    coordinator_a,
    coordinator_b,
    investigator_a,
    monitor,
    cohort1,
    cohort2,
    ctcae,
):
    today = site_today(site_a.timezone)
    s1 = enrolled_subject(coordinator_a, site_a, "S-001", cohort1, days_ago=40)
    d1 = dosed(investigator_a, s1, on=today - timedelta(days=35))
    d2 = dosed(investigator_a, s1, on=today - timedelta(days=14), cycle=2, day=1)
    before = reported_ae(
        coordinator_a,
        s1,
        "Headache",
        verbatim_term="Headache",
        grade=1,
        onset_date=today - timedelta(days=37),
        resolution_date=today - timedelta(days=36),
        relationship="not_related",
        action_taken="none",
        outcome="recovered",
    )
    dlt = reported_ae(
        investigator_a,
        s1,
        "Fatigue",
        verbatim_term=LONG_TERM,
        grade=3,
        onset_date=today - timedelta(days=30),
        relationship="probable",
        action_taken="delayed",
        outcome="recovering",
        serious=True,
        seriousness=("serious_hospitalisation",),
        dlt_investigator=True,
    )
    dlt = adverse_event_update(
        by=coordinator_a,
        adverse_event=dlt,
        changes={"resolution_date": today - timedelta(days=20), "outcome": "recovered"},
        reason="Resolution reported at the cycle 2 visit",
        expected_version=dlt.version,
    )
    dlt = adverse_event_adjudicate(
        by=monitor,
        adverse_event=dlt,
        is_dlt=True,
        note="Grade 3 fatigue in the window: a DLT.",
        expected_version=dlt.version,
    )

    s2 = enrolled_subject(coordinator_b, site_b, "S-002", cohort2, days_ago=30)
    site_b_today = site_today(site_b.timezone)
    dosed(coordinator_b, s2, on=site_b_today - timedelta(days=28))
    s2 = subject_end_treatment(
        by=coordinator_b,
        subject=s2,
        end_date=site_b_today - timedelta(days=10),
        reason_code="PROGRESSIVE DISEASE",
        reason="Progressive disease",
        expected_version=s2.version,
    )
    s2 = subject_end_study(
        by=coordinator_b,
        subject=s2,
        end_date=site_b_today - timedelta(days=5),
        reason_code="WITHDRAWAL BY SUBJECT",
        expected_version=s2.version,
    )

    s3 = enrolled_subject(coordinator_a, site_a, "S-003", cohort2, days_ago=25)
    dosed(investigator_a, s3, on=today - timedelta(days=22))
    s3 = subject_end_treatment(
        by=coordinator_a,
        subject=s3,
        end_date=today - timedelta(days=3),
        reason_code="PROGRESSIVE DISEASE",
        reason="Died of disease progression",
        expected_version=s3.version,
    )
    s3 = subject_record_death(
        by=coordinator_a,
        subject=s3,
        death_date=today - timedelta(days=3),
        expected_version=s3.version,
    )

    failed = screened_subject(coordinator_a, site_a, "S-004", days_ago=10, eligible=False)
    answers = eligible_answers(study)
    answers[study.inclusion_criteria()[3]] = False
    failed = subject_record_eligibility(
        by=coordinator_a,
        subject=failed,
        answers=answers,
        assessed_on=today - timedelta(days=8),
        expected_version=failed.version,
    )
    failed = subject_screen_fail(
        by=coordinator_a,
        subject=failed,
        reason="Did not meet inclusion criterion 4",
        expected_version=failed.version,
    )
    waiting = screened_subject(coordinator_a, site_a, "S-005", days_ago=3, eligible=False)
    unconsented = screened_subject(coordinator_a, site_a, "S-006", days_ago=1, consent=False)
    return {
        "s1": s1,
        "s2": s2,
        "s3": s3,
        "failed": failed,
        "waiting": waiting,
        "unconsented": unconsented,
        "first_dose": d1,
        "second_dose": d2,
        "ae_before": before,
        "dlt": dlt,
    }


@pytest.fixture
def api():
    """api(user) -> an APIClient authenticated with a fresh token of that user."""
    from rest_framework.test import APIClient

    from api.tokens import token_create

    def client(user):
        made = APIClient()
        made.credentials(HTTP_AUTHORIZATION=f"Bearer {token_create(by=user, name='t').secret}")
        return made

    return client
