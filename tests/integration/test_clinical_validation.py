"""Doses and adverse events: bad input is refused with a message naming the field; nothing is
saved in part (docs/safety.md §5; docs/dosing.md §2-§5)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from core.dates import site_today
from dosing.models import DoseAdministration
from safety.models import AdverseEvent, CtcaeTerm
from subjects.services import subject_record_death
from tests.factories import dosed, enrolled_subject, infusion, reported_ae

pytestmark = pytest.mark.django_db


@pytest.fixture
def subject(coordinator_a, site_a, cohort1):
    return enrolled_subject(coordinator_a, site_a, "S-1", cohort1, days_ago=20)


def messages(excinfo, field):
    return " ".join(excinfo.value.message_dict[field])


def test_total_dose_is_mg_per_kg_times_weight(coordinator_a, subject):
    dose = dosed(coordinator_a, subject, on=subject.enrollment_date, weight="72.4")
    assert dose.total_dose_mg == Decimal("0.724")  # 0.01 mg/kg x 72.4 kg
    assert dose.planned_dose_per_kg == Decimal("0.01")


@pytest.mark.parametrize(
    ("overrides", "field", "text"),
    [
        ({"weight": "0"}, "body_weight_kg", "above 0 kg"),
        ({"weight": "-3"}, "body_weight_kg", "above 0 kg"),
        ({"weight": "700"}, "body_weight_kg", "plausible range"),
        ({"amount": "0.008"}, "dose_change_reason", "give the reason"),
        ({"amount": "0.7"}, "actual_dose_per_kg", "total dose in mg"),
        ({"dose_unit": "mg"}, "dose_unit", "entered in mg/kg"),
        ({"cycle": 2}, "cycle", "must be Cycle 1 Day 1"),
        ({"day": 8}, "day", "days 1 of each cycle"),
    ],
)
def test_bad_dose_is_refused(coordinator_a, subject, overrides, field, text):
    with pytest.raises(ValidationError) as excinfo:
        dosed(coordinator_a, subject, on=subject.enrollment_date, **overrides)
    assert text in messages(excinfo, field)
    assert DoseAdministration.all_objects.count() == 0


def test_reduced_dose_with_reason_is_accepted(coordinator_a, subject):
    dose = dosed(
        coordinator_a,
        subject,
        on=subject.enrollment_date,
        amount="0.008",
        dose_change_reason="Infusion reaction, stopped early",
    )
    assert dose.actual_dose_per_kg == Decimal("0.008")


def test_dose_before_enrollment_or_consent_is_refused(coordinator_a, subject):
    with pytest.raises(ValidationError) as excinfo:
        dosed(coordinator_a, subject, on=subject.enrollment_date - timedelta(days=1))
    assert "before enrollment" in messages(excinfo, "infusion_start")
    with pytest.raises(ValidationError) as excinfo:
        dosed(coordinator_a, subject, on=subject.consent_date - timedelta(days=1))
    assert "before informed consent" in messages(excinfo, "infusion_start")


def test_dose_in_the_future_is_refused(coordinator_a, subject):
    with pytest.raises(ValidationError) as excinfo:
        dosed(coordinator_a, subject, on=site_today(subject.site.timezone) + timedelta(days=1))
    assert "in the future" in messages(excinfo, "infusion_start")


def test_second_dose_of_the_same_visit_is_refused(coordinator_a, subject):
    dosed(coordinator_a, subject, on=subject.enrollment_date)
    with pytest.raises(ValidationError) as excinfo:
        dosed(coordinator_a, subject, on=subject.enrollment_date)
    assert "already recorded" in messages(excinfo, "day")
    assert DoseAdministration.objects.count() == 1


def test_dose_outside_its_visit_window_needs_confirmation(coordinator_a, site_a, study):
    from trial.models import Cohort

    cohort = Cohort.objects.get(study=study, number=1)
    subject = enrolled_subject(coordinator_a, site_a, "S-9", cohort, days_ago=40)
    first = subject.enrollment_date
    dosed(coordinator_a, subject, on=first)
    late = first + timedelta(days=21 + 5)  # Q3W Cycle 2 Day 1 is Day 22; window +/- 3 days
    with pytest.raises(ValidationError) as excinfo:
        dosed(coordinator_a, subject, on=late, cycle=2)
    assert "outside its visit window" in messages(excinfo, "outside_visit_window_confirmed")
    dose = dosed(coordinator_a, subject, on=late, cycle=2, confirm_outside_window=True)
    assert dose.outside_visit_window_confirmed


def report(by, subject, term, **overrides):
    """A grade 2 "tired" event two days after enrollment, unless `overrides` say otherwise."""
    values = {
        "verbatim_term": "tired",
        "grade": 2,
        "onset_date": subject.enrollment_date + timedelta(days=2),
    }
    return reported_ae(by, subject, term, **(values | overrides))


def test_grade_not_defined_for_the_term_is_refused(coordinator_a, subject, ctcae):
    fatigue = CtcaeTerm.objects.get(term="Fatigue")  # CTCAE v5.0: grades 1-3 only
    with pytest.raises(ValidationError) as excinfo:
        report(
            coordinator_a,
            subject,
            fatigue,
            grade=5,
            outcome="fatal",
            serious=True,
            seriousness=("serious_death",),
        )
    assert "defines no grade 5 for 'Fatigue'" in messages(excinfo, "grade")
    with pytest.raises(ValidationError) as excinfo:
        report(coordinator_a, subject, fatigue, grade=4)
    assert "grades: 1, 2, 3" in messages(excinfo, "grade")
    assert AdverseEvent.all_objects.count() == 0


@pytest.mark.parametrize(
    ("overrides", "field", "text"),
    [
        ({"onset_date": "consent-1"}, "onset_date", "precede informed consent"),
        ({"onset_date": "today+1"}, "onset_date", "in the future"),
        (
            {"resolution_date": "onset-1", "outcome": "recovered"},
            "resolution_date",
            "cannot precede onset",
        ),
        ({"outcome": "recovered"}, "resolution_date", "needs the resolution date"),
        ({"serious": True}, "serious", "at least one seriousness criterion"),
        (
            {"relationship": "not_related", "dlt_investigator": True},
            "dlt_investigator",
            "at least possibly related",
        ),
    ],
)
def test_bad_adverse_event_is_refused(coordinator_a, subject, ctcae, overrides, field, text):
    term = CtcaeTerm.objects.get(term="Nausea")
    onset = subject.enrollment_date + timedelta(days=2)
    resolved = {
        "consent-1": subject.consent_date - timedelta(days=1),
        "today+1": site_today(subject.site.timezone) + timedelta(days=1),
        "onset-1": onset - timedelta(days=1),
    }
    values = {k: resolved.get(v, v) if isinstance(v, str) else v for k, v in overrides.items()}
    with pytest.raises(ValidationError) as excinfo:
        report(coordinator_a, subject, term, **values)
    assert text in messages(excinfo, field)
    assert AdverseEvent.all_objects.count() == 0


def test_onset_after_death_and_grade5_without_death_are_refused(coordinator_a, subject, ctcae):
    anemia = CtcaeTerm.objects.get(term="Anemia")
    with pytest.raises(ValidationError) as excinfo:
        report(
            coordinator_a,
            subject,
            anemia,
            grade=5,
            outcome="fatal",
            serious=True,
            seriousness=("serious_death",),
        )
    assert "record the death first" in messages(excinfo, "grade")
    death = subject.enrollment_date + timedelta(days=5)
    subject = subject_record_death(
        by=coordinator_a, subject=subject, death_date=death, expected_version=subject.version
    )
    with pytest.raises(ValidationError) as excinfo:
        report(coordinator_a, subject, anemia, onset_date=death + timedelta(days=1))
    assert "follow the date of death" in messages(excinfo, "onset_date")
    fatal = report(
        coordinator_a,
        subject,
        anemia,
        grade=5,
        onset_date=death,
        outcome="fatal",
        serious=True,
        seriousness=("serious_death",),
    )
    assert fatal.grade == 5


def test_dose_refused_after_death(coordinator_a, subject):
    dosed(coordinator_a, subject, on=subject.enrollment_date)
    subject = subject_record_death(
        by=coordinator_a,
        subject=subject,
        death_date=subject.enrollment_date + timedelta(days=3),
        expected_version=subject.version,
    )
    with pytest.raises(ValidationError) as excinfo:
        start, end = infusion(subject.site, subject.enrollment_date + timedelta(days=21))
        from dosing.services import dose_record

        dose_record(
            by=coordinator_a,
            subject=subject,
            cycle=2,
            day=1,
            actual_dose_per_kg="0.01",
            body_weight_kg="70",
            infusion_start=start,
            infusion_end=end,
            lot_number="L",
        )
    assert "not on treatment" in messages(excinfo, "subject")
