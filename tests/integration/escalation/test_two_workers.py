"""Two real Celery worker processes on one evaluations queue (docs/operations.md §2): however the
tasks of one track are shared between them, one recommendation results, each change is read, and
a burst of changes costs far fewer evaluations than changes."""

import os
import re
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from config.celery import app
from escalation.models import Notification, Recommendation, TrackEvaluationState
from escalation.services import evaluate_track
from escalation.tasks import evaluate_and_announce
from safety.services import adverse_event_update
from tests.conftest import needs_postgresql
from tests.integration.escalation.helpers import report_dlt
from tests.integration.escalation.test_worker import require_redis

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.services]

ROOT = Path(__file__).resolve().parents[3]


def start_workers(queue: str, n: int, log_dir: Path) -> list[tuple[subprocess.Popen, Path]]:
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        "REDIS_URL": settings.REDIS_URL,
        "EVALUATION_QUEUE": queue,
        "LOG_FORMAT": "text",
    }
    workers = []
    for i in range(n):
        log = log_dir / f"worker{i}.log"
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo",
             "-Q", queue, "-n", f"w{i}-{queue}@%h", "--loglevel=info", "--without-gossip",
             "--without-mingle", "--without-heartbeat"],
            cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT,
        )  # fmt: skip
        workers.append((process, log))
    deadline = time.monotonic() + 60
    while not all("ready." in log.read_text() for _, log in workers):
        if time.monotonic() > deadline or any(p.poll() is not None for p, _ in workers):
            raise AssertionError(
                "workers did not start:\n" + "\n".join(lg.read_text() for _, lg in workers)
            )
        time.sleep(0.2)
    return workers


def wait_until_idle(track_id: int, workers, seconds: float = 60) -> None:
    import redis

    broker = redis.Redis.from_url(settings.REDIS_URL)
    queue = settings.EVALUATION_QUEUE
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        state = TrackEvaluationState.objects.get(track_id=track_id)
        if broker.llen(queue) == 0 and state.requested_at is None:
            time.sleep(1.0)  # a task taken off the queue may still be running
            state.refresh_from_db()
            if broker.llen(queue) == 0 and state.requested_at is None:
                return
        time.sleep(0.1)
    raise AssertionError(
        "the workers did not settle:\n" + "\n".join(lg.read_text() for _, lg in workers)
    )


def evaluations_run(workers) -> int:
    return sum(len(re.findall(r"'skipped': False", log.read_text())) for _, log in workers)


def test_two_workers_share_the_evaluations_of_one_track(
    coordinator_a, monitor, l1_subject, cohort1, tmp_path
):
    needs_postgresql()
    require_redis()
    queue = f"edc-test-eval-{uuid.uuid4().hex[:10]}"
    track = cohort1.track_id
    app.conf.task_always_eager = False
    workers = start_workers(queue, 2, tmp_path)
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(settings, "EVALUATION_QUEUE", queue, raising=False)
            # 1. Forty tasks of one track published at once (no coalescing): both workers
            #    evaluate it at the same time, one after the other under the track's lock.
            TrackEvaluationState.objects.filter(track_id=track).update(requested_at=timezone.now())
            before = Recommendation.objects.filter(track_id=track).count()
            report = report_dlt(coordinator_a, l1_subject)  # queues its own evaluation too
            for _ in range(40):
                evaluate_and_announce.apply_async(args=[track], queue=queue)
            wait_until_idle(track, workers)
            assert {p.poll() for p, _ in workers} == {None}
            # The DLT makes one new recommendation (enroll 2 more), stored once, announced once.
            assert Recommendation.objects.filter(track_id=track).count() == before + 1
            current = Recommendation.objects.get(track_id=track, status__in=Recommendation.CURRENT)
            assert current.action == "enroll" and current.n_subjects == 2
            assert (
                Notification.objects.filter(
                    key=f"recommendation:{current.pk}", recipient=monitor
                ).count()
                == 1
            )
            phase1 = evaluations_run(workers)

            # 2. A burst of 30 corrections through the service, each one queueing after commit:
            #    never more than one evaluation of the track waits in the queue, and the last
            #    correction is read.
            import redis

            broker = redis.Redis.from_url(settings.REDIS_URL)
            waiting = []
            for grade in [4, 3] * 15:
                report.refresh_from_db()
                report = adverse_event_update(
                    by=coordinator_a,
                    adverse_event=report,
                    changes={"grade": grade},
                    reason="Corrected",
                    expected_version=report.version,
                )
                waiting.append(broker.llen(queue))
            wait_until_idle(track, workers)
            burst = evaluations_run(workers) - phase1
            assert max(waiting) <= 1, waiting
            assert 1 <= burst <= 30, burst
            # Nothing is left to evaluate: a fresh evaluation finds the stored decision current.
            assert evaluate_track(track).created is False
            current.refresh_from_db()
            assert current.status in Recommendation.CURRENT
            assert current.data["levels"][0]["subjects"][0]["dlt"].startswith("grade 3 ")
    finally:
        for process, _ in workers:
            process.terminate()
        for process, _ in workers:
            process.wait(timeout=30)
