"""The audit trail (docs/audit.md §1-§3): who, when (UTC), old and new values, why; append-only;
clinical records voided, never deleted; stale edits refused."""

from datetime import UTC, timedelta

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, transaction

from core.errors import StaleRecord
from core.models import ClinicalDataProtected, Signature
from core.records import history_entries, sign_record
from safety.models import AdverseEvent
from safety.services import adverse_event_update, adverse_event_void
from tests.conftest import PASSWORD, needs_postgresql
from tests.factories import enrolled_subject, reported_ae

pytestmark = pytest.mark.django_db


@pytest.fixture
def event(coordinator_a, site_a, cohort1, ctcae):
    subject = enrolled_subject(coordinator_a, site_a, "S-1", cohort1, days_ago=20)
    return reported_ae(
        coordinator_a,
        subject,
        "Nausea",
        verbatim_term="queasy",
        grade=2,
        onset_date=subject.enrollment_date + timedelta(days=2),
        relationship="possible",
        action_taken="none",
        outcome="not_recovered",
    )


def test_editing_grade_without_a_reason_is_refused(coordinator_a, event):
    with pytest.raises(ValidationError) as excinfo:
        adverse_event_update(
            by=coordinator_a,
            adverse_event=event,
            changes={"grade": 3},
            reason="",
            expected_version=event.version,
        )
    assert "reason" in excinfo.value.message_dict
    event.refresh_from_db()
    assert event.grade == 2 and event.version == 1
    assert event.history.count() == 1


def test_edit_with_a_reason_is_in_the_history_with_old_new_user_utc_time_and_reason(
    coordinator_a, event
):
    adverse_event_update(
        by=coordinator_a,
        adverse_event=event,
        changes={"grade": 3},
        reason="Hospital notes show grade 3",
        expected_version=event.version,
    )
    entries = history_entries(event)
    assert [e["type"] for e in entries] == ["created", "changed"]
    change = entries[-1]
    assert change["user"] == coordinator_a
    assert change["reason"] == "Hospital notes show grade 3"
    assert change["at"].tzinfo is not None and change["at"].utcoffset() == timedelta(0)
    assert change["at"].astimezone(UTC) == change["at"]
    assert {"field": "grade", "old": 2, "new": 3} in change["changes"]
    assert change["version"] == 2


def test_a_stale_edit_is_refused_and_says_what_changed(coordinator_a, data_manager, event):
    adverse_event_update(
        by=data_manager,
        adverse_event=event,
        changes={"grade": 3},
        reason="per source",
        expected_version=1,
    )
    with pytest.raises(StaleRecord) as excinfo:
        adverse_event_update(
            by=coordinator_a,
            adverse_event=event,
            changes={"verbatim_term": "nausea"},
            reason="typo",
            expected_version=1,
        )
    assert excinfo.value.current_version == 2
    assert {"field": "grade", "old": 2, "new": 3} in excinfo.value.changes
    event.refresh_from_db()
    assert event.verbatim_term == "queasy"


def test_clinical_records_cannot_be_deleted_or_bulk_updated(event):
    with pytest.raises(ClinicalDataProtected):
        event.delete()
    with pytest.raises(ClinicalDataProtected):
        AdverseEvent.objects.all().delete()
    with pytest.raises(ClinicalDataProtected):
        AdverseEvent.objects.filter(pk=event.pk).update(grade=4)
    event.grade = 4
    with pytest.raises(ClinicalDataProtected):
        event.save()  # a save that skips the service has no reason
    assert AdverseEvent.objects.get(pk=event.pk).grade == 2


def test_void_keeps_the_record_with_who_and_why(coordinator_a, event):
    adverse_event_void(
        by=coordinator_a,
        adverse_event=event,
        reason="Entered for the wrong subject",
        expected_version=1,
    )
    assert not AdverseEvent.objects.filter(pk=event.pk).exists()
    voided = AdverseEvent.all_objects.get(pk=event.pk)
    assert (
        voided.voided_by == coordinator_a and voided.void_reason == "Entered for the wrong subject"
    )
    assert history_entries(voided)[-1]["reason"] == "Voided: Entered for the wrong subject"
    with pytest.raises(ValidationError):
        adverse_event_update(
            by=coordinator_a,
            adverse_event=voided,
            changes={"grade": 3},
            reason="x",
            expected_version=2,
        )


def test_null_bytes_are_refused_naming_the_field(coordinator_a, event):
    with pytest.raises(ValidationError) as excinfo:
        adverse_event_update(
            by=coordinator_a,
            adverse_event=event,
            changes={"verbatim_term": "bad\x00text"},
            reason="x",
            expected_version=1,
        )
    assert "verbatim_term" in excinfo.value.message_dict


def test_oversized_text_is_refused_naming_the_field(coordinator_a, event):
    with pytest.raises(ValidationError) as excinfo:
        adverse_event_update(
            by=coordinator_a,
            adverse_event=event,
            changes={"verbatim_term": "x" * 301},
            reason="x",
            expected_version=1,
        )
    assert "verbatim_term" in excinfo.value.message_dict


def test_signature_needs_the_password_and_is_invalidated_by_an_edit(monitor, coordinator_a, event):
    with pytest.raises(ValidationError) as excinfo:
        sign_record(event, by=monitor, password="wrong", meaning="reviewed")
    assert "password" in excinfo.value.message_dict
    assert not Signature.objects.exists()
    signature = sign_record(event, by=monitor, password=PASSWORD, meaning="reviewed")
    assert signature.printed_name == "Monitor Tester" and signature.record_version == 1
    adverse_event_update(
        by=coordinator_a,
        adverse_event=event,
        changes={"grade": 3},
        reason="per source",
        expected_version=1,
    )
    signature.refresh_from_db()
    assert not signature.is_valid
    assert "version 2" in signature.invalidation_reason


def test_history_rows_cannot_be_deleted_or_updated_on_postgresql(event):
    needs_postgresql()
    table = AdverseEvent.history.model._meta.db_table
    for statement in (f"DELETE FROM {table}", f"UPDATE {table} SET grade = 5"):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(statement)
    assert AdverseEvent.history.count() == 1


def test_every_history_table_has_the_append_only_triggers():
    """Row-level UPDATE/DELETE and statement-level TRUNCATE, both refused (core/db.py)."""
    needs_postgresql()
    history_tables = {
        m._meta.db_table for m in apps.get_models() if m.__name__.startswith("Historical")
    }
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT t.tgname, c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "WHERE t.tgname IN ('history_append_only', 'history_no_truncate') AND t.tgenabled = 'O'"
        )
        protected: dict[str, set[str]] = {}
        for trigger, table in cursor.fetchall():
            protected.setdefault(trigger, set()).add(table)
    assert history_tables
    for trigger in ("history_append_only", "history_no_truncate"):
        missing = history_tables - protected.get(trigger, set())
        assert not missing, (trigger, missing)


def test_history_tables_refuse_truncate_on_postgresql(event):
    needs_postgresql()
    table = AdverseEvent.history.model._meta.db_table
    with (
        pytest.raises(DatabaseError, match="append-only: TRUNCATE"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        # The test's own transaction has deferred foreign-key checks pending: run them first.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(f"TRUNCATE {table} CASCADE")
    assert AdverseEvent.history.count() == 1
