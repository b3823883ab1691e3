"""The Safety Review Committee: recommendations take effect only when a monitor confirms or
overrides them, signing with their password."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from core.dates import site_today
from core.models import Signature
from escalation.committee import committee_confirm, committee_override
from escalation.models import CommitteeDecision, Recommendation
from subjects.models import Subject
from subjects.services import subject_enroll
from tests.conftest import PASSWORD
from tests.factories import dosed, enrolled_subject
from trial.models import Cohort, DoseLevel, EscalationTrack

pytestmark = pytest.mark.django_db(transaction=True)


def current(track):
    return Recommendation.objects.get(track=track, status__in=Recommendation.CURRENT)


def test_next_cohort_opens_only_when_the_committee_confirms(
    coordinator_a, monitor, l1_subject, cohort1, new_screened
):
    recommendation = current(cohort1.track)
    assert recommendation.action == "escalate" and recommendation.needs_decision
    waiting = new_screened()
    with pytest.raises(ValidationError) as excinfo:
        subject_enroll(
            by=coordinator_a,
            subject=waiting,
            cohort=cohort1,
            enrollment_date=site_today("America/New_York"),
        )
    assert "is full" in " ".join(excinfo.value.message_dict["cohort"])
    assert not Cohort.objects.filter(track=cohort1.track, status=Cohort.Status.OPEN).exists()

    with pytest.raises(ValidationError) as excinfo:
        committee_confirm(by=monitor, recommendation=recommendation, password="wrong")
    assert "password" in excinfo.value.message_dict
    assert not CommitteeDecision.objects.exists() and not Signature.objects.exists()
    assert Cohort.objects.filter(study=cohort1.study).count() == 1
    recommendation.refresh_from_db()
    assert recommendation.status == Recommendation.Status.PENDING

    decision = committee_confirm(by=monitor, recommendation=recommendation, password=PASSWORD)
    assert decision.outcome == "confirmed" and decision.step == "open_cohort"
    assert (
        decision.signature.meaning == "approved"
        and decision.signature.printed_name == "Monitor Tester"
    )
    cohort2 = decision.opened_cohort
    assert (cohort2.number, cohort2.dose_level.number, cohort2.planned_size, cohort2.status) == (
        2,
        2,
        1,
        "open",
    )
    assert cohort2.is_titration
    cohort1.refresh_from_db()
    assert cohort1.status == Cohort.Status.CLOSED
    recommendation.refresh_from_db()
    assert recommendation.status == Recommendation.Status.CONFIRMED

    enrolled = subject_enroll(
        by=coordinator_a,
        subject=waiting,
        cohort=cohort2,
        enrollment_date=site_today("America/New_York"),
    )
    assert enrolled.subject_number == "101-002" and enrolled.cohort == cohort2
    # The open cohort carries out the decision: the new recommendation asks nothing more.
    now = current(cohort1.track)
    assert now.action == "wait" and not now.needs_decision


def test_only_a_medical_monitor_signs(coordinator_a, sponsor, l1_subject, cohort1):
    recommendation = current(cohort1.track)
    for user in (coordinator_a, sponsor):
        with pytest.raises(PermissionDenied):
            committee_confirm(by=user, recommendation=recommendation, password=PASSWORD)
    assert not CommitteeDecision.objects.exists()


def test_override_with_an_intermediate_dose_needs_a_rationale(monitor, l1_subject, cohort1):
    recommendation = current(cohort1.track)
    with pytest.raises(ValidationError) as excinfo:
        committee_override(
            by=monitor,
            password=PASSWORD,
            recommendation=recommendation,
            step="open_cohort",
            new_dose_amount="0.02",
            n_subjects=1,
            rationale="",
        )
    assert "rationale" in excinfo.value.message_dict
    decision = committee_override(
        by=monitor,
        password=PASSWORD,
        recommendation=recommendation,
        step="open_cohort",
        new_dose_amount="0.02",
        n_subjects=3,
        rationale="PK exposure at 0.01 mg/kg higher than predicted; escalate by a smaller step",
    )
    level = decision.dose_level
    assert level.number is None and str(level.amount.normalize()) == "0.02"
    assert decision.opened_cohort.dose_level == level and decision.opened_cohort.planned_size == 3
    recommendation.refresh_from_db()
    assert recommendation.status == Recommendation.Status.OVERRIDDEN
    # The intermediate dose is a level of the track between 0.01 and 0.03.
    labels = [lv.label for lv in cohort1.track.dose_levels()]
    assert labels[:3] == ["0.01 mg/kg", "0.02 mg/kg", "0.03 mg/kg"]


def test_a_decided_recommendation_cannot_be_decided_again(monitor, l1_subject, cohort1):
    recommendation = current(cohort1.track)
    committee_confirm(by=monitor, recommendation=recommendation, password=PASSWORD)
    with pytest.raises(ValidationError) as excinfo:
        committee_confirm(by=monitor, recommendation=recommendation, password=PASSWORD)
    assert "confirmed" in " ".join(excinfo.value.message_dict["recommendation"])
    assert CommitteeDecision.objects.count() == 1


def test_q2w_track_opens_only_at_a_level_cleared_on_q3w(
    coordinator_a, monitor, site_a, study, l1_subject, cohort1
):
    q3w = cohort1.track
    q2w = EscalationTrack.objects.get(study=study, code="Q2W-ESC")
    level2 = DoseLevel.objects.get(study=study, number=2)
    level1 = DoseLevel.objects.get(study=study, number=1)
    with pytest.raises(ValidationError) as excinfo:
        committee_override(
            by=monitor,
            password=PASSWORD,
            track=q3w,
            step="open_track",
            target_track=q2w,
            dose_level=level2,
            n_subjects=3,
            rationale="explore Q2W",
        )
    assert "has not been cleared" in " ".join(excinfo.value.message_dict["dose_level"])
    decision = committee_override(
        by=monitor,
        password=PASSWORD,
        track=q3w,
        step="open_track",
        target_track=q2w,
        dose_level=level1,
        n_subjects=3,
        rationale="explore Q2W at the cleared dose",
    )
    q2w.refresh_from_db()
    assert q2w.status == "active" and q2w.highest_dose_level == level1
    cohort = decision.opened_cohort
    assert cohort.track == q2w and cohort.planned_size == 3 and not cohort.is_titration
    # The Q2W track keeps its own state: its recommendation counts only its own subjects.
    assert (
        current(q2w).text.startswith("enroll 3 at 0.01 mg/kg Q2W")
        or current(q2w).action == "enroll"
    )
    assert current(q3w).action == "escalate"


def test_expansion_cohort_pauses_at_the_safety_boundary(
    coordinator_a, monitor, site_a, study, l1_subject, cohort1
):
    from tests.integration.escalation.helpers import report_dlt

    level1 = DoseLevel.objects.get(study=study, number=1)
    # The subject treated at 0.01 mg/kg Q3W on escalation counts toward the 10 (the study's
    # expansion_counts_escalation_subjects): the cohort takes 9 more.
    with pytest.raises(ValidationError) as excinfo:
        committee_override(
            by=monitor,
            password=PASSWORD,
            track=cohort1.track,
            step="open_track",
            new_expansion_regimen=study.regimens.get(code="Q3W"),
            dose_level=level1,
            n_subjects=10,
            rationale="expand the dose for PK and safety",
        )
    assert excinfo.value.message_dict["n_subjects"] == [
        "This expansion cohort takes at most 9: 1 subject treated at 0.01 mg/kg Q3W on "
        "escalation counts toward its 10."
    ]
    decision = committee_override(
        by=monitor,
        password=PASSWORD,
        track=cohort1.track,
        step="open_track",
        new_expansion_regimen=study.regimens.get(code="Q3W"),
        dose_level=level1,
        n_subjects=9,
        rationale="expand the dose for PK and safety",
    )
    expansion = decision.target_track
    assert expansion.phase == "expansion" and expansion.status == "active"
    cohort = decision.opened_cohort
    assert cohort.planned_size == 9
    subjects = []
    for n in range(3):
        subject = enrolled_subject(coordinator_a, site_a, f"E-{n}", cohort, days_ago=40)
        dosed(coordinator_a, subject, on=site_today(site_a.timezone) - timedelta(days=35))
        subjects.append(subject)
    assert current(expansion).action == "enroll"
    for subject in subjects:
        report_dlt(coordinator_a, subject)
    recommendation = current(expansion)
    assert recommendation.action == "pause_expansion"
    assert recommendation.text.startswith("pause expansion")
    expansion.refresh_from_db()
    assert expansion.status == "paused"  # the rule acts at once, the committee then decides
    with pytest.raises(ValidationError) as excinfo:
        enrolled_subject(coordinator_a, site_a, "E-late", cohort, days_ago=5)
    assert "paused" in " ".join(excinfo.value.message_dict["cohort"])
    assert Subject.objects.filter(cohort=cohort).count() == 3
