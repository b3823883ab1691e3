"""DLT windows and evaluability (docs/escalation.md §2), built from the dataclasses directly."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from escalation.rules import (
    Action,
    AdverseEvent,
    DesignSettings,
    Dose,
    DoseLevel,
    Flag,
    NotEvaluableReason,
    Subject,
    SubjectStatus,
    Track,
    WindowConvention,
    dlt_window,
    evaluate_subject,
    next_evaluation_date,
    recommend,
)

C1D1 = date(2026, 1, 5)
LEVELS = (DoseLevel(1, "0.01 mg/kg"), DoseLevel(2, "0.03 mg/kg"), DoseLevel(3, "0.1 mg/kg"))
INCLUSIVE = DesignSettings(window_convention="inclusive")
AFTER = DesignSettings(window_convention="after")
LONG_AFTER = date(2026, 6, 1)


def q3w(*subjects: Subject, levels=LEVELS) -> Track:
    return Track(
        name="Q3W escalation",
        regimen="Q3W",
        dlt_window_days=21,
        planned_infusion_days=(1,),
        dose_levels=levels,
        subjects=subjects,
        titration=False,
    )


def q2w(*subjects: Subject) -> Track:
    return Track(
        name="Q2W escalation",
        regimen="Q2W",
        dlt_window_days=28,
        planned_infusion_days=(1, 15),
        dose_levels=LEVELS[2:],
        subjects=subjects,
    )


def dlt(onset: date, **calls) -> AdverseEvent:
    calls = {"dlt_investigator": True, **calls}
    return AdverseEvent(onset=onset, grade=3, related=True, term="Neutropenia", **calls)


def status(settings: DesignSettings, track: Track, subject: Subject, today=LONG_AFTER):
    return evaluate_subject(settings, track, subject, today)


# --- window arithmetic: the last day inside and the first day outside, both conventions ---


@pytest.mark.parametrize(
    ("convention", "days", "last_inside"),
    [
        pytest.param("inclusive", 21, date(2026, 1, 25), id="q3w-inclusive-day21-is-start+20"),
        pytest.param("after", 21, date(2026, 1, 26), id="q3w-after-ends-start+21"),
        pytest.param("inclusive", 28, date(2026, 2, 1), id="q2w-inclusive-day28-is-start+27"),
        pytest.param("after", 28, date(2026, 2, 2), id="q2w-after-ends-start+28"),
    ],
)
def test_window_last_day(convention: str, days: int, last_inside: date) -> None:
    window = dlt_window(C1D1, days, WindowConvention(convention))

    assert (window.start, window.end) == (C1D1, last_inside)
    assert window.contains(last_inside)
    assert not window.contains(last_inside + timedelta(days=1))
    assert not window.is_complete(last_inside)
    assert window.is_complete(last_inside + timedelta(days=1))


def test_window_description_shows_the_convention() -> None:
    inclusive = dlt_window(C1D1, 21, WindowConvention.INCLUSIVE).describe()
    after = dlt_window(C1D1, 21, WindowConvention.AFTER).describe()
    assert inclusive == "Day 1 (2026-01-05) to Day 21 (2026-01-25), inclusive"
    assert after == "2026-01-05 to 2026-01-26 (21 days after the dose)"


@pytest.mark.parametrize(
    ("settings", "onset", "expected"),
    [
        pytest.param(INCLUSIVE, date(2026, 1, 25), SubjectStatus.DLT, id="inclusive-day21-counts"),
        pytest.param(
            INCLUSIVE, date(2026, 1, 26), SubjectStatus.EVALUABLE_NO_DLT, id="inclusive-day22-out"
        ),
        pytest.param(AFTER, date(2026, 1, 26), SubjectStatus.DLT, id="after-start+21-counts"),
        pytest.param(
            AFTER, date(2026, 1, 27), SubjectStatus.EVALUABLE_NO_DLT, id="after-start+22-out"
        ),
        pytest.param(
            INCLUSIVE, date(2026, 1, 4), SubjectStatus.EVALUABLE_NO_DLT, id="onset-before-dose-out"
        ),
    ],
)
def test_dlt_counts_only_with_onset_inside_the_window(settings, onset, expected) -> None:
    subject = Subject("101-001", 1, doses=(Dose(C1D1),), adverse_events=(dlt(onset),))
    assert status(settings, q3w(subject), subject).status is expected


@pytest.mark.parametrize(
    ("settings", "today", "expected"),
    [
        pytest.param(INCLUSIVE, date(2026, 1, 25), SubjectStatus.PENDING, id="inclusive-on-day21"),
        pytest.param(
            INCLUSIVE, date(2026, 1, 26), SubjectStatus.EVALUABLE_NO_DLT, id="inclusive-day-after"
        ),
        pytest.param(AFTER, date(2026, 1, 26), SubjectStatus.PENDING, id="after-on-start+21"),
        pytest.param(
            AFTER, date(2026, 1, 27), SubjectStatus.EVALUABLE_NO_DLT, id="after-day-after"
        ),
    ],
)
def test_window_complete_only_once_today_is_past_its_last_day(settings, today, expected) -> None:
    subject = Subject("101-001", 1, doses=(Dose(C1D1),))
    assert status(settings, q3w(subject), subject, today).status is expected


@pytest.mark.parametrize(
    ("settings", "today", "action"),
    [
        pytest.param(INCLUSIVE, date(2026, 1, 25), Action.WAIT, id="inclusive-last-day-wait"),
        pytest.param(INCLUSIVE, date(2026, 1, 26), Action.ESCALATE, id="inclusive-next-day-go"),
        pytest.param(AFTER, date(2026, 1, 26), Action.WAIT, id="after-last-day-wait"),
        pytest.param(AFTER, date(2026, 1, 27), Action.ESCALATE, id="after-next-day-go"),
    ],
)
def test_convention_moves_the_escalation_date(settings, today, action) -> None:
    # Three subjects dosed the same day: the cohort is decided the day after the last window day.
    subjects = [Subject(f"101-00{i}", 1, doses=(Dose(C1D1),)) for i in (1, 2, 3)]
    result = recommend(settings, q3w(*subjects), today)
    assert result.action is action
    if action is Action.WAIT:
        assert result.wait_until == today
        assert result.reevaluate_on == today + timedelta(days=1)


# --- evaluability ---


def test_not_dosed_has_no_window_yet() -> None:
    subject = Subject("101-001", 1)
    result = status(INCLUSIVE, q3w(subject), subject)
    assert (result.status, result.window) == (SubjectStatus.NOT_DOSED, None)
    assert result.awaiting_outcome


def test_left_before_first_dose_is_not_evaluable() -> None:
    subject = Subject("101-001", 1, left_on=date(2026, 1, 2))
    result = status(INCLUSIVE, q3w(subject), subject)
    assert result.status is SubjectStatus.NOT_EVALUABLE
    assert result.reason is NotEvaluableReason.LEFT_BEFORE_FIRST_DOSE
    assert result.replacement_candidate


@pytest.mark.parametrize(
    ("left_on", "expected"),
    [
        pytest.param(date(2026, 1, 12), SubjectStatus.NOT_EVALUABLE, id="left-day8"),
        pytest.param(date(2026, 1, 24), SubjectStatus.NOT_EVALUABLE, id="left-on-day20"),
        # Day 21 is the last day: evaluable by default (end_of_treatment_on_last_window_day).
        pytest.param(date(2026, 1, 25), SubjectStatus.EVALUABLE_NO_DLT, id="left-on-day21"),
        pytest.param(date(2026, 1, 26), SubjectStatus.EVALUABLE_NO_DLT, id="left-after-day21"),
    ],
)
def test_leaving_the_window_early_without_dlt(left_on: date, expected: SubjectStatus) -> None:
    subject = Subject("101-001", 1, doses=(Dose(C1D1),), left_on=left_on)
    result = status(INCLUSIVE, q3w(subject), subject)
    assert result.status is expected
    if expected is SubjectStatus.NOT_EVALUABLE:
        assert result.reason is NotEvaluableReason.LEFT_WINDOW_EARLY


def test_left_early_is_known_before_the_window_ends() -> None:
    subject = Subject("101-001", 1, doses=(Dose(C1D1),), left_on=date(2026, 1, 10))
    result = status(INCLUSIVE, q3w(subject), subject, today=date(2026, 1, 12))
    assert result.reason is NotEvaluableReason.LEFT_WINDOW_EARLY


def test_dlt_then_leaving_is_still_evaluable_with_dlt() -> None:
    subject = Subject(
        "101-001",
        1,
        doses=(Dose(C1D1),),
        adverse_events=(dlt(date(2026, 1, 9)),),
        left_on=date(2026, 1, 10),
    )
    assert status(INCLUSIVE, q3w(subject), subject).status is SubjectStatus.DLT


def test_under_dosed_is_not_evaluable_and_known_at_once() -> None:
    subject = Subject("101-001", 1, doses=(Dose(C1D1, fraction=0.8),))
    result = status(INCLUSIVE, q3w(subject), subject, today=date(2026, 1, 6))
    assert result.status is SubjectStatus.NOT_EVALUABLE
    assert result.reason is NotEvaluableReason.UNDER_DOSED
    assert (result.qualifying_infusions, result.required_infusions) == (0, 1)


def test_minimum_exposure_fraction_is_a_setting() -> None:
    subject = Subject("101-001", 1, doses=(Dose(C1D1, fraction=0.8),))
    lenient = DesignSettings(minimum_exposure_fraction=0.8)
    assert status(lenient, q3w(subject), subject).status is SubjectStatus.EVALUABLE_NO_DLT


def test_full_dose_from_amounts_survives_float_division() -> None:
    dose = Dose.from_amounts(C1D1, actual=0.7, planned=0.7000000001)
    subject = Subject("101-001", 1, doses=(dose,))
    assert status(INCLUSIVE, q3w(subject), subject).status is SubjectStatus.EVALUABLE_NO_DLT


def test_dlt_with_under_exposure_is_still_evaluable() -> None:
    subject = Subject(
        "101-001",
        1,
        doses=(Dose(C1D1, fraction=0.3),),
        adverse_events=(dlt(date(2026, 1, 5)),),
    )
    result = status(INCLUSIVE, q3w(subject), subject)
    assert result.status is SubjectStatus.DLT
    assert result.evaluable and result.has_dlt


def test_late_cycle2_dose_does_not_make_up_an_under_dosed_c1d1() -> None:
    # Under "after", C2D1 on start+21 falls inside the window; only C1D1 is the planned infusion.
    subject = Subject(
        "101-001", 1, doses=(Dose(C1D1, fraction=0.5), Dose(C1D1 + timedelta(days=21)))
    )
    result = status(AFTER, q3w(subject), subject)
    assert result.reason is NotEvaluableReason.UNDER_DOSED


@pytest.mark.parametrize(
    ("adjudicated", "investigator", "expected"),
    [
        pytest.param(None, True, SubjectStatus.DLT, id="investigator-dlt-not-yet-adjudicated"),
        pytest.param(False, True, SubjectStatus.EVALUABLE_NO_DLT, id="committee-overturns-dlt"),
        pytest.param(True, False, SubjectStatus.DLT, id="committee-calls-dlt"),
        pytest.param(None, False, SubjectStatus.EVALUABLE_NO_DLT, id="no-dlt-call"),
    ],
)
def test_adjudicated_call_overrides_the_investigator(adjudicated, investigator, expected) -> None:
    ae = dlt(date(2026, 1, 9), dlt_investigator=investigator, dlt_adjudicated=adjudicated)
    subject = Subject("101-001", 1, doses=(Dose(C1D1),), adverse_events=(ae,))
    assert status(INCLUSIVE, q3w(subject), subject).status is expected


def test_dlt_call_on_unrelated_ae_counts_and_is_flagged() -> None:
    ae = AdverseEvent(date(2026, 1, 9), 3, related=False, dlt_investigator=True, term="Sepsis")
    subject = Subject("101-001", 1, doses=(Dose(C1D1),), adverse_events=(ae,))
    others = [Subject(f"101-00{i}", 1, doses=(Dose(C1D1),)) for i in (2, 3)]

    result = recommend(INCLUSIVE, q3w(subject, *others), LONG_AFTER)

    assert result.action is Action.ENROLL  # 1 DLT in 3: add 3
    assert Flag.DLT_CALL_NOT_RELATED in result.flags
    assert "101-001: DLT call on an AE assessed as not related" in result.notes[0]


# --- Q2W: 28-day window, Day 1 and Day 15 both needed ---


def test_q2w_both_infusions_full_is_evaluable() -> None:
    subject = Subject("102-001", 3, doses=(Dose(C1D1), Dose(C1D1 + timedelta(days=14))))
    result = status(INCLUSIVE, q2w(subject), subject)
    assert result.status is SubjectStatus.EVALUABLE_NO_DLT
    assert result.window.end == date(2026, 2, 1)
    assert (result.qualifying_infusions, result.required_infusions) == (2, 2)


def test_q2w_day15_partial_is_under_dosed() -> None:
    subject = Subject(
        "102-001", 3, doses=(Dose(C1D1), Dose(C1D1 + timedelta(days=14), fraction=0.5))
    )
    result = status(INCLUSIVE, q2w(subject), subject, today=date(2026, 1, 20))
    assert result.reason is NotEvaluableReason.UNDER_DOSED


def test_q2w_day15_missing_is_pending_then_under_dosed() -> None:
    subject = Subject("102-001", 3, doses=(Dose(C1D1),))
    track = q2w(subject)
    assert status(INCLUSIVE, track, subject, date(2026, 2, 1)).status is SubjectStatus.PENDING
    after_window = status(INCLUSIVE, track, subject, date(2026, 2, 2))
    assert after_window.reason is NotEvaluableReason.UNDER_DOSED
    assert (after_window.qualifying_infusions, after_window.required_infusions) == (1, 2)


def test_q2w_minimum_infusions_setting() -> None:
    subject = Subject("102-001", 3, doses=(Dose(C1D1),))
    one_is_enough = DesignSettings(minimum_infusions=1)
    assert status(one_is_enough, q2w(subject), subject).status is SubjectStatus.EVALUABLE_NO_DLT


# --- the sweep date ---


def test_next_evaluation_date_is_earliest_pending_end_plus_one() -> None:
    subjects = (
        Subject("101-001", 1, doses=(Dose(date(2026, 1, 1)),)),  # complete
        Subject("101-002", 1, doses=(Dose(date(2026, 2, 20)),)),  # ends 2026-03-12
        Subject("101-003", 1, doses=(Dose(date(2026, 2, 10)),)),  # ends 2026-03-02
        Subject("101-004", 1),  # not dosed: no date
    )
    assert next_evaluation_date(INCLUSIVE, q3w(*subjects), date(2026, 3, 1)) == date(2026, 3, 3)
    assert next_evaluation_date(AFTER, q3w(*subjects), date(2026, 3, 1)) == date(2026, 3, 4)


def test_next_evaluation_date_none_when_nothing_pending() -> None:
    subject = Subject("101-001", 1, doses=(Dose(date(2026, 1, 1)),))
    assert next_evaluation_date(INCLUSIVE, q3w(subject), date(2026, 3, 1)) is None
