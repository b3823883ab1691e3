"""Scenario table for the escalation core (docs/escalation.md §3-§6, its worked examples included).

Notation as in docs/escalation.md, extended: see notation.py in this folder, which reads it for
these tables and test_rules_review.py alike.

An expansion case may also give `escalation`: the subjects treated at the expansion's dose and
regimen on escalation, in the same notation, numbered 201-001, 201-002, ...
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import pytest

from escalation.rules import (
    RULES_VERSION,
    Action,
    DesignSettings,
    Dose,
    DoseLevel,
    Flag,
    Phase,
    ReferenceTrack,
    Rule,
    Subject,
    Track,
    cleared_levels,
    recommend,
)
from tests.unit.escalation import notation

TODAY, LONG_AGO, MIL97_LEVELS = notation.TODAY, notation.LONG_AGO, notation.MIL97_LEVELS
# The committee's intermediate dose between L3 and L4 (docs/escalation.md §7: overrides such as this).
WITH_INTERMEDIATE = (*MIL97_LEVELS[:3], DoseLevel(35, "0.15 mg/kg"), *MIL97_LEVELS[3:])

Q3W = {"regimen": "Q3W", "dlt_window_days": 21, "planned_infusion_days": (1,), "titration": True}
Q2W = {
    "regimen": "Q2W",
    "dlt_window_days": 28,
    "planned_infusion_days": (1, 15),
    "titration": False,
    "dose_levels": (MIL97_LEVELS[2], MIL97_LEVELS[3]),  # levels cleared on Q3W
}
EXPANSION = {
    "regimen": "Q3W",
    "dlt_window_days": 21,
    "planned_infusion_days": (1,),
    "phase": Phase.EXPANSION,
    "dose_levels": (MIL97_LEVELS[2],),
}


def scenario(spec: str, escalation: str = "", **track_fields) -> Track:
    """Build a track from the notation above; track_fields override the Q3W defaults."""
    fields = {"name": "scenario", "dose_levels": MIL97_LEVELS, **Q3W, **track_fields}
    days = fields["planned_infusion_days"]
    return Track(
        subjects=notation.subjects(spec, "101", days),
        escalation_subjects=notation.subjects(escalation, "201", days),
        **fields,
    )


@dataclass(frozen=True)
class Case:
    id: str
    spec: str
    action: Action
    rule: Rule
    level: int | None = None
    n: int = 0
    text: str = ""
    replace: tuple[str, ...] = ()
    pending: tuple[str, ...] = ()
    mtd: int | None = None
    mad: int | None = None
    exceeded: int | None = None
    flags: tuple[Flag, ...] = ()
    settings: dict = field(default_factory=dict)
    track: dict = field(default_factory=dict)
    escalation: str = ""  # expansion only: the subjects treated at its dose on escalation


# Levels with their amounts (mg/kg), for dose-intensity comparisons across regimens.
WITH_AMOUNTS = tuple(
    DoseLevel(level.number, level.label, float(level.label.split()[0])) for level in MIL97_LEVELS
)
Q3W_CLEARED_TO_L3 = WITH_AMOUNTS[:3]


def q2w_after_q3w(
    cleared: tuple[DoseLevel, ...], *, exceeded: tuple[DoseLevel, ...] = (), final: bool = False
) -> dict:
    """A Q2W track over L3-L5 bound to what Q3W clears (docs/escalation.md §5)."""
    return {
        **Q2W,
        "dose_levels": WITH_AMOUNTS[2:5],
        "interval_days": 14,
        "reference": ReferenceTrack(
            name="Q3W escalation",
            regimen="Q3W",
            interval_days=21,
            cleared=cleared,
            exceeded=exceeded,
            final=final,
        ),
    }


# Domain review D-4: 0.3 mg/kg Q3W exceeded (0.1 mg/kg/week); 0.2 mg/kg Q3W back to "fill to 6",
# so Q3W clears 0.01, 0.03 and 0.1 mg/kg only; 0.2 mg/kg Q2W is also 0.1 mg/kg/week.
D4_REFERENCE = q2w_after_q3w(Q3W_CLEARED_TO_L3, exceeded=(WITH_AMOUNTS[4],))
INTENSITY = Flag.DOSE_INTENSITY_AT_EXCEEDED
NOT_CLEARED = Flag.LEVEL_NOT_CLEARED_ON_REFERENCE
STRICT_LAST_DAY = {"end_of_treatment_on_last_window_day": "not_evaluable"}
DECLARE_AT_3 = {"top_dose_rule": "declare_at_3"}
NOT_COUNTING = {"expansion_counts_escalation_subjects": False}

SIMPLE = {"exceeded_variant": "simple"}
NO_TITRATION = {"titration": False}
CLEARED_TO_L3 = "L1:N L2:N L3:N,N,N"

# fmt: off
CASES = [
    # --- start and accelerated titration (Simon 1997; docs/escalation.md §3) ---
    Case("start-titration-one-subject", "", Action.ENROLL, Rule.START, level=1, n=1,
         text="start at 0.01 mg/kg Q3W: open a cohort of 1"),
    Case("start-without-titration-three", "", Action.ENROLL, Rule.START, level=1, n=3,
         track=NO_TITRATION),
    Case("domain-L1N-escalate-L2-one-subject", "L1:N", Action.ESCALATE, Rule.TITRATION_ESCALATE,
         level=2, n=1, text="escalate to 0.03 mg/kg Q3W: open a cohort of 1"),
    Case("domain-L1N-L2N-L3-cohort-of-3", "L1:N L2:N", Action.ESCALATE, Rule.TITRATION_OVER,
         level=3, n=3, text="escalate to 0.1 mg/kg Q3W: open a cohort of 3"),
    Case("titration-subject-pending-wait", "L1:P", Action.WAIT, Rule.WAIT_PENDING, level=1,
         text="wait: 1 subject pending until 2026-03-16", pending=("101-001",)),
    Case("titration-subject-not-evaluable-replace", "L1:X", Action.REPLACE,
         Rule.REPLACE_NOT_EVALUABLE, level=1, n=1,
         text="replace subject 101-001 at 0.01 mg/kg Q3W", replace=("101-001",)),
    Case("titration-replaced-subject-place-empty-enroll", "L1:x", Action.ENROLL,
         Rule.TITRATION_ENROLL, level=1, n=1),
    Case("titration-under-dosed-replace", "L1:N L2:U", Action.REPLACE, Rule.REPLACE_NOT_EVALUABLE,
         level=2, n=1, text="under-dosed", replace=("101-002",)),
    Case("titration-dlt-trigger-L1-two-more", "L1:T", Action.ENROLL, Rule.TITRATION_TRIGGERED,
         level=1, n=2, text="enroll 2 more at 0.01 mg/kg Q3W"),
    Case("titration-related-g2-trigger-L2-two-more", "L1:N L2:G", Action.ENROLL,
         Rule.TITRATION_TRIGGERED, level=2, n=2, text="related grade >= 2 AE in subject 101-002"),
    Case("titration-trigger-while-pending-two-more", "L1:N L2:R", Action.ENROLL,
         Rule.TITRATION_TRIGGERED, level=2, n=2, pending=("101-002",)),
    Case("titration-unrelated-g2-no-trigger", "L1:g L2:g", Action.ESCALATE, Rule.TITRATION_OVER,
         level=3, n=3),
    Case("titration-dlt-only-g2-no-trigger", "L1:G L2:G", Action.ESCALATE, Rule.TITRATION_OVER,
         level=3, n=3, settings={"titration_trigger": "dlt_only"}),
    Case("titration-dlt-only-dlt-triggers", "L1:N L2:T", Action.ENROLL, Rule.TITRATION_TRIGGERED,
         level=2, n=2, settings={"titration_trigger": "dlt_only"}),
    Case("titration-second-g2-first-event-continues", "L1:G", Action.ESCALATE,
         Rule.TITRATION_ESCALATE, level=2, n=1,
         settings={"titration_trigger": "second_related_grade2"}),
    Case("titration-second-g2-second-event-triggers", "L1:G L2:G", Action.ENROLL,
         Rule.TITRATION_TRIGGERED, level=2, n=2, text="101-001",
         settings={"titration_trigger": "second_related_grade2"}),
    Case("titration-second-g2-dlt-triggers-at-once", "L1:T", Action.ENROLL,
         Rule.TITRATION_TRIGGERED, level=1, n=2,
         settings={"titration_trigger": "second_related_grade2"}),
    Case("titration-trigger-level-0of3-escalate", "L1:N L2:G,N,N", Action.ESCALATE,
         Rule.ESCALATE_AFTER_3, level=3, n=3),
    Case("titration-trigger-level-1of3-add-3", "L1:N L2:T,N,N", Action.ENROLL, Rule.ADD_THREE,
         level=2, n=3),
    Case("titration-trigger-L1-next-level-opens-with-3", "L1:G,N,N", Action.ESCALATE,
         Rule.ESCALATE_AFTER_3, level=2, n=3, text="escalate to 0.03 mg/kg Q3W: open a cohort of 3"),
    # --- 3+3 worked examples of docs/escalation.md §4 ---
    Case("domain-L3-NTN-add-3", "L1:N L2:N L3:N,T,N", Action.ENROLL, Rule.ADD_THREE, level=3, n=3,
         text="enroll 3 more at 0.1 mg/kg Q3W"),
    Case("domain-L3-1of6-escalate-L4", "L1:N L2:N L3:N,T,N,N,N,N", Action.ESCALATE,
         Rule.ESCALATE_AFTER_6, level=4, n=3,
         text="escalate to 0.2 mg/kg Q3W: open a cohort of 3"),
    Case("domain-L4-exceeded-expand-lower-fill-L3", f"{CLEARED_TO_L3} L4:T,N,N,N,T,N",
         Action.ENROLL, Rule.EXPAND_LOWER_FILL, level=3, n=3,
         text="fill 0.1 mg/kg Q3W to 6: enroll 3 more", exceeded=4),
    Case("domain-L4-exceeded-simple-MTD-L3", f"{CLEARED_TO_L3} L4:T,N,N,N,T,N", Action.DECLARE_MTD,
         Rule.SIMPLE_MTD, level=3, text="MTD = 0.1 mg/kg Q3W", mtd=3, exceeded=4,
         flags=(Flag.MTD_ON_FEWER_THAN_6,), settings=SIMPLE),
    Case("domain-L3-NPN-wait", "L1:N L2:N L3:N,P,N", Action.WAIT, Rule.WAIT_PENDING, level=3,
         text="wait: 1 subject pending until 2026-03-16", pending=("101-004",)),
    Case("domain-L3-NXN-replace", "L1:N L2:N L3:N,X,N", Action.REPLACE, Rule.REPLACE_NOT_EVALUABLE,
         level=3, n=1, text="replace subject 101-004", replace=("101-004",)),
    # --- 3+3 other branches ---
    Case("3+3-0of3-escalate", CLEARED_TO_L3, Action.ESCALATE, Rule.ESCALATE_AFTER_3, level=4, n=3),
    Case("3+3-1of3-with-one-pending-wait", "L1:N L2:N L3:T,N,P", Action.WAIT, Rule.WAIT_PENDING,
         level=3, pending=("101-005",)),
    Case("3+3-1of2-replace-not-evaluable", "L1:N L2:N L3:N,T,X", Action.REPLACE,
         Rule.REPLACE_NOT_EVALUABLE, level=3, n=1, replace=("101-005",)),
    Case("3+3-1of3-add-3-one-place-replaces", "L1:N L2:N L3:N,T,X,N", Action.ENROLL,
         Rule.ADD_THREE, level=3, n=3, replace=("101-005",)),
    Case("3+3-replaced-subject-not-replaced-again", "L1:N L2:N L3:N,x,N,N", Action.ESCALATE,
         Rule.ESCALATE_AFTER_3, level=4, n=3),
    Case("3+3-awaiting-first-dose-wait", "L1:N L2:N L3:N,N,D", Action.WAIT, Rule.WAIT_PENDING,
         level=3, text="awaiting first dose", pending=("101-005",)),
    Case("3+3-cohort-short-enroll", "L1:N L2:N L3:N", Action.ENROLL, Rule.COHORT_INCOMPLETE,
         level=3, n=2),
    Case("curtailment-second-dlt-expand-lower", f"{CLEARED_TO_L3} L4:t,t,P", Action.ENROLL,
         Rule.EXPAND_LOWER_FILL, level=3, n=3, exceeded=4, flags=(Flag.CURTAILED,)),
    Case("curtailment-second-dlt-simple-MTD", f"{CLEARED_TO_L3} L4:t,P,t", Action.DECLARE_MTD,
         Rule.SIMPLE_MTD, level=3, mtd=3, exceeded=4,
         flags=(Flag.CURTAILED, Flag.MTD_ON_FEWER_THAN_6), settings=SIMPLE),
    Case("expand-lower-fill-pending-wait", "L1:N L2:N L3:N,N,N,P,P,P L4:T,T,N", Action.WAIT,
         Rule.WAIT_PENDING, level=3, pending=("101-006", "101-007", "101-008"), exceeded=4),
    Case("expand-lower-L3-1of6-MTD", "L1:N L2:N L3:N,N,N,N,T,N L4:T,T,N", Action.DECLARE_MTD,
         Rule.MTD, level=3, text="MTD = 0.1 mg/kg Q3W", mtd=3, exceeded=4),
    Case("expand-lower-L3-2of6-fill-L2-from-titration", "L1:N L2:N L3:N,N,N,T,N,T L4:T,T,N",
         Action.ENROLL, Rule.EXPAND_LOWER_FILL, level=2, n=5,
         text="fill 0.03 mg/kg Q3W to 6: enroll 5 more", exceeded=3),
    Case("expand-lower-L3-exceeded-first-cohort-fill-L2", "L1:N L2:N L3:N,T,N,N,T,N",
         Action.ENROLL, Rule.EXPAND_LOWER_FILL, level=2, n=5, exceeded=3),
    Case("simple-MTD-with-6-is-plain-MTD", "L1:N L2:N L3:N,T,N,N,N,N L4:T,T,N", Action.DECLARE_MTD,
         Rule.MTD, level=3, mtd=3, exceeded=4, settings=SIMPLE),
    Case("simple-MTD-on-single-titration-subject", "L1:N L2:N L3:T,T,N", Action.DECLARE_MTD,
         Rule.SIMPLE_MTD, level=2, text="rests on 1 evaluable subject, fewer than 6", mtd=2,
         exceeded=3, flags=(Flag.MTD_ON_FEWER_THAN_6,), settings=SIMPLE),
    Case("level-1-exceeded-stop", "L1:T,T,N", Action.STOP, Rule.STOP_FIRST_LEVEL, level=1,
         text="stop: 0.01 mg/kg Q3W exceeded", exceeded=1),
    Case("level-1-exceeded-curtailed-stop", "L1:t,t,P", Action.STOP, Rule.STOP_FIRST_LEVEL,
         level=1, exceeded=1, flags=(Flag.CURTAILED,), track=NO_TITRATION),
    Case("expand-lower-down-to-level-1-exceeded-stop", "L1:N,N,T,N,T,N L2:T,T,N", Action.STOP,
         Rule.STOP_FIRST_LEVEL, level=1, exceeded=1),
    # --- top dose (top_dose_rule; default fill_to_6) ---
    Case("top-dose-0of3-fill-to-6", f"{CLEARED_TO_L3} L4:N,N,N L5:N,N,N L6:N,N,N", Action.ENROLL,
         Rule.TOP_DOSE_FILL, level=6, n=3, text="fill 0.45 mg/kg Q3W to 6: enroll 3 more"),
    Case("top-dose-0of3-fill-pending-wait",
         f"{CLEARED_TO_L3} L4:N,N,N L5:N,N,N L6:N,N,N,P,P,P", Action.WAIT, Rule.WAIT_PENDING,
         level=6, pending=("101-015", "101-016", "101-017")),
    Case("top-dose-0of6-MAD", f"{CLEARED_TO_L3} L4:N,N,N L5:N,N,N L6:N,N,N,N,N,N",
         Action.MAD_REACHED, Rule.MAD, level=6, text="MAD 0.45 mg/kg Q3W reached", mad=6),
    Case("top-dose-2of6-after-fill-exceeded", f"{CLEARED_TO_L3} L4:N,N,N L5:N,N,N L6:N,N,N,T,N,T",
         Action.ENROLL, Rule.EXPAND_LOWER_FILL, level=5, n=3, exceeded=6),
    Case("top-dose-0of3-MAD-declare-at-3", f"{CLEARED_TO_L3} L4:N,N,N L5:N,N,N L6:N,N,N",
         Action.MAD_REACHED, Rule.MAD, level=6, text="MAD 0.45 mg/kg Q3W reached", mad=6,
         settings=DECLARE_AT_3),
    Case("top-dose-1of6-MAD", f"{CLEARED_TO_L3} L4:N,N,N L5:N,N,N L6:N,T,N,N,N,N",
         Action.MAD_REACHED, Rule.MAD, level=6, mad=6),
    Case("top-dose-1of3-add-3", f"{CLEARED_TO_L3} L4:N,N,N L5:N,N,N L6:N,T,N", Action.ENROLL,
         Rule.ADD_THREE, level=6, n=3),
    Case("late-dlt-below-settles-lower-level-first", "L1:N L2:N L3:N,T,N L4:N,N,N", Action.ENROLL,
         Rule.ADD_THREE, level=3, n=3, flags=(Flag.SUBJECTS_ABOVE,)),
    Case("committee-intermediate-dose-MTD", f"{CLEARED_TO_L3} L35:N,N,N,T,N,N L4:T,T",
         Action.DECLARE_MTD, Rule.MTD, level=35, text="MTD = 0.15 mg/kg Q3W", mtd=35, exceeded=4,
         track={"dose_levels": WITH_INTERMEDIATE}),
    Case("titration-late-trigger-at-L1-settles-L1-first", "L1:G L2:N", Action.ENROLL,
         Rule.TITRATION_TRIGGERED, level=1, n=2, flags=(Flag.SUBJECTS_ABOVE,)),
    Case("committee-de-escalation-wait-at-lower-level", "L1:N L2:N L3:N,N,N L4:N,T,N L3:P,P,P",
         Action.WAIT, Rule.WAIT_PENDING, level=3, pending=("101-009", "101-010", "101-011"),
         flags=(Flag.SUBJECTS_ABOVE,)),
    Case("committee-de-escalation-then-back-up-add-3", "L1:N L2:N L3:N,N,N L4:N,T,N L3:N,N,N",
         Action.ENROLL, Rule.ADD_THREE, level=4, n=3),
    # --- Q2W track: own 3+3 state, 28-day window, two infusions, no titration (docs/escalation.md §5) ---
    Case("q2w-start-cohort-of-3-at-lowest-allowed", "", Action.ENROLL, Rule.START, level=3, n=3,
         text="start at 0.1 mg/kg Q2W: open a cohort of 3", track=Q2W),
    Case("q2w-0of3-escalate", "L3:N,N,N", Action.ESCALATE, Rule.ESCALATE_AFTER_3, level=4, n=3,
         text="escalate to 0.2 mg/kg Q2W", track=Q2W),
    Case("q2w-top-allowed-level-fill-to-6", "L3:N,N,N L4:N,N,N", Action.ENROLL,
         Rule.TOP_DOSE_FILL, level=4, n=3, track=Q2W),
    Case("q2w-top-allowed-level-MAD-declare-at-3", "L3:N,N,N L4:N,N,N", Action.MAD_REACHED,
         Rule.MAD, level=4, mad=4, track=Q2W, settings=DECLARE_AT_3),
    # --- Q2W bound to what Q3W clears on the day (domain review D-4) ---
    Case("q2w-next-level-not-cleared-on-q3w-now-wait", "L3:N,N,N", Action.WAIT,
         Rule.WAIT_REFERENCE, level=3,
         text="escalation to 0.2 mg/kg Q2W is not recommended: Q3W escalation does not clear "
              "0.2 mg/kg now", flags=(INTENSITY,), track=D4_REFERENCE),
    Case("q2w-escalates-once-q3w-clears-the-next-level", "L3:N,N,N", Action.ESCALATE,
         Rule.ESCALATE_AFTER_3, level=4, n=3, text="escalate to 0.2 mg/kg Q2W",
         track=q2w_after_q3w(WITH_AMOUNTS[:4])),
    Case("q2w-reference-ended-ceiling-is-the-top-fill-to-6", "L3:N,N,N", Action.ENROLL,
         Rule.TOP_DOSE_FILL, level=3, n=3, track=q2w_after_q3w(Q3W_CLEARED_TO_L3, final=True)),
    Case("q2w-reference-ended-ceiling-MAD", "L3:N,N,N,N,N,N", Action.MAD_REACHED, Rule.MAD,
         level=3, mad=3, text="as Q3W escalation has ended and cleared no higher dose",
         track=q2w_after_q3w(Q3W_CLEARED_TO_L3, final=True)),
    Case("q2w-level-opened-earlier-no-longer-cleared-flagged", "L3:N,N,N L4:N,P,P", Action.WAIT,
         Rule.WAIT_PENDING, level=4, pending=("101-005", "101-006"),
         flags=(INTENSITY, NOT_CLEARED), track=D4_REFERENCE),
    Case("q2w-intensity-below-exceeded-not-flagged", "L3:N,N,N", Action.WAIT, Rule.WAIT_REFERENCE,
         level=3, track=q2w_after_q3w(Q3W_CLEARED_TO_L3, exceeded=(WITH_AMOUNTS[5],))),
    # --- ending treatment on the window's last day (domain review D-8) ---
    Case("eot-on-last-window-day-evaluable", "L1:Z", Action.ESCALATE, Rule.TITRATION_ESCALATE,
         level=2, n=1),
    Case("eot-on-last-window-day-strict-replace", "L1:Z", Action.REPLACE,
         Rule.REPLACE_NOT_EVALUABLE, level=1, n=1, replace=("101-001",),
         settings=STRICT_LAST_DAY),
    Case("eot-on-last-window-day-3+3-escalate", "L1:N L2:N L3:N,Z,N", Action.ESCALATE,
         Rule.ESCALATE_AFTER_3, level=4, n=3),
    Case("q2w-missed-day15-infusion-replace", "L3:N,M,N", Action.REPLACE,
         Rule.REPLACE_NOT_EVALUABLE, level=3, n=1, replace=("101-002",), track=Q2W),
    Case("q2w-lowest-allowed-exceeded-stop", "L3:T,N,T", Action.STOP, Rule.STOP_FIRST_LEVEL,
         level=3, text="stop: 0.1 mg/kg Q2W exceeded", exceeded=3, track=Q2W),
    Case("q2w-pending-28-day-window", "L3:N,N,P", Action.WAIT, Rule.WAIT_PENDING, level=3,
         text="pending until 2026-03-23", pending=("101-003",), track=Q2W),
    # --- expansion cohorts (docs/escalation.md §6) ---
    Case("expansion-enroll-to-10", "L3:N,N,P", Action.ENROLL, Rule.EXPANSION_ENROLL, level=3, n=7,
         pending=("101-003",), track=EXPANSION),
    Case("expansion-pause-at-boundary", "L3:T,t,T,P", Action.PAUSE_EXPANSION, Rule.EXPANSION_PAUSE,
         level=3, text="pause expansion: safety boundary reached", pending=("101-004",),
         track=EXPANSION),
    Case("expansion-replace-not-evaluable", "L3:N,N,N,N,N,N,N,N,N,X", Action.REPLACE,
         Rule.REPLACE_NOT_EVALUABLE, level=3, n=1, replace=("101-010",), track=EXPANSION),
    Case("expansion-fully-enrolled-wait", "L3:N,N,N,N,N,N,N,N,N,P", Action.WAIT,
         Rule.EXPANSION_WAIT, level=3, pending=("101-010",), track=EXPANSION),
    Case("expansion-complete-10-evaluable", "L3:N,T,N,N,N,N,T,N,N,N", Action.EXPANSION_COMPLETE,
         Rule.EXPANSION_COMPLETE, level=3, text="complete: 10 evaluable", track=EXPANSION,
         settings=NOT_COUNTING),
    # --- expansion "to total of 10" counts the escalation subjects (domain review D-3) ---
    Case("expansion-counts-the-6-treated-on-escalation", "", Action.ENROLL, Rule.EXPANSION_ENROLL,
         level=3, n=4, text="(6 of 10 in place, 6 of them treated on escalation) "
         "(1 DLT-type toxicities in 6 evaluated)", track=EXPANSION, escalation="L3:N,T,N,N,N,N"),
    Case("expansion-not-counting-escalation-enrolls-10", "", Action.ENROLL, Rule.EXPANSION_ENROLL,
         level=3, n=10, text="(0 DLT-type toxicities in 0 evaluated)", track=EXPANSION,
         escalation="L3:N,T,N,N,N,N", settings=NOT_COUNTING),
    Case("expansion-complete-at-10-with-escalation-subjects", "L3:N,N,N,N", Action.EXPANSION_COMPLETE,
         Rule.EXPANSION_COMPLETE, level=3, text="complete: 10 evaluable", track=EXPANSION,
         escalation="L3:N,T,N,N,N,N"),
    Case("expansion-boundary-counts-escalation-dlts", "L3:T,T", Action.PAUSE_EXPANSION,
         Rule.EXPANSION_PAUSE, level=3, text="(3 DLT-type toxicities in 4 evaluated; boundary >= 3)",
         track=EXPANSION, escalation="L3:N,T"),
    Case("expansion-boundary-without-escalation-dlts-continues", "L3:T,T", Action.ENROLL,
         Rule.EXPANSION_ENROLL, level=3, n=8, track=EXPANSION, escalation="L3:N,T",
         settings=NOT_COUNTING),
    Case("expansion-escalation-subject-pending-holds-a-place", "", Action.ENROLL,
         Rule.EXPANSION_ENROLL, level=3, n=7, pending=("201-003",), track=EXPANSION,
         escalation="L3:N,N,P"),
    Case("expansion-escalation-not-evaluable-neither-counted-nor-replaced", "", Action.ENROLL,
         Rule.EXPANSION_ENROLL, level=3, n=8, track=EXPANSION, escalation="L3:N,X,N"),
]
# fmt: on


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_scenario(case: Case) -> None:
    settings = DesignSettings(**case.settings)
    track = scenario(case.spec, case.escalation, **case.track)

    result = recommend(settings, track, TODAY)

    assert (result.action, result.rule) == (case.action, case.rule), result.text
    assert (result.dose_level.number if result.dose_level else None) == case.level
    assert result.n_subjects == case.n
    assert case.text in result.text
    assert result.subjects_to_replace == case.replace
    assert result.pending_subjects == case.pending
    assert (result.mtd_level.number if result.mtd_level else None) == case.mtd
    assert (result.mad_level.number if result.mad_level else None) == case.mad
    assert (result.exceeded_level.number if result.exceeded_level else None) == case.exceeded
    assert result.flags == case.flags
    assert result.rules_version == RULES_VERSION
    assert result.evaluated_on == TODAY


def test_scenario_table_covers_every_rule() -> None:
    # Every branch of the core is named by a Rule; each one must appear in the table.
    used = {case.rule for case in CASES}
    missing = set(Rule) - used
    assert not missing, f"rules without a scenario: {sorted(missing)}"


def test_scenario_ids_are_unique() -> None:
    ids = [case.id for case in CASES]
    assert len(ids) == len(set(ids))


def test_recommendation_is_pure() -> None:
    track = scenario("L1:N L2:N L3:N,T,N,N,P")
    settings = DesignSettings()
    assert recommend(settings, track, TODAY) == recommend(settings, track, TODAY)


def test_wait_reports_until_when_and_when_to_look_again() -> None:
    # Two subjects pending at L3 with different window ends: wait until the later one, but
    # re-evaluate the day after the earlier one (the sweep's date).
    track = scenario("L1:N L2:N L3:N")
    earlier = Subject("101-010", 3, doses=(Dose(TODAY - timedelta(days=10)),))
    later = Subject("101-011", 3, doses=(Dose(TODAY - timedelta(days=2)),))
    track = Track(
        name=track.name,
        regimen="Q3W",
        dlt_window_days=21,
        planned_infusion_days=(1,),
        dose_levels=MIL97_LEVELS,
        titration=True,
        subjects=(*track.subjects, earlier, later),
    )

    result = recommend(DesignSettings(), track, TODAY)

    assert result.action is Action.WAIT
    assert result.wait_until == date(2026, 3, 19)  # (TODAY - 2) + 20 days, inclusive
    assert result.reevaluate_on == date(2026, 3, 12)  # (TODAY - 10) + 20 days, + 1
    assert "2 subjects pending until 2026-03-19" in result.text


def test_titration_trigger_is_reported_with_subject_event_and_setting() -> None:
    result = recommend(DesignSettings(), scenario("L1:N L2:G"), TODAY)

    trigger = result.titration_trigger
    assert trigger is not None
    assert trigger.setting == "dlt_or_related_grade2"
    assert trigger.dose_level.number == 2
    assert [(e.subject_number, e.kind) for e in trigger.events] == [
        ("101-002", "related grade >= 2 AE")
    ]
    assert trigger.events[0].event.grade == 2


def test_second_related_grade2_reports_both_events() -> None:
    settings = DesignSettings(titration_trigger="second_related_grade2")
    result = recommend(settings, scenario("L1:G L2:G"), TODAY)

    assert [e.subject_number for e in result.titration_trigger.events] == ["101-001", "101-002"]
    assert result.titration_trigger.dose_level.number == 2


def test_no_trigger_reported_when_titration_passes() -> None:
    result = recommend(DesignSettings(), scenario("L1:N L2:N"), TODAY)
    assert result.titration_trigger is None


def test_level_summaries_count_what_the_rules_count() -> None:
    result = recommend(DesignSettings(), scenario("L1:N L2:N L3:N,T,X,N,P"), TODAY)

    l3 = result.levels[2]
    assert (l3.enrolled, l3.evaluable, l3.dlts) == (5, 3, 1)
    assert [s.subject_number for s in l3.awaiting] == ["101-007"]
    assert [s.subject_number for s in l3.replacement_candidates] == ["101-005"]
    assert [level.mode.value for level in result.levels[:3]] == ["titration", "titration", "3+3"]
    assert len(result.subjects) == 7


def test_q2w_dlts_never_pooled_with_q3w() -> None:
    # The same dose level has 0/3 on Q3W and 2 DLTs on Q2W: each track decides on its own.
    q3w = scenario("L1:N L2:N L3:N,N,N")
    q2w = scenario("L3:T,T,N", **Q2W)

    assert recommend(DesignSettings(), q3w, TODAY).action is Action.ESCALATE
    assert recommend(DesignSettings(), q2w, TODAY).action is Action.STOP


def test_q2w_ignores_titration_levels_setting() -> None:
    # No titration on Q2W: its first level opens with 3 whatever titration_levels says.
    result = recommend(DesignSettings(titration_levels=6), scenario("", **Q2W), TODAY)
    assert (result.action, result.n_subjects) == (Action.ENROLL, 3)


def test_top_level_never_decided_on_a_single_titration_subject() -> None:
    # A two-level track with two titration levels: the top level needs a cohort of 3 for a MAD.
    levels = MIL97_LEVELS[:2]
    escalate = recommend(DesignSettings(), scenario("L1:N", dose_levels=levels), TODAY)
    enroll_more = recommend(DesignSettings(), scenario("L1:N L2:N", dose_levels=levels), TODAY)

    assert (escalate.action, escalate.n_subjects) == (Action.ESCALATE, 3)
    assert (enroll_more.action, enroll_more.n_subjects) == (Action.ENROLL, 2)


@pytest.mark.parametrize(
    ("spec", "settings", "cleared"),
    [
        pytest.param("", {}, [], id="nothing-yet"),
        pytest.param("L1:N L2:N L3:N,T,N", {}, [1, 2], id="L3-1of3-not-cleared"),
        pytest.param("L1:N L2:N L3:N,N,N L4:P,P,P", {}, [1, 2, 3], id="L4-pending"),
        pytest.param("L1:N L2:N L3:N,N,N L4:T,T,N", {}, [1, 2], id="expand-lower-L3-needs-6"),
        pytest.param("L1:N L2:N L3:N,N,N L4:T,T,N", SIMPLE, [1, 2, 3], id="simple-L3-as-is"),
        pytest.param("L1:N L2:N L3:N,N,N,N,T,N L4:T,T,N", {}, [1, 2, 3], id="L3-1of6-below-L4"),
    ],
)
def test_cleared_levels_offered_to_q2w(spec: str, settings: dict, cleared: list[int]) -> None:
    levels = cleared_levels(DesignSettings(**settings), scenario(spec), TODAY)
    assert [level.number for level in levels] == cleared
