"""Screening, consent, eligibility and enrollment: the rules of docs/safety.md §5."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from core.dates import site_today
from subjects.models import Subject
from subjects.services import subject_enroll, subject_screen, subject_update
from tests.factories import enrolled_subject, screened_subject
from trial.models import Cohort

pytestmark = pytest.mark.django_db


def errors_of(excinfo) -> dict:
    return excinfo.value.message_dict


def test_enrollment_assigns_a_site_prefixed_number_and_fills_the_cohort(
    coordinator_a, site_a, cohort1
):
    subject = enrolled_subject(coordinator_a, site_a, "S-1", cohort1)
    assert subject.subject_number == "101-001"
    assert subject.status == Subject.Status.ENROLLED
    cohort1.refresh_from_db()
    assert cohort1.status == Cohort.Status.FULL
    history = list(subject.history.order_by("history_id"))
    assert history[-1].history_change_reason.startswith("Enrolled in Cohort 1")
    assert history[-1].history_user == coordinator_a


def test_duplicate_screening_number_is_refused(coordinator_a, site_a):
    screened_subject(coordinator_a, site_a, "S-7")
    with pytest.raises(ValidationError) as excinfo:
        screened_subject(coordinator_a, site_a, "S-7")
    assert "already used" in errors_of(excinfo)["screening_number"][0]
    assert Subject.objects.count() == 1


def test_screening_date_in_the_future_at_the_site_is_refused(coordinator_b, site_b):
    tomorrow = site_today(site_b.timezone) + timedelta(days=1)
    with pytest.raises(ValidationError) as excinfo:
        subject_screen(
            by=coordinator_b,
            site=site_b,
            screening_number="X",
            sex="M",
            year_of_birth=1970,
            screening_date=tomorrow,
        )
    assert "in the future" in errors_of(excinfo)["screening_date"][0]
    assert "Australia/Sydney" in errors_of(excinfo)["screening_date"][0]
    assert not Subject.objects.exists()


def test_enrollment_needs_consent_and_eligibility(coordinator_a, site_a, cohort1):
    no_consent = screened_subject(coordinator_a, site_a, "S-1", consent=False)
    with pytest.raises(ValidationError) as excinfo:
        subject_enroll(
            by=coordinator_a,
            subject=no_consent,
            cohort=cohort1,
            enrollment_date=site_today(site_a.timezone),
        )
    assert "consent" in errors_of(excinfo)["consent_date"][0]
    not_assessed = screened_subject(coordinator_a, site_a, "S-2", eligible=False)
    with pytest.raises(ValidationError) as excinfo:
        subject_enroll(
            by=coordinator_a,
            subject=not_assessed,
            cohort=cohort1,
            enrollment_date=site_today(site_a.timezone),
        )
    assert "eligible" in errors_of(excinfo)["eligibility_outcome"][0]
    cohort1.refresh_from_db()
    assert cohort1.status == Cohort.Status.OPEN
    assert not Subject.objects.filter(status=Subject.Status.ENROLLED).exists()


def test_enrollment_before_consent_is_refused(coordinator_a, site_a, cohort1):
    subject = screened_subject(coordinator_a, site_a, "S-1", days_ago=5)
    with pytest.raises(ValidationError) as excinfo:
        subject_enroll(
            by=coordinator_a,
            subject=subject,
            cohort=cohort1,
            enrollment_date=subject.consent_date - timedelta(days=1),
        )
    assert "precede informed consent" in errors_of(excinfo)["enrollment_date"][0]


def test_enrollment_into_a_full_cohort_is_refused(coordinator_a, site_a, cohort1):
    enrolled_subject(coordinator_a, site_a, "S-1", cohort1)
    second = screened_subject(coordinator_a, site_a, "S-2")
    with pytest.raises(ValidationError) as excinfo:
        subject_enroll(
            by=coordinator_a,
            subject=second,
            cohort=cohort1,
            enrollment_date=site_today(site_a.timezone),
        )
    assert "is full" in errors_of(excinfo)["cohort"][0]
    second.refresh_from_db()
    assert second.status == Subject.Status.SCREENING and second.subject_number is None


@pytest.mark.parametrize(
    ("status", "message"),
    [("planned", "waiting for the Safety Review Committee"), ("closed", "is closed")],
)
def test_enrollment_into_a_cohort_not_open_is_refused(
    coordinator_a, site_a, study, status, message
):
    from django.utils import timezone

    track = study.tracks.get(code="Q3W-ESC")
    cohort = Cohort.objects.create(
        study=study,
        track=track,
        number=2,
        dose_level=study.dose_levels.get(number=2),
        planned_size=1,
        is_titration=True,
        status=status,
        opened_at=timezone.now() if status != "planned" else None,
        closed_at=timezone.now() if status == "closed" else None,
    )
    subject = screened_subject(coordinator_a, site_a, "S-1")
    with pytest.raises(ValidationError) as excinfo:
        subject_enroll(
            by=coordinator_a,
            subject=subject,
            cohort=cohort,
            enrollment_date=site_today(site_a.timezone),
        )
    assert message in errors_of(excinfo)["cohort"][0]


def test_coordinator_cannot_screen_at_another_site(coordinator_a, site_b):
    with pytest.raises(PermissionDenied):
        subject_screen(
            by=coordinator_a,
            site=site_b,
            screening_number="X",
            sex="F",
            year_of_birth=1960,
            screening_date=site_today(site_b.timezone),
        )
    assert not Subject.objects.exists()


def test_sponsor_cannot_write(sponsor, site_a):
    with pytest.raises(PermissionDenied):
        subject_screen(
            by=sponsor,
            site=site_a,
            screening_number="X",
            sex="F",
            year_of_birth=1960,
            screening_date=site_today(site_a.timezone),
        )


def test_correction_needs_a_reason_and_keeps_old_and_new_values(coordinator_a, site_a):
    subject = screened_subject(coordinator_a, site_a, "S-1")
    with pytest.raises(ValidationError) as excinfo:
        subject_update(
            by=coordinator_a,
            subject=subject,
            changes={"year_of_birth": 1961},
            reason="  ",
            expected_version=subject.version,
        )
    assert "reason" in errors_of(excinfo)
    updated = subject_update(
        by=coordinator_a,
        subject=subject,
        changes={"year_of_birth": 1961},
        reason="Typo in source",
        expected_version=subject.version,
    )
    assert updated.year_of_birth == 1961 and updated.version == subject.version + 1
    last = updated.history.order_by("-history_id").first()
    delta = last.diff_against(last.prev_record)
    assert [(c.field, c.old, c.new) for c in delta.changes if c.field == "year_of_birth"] == [
        ("year_of_birth", 1960, 1961)
    ]
    assert last.history_change_reason == "Typo in source"


def test_consent_cannot_move_after_a_dose(coordinator_a, site_a, cohort1):
    from tests.factories import dosed

    subject = enrolled_subject(coordinator_a, site_a, "S-1", cohort1, days_ago=20)
    dose = dosed(coordinator_a, subject, on=subject.enrollment_date)
    with pytest.raises(ValidationError) as excinfo:
        subject_update(
            by=coordinator_a,
            subject=subject,
            changes={
                "consent_date": dose.administered_on + timedelta(days=1),
                "enrollment_date": dose.administered_on + timedelta(days=1),
            },
            reason="wrong date",
            expected_version=subject.version,
        )
    assert "before this consent date" in " ".join(errors_of(excinfo)["consent_date"])
    subject.refresh_from_db()
    assert subject.consent_date < dose.administered_on


def test_occupied_places_annotation_counts_like_the_service(coordinator_a, site_a, cohort1, study):
    from subjects.selectors import occupied_places, occupied_places_annotation

    enrolled_subject(coordinator_a, site_a, "S-1", cohort1)
    cohorts = Cohort.objects.filter(study=study).annotate(occupied=occupied_places_annotation())
    assert [(c.number, c.occupied) for c in cohorts] == [(1, occupied_places(cohort1))] == [(1, 1)]


def test_the_rules_statuses_are_the_models(coordinator_a, site_a):
    from subjects.rules import Status

    assert {s.value for s in Status} == set(Subject.Status.values)
    # subjects.rules.cohort_takes reads a cohort's status by these values.
    assert {"open", "full"} <= set(Cohort.Status.values)


def test_a_screen_failure_has_no_death_recorded_service_page_and_casebook_alike(
    coordinator_a, site_a, client
):
    """The casebook never offered "Record death" for a screen failure, but the page and the
    service accepted one; they now follow the one rule (subjects/rules.py): a screen failure is
    not followed after screening."""
    from django.urls import reverse

    from subjects.services import subject_record_death, subject_screen_fail

    subject = screened_subject(coordinator_a, site_a, "S-8", eligible=False)
    subject = subject_screen_fail(
        by=coordinator_a, subject=subject, reason="Not eligible", expected_version=subject.version
    )
    with pytest.raises(ValidationError) as excinfo:
        subject_record_death(
            by=coordinator_a,
            subject=subject,
            death_date=site_today(site_a.timezone),
            expected_version=subject.version,
        )
    assert "is a screen failure" in errors_of(excinfo)["__all__"][0]
    subject.refresh_from_db()
    assert subject.death_date is None
    client.force_login(coordinator_a)
    book = client.get(reverse("subject_detail", args=[subject.pk])).content.decode()
    assert reverse("record_death", args=[subject.pk]) not in book
    assert reverse("ae_new", args=[subject.pk]) not in book
    page = client.get(reverse("record_death", args=[subject.pk]), follow=True).content.decode()
    assert "is a screen failure: they are not followed after screening" in page
    page = client.get(reverse("ae_new", args=[subject.pk]), follow=True).content.decode()
    assert "is a screen failure: no adverse events are collected" in page
