"""Through the API as on the pages: an overdose is recorded as given with its confirmation and
reason (and shows as such), and a possibly-under-age consent is confirmed."""

from datetime import date, timedelta

import pytest
import time_machine

from core.dates import site_today
from escalation.models import Notification
from subjects.services import subject_screen
from tests.factories import enrolled_subject

pytestmark = pytest.mark.django_db


def test_an_overdose_through_the_api(api, coordinator_a, monitor, site_a, cohort1):
    subject = enrolled_subject(coordinator_a, site_a, "A-9", cohort1, days_ago=5)
    day = (site_today(site_a.timezone) - timedelta(days=1)).isoformat()
    body = {
        "subject": subject.pk,
        "cycle": 1,
        "day": 1,
        "actual_dose_per_kg": "0.02",
        "body_weight_kg": "70",
        "infusion_start": f"{day}T09:00:00-05:00",
        "infusion_end": f"{day}T10:30:00-05:00",
        "lot_number": "LOT-7",
        "dose_change_reason": "Pharmacy prepared the wrong bag",
    }
    client = api(coordinator_a)
    refused = client.post("/api/v1/dose-administrations/", body, format="json")
    assert refused.status_code == 400
    assert "overdose_confirmed" in refused.json()["error"]["fields"]
    saved = client.post(
        "/api/v1/dose-administrations/", body | {"overdose_confirmed": True}, format="json"
    )
    assert saved.status_code == 201, saved.content
    assert saved.json()["overdose_confirmed"] is True
    assert saved.json()["actual_dose_per_kg"] == "0.0200"
    assert Notification.objects.filter(kind=Notification.Kind.OVERDOSE, recipient=monitor).exists()


def test_a_consent_that_needs_the_age_confirmed_through_the_api(api, coordinator_a, site_a):
    with time_machine.travel(date(2026, 11, 29), tick=False):
        subject = subject_screen(
            by=coordinator_a,
            site=site_a,
            screening_number="A-18",
            sex="M",
            year_of_birth=2008,
            screening_date=date(2026, 11, 20),
        )
        client = api(coordinator_a)
        url = f"/api/v1/subjects/{subject.pk}/consent/"
        body = {"consent_date": "2026-11-20", "consent_version": "v1"}
        refused = client.post(url, body, format="json", HTTP_IF_MATCH=f'"{subject.pk}.1"')
        assert refused.status_code == 400
        assert "age_confirmed" in refused.json()["error"]["fields"]
        saved = client.post(
            url, body | {"age_confirmed": True}, format="json", HTTP_IF_MATCH=f'"{subject.pk}.1"'
        )
        assert saved.status_code == 200, saved.content
