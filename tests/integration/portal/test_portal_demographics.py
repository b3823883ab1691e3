"""The demographics form in the coordinator pages (docs/subjects.md §1): reached from the casebook
once consent is recorded, ethnicity and races recorded through the service, refusals on their
fields with the input kept, a correction with a reason by a role that corrects, a fixed number
of queries."""

import pytest
from django.urls import reverse

from subjects.models import Subject
from subjects.services import subject_record_demographics
from tests.factories import enrolled_subject, screened_subject

pytestmark = pytest.mark.django_db


@pytest.fixture
def subject(coordinator_a, site_a, cohort1):
    return enrolled_subject(coordinator_a, site_a, "S-1", cohort1, days_ago=30)


def test_the_casebook_offers_the_form_once_consent_is_recorded(signed_in, coordinator_a, site_a):
    waiting = screened_subject(coordinator_a, site_a, "S-2", consent=False)
    book = signed_in.get(reverse("subject_detail", args=[waiting.pk])).content.decode()
    assert reverse("demographics", args=[waiting.pk]) not in book
    response = signed_in.get(reverse("demographics", args=[waiting.pk]), follow=True)
    assert "informed consent first" in response.content.decode()
    consented = screened_subject(coordinator_a, site_a, "S-3")
    book = signed_in.get(reverse("subject_detail", args=[consented.pk])).content.decode()
    assert "Record demographics" in book
    assert "<dd data-demographics>not recorded</dd>" in book


def test_demographics_are_recorded_and_shown_in_the_casebook(signed_in, subject):
    url = reverse("demographics", args=[subject.pk])
    form = signed_in.get(url).content.decode()
    assert 'value="HISPANIC OR LATINO"' in form and 'value="NATIVE HAWAIIAN' in form
    assert 'name="reason"' not in form  # a first entry needs no reason
    response = signed_in.post(
        url,
        {
            "ethnicity": "NOT HISPANIC OR LATINO",
            "races": ["WHITE", "OTHER"],
            "race_other": "Sami",
            "version": subject.version,
        },
        follow=True,
    )
    page = response.content.decode()
    assert "Demographics recorded for 101-001." in page
    assert "<dd data-demographics>Not Hispanic or Latino; White, Other (Sami)</dd>" in page
    assert "Correct demographics" in page
    stored = Subject.objects.get(pk=subject.pk)
    assert (stored.races, stored.race_other) == (["WHITE", "OTHER"], "Sami")


def test_refusals_are_shown_on_their_fields_keeping_the_input(signed_in, subject):
    page = signed_in.post(
        reverse("demographics", args=[subject.pk]),
        {
            "ethnicity": "UNKNOWN",
            "races": ["UNKNOWN", "ASIAN"],
            "race_other": "Sami",
            "version": subject.version,
        },
    ).content.decode()
    assert 'id="id_races_error"' in page and "Unknown stands alone" in page
    assert 'id="id_race_other_error"' in page and "goes with Other" in page
    assert 'value="Sami"' in page  # kept
    assert Subject.objects.get(pk=subject.pk).ethnicity == ""
    empty = signed_in.post(
        reverse("demographics", args=[subject.pk]), {"version": subject.version}
    ).content.decode()
    assert "Give the ethnicity" in empty and "Choose at least one race" in empty


def test_a_correction_needs_a_reason(signed_in, coordinator_a, subject):
    subject = subject_record_demographics(
        by=coordinator_a,
        subject=subject,
        ethnicity="UNKNOWN",
        races=["UNKNOWN"],
        expected_version=subject.version,
    )
    url = reverse("demographics", args=[subject.pk])
    assert 'name="reason"' in signed_in.get(url).content.decode()
    data = {"ethnicity": "NOT REPORTED", "races": ["ASIAN"], "version": subject.version}
    page = signed_in.post(url, data).content.decode()
    assert "Give the reason for this change." in page
    assert signed_in.post(url, data | {"reason": "Asked again"}).status_code == 302
    stored = Subject.objects.get(pk=subject.pk)
    assert stored.races == ["ASIAN"]
    assert stored.history.order_by("-history_id").first().history_change_reason == "Asked again"


def test_roles_and_sites(client, sponsor, coordinator_b, monitor, coordinator_a, subject):
    url = reverse("demographics", args=[subject.pk])
    client.force_login(sponsor)
    assert client.get(url).status_code == 403
    client.force_login(coordinator_b)
    assert client.get(url).status_code == 404
    subject_record_demographics(
        by=coordinator_a,
        subject=subject,
        ethnicity="UNKNOWN",
        races=["UNKNOWN"],
        expected_version=subject.version,
    )
    client.force_login(monitor)  # reads, does not correct
    assert client.get(url).status_code == 403


def test_the_form_runs_a_fixed_number_of_queries(
    signed_in, coordinator_a, site_a, subject, django_assert_num_queries
):
    url = reverse("demographics", args=[subject.pk])
    signed_in.get(url)  # warm caches (content types, the session) that are not the page's work
    # 4 to know who asks, 3 to slide the session, 1 for the subject with its site and cohort.
    with django_assert_num_queries(8):
        assert signed_in.get(url).status_code == 200
    for index in range(3):  # more subjects at the site change nothing
        screened_subject(coordinator_a, site_a, f"S-{index + 10}")
    with django_assert_num_queries(8):
        assert signed_in.get(url).status_code == 200
