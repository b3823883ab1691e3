"""Expansion cohorts and their safety monitoring rule (docs/escalation.md §6)."""

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
    Flag,
    Phase,
    Rule,
    Subject,
    Track,
    pause_threshold,
    recommend,
)

TODAY = date(2026, 6, 1)
DOSED = date(2026, 1, 5)


def expansion(*subjects: Subject) -> Track:
    return Track(
        name="Expansion A",
        regimen="Q2W",
        dlt_window_days=28,
        planned_infusion_days=(1, 15),
        dose_levels=(DoseLevel(4, "0.2 mg/kg"),),
        subjects=subjects,
        phase=Phase.EXPANSION,
    )


def evaluated(count: int, with_dlt: int) -> list[Subject]:
    subjects = []
    for i in range(count):
        events = ()
        if i < with_dlt:
            events = (AdverseEvent(DOSED + timedelta(days=3), 3, True, dlt_investigator=True),)
        doses = (Dose(DOSED), Dose(DOSED + timedelta(days=14)))
        subjects.append(Subject(f"201-{i + 1:03d}", 4, doses=doses, adverse_events=events))
    return subjects


def test_default_boundary_table_is_domain_section_4() -> None:
    assert BOIN_30_ELIMINATION == ((3, 4, 3), (5, 6, 4), (7, 9, 5), (10, 10, 6))
    assert DesignSettings().expansion_boundaries == BOIN_30_ELIMINATION


@pytest.mark.parametrize(
    ("count", "dlts", "paused"),
    [
        pytest.param(count, dlts, paused, id=f"{dlts}-of-{count}-{'pause' if paused else 'go'}")
        for count, dlts, paused in [
            (2, 2, False),  # below the table: BOIN needs 3 evaluated
            (3, 3, True),
            (3, 2, False),
            (4, 3, True),
            (4, 2, False),
            (5, 4, True),
            (5, 3, False),
            (6, 4, True),
            (6, 3, False),
            (7, 5, True),
            (7, 4, False),
            (8, 5, True),
            (9, 5, True),
            (9, 4, False),
            (10, 6, True),
            (10, 5, False),
        ]
    ],
)
def test_safety_boundary_each_row_and_just_under(count: int, dlts: int, paused: bool) -> None:
    result = recommend(DesignSettings(), expansion(*evaluated(count, dlts)), TODAY)

    if paused:
        assert (result.action, result.rule) == (Action.PAUSE_EXPANSION, Rule.EXPANSION_PAUSE)
        assert f"{dlts} DLT-type toxicities in {count} evaluated" in result.text
    elif count < 10:
        assert (result.action, result.n_subjects) == (Action.ENROLL, 10 - count)
    else:
        assert result.action is Action.EXPANSION_COMPLETE


def test_pause_does_not_wait_for_pending_subjects() -> None:
    pending = Subject("201-010", 4, doses=(Dose(TODAY - timedelta(days=3)),))
    result = recommend(DesignSettings(), expansion(*evaluated(3, 3), pending), TODAY)
    assert result.action is Action.PAUSE_EXPANSION
    assert result.pending_subjects == ("201-010",)


def test_beyond_the_table_uses_its_last_row_and_says_so() -> None:
    assert pause_threshold(DesignSettings(), 11) == (6, True)
    assert pause_threshold(DesignSettings(), 2) == (None, False)
    result = recommend(DesignSettings(), expansion(*evaluated(11, 6)), TODAY)
    assert result.action is Action.PAUSE_EXPANSION
    assert Flag.BEYOND_BOUNDARY_TABLE in result.flags


def test_boundary_table_is_a_setting() -> None:
    stricter = DesignSettings(expansion_boundaries=((2, 10, 2),))
    result = recommend(stricter, expansion(*evaluated(4, 2)), TODAY)
    assert result.action is Action.PAUSE_EXPANSION


def test_expansion_enrolls_without_waiting_for_windows() -> None:
    pending = [Subject(f"201-10{i}", 4, doses=(Dose(TODAY - timedelta(days=2)),)) for i in (1, 2)]
    result = recommend(DesignSettings(), expansion(*evaluated(4, 0), *pending), TODAY)
    assert (result.action, result.n_subjects) == (Action.ENROLL, 4)
    assert "(6 of 10 in place)" in result.text


def test_expansion_names_replacements_and_ignores_already_replaced() -> None:
    left = Subject("201-050", 4, doses=(Dose(DOSED),), left_on=DOSED + timedelta(days=4))
    done = Subject(
        "201-051", 4, doses=(Dose(DOSED),), left_on=DOSED + timedelta(days=4), replaced=True
    )
    result = recommend(DesignSettings(), expansion(*evaluated(9, 1), left, done), TODAY)
    assert (result.action, result.subjects_to_replace) == (Action.REPLACE, ("201-050",))
    assert "replace subject 201-050 in the 0.2 mg/kg Q2W expansion cohort" in result.text


def test_expansion_complete_at_ten_evaluable() -> None:
    result = recommend(DesignSettings(), expansion(*evaluated(10, 2)), TODAY)
    assert (result.action, result.rule) == (Action.EXPANSION_COMPLETE, Rule.EXPANSION_COMPLETE)
    assert result.dose_level == DoseLevel(4, "0.2 mg/kg")


def test_expansion_cohort_size_is_a_setting() -> None:
    result = recommend(
        DesignSettings(expansion_cohort_size=12), expansion(*evaluated(10, 0)), TODAY
    )
    assert (result.action, result.n_subjects) == (Action.ENROLL, 2)
