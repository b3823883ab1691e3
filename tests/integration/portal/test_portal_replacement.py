"""Replacement enrollment in the coordinator pages: a subject the escalation evaluation finds not
evaluable is offered as a place to take, with the reason and the recommendation; a full cohort
takes the replacement only; the home page and the casebooks say who replaced whom; places are
counted one way (a voided replacement gives the place back)."""

from datetime import timedelta

import pytest
from django.urls import reverse

from core.dates import site_today
from escalation.models import Recommendation, SubjectDltStatus
from subjects.models import Subject
from subjects.services import subject_enroll, subject_void
from tests.factories import dosed, enrolled_subject, screened_subject
from tests.integration.portal.portal_data import under_dosed_subject
from trial.models import Cohort

pytestmark = pytest.mark.django_db


@pytest.fixture
def not_evaluable(coordinator_a, site_a, cohort1, django_capture_on_commit_callbacks):
    # The escalation evaluation runs after the commit, as in production.
    with django_capture_on_commit_callbacks(execute=True):
        subject = under_dosed_subject(coordinator_a, site_a, "S-1", cohort1)
    status = SubjectDltStatus.objects.get(subject=subject)
    assert status.status == SubjectDltStatus.Status.NOT_EVALUABLE
    return subject


def enroll_data(subject, cohort=None, replaces=None, **extra):
    data = {
        "enrollment_date": site_today(subject.site.timezone).isoformat(),
        "version": subject.version,
    }
    if cohort is not None:
        data["cohort"] = cohort.pk
    if replaces is not None:
        data["replaces"] = replaces.pk
    return data | extra


def test_the_enrollment_page_offers_the_place_of_a_not_evaluable_subject_and_says_why(
    signed_in, coordinator_a, site_a, cohort1, not_evaluable
):
    recommendation = Recommendation.objects.get(
        track=cohort1.track, status__in=Recommendation.CURRENT
    )
    assert recommendation.action == "replace"
    candidate = screened_subject(coordinator_a, site_a, "S-2")
    page = signed_in.get(reverse("enroll", args=[candidate.pk])).content.decode()
    assert "No cohort has a new place now; a subject can be enrolled as a replacement." in page
    assert "Cohort 1: 0.01 mg/kg Q3W is full (1 place)." in page  # the service's wording
    assert 'data-replacement="101-001"' in page
    assert "under-dosed: below the minimum exposure in the DLT window" in page
    assert f"The escalation evaluation recommends: \u201c{recommendation.text}\u201d" in page
    assert "full: takes a replacement only" in page
    assert 'name="replaces"' in page
    # The one way in is proposed; the coordinator confirms it with the button.
    assert f'name="replaces" value="{not_evaluable.pk}"' in page
    assert "checked" in page.split(f'name="replaces" value="{not_evaluable.pk}"')[1][:80]

    response = signed_in.post(
        reverse("enroll", args=[candidate.pk]),
        enroll_data(candidate, replaces=not_evaluable),  # the cohort follows the replaced subject
    )
    assert response.status_code == 302
    candidate.refresh_from_db()
    assert candidate.status == Subject.Status.ENROLLED
    assert candidate.replaces == not_evaluable and candidate.cohort == cohort1
    assert candidate.subject_number == "101-002"
    not_evaluable.refresh_from_db()
    assert not_evaluable.is_replaced
    followed = signed_in.get(response.url).content.decode()
    assert "Enrolled: subject number 101-002" in followed
    assert "replacing 101-001 (not evaluable)" in followed
    history = candidate.history.latest("history_id")
    assert history.history_change_reason == f"Enrolled in {cohort1}, replacing 101-001"


def test_a_full_cohort_takes_no_new_place_and_the_input_is_kept(
    signed_in, coordinator_a, site_a, cohort1, not_evaluable
):
    candidate = screened_subject(coordinator_a, site_a, "S-2")
    day = site_today(site_a.timezone) - timedelta(days=1)
    response = signed_in.post(
        reverse("enroll", args=[candidate.pk]),
        enroll_data(candidate, cohort=cohort1, replaces=None, enrollment_date=day.isoformat()),
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "Nothing was saved" in page
    assert "Cohort 1: 0.01 mg/kg Q3W is full (1 place)." in page
    assert f'value="{day.isoformat()}"' in page
    candidate.refresh_from_db()
    assert candidate.status == Subject.Status.SCREENING


def test_a_replacement_in_another_cohort_than_the_one_chosen_is_refused(
    signed_in, coordinator_a, site_a, cohort1, not_evaluable, roomy_cohort
):
    candidate = screened_subject(coordinator_a, site_a, "S-2")
    page = signed_in.get(reverse("enroll", args=[candidate.pk])).content.decode()
    assert "No one: a new place in the cohort" in page  # an open cohort has new places too
    assert "1 of 1 place" not in page and "120 of 120 places free" in page
    page = signed_in.post(
        reverse("enroll", args=[candidate.pk]),
        enroll_data(candidate, cohort=roomy_cohort, replaces=not_evaluable),
    ).content.decode()
    assert "101-001 is in Cohort 1: 0.01 mg/kg Q3W, not Cohort 90" in page
    candidate.refresh_from_db()
    assert candidate.status == Subject.Status.SCREENING
    # "No one": a new place in the open cohort.
    response = signed_in.post(
        reverse("enroll", args=[candidate.pk]),
        enroll_data(candidate, cohort=roomy_cohort) | {"replaces": ""},
    )
    assert response.status_code == 302
    candidate.refresh_from_db()
    assert candidate.cohort == roomy_cohort and candidate.replaces is None


def test_a_subject_replaced_meanwhile_is_no_longer_offered(
    signed_in, coordinator_a, site_a, cohort1, not_evaluable
):
    first = screened_subject(coordinator_a, site_a, "S-2")
    second = screened_subject(coordinator_a, site_a, "S-3")
    # Another coordinator enrolls a replacement while this page is open.
    subject_enroll(
        by=coordinator_a,
        subject=first,
        cohort=cohort1,
        enrollment_date=site_today(site_a.timezone),
        replaces=not_evaluable,
    )
    page = signed_in.post(
        reverse("enroll", args=[second.pk]), enroll_data(second, replaces=not_evaluable)
    ).content.decode()
    assert "That subject can no longer be replaced" in page
    second.refresh_from_db()
    assert second.status == Subject.Status.SCREENING
    assert Subject.objects.filter(replaces=not_evaluable).count() == 1


def test_an_evaluable_or_pending_subject_is_not_offered(
    signed_in, coordinator_a, site_a, cohort1, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        subject = enrolled_subject(coordinator_a, site_a, "S-1", cohort1, days_ago=5)
        dosed(coordinator_a, subject, on=site_today(site_a.timezone) - timedelta(days=3))
    assert SubjectDltStatus.objects.get(subject=subject).status == "pending"
    candidate = screened_subject(coordinator_a, site_a, "S-2")
    page = signed_in.get(reverse("enroll", args=[candidate.pk])).content.decode()
    assert "No cohort is open for enrollment now" in page
    assert "data-replacement=" not in page and 'name="replaces"' not in page
    response = signed_in.post(
        reverse("enroll", args=[candidate.pk]), enroll_data(candidate, replaces=subject)
    )
    assert response.status_code == 200  # not a choice the page offers
    assert "That subject can no longer be replaced" in response.content.decode()
    candidate.refresh_from_db()
    assert candidate.status == Subject.Status.SCREENING


def test_home_and_casebooks_say_who_replaced_whom(
    signed_in, coordinator_a, site_a, cohort1, not_evaluable
):
    home = signed_in.get(reverse("home")).content.decode()
    assert "Not evaluable (under-dosed" in home
    assert "a screened, eligible subject can be enrolled as the replacement" in home
    replacement = subject_enroll(
        by=coordinator_a,
        subject=screened_subject(coordinator_a, site_a, "S-2"),
        cohort=cohort1,
        enrollment_date=site_today(site_a.timezone),
        replaces=not_evaluable,
    )
    home = signed_in.get(reverse("home")).content.decode()
    assert 'Replacement</span> for <span class="nowrap">101-001</span>' in home
    assert 'Replaced</span> by <span class="nowrap">101-002</span>' in home
    assert "can be enrolled as the replacement" not in home  # the task is done
    assert "1 of 1 place taken" in home

    replaced_book = signed_in.get(reverse("subject_detail", args=[not_evaluable.pk]))
    page = replaced_book.content.decode()
    assert "Replaced by" in page
    assert f'<a href="{reverse("subject_detail", args=[replacement.pk])}">101-002</a>' in page
    assert "Replaced by 101-002 (this subject is not evaluable)" in page  # on the timeline
    book = signed_in.get(reverse("subject_detail", args=[replacement.pk])).content.decode()
    assert "data-replaces" in book and "101-001" in book
    assert "Enrolled in Cohort 1: 0.01 mg/kg Q3W, replacing 101-001 (not evaluable)" in book


def test_another_sites_coordinator_replaces_and_sees_only_the_number(
    client, coordinator_a, coordinator_b, site_a, site_b, cohort1, not_evaluable
):
    client.force_login(coordinator_b)
    candidate = screened_subject(coordinator_b, site_b, "B-1")
    page = client.get(reverse("enroll", args=[candidate.pk])).content.decode()
    assert 'data-replacement="101-001"' in page  # the cohort is the study's, not the site's
    reason = not_evaluable.dlt_status.reason
    assert reason and reason not in page  # why it is not evaluable is site A's fact
    assert "a subject of another site" in page
    response = client.post(
        reverse("enroll", args=[candidate.pk]), enroll_data(candidate, replaces=not_evaluable)
    )
    assert response.status_code == 302
    candidate.refresh_from_db()
    assert candidate.subject_number == "102-001" and candidate.replaces == not_evaluable
    book = client.get(reverse("subject_detail", args=[candidate.pk])).content.decode()
    assert "101-001" in book
    assert reverse("subject_detail", args=[not_evaluable.pk]) not in book  # not theirs to open
    assert client.get(reverse("subject_detail", args=[not_evaluable.pk])).status_code == 404


def test_a_voided_replacement_gives_the_place_back_to_the_replaced_subject(
    signed_in, coordinator_a, site_a, cohort1, not_evaluable
):
    replacement = subject_enroll(
        by=coordinator_a,
        subject=screened_subject(coordinator_a, site_a, "S-2"),
        cohort=cohort1,
        enrollment_date=site_today(site_a.timezone),
        replaces=not_evaluable,
    )
    subject_void(
        by=coordinator_a,
        subject=replacement,
        reason="Enrolled in error",
        expected_version=replacement.version,
    )
    assert Cohort.objects.get(pk=cohort1.pk).status == Cohort.Status.FULL
    home = signed_in.get(reverse("home")).content.decode()
    # The replaced subject holds the place again: counted once, not zero times.
    line = home.split('data-cohort="1"')[1].split("</li>")[0]
    assert "1 of 1 place taken" in line
    assert "Replaced</span> by" not in home
    candidate = screened_subject(coordinator_a, site_a, "S-3")
    page = signed_in.get(reverse("enroll", args=[candidate.pk])).content.decode()
    assert 'data-replacement="101-001"' in page  # offered again
