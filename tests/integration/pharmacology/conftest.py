"""A Q3W subject at site A with a Cycle 1 infusion 10 days ago (09:00-10:30 at the site), made
through the services."""

from datetime import timedelta

import pytest

from core.dates import site_today
from tests.factories import dosed, enrolled_subject


@pytest.fixture
def subject_a(coordinator_a, site_a, cohort1):
    return enrolled_subject(coordinator_a, site_a, "A-1", cohort1, days_ago=20)


@pytest.fixture
def dose_a(coordinator_a, subject_a, site_a):
    return dosed(coordinator_a, subject_a, on=site_today(site_a.timezone) - timedelta(days=10))
