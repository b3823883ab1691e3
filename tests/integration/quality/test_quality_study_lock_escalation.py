"""A locked study database is read-only for everyone, the escalation included: the committee's
decisions are refused and an evaluation stores nothing; unlocking asks for the evaluations again
(docs/quality.md §5). Races with a lock being taken need PostgreSQL."""

import logging
import threading
import time
from datetime import datetime, timedelta
from datetime import time as clock
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection, transaction
from django.urls import reverse

from core.dates import site_today
from core.errors import RecordLocked
from core.models import Signature
from escalation.committee import committee_confirm, committee_override
from escalation.models import (
    CommitteeDecision,
    Recommendation,
    SubjectDltStatus,
    TrackEvaluationState,
)
from escalation.services import evaluate_track
from escalation.tasks import sweep
from quality import services
from quality.models import StudyLock
from tests.conftest import PASSWORD, needs_postgresql
from tests.factories import dosed, enrolled_subject
from trial.models import Cohort

pytestmark = pytest.mark.django_db(transaction=True)

WAIT = 1.0  # seconds a blocked transaction is given to show it is blocked


def current(track) -> Recommendation:
    return Recommendation.objects.get(track=track, status__in=Recommendation.CURRENT)


@pytest.fixture
def l1_subject(coordinator_a, site_a, cohort1, ctcae):
    """Cohort 1's titration subject, dosed 30 days ago: the track recommends escalating."""
    subject = enrolled_subject(coordinator_a, site_a, "S-1", cohort1, days_ago=32)
    dosed(coordinator_a, subject, on=site_today(site_a.timezone) - timedelta(days=30))
    return subject


def _nothing_decided(cohort1, recommendation):
    assert not CommitteeDecision.objects.exists() and not Signature.objects.exists()
    assert list(Cohort.objects.filter(study=cohort1.study).values_list("number", "status")) == [
        (1, "full")
    ]
    recommendation.refresh_from_db()
    assert recommendation.status == Recommendation.Status.PENDING


def test_the_committee_decides_nothing_on_a_locked_study(
    data_manager, monitor, l1_subject, cohort1
):
    recommendation = current(cohort1.track)
    assert recommendation.action == "escalate" and recommendation.needs_decision
    services.study_lock(by=data_manager, study=cohort1.study, reason="Interim analysis")
    with pytest.raises(RecordLocked, match="The study database is locked"):
        committee_confirm(by=monitor, recommendation=recommendation, password=PASSWORD)
    with pytest.raises(RecordLocked, match="read-only for everyone"):
        committee_override(
            by=monitor,
            password=PASSWORD,
            rationale="Stop for safety",
            step="stop_track",
            track=cohort1.track,
        )
    _nothing_decided(cohort1, recommendation)


def test_the_committee_pages_say_the_study_is_locked(
    client, data_manager, monitor, l1_subject, cohort1
):
    recommendation = current(cohort1.track)
    services.study_lock(by=data_manager, study=cohort1.study, reason="Interim analysis")
    client.force_login(monitor)
    url = reverse("monitoring:review", args=[recommendation.pk])
    page = client.get(url).content.decode()
    assert "data-study-locked" in page and "data-confirm-form" not in page
    assert "the committee takes no decision on this recommendation until it is unlocked" in page
    # A form posted from a page opened before the lock: refused, with the reason.
    response = client.post(url, {"decision": "confirm", "confirm-password": PASSWORD})
    assert response.status_code == 400
    html = response.content.decode()
    assert "Nothing was signed and nothing changed." in html
    assert "The study database is locked" in html
    _nothing_decided(cohort1, recommendation)
    track_page = client.get(reverse("monitoring:track_decision", args=[cohort1.track_id]))
    assert "data-study-locked" in track_page.content.decode()
    assert "data-override-form" not in track_page.content.decode()


def test_an_evaluation_stores_nothing_on_a_locked_study_and_runs_again_at_unlock(
    coordinator_a, data_manager, site_a, cohort1, ctcae, caplog
):
    study_admin = _study_admin(cohort1.study)
    subject = enrolled_subject(coordinator_a, site_a, "S-1", cohort1, days_ago=3)
    dose = dosed(coordinator_a, subject, on=site_today(site_a.timezone) - timedelta(days=1))
    waiting = current(cohort1.track)
    assert waiting.action == "wait"
    dlt_status = SubjectDltStatus.objects.get(subject=subject)
    assert dlt_status.status != "evaluable_no_dlt"
    services.study_lock(by=data_manager, study=cohort1.study, reason="Database lock")

    # The DLT window closes while the study is locked: the evaluation that falls due stores
    # no recommendation and no DLT status, and says why.
    after_window = datetime.combine(
        dose.administered_on + timedelta(days=21), clock(12, 0), ZoneInfo(site_a.timezone)
    )
    caplog.set_level(logging.INFO, logger="escalation.services")
    with time_machine.travel(after_window, tick=False):
        assert sweep()["evaluated"] == [cohort1.track_id]
        result = evaluate_track(cohort1.track_id)
    assert not result.created and result.recommendation == waiting
    assert result.refused.startswith("The study database is locked")
    assert "evaluation stores nothing: The study database is locked" in caplog.text
    assert list(Recommendation.objects.filter(track=cohort1.track)) == [waiting]
    assert current(cohort1.track).version == waiting.version
    dlt_status.refresh_from_db()
    assert dlt_status.status != "evaluable_no_dlt"
    state = TrackEvaluationState.objects.get(track=cohort1.track)
    assert state.requested_at is None and state.next_evaluation_on is None

    # Unlocked: the tracks owe an evaluation, made once the unlock commits.
    lock = StudyLock.objects.get(study=cohort1.study)
    with time_machine.travel(after_window, tick=False):
        services.study_unlock(by=study_admin, lock=lock, reason="Query found after the lock")
        assert current(cohort1.track).action == "escalate"
    assert SubjectDltStatus.objects.get(subject=subject).status == "evaluable_no_dlt"


def _study_admin(study):
    from accounts.roles import Role
    from tests.conftest import make_user

    return make_user("studyadmin", study, Role.ADMIN)


def _thread(target):
    outcome: dict = {}

    def run():
        try:
            outcome["result"] = target()
        except Exception as error:  # the test inspects what happened
            outcome["error"] = error
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


def _lock_and_hold(data_manager, study, locked_now, release):
    def run():
        with transaction.atomic():
            services.study_lock(by=data_manager, study=study, reason="Database lock")
            locked_now.set()
            release.wait(10)  # the lock is taken but not committed

    return run


def test_a_decision_waiting_on_a_study_lock_is_refused_and_changes_nothing(
    data_manager, monitor, l1_subject, cohort1
):
    needs_postgresql()
    recommendation = current(cohort1.track)
    locked_now, release = threading.Event(), threading.Event()
    locker, locked = _thread(_lock_and_hold(data_manager, cohort1.study, locked_now, release))
    assert locked_now.wait(10)
    decider, decided = _thread(
        lambda: committee_confirm(by=monitor, recommendation=recommendation, password=PASSWORD)
    )
    time.sleep(WAIT)
    assert decider.is_alive(), "the decision must wait for the lock being taken"
    release.set()
    locker.join(10)
    decider.join(10)
    assert "error" not in locked, locked
    assert isinstance(decided.get("error"), RecordLocked), decided
    _nothing_decided(cohort1, recommendation)


def test_a_decision_in_flight_completes_before_the_study_lock(
    data_manager, monitor, l1_subject, cohort1
):
    needs_postgresql()
    recommendation = current(cohort1.track)
    decided_now, release = threading.Event(), threading.Event()

    def decide_and_hold():
        with transaction.atomic():
            committee_confirm(by=monitor, recommendation=recommendation, password=PASSWORD)
            decided_now.set()
            release.wait(10)  # decided but not committed

    decider, decided = _thread(decide_and_hold)
    assert decided_now.wait(10)
    locker, locked = _thread(
        lambda: services.study_lock(by=data_manager, study=cohort1.study, reason="Database lock")
    )
    time.sleep(WAIT)
    assert locker.is_alive(), "the lock must wait for the decision in flight"
    release.set()
    decider.join(10)
    locker.join(10)
    assert "error" not in decided and "error" not in locked, (decided, locked)
    decision = CommitteeDecision.objects.get()
    lock = StudyLock.objects.get(study=cohort1.study)
    assert decision.decided_at <= lock.locked_at
    assert decision.opened_cohort.number == 2


def test_an_evaluation_waiting_on_a_study_lock_stores_nothing(
    coordinator_a, data_manager, site_a, cohort1, ctcae
):
    needs_postgresql()
    subject = enrolled_subject(coordinator_a, site_a, "S-1", cohort1, days_ago=3)
    dose = dosed(coordinator_a, subject, on=site_today(site_a.timezone) - timedelta(days=1))
    waiting = current(cohort1.track)
    after_window = datetime.combine(
        dose.administered_on + timedelta(days=21), clock(12, 0), ZoneInfo(site_a.timezone)
    )
    locked_now, release = threading.Event(), threading.Event()
    with time_machine.travel(after_window, tick=False):
        locker, locked = _thread(_lock_and_hold(data_manager, cohort1.study, locked_now, release))
        assert locked_now.wait(10)
        evaluator, evaluated = _thread(lambda: evaluate_track(cohort1.track_id))
        time.sleep(WAIT)
        assert evaluator.is_alive(), "the evaluation must wait for the lock being taken"
        release.set()
        locker.join(10)
        evaluator.join(10)
    assert "error" not in locked and "error" not in evaluated, (locked, evaluated)
    assert evaluated["result"].refused.startswith("The study database is locked")
    assert list(Recommendation.objects.filter(track=cohort1.track)) == [waiting]
