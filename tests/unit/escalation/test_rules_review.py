"""Second-review scenarios for the escalation core: edge cases a real Phase 1 trial can hit.

Each test is one plain-language scenario and the protocol-correct outcome (docs/escalation.md
§2-§6; Simon et al., JNCI 1997;89:1138; Korn et al., Stat Med 1994;13:1799; BOIN elimination
boundary for a 30% target). Tests marked "review fix" failed before the fix in escalation/rules.

Compact notation for 3+3 histories: "L3:N,T,P" = at level 3, one subject per code, in
enrollment order, numbered 301-001, 301-002, ... across the spec; the codes (N, T, t, P, D, X,
x, E, F among them) are read by notation.py in this folder, for these tests and the scenario
table alike.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from escalation.rules import (
    BOIN_30_ELIMINATION,
    Action,
    AdverseEvent,
    DesignSettings,
    Dose,
    DoseLevel,
    EscalationInputError,
    Flag,
    NotEvaluableReason,
    Phase,
    Rule,
    Subject,
    SubjectStatus,
    Track,
    evaluate_subject,
    find_titration_trigger,
    pause_threshold,
    recommend,
)
from tests.unit.escalation import notation

TODAY, LONG_AGO, MIL97 = notation.TODAY, notation.LONG_AGO, notation.MIL97_LEVELS
# The committee's intermediate dose between L3 (0.1) and L4 (0.2).
INTERMEDIATE = DoseLevel(35, "0.15 mg/kg")
WITH_INTERMEDIATE = (*MIL97[:3], INTERMEDIATE, *MIL97[3:])

Q3W = {"regimen": "Q3W", "dlt_window_days": 21, "planned_infusion_days": (1,), "titration": True}
Q2W = {"regimen": "Q2W", "dlt_window_days": 28, "planned_infusion_days": (1, 15)}

SIMPLE = DesignSettings(exceeded_variant="simple")
DEFAULT = DesignSettings()


def q3w(spec: str, levels: tuple[DoseLevel, ...] = MIL97, **fields) -> Track:
    return Track(
        name="Q3W escalation",
        dose_levels=levels,
        subjects=notation.subjects(spec, "301"),
        **{**Q3W, **fields},
    )


def numbers(levels) -> list[int]:
    return [level.number for level in levels]


# --- 3+3 decision table: counts other than exactly 3 or 6 -------------------------------------


def test_1_of_3_with_a_fourth_subject_pending_enrolls_two_more() -> None:
    # 3 evaluable, 1 DLT, and a 4th subject already dosed: the level expands to 6 evaluable, the
    # pending subject holds one of the 3 added places.
    result = recommend(DEFAULT, q3w("L1:N L2:N L3:N,T,N,P"), TODAY)
    assert (result.action, result.rule, result.n_subjects) == (Action.ENROLL, Rule.ADD_THREE, 2)
    assert result.dose_level.number == 3
    assert result.pending_subjects == ("301-006",)
    assert "enroll 2 more at 0.1 mg/kg Q3W" in result.text


def test_0_of_3_with_a_fourth_subject_pending_waits() -> None:
    # Escalation needs every subject of the cohort evaluable (docs/escalation.md §4.3), even a 4th one.
    result = recommend(DEFAULT, q3w("L1:N L2:N L3:N,N,N,P"), TODAY)
    assert (result.action, result.rule) == (Action.WAIT, Rule.WAIT_PENDING)
    assert result.dose_level.number == 3


def test_four_evaluable_no_dlt_after_a_replaced_subject_turned_evaluable_escalates() -> None:
    # 301-004 was replaced (left early), then the record was corrected: evaluable after all. The
    # level has 4 evaluable, 0 DLT: decisions count evaluable subjects, 0/4 escalates.
    result = recommend(DEFAULT, q3w("L1:N L2:N L3:N,E,N,N"), TODAY)
    assert (result.action, result.rule) == (Action.ESCALATE, Rule.ESCALATE_AFTER_3)
    assert (result.dose_level.number, result.n_subjects) == (4, 3)


def test_replacement_still_pending_after_the_replaced_subject_turned_evaluable_waits() -> None:
    result = recommend(DEFAULT, q3w("L1:N L2:N L3:N,E,N,P"), TODAY)
    assert result.action is Action.WAIT
    assert result.pending_subjects == ("301-006",)


def test_replaced_subject_later_found_evaluable_with_dlt_counts() -> None:
    # The DLT of a replaced subject still counts: 1 DLT in 4 evaluable -> expand to 6.
    result = recommend(DEFAULT, q3w("L1:N L2:N L3:N,F,N,N"), TODAY)
    assert (result.action, result.rule, result.n_subjects) == (Action.ENROLL, Rule.ADD_THREE, 2)


@pytest.mark.parametrize(
    ("spec", "n"),
    [
        pytest.param("L1:N L2:N L3:N,T,N,N", 2, id="1-of-4"),
        pytest.param("L1:N L2:N L3:N,T,N,N,N", 1, id="1-of-5"),
    ],
)
def test_one_dlt_in_four_or_five_fills_to_six(spec: str, n: int) -> None:
    result = recommend(DEFAULT, q3w(spec), TODAY)
    assert (result.action, result.rule, result.n_subjects) == (Action.ENROLL, Rule.ADD_THREE, n)


def test_1_of_6_with_a_seventh_pending_waits() -> None:
    result = recommend(DEFAULT, q3w("L1:N L2:N L3:N,T,N,N,N,N,P"), TODAY)
    assert result.action is Action.WAIT


def test_one_dlt_with_two_pending_waits_for_the_cohort() -> None:
    # 1 DLT in 1 evaluable is neither "add 3" (needs 3 evaluable) nor exceeded.
    result = recommend(DEFAULT, q3w("L1:N L2:N L3:T,P,P"), TODAY)
    assert (result.action, result.exceeded_level) == (Action.WAIT, None)


def test_second_dlt_with_a_subject_not_yet_dosed_is_curtailed() -> None:
    # Curtailment: the 2nd DLT decides "exceeded" at once; the undosed subject must not be
    # dosed at L4, and the committee is told.
    result = recommend(DEFAULT, q3w("L1:N L2:N L3:N,N,N L4:t,t,D"), TODAY)
    assert (result.action, result.rule) == (Action.ENROLL, Rule.EXPAND_LOWER_FILL)
    assert result.exceeded_level.number == 4
    assert Flag.CURTAILED in result.flags
    assert any("awaiting first dose (301-008)" in note for note in result.notes)


# --- late data: a DLT arriving after escalation ------------------------------------------------


def test_second_dlt_after_escalation_makes_lower_level_exceeded_and_flags_subjects_above() -> None:
    # review fix. L3 had 1/6 and the track escalated; L4 has 3 subjects (one still in its
    # window). A second DLT is then entered at L3: 2/6, L3 exceeded. Expand-lower: fill L2 (one
    # titration subject) to 6. The L4 subjects are on a dose above one that exceeded the MTD:
    # the committee must see them (the walk's docstring promises a flag for late data).
    result = recommend(DEFAULT, q3w("L1:N L2:N L3:N,T,N,N,N,T L4:N,N,P"), TODAY)
    assert (result.action, result.rule) == (Action.ENROLL, Rule.EXPAND_LOWER_FILL)
    assert (result.dose_level.number, result.n_subjects) == (2, 5)
    assert result.exceeded_level.number == 3
    assert Flag.SUBJECTS_ABOVE in result.flags
    note = next(n for n in result.notes if "above 0.1 mg/kg Q3W" in n)
    assert "0.2 mg/kg Q3W (3; 1 subject pending until" in note


def test_second_dlt_after_escalation_simple_variant_declares_lower_mtd_with_flags() -> None:
    # review fix (flag). Simple variant: L2 is the MTD at once, resting on one subject.
    result = recommend(SIMPLE, q3w("L1:N L2:N L3:N,T,N,N,N,T L4:N,N,P"), TODAY)
    assert (result.action, result.rule, result.mtd_level.number) == (
        Action.DECLARE_MTD,
        Rule.SIMPLE_MTD,
        2,
    )
    assert set(result.flags) == {Flag.MTD_ON_FEWER_THAN_6, Flag.SUBJECTS_ABOVE}


def test_late_dlt_at_level_1_stops_and_flags_subjects_above() -> None:
    # review fix (flag). The STOP recommendation also names the subjects already at L2 and L3.
    result = recommend(
        DesignSettings(titration_levels=0), q3w("L1:N,T,N,N,N,T L2:N,N,N L3:P,P,P"), TODAY
    )
    assert (result.action, result.rule) == (Action.STOP, Rule.STOP_FIRST_LEVEL)
    assert Flag.SUBJECTS_ABOVE in result.flags


def test_dlts_at_two_levels_at_once_decide_on_the_lowest() -> None:
    # L3 reaches 2/6 and L4 2/3 together: L3 is the lowest exceeded level; fill L2. L4 exceeded
    # on its own data, so it is not reported as "subjects above" (nothing new to see there).
    result = recommend(DEFAULT, q3w("L1:N L2:N L3:N,T,N,N,N,T L4:T,T,N"), TODAY)
    assert result.exceeded_level.number == 3
    assert (result.dose_level.number, result.rule) == (2, Rule.EXPAND_LOWER_FILL)
    assert result.flags == ()


def test_late_dlt_below_an_exceeded_level_expand_lower_fills_it() -> None:
    # L3 was 0/3, L4 exceeded, then a late DLT at L3 makes it 1/3: fill L3 to 6.
    result = recommend(DEFAULT, q3w("L1:N L2:N L3:N,T,N L4:T,T,N"), TODAY)
    assert (result.action, result.rule, result.n_subjects) == (
        Action.ENROLL,
        Rule.EXPAND_LOWER_FILL,
        3,
    )


def test_late_dlt_below_an_exceeded_level_simple_variant_adds_three_not_mtd() -> None:
    # Simple variant, but the dose below is 1/3: it cannot be the MTD ("at most 1 DLT in 6");
    # the 3+3 table applies first: add 3.
    result = recommend(SIMPLE, q3w("L1:N L2:N L3:N,T,N L4:T,T,N"), TODAY)
    assert (result.action, result.rule, result.n_subjects) == (Action.ENROLL, Rule.ADD_THREE, 3)
    assert result.mtd_level is None


def test_simple_variant_does_not_declare_mtd_over_a_pending_subject() -> None:
    result = recommend(SIMPLE, q3w("L1:N L2:N L3:N,N,N,P L4:T,T,N"), TODAY)
    assert result.action is Action.WAIT and result.mtd_level is None


# --- expand-lower recursion down to level 1 ----------------------------------------------------


def test_expand_lower_from_single_titration_subject_at_level_2() -> None:
    result = recommend(DEFAULT, q3w("L1:N L2:N L3:T,T"), TODAY)
    assert (result.action, result.rule) == (Action.ENROLL, Rule.EXPAND_LOWER_FILL)
    assert (result.dose_level.number, result.n_subjects) == (2, 5)
    assert "fill 0.03 mg/kg Q3W to 6: enroll 5 more" in result.text


def test_expand_lower_recurses_to_level_1_from_single_subject() -> None:
    result = recommend(DEFAULT, q3w("L1:N L2:N,N,T,N,T,N L3:T,T"), TODAY)
    assert (result.dose_level.number, result.n_subjects) == (1, 5)
    assert result.exceeded_level.number == 2


def test_expand_lower_level_1_tolerated_is_the_mtd() -> None:
    result = recommend(DEFAULT, q3w("L1:N,N,N,N,T,N L2:N,N,T,N,T,N L3:T,T"), TODAY)
    assert (result.action, result.rule, result.mtd_level.number) == (
        Action.DECLARE_MTD,
        Rule.MTD,
        1,
    )


def test_expand_lower_level_1_exceeded_stops() -> None:
    result = recommend(DEFAULT, q3w("L1:N,T,N,N,T,N L2:N,N,T,N,T,N L3:T,T"), TODAY)
    assert (result.action, result.mtd_level) == (Action.STOP, None)
    assert result.exceeded_level.number == 1


# --- committee override: an intermediate dose -------------------------------------------------


def test_intermediate_dose_exceeded_fills_the_dose_below_then_mtd() -> None:
    # The committee escalated from L3 (0/3) to 0.15 instead of 0.2; 0.15 had 2 DLTs. The next
    # higher dose of L3 is now 0.15: fill L3 to 6, and at <= 1/6 L3 is the MTD.
    fill = recommend(DEFAULT, q3w("L1:N L2:N L3:N,N,N L35:T,T,N", WITH_INTERMEDIATE), TODAY)
    assert (fill.rule, fill.dose_level.number, fill.n_subjects) == (Rule.EXPAND_LOWER_FILL, 3, 3)
    mtd = recommend(DEFAULT, q3w("L1:N L2:N L3:N,N,N,T,N,N L35:T,T,N", WITH_INTERMEDIATE), TODAY)
    assert (mtd.action, mtd.mtd_level.number, mtd.exceeded_level.number) == (
        Action.DECLARE_MTD,
        3,
        35,
    )
    assert "MTD = 0.1 mg/kg Q3W" in mtd.text


def test_intermediate_dose_0_of_3_below_exceeded_level_fills_it_not_the_lower_one() -> None:
    result = recommend(
        DEFAULT, q3w("L1:N L2:N L3:N,N,N L35:N,N,N L4:T,T", WITH_INTERMEDIATE), TODAY
    )
    assert (result.rule, result.dose_level.number, result.n_subjects) == (
        Rule.EXPAND_LOWER_FILL,
        35,
        3,
    )


def test_untested_intermediate_dose_below_exceeded_level_is_tried_before_any_mtd() -> None:
    # L3 has 1/6 and L4 exceeded, but the committee has added 0.15 between them: L3's next higher
    # dose is untested, so L3 is not yet the MTD (docs/escalation.md §4.5).
    result = recommend(DEFAULT, q3w("L1:N L2:N L3:N,T,N,N,N,N L4:T,T,N", WITH_INTERMEDIATE), TODAY)
    assert (result.action, result.dose_level.number, result.n_subjects) == (Action.ESCALATE, 35, 3)
    assert result.mtd_level is None


# --- accelerated titration triggers (Simon 1997; docs/escalation.md §3)--------------------------------


def _titration_track(*subjects: Subject) -> Track:
    return Track(name="Q3W escalation", dose_levels=MIL97, subjects=subjects, **Q3W)


def _single(number: str, level: int, first: date, *events: AdverseEvent, **fields) -> Subject:
    return Subject(number, level, doses=(Dose(first),), adverse_events=events, **fields)


L1_DOSED = date(2025, 10, 6)
L2_DOSED = date(2025, 11, 3)


@pytest.mark.parametrize(
    ("convention", "triggered"),
    [
        pytest.param("inclusive", False, id="inclusive-day22-is-outside"),
        pytest.param("after", True, id="after-day22-is-inside"),
    ],
)
def test_related_grade2_on_day_22_triggers_only_under_the_after_convention(
    convention: str, triggered: bool
) -> None:
    g2 = AdverseEvent(L2_DOSED + timedelta(days=21), 2, True, term="Rash")  # study Day 22
    track = _titration_track(_single("301-001", 1, L1_DOSED), _single("301-002", 2, L2_DOSED, g2))
    result = recommend(DesignSettings(window_convention=convention), track, TODAY)
    if triggered:
        assert (result.rule, result.dose_level.number, result.n_subjects) == (
            Rule.TITRATION_TRIGGERED,
            2,
            2,
        )
    else:
        assert (result.rule, result.dose_level.number, result.n_subjects) == (
            Rule.TITRATION_OVER,
            3,
            3,
        )


def test_unrelated_grade3_without_dlt_call_does_not_trigger() -> None:
    g3 = AdverseEvent(L1_DOSED + timedelta(days=4), 3, False, term="Tumour pain")
    result = recommend(DEFAULT, _titration_track(_single("301-001", 1, L1_DOSED, g3)), TODAY)
    assert (result.rule, result.dose_level.number, result.n_subjects) == (
        Rule.TITRATION_ESCALATE,
        2,
        1,
    )


def test_dlt_only_overturned_dlt_does_not_trigger_but_default_setting_does() -> None:
    # Grade 3 related, investigator DLT, committee overturned it: not a DLT. Under "DLT only" no
    # trigger; under the default it is still a related grade >= 2 AE, so it triggers.
    ae = AdverseEvent(
        L1_DOSED + timedelta(days=4), 3, True, dlt_investigator=True, dlt_adjudicated=False
    )
    track = _titration_track(_single("301-001", 1, L1_DOSED, ae))
    dlt_only = recommend(DesignSettings(titration_trigger="dlt_only"), track, TODAY)
    default = recommend(DEFAULT, track, TODAY)
    assert (dlt_only.action, dlt_only.dose_level.number) == (Action.ESCALATE, 2)
    assert (default.rule, default.dose_level.number, default.n_subjects) == (
        Rule.TITRATION_TRIGGERED,
        1,
        2,
    )


def test_trigger_on_a_subject_later_found_not_evaluable_still_ends_titration() -> None:
    # Related grade 2 on Day 4, then the subject left on Day 6: not evaluable, but the toxicity
    # was seen (Simon: the trigger is the observed toxicity). L1 needs 3 evaluable: enroll 3,
    # one of them replacing 301-001.
    g2 = AdverseEvent(L1_DOSED + timedelta(days=3), 2, True, term="Rash")
    track = _titration_track(
        _single("301-001", 1, L1_DOSED, g2, left_on=L1_DOSED + timedelta(days=5))
    )
    result = recommend(DEFAULT, track, TODAY)
    assert (result.action, result.rule, result.n_subjects) == (
        Action.ENROLL,
        Rule.TITRATION_TRIGGERED,
        3,
    )
    assert result.subjects_to_replace == ("301-001",)
    assert "enroll 3 more at 0.01 mg/kg Q3W" in result.text
    assert "1 of them replaces 301-001" in result.text


def test_second_related_grade2_needs_two_subjects_not_two_events() -> None:
    # review fix. Simon 1997: accelerated titration continues "until one patient experienced
    # dose-limiting toxic effects or two patients experienced grade 2 toxic effects". Two related
    # grade 2 AEs in the same L1 subject are one patient: titration continues to L2 (1 subject).
    settings = DesignSettings(titration_trigger="second_related_grade2")
    subject = _single(
        "301-001",
        1,
        L1_DOSED,
        AdverseEvent(L1_DOSED + timedelta(days=2), 2, True, term="Rash"),
        AdverseEvent(L1_DOSED + timedelta(days=9), 2, True, term="Fatigue"),
    )
    track = _titration_track(subject)
    assert find_titration_trigger(settings, track) is None
    result = recommend(settings, track, TODAY)
    assert (result.rule, result.dose_level.number, result.n_subjects) == (
        Rule.TITRATION_ESCALATE,
        2,
        1,
    )


def test_second_related_grade2_fires_on_the_second_subject() -> None:
    # review fix. The L1 subject had two grade 2 AEs, the L2 subject one: two patients -> trigger at L2,
    # reported with the first event of each subject.
    settings = DesignSettings(titration_trigger="second_related_grade2")
    track = _titration_track(
        _single(
            "301-001",
            1,
            L1_DOSED,
            AdverseEvent(L1_DOSED + timedelta(days=2), 2, True, term="Rash"),
            AdverseEvent(L1_DOSED + timedelta(days=9), 2, True, term="Fatigue"),
        ),
        _single("301-002", 2, L2_DOSED, AdverseEvent(L2_DOSED + timedelta(days=3), 2, True)),
    )
    trigger = find_titration_trigger(settings, track)
    assert trigger.dose_level.number == 2
    assert [(e.subject_number, e.event.term) for e in trigger.events] == [
        ("301-001", "Rash"),
        ("301-002", ""),
    ]


def test_trigger_text_counts_the_study_cohort_size() -> None:
    # review fix (text). The trigger level takes a full cohort "in all" (docs/escalation.md §3): say the study's cohort size.
    g2 = AdverseEvent(L1_DOSED + timedelta(days=3), 2, True, term="Rash")
    settings = DesignSettings(cohort_size=4, expanded_cohort_size=8)
    result = recommend(settings, _titration_track(_single("301-001", 1, L1_DOSED, g2)), TODAY)
    assert result.n_subjects == 3
    assert "4 in all here" in result.text


# --- DLT windows and evaluability at the boundaries --------------------------------------------

C1D1 = date(2026, 1, 5)
AFTER = DesignSettings(window_convention="after")
LATER = date(2026, 6, 1)


def _q2w(*subjects: Subject, levels=MIL97[2:4]) -> Track:
    return Track(name="Q2W escalation", dose_levels=levels, subjects=subjects, **Q2W)


def test_q2w_after_missed_day15_and_day29_given_is_under_dosed() -> None:
    # review fix. "after" convention: the 28-day window ends on study Day 29, the day of the
    # next infusion. Day 15 was missed; the Day 29 infusion is not a planned infusion of the
    # window and must not count as the second one: not evaluable (both infusions required).
    subject = Subject("302-001", 3, doses=(Dose(C1D1), Dose(C1D1 + timedelta(days=28))))
    result = evaluate_subject(AFTER, _q2w(subject), subject, LATER)
    assert result.status is SubjectStatus.NOT_EVALUABLE
    assert result.reason is NotEvaluableReason.UNDER_DOSED
    assert (result.qualifying_infusions, result.required_infusions) == (1, 2)


def test_q2w_after_missed_day15_cannot_let_the_cohort_escalate() -> None:
    # review fix. The same subject in a cohort of 3: replace, do not escalate.
    full = [
        Subject(f"302-00{i}", 3, doses=(Dose(C1D1), Dose(C1D1 + timedelta(days=14))))
        for i in (1, 2)
    ]
    missed = Subject("302-003", 3, doses=(Dose(C1D1), Dose(C1D1 + timedelta(days=28))))
    result = recommend(AFTER, _q2w(*full, missed), LATER)
    assert (result.action, result.subjects_to_replace) == (Action.REPLACE, ("302-003",))


def test_q2w_after_day15_under_dosed_then_day29_full_is_under_dosed() -> None:
    subject = Subject(
        "302-001",
        3,
        doses=(Dose(C1D1), Dose(C1D1 + timedelta(days=14), 0.5), Dose(C1D1 + timedelta(days=28))),
    )
    assert evaluate_subject(AFTER, _q2w(subject), subject, LATER).reason is (
        NotEvaluableReason.UNDER_DOSED
    )


def test_q2w_after_all_three_infusions_full_is_evaluable() -> None:
    doses = (Dose(C1D1), Dose(C1D1 + timedelta(days=14)), Dose(C1D1 + timedelta(days=28)))
    subject = Subject("302-001", 3, doses=doses)
    result = evaluate_subject(AFTER, _q2w(subject), subject, LATER)
    assert result.status is SubjectStatus.EVALUABLE_NO_DLT
    assert result.qualifying_infusions == 2


def test_q2w_day15_infusion_delayed_inside_the_window_counts() -> None:
    subject = Subject("302-001", 3, doses=(Dose(C1D1), Dose(C1D1 + timedelta(days=19))))
    assert evaluate_subject(DEFAULT, _q2w(subject), subject, LATER).status is (
        SubjectStatus.EVALUABLE_NO_DLT
    )


def test_q2w_under_dosed_day15_is_known_at_once_and_a_later_dlt_still_counts() -> None:
    subject = Subject(
        "302-001", 3, doses=(Dose(C1D1), Dose(C1D1 + timedelta(days=14), fraction=0.6))
    )
    on_day_16 = evaluate_subject(DEFAULT, _q2w(subject), subject, C1D1 + timedelta(days=15))
    assert on_day_16.reason is NotEvaluableReason.UNDER_DOSED
    with_dlt = Subject(
        "302-001",
        3,
        doses=subject.doses,
        adverse_events=(AdverseEvent(C1D1 + timedelta(days=20), 3, True, dlt_investigator=True),),
    )
    assert evaluate_subject(DEFAULT, _q2w(with_dlt), with_dlt, LATER).status is SubjectStatus.DLT


STRICT = DesignSettings(end_of_treatment_on_last_window_day="not_evaluable")
AFTER_STRICT = DesignSettings(
    window_convention="after", end_of_treatment_on_last_window_day="not_evaluable"
)


@pytest.mark.parametrize(
    ("settings", "left_on", "expected"),
    [
        # Default (end_of_treatment_on_last_window_day = "evaluable"): observed through the last
        # day, no infusion of the window missed -> the window is completed.
        pytest.param(DEFAULT, C1D1 + timedelta(days=19), SubjectStatus.NOT_EVALUABLE,
                     id="inclusive-left-on-day20"),
        pytest.param(DEFAULT, C1D1 + timedelta(days=20), SubjectStatus.EVALUABLE_NO_DLT,
                     id="inclusive-left-on-day21-evaluable"),
        pytest.param(AFTER, C1D1 + timedelta(days=21), SubjectStatus.EVALUABLE_NO_DLT,
                     id="after-left-on-start+21-evaluable"),
        pytest.param(AFTER, C1D1 + timedelta(days=20), SubjectStatus.NOT_EVALUABLE,
                     id="after-left-on-start+20"),
        # The strict reading: leaving on the last day is leaving early.
        pytest.param(STRICT, C1D1 + timedelta(days=20), SubjectStatus.NOT_EVALUABLE,
                     id="strict-inclusive-left-on-day21"),
        pytest.param(STRICT, C1D1 + timedelta(days=21), SubjectStatus.EVALUABLE_NO_DLT,
                     id="strict-inclusive-left-on-day22"),
        pytest.param(AFTER_STRICT, C1D1 + timedelta(days=21), SubjectStatus.NOT_EVALUABLE,
                     id="strict-after-left-on-start+21"),
        pytest.param(AFTER_STRICT, C1D1 + timedelta(days=22), SubjectStatus.EVALUABLE_NO_DLT,
                     id="strict-after-left-on-start+22"),
    ],
)  # fmt: skip
def test_leaving_on_the_windows_last_day_follows_the_study_setting(
    settings, left_on, expected
) -> None:
    subject = Subject("301-001", 3, doses=(Dose(C1D1),), left_on=left_on)
    track = q3w("")
    assert evaluate_subject(settings, track, subject, LATER).status is expected


def test_leaving_on_the_last_day_is_pending_until_the_day_is_over() -> None:
    subject = Subject("301-001", 3, doses=(Dose(C1D1),), left_on=C1D1 + timedelta(days=20))
    on_the_day = evaluate_subject(DEFAULT, q3w(""), subject, C1D1 + timedelta(days=20))
    assert on_the_day.status is SubjectStatus.PENDING


def test_death_inside_the_window_without_dlt_is_not_evaluable() -> None:
    # Died on Day 10 of disease progression (AE not related, no DLT call): left early -> replace.
    progression = AdverseEvent(C1D1 + timedelta(days=9), 5, False, term="Disease progression")
    subject = Subject(
        "301-001", 3, doses=(Dose(C1D1),), adverse_events=(progression,),
        left_on=C1D1 + timedelta(days=9),
    )  # fmt: skip
    result = evaluate_subject(DEFAULT, q3w(""), subject, LATER)
    assert (result.status, result.reason) == (
        SubjectStatus.NOT_EVALUABLE,
        NotEvaluableReason.LEFT_WINDOW_EARLY,
    )


def test_death_inside_the_window_with_dlt_is_evaluable_with_dlt() -> None:
    fatal = AdverseEvent(C1D1 + timedelta(days=9), 5, True, dlt_investigator=True, term="Sepsis")
    subject = Subject(
        "301-001", 3, doses=(Dose(C1D1),), adverse_events=(fatal,),
        left_on=C1D1 + timedelta(days=9),
    )  # fmt: skip
    result = evaluate_subject(DEFAULT, q3w(""), subject, C1D1 + timedelta(days=10))
    assert result.status is SubjectStatus.DLT


def test_dlt_with_onset_after_leaving_but_inside_the_window_counts() -> None:
    # Withdrew from treatment on Day 5, DLT (onset Day 12) reported at the safety follow-up: the
    # onset is inside the window, so it counts (docs/escalation.md §2.2; counting it can only slow escalation).
    ae = AdverseEvent(C1D1 + timedelta(days=11), 3, True, dlt_investigator=True)
    subject = Subject(
        "301-001", 3, doses=(Dose(C1D1),), adverse_events=(ae,), left_on=C1D1 + timedelta(days=4)
    )
    assert evaluate_subject(DEFAULT, q3w(""), subject, LATER).status is SubjectStatus.DLT


def test_dlt_on_the_day_of_the_first_dose_counts() -> None:
    ae = AdverseEvent(C1D1, 3, True, dlt_investigator=True, term="Infusion related reaction")
    subject = Subject("301-001", 3, doses=(Dose(C1D1, fraction=0.4),), adverse_events=(ae,))
    assert evaluate_subject(DEFAULT, q3w(""), subject, LATER).status is SubjectStatus.DLT


# --- Q2W track opened at some levels only (docs/escalation.md §5) --------------------------------------------


def test_q2w_single_allowed_level_tolerated_names_the_track_not_the_study_top_dose() -> None:
    # review fix (text). The committee opened Q2W at 0.1 mg/kg only. 0/3 there is the top of
    # this track, not the study's 0.45 mg/kg: the text must say so and leave the committee the
    # choice of opening a higher level to this track (top_dose_rule "declare_at_3": the MAD at
    # 0/3; the default fills the level to 6 first, see test_rules_scenarios.py).
    subjects = [
        Subject(f"302-00{i}", 3, doses=(Dose(C1D1), Dose(C1D1 + timedelta(days=14))))
        for i in (1, 2, 3)
    ]
    settings = DesignSettings(top_dose_rule="declare_at_3")
    result = recommend(settings, _q2w(*subjects, levels=(MIL97[2],)), LATER)
    assert (result.action, result.mad_level.number) == (Action.MAD_REACHED, 3)
    assert result.text.startswith("MAD 0.1 mg/kg Q2W reached")
    assert "highest dose level open to track Q2W escalation" in result.text
    assert "opens a higher dose level to this track" in result.text
    assert "MTD not reached on this track" in result.text


def test_q2w_lowest_allowed_level_exceeded_says_no_mtd_on_this_track() -> None:
    # review fix (text). On Q2W the lowest level open to the track is not the study's lowest.
    dlt = AdverseEvent(C1D1 + timedelta(days=3), 3, True, dlt_investigator=True)
    subjects = [
        Subject(f"302-00{i}", 3, doses=(Dose(C1D1), Dose(C1D1 + timedelta(days=14))),
                adverse_events=(dlt,) if i < 3 else ())
        for i in (1, 2, 3)
    ]  # fmt: skip
    result = recommend(DEFAULT, _q2w(*subjects), LATER)
    assert result.action is Action.STOP
    assert result.text.startswith("stop: 0.1 mg/kg Q2W exceeded")
    assert "lowest dose level open to track Q2W escalation" in result.text


# --- every recommendation tells a site the dose, the regimen and how many ----------------------


@pytest.mark.parametrize(
    ("spec", "settings", "number_text"),
    [
        pytest.param("", DEFAULT, "open a cohort of 1", id="start"),
        pytest.param("L1:N", DEFAULT, "open a cohort of 1", id="titration-escalate"),
        pytest.param("L1:N L2:N", DEFAULT, "open a cohort of 3", id="titration-over"),
        pytest.param("L1:N L2:N L3:N,T,N", DEFAULT, "enroll 3 more", id="add-three"),
        pytest.param("L1:N L2:N L3:N,X,N", DEFAULT, "replace subject 301-004", id="replace"),
        pytest.param("L1:N L2:N L3:N,P,N", DEFAULT, "1 subject pending", id="wait"),
        pytest.param("L1:N L2:N L3:N,N,N L4:T,T", DEFAULT, "enroll 3 more", id="fill-lower"),
        pytest.param("L1:N L2:N L3:N,N,N L4:T,T", SIMPLE, "MTD = ", id="simple-mtd"),
        pytest.param("L1:T,T", DEFAULT, "stop: ", id="stop"),
    ],
)
def test_every_text_names_dose_and_regimen_and_the_number(spec, settings, number_text) -> None:
    result = recommend(settings, q3w(spec), TODAY)
    dose = result.dose_level.label
    assert f"{dose} Q3W" in result.text, result.text
    assert number_text in result.text, result.text
    if result.n_subjects:
        assert str(result.n_subjects) in result.text


# --- expansion safety monitoring rule (BOIN 30% elimination boundary) ---------------------------


def test_default_boundaries_are_the_boin_posterior_boundary() -> None:
    # Pr(p > 0.3 | y of n, Beta(1, 1)) = P(Binomial(n + 1, 0.3) <= y) > 0.95 first at these y.
    from math import comb

    def tail(n: int, y: int) -> float:
        return sum(comb(n + 1, k) * 0.3**k * 0.7 ** (n + 1 - k) for k in range(y + 1))

    for n in range(3, 11):
        expected = next(y for y in range(n + 1) if tail(n, y) > 0.95)
        assert pause_threshold(DEFAULT, n) == (expected, False), n
    assert BOIN_30_ELIMINATION[-1] == (10, 10, 6)


@pytest.mark.parametrize(
    "rows",
    [
        pytest.param(((3, 4, 3), (7, 9, 5)), id="gap-5-6-would-switch-the-rule-off"),
        pytest.param((), id="empty-table"),
        pytest.param(((3, 4, 5),), id="boundary-above-the-row-never-reached"),
    ],
)
def test_boundary_tables_that_silently_disable_monitoring_are_refused(rows) -> None:
    # review fix. A count in a gap, an empty table or an unreachable boundary never pauses.
    with pytest.raises(EscalationInputError, match="expansion boundar"):
        DesignSettings(expansion_boundaries=rows)


def test_expansion_two_dlts_in_two_evaluated_continues_below_the_table() -> None:
    # BOIN's elimination starts at 3 evaluated (docs/escalation.md §6): 2/2 does not pause by itself.
    dlt = AdverseEvent(C1D1 + timedelta(days=3), 3, True, dlt_investigator=True)
    subjects = [
        Subject(f"303-00{i}", 3, doses=(Dose(C1D1),), adverse_events=(dlt,)) for i in (1, 2)
    ]
    track = Track(
        name="Expansion 0.1 mg/kg Q3W",
        regimen="Q3W",
        dlt_window_days=21,
        planned_infusion_days=(1,),
        dose_levels=(MIL97[2],),
        subjects=tuple(subjects),
        phase=Phase.EXPANSION,
    )
    result = recommend(DEFAULT, track, LATER)
    assert (result.action, result.n_subjects) == (Action.ENROLL, 8)
    assert "2 DLT-type toxicities in 2 evaluated" in result.text
