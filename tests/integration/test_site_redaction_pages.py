"""The portal's home page shows each track's current recommendation; a coordinator reads it
without another site's subjects (escalation/redaction.py), a study role in full."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse

from core.dates import site_today
from escalation.redaction import OTHER_EVENT, OTHER_SITE
from escalation.services import evaluate_track
from tests.factories import dosed, enrolled_subject
from tests.integration.escalation.helpers import report_dlt
from trial.models import Cohort, EscalationTrack

pytestmark = pytest.mark.django_db


@pytest.fixture
def recommendation(coordinator_a, coordinator_b, study, site_a, site_b, cohort1, ctcae):
    cohort_b = Cohort.objects.create(
        study=study,
        track=EscalationTrack.objects.get(study=study, code="Q3W-ESC"),
        number=2,
        dose_level=cohort1.dose_level,
        planned_size=6,
        status=Cohort.Status.OPEN,
        opened_at=cohort1.opened_at,
    )
    subject_a = enrolled_subject(coordinator_a, site_a, "A-1", cohort1, days_ago=32)
    dosed(coordinator_a, subject_a, on=site_today(site_a.timezone) - timedelta(days=30))
    subject_b = enrolled_subject(coordinator_b, site_b, "B-1", cohort_b, days_ago=12)
    dosed(coordinator_b, subject_b, on=site_today(site_b.timezone) - timedelta(days=10))
    event = report_dlt(coordinator_b, subject_b)
    recommendation = evaluate_track(cohort1.track_id).recommendation
    return recommendation, subject_b, event


def rec_text(page: str) -> str:
    match = re.search(r'<p class="rec-text">(.*?)</p>', page, re.S)
    assert match, "no recommendation on the page"
    return match.group(1)


def test_the_home_page_of_a_coordinator_names_no_other_sites_subject(
    client, coordinator_a, recommendation
):
    stored, subject_b, event = recommendation
    client.force_login(coordinator_a)
    page = client.get(reverse("home")).content.decode()
    shown = rec_text(page)
    assert OTHER_SITE in shown and OTHER_EVENT in shown
    assert "enroll 1 more at 0.01 mg/kg Q3W" in shown
    for secret in (subject_b.subject_number, event.ctcae_term.term, event.onset_date.isoformat()):
        assert secret not in shown
    assert subject_b.subject_number not in page and event.ctcae_term.term not in page


def test_the_home_page_of_the_other_sites_coordinator_shows_their_subject(
    client, coordinator_b, recommendation
):
    stored, subject_b, _ = recommendation
    client.force_login(coordinator_b)
    shown = rec_text(client.get(reverse("home")).content.decode())
    assert subject_b.subject_number in shown and "Neutrophil count decreased" in shown
