"""A track run by a dose-finding design: the escalation core's subject evaluations become the
design's counts, and its decision the usual recommendation (docs/designs.md §12.2)."""

from datetime import date, timedelta

import pytest

from escalation.rules import (
    Action,
    AdverseEvent,
    DesignSettings,
    Dose,
    DoseLevel,
    Subject,
    Track,
    recommend,
)
from escalation.rules.designs.config import parse_design

TODAY = date(2026, 6, 1)
LEVELS = tuple(DoseLevel(n, f"{n} mg/kg", float(n)) for n in range(1, 6))


def subject(number, level, days_ago, dlt=False):
    first = TODAY - timedelta(days=days_ago)
    events = ()
    if dlt:
        events = (
            AdverseEvent(
                onset=first + timedelta(days=3), grade=3, related=True, dlt_investigator=True
            ),
        )
    return Subject(number, dose_level=level, doses=(Dose(first),), adverse_events=events)


def track(design, subjects, window=21):
    return Track(
        name="T",
        regimen="Q3W",
        dlt_window_days=window,
        planned_infusion_days=(1,),
        dose_levels=LEVELS,
        subjects=tuple(subjects),
        design=parse_design(design, n_levels=len(LEVELS), window_days=window),
    )


def test_no_subject_yet_opens_the_first_cohort():
    rec = recommend(DesignSettings(), track({"name": "boin"}, []), TODAY)
    assert (rec.action, rec.dose_level.number, rec.n_subjects) == (Action.ENROLL, 1, 3)


@pytest.mark.parametrize(
    ("design", "dlts", "action", "level"),
    [
        # 1/3 at level 2: BOIN stays (1/3 = 0.33 between 0.236 and 0.359), mTPI-2 stays
        # (Guo et al. 2017 Table), i3+3 stays ((1-1)/3 below the interval), 2/3 de-escalates.
        ({"name": "boin"}, 1, Action.ENROLL, 2),
        ({"name": "mtpi2"}, 1, Action.ENROLL, 2),
        ({"name": "i3+3"}, 1, Action.ENROLL, 2),
        ({"name": "boin"}, 2, Action.ENROLL, 1),
        ({"name": "i3+3"}, 0, Action.ESCALATE, 3),
    ],
)
def test_interval_designs_decide_at_the_current_dose(design, dlts, action, level):
    subjects = [subject(f"A{i}", 1, 60) for i in range(3)]
    subjects += [subject(f"B{i}", 2, 30, dlt=i < dlts) for i in range(3)]
    rec = recommend(DesignSettings(), track(design, subjects), TODAY)
    assert (rec.action, rec.dose_level.number) == (action, level)
    assert rec.design is not None and rec.design.decision.current == 1
    assert rec.rule.startswith(rec.design.design.label + ": ")


def test_the_crm_recommends_with_its_posterior_and_no_skipping():
    design = {"name": "crm", "skeleton_halfwidth": 0.05, "skeleton_nu": 3}
    subjects = [subject(f"A{i}", 1, 60) for i in range(3)]
    rec = recommend(DesignSettings(), track(design, subjects), TODAY)
    # Nothing toxic at level 1: the model would jump, no skipping allows level 2 only.
    assert (rec.action, rec.dose_level.number) == (Action.ESCALATE, 2)
    assert "no skipping" in rec.rule
    assert len(rec.design.decision.estimates) == 5


def test_a_design_waits_for_pending_outcomes_and_names_them():
    subjects = [subject("A0", 1, 60), subject("A1", 1, 60), subject("A2", 1, 5)]
    rec = recommend(DesignSettings(), track({"name": "mtpi2"}, subjects), TODAY)
    assert rec.action is Action.WAIT and rec.pending_subjects == ("A2",)
    assert rec.wait_until == TODAY - timedelta(days=5) + timedelta(days=20)


def test_boin_declares_the_mtd_at_the_maximum_sample_size():
    subjects = [subject(f"A{i}", 1, 90) for i in range(3)]
    subjects += [subject(f"B{i}", 2, 60, dlt=i == 0) for i in range(6)]
    subjects += [subject(f"C{i}", 3, 40, dlt=i < 2) for i in range(3)]
    rec = recommend(DesignSettings(), track({"name": "boin", "max_subjects": 12}, subjects), TODAY)
    assert rec.action is Action.DECLARE_MTD and rec.mtd_level.number == 2


def test_not_evaluable_subjects_are_not_counted_and_are_named():
    left = Subject(
        "X",
        dose_level=1,
        doses=(Dose(TODAY - timedelta(days=30)),),
        left_on=TODAY - timedelta(days=25),
    )
    subjects = [subject(f"A{i}", 1, 60) for i in range(3)] + [left]
    rec = recommend(DesignSettings(), track({"name": "boin"}, subjects), TODAY)
    assert rec.action is Action.ESCALATE
    assert any("not counted by the design: X" in note for note in rec.notes)
