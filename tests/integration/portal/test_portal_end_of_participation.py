"""End of treatment, end of study and death in the coordinator pages: reachable from the casebook,
coded reasons required (docs/subjects.md §2), dates judged in the site's timezone, the service's refusals on their fields with
the input kept, a stale form refused showing what changed, and the casebook showing the result."""

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse

from core.dates import site_today
from subjects.models import Subject
from subjects.services import subject_end_treatment, subject_update
from tests.factories import dosed, enrolled_subject, screened_subject

pytestmark = pytest.mark.django_db


@pytest.fixture
def subject(coordinator_a, site_a, cohort1):
    subject = enrolled_subject(coordinator_a, site_a, "S-1", cohort1, days_ago=30)
    dosed(coordinator_a, subject, on=site_today(site_a.timezone) - timedelta(days=25))
    subject.refresh_from_db()
    return subject


def days_ago(site, n):
    return (site_today(site.timezone) - timedelta(days=n)).isoformat()


def test_the_casebook_offers_each_step_while_it_applies(signed_in, coordinator_a, subject):
    book = signed_in.get(reverse("subject_detail", args=[subject.pk])).content.decode()
    for name in ("end_treatment", "end_study", "record_death"):
        assert reverse(name, args=[subject.pk]) in book
    subject_end_treatment(
        by=coordinator_a,
        subject=subject,
        end_date=site_today(subject.site.timezone),
        reason_code="PROGRESSIVE DISEASE",
        expected_version=subject.version,
    )
    book = signed_in.get(reverse("subject_detail", args=[subject.pk])).content.decode()
    assert reverse("end_treatment", args=[subject.pk]) not in book
    assert reverse("end_study", args=[subject.pk]) in book
    # A page reached when its step no longer applies says so and goes back to the casebook.
    response = signed_in.get(reverse("end_treatment", args=[subject.pk]), follow=True)
    assert "is not on treatment" in response.content.decode()


def test_end_of_treatment_needs_a_coded_reason_and_keeps_the_input(signed_in, subject, site_a):
    url = reverse("end_treatment", args=[subject.pk])
    form = signed_in.get(url).content.decode()
    today = site_today(site_a.timezone)
    assert f'max="{today:%Y-%m-%d}"' in form  # the date picker stops at the site's today
    assert f'value="{today:%Y-%m-%d}"' in form
    assert "C1D1 on" in form  # the last dose, which the date may not precede
    assert '<option value="PROGRESSIVE DISEASE">Progressive disease</option>' in form
    day = days_ago(site_a, 2)
    response = signed_in.post(
        url,
        {
            "end_of_treatment_date": day,
            "end_of_treatment_reason_code": "",
            "end_of_treatment_reason": "Scan on day 40",
            "version": 2,
        },
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "Choose the reason treatment ended." in page
    assert f'value="{day}"' in page and "Scan on day 40" in page
    # OTHER says what the reason was.
    page = signed_in.post(
        url,
        {
            "end_of_treatment_date": day,
            "end_of_treatment_reason_code": "OTHER",
            "end_of_treatment_reason": "",
            "version": subject.version,
        },
    ).content.decode()
    assert "Other reason chosen: say what the reason was." in page
    assert 'id="id_end_of_treatment_reason_error"' in page
    subject.refresh_from_db()
    assert subject.status == Subject.Status.ENROLLED


def test_end_of_treatment_before_the_last_dose_is_refused_on_its_field(signed_in, subject):
    last = subject.dose_administrations.get().administered_on
    before = (last - timedelta(days=1)).isoformat()
    page = signed_in.post(
        reverse("end_treatment", args=[subject.pk]),
        {
            "end_of_treatment_date": before,
            "end_of_treatment_reason_code": "WITHDRAWAL BY SUBJECT",
            "end_of_treatment_reason": "Subject's decision",
            "version": subject.version,
        },
    ).content.decode()
    assert f"The last dose was given on {last}, after this date." in page
    assert 'id="id_end_of_treatment_date_error"' in page
    assert "Subject&#x27;s decision" in page  # kept
    subject.refresh_from_db()
    assert subject.end_of_treatment_date is None


def test_end_of_treatment_is_recorded_and_shown_in_the_casebook(signed_in, subject, site_a):
    day = days_ago(site_a, 3)
    response = signed_in.post(
        reverse("end_treatment", args=[subject.pk]),
        {
            "end_of_treatment_date": day,
            "end_of_treatment_reason_code": "PROGRESSIVE DISEASE",
            "end_of_treatment_reason": "RECIST 1.1 progression at the cycle 2 scan",
            "version": subject.version,
        },
        follow=True,
    )
    page = response.content.decode()
    assert f"End of treatment recorded for 101-001 on {day}" in page
    subject.refresh_from_db()
    assert subject.status == Subject.Status.OFF_TREATMENT
    assert subject.end_of_treatment_reason_code == "PROGRESSIVE DISEASE"
    assert subject.end_of_treatment_reason == "RECIST 1.1 progression at the cycle 2 scan"
    assert "Off treatment, in follow-up" in page
    shown = "Progressive disease: RECIST 1.1 progression at the cycle 2 scan"
    assert f"<dt>End of treatment</dt><dd>{day}: {shown}</dd>" in page
    assert f"End of treatment: {shown}" in page  # on the timeline
    # The history's reason: the coded reason and the site's words.
    assert (
        "Reason: End of treatment: Progressive disease (RECIST 1.1 progression at the cycle 2 "
        "scan)" in page
    )


def test_a_future_date_is_judged_in_the_sites_timezone(
    client, coordinator_a, site_a, cohort1, time_machine
):
    # 02:00 UTC on 10 March is still 9 March in New York (site A).
    time_machine.move_to(datetime(2026, 3, 10, 2, 0, tzinfo=UTC), tick=False)
    subject = enrolled_subject(coordinator_a, site_a, "S-1", cohort1, days_ago=10)
    client.force_login(coordinator_a)
    url = reverse("record_death", args=[subject.pk])
    assert 'max="2026-03-09"' in client.get(url).content.decode()
    page = client.post(url, {"death_date": "2026-03-10", "version": subject.version})
    assert (
        "2026-03-10 is in the future (today is 2026-03-09 at the site, America/New_York)."
        in page.content.decode()
    )
    subject.refresh_from_db()
    assert subject.death_date is None
    client.post(url, {"death_date": "2026-03-09", "version": subject.version})
    subject.refresh_from_db()
    assert str(subject.death_date) == "2026-03-09"


def test_end_of_study_ends_treatment_the_same_day_when_it_had_not_ended(signed_in, subject, site_a):
    url = reverse("end_study", args=[subject.pk])
    form = signed_in.get(url).content.decode()
    assert "Treatment has not ended yet, so it ends on the same date" in form
    page = signed_in.post(
        url, {"end_of_study_date": days_ago(site_a, 1), "end_of_study_reason": "", "version": 2}
    ).content.decode()
    assert "Choose the reason the subject left the study." in page
    response = signed_in.post(
        url,
        {
            "end_of_study_date": days_ago(site_a, 1),
            "end_of_study_reason_code": "WITHDRAWAL OF CONSENT",
            "end_of_study_reason": "",
            "version": subject.version,
        },
        follow=True,
    )
    subject.refresh_from_db()
    assert subject.status == Subject.Status.OFF_STUDY
    assert subject.end_of_treatment_date == subject.end_of_study_date
    assert subject.end_of_treatment_reason_code == "WITHDRAWAL OF CONSENT"
    book = response.content.decode()
    assert "End of study: Withdrawal of consent" in book
    assert reverse("end_study", args=[subject.pk]) not in book
    assert reverse("record_death", args=[subject.pk]) in book  # survival follow-up goes on


def test_end_of_study_before_end_of_treatment_is_refused(signed_in, coordinator_a, subject):
    eot = site_today(subject.site.timezone) - timedelta(days=5)
    subject = subject_end_treatment(
        by=coordinator_a,
        subject=subject,
        end_date=eot,
        reason_code="ADVERSE EVENT",
        expected_version=subject.version,
    )
    page = signed_in.post(
        reverse("end_study", args=[subject.pk]),
        {
            "end_of_study_date": (eot - timedelta(days=1)).isoformat(),
            "end_of_study_reason_code": "LOST TO FOLLOW-UP",
            "end_of_study_reason": "Lost to follow-up",
            "version": subject.version,
        },
    ).content.decode()
    assert "End of study cannot precede end of treatment." in page
    assert "Lost to follow-up" in page
    subject.refresh_from_db()
    assert subject.status == Subject.Status.OFF_TREATMENT


def test_death_ends_treatment_and_study_and_shows_in_the_casebook(signed_in, subject, site_a):
    url = reverse("record_death", args=[subject.pk])
    form = signed_in.get(url).content.decode()
    assert 'name="death_date"' in form and 'value="' not in form.split('name="death_date"')[1][:60]
    page = signed_in.post(url, {"death_date": "", "version": subject.version}).content.decode()
    assert "This field is required." in page or "The date of death is required." in page
    day = days_ago(site_a, 2)
    response = signed_in.post(url, {"death_date": day, "version": subject.version}, follow=True)
    book = response.content.decode()
    subject.refresh_from_db()
    assert subject.status == Subject.Status.OFF_STUDY
    assert str(subject.death_date) == day
    assert subject.end_of_treatment_reason_code == subject.end_of_study_reason_code == "DEATH"
    assert f"<dt>End of study</dt><dd>{day}: Death</dd>" in book
    assert f"Death recorded for 101-001 on {day}" in book
    assert f"<dt>Date of death</dt><dd>{day}</dd>" in book
    assert reverse("record_death", args=[subject.pk]) not in book
    response = signed_in.get(url, follow=True)
    assert "is already recorded for 101-001; correct it with a reason" in response.content.decode()


def test_death_in_screening_makes_a_screen_failure(signed_in, coordinator_a, site_a):
    subject = screened_subject(coordinator_a, site_a, "S-9")
    signed_in.post(
        reverse("record_death", args=[subject.pk]),
        {"death_date": days_ago(site_a, 1), "version": subject.version},
    )
    subject.refresh_from_db()
    assert subject.status == Subject.Status.SCREEN_FAILED
    assert subject.screen_failure_reason == "Death during screening"


def test_a_recorded_end_is_corrected_with_a_reason(signed_in, coordinator_a, subject, site_a):
    subject = subject_end_treatment(
        by=coordinator_a,
        subject=subject,
        end_date=site_today(site_a.timezone) - timedelta(days=2),
        reason_code="ADVERSE EVENT",
        reason="Progresive disease",
        expected_version=subject.version,
    )
    url = reverse("subject_edit", args=[subject.pk])
    form = signed_in.get(url).content.decode()
    assert 'name="end_of_treatment_reason"' in form
    assert 'name="end_of_treatment_reason_code"' in form
    assert 'name="end_of_study_date"' not in form  # recorded by its own step first
    assert 'name="death_date"' not in form
    data = {
        "sex": subject.sex,
        "year_of_birth": subject.year_of_birth,
        "screening_date": subject.screening_date.isoformat(),
        "consent_date": subject.consent_date.isoformat(),
        "consent_version": subject.consent_version,
        "enrollment_date": subject.enrollment_date.isoformat(),
        "end_of_treatment_date": subject.end_of_treatment_date.isoformat(),
        "end_of_treatment_reason_code": "PROGRESSIVE DISEASE",
        "end_of_treatment_reason": "",
        "reason": "Coded in error; the text said it",
        "version": subject.version,
    }
    # The correction is held to the same rules: DEATH needs the date of death.
    refused = signed_in.post(url, data | {"end_of_treatment_reason_code": "DEATH"})
    assert "no date of death is recorded" in refused.content.decode()
    assert signed_in.post(url, data).status_code == 302
    subject.refresh_from_db()
    assert subject.end_of_treatment_reason_code == "PROGRESSIVE DISEASE"
    assert subject.end_of_treatment_reason == ""
    assert subject.status == Subject.Status.OFF_TREATMENT


def test_a_stale_form_is_refused_showing_what_changed_and_keeping_the_input(
    signed_in, coordinator_a, investigator_a, subject, site_a
):
    url = reverse("end_treatment", args=[subject.pk])
    opened_version = subject.version
    # Meanwhile the investigator corrects the consent version.
    subject_update(
        by=investigator_a,
        subject=subject,
        changes={"consent_version": "v1.1"},
        reason="Version as on the signed form",
        expected_version=opened_version,
    )
    data = {
        "end_of_treatment_date": days_ago(site_a, 1),
        "end_of_treatment_reason_code": "PHYSICIAN DECISION",
        "end_of_treatment_reason": "Investigator's decision",
        "version": opened_version,
    }
    page = signed_in.post(url, data).content.decode()
    assert "Someone else saved this record after you opened it" in page
    assert "Version as on the signed form" in page and "v1.1" in page
    assert "Investigator&#x27;s decision" in page
    assert f'name="version" value="{opened_version + 1}"' in page
    subject.refresh_from_db()
    assert subject.status == Subject.Status.ENROLLED
    # Saving again, now knowingly, records it.
    data["version"] = opened_version + 1
    assert signed_in.post(url, data).status_code == 302
    subject.refresh_from_db()
    assert subject.status == Subject.Status.OFF_TREATMENT


def test_a_step_someone_else_took_meanwhile_is_refused_saying_what_they_recorded(
    signed_in, investigator_a, subject, site_a
):
    url = reverse("end_treatment", args=[subject.pk])
    opened_version = subject.version
    subject_end_treatment(
        by=investigator_a,
        subject=subject,
        end_date=site_today(site_a.timezone) - timedelta(days=1),
        reason_code="ADVERSE EVENT",
        expected_version=opened_version,
    )
    page = signed_in.post(
        url,
        {
            "end_of_treatment_date": days_ago(site_a, 1),
            "end_of_treatment_reason_code": "OTHER",
            "end_of_treatment_reason": "Clinical deterioration",
            "version": opened_version,
        },
    ).content.decode()
    assert "Only a subject on treatment can end treatment." in page
    assert "End of treatment: Adverse event" in page  # who recorded what, and why
    assert "Clinical deterioration" in page  # this user's entry is kept
    subject.refresh_from_db()
    assert subject.end_of_treatment_reason_code == "ADVERSE EVENT"


def test_only_data_entry_roles_at_the_site_reach_the_pages(client, sponsor, coordinator_b, subject):
    for name in ("end_treatment", "end_study", "record_death"):
        url = reverse(name, args=[subject.pk])
        client.force_login(sponsor)
        assert client.get(url).status_code == 403
        client.force_login(coordinator_b)
        assert client.get(url).status_code == 404
        assert client.post(url, {"version": subject.version}).status_code == 404
    subject.refresh_from_db()
    assert subject.status == Subject.Status.ENROLLED
