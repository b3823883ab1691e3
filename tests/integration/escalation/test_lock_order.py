"""Data entry, evaluation and the committee never deadlock (docs/escalation.md §8).

Real concurrent transactions, each thread with its own PostgreSQL connection (as in
tests/integration/test_last_slot_race.py). Reliability review D1: a void or a DLT correction
took its AE row FOR UPDATE, then the track's evaluation state; the evaluation held that state and,
at commit, checked the foreign key of the subject's DLT status to the same AE (FOR KEY SHARE): a
lock cycle, and a 500. D2: a committee confirmation locked the recommendation, then the
evaluation state, while an evaluation held the state and wanted the recommendation.
"""

import logging
import random
import threading
import time
from datetime import timedelta
from unittest import mock

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from core.dates import site_today
from escalation import services
from escalation.committee import committee_confirm
from escalation.models import CommitteeDecision, Recommendation
from escalation.services import evaluate_track
from safety.services import adverse_event_void
from subjects.services import subject_enroll
from tests.conftest import PASSWORD, needs_postgresql
from tests.factories import dosed
from tests.integration.escalation.helpers import report_dlt
from trial.models import Cohort

pytestmark = pytest.mark.django_db(transaction=True)


def current(track) -> Recommendation:
    return Recommendation.objects.get(track=track, status__in=Recommendation.CURRENT)


def test_voids_and_dlts_during_evaluations_never_deadlock(
    coordinator_a, monitor, site_a, l1_subject, cohort1, new_screened, caplog
):
    needs_postgresql()
    track = cohort1.track
    # A second subject on the track (cohort 2, 0.03 mg/kg), so two sites of AE writes run at once.
    decision = committee_confirm(by=monitor, recommendation=current(track), password=PASSWORD)
    today = site_today(site_a.timezone)
    second = subject_enroll(
        by=coordinator_a,
        subject=new_screened(),
        cohort=decision.opened_cohort,
        enrollment_date=today - timedelta(days=1),
    )
    dosed(coordinator_a, second, on=today - timedelta(days=1))
    subjects = [l1_subject, second]
    ops_per_thread = 50
    errors: list[BaseException] = []
    done = {"writes": 0, "evaluations": 0}
    barrier = threading.Barrier(4)
    caplog.set_level(logging.WARNING, logger="core.records")

    def writer(subject):
        try:
            barrier.wait(timeout=30)
            for _ in range(ops_per_thread // 2):
                event = report_dlt(coordinator_a, subject, onset_days_after_dose=1)
                time.sleep(random.uniform(0, 0.01))
                adverse_event_void(
                    by=coordinator_a,
                    adverse_event=event,
                    reason="entered twice",
                    expected_version=1,
                )
                done["writes"] += 2
        except BaseException as error:  # noqa: BLE001 - every failure counts
            errors.append(error)
        finally:
            connection.close()

    def evaluator():
        try:
            barrier.wait(timeout=30)
            for _ in range(ops_per_thread):
                evaluate_track(track.pk)
                done["evaluations"] += 1
        except BaseException as error:  # noqa: BLE001
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=writer, args=(s,)) for s in subjects]
    threads += [threading.Thread(target=evaluator) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=600)

    assert errors == []
    assert done == {"writes": 100, "evaluations": 100}  # 200 operations, none failed
    # Not one transaction was aborted by the database and run again: the lock order holds,
    # the retry is only the guard.
    aborted = [r for r in caplog.records if "aborted by the database" in r.getMessage()]
    assert aborted == []
    # Every DLT was voided: the track is back to escalating, with one current recommendation.
    assert current(track).action == "wait"


def test_a_confirmation_during_an_evaluation_gets_the_designed_answer(
    coordinator_a, monitor, l1_subject, cohort1
):
    needs_postgresql()
    track = cohort1.track
    pending = current(track)
    assert pending.action == "escalate" and pending.needs_decision
    with mock.patch("escalation.services.enqueue_evaluation"):  # evaluated below, by hand
        report_dlt(coordinator_a, l1_subject)
    assert current(track).pk == pending.pk  # not yet evaluated

    evaluation_holds = threading.Event()
    release = threading.Event()
    refresh = services._refresh_subject_statuses
    evaluator_thread = {}

    def held_refresh(*args, **kwargs):
        # The evaluation has locked the track's state and read the pending recommendation.
        if threading.current_thread() is evaluator_thread.get("thread"):
            evaluation_holds.set()
            release.wait(timeout=30)
        return refresh(*args, **kwargs)

    outcome: dict = {}

    def evaluate():
        try:
            outcome["evaluation"] = evaluate_track(track.pk)
        except BaseException as error:  # noqa: BLE001
            outcome["evaluation"] = error
        finally:
            connection.close()

    def confirm():
        try:
            outcome["confirm"] = committee_confirm(
                by=monitor, recommendation=pending, password=PASSWORD
            )
        except BaseException as error:  # noqa: BLE001
            outcome["confirm"] = error
        finally:
            connection.close()

    with mock.patch("escalation.services._refresh_subject_statuses", held_refresh):
        evaluation = threading.Thread(target=evaluate)
        evaluator_thread["thread"] = evaluation
        evaluation.start()
        assert evaluation_holds.wait(timeout=30)
        committee = threading.Thread(target=confirm)
        committee.start()
        time.sleep(1.0)  # the confirmation is now waiting for the track's lock
        assert "confirm" not in outcome
        release.set()
        evaluation.join(timeout=60)
        committee.join(timeout=60)

    assert outcome["evaluation"].created  # the DLT made a new recommendation
    refused = outcome["confirm"]
    assert isinstance(refused, ValidationError), repr(refused)
    assert refused.message_dict["recommendation"] == [
        "This recommendation is superseded by newer data: decide on the track's current one."
    ]
    assert not CommitteeDecision.objects.exists()
    assert Cohort.objects.filter(track=track).count() == 1
    pending.refresh_from_db()
    assert pending.status == Recommendation.Status.SUPERSEDED
    now = current(track)
    assert now.action == "enroll" and now.needs_decision
