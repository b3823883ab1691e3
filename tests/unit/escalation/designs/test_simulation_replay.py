"""The simulator runs the live rules: simulated trials replayed step by step through the live
decision functions give the same doses, cohort sizes and final selection.

For the interval designs the simulator is vectorised over trials; it reads the decision table
built from the designs' `cell` functions, and this test shows that its trial-level rules equal
`decide_interval` on every step of 300 trials per setting (titration, n.earlystop, extra
safety, elimination and the MD Anderson option included). The calendar-time simulator calls the
live functions itself; its histories are replayed too (TITE-BOIN with all outcomes known is
BOIN). The 3+3 simulator is replayed through the project's escalation core.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from escalation.rules import Action as CoreAction
from escalation.rules import AdverseEvent, Dose, DoseLevel, Subject, Track, recommend
from escalation.rules import DesignSettings as CoreSettings
from escalation.rules.designs import (
    Action,
    BoinSettings,
    DesignFacts,
    I3plus3Settings,
    Mtpi2Settings,
    Titration,
    TrialSettings,
    decide_interval,
)
from escalation.rules.designs.interval import IntervalDesign
from escalation.rules.designs.isotonic import NO_MTD
from escalation.rules.designs.simulate import Scenario, simulate_trials
from escalation.rules.designs.three_plus_three import ThreePlusThreeSettings, Variant

SCENARIOS = [
    Scenario((0.05, 0.15, 0.3, 0.45, 0.6)),
    Scenario((0.35, 0.5, 0.6, 0.7, 0.8)),
    Scenario((0.01, 0.03, 0.05, 0.1, 0.25)),
]

DESIGNS: list[IntervalDesign] = [
    BoinSettings(trial=TrialSettings(target=0.3)),
    BoinSettings(trial=TrialSettings(target=0.25, n_earlystop=9, extrasafe=True)),
    BoinSettings(
        trial=TrialSettings(target=0.3, max_subjects=24, titration=Titration(2)),
        deescalate_at_2_of_6=True,
        bound_mtd=True,
    ),
    Mtpi2Settings(trial=TrialSettings(target=0.3, max_subjects=36, n_earlystop=12)),
    I3plus3Settings(trial=TrialSettings(target=0.25, titration=Titration(3))),
]


@pytest.mark.parametrize("design", DESIGNS, ids=[f"{d.name}-{i}" for i, d in enumerate(DESIGNS)])
@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: str(s.true_dlt[0]))
def test_vectorised_paths_equal_live_decisions(design: IntervalDesign, scenario: Scenario) -> None:
    records = simulate_trials(design, scenario, n_trials=300, seed=3, keep_history=300)
    k = len(scenario.true_dlt)
    cap = design.trial.max_subjects
    for trial, history in enumerate(records.history):
        n, y, current = [0] * k, [0] * k, 0
        for dose, size, dlts in history:
            decision = decide_interval(design, DesignFacts.from_counts(n, y, current))
            assert decision.dose == dose, (trial, history)
            assert min(decision.cohort_size, cap - sum(n)) == size, (trial, history)
            n[dose] += size
            y[dose] += dlts
            current = dose
        final = decide_interval(design, DesignFacts.from_counts(n, y, current))
        assert [*n] == records.n[trial].tolist()
        assert final.action in (Action.SELECT_MTD, Action.STOP), (trial, history, final)
        selected = final.mtd if final.action is Action.SELECT_MTD else None
        expected = int(records.selected[trial])
        assert selected == (None if expected == NO_MTD else expected), (trial, history)


def test_same_seed_same_result() -> None:
    design = DESIGNS[0]
    a = simulate_trials(design, SCENARIOS[0], n_trials=500, seed=9)
    b = simulate_trials(design, SCENARIOS[0], n_trials=500, seed=9)
    c = simulate_trials(design, SCENARIOS[0], n_trials=500, seed=10)
    assert (a.n == b.n).all() and (a.selected == b.selected).all()
    assert not ((a.n == c.n).all() and (a.selected == c.selected).all())


START = date(2025, 1, 6)


def _track(history: list[tuple[int, int, int]], levels: int) -> Track:
    subjects = []
    number = 0
    for step, (dose, size, dlts) in enumerate(history):
        for j in range(size):
            number += 1
            given = START + timedelta(weeks=4 * step, days=j)
            events = ()
            if j < dlts:
                events = (
                    AdverseEvent(
                        onset=given + timedelta(days=3),
                        grade=3,
                        related=True,
                        dlt_investigator=True,
                        term="DLT",
                    ),
                )
            subjects.append(
                Subject(
                    f"S{number:03d}",
                    dose_level=dose + 1,
                    doses=(Dose(given),),
                    adverse_events=events,
                )
            )
    return Track(
        name="sim",
        regimen="Q3W",
        dlt_window_days=21,
        planned_infusion_days=(1,),
        dose_levels=tuple(DoseLevel(i + 1, f"L{i + 1}") for i in range(levels)),
        subjects=tuple(subjects),
    )


@pytest.mark.parametrize(
    ("variant", "core_variant"), [(Variant.SIMPLE, "simple"), (Variant.EXPAND, "expand_lower")]
)
def test_three_plus_three_paths_equal_the_escalation_core(
    variant: Variant, core_variant: str
) -> None:
    # The core's top-dose rule differs by setting; the paths are compared up to the top dose.
    scenario = Scenario((0.1, 0.25, 0.4, 0.55, 0.7))
    records = simulate_trials(
        ThreePlusThreeSettings(variant), scenario, n_trials=150, seed=4, keep_history=150
    )
    core = CoreSettings(exceeded_variant=core_variant)
    today = START + timedelta(weeks=400)
    for trial, history in enumerate(records.history):
        for step in range(1, len(history) + 1):
            recommendation = recommend(core, _track(list(history[:step]), 5), today)
            if step < len(history):
                dose, size, _ = history[step]
                if recommendation.action is CoreAction.MAD_REACHED:
                    break  # the core's top-dose setting (see above)
                assert recommendation.dose_level is not None, (trial, history[:step])
                assert recommendation.dose_level.number == dose + 1, (trial, history[:step])
                assert recommendation.n_subjects == size, (trial, history[:step])
            else:
                expected = int(records.selected[trial])
                if expected == NO_MTD:
                    assert recommendation.action is CoreAction.STOP
                elif recommendation.action is CoreAction.DECLARE_MTD:
                    assert recommendation.mtd_level is not None
                    assert recommendation.mtd_level.number == expected + 1
                else:
                    assert recommendation.action is CoreAction.MAD_REACHED
                    assert recommendation.mad_level is not None
                    assert recommendation.mad_level.number == expected + 1
