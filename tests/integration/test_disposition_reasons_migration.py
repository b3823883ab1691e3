"""The migration that coded the disposition reasons recorded before reasons were coded
(subjects/migrations/0007; docs/subjects.md §2): each end gets a coded reason read from its
text, the text is kept, and each coded subject gets a new version and a history row saying why;
the earlier history stays as it was."""

from datetime import date
from importlib import import_module

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from subjects.models import Subject
from tests.factories import enrolled_subject
from trial.models import Cohort, EscalationTrack

BEFORE = [("subjects", "0006_race_ethnicity_coded_disposition")]
AFTER = [("subjects", "0007_code_recorded_disposition_reasons")]
migration = import_module("subjects.migrations.0007_code_recorded_disposition_reasons")

D1, D2 = date(2026, 2, 1), date(2026, 2, 20)

CODED = [
    # (text, end date, death date, end of study?) -> coded reason
    ("Progressive disease", D1, None, False, "PROGRESSIVE DISEASE"),
    ("progressive disease.", D1, None, False, "PROGRESSIVE DISEASE"),
    ("Disease progression", D1, None, False, "PROGRESSIVE DISEASE"),
    ("Adverse event", D1, None, False, "ADVERSE EVENT"),
    ("Subject\u2019s decision", D1, None, False, "WITHDRAWAL BY SUBJECT"),
    ("Consent withdrawn", D1, None, True, "WITHDRAWAL OF CONSENT"),
    ("Investigator's decision", D1, None, False, "PHYSICIAN DECISION"),
    ("Lost to follow up", D1, None, True, "LOST TO FOLLOW-UP"),
    ("Follow-up completed", D1, None, True, "COMPLETED"),
    ("Death", D1, D1, True, "DEATH"),
    ("Died of disease progression", D1, D1, False, "DEATH"),  # died that day
    ("Death", D1, None, False, "OTHER"),  # no such date of death: the text says more
    ("Pregnancy", D1, None, True, "OTHER"),  # not an end-of-study reason
    ("Pregnancy", D1, None, False, "PREGNANCY"),
    ("Progressive disease (RECIST 1.1)", D1, None, False, "OTHER"),  # the text is kept
    ("Infusion reaction: no further dosing", D1, None, False, "OTHER"),
]


@pytest.mark.parametrize(("text", "day", "death", "study", "code"), CODED)
def test_the_frozen_table(text, day, death, study, code):
    allowed = migration.END_OF_STUDY if study else None
    assert migration.coded(text, day, death, allowed=allowed) == code


@pytest.fixture
def whole_schema_after():
    """Going back to subjects 0006 also takes back every migration that depends on 0007 (other
    apps' included); the later tests of this worker need the whole schema again."""
    yield
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("whole_schema_after")
def test_the_migration_codes_recorded_reasons_keeping_text_and_history(
    coordinator_a, site_a, cohort1
):
    # A 3+3 cohort at the first dose level, with room for the three subjects.
    cohort = Cohort.objects.create(
        study=cohort1.study,
        track=EscalationTrack.objects.get(study=cohort1.study, code="Q3W-ESC"),
        number=2,
        dose_level=cohort1.dose_level,
        planned_size=6,
        status=Cohort.Status.OPEN,
        opened_at=cohort1.opened_at,
    )
    ended = enrolled_subject(coordinator_a, site_a, "S-1", cohort, days_ago=30)
    died = enrolled_subject(coordinator_a, site_a, "S-2", cohort, days_ago=30)
    untouched = enrolled_subject(coordinator_a, site_a, "S-3", cohort, days_ago=30)
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    # As an earlier release stored them: dates and free text, no coded reason.
    eot, death = ended.enrollment_date, died.enrollment_date
    with connection.cursor() as cursor:
        table = Subject._meta.db_table
        cursor.execute(
            f"UPDATE {table} SET end_of_treatment_date = %s, end_of_treatment_reason = %s, "
            "status = 'off_treatment' WHERE id = %s",
            [eot, "Disease progression", ended.pk],
        )
        cursor.execute(
            f"UPDATE {table} SET end_of_treatment_date = %s, end_of_treatment_reason = 'Death', "
            "end_of_study_date = %s, end_of_study_reason = 'Death', death_date = %s, "
            "status = 'off_study' WHERE id = %s",
            [death, death, death, died.pk],
        )
    versions = {s.pk: Subject.all_objects.get(pk=s.pk).version for s in (ended, died, untouched)}
    rows = {s.pk: s.history.count() for s in (ended, died, untouched)}

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(AFTER)

    ended, died, untouched = (Subject.all_objects.get(pk=s.pk) for s in (ended, died, untouched))
    assert (ended.end_of_treatment_reason_code, ended.end_of_treatment_reason) == (
        "PROGRESSIVE DISEASE",
        "Disease progression",
    )
    assert ended.end_of_study_reason_code == ""  # no end of study: nothing to code
    assert died.end_of_treatment_reason_code == died.end_of_study_reason_code == "DEATH"
    assert died.end_of_study_reason == "Death"  # the text is kept
    for subject in (ended, died):
        assert subject.version == versions[subject.pk] + 1
        assert subject.history.count() == rows[subject.pk] + 1
        last = subject.history.order_by("-history_id").first()
        assert last.history_change_reason.startswith("Disposition reasons coded")
        assert last.history_user is None and last.version == subject.version
        previous = subject.history.order_by("-history_id")[1]
        assert previous.end_of_treatment_reason_code == ""  # the earlier history as it was
    assert untouched.version == versions[untouched.pk]
    assert untouched.history.count() == rows[untouched.pk]
