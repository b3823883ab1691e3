"""The age criterion against the year of birth (the protocol's min_age_years, 18 for MIL97): with
only a year of birth the age at consent is one of two values, so consent is refused when the
subject is certainly under age and confirmed when the birthday decides; the checklist's age
answer cannot contradict the year of birth."""

from datetime import date

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse

from subjects.models import Subject
from subjects.services import (
    age_range,
    subject_record_consent,
    subject_record_eligibility,
    subject_screen,
    subject_update,
)
from tests.factories import eligible_answers

pytestmark = pytest.mark.django_db

AGE = "Age 18 years or older at the time of informed consent"
TODAY = date(2026, 11, 29)


@pytest.fixture(autouse=True)
def today():
    with time_machine.travel(date(2026, 11, 29), tick=False):
        yield


def screened(by, site, number, year_of_birth):
    return subject_screen(
        by=by,
        site=site,
        screening_number=number,
        sex="F",
        year_of_birth=year_of_birth,
        screening_date=date(2026, 11, 20),
    )


def consent(by, subject, **extra):
    return subject_record_consent(
        by=by,
        subject=subject,
        consent_date=date(2026, 11, 20),
        consent_version="v1.0",
        expected_version=subject.version,
        **extra,
    )


@pytest.mark.parametrize(
    ("year", "on", "ages"),
    [(2008, date(2026, 11, 20), (17, 18)), (1960, date(2026, 1, 1), (65, 66))],
)
def test_the_age_from_a_year_of_birth_is_a_range(year, on, ages):
    assert age_range(year, on) == ages


def test_the_age_criterion_is_a_protocol_setting(study):
    assert study.min_age_years == 18
    assert study.age_criterion() == AGE


def test_consent_of_a_child_is_refused(coordinator_a, site_a):
    """The review's case: born in 2020, about 6 at consent."""
    subject = screened(coordinator_a, site_a, "S-6", 2020)
    with pytest.raises(ValidationError) as excinfo:
        consent(coordinator_a, subject)
    message = excinfo.value.message_dict["year_of_birth"][0]
    assert "born in 2020, the subject is 5 or 6 on 2026-11-20" in message.lower()
    assert "requires 18 years or older at consent" in message
    subject.refresh_from_db()
    assert subject.consent_date is None
    # Born in 2009: 16 or 17, still certainly under 18.
    with pytest.raises(ValidationError):
        consent(coordinator_a, screened(coordinator_a, site_a, "S-17", 2009))


def test_a_subject_turning_18_in_the_consent_year_needs_a_confirmation(coordinator_a, site_a):
    subject = screened(coordinator_a, site_a, "S-18", 2008)
    with pytest.raises(ValidationError) as excinfo:
        consent(coordinator_a, subject)
    assert "17 or 18 on 2026-11-20" in excinfo.value.message_dict["age_confirmed"][0]
    subject = consent(coordinator_a, subject, age_confirmed=True)
    assert subject.consent_date == date(2026, 11, 20)
    reason = subject.history.order_by("-history_id").first().history_change_reason
    assert "age at consent confirmed 18 or older (born 2008)" in reason


def test_an_adult_needs_no_confirmation(coordinator_a, site_a):
    assert consent(coordinator_a, screened(coordinator_a, site_a, "S-A", 2007)).consent_date


def test_the_age_answer_cannot_contradict_the_year_of_birth(coordinator_a, site_a, study):
    adult = consent(coordinator_a, screened(coordinator_a, site_a, "S-1", 1960))
    answers = eligible_answers(study) | {AGE: False}
    with pytest.raises(ValidationError) as excinfo:
        subject_record_eligibility(
            by=coordinator_a,
            subject=adult,
            answers=answers,
            assessed_on=date(2026, 11, 21),
            expected_version=adult.version,
        )
    assert "Answered no, but born in 1960" in excinfo.value.message_dict[AGE][0]


def test_a_year_of_birth_corrected_into_a_child_is_refused(coordinator_a, site_a):
    subject = consent(coordinator_a, screened(coordinator_a, site_a, "S-1", 1960))
    with pytest.raises(ValidationError) as excinfo:
        subject_update(
            by=coordinator_a,
            subject=subject,
            changes={"year_of_birth": 2020},
            reason="Typo",
            expected_version=subject.version,
        )
    assert "requires 18 years or older" in excinfo.value.message_dict["year_of_birth"][0]


def test_the_age_yes_of_a_child_is_refused_on_its_criterion(
    signed_in, coordinator_a, site_a, study
):
    """A subject consented before the year of birth was corrected (the correction is refused
    now; a legacy record) cannot be recorded eligible with "Age >= 18: yes"."""
    subject = consent(coordinator_a, screened(coordinator_a, site_a, "S-1", 1960))
    subject.year_of_birth = 2020
    subject._change_reason = "Legacy record for the test"
    subject.version += 1
    subject.save()
    form = signed_in.get(reverse("screening", args=[subject.pk])).content.decode()
    assert "Year of birth 2020" in form
    data = {"assessed_on": "2026-11-21", "version": subject.version}
    for index, _ in enumerate(study.inclusion_criteria(), start=1):
        data[f"inc_{index}"] = "yes"
    for index, _ in enumerate(study.exclusion_criteria(), start=1):
        data[f"exc_{index}"] = "no"
    page = signed_in.post(reverse("eligibility", args=[subject.pk]), data).content.decode()
    assert "Answered yes, but born in 2020, the subject is 5 or 6" in page
    assert 'aria-describedby="id_inc_1_error"' in page  # on the age criterion itself
    subject.refresh_from_db()
    assert subject.eligibility_outcome == Subject.Eligibility.PENDING


def test_the_consent_page_asks_for_the_confirmation(signed_in, coordinator_a, site_a):
    subject = screened(coordinator_a, site_a, "S-18", 2008)
    data = {"consent_date": "2026-11-20", "consent_version": "v1.0", "version": subject.version}
    page = signed_in.post(reverse("consent", args=[subject.pk]), data).content.decode()
    assert "17 or 18 on 2026-11-20" in page and "data-confirm-age" in page
    data["age_confirmed"] = "on"
    response = signed_in.post(reverse("consent", args=[subject.pk]), data)
    assert response.status_code == 302
    subject.refresh_from_db()
    assert subject.consent_date == date(2026, 11, 20)
