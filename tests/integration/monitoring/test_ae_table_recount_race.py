"""Two requests recounting the AE table's marked blocks at once, and a change made meanwhile
(docs/operations.md §6): the block is recounted once, and the change that commits after the
recount began stays marked for the next request. Real transactions, on their own connections."""

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


def _waiting_on_locks() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]


def test_a_block_is_recounted_once_and_a_change_meanwhile_stays_marked(
    client, study, site_a, coordinator_a, monitor, cohort1, ctcae
):
    needs_postgresql()
    subject = enrolled_subject(coordinator_a, site_a, "R1", cohort1, days_ago=30)
    dosed(coordinator_a, subject, on=site_today(site_a.timezone) - timedelta(days=20))
    reported_ae(coordinator_a, subject, "Nausea", grade=2, days_after_first_dose=1)
    block = (site_a.pk, cohort1.track_id, cohort1.dose_level_id)
    assert set(AeTableRecount.objects.values_list("site_id", "track_id", "dose_level_id")) == {
        block
    }

    claimed, release = threading.Event(), threading.Event()
    results, errors = {}, []

    def in_thread(name, work):
        def run():
            try:
                results[name] = work()
            except Exception as error:  # reported to the test below
                errors.append((name, error))
            finally:
                connection.close()

        return threading.Thread(target=run, name=name)

    def first():
        with transaction.atomic():
            recounted = recount_marked_blocks(study.pk)
            claimed.set()
            release.wait(30)  # holds the block's mark, taken, until the others wait on it
        return recounted

    def second():
        claimed.wait(30)
        return recount_marked_blocks(study.pk)

    def writer():
        claimed.wait(30)
        return reported_ae(coordinator_a, subject, "Fatigue", grade=1, days_after_first_dose=2)

    threads = [
        in_thread(n, w) for n, w in (("first", first), ("second", second), ("writer", writer))
    ]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 30
    while _waiting_on_locks() < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    waiting = _waiting_on_locks()
    release.set()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert waiting == 2  # the second request and the writer both waited on the first's claim
    assert results["first"] == 1 and results["second"] == 0
    # The writer's event committed after the first recount read the events: its block is
    # marked again, and the next request counts it.
    assert set(AeTableRecount.objects.values_list("site_id", "track_id", "dose_level_id")) == {
        block
    }
    rows = list(AeTableCount.objects.filter(kind="term").values_list("term__term", "grade_2"))
    assert rows == [("Nausea", 1)]  # counted once, not twice
    client.force_login(monitor)
    table = client.get(reverse("monitoring:adverse_events")).context["page"].all_events
    assert {r.term for r in table.rows if r.level == "term"} == {"Nausea", "Fatigue"}
    assert table.events_counted == 2
    assert not AeTableRecount.objects.exists()
