"""Voiding a dose or an adverse event from the pages: a reason, the version seen; the record stays
on record, out of every count."""

from datetime import timedelta

import pytest
from django.urls import reverse

from dosing.models import DoseAdministration
from safety.models import AdverseEvent
from safety.services import adverse_event_update
from tests.factories import dosed, enrolled_subject, reported_ae

pytestmark = pytest.mark.django_db


@pytest.fixture
def dose(coordinator_a, site_a, cohort1):
    subject = enrolled_subject(coordinator_a, site_a, "S-1", cohort1, days_ago=10)
    return dosed(coordinator_a, subject, on=subject.enrollment_date)


def test_a_dose_is_voided_with_a_reason(signed_in, dose):
    url = reverse("dose_void", args=[dose.pk])
    assert "Cycle 1 Day 1" in signed_in.get(url).content.decode()
    refused = signed_in.post(url, {"reason": "", "version": dose.version})
    assert refused.status_code == 200 and DoseAdministration.objects.filter(pk=dose.pk).exists()
    done = signed_in.post(url, {"reason": "Entered for the wrong visit", "version": dose.version})
    assert done.status_code == 302 and done.url.endswith("#doses")
    voided = DoseAdministration.all_objects.get(pk=dose.pk)
    assert voided.is_voided and voided.void_reason == "Entered for the wrong visit"


def test_a_stale_void_is_refused(signed_in, coordinator_a, dose, ctcae):
    event = reported_ae(
        coordinator_a,
        dose.subject,
        "Nausea",
        verbatim_term="nausea",
        grade=1,
        onset_date=dose.administered_on + timedelta(days=1),
        relationship="possible",
        action_taken="none",
        outcome="not_recovered",
    )
    seen = event.version
    adverse_event_update(
        by=coordinator_a,
        adverse_event=event,
        changes={"grade": 2},
        reason="per source",
        expected_version=seen,
    )
    page = signed_in.post(
        reverse("ae_void", args=[event.pk]), {"reason": "duplicate", "version": seen}
    )
    assert page.status_code == 200
    assert "Someone else changed this adverse event" in page.content.decode()
    assert AdverseEvent.objects.filter(pk=event.pk).exists()


def test_another_sites_dose_cannot_be_voided(client, coordinator_b, dose):
    client.force_login(coordinator_b)
    response = client.post(
        reverse("dose_void", args=[dose.pk]), {"reason": "x", "version": dose.version}
    )
    assert response.status_code == 404
    assert DoseAdministration.objects.filter(pk=dose.pk).exists()
