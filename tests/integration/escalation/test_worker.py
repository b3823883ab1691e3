"""A real Celery worker consuming the Redis broker: recording a DLT through the service layer
yields the new recommendation with no manual step."""

import time
import uuid

import pytest
import redis
from celery.contrib.testing.worker import start_worker
from django.conf import settings
from django.test import override_settings

from config.celery import app
from escalation.models import Recommendation
from tests.conftest import REQUIRE_SERVICES
from tests.integration.escalation.helpers import report_dlt

pytestmark = pytest.mark.django_db(transaction=True)


def require_redis() -> None:
    if not settings.REDIS_URL:
        if REQUIRE_SERVICES:
            pytest.fail("REDIS_URL must be set in CI")
        pytest.skip("needs Redis (set REDIS_URL); CI runs it")
    try:
        redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=3).ping()
    except redis.RedisError as error:
        pytest.fail(f"Redis at {settings.REDIS_URL} is unreachable: {error}")


def test_a_dlt_recorded_through_the_service_is_evaluated_by_the_worker(
    coordinator_a, l1_subject, cohort1
):
    require_redis()
    before = Recommendation.objects.get(track=cohort1.track, status__in=Recommendation.CURRENT)
    assert before.action == "escalate"
    # A queue of this test's own, so that no other process's worker takes its tasks.
    queue = f"edc-test-{uuid.uuid4().hex[:12]}"
    app.conf.task_always_eager = False
    app.conf.task_default_queue = queue
    try:
        with (
            override_settings(EVALUATION_QUEUE=queue),
            start_worker(
                app, pool="solo", perform_ping_check=False, queues=[queue], shutdown_timeout=20
            ),
        ):
            committed = time.monotonic()
            report_dlt(coordinator_a, l1_subject)
            deadline = committed + 30
            after = before
            while time.monotonic() < deadline:
                after = Recommendation.objects.filter(
                    track=cohort1.track, status__in=Recommendation.CURRENT
                ).first()
                if after is not None and after.pk != before.pk:
                    break
                time.sleep(0.05)
    finally:
        app.conf.task_default_queue = "celery"
    assert after.pk != before.pk, "the worker did not store a new recommendation within 30 s"
    assert after.action == "enroll" and after.n_subjects == 2
    assert "2 more" in after.text
