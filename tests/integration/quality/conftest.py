"""Fixtures of the data quality tests: a dosed subject at site A, a CRA per site and study-wide."""

from datetime import timedelta

import pytest

from accounts.roles import Role
from core.dates import site_today
from tests.conftest import make_user
from tests.factories import dosed, enrolled_subject


@pytest.fixture
def cra(study):
    """A clinical research associate for the whole study (no sites named)."""
    return make_user("cra", study, Role.CRA)


@pytest.fixture
def cra_b(study, site_b):
    """A clinical research associate of site B only."""
    return make_user("cra_b", study, Role.CRA, [site_b])


@pytest.fixture
def data_manager_2(study):
    return make_user("datamanager2", study, Role.DATA_MANAGER)


@pytest.fixture
def study_admin(study):
    return make_user("studyadmin", study, Role.ADMIN)


@pytest.fixture
def subject(coordinator_a, site_a, cohort1):
    return enrolled_subject(coordinator_a, site_a, "S101-001", cohort1)


@pytest.fixture
def dose_day(site_a):
    return site_today(site_a.timezone) - timedelta(days=18)


@pytest.fixture
def dose(coordinator_a, subject, dose_day):
    return dosed(coordinator_a, subject, on=dose_day, weight="70")
