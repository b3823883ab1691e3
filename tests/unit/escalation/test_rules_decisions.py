"""Does a recommendation ask the committee for a step, or is the step carried out already?

A table of (history, track state) -> decision needed or not, in the notation of
test_rules_scenarios.py. The acceptance review's blocker: after the committee confirmed
"escalate to 0.03 mg/kg Q3W: open a cohort of 1" and cohort 2 opened, the same escalation was
asked again, and confirming it opened a second cohort at the same dose (docs/escalation.md §7).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import timedelta

import pytest

from escalation.rules import (
    Action,
    AdverseEvent,
    CarriedOut,
    DesignSettings,
    OpenPlaces,
    TrackStatus,
    check_decision,
    decision_key,
    needs_decision,
    recommend,
)
from tests.unit.escalation.test_rules_scenarios import EXPANSION, TODAY, scenario

ACTIVE = TrackStatus.ACTIVE


def state(status=ACTIVE, places=(), closed_by=None, level=None) -> CarriedOut:
    return CarriedOut(
        status=status,
        open_places=tuple(OpenPlaces(lv, free) for lv, free in places),
        closed_by=closed_by,
        closed_at_level=level,
    )


@dataclass(frozen=True)
class Row:
    id: str
    spec: str
    action: Action
    state: CarriedOut
    needed: bool
    reason: str = ""
    settings: dict = field(default_factory=dict)
    track: dict = field(default_factory=dict)


MTD_AT_L3 = "L1:N L2:N L3:N,N,N,N,T,N L4:T,T,N"
MAD_AT_L6 = "L1:N L2:N L3:N,N,N L4:N,N,N L5:N,N,N L6:N,N,N,N,N,N"

# fmt: off
ROWS = [
    # --- the blocker: a confirmed escalation whose cohort is open is carried out ---
    Row("escalate-L2-cohort-open-carried-out", "L1:N", Action.ESCALATE, state(places=[(2, 1)]),
        False, "carried out: 1 place open at 0.03 mg/kg Q3W"),
    Row("escalate-L2-no-cohort-open-asks", "L1:N", Action.ESCALATE, state(), True),
    Row("escalate-L2-cohort-open-at-another-level-asks", "L1:N", Action.ESCALATE,
        state(places=[(1, 1)]), True),
    Row("escalate-L2-override-opened-more-places-carried-out", "L1:N", Action.ESCALATE,
        state(places=[(2, 3)]), False, "3 places open"),
    Row("escalate-L2-track-paused-asks", "L1:N", Action.ESCALATE,
        state(TrackStatus.PAUSED, places=[(2, 1)]), True),
    Row("escalate-L4-cohort-of-3-open-carried-out", "L1:N L2:N L3:N,N,N", Action.ESCALATE,
        state(places=[(4, 3)]), False),
    # --- enrolling into places the committee opened ---
    Row("enroll-2-more-places-open-carried-out", "L1:T", Action.ENROLL, state(places=[(1, 2)]),
        False),
    Row("enroll-2-more-one-place-open-asks", "L1:T", Action.ENROLL, state(places=[(1, 1)]), True),
    Row("start-cohort-open-carried-out", "", Action.ENROLL, state(places=[(1, 1)]), False),
    # --- MTD, MAD, stop: the committee's closing step at that level ---
    Row("mtd-declared-at-that-level-carried-out", MTD_AT_L3, Action.DECLARE_MTD,
        state(TrackStatus.COMPLETED, closed_by=Action.DECLARE_MTD, level=3), False,
        "the MTD is declared"),
    Row("mtd-declared-at-another-level-asks", MTD_AT_L3, Action.DECLARE_MTD,
        state(TrackStatus.COMPLETED, closed_by=Action.DECLARE_MTD, level=2), True),
    Row("mtd-track-active-asks", MTD_AT_L3, Action.DECLARE_MTD, state(), True),
    Row("mad-declared-carried-out", MAD_AT_L6, Action.MAD_REACHED,
        state(TrackStatus.COMPLETED, closed_by=Action.MAD_REACHED, level=6), False),
    Row("mad-where-the-mtd-was-declared-asks", MAD_AT_L6, Action.MAD_REACHED,
        state(TrackStatus.COMPLETED, closed_by=Action.DECLARE_MTD, level=6), True),
    Row("stop-track-stopped-carried-out", "L1:T,T,N", Action.STOP,
        state(TrackStatus.STOPPED, closed_by=Action.STOP), False, "the track is stopped"),
    Row("stop-track-active-asks", "L1:T,T,N", Action.STOP, state(), True),
    # --- expansion: a pause made by the safety rule alone still awaits the committee ---
    Row("pause-by-the-rule-asks", "L3:T,t,T,P", Action.PAUSE_EXPANSION,
        state(TrackStatus.PAUSED), True, track=EXPANSION),
    Row("pause-confirmed-carried-out", "L3:T,t,T,P", Action.PAUSE_EXPANSION,
        state(TrackStatus.PAUSED, closed_by=Action.PAUSE_EXPANSION), False, track=EXPANSION),
    Row("expansion-complete-carried-out", "L3:N,T,N,N,N,N,T,N,N,N", Action.EXPANSION_COMPLETE,
        state(TrackStatus.COMPLETED, closed_by=Action.EXPANSION_COMPLETE), False,
        settings={"expansion_counts_escalation_subjects": False}, track=EXPANSION),
    # --- waiting and replacing ask nothing ---
    Row("wait-asks-nothing", "L1:P", Action.WAIT, state(), False, "waiting"),
    Row("replace-asks-nothing", "L1:X", Action.REPLACE, state(), False),
]
# fmt: on


@pytest.mark.parametrize("row", ROWS, ids=[row.id for row in ROWS])
def test_decision_needed(row: Row) -> None:
    track = scenario(row.spec, **row.track)
    recommendation = recommend(DesignSettings(**row.settings), track, TODAY)
    assert recommendation.action is row.action, recommendation.text

    check = check_decision(recommendation, row.state, track)

    assert check.needed is row.needed
    assert needs_decision(recommendation, row.state, track) is row.needed
    assert row.reason in check.reason
    assert (check.reason == "") is row.needed


def test_replacing_after_a_severe_event_without_dlt_call_asks_the_committee() -> None:
    track = scenario("L1:N L2:N L3:N,X,N")
    subjects = list(track.subjects)
    left = subjects[3]
    severe = AdverseEvent(left.doses[0].given_on + timedelta(days=2), 3, True, term="Colitis")
    subjects[3] = replace(left, adverse_events=(severe,))
    recommendation = recommend(DesignSettings(), replace(track, subjects=tuple(subjects)), TODAY)
    assert recommendation.action is Action.REPLACE
    assert recommendation.subjects_to_replace == (left.number,)
    assert needs_decision(recommendation, state(), replace(track, subjects=tuple(subjects)))
    assert not needs_decision(recommendation, state(), track)


def test_same_decision_whatever_the_evidence_wording() -> None:
    # The DLT's grade corrected 3 -> 4 changes the text (the trigger's description), not what
    # is decided: enroll 2 more at 0.01 mg/kg Q3W.
    track = scenario("L1:T")
    subject = track.subjects[0]
    corrected = replace(subject.adverse_events[0], grade=4)
    track4 = replace(track, subjects=(replace(subject, adverse_events=(corrected,)),))
    first = recommend(DesignSettings(), track, TODAY)
    second = recommend(DesignSettings(), track4, TODAY)
    assert first.text != second.text
    assert decision_key(first) == decision_key(second)


@pytest.mark.parametrize(
    ("spec_a", "spec_b"),
    [
        pytest.param("L1:N L2:N L3:N,T,N", "L1:N L2:N L3:N,T", id="enroll-3-vs-replace"),
        pytest.param("L1:N", "L1:N L2:N", id="escalate-L2-vs-L3"),
        pytest.param("L1:T", "L1:T,N", id="enroll-2-vs-1"),
        pytest.param(MTD_AT_L3, MAD_AT_L6, id="mtd-vs-mad"),
    ],
)
def test_different_decisions_have_different_keys(spec_a: str, spec_b: str) -> None:
    a = recommend(DesignSettings(), scenario(spec_a), TODAY)
    b = recommend(DesignSettings(), scenario(spec_b), TODAY)
    assert decision_key(a) != decision_key(b)
