"""Evaluation as data arrives (in process here; test_worker.py runs a real Celery worker)."""

import threading
from datetime import datetime, time, timedelta
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.dates import site_today
from escalation.models import Notification, Recommendation, SubjectDltStatus, TrackEvaluationState
from escalation.services import evaluate_track
from escalation.tasks import sweep, tracks_owing_evaluation
from safety.services import adverse_event_update, adverse_event_void
from tests.conftest import needs_postgresql
from tests.factories import dosed, enrolled_subject
from tests.integration.escalation.helpers import report_dlt

# Evaluation runs on commit: these tests commit for real (transactional database).
pytestmark = pytest.mark.django_db(transaction=True)


def current(track):
    return Recommendation.objects.get(track=track, status__in=Recommendation.CURRENT)


def test_a_dose_that_completes_titration_level_1_recommends_escalation(l1_subject, cohort1):
    recommendation = current(cohort1.track)
    assert recommendation.action == "escalate"
    assert recommendation.text.startswith("escalate to 0.03 mg/kg Q3W")
    assert recommendation.dose_level == cohort1.study.dose_levels.get(number=2)
    assert recommendation.n_subjects == 1
    assert recommendation.status == Recommendation.Status.PENDING  # the committee must confirm
    status = SubjectDltStatus.objects.get(subject=l1_subject)
    assert status.status == "evaluable_no_dlt"
    assert status.window_end == status.window_start + timedelta(days=20)  # Day 1..Day 21
    assert [s["number"] for s in recommendation.inputs["subjects"]] == ["101-001"]
    assert recommendation.rules_version.startswith("escalation-rules")


def test_recording_a_dlt_yields_the_new_recommendation(coordinator_a, l1_subject, cohort1):
    before = current(cohort1.track)
    event = report_dlt(coordinator_a, l1_subject)
    after = current(cohort1.track)
    assert after.pk != before.pk and after.sequence == before.sequence + 1
    assert after.action == "enroll" and after.n_subjects == 2
    assert "2 more" in after.text and "0.01 mg/kg" in after.text
    assert after.data["titration_trigger"]["events"][0]["ae_id"] == str(event.pk)
    before.refresh_from_db()
    assert before.status == Recommendation.Status.SUPERSEDED
    assert SubjectDltStatus.objects.get(subject=l1_subject).dlt_adverse_event_id == event.pk


def test_evaluating_again_stores_nothing_new(l1_subject, cohort1):
    count = Recommendation.objects.count()
    first = evaluate_track(cohort1.track_id)
    second = evaluate_track(cohort1.track_id)
    assert not first.created and not second.created
    assert Recommendation.objects.count() == count


def test_concurrent_evaluations_store_one_recommendation(coordinator_a, site_a, cohort1, ctcae):
    needs_postgresql()
    with mock.patch("escalation.triggers.enqueue_evaluation"):  # no evaluation at commit
        subject = enrolled_subject(coordinator_a, site_a, "S-1", cohort1, days_ago=32)
        dosed(coordinator_a, subject, on=site_today(site_a.timezone) - timedelta(days=30))
    assert not Recommendation.objects.filter(track=cohort1.track).exists()
    barrier = threading.Barrier(4)
    errors = []

    def run():
        try:
            barrier.wait(timeout=10)
            evaluate_track(cohort1.track_id)
        except Exception as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert Recommendation.objects.filter(track=cohort1.track).count() == 1


def test_an_evaluation_lost_at_commit_is_made_by_the_sweep(coordinator_a, l1_subject, cohort1):
    before = current(cohort1.track)
    with mock.patch(
        "escalation.tasks.evaluate_and_announce.apply_async",
        side_effect=ConnectionError("broker down"),
    ):
        report_dlt(coordinator_a, l1_subject)
    assert current(cohort1.track).pk == before.pk  # nothing evaluated at commit
    state = TrackEvaluationState.objects.get(track=cohort1.track)
    assert state.requested_at is not None
    assert cohort1.track_id in tracks_owing_evaluation()
    assert sweep()["evaluated"] == [cohort1.track_id]
    assert current(cohort1.track).action == "enroll"
    state.refresh_from_db()
    assert state.requested_at is None


def test_the_sweep_closes_a_window_that_ends_with_no_new_data(coordinator_a, site_a, cohort1):
    subject = enrolled_subject(coordinator_a, site_a, "S-1", cohort1, days_ago=3)
    dose = dosed(coordinator_a, subject, on=site_today(site_a.timezone) - timedelta(days=1))
    waiting = current(cohort1.track)
    assert waiting.action == "wait" and waiting.status == Recommendation.Status.INFORMATION
    window_end = dose.administered_on + timedelta(days=20)
    assert window_end.isoformat() in waiting.text
    state = TrackEvaluationState.objects.get(track=cohort1.track)
    assert state.next_evaluation_on == window_end + timedelta(days=1)
    assert sweep()["evaluated"] == []  # nothing owed yet

    noon = time(12, 0, tzinfo=ZoneInfo(site_a.timezone))
    with time_machine.travel(datetime.combine(window_end, noon), tick=False):
        sweep()
        assert current(cohort1.track).action == "wait"  # the window's last day is not over
    with time_machine.travel(datetime.combine(window_end + timedelta(days=1), noon), tick=False):
        assert sweep()["evaluated"] == [cohort1.track_id]
        recommendation = current(cohort1.track)
    assert recommendation.action == "escalate"
    assert SubjectDltStatus.objects.get(subject=subject).status == "evaluable_no_dlt"


def test_dlt_and_sae_notify_the_monitors_once(coordinator_a, monitor, l1_subject, cohort1):
    mail.outbox.clear()
    event = report_dlt(
        coordinator_a, l1_subject, serious=True, seriousness=("serious_hospitalisation",)
    )
    kinds = set(Notification.objects.filter(recipient=monitor).values_list("kind", "key"))
    assert (Notification.Kind.NEW_DLT, f"ae:{event.pk}") in kinds
    assert (Notification.Kind.SAE, f"ae:{event.pk}") in kinds
    assert any(kind == Notification.Kind.RECOMMENDATION for kind, _ in kinds)
    assert all(n.sent_at is not None for n in Notification.objects.all())
    subjects = [message.subject for message in mail.outbox]
    assert any(s.startswith("SAE reported: 101-001") for s in subjects)
    assert any(s.startswith("DLT reported: 101-001") for s in subjects)
    assert all(message.to == [monitor.email] for message in mail.outbox)
    # Editing the event again does not tell the monitor twice.
    adverse_event_update(
        by=coordinator_a,
        adverse_event=event,
        changes={"verbatim_term": "ANC low"},
        reason="wording",
        expected_version=1,
    )
    assert Notification.objects.filter(kind=Notification.Kind.SAE).count() == 1


def test_voiding_the_dlt_returns_the_track_to_escalation(coordinator_a, l1_subject, cohort1):
    event = report_dlt(coordinator_a, l1_subject)
    assert current(cohort1.track).action == "enroll"
    adverse_event_void(
        by=coordinator_a, adverse_event=event, reason="wrong subject", expected_version=1
    )
    assert current(cohort1.track).action == "escalate"


def test_the_evaluation_reads_each_event_once_whatever_their_number(
    coordinator_a, l1_subject, cohort1
):
    """The evaluation loads the events the rules read in one query (escalation/facts.py): more
    events, proposed DLT calls among them, add no query (an attribute left out of the columns
    read would cost one query per event)."""

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            evaluate_track(cohort1.track_id)
        return len(captured.captured_queries)

    report_dlt(coordinator_a, l1_subject)  # a coordinator's call: proposed, not attested
    few = queries()
    for days in (6, 7, 8):
        report_dlt(coordinator_a, l1_subject, onset_days_after_dose=days)
    assert queries() == few
