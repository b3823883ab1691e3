"""The calendar-time simulator (TITE-BOIN, CRM, TITE-CRM, BOIN waiting for outcomes): it calls
the live decision functions; these tests replay its histories, check determinism, the standard
errors and the expected direction of the time-to-event designs (shorter trials)."""

from __future__ import annotations

import math

from escalation.rules.designs import Action, BoinSettings, DesignFacts, TrialSettings
from escalation.rules.designs.crm import CrmSettings, crm_decide, getprior
from escalation.rules.designs.isotonic import NO_MTD
from escalation.rules.designs.simulate import Scenario, Timing, simulate, simulate_trials
from escalation.rules.designs.tite_boin import TiteBoinSettings

SCENARIO = Scenario((0.05, 0.15, 0.3, 0.45, 0.6))
BOIN = BoinSettings(trial=TrialSettings(target=0.3, max_subjects=24))
TIMING = Timing(accrual_per_window=3.0)


def test_tite_boin_is_faster_than_waiting_and_as_accurate() -> None:
    tite = simulate(TiteBoinSettings(boin=BOIN), SCENARIO, n_trials=400, seed=2, timing=TIMING)
    wait = simulate(BOIN, SCENARIO, n_trials=400, seed=2, timing=TIMING)
    assert tite.duration is not None and wait.duration is not None
    assert tite.duration.value < wait.duration.value - 4 * math.hypot(
        tite.duration.se, wait.duration.se
    )
    assert abs(tite.pcs.value - wait.pcs.value) < 4 * math.hypot(tite.pcs.se, wait.pcs.se) + 5
    assert tite.total_patients.value == 24


def test_crm_histories_replay_through_crm_decide() -> None:
    settings = CrmSettings(skeleton=getprior(0.05, 0.3, 3, 5), target=0.3, stop_at_n=18)
    records = simulate_trials(settings, SCENARIO, n_trials=60, seed=4, keep_history=60)
    for trial, history in enumerate(records.history):
        n, y, current, last = [0] * 5, [0] * 5, 0, None
        for dose, size, dlts in history:
            decision = crm_decide(settings, DesignFacts.from_counts(n, y, current, last))
            assert decision.dose == dose and decision.cohort_size == size
            n[dose] += size
            y[dose] += dlts
            current, last = dose, (size, dlts)
        final = crm_decide(settings, DesignFacts.from_counts(n, y, current, last))
        assert final.action is Action.SELECT_MTD
        assert final.mtd == int(records.selected[trial])


def test_crm_oc_are_sensible_and_reproducible() -> None:
    settings = CrmSettings(skeleton=getprior(0.05, 0.3, 3, 5), target=0.3, stop_at_n=24)
    a = simulate(settings, SCENARIO, n_trials=300, seed=8)
    b = simulate(settings, SCENARIO, n_trials=300, seed=8)
    assert a == b
    assert a.pcs.value > 40  # the dose at the target is selected most often
    assert max(range(5), key=lambda d: a.selection[d].value) == 2
    p = a.pcs.value / 100
    assert math.isclose(a.pcs.se, 100 * math.sqrt(p * (1 - p) / 300))


def test_early_stop_when_every_dose_is_too_toxic() -> None:
    toxic = Scenario((0.6, 0.7, 0.8, 0.85, 0.9))
    oc = simulate(BOIN, toxic, n_trials=300, seed=1)
    assert oc.early_stop.value > 80 and oc.no_mtd.value >= oc.early_stop.value
    records = simulate_trials(BOIN, toxic, n_trials=50, seed=1)
    assert (records.selected[records.early_stop] == NO_MTD).all()
