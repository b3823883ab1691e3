"""Notifications and repairs that survive the broker and the worker (docs/escalation.md §8).

The broker is "down" by pointing Celery at a TCP port nobody listens on (the connection is
refused at once, as for a stopped Redis). Reliability review: D5 (nothing was evaluated or
e-mailed until the broker came back, SAEs included; the page said the monitor "is notified"),
D6 (every write waited 0.7-3 s per enqueue), D7 (the evaluation task never retried).
"""

import socket
import statistics
import threading
import time
from io import StringIO
from unittest import mock

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import OperationalError, connection
from django.urls import reverse
from django.utils import timezone

from config.celery import app
from escalation.models import Notification, Recommendation, TrackEvaluationState
from escalation.tasks import evaluate_and_announce
from safety.models import AdverseEvent
from safety.services import adverse_event_void
from tests.integration.escalation.helpers import report_dlt
from tests.integration.portal.test_portal_adverse_events import ae_form, aware_now

pytestmark = pytest.mark.django_db(transaction=True)


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _reset_broker_pools() -> None:
    # Celery keeps its connection and producer pools: drop them so the next publish connects
    # to the broker configured now.
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture
def broker_down():
    saved = app.conf.broker_url, app.conf.task_always_eager
    app.conf.broker_url = f"redis://127.0.0.1:{closed_port()}/0"
    app.conf.task_always_eager = False
    _reset_broker_pools()
    yield
    app.conf.broker_url, app.conf.task_always_eager = saved
    _reset_broker_pools()


def sae(coordinator, subject, **extra):
    return report_dlt(
        coordinator, subject, serious=True, seriousness=("serious_hospitalisation",), **extra
    )


def test_a_write_with_the_broker_down_costs_no_noticeable_time(
    broker_down, coordinator_a, monitor, l1_subject, cohort1
):
    def rounds():
        reports, voids = [], []
        for _ in range(3):
            started = time.perf_counter()
            event = sae(coordinator_a, l1_subject)
            reports.append(time.perf_counter() - started)
            started = time.perf_counter()
            adverse_event_void(
                by=coordinator_a, adverse_event=event, reason="twice", expected_version=1
            )
            voids.append(time.perf_counter() - started)
        return statistics.median(reports), statistics.median(voids)

    with mock.patch("escalation.tasks.enqueue"):  # the usual time: no broker at all
        usual_report, usual_void = rounds()
    down_report, down_void = rounds()  # two enqueues (evaluation, e-mails), then one

    assert down_report - usual_report < 0.3, (usual_report, down_report)
    assert down_void - usual_void < 0.3, (usual_void, down_void)
    # Nothing is lost: the debt and the notifications wait in the database.
    assert TrackEvaluationState.objects.get(track=cohort1.track).requested_at is not None
    assert (
        Notification.objects.filter(kind=Notification.Kind.SAE, sent_at__isnull=True).count() == 6
    )


def test_the_sweeper_e_mails_an_sae_within_its_interval_with_the_broker_down(
    broker_down, coordinator_a, monitor, l1_subject, cohort1
):
    interval = 2.0
    mail.outbox.clear()

    def sweeper():
        try:
            call_command("sweep", every=interval, iterations=4, stdout=StringIO())
        finally:
            connection.close()

    thread = threading.Thread(target=sweeper)
    thread.start()
    time.sleep(0.5)  # the sweeper's first run is over: the SAE below waits for the next one
    event = sae(coordinator_a, l1_subject)
    recorded = time.monotonic()
    subject_line = f"SAE reported: {l1_subject.subject_number}"
    while time.monotonic() - recorded < 3 * interval:
        if any(m.subject.startswith(subject_line) for m in mail.outbox):
            break
        time.sleep(0.02)
    waited = time.monotonic() - recorded
    thread.join(timeout=60)

    assert [m.to for m in mail.outbox if m.subject.startswith(subject_line)] == [[monitor.email]]
    assert waited <= interval + 1.0, waited
    notification = Notification.objects.get(kind=Notification.Kind.SAE, key=f"ae:{event.pk}")
    assert notification.sent_at is not None
    # The sweeper also made the evaluation the lost task owed.
    assert TrackEvaluationState.objects.get(track=cohort1.track).requested_at is None
    current = Recommendation.objects.get(track=cohort1.track, status__in=Recommendation.CURRENT)
    assert current.action == "enroll"


def test_the_sweep_command_runs_once_without_every(coordinator_a, l1_subject, cohort1):
    out = StringIO()
    call_command("sweep", stdout=out)
    assert "Evaluated 0 track(s), 0 failed, 0 notification(s) sent." in out.getvalue()


def test_the_ae_page_says_who_will_be_notified_until_the_e_mail_has_gone(
    broker_down, client, coordinator_a, monitor, l1_subject
):
    client.force_login(coordinator_a)
    response = client.post(
        reverse("ae_new", args=[l1_subject.pk]),
        ae_form(
            l1_subject,
            dlt_investigator="on",
            serious="on",
            serious_hospitalisation="on",
            sae_awareness_at=aware_now(l1_subject),
        ),
        follow=True,
    )
    page = response.content.decode()
    event = AdverseEvent.objects.get()
    assert "the medical monitor will be notified (Monitor Tester): the e-mail is queued" in page
    assert "was notified" not in page
    assert Notification.objects.filter(key=f"ae:{event.pk}", sent_at__isnull=True).count() == 2
    # Once the sweep has sent it, the casebook shows when.
    call_command("sweep", stdout=StringIO())
    page = client.get(reverse("subject_detail", args=[l1_subject.pk])).content.decode()
    assert "Monitor notified: Monitor Tester (" in page and "(queued)" not in page


def test_the_evaluation_task_retries_a_database_error_and_is_idempotent(l1_subject, cohort1):
    from escalation import services

    calls = {"n": 0}
    real = services.evaluate_track

    def flaky(track_id):
        calls["n"] += 1
        if calls["n"] == 1:
            raise OperationalError("server closed the connection unexpectedly")
        return real(track_id)

    TrackEvaluationState.objects.filter(track=cohort1.track).update(requested_at=timezone.now())
    with mock.patch("escalation.tasks.evaluate_track", flaky):
        result = evaluate_and_announce.apply(args=[cohort1.track_id], throw=False)
    assert result.successful() and calls["n"] == 2
    assert TrackEvaluationState.objects.get(track=cohort1.track).requested_at is None
    # Run again with nothing owed: skipped, nothing new stored.
    count = Recommendation.objects.count()
    again = evaluate_and_announce.apply(args=[cohort1.track_id]).get()
    assert again == {"track": cohort1.track_id, "created": False, "skipped": True}
    assert Recommendation.objects.count() == count


def test_a_burst_of_queued_evaluations_evaluates_once(coordinator_a, l1_subject, cohort1):
    # Reliability review D4: every change queues one evaluation, and one evaluation covers every
    # change committed before it started. The queued duplicates of a paid debt do nothing, so a
    # busy track does not hold the queue up for the others.
    from escalation import rules

    TrackEvaluationState.objects.filter(track=cohort1.track).update(requested_at=timezone.now())
    with mock.patch("escalation.services.rules.recommend", wraps=rules.recommend) as recommend:
        results = [evaluate_and_announce.apply(args=[cohort1.track_id]).get() for _ in range(5)]
    assert recommend.call_count == 1
    assert [r["skipped"] for r in results] == [False, True, True, True, True]
