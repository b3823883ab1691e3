"""How the database feeds the rules: intermediate doses stay on their track, the study's
'left the window' setting, replacements (and voided ones), severe events without a DLT call."""

from datetime import timedelta

import pytest

from core.dates import site_today
from escalation.committee import committee_override
from escalation.models import Recommendation, SubjectDltStatus
from escalation.services import evaluate_track
from subjects.services import (
    subject_end_treatment,
    subject_enroll,
    subject_record_death,
    subject_void,
)
from tests.conftest import PASSWORD
from tests.factories import dosed, enrolled_subject, reported_ae, screened_subject
from trial.models import Cohort, EscalationTrack, Study

pytestmark = pytest.mark.django_db(transaction=True)


def current(track):
    return Recommendation.objects.get(track=track, status__in=Recommendation.CURRENT)


def test_an_intermediate_dose_is_a_level_of_its_own_track_only(monitor, study, l1_subject, cohort1):
    committee_override(
        by=monitor,
        password=PASSWORD,
        recommendation=current(cohort1.track),
        step="open_cohort",
        new_dose_amount="0.02",
        n_subjects=1,
        rationale="smaller step",
    )
    q3w_labels = [level.label for level in cohort1.track.dose_levels()]
    q2w_labels = [
        level.label for level in EscalationTrack.objects.get(code="Q2W-ESC").dose_levels()
    ]
    assert "0.02 mg/kg" in q3w_labels
    assert "0.02 mg/kg" not in q2w_labels
    assert q2w_labels == [
        "0.01 mg/kg",
        "0.03 mg/kg",
        "0.1 mg/kg",
        "0.2 mg/kg",
        "0.3 mg/kg",
        "0.45 mg/kg",
    ]


def test_ending_treatment_inside_the_window_follows_the_study_setting(
    coordinator_a, site_a, cohort1
):
    subject = enrolled_subject(coordinator_a, site_a, "S-1", cohort1, days_ago=32)
    first = site_today(site_a.timezone) - timedelta(days=30)
    dosed(coordinator_a, subject, on=first)
    subject.refresh_from_db()
    subject_end_treatment(
        by=coordinator_a,
        subject=subject,
        end_date=first + timedelta(days=9),
        reason_code="PROGRESSIVE DISEASE",
        reason="Progressive disease; in safety follow-up",
        expected_version=subject.version,
    )
    status = SubjectDltStatus.objects.get(subject=subject)
    assert status.status == "not_evaluable" and "left the DLT window early" in status.reason
    assert current(cohort1.track).action == "replace"

    Study.objects.filter(pk=cohort1.study_id).update(left_window_on=Study.LeftWindowOn.END_OF_STUDY)
    evaluate_track(cohort1.track_id)
    assert SubjectDltStatus.objects.get(subject=subject).status == "evaluable_no_dlt"
    assert current(cohort1.track).action == "escalate"


@pytest.fixture
def under_dosed(coordinator_a, site_a, cohort1, ctcae):
    subject = enrolled_subject(coordinator_a, site_a, "S-1", cohort1, days_ago=32)
    dosed(
        coordinator_a,
        subject,
        on=site_today(site_a.timezone) - timedelta(days=30),
        amount="0.005",
        dose_change_reason="Infusion stopped at half: reaction",
        interrupted=True,
        interruption_details="Stopped after 45 minutes",
    )
    return subject


def test_a_non_evaluable_subject_is_replaced_and_a_voided_replacement_can_be_redone(
    coordinator_a, site_a, cohort1, under_dosed
):
    recommendation = current(cohort1.track)
    assert recommendation.action == "replace" and "101-001" in recommendation.text
    assert not recommendation.needs_decision
    cohort1.refresh_from_db()
    assert cohort1.status == Cohort.Status.FULL
    today = site_today(site_a.timezone)
    first = subject_enroll(
        by=coordinator_a,
        subject=screened_subject(coordinator_a, site_a, "S-2"),
        cohort=cohort1,
        enrollment_date=today,
        replaces=under_dosed,
    )
    under_dosed.refresh_from_db()
    assert under_dosed.is_replaced
    assert current(cohort1.track).action == "wait"  # the replacement awaits its first dose
    subject_void(
        by=coordinator_a, subject=first, reason="enrolled in error", expected_version=first.version
    )
    under_dosed.refresh_from_db()
    assert not under_dosed.is_replaced
    cohort1.refresh_from_db()
    assert cohort1.status == Cohort.Status.FULL  # the replaced subject holds the place again
    second = subject_enroll(
        by=coordinator_a,
        subject=screened_subject(coordinator_a, site_a, "S-3"),
        cohort=cohort1,
        enrollment_date=today,
        replaces=under_dosed,
    )
    assert second.replaces == under_dosed


def test_an_evaluable_subject_is_not_replaced(coordinator_a, site_a, l1_subject, cohort1):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as excinfo:
        subject_enroll(
            by=coordinator_a,
            subject=screened_subject(coordinator_a, site_a, "S-2"),
            cohort=cohort1,
            enrollment_date=site_today(site_a.timezone),
            replaces=l1_subject,
        )
    assert "not recorded as DLT-not-evaluable" in " ".join(excinfo.value.message_dict["replaces"])


def test_replacing_after_a_death_without_a_dlt_call_goes_to_the_committee(
    coordinator_a, site_a, under_dosed, cohort1
):
    first = under_dosed.dose_administrations.get().administered_on
    death = first + timedelta(days=6)
    under_dosed.refresh_from_db()
    under_dosed = subject_record_death(
        by=coordinator_a,
        subject=under_dosed,
        death_date=death,
        expected_version=under_dosed.version,
    )
    reported_ae(
        coordinator_a,
        under_dosed,
        "Sepsis",
        verbatim_term="sepsis",
        grade=5,
        onset_date=death - timedelta(days=1),
        relationship="unlikely",
        action_taken="withdrawn",
        outcome="fatal",
        serious=True,
        seriousness=("serious_death",),
    )
    recommendation = current(cohort1.track)
    assert recommendation.action == "replace"
    # A death in the window with no DLT call: the committee looks before anyone is replaced.
    assert recommendation.needs_decision
