"""Evaluations coalesced per track (docs/operations.md §2): at most one waits in the queue; the
task takes its marker off before reading, so a later change queues the next one."""

from unittest import mock

import pytest
from django.conf import settings
from django.core.cache import caches
from django.db import transaction
from django.utils import timezone

from escalation import rules
from escalation.models import Recommendation, TrackEvaluationState
from escalation.tasks import evaluate_and_announce, queued_marker
from escalation.triggers import enqueue_evaluation, request_evaluation
from safety.services import adverse_event_update
from tests.integration.escalation.helpers import report_dlt

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def markers(cohort1):
    # Only this track's marker: with REDIS_URL the store is the broker's database.
    cache = caches[settings.EVALUATION_MARKER_CACHE]
    cache.delete(queued_marker(cohort1.track_id))
    yield cache
    cache.delete(queued_marker(cohort1.track_id))


def test_a_burst_of_changes_queues_one_evaluation(coordinator_a, l1_subject, cohort1, markers):
    track = cohort1.track_id
    with mock.patch("escalation.tasks.evaluate_and_announce.apply_async") as publish:
        event = report_dlt(coordinator_a, l1_subject)
        for grade in (4, 3, 4):
            event = adverse_event_update(
                by=coordinator_a,
                adverse_event=event,
                changes={"grade": grade},
                reason="Corrected",
                expected_version=event.version,
            )
    assert publish.call_count == 1  # four commits, one waiting evaluation
    assert publish.call_args.kwargs["args"] == [track]
    assert markers.get(queued_marker(track)) == 1
    assert TrackEvaluationState.objects.get(track_id=track).requested_at is not None

    # The worker takes it: the marker goes first, then the latest data is evaluated once.
    with mock.patch("escalation.services.rules.recommend", wraps=rules.recommend) as recommend:
        assert evaluate_and_announce.apply(args=[track]).get()["skipped"] is False
    assert recommend.call_count == 1
    assert markers.get(queued_marker(track)) is None
    assert TrackEvaluationState.objects.get(track_id=track).requested_at is None
    current = Recommendation.objects.get(track_id=track, status__in=Recommendation.CURRENT)
    assert current.action == "enroll"

    # A change after the task started queues the next evaluation.
    with mock.patch("escalation.tasks.evaluate_and_announce.apply_async") as publish:
        event.refresh_from_db()
        adverse_event_update(
            by=coordinator_a,
            adverse_event=event,
            changes={"grade": 3},
            reason="Corrected",
            expected_version=event.version,
        )
    assert publish.call_count == 1


def test_a_change_committed_while_the_task_waits_is_read_by_it(
    coordinator_a, l1_subject, cohort1, markers
):
    track = cohort1.track_id
    with mock.patch("escalation.tasks.evaluate_and_announce.apply_async") as publish:
        with transaction.atomic():
            request_evaluation(track)
        assert publish.call_count == 1
        report_dlt(coordinator_a, l1_subject)  # not queued again: one waits
        assert publish.call_count == 1
    evaluate_and_announce.apply(args=[track]).get()
    current = Recommendation.objects.get(track_id=track, status__in=Recommendation.CURRENT)
    assert current.action == "enroll"  # the DLT committed before the task ran was read


def test_a_failed_publish_leaves_no_marker(cohort1, markers):
    with mock.patch(
        "escalation.tasks.evaluate_and_announce.apply_async", side_effect=ConnectionError("down")
    ):
        assert enqueue_evaluation(cohort1.track_id) is False
    assert markers.get(queued_marker(cohort1.track_id)) is None
    with mock.patch("escalation.tasks.evaluate_and_announce.apply_async") as publish:
        assert enqueue_evaluation(cohort1.track_id) is True
    assert publish.call_count == 1


def test_without_the_marker_store_the_evaluation_is_queued_anyway(cohort1, markers):
    with (
        mock.patch.object(markers, "add", side_effect=ConnectionError("redis down")),
        mock.patch("escalation.triggers.caches", {settings.EVALUATION_MARKER_CACHE: markers}),
        mock.patch("escalation.tasks.evaluate_and_announce.apply_async") as publish,
    ):
        assert enqueue_evaluation(cohort1.track_id) is True
    assert publish.call_count == 1


def test_the_evaluation_is_routed_to_its_own_queue():
    from config.celery import app

    assert app.amqp.router.route({}, "escalation.evaluate_and_announce")["queue"].name == (
        settings.EVALUATION_QUEUE
    )
    assert app.amqp.router.route({}, "escalation.send_notifications")["queue"].name == "celery"
    # A worker started without -Q consumes the evaluations first.
    assert list(app.amqp.queues)[:2] == [settings.EVALUATION_QUEUE, "celery"]
    assert settings.CELERY_BROKER_TRANSPORT_OPTIONS["queue_order_strategy"] == "priority"


def test_requested_at_later_than_the_start_keeps_the_debt(cohort1):
    TrackEvaluationState.objects.update_or_create(
        track_id=cohort1.track_id, defaults={"requested_at": timezone.now()}
    )
    assert evaluate_and_announce.apply(args=[cohort1.track_id]).get()["skipped"] is False
    assert evaluate_and_announce.apply(args=[cohort1.track_id]).get()["skipped"] is True
