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
    """The blocks the marks name, a marked subject's as it is now."""
    blocks = set()
    for mark in AeTableRecount.objects.select_related("subject__cohort"):
        subject = mark.subject
        if subject is None:
            blocks.add((mark.site_id, mark.track_id, mark.dose_level_id))
        elif subject.cohort_id is not None:
            blocks.add((subject.site_id, subject.cohort.track_id, subject.cohort.dose_level_id))
    return blocks


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


def test_an_event_entered_while_its_subject_changes_block_is_counted_in_the_new_one(
    client, study, coordinator_a, monitor, cohort1, one_subject
):
    """A writer reports an AE and, before it commits, the subject's cohort is placed on another
    dose level (in SQL, committed) and a recount counts both blocks: the writer's mark names the
    subject, whose block the next recount finds as it is then, so the event is counted in the
    block the subject is in now, not the one it was in when the event was written. (Through the
    services a subject's own block cannot change under an open write: enrollment and the AE
    report lock the subject's row.)"""
    from trial.models import Cohort, DoseLevel

    subject, old_block = one_subject
    recount_marked_blocks(study.pk)
    other_level = DoseLevel.objects.filter(study=study).exclude(pk=cohort1.dose_level_id).first()
    new_block = (old_block[0], old_block[1], other_level.pk)
    written, release = threading.Event(), threading.Event()
    results, errors = {}, []

    def writer():
        with transaction.atomic():
            reported_ae(coordinator_a, subject, "Fatigue", grade=1, days_after_first_dose=2)
            written.set()
            release.wait(30)  # committed after the move and the recount below

    thread = _thread("writer", writer, results, errors)
    thread.start()
    assert written.wait(30)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL lock_timeout = '10s'")
        cursor.execute(
            f"UPDATE {Cohort._meta.db_table} SET dose_level_id = %s WHERE id = %s",
            [other_level.pk, cohort1.pk],
        )
    assert recount_marked_blocks(study.pk) == 2  # the block left and the one joined
    assert errors == [] and thread.is_alive()
    release.set()
    thread.join(60)
    assert errors == []
    assert _marked() == {new_block}  # the writer's mark, found in the subject's block now
    assert _terms_on_the_page(client, monitor) == ({"Nausea", "Fatigue"}, 2)
    counted = AeTableCount.objects.filter(kind="term", site_id=new_block[0])
    assert set(counted.values_list("dose_level_id", "term__term")) == {
        (other_level.pk, "Nausea"),
        (other_level.pk, "Fatigue"),
    }


def test_rows_counted_by_another_rule_are_recounted(client, study, monitor, one_subject):
    """A stored row stamped with another counting rule (counted before a release changed it) is
    recounted at the next request, with no mark."""
    from monitoring.pages.ae_tables import COUNTING_RULE

    assert _terms_on_the_page(client, monitor) == ({"Nausea"}, 1)
    AeTableCount.objects.update(rule="an older rule", grade_2=0)
    assert not AeTableRecount.objects.exists()
    assert _terms_on_the_page(client, monitor) == ({"Nausea"}, 1)
    assert set(AeTableCount.objects.values_list("rule", flat=True)) == {COUNTING_RULE}
    assert AeTableCount.objects.get(kind="term").grade_2 == 1


def test_a_term_s_class_change_holds_recounts_until_it_commits(
    client, study, coordinator_a, monitor, one_subject
):
    """A term's system organ class changes in a transaction that is still open when an AE of
    that term is entered and committed (the change's trigger listed the subjects to mark before
    that AE existed). A recount meanwhile waits for the change to commit, then counts the AE
    under the new class: it cannot count it under the old one and leave nothing marked."""
    from safety.models import CtcaeTerm

    subject, _block = one_subject
    recount_marked_blocks(study.pk)
    changed, release = threading.Event(), threading.Event()
    results, errors = {}, []

    def admin():
        with transaction.atomic():
            CtcaeTerm.objects.filter(term="Fatigue").update(soc="Investigations")
            changed.set()
            release.wait(30)

    change = _thread("admin", admin, results, errors)
    change.start()
    assert changed.wait(30)
    reported_ae(coordinator_a, subject, "Fatigue", grade=1, days_after_first_dose=2)
    recount = _thread("recount", lambda: recount_marked_blocks(study.pk), results, errors)
    recount.start()
    deadline = time.monotonic() + 30
    while _waiting_on_locks() < 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert recount.is_alive()  # waiting for the class change to commit
    release.set()
    for thread in (change, recount):
        thread.join(60)
    assert errors == []
    assert results["recount"] == 1
    socs = set(AeTableCount.objects.filter(kind="soc").values_list("soc", flat=True))
    assert "Investigations" in socs
    assert "General disorders and administration site conditions" not in socs
    client.force_login(monitor)
    table = client.get(reverse("monitoring:adverse_events")).context["page"].all_events
    assert ("soc", "Investigations", "") in {(r.level, r.soc, r.term) for r in table.rows}
