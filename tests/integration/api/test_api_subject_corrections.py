"""A correction (PATCH) changes a value already recorded; it never records a clinical milestone
(consent, enrollment, end of treatment or study, death, screen failure), which goes through its
own step with its status change, nor removes one. Table constraints answer on the field with a
message a person can act on. Screening numbers are one number whatever their case, width or
invisible characters."""

from datetime import timedelta

import pytest

from core.dates import site_today
from subjects.models import Subject
from tests.factories import screened_subject

pytestmark = pytest.mark.django_db


def patch(client, subject, **changes):
    subject.refresh_from_db()
    return client.patch(
        f"/api/v1/subjects/{subject.pk}/",
        {**changes, "reason": "per source document"},
        format="json",
        HTTP_IF_MATCH=f'"{subject.pk}.{subject.version}"',
    )


def refused_on(response, field) -> str:
    assert response.status_code == 400, response.content
    fields = response.json()["error"]["fields"]
    assert field in fields, fields
    message = " ".join(fields[field])
    assert "Constraint" not in response.content.decode()
    return message


def days_ago(subject, n):
    return (site_today(subject.site.timezone) - timedelta(days=n)).isoformat()


@pytest.mark.parametrize("persona", ["data_manager", "coordinator_a"])
@pytest.mark.parametrize(
    "field",
    ["death_date", "end_of_treatment_date", "end_of_study_date"],
)
def test_a_milestone_of_an_enrolled_subject_is_not_recorded_by_correction(
    request, api, records, persona, field
):
    subject = records["subject_a"]
    versions = subject.history.count()
    message = refused_on(
        patch(api(request.getfixturevalue(persona)), subject, **{field: days_ago(subject, 1)}),
        field,
    )
    assert "Not recorded yet" in message
    stored = Subject.objects.get(pk=subject.pk)
    assert getattr(stored, field) is None and stored.status == Subject.Status.ENROLLED
    assert stored.history.count() == versions


@pytest.mark.parametrize("persona", ["data_manager", "coordinator_a"])
def test_consent_and_screen_failure_are_not_recorded_by_correction(
    request, api, coordinator_a, site_a, records, persona
):
    subject = screened_subject(coordinator_a, site_a, "NC-1", consent=False)
    client = api(request.getfixturevalue(persona))
    refused_on(
        patch(client, subject, consent_date=days_ago(subject, 1), consent_version="v2.0"),
        "consent_date",
    )
    refused_on(
        patch(client, subject, screen_failure_reason="not eligible"), "screen_failure_reason"
    )
    refused_on(patch(client, subject, enrollment_date=days_ago(subject, 1)), "enrollment_date")
    subject.refresh_from_db()
    assert subject.consent_date is None and subject.status == Subject.Status.SCREENING
    assert subject.version == 1


def test_a_recorded_value_is_corrected_by_the_data_manager(api, data_manager, records):
    subject = records["subject_a"]
    old = subject.consent_date
    response = patch(api(data_manager), subject, consent_date=(old - timedelta(days=1)).isoformat())
    assert response.status_code == 200, response.content
    assert response.json()["consent_date"] == (old - timedelta(days=1)).isoformat()


def test_a_recorded_milestone_is_not_removed_by_correction(api, data_manager, records):
    subject = records["subject_a"]
    message = refused_on(patch(api(data_manager), subject, consent_date=None), "consent_date")
    assert "not removed" in message


def test_a_constraint_answers_on_the_changed_field_in_words(api, data_manager, records):
    subject = records["subject_a"]
    later = (subject.enrollment_date + timedelta(days=1)).isoformat()
    message = refused_on(patch(api(data_manager), subject, consent_date=later), "consent_date")
    assert "informed consent" in message


# --- Screening numbers ---


@pytest.mark.parametrize(
    "variant",
    [
        "a-2",  # case
        "A-2\u200b",  # zero-width space
        "\u200dA-2",  # zero-width joiner
        "Ａ-２",  # full-width forms: NFKC makes them "A-2"
        " A-2 ",
    ],
)
def test_screening_number_variants_are_the_same_number(
    api, coordinator_a, site_a, records, variant
):
    response = api(coordinator_a).post(
        "/api/v1/subjects/",
        {
            "site": site_a.pk,
            "screening_number": variant,
            "sex": "F",
            "year_of_birth": 1960,
            "screening_date": days_ago(records["subject_a"], 1),
        },
        format="json",
    )
    assert response.status_code == 400, response.content
    assert "screening_number" in response.json()["error"]["fields"]
    assert Subject.all_objects.filter(site=site_a).count() == 2


@pytest.mark.parametrize("text", ["S-\u202e1", "S-\u2066 1", "S\u00ad-1", "S-\x071"])
def test_invisible_and_direction_characters_are_refused(api, coordinator_a, site_a, records, text):
    response = api(coordinator_a).post(
        "/api/v1/subjects/",
        {
            "site": site_a.pk,
            "screening_number": text,
            "sex": "F",
            "year_of_birth": 1960,
            "screening_date": days_ago(records["subject_a"], 1),
        },
        format="json",
    )
    assert response.status_code == 400
    message = " ".join(response.json()["error"]["fields"]["screening_number"])
    assert "Invisible or control characters" in message


def test_full_width_numbers_are_stored_in_their_plain_form(api, coordinator_a, site_a, records):
    response = api(coordinator_a).post(
        "/api/v1/subjects/",
        {
            "site": site_a.pk,
            "screening_number": "Ｓ-１０",
            "sex": "F",
            "year_of_birth": 1960,
            "screening_date": days_ago(records["subject_a"], 1),
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["screening_number"] == "S-10"
    found = api(coordinator_a).get("/api/v1/subjects/", {"screening_number": "s-10"}).json()
    assert [s["screening_number"] for s in found["results"]] == ["S-10"]


def test_the_database_refuses_a_second_number_differing_only_by_case(coordinator_a, site_a):
    """The backstop for two registrations at once (the service checks first)."""
    from django.db import IntegrityError, transaction

    subject = screened_subject(coordinator_a, site_a, "DB-1")
    twin = Subject(
        study_id=subject.study_id,
        site=site_a,
        screening_number="db-1",
        sex="F",
        year_of_birth=1960,
        screening_date=subject.screening_date,
        created_by=coordinator_a,
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        twin.save()
