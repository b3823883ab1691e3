"""An evaluation reads only what the rules read (docs/operations.md §2): the adverse events that
can change a decision, in a fixed number of queries whatever the number of subjects and events."""

from datetime import timedelta
from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.dates import site_today
from escalation.models import Recommendation
from escalation.services import evaluate_track
from tests.factories import dosed, enrolled_subject, reported_ae
from trial.models import Cohort

pytestmark = pytest.mark.django_db


def evaluated(track_id):
    with CaptureQueriesContext(connection) as queries:
        evaluate_track(track_id)
    return len(queries)


def inputs_events(track):
    current = Recommendation.objects.get(track=track, status__in=Recommendation.CURRENT)
    return [
        event["id"] for subject in current.inputs["subjects"] for event in subject["adverse_events"]
    ]


def test_events_that_cannot_change_a_decision_are_not_loaded(
    coordinator_a, site_a, l1_subject, cohort1
):
    with mock.patch("escalation.triggers.enqueue_evaluation"):
        unrelated = reported_ae(coordinator_a, l1_subject, grade=3, relationship="unlikely")
        mild = reported_ae(coordinator_a, l1_subject, grade=1, relationship="probable")
        related = reported_ae(coordinator_a, l1_subject, grade=2, relationship="possible")
    evaluate_track(cohort1.track_id)
    loaded = inputs_events(cohort1.track)
    assert str(related.pk) in loaded
    assert str(unrelated.pk) not in loaded and str(mild.pk) not in loaded


def test_the_number_of_queries_does_not_grow_with_subjects_and_events(
    coordinator_a, site_a, l1_subject, cohort1
):
    cohort_b = Cohort.objects.create(
        study=cohort1.study,
        track=cohort1.track,
        number=2,
        dose_level=cohort1.dose_level,
        planned_size=6,
        status=Cohort.Status.OPEN,
        opened_at=cohort1.opened_at,
    )
    evaluate_track(cohort1.track_id)
    one = evaluated(cohort1.track_id)
    with mock.patch("escalation.triggers.enqueue_evaluation"):
        for n in range(4):
            subject = enrolled_subject(coordinator_a, site_a, f"S-{n + 10}", cohort_b, days_ago=10)
            dosed(coordinator_a, subject, on=site_today(site_a.timezone) - timedelta(days=8))
            for grade in (1, 2, 3):
                reported_ae(coordinator_a, subject, grade=grade, days_ago=3)
    evaluate_track(cohort1.track_id)
    assert evaluated(cohort1.track_id) == one
