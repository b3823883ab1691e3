"""Demographics (race, ethnicity) and the coded disposition reasons through the services
(docs/subjects.md §1-§2): each refusal names the field and the rule and saves nothing; every
change is audited; scoped like every subject write; and the migration that coded the reasons
recorded before them keeps the text."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from core.dates import site_today
from subjects.models import Subject
from subjects.services import (
    subject_end_study,
    subject_end_treatment,
    subject_record_death,
    subject_record_demographics,
    subject_update,
)
from tests.factories import dosed, enrolled_subject, screened_subject

pytestmark = pytest.mark.django_db


@pytest.fixture
def subject(coordinator_a, site_a, cohort1):
    subject = enrolled_subject(coordinator_a, site_a, "S-1", cohort1, days_ago=30)
    dosed(coordinator_a, subject, on=site_today(site_a.timezone) - timedelta(days=25))
    subject.refresh_from_db()
    return subject


def ago(subject, n):
    return site_today(subject.site.timezone) - timedelta(days=n)


def refused(call, **kwargs) -> dict:
    with pytest.raises(ValidationError) as excinfo:
        call(**kwargs)
    return excinfo.value.message_dict


# --- demographics ---------------------------------------------------------------------------


def record(by, subject, **kwargs):
    values = {"ethnicity": "NOT HISPANIC OR LATINO", "races": ["WHITE"], "race_other": ""}
    return subject_record_demographics(
        by=by, subject=subject, expected_version=subject.version, **(values | kwargs)
    )


def test_demographics_are_recorded_in_the_lists_order_and_audited(coordinator_a, subject):
    subject = record(coordinator_a, subject, races=["WHITE", "OTHER", "ASIAN"], race_other="Sami")
    stored = Subject.objects.get(pk=subject.pk)
    assert stored.ethnicity == "NOT HISPANIC OR LATINO"
    assert stored.races == ["ASIAN", "WHITE", "OTHER"]
    assert stored.race_other == "Sami"
    assert stored.race_labels == ["Asian", "White", "Other"]
    last = stored.history.order_by("-history_id").first()
    assert last.history_change_reason == "Demographics recorded"
    assert last.history_user == coordinator_a and last.races == ["ASIAN", "WHITE", "OTHER"]


REFUSALS = [
    # (values, field, words of the message)
    ({"ethnicity": ""}, "ethnicity", "Give the ethnicity"),
    ({"ethnicity": "LATINO"}, "ethnicity", "not an ethnicity of the CDISC list (ETHNIC)"),
    ({"races": []}, "races", "Choose at least one race"),
    ({"races": ["CAUCASIAN"]}, "races", "Not a race of the CDISC list (RACE): CAUCASIAN"),
    ({"races": ["WHITE", "UNKNOWN"]}, "races", "Unknown stands alone"),
    ({"races": ["OTHER"]}, "race_other", "write the race"),
    ({"race_other": "Sami"}, "race_other", "goes with Other"),
]


@pytest.mark.parametrize(("values", "field", "words"), REFUSALS)
def test_demographics_refusals_name_the_field_and_save_nothing(
    coordinator_a, subject, values, field, words
):
    versions = subject.history.count()
    errors = refused(record, by=coordinator_a, subject=subject, **values)
    assert any(words in message for message in errors[field]), errors
    stored = Subject.objects.get(pk=subject.pk)
    assert (stored.ethnicity, stored.races, stored.version) == ("", [], subject.version)
    assert stored.history.count() == versions


def test_every_problem_is_told_at_once(coordinator_a, subject):
    errors = refused(
        record, by=coordinator_a, subject=subject, ethnicity="", races=[], race_other="x"
    )
    assert set(errors) == {"ethnicity", "races", "race_other"}


def test_demographics_need_consent(coordinator_a, site_a):
    screened = screened_subject(coordinator_a, site_a, "S-2", consent=False)
    errors = refused(record, by=coordinator_a, subject=screened)
    assert "Record informed consent first" in errors["__all__"][0]


def test_a_correction_needs_a_reason_and_a_role_that_corrects(
    coordinator_a, data_manager, monitor, subject
):
    subject = record(coordinator_a, subject)
    errors = refused(record, by=coordinator_a, subject=subject, races=["WHITE", "ASIAN"])
    assert "A reason for the change is required" in errors["reason"][0]
    # The monitor reads but does not correct clinical data.
    with pytest.raises(PermissionDenied):
        record(monitor, subject, races=["ASIAN"], reason="Source says Asian")
    corrected = record(data_manager, subject, races=["ASIAN"], reason="Source says Asian")
    assert corrected.races == ["ASIAN"]
    last = corrected.history.order_by("-history_id").first()
    assert last.history_change_reason == "Source says Asian"
    assert [h.races for h in corrected.history.order_by("history_id")][-2:] == [
        ["WHITE"],
        ["ASIAN"],
    ]


def test_another_sites_coordinator_and_the_sponsor_cannot_record(coordinator_b, sponsor, subject):
    for user in (coordinator_b, sponsor):
        with pytest.raises(PermissionDenied):
            record(user, subject)
    assert Subject.objects.get(pk=subject.pk).ethnicity == ""


def test_a_stale_version_is_refused(coordinator_a, subject):
    from core.errors import StaleRecord

    with pytest.raises(StaleRecord):
        subject_record_demographics(
            by=coordinator_a,
            subject=subject,
            ethnicity="UNKNOWN",
            races=["UNKNOWN"],
            expected_version=subject.version - 1,
        )


# --- disposition ----------------------------------------------------------------------------


def test_end_of_treatment_keeps_the_coded_reason_and_the_sites_words(coordinator_a, subject):
    subject = subject_end_treatment(
        by=coordinator_a,
        subject=subject,
        end_date=ago(subject, 5),
        reason_code="ADVERSE EVENT",
        reason="  Grade 3 pneumonitis ",
        expected_version=subject.version,
    )
    assert (subject.end_of_treatment_reason_code, subject.end_of_treatment_reason) == (
        "ADVERSE EVENT",
        "Grade 3 pneumonitis",
    )
    assert subject.end_of_treatment_reason_text == "Adverse event: Grade 3 pneumonitis"
    last = subject.history.order_by("-history_id").first()
    assert last.history_change_reason == "End of treatment: Adverse event (Grade 3 pneumonitis)"


END_REFUSALS = [
    # (service, values, field, words)
    (subject_end_treatment, {"reason_code": ""}, "end_of_treatment_reason_code", "Choose"),
    (
        subject_end_treatment,
        {"reason_code": "SCREEN FAILURE"},
        "end_of_treatment_reason_code",
        "SCREEN FAILURE is not a reason for the end of treatment",
    ),
    (subject_end_treatment, {"reason_code": "OTHER"}, "end_of_treatment_reason", "say what"),
    (
        subject_end_treatment,
        {"reason_code": "DEATH"},
        "end_of_treatment_reason_code",
        "no date of death is recorded: record the death",
    ),
    (
        subject_end_study,
        {"reason_code": "PREGNANCY"},
        "end_of_study_reason_code",
        "PREGNANCY is not a reason for the end of study",
    ),
    (
        subject_end_study,
        {"reason_code": "DEATH"},
        "end_of_study_reason_code",
        "no date of death is recorded",
    ),
    (subject_end_study, {"reason_code": "OTHER", "reason": " "}, "end_of_study_reason", "say"),
]


@pytest.mark.parametrize(("service", "values", "field", "words"), END_REFUSALS)
def test_end_refusals_name_the_field_and_save_nothing(
    coordinator_a, subject, service, values, field, words
):
    errors = refused(
        service,
        by=coordinator_a,
        subject=subject,
        end_date=ago(subject, 2),
        expected_version=subject.version,
        **values,
    )
    assert any(words in message for message in errors[field]), errors
    stored = Subject.objects.get(pk=subject.pk)
    assert stored.status == Subject.Status.ENROLLED and stored.version == subject.version


def test_end_of_study_ends_treatment_for_the_same_reason(coordinator_a, subject):
    subject = subject_end_study(
        by=coordinator_a,
        subject=subject,
        end_date=ago(subject, 1),
        reason_code="OTHER",
        reason="Moved abroad",
        expected_version=subject.version,
    )
    assert subject.end_of_treatment_date == subject.end_of_study_date
    assert subject.end_of_treatment_reason_code == subject.end_of_study_reason_code == "OTHER"
    assert subject.end_of_treatment_reason == "Moved abroad"


def test_death_codes_the_ends_it_makes_and_keeps_an_earlier_one(coordinator_a, subject):
    subject = subject_end_treatment(
        by=coordinator_a,
        subject=subject,
        end_date=ago(subject, 10),
        reason_code="PROGRESSIVE DISEASE",
        expected_version=subject.version,
    )
    subject = subject_record_death(
        by=coordinator_a, subject=subject, death_date=ago(subject, 3), expected_version=None
    )
    assert subject.end_of_treatment_reason_code == "PROGRESSIVE DISEASE"
    assert (subject.end_of_study_date, subject.end_of_study_reason_code) == (
        ago(subject, 3),
        "DEATH",
    )


def test_a_death_before_a_recorded_end_is_refused(coordinator_a, subject):
    subject = subject_end_treatment(
        by=coordinator_a,
        subject=subject,
        end_date=ago(subject, 3),
        reason_code="ADVERSE EVENT",
        expected_version=subject.version,
    )
    errors = refused(
        subject_record_death,
        by=coordinator_a,
        subject=subject,
        death_date=ago(subject, 4),
        expected_version=subject.version,
    )
    assert "cannot follow the date of death" in errors["end_of_treatment_date"][0]


def test_corrections_keep_death_and_its_reason_together(coordinator_a, investigator_a, subject):
    subject = subject_record_death(
        by=coordinator_a, subject=subject, death_date=ago(subject, 3), expected_version=None
    )
    # Moving the date of death alone would leave the ends coded DEATH on another day.
    errors = refused(
        subject_update,
        by=investigator_a,
        subject=subject,
        changes={"death_date": ago(subject, 4)},
        reason="Date on the death certificate",
        expected_version=subject.version,
    )
    assert "is the date of death" in errors["end_of_treatment_date"][0]
    assert "is the date of death" in errors["end_of_study_date"][0]
    day = ago(subject, 4)
    subject = subject_update(
        by=investigator_a,
        subject=subject,
        changes={"death_date": day, "end_of_treatment_date": day, "end_of_study_date": day},
        reason="Date on the death certificate",
        expected_version=subject.version,
    )
    assert subject.death_date == subject.end_of_study_date == day
    # A coded reason is not removed by a correction (its step recorded it with its date).
    errors = refused(
        subject_update,
        by=investigator_a,
        subject=subject,
        changes={"end_of_study_reason_code": ""},
        reason="Clear",
        expected_version=subject.version,
    )
    assert "corrected to another value, not removed" in errors["end_of_study_reason_code"][0]


def test_the_database_refuses_a_reason_without_its_date(coordinator_a, subject):
    """The constraint behind the services: a coded reason only with its date, and one of its
    event's reasons (a path that skips the services still cannot store it)."""
    subject.end_of_treatment_reason_code = "PROGRESSIVE DISEASE"
    with pytest.raises(ValidationError) as excinfo:
        subject.full_clean()
    assert "given with the end of treatment date" in str(excinfo.value)
