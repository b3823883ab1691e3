"""A treated subject with a baseline tumour assessment, made through the services."""

from datetime import timedelta

import pytest

from core.dates import site_today
from efficacy.services import tumour_assessment_record
from tests.factories import dosed, enrolled_subject
from tests.integration.efficacy.helpers import BASELINE, FIRST_DOSE_DAYS_AGO


@pytest.fixture
def first_dose_on(site_a):
    return site_today(site_a.timezone) - timedelta(days=FIRST_DOSE_DAYS_AGO)


@pytest.fixture
def treated(coordinator_a, site_a, cohort1, first_dose_on):
    subject = enrolled_subject(
        coordinator_a, site_a, "S-1", cohort1, days_ago=FIRST_DOSE_DAYS_AGO + 10
    )
    dosed(coordinator_a, subject, on=first_dose_on)
    return subject


@pytest.fixture
def with_baseline(coordinator_a, treated, first_dose_on):
    tumour_assessment_record(
        by=coordinator_a,
        subject=treated,
        kind="baseline",
        assessed_on=first_dose_on - timedelta(days=5),
        method="CT",
        lesions=BASELINE,
    )
    return treated
