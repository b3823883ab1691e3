"""Survival follow-up: every 12 weeks after the end of treatment, the contact expected at each
SURV visit (the missing-forms report lists it), alive or dead with the cause, a new anticancer
therapy; refusals by field; the API."""

from datetime import timedelta

import pytest
from django.urls import reverse

from core.dates import site_today
from core.errors import ValidationError
from subjects.services import subject_end_treatment
from tests.factories import dosed, enrolled_subject
from visits import selectors
from visits.models import SurvivalContact
from visits.services import survival_contact_record, visit_record


@pytest.fixture
def followed(coordinator_a, site_a, open_cohort):
    """Dosed 190 days ago, treatment ended 100 days ago: SURV1 was due 16 days ago (EOT + 84)."""
    today = site_today(site_a.timezone)
    subject = enrolled_subject(coordinator_a, site_a, "SV-1", open_cohort, days_ago=200)
    dosed(coordinator_a, subject, on=today - timedelta(days=190))
    subject = subject_end_treatment(
        by=coordinator_a,
        subject=subject,
        end_date=today - timedelta(days=100),
        reason_code="PROGRESSIVE DISEASE",
        expected_version=None,
    )
    return subject, today


def test_the_survival_contact_is_expected_at_surv1(followed, monitor):
    subject, today = followed
    report = selectors.missing_forms(monitor, subject.study_id)
    rows = {row.code: row for site in report for row in site.rows if row.subject.pk == subject.pk}
    assert rows["SURV1"].missing == ("survival",)
    assert rows["SURV1"].target == today - timedelta(days=100 - 84)
    assert "SURV2" not in rows  # not yet due


def test_contacts_and_refusals(followed, coordinator_a, client):
    subject, today = followed
    visit = visit_record(
        by=coordinator_a, subject=subject, code="SURV1", visit_date=today - timedelta(days=15)
    )
    with pytest.raises(ValidationError) as error:
        survival_contact_record(
            by=coordinator_a,
            subject=subject,
            visit=visit,
            contact_date=visit.visit_date,
            status="dead",
            cause_of_death="progression",
        )
    assert "record the death on the casebook first" in error.value.message_dict["status"][0]
    with pytest.raises(ValidationError) as error:
        survival_contact_record(
            by=coordinator_a,
            subject=subject,
            visit=visit,
            contact_date=visit.visit_date,
            status="alive",
            new_therapy=True,
        )
    assert set(error.value.message_dict) == {"new_therapy_regimen", "new_therapy_start"}
    assert not SurvivalContact.all_objects.exists()
    contact = survival_contact_record(
        by=coordinator_a,
        subject=subject,
        visit=visit,
        contact_date=visit.visit_date,
        status="alive",
        new_therapy=True,
        new_therapy_regimen="Docetaxel",
        new_therapy_start=today - timedelta(days=40),
    )
    assert contact.last_known_alive == visit.visit_date
    client.force_login(coordinator_a)
    rows = client.get("/api/v1/survival-contacts/").json()["results"]
    assert [(r["status"], r["new_therapy_regimen"], r["visit_code"]) for r in rows] == [
        ("alive", "Docetaxel", "SURV1")
    ]
    page = client.get(reverse("visits:visit", args=[subject.pk, "SURV1"])).content.decode()
    assert "new therapy Docetaxel" in page
