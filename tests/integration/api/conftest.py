"""API test fixtures: token-authenticated clients per persona, and a small study with records at
two sites made through the services (so every record is validated and audited like a real one)."""

import uuid
from datetime import timedelta

import pytest
from rest_framework.test import APIClient

from api.tokens import token_create
from core.dates import site_today
from tests.factories import dosed, enrolled_subject, reported_ae, screened_subject
from trial.models import Cohort, EscalationTrack

GENEROUS_RATES = {"user": "100000/minute", "anon": "100000/minute"}


@pytest.fixture(autouse=True)
def api_settings_for_tests(settings):
    """Generous rate limits, and a fresh namespace of throttle counters for every test (in Redis
    when REDIS_URL is set: nothing is flushed, old counters just expire). Personas' passwords
    are hashed with a fast hasher: these tests are about the API, not password storage."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": dict(GENEROUS_RATES),
    }
    settings.CACHES = {
        **settings.CACHES,
        "api_throttle": {
            **settings.CACHES["api_throttle"],
            "KEY_PREFIX": f"test-{uuid.uuid4().hex}",
        },
    }


def client_with_token(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_create(by=user, name='test').secret}")
    return client


@pytest.fixture
def api():
    """api(user) -> an APIClient authenticated with a fresh token of that user."""
    return client_with_token


@pytest.fixture
def cohort_b(study, cohort1):
    """A second open cohort (3+3 at dose level 1), so that site B can enroll too."""
    return Cohort.objects.create(
        study=study,
        track=EscalationTrack.objects.get(study=study, code="Q3W-ESC"),
        number=2,
        dose_level=cohort1.dose_level,
        planned_size=6,
        status=Cohort.Status.OPEN,
        opened_at=cohort1.opened_at,
    )


@pytest.fixture
def records(coordinator_a, coordinator_b, site_a, site_b, cohort1, cohort_b, ctcae):
    """One enrolled, dosed subject with an AE at each site, and a screened subject at site A."""
    today_a, today_b = site_today(site_a.timezone), site_today(site_b.timezone)
    subject_a = enrolled_subject(coordinator_a, site_a, "A-1", cohort1, days_ago=20)
    subject_b = enrolled_subject(coordinator_b, site_b, "B-1", cohort_b, days_ago=20)
    dose_a = dosed(coordinator_a, subject_a, on=today_a - timedelta(days=18))
    dose_b = dosed(coordinator_b, subject_b, on=today_b - timedelta(days=18))
    ae_a = reported_ae(coordinator_a, subject_a)
    ae_b = reported_ae(coordinator_b, subject_b)
    screened_a = screened_subject(coordinator_a, site_a, "A-2", eligible=False)
    return {
        "subject_a": subject_a,
        "subject_b": subject_b,
        "dose_a": dose_a,
        "dose_b": dose_b,
        "ae_a": ae_a,
        "ae_b": ae_b,
        "screened_a": screened_a,
    }
