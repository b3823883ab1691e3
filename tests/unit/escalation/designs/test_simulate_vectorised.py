"""The vectorised TITE-BOIN and CRM engines give the very trials of the one-at-a-time engine,
which calls the live decisions (`tite_boin_decide`, `crm_decide`) at every step
(docs/designs.md §10.1)."""

from __future__ import annotations

import numpy as np
import pytest

from escalation.rules.designs import BoinSettings, TrialSettings
from escalation.rules.designs.crm import CrmModel, CrmSettings, TooToxic, getprior
from escalation.rules.designs.simulate import Accrual, Scenario, Timing, simulate_trials
from escalation.rules.designs.tite_boin import TiteBoinSettings

CASES = [
    ((0.05, 0.15, 0.3, 0.45, 0.6), {}, Timing(accrual_per_window=2)),
    ((0.3, 0.45, 0.6, 0.7, 0.8), {"extrasafe": True}, Timing(accrual_per_window=3)),
    ((0.02, 0.04, 0.06, 0.08, 0.1), {"n_earlystop": 12}, Timing(accrual_per_window=1)),
    (
        (0.1, 0.2, 0.25, 0.4),
        {"target": 0.25, "cohort_size": 2, "max_subjects": 24},
        Timing(accrual_per_window=4, accrual=Accrual.FIXED, dlt_onset=(0.5, 1.0)),
    ),
]


@pytest.mark.parametrize(("true_dlt", "trial", "timing"), CASES)
def test_vectorised_tite_boin_equals_the_live_decision_trial_by_trial(true_dlt, trial, timing):
    values = {"target": 0.3, "max_subjects": 30, **trial}
    settings = TiteBoinSettings(boin=BoinSettings(trial=TrialSettings(**values)))
    fast = simulate_trials(settings, Scenario(true_dlt), n_trials=300, seed=17, timing=timing)
    slow = simulate_trials(
        settings, Scenario(true_dlt), n_trials=300, seed=17, timing=timing, vectorised=False
    )
    assert np.array_equal(fast.n, slow.n)
    assert np.array_equal(fast.y, slow.y)
    assert np.array_equal(fast.selected, slow.selected)
    assert np.array_equal(fast.early_stop, slow.early_stop)
    assert fast.duration is not None and slow.duration is not None
    assert np.allclose(fast.duration, slow.duration, rtol=0, atol=1e-9)
    # Not a degenerate scenario: trials differ, some stop or select different doses.
    assert len(set(fast.selected.tolist())) > 1


CRM_CASES = [
    ((0.05, 0.15, 0.3, 0.45, 0.6), {}),
    ((0.3, 0.45, 0.6, 0.7, 0.8), {"stop_when_too_toxic": TooToxic(0, 0.3, 0.9)}),
    ((0.02, 0.04, 0.06, 0.08, 0.1), {"stop_when_n_at_dose": 9}),
    ((0.1, 0.2, 0.3, 0.5, 0.6), {"restrict": False, "model": CrmModel.LOGISTIC}),
]


@pytest.mark.parametrize(("true_dlt", "extra"), CRM_CASES)
def test_vectorised_crm_equals_the_live_decision_trial_by_trial(true_dlt, extra):
    model = extra.get("model", CrmModel.EMPIRIC)
    skeleton = getprior(0.05, 0.3, 3, 5, model)
    settings = CrmSettings(skeleton=skeleton, target=0.3, stop_at_n=30, **extra)
    fast = simulate_trials(settings, Scenario(true_dlt), n_trials=200, seed=23)
    slow = simulate_trials(settings, Scenario(true_dlt), n_trials=200, seed=23, vectorised=False)
    assert np.array_equal(fast.n, slow.n)
    assert np.array_equal(fast.y, slow.y)
    assert np.array_equal(fast.selected, slow.selected)
    assert np.array_equal(fast.early_stop, slow.early_stop)
    assert fast.duration is not None and slow.duration is not None
    assert np.allclose(fast.duration, slow.duration, rtol=0, atol=1e-9)
    assert len(set(fast.selected.tolist())) > 1
