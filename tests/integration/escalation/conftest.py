from datetime import timedelta

import pytest

from core.dates import site_today
from tests.factories import dosed, enrolled_subject, screened_subject


@pytest.fixture
def l1_subject(coordinator_a, site_a, cohort1, ctcae):
    """Cohort 1's single titration subject, dosed 30 days ago: its 21-day window is over."""
    subject = enrolled_subject(coordinator_a, site_a, "S-1", cohort1, days_ago=32)
    dosed(coordinator_a, subject, on=site_today(site_a.timezone) - timedelta(days=30))
    return subject


@pytest.fixture
def new_screened(coordinator_a, site_a):
    counter = {"n": 100}

    def make():
        counter["n"] += 1
        return screened_subject(coordinator_a, site_a, f"S-{counter['n']}")

    return make
