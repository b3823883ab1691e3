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
from unittest import mock

import pytest
from django.core.exceptions import ValidationError
from django.db import OperationalError, connection, transaction

from core.records import retry_on_conflict
from escalation import services
from escalation.committee import committee_confirm
from escalation.models import CommitteeDecision, Recommendation
from escalation.services import evaluate_track
from safety.services import adverse_event_void
from tests.conftest import PASSWORD, needs_postgresql
from tests.integration.escalation.helpers import report_dlt
from trial.models import Cohort

pytestmark = pytest.mark.django_db(transaction=True)


def current(track) -> Recommendation:
    return Recommendation.objects.get(track=track, status__in=Recommendation.CURRENT)


def test_voids_and_dlts_during_evaluations_never_deadlock(
    coordinator_a, l1_subject, cohort1, caplog
):
    """The review's reproduction: two DLTs on one subject, then both voided at once while
    evaluations run. Voiding the DLT that counts makes the evaluation point the subject's DLT
    status at the other one, which the other void holds."""
    needs_postgresql()
    track = cohort1.track
    rounds = 25
    errors: list[BaseException] = []
    counts = {"writes": 0, "evaluations": 0}
    stop = threading.Event()
    caplog.set_level(logging.WARNING, logger="core.records")

    def guarded(work):
        def run(*args):
            try:
                work(*args)
            except BaseException as error:  # noqa: BLE001 - every failure counts
                errors.append(error)
            finally:
                connection.close()

        return run

    @guarded
    def evaluator():
        while not stop.is_set() or counts["evaluations"] < 100:
            evaluate_track(track.pk)
            counts["evaluations"] += 1

    @guarded
    def void(event, barrier):
        barrier.wait(timeout=30)
        time.sleep(random.uniform(0, 0.005))
        adverse_event_void(
            by=coordinator_a, adverse_event=event, reason="entered twice", expected_version=1
        )
        counts["writes"] += 1

    evaluators = [threading.Thread(target=evaluator) for _ in range(2)]
    for thread in evaluators:
        thread.start()
    try:
        for _ in range(rounds):
            later = report_dlt(coordinator_a, l1_subject, onset_days_after_dose=8)
            first = report_dlt(coordinator_a, l1_subject, onset_days_after_dose=3)
            counts["writes"] += 2
            barrier = threading.Barrier(2)
            voids = [
                threading.Thread(target=void, args=(event, barrier)) for event in (first, later)
            ]
            for thread in voids:
                thread.start()
            for thread in voids:
                thread.join(timeout=120)
    finally:
        stop.set()
        for thread in evaluators:
            thread.join(timeout=300)

    assert errors == []
    assert counts["writes"] == 4 * rounds
    assert counts["writes"] + counts["evaluations"] >= 200
    # Not one transaction was aborted by the database and run again: the lock order holds,
    # the retry is only the guard.
    aborted = [r for r in caplog.records if "aborted by the database" in r.getMessage()]
    assert aborted == []
    # Every DLT was voided: the track is back to escalating, with one current recommendation.
    assert current(track).action == "escalate"


def test_a_confirmation_during_an_evaluation_gets_the_designed_answer(
    investigator_a, monitor, l1_subject, cohort1
):
    needs_postgresql()
    track = cohort1.track
    pending = current(track)
    assert pending.action == "escalate" and pending.needs_decision
    with mock.patch("escalation.triggers.enqueue_evaluation"):  # evaluated below, by hand
        report_dlt(investigator_a, l1_subject)  # the investigator's call: attested
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


class _PostgresError(Exception):
    def __init__(self, pgcode):
        super().__init__(pgcode)
        self.pgcode = pgcode


def _failing(pgcode, times):
    calls = {"n": 0}

    def write():
        calls["n"] += 1
        if calls["n"] <= times:
            raise OperationalError("aborted") from _PostgresError(pgcode)
        return "saved"

    return write, calls


@pytest.mark.parametrize("pgcode", ["40P01", "40001"], ids=["deadlock", "serialization"])
def test_a_write_the_database_aborted_is_run_again(pgcode):
    write, calls = _failing(pgcode, times=2)
    assert retry_on_conflict(write)() == "saved" and calls["n"] == 3


def test_other_errors_and_writes_inside_a_transaction_are_not_run_again():
    write, calls = _failing("08006", times=1)  # connection failure: not a conflict
    with pytest.raises(OperationalError):
        retry_on_conflict(write)()
    assert calls["n"] == 1
    write, calls = _failing("40P01", times=1)
    with transaction.atomic(), pytest.raises(OperationalError):
        # Only the outermost transaction can be run again: the caller's is aborted already.
        retry_on_conflict(write)()
    assert calls["n"] == 1
