"""Two coordinators take the last place of a cohort at the same moment: exactly one wins
(docs/safety.md §5). Real concurrent transactions need PostgreSQL's row locks."""

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from core.dates import site_today
from subjects.models import Subject
from subjects.services import subject_enroll
from tests.conftest import needs_postgresql
from tests.factories import screened_subject
from trial.models import Cohort


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_enrollments_into_the_last_place(
    coordinator_a, coordinator_b, site_a, site_b, cohort1
):
    needs_postgresql()
    first = screened_subject(coordinator_a, site_a, "A-1")
    second = screened_subject(coordinator_b, site_b, "B-1")
    barrier = threading.Barrier(2)
    outcomes: dict[str, object] = {}

    def enroll(name, by, subject, site):
        try:
            barrier.wait(timeout=10)
            subject_enroll(
                by=by, subject=subject, cohort=cohort1, enrollment_date=site_today(site.timezone)
            )
            outcomes[name] = "enrolled"
        except ValidationError as error:
            outcomes[name] = error
        finally:
            connection.close()

    threads = [
        threading.Thread(target=enroll, args=("a", coordinator_a, first, site_a)),
        threading.Thread(target=enroll, args=("b", coordinator_b, second, site_b)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(map(type, outcomes.values()), key=str) == sorted([str, ValidationError], key=str)
    loser = next(v for v in outcomes.values() if isinstance(v, ValidationError))
    assert "is full" in " ".join(loser.message_dict["cohort"])
    assert Subject.objects.filter(cohort=cohort1).count() == 1
    assert Cohort.objects.get(pk=cohort1.pk).status == Cohort.Status.FULL
