"""Recounts of the AE table's marked blocks against writes and against each other, in real
transactions on their own connections (docs/operations.md §6): every committed change is either
counted or still marked; a writer never waits for a recount; two recounts of a study run one
after the other and count each block once."""

import threading
import time
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.urls import reverse

from core.dates import site_today
from monitoring.models import AeTableCount, AeTableRecount
from monitoring.pages.ae_tables import recount_marked_blocks
from tests.conftest import needs_postgresql
from tests.factories import dosed, enrolled_subject, reported_ae

pytestmark = pytest.mark.django_db(transaction=True)


def _marked() -> set[tuple[int, int, int]]:
    return set(AeTableRecount.objects.values_list("site_id", "track_id", "dose_level_id"))


def _waiting_on_locks() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]


def _thread(name, work, results, errors) -> threading.Thread:
    def run():
        try:
            results[name] = work()
        except Exception as error:  # reported by the test
            errors.append((name, error))
        finally:
            connection.close()

    return threading.Thread(target=run, name=name)


@pytest.fixture
def one_subject(study, site_a, coordinator_a, cohort1, ctcae):
    """A dosed subject with a grade 2 nausea: its block marked, nothing counted yet."""
    needs_postgresql()
    subject = enrolled_subject(coordinator_a, site_a, "R1", cohort1, days_ago=30)
    dosed(coordinator_a, subject, on=site_today(site_a.timezone) - timedelta(days=20))
    reported_ae(coordinator_a, subject, "Nausea", grade=2, days_after_first_dose=1)
    block = (site_a.pk, cohort1.track_id, cohort1.dose_level_id)
    assert _marked() == {block}
    return subject, block


def _terms_on_the_page(client, monitor) -> tuple[set[str], int]:
    client.force_login(monitor)
    table = client.get(reverse("monitoring:adverse_events")).context["page"].all_events
    return {r.term for r in table.rows if r.level == "term"}, table.events_counted


def test_a_change_committed_after_a_recount_began_stays_marked(
    client, study, coordinator_a, monitor, one_subject
):
    """A writer reports an AE while its block's mark from an earlier change is already there,
    and commits only after a recount has taken that mark and counted: the recount neither waits
    for the writer nor sees its event, and the writer's own mark stays for the next request,
    which counts the event."""
    subject, block = one_subject
    written, release = threading.Event(), threading.Event()
    results, errors = {}, []

    def writer():
        with transaction.atomic():
            reported_ae(coordinator_a, subject, "Fatigue", grade=1, days_after_first_dose=2)
            written.set()
            release.wait(30)  # committed only after the recount below

    thread = _thread("writer", writer, results, errors)
    thread.start()
    assert written.wait(30)
    started = time.monotonic()
    recounted = recount_marked_blocks(study.pk)  # takes the earlier mark, counts, commits
    waited = time.monotonic() - started
    assert thread.is_alive()  # the writer has not committed yet
    release.set()
    thread.join(60)
    assert errors == []
    assert recounted == 1 and waited < 10
    assert list(AeTableCount.objects.filter(kind="term").values_list("term__term")) == [
        ("Nausea",)
    ]  # the recount saw the committed nausea only
    assert _marked() == {block}  # the writer's mark, committed with its event
    assert _terms_on_the_page(client, monitor) == ({"Nausea", "Fatigue"}, 2)
    assert _marked() == set()


def test_two_recounts_of_a_study_run_one_after_the_other(
    client, study, coordinator_a, monitor, one_subject
):
    """While a recount holds the study's recount lock, a second waits for it and a writer does
    not: the writer commits, the second recount then takes the writer's mark and recounts the
    block after the first has committed. Each block's rows are stored once."""
    subject, block = one_subject
    claimed, release = threading.Event(), threading.Event()
    results, errors = {}, []

    def first():
        with transaction.atomic():
            recounted = recount_marked_blocks(study.pk)
            claimed.set()
            release.wait(30)  # holds the study's recount lock
        return recounted

    def second():
        assert claimed.wait(30)
        return recount_marked_blocks(study.pk)

    threads = [_thread(n, w, results, errors) for n, w in (("first", first), ("second", second))]
    for thread in threads:
        thread.start()
    assert claimed.wait(30)
    # The writer, meanwhile: not held up by the recounts.
    reported_ae(coordinator_a, subject, "Fatigue", grade=1, days_after_first_dose=2)
    deadline = time.monotonic() + 30
    while _waiting_on_locks() < 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    waiting = _waiting_on_locks()
    release.set()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert waiting == 1  # the second recount, on the first's lock
    assert results == {"first": 1, "second": 1}
    rows = sorted(AeTableCount.objects.filter(kind="term").values_list("term__term", "grade_1"))
    assert rows == [("Fatigue", 1), ("Nausea", 0)]  # once each
    assert _marked() == set()
    assert _terms_on_the_page(client, monitor) == ({"Nausea", "Fatigue"}, 2)
