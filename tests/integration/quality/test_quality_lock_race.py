"""Locks hold under concurrency: a write racing a lock either completes before it or is refused,
never half-applied (docs/quality.md §5). Real concurrent transactions need PostgreSQL."""

import threading
import time
from decimal import Decimal

import pytest
from django.db import connection, transaction

from core.dates import site_today
from core.errors import RecordLocked
from dosing.models import DoseAdministration
from dosing.services import dose_update
from quality import services
from quality.models import StudyLock, SubjectLock
from subjects.models import Subject
from subjects.services import subject_screen
from tests.conftest import needs_postgresql

pytestmark = pytest.mark.django_db(transaction=True)

WAIT = 1.0  # seconds a blocked transaction is given to show it is blocked


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


def _correct(by, dose_id, weight):
    dose = DoseAdministration.objects.get(pk=dose_id)
    return dose_update(
        by=by,
        dose=dose,
        changes={"body_weight_kg": Decimal(weight)},
        reason="Reweighed",
        expected_version=dose.version,
    )


def test_a_write_in_flight_completes_before_the_lock(coordinator_a, data_manager, subject, dose):
    needs_postgresql()
    written, release = threading.Event(), threading.Event()

    def write_and_hold():
        with transaction.atomic():
            _correct(coordinator_a, dose.pk, "71")
            written.set()
            release.wait(10)  # the correction is done but not committed

    writer, wrote = _thread(write_and_hold)
    assert written.wait(10)
    locker, locked = _thread(lambda: services.subject_lock(by=data_manager, subject=subject))
    time.sleep(WAIT)
    assert locker.is_alive(), "the lock must wait for the write in flight"
    release.set()
    writer.join(10)
    locker.join(10)
    assert "error" not in wrote and "error" not in locked, (wrote, locked)
    dose.refresh_from_db()
    assert dose.body_weight_kg == Decimal("71.0") and dose.version == 2
    assert SubjectLock.objects.filter(subject=subject, unlocked_at__isnull=True).exists()


def test_a_write_waiting_on_a_lock_is_refused_and_changes_nothing(
    coordinator_a, data_manager, subject, dose
):
    needs_postgresql()
    locked_now, release = threading.Event(), threading.Event()

    def lock_and_hold():
        with transaction.atomic():
            services.subject_lock(by=data_manager, subject=subject)
            locked_now.set()
            release.wait(10)  # the lock is taken but not committed

    locker, locked = _thread(lock_and_hold)
    assert locked_now.wait(10)
    writer, wrote = _thread(lambda: _correct(coordinator_a, dose.pk, "72"))
    time.sleep(WAIT)
    assert writer.is_alive(), "the write must wait for the lock being taken"
    release.set()
    locker.join(10)
    writer.join(10)
    assert "error" not in locked, locked
    assert isinstance(wrote.get("error"), RecordLocked), wrote
    dose.refresh_from_db()
    assert dose.body_weight_kg == Decimal("70.0") and dose.version == 1
    assert dose.history.count() == 1


def test_racing_writes_and_a_study_lock_are_never_half_applied(
    coordinator_a, data_manager, site_a, study
):
    needs_postgresql()
    barrier = threading.Barrier(5)
    outcomes = []

    def screen(n):
        def run():
            barrier.wait(10)
            return subject_screen(
                by=coordinator_a,
                site=site_a,
                screening_number=f"R-{n}",
                sex="F",
                year_of_birth=1960,
                screening_date=site_today(site_a.timezone),
            )

        return run

    def lock():
        barrier.wait(10)
        return services.study_lock(by=data_manager, study=study, reason="Analysis")

    threads = [_thread(screen(n)) for n in range(4)] + [_thread(lock)]
    for thread, outcome in threads:
        thread.join(30)
        outcomes.append(outcome)
    lock_row = StudyLock.objects.get(study=study)
    for n, outcome in enumerate(outcomes[:4]):
        subject = Subject.all_objects.filter(screening_number=f"R-{n}").first()
        if "error" in outcome:
            # Refused: by the lock, and nothing of it is saved.
            assert isinstance(outcome["error"], RecordLocked), outcome
            assert subject is None
        else:
            # Completed: entirely, and before the lock was taken.
            assert subject is not None and subject.history.count() == 1
            assert (
                subject.history.order_by("-history_date").first().history_date <= lock_row.locked_at
            )
