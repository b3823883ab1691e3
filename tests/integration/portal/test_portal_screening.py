"""Screening to enrollment in the coordinator pages: screening number, consent, the protocol's
eligibility checklist, enrollment into the open cohort (or why none is open), screen failure."""

from datetime import timedelta

import pytest
from django.urls import reverse

from core.dates import site_today
from subjects.models import Subject
from tests.factories import enrolled_subject, screened_subject
from trial.models import Cohort

pytestmark = pytest.mark.django_db


def checklist(study, *, all_met=True):
    data = {}
    for index, _ in enumerate(study.inclusion_criteria(), start=1):
        # Not met: the histology criterion (the age one must agree with the year of birth).
        data[f"inc_{index}"] = "yes" if all_met else ("no" if index == 2 else "yes")
    for index, _ in enumerate(study.exclusion_criteria(), start=1):
        data[f"exc_{index}"] = "no"
    return data


def test_screen_consent_checklist_and_enroll_assigns_the_site_prefixed_number(
    signed_in, site_a, study, cohort1
):
    today = site_today(site_a.timezone)
    response = signed_in.post(
        reverse("subject_new"),
        {
            "site": site_a.pk,
            "screening_number": "SCR-7",
            "sex": "F",
            "year_of_birth": 1970,
            "screening_date": today.isoformat(),
        },
    )
    subject = Subject.objects.get(screening_number="SCR-7")
    assert response.status_code == 302 and response.url == reverse("screening", args=[subject.pk])

    page = signed_in.get(reverse("screening", args=[subject.pk])).content.decode()
    for criterion in study.inclusion_criteria() + study.exclusion_criteria():
        assert criterion in page  # the checklist is the protocol file's criteria

    signed_in.post(
        reverse("consent", args=[subject.pk]),
        {"consent_date": today.isoformat(), "consent_version": "v2.0", "version": 1},
    )
    subject.refresh_from_db()
    assert subject.consent_version == "v2.0"

    response = signed_in.post(
        reverse("eligibility", args=[subject.pk]),
        checklist(study) | {"assessed_on": today.isoformat(), "version": subject.version},
    )
    assert response.url == reverse("enroll", args=[subject.pk])
    enroll_page = signed_in.get(response.url).content.decode()
    assert "Cohort 1: 0.01 mg/kg Q3W" in enroll_page and "Every 3 weeks" in enroll_page

    subject.refresh_from_db()
    response = signed_in.post(
        reverse("enroll", args=[subject.pk]),
        {"cohort": cohort1.pk, "enrollment_date": today.isoformat(), "version": subject.version},
    )
    subject.refresh_from_db()
    assert response.status_code == 302
    assert subject.subject_number == "101-001"
    assert subject.status == Subject.Status.ENROLLED
    assert Cohort.objects.get(pk=cohort1.pk).status == Cohort.Status.FULL


def test_enroll_page_says_why_no_cohort_is_open(signed_in, coordinator_a, site_a, cohort1):
    enrolled_subject(coordinator_a, site_a, "S-1", cohort1)  # takes cohort 1's only place
    waiting = screened_subject(coordinator_a, site_a, "S-2")
    page = signed_in.get(reverse("enroll", args=[waiting.pk])).content.decode()
    assert "No cohort is open for enrollment now" in page
    assert "Cohort 1: 0.01 mg/kg Q3W is full (1 place)." in page  # the service's wording
    assert 'name="cohort"' not in page  # nothing to submit


def test_duplicate_screening_number_is_a_field_error_and_keeps_the_input(
    signed_in, coordinator_a, site_a
):
    screened_subject(coordinator_a, site_a, "DUP-1")
    today = site_today(site_a.timezone)
    response = signed_in.post(
        reverse("subject_new"),
        {
            "site": site_a.pk,
            "screening_number": "DUP-1",
            "sex": "M",
            "year_of_birth": 1955,
            "screening_date": today.isoformat(),
        },
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "Screening number DUP-1 is already used in this study." in page
    assert 'value="1955"' in page
    assert Subject.objects.filter(screening_number="DUP-1").count() == 1


def test_future_consent_is_refused_on_its_field(signed_in, coordinator_a, site_a):
    subject = screened_subject(coordinator_a, site_a, "S-9", consent=False)
    tomorrow = site_today(site_a.timezone) + timedelta(days=1)
    response = signed_in.post(
        reverse("consent", args=[subject.pk]),
        {"consent_date": tomorrow.isoformat(), "consent_version": "v3", "version": 1},
    )
    page = response.content.decode()
    assert "is in the future" in page
    assert 'value="v3"' in page
    subject.refresh_from_db()
    assert subject.consent_date is None


def test_not_eligible_leads_to_a_screen_failure_with_its_reason(
    signed_in, coordinator_a, site_a, study
):
    subject = screened_subject(coordinator_a, site_a, "S-3", eligible=False)
    today = site_today(site_a.timezone)
    signed_in.post(
        reverse("eligibility", args=[subject.pk]),
        checklist(study, all_met=False) | {"assessed_on": today.isoformat(), "version": 2},
    )
    subject.refresh_from_db()
    assert subject.eligibility_outcome == Subject.Eligibility.INELIGIBLE
    form = signed_in.get(reverse("screen_fail", args=[subject.pk])).content.decode()
    assert study.inclusion_criteria()[1] in form  # the unmet criterion is proposed as the reason

    response = signed_in.post(
        reverse("screen_fail", args=[subject.pk]), {"screen_failure_reason": "", "version": 3}
    )
    assert "Give the reason for the screen failure." in response.content.decode()
    signed_in.post(
        reverse("screen_fail", args=[subject.pk]),
        {"screen_failure_reason": "No histological confirmation", "version": subject.version},
    )
    subject.refresh_from_db()
    assert subject.status == Subject.Status.SCREEN_FAILED
    assert subject.screen_failure_reason == "No histological confirmation"


def test_an_unanswered_criterion_is_marked_and_the_other_answers_kept(
    signed_in, coordinator_a, site_a, study
):
    subject = screened_subject(coordinator_a, site_a, "S-4", eligible=False)
    data = checklist(study)
    data.pop("exc_2")
    response = signed_in.post(
        reverse("eligibility", args=[subject.pk]),
        data | {"assessed_on": site_today(site_a.timezone).isoformat(), "version": 2},
    )
    page = response.content.decode()
    assert "Answer this criterion." in page
    assert 'name="inc_1" value="yes" id="id_inc_1_0" required checked' in page
    subject.refresh_from_db()
    assert subject.eligibility_outcome == Subject.Eligibility.PENDING
