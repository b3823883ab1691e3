"""The escalation rules the synopsis states, as study settings read from the protocol file and
applied by the evaluation (docs/escalation.md §2.2, §4.5, §5, §6; domain review D-3, D-4, D-8)."""

import tomllib
from datetime import timedelta

import pytest

from core.dates import site_today
from escalation.committee import committee_confirm, committee_override
from escalation.models import Recommendation, SubjectDltStatus
from safety.services import adverse_event_void
from subjects.services import subject_end_treatment
from tests.conftest import PASSWORD
from tests.factories import dosed, enrolled_subject
from tests.integration.escalation.helpers import report_dlt
from trial.models import DoseLevel, EscalationTrack, Study
from trial.services import load_study, protocol_path

pytestmark = pytest.mark.django_db(transaction=True)


def current(track) -> Recommendation:
    return Recommendation.objects.get(track=track, status__in=Recommendation.CURRENT)


def test_the_settings_come_from_the_protocol_file_with_their_defaults(study):
    design = tomllib.loads(protocol_path("mil97").read_text())["design"]
    assert design["end_of_treatment_on_last_window_day"] == "evaluable"
    assert design["top_dose_rule"] == "fill_to_6"
    assert design["expansion_counts_escalation_subjects"] is True
    assert study.end_of_treatment_on_last_window_day == "evaluable"
    assert study.top_dose_rule == "fill_to_6"
    assert study.expansion_counts_escalation_subjects is True
    q2w = EscalationTrack.objects.get(study=study, code="Q2W-ESC")
    assert q2w.reference_track.code == "Q3W-ESC"
    other = load_study(
        "mil97",
        protocol_number="MIL97-STRICT",
        design={
            "end_of_treatment_on_last_window_day": "not_evaluable",
            "top_dose_rule": "declare_at_3",
        },
    ).study
    assert (other.end_of_treatment_on_last_window_day, other.top_dose_rule) == (
        "not_evaluable",
        "declare_at_3",
    )
    assert Study.objects.get(pk=study.pk).top_dose_rule == "fill_to_6"  # untouched


@pytest.mark.parametrize(
    ("setting", "status"),
    [
        pytest.param("evaluable", "evaluable_no_dlt", id="default-evaluable"),
        pytest.param("not_evaluable", "not_evaluable", id="strict-not-evaluable"),
    ],
)
def test_end_of_treatment_on_the_windows_last_day(
    study, coordinator_a, site_a, cohort1, ctcae, setting, status
):
    # Domain review D-8: C1D1, then end of treatment on Day 21 (the inclusive window's last day).
    Study.objects.filter(pk=study.pk).update(end_of_treatment_on_last_window_day=setting)
    subject = enrolled_subject(coordinator_a, site_a, "S-1", cohort1, days_ago=32)
    dose = dosed(coordinator_a, subject, on=site_today(site_a.timezone) - timedelta(days=30))
    subject_end_treatment(
        by=coordinator_a,
        subject=subject,
        end_date=dose.administered_on + timedelta(days=20),
        reason_code="PROGRESSIVE DISEASE",
        reason="Completed the DLT period; disease progression",
        expected_version=None,
    )
    assert SubjectDltStatus.objects.get(subject=subject).status == status
    expected = "escalate" if setting == "evaluable" else "replace"
    assert current(cohort1.track).action == expected


def q2w_subject(coordinator, site, number, cohort):
    """A Q2W subject with both window infusions (C1D1, C1D15), its window complete."""
    subject = enrolled_subject(coordinator, site, number, cohort, days_ago=45)
    first = site_today(site.timezone) - timedelta(days=40)
    dosed(coordinator, subject, on=first)
    dosed(coordinator, subject, on=first + timedelta(days=14), day=15)
    return subject


def test_q2w_escalates_only_to_what_q3w_clears_at_each_recommendation(
    study, coordinator_a, monitor, site_a, l1_subject, cohort1, new_screened
):
    # Domain review D-4. Q3W clears 0.01 and 0.03 mg/kg; the committee opens Q2W at 0.01.
    q3w = cohort1.track
    decision = committee_confirm(by=monitor, recommendation=current(q3w), password=PASSWORD)
    l2 = enrolled_subject(coordinator_a, site_a, "S-2", decision.opened_cohort, days_ago=32)
    dosed(coordinator_a, l2, on=site_today(site_a.timezone) - timedelta(days=30))
    q2w = EscalationTrack.objects.get(study=study, code="Q2W-ESC")
    level1 = DoseLevel.objects.get(study=study, number=1)
    opened = committee_override(
        by=monitor,
        password=PASSWORD,
        track=q3w,
        step="open_track",
        target_track=q2w,
        dose_level=level1,
        n_subjects=3,
        rationale="Q2W at the first dose cleared on Q3W",
    ).opened_cohort
    q2w.refresh_from_db()
    assert q2w.highest_dose_level.number == 2
    for n in range(3):
        q2w_subject(coordinator_a, site_a, f"Q-{n}", opened)
    assert current(q2w).text.startswith("escalate to 0.03 mg/kg Q2W: open a cohort of 3")

    # Late data on Q3W: a DLT in the 0.03 mg/kg titration subject. 0.03 mg/kg now needs 3 in
    # all on Q3W: it is no longer cleared there, and the Q2W recommendation follows at once.
    event = report_dlt(coordinator_a, l2)
    now = current(q2w)
    assert now.action == "wait" and now.rule.startswith("Q2W: next dose level not cleared")
    assert (
        "escalation to 0.03 mg/kg Q2W is not recommended: Dose escalation, Q3W does not clear "
        "0.03 mg/kg now (cleared on Q3W: 0.01 mg/kg)" in now.text
    )
    assert now.inputs["reference"]["cleared"] == [level1.pk]

    # The DLT was entered on the wrong subject: voided, 0.03 mg/kg is cleared again.
    adverse_event_void(
        by=coordinator_a, adverse_event=event, reason="wrong subject", expected_version=1
    )
    assert current(q2w).text.startswith("escalate to 0.03 mg/kg Q2W: open a cohort of 3")


@pytest.mark.parametrize(
    ("counts", "places", "text"),
    [
        pytest.param(True, 9, "(1 of 10 in place, 1 of them treated on escalation)", id="counts"),
        pytest.param(False, 10, "(0 of 10 in place)", id="not-counting"),
    ],
)
def test_an_expansion_counts_the_escalation_subjects_at_its_dose(
    study, monitor, l1_subject, cohort1, counts, places, text
):
    # Domain review D-3: "expand to total of 10 subjects in each cohort".
    Study.objects.filter(pk=study.pk).update(expansion_counts_escalation_subjects=counts)
    decision = committee_override(
        by=monitor,
        password=PASSWORD,
        track=cohort1.track,
        step="open_track",
        new_expansion_regimen=study.regimens.get(code="Q3W"),
        dose_level=DoseLevel.objects.get(study=study, number=1),
        n_subjects=places,
        rationale="expand the dose",
    )
    now = current(decision.target_track)
    assert (now.action, now.n_subjects) == ("enroll", places)
    assert f"enroll {places} more in the 0.01 mg/kg Q3W expansion cohort {text}" in now.text
    assert f"carried out: {places} places open at 0.01 mg/kg Q3W" in now.text
    # The escalation subject's own DLT status stays on its escalation track.
    assert SubjectDltStatus.objects.get(subject=l1_subject).track_id == cohort1.track_id
