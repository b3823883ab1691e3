"""Simulated operating characteristics against BOIN 2.7.2's get.oc, and the 3+3 against its
exact closed form.

reference/boin_get_oc.csv (boin_reference.R): get.oc's documented example (target 0.3,
p = 0.05/0.15/0.3/0.45/0.6, 20 cohorts of 3, 1000 trials, seed 6), then four scenarios run with
20,000 trials each. Each cell must agree within 2 standard errors of the difference between two
independent Monte-Carlo estimates (sqrt(SE_ours^2 + SE_R^2); the R SE from its own N).
"""

from __future__ import annotations

import math

import pytest

from escalation.rules.designs import BoinSettings, TrialSettings
from escalation.rules.designs.simulate import Scenario, simulate
from escalation.rules.designs.three_plus_three import (
    ThreePlusThreeSettings,
    Variant,
    exact_oc,
)

from .reference_data import floats, read_reference_csv

N_TRIALS = 20_000


def _scenarios() -> dict[str, list[dict[str, str]]]:
    out: dict[str, list[dict[str, str]]] = {}
    for row in read_reference_csv("boin_get_oc.csv"):
        out.setdefault(row["scenario"], []).append(row)
    return out


SCENARIOS = _scenarios()


def _close(ours: float, se_ours: float, theirs: float, se_theirs: float) -> bool:
    return abs(ours - theirs) <= 2 * math.hypot(se_ours, se_theirs) + 1e-9


def _proportion_se(percent: float, n: int) -> float:
    p = percent / 100
    return 100 * math.sqrt(p * (1 - p) / n)


@pytest.mark.parametrize("name", ["rd_example", "s1", "s2", "s3", "s4"])
def test_boin_oc_agrees_with_get_oc(name: str) -> None:
    rows = SCENARIOS[name]
    first = rows[0]
    settings = BoinSettings(
        trial=TrialSettings(
            target=float(first["target"]),
            max_subjects=3 * int(first["ncohort"]),
            n_earlystop=int(first["n_earlystop"]),
            extrasafe=first["extrasafe"] == "TRUE",
        )
    )
    scenario = Scenario(floats(first["p_true"]))
    oc = simulate(settings, scenario, n_trials=N_TRIALS, seed=11)
    theirs_n = int(first["ntrial"])
    failures = []
    for dose, row in enumerate(rows):
        sel = float(row["selpercent"])
        ours = oc.selection[dose]
        if not _close(ours.value, ours.se, sel, _proportion_se(sel, theirs_n)):
            failures.append(("selection", dose, ours.value, sel))
        # Mean subjects and DLTs per dose: R's SE taken as ours scaled to its N (same design).
        for field, estimates in (("npatients", oc.patients), ("ntox", oc.dlts)):
            est = estimates[dose]
            theirs_se = est.se * math.sqrt(N_TRIALS / theirs_n)
            if not _close(est.value, est.se, float(row[field]), theirs_se):
                failures.append((field, dose, est.value, float(row[field])))
    stop = float(first["percentstop"])
    if not _close(oc.early_stop.value, oc.early_stop.se, stop, _proportion_se(stop, theirs_n)):
        failures.append(("percentstop", None, oc.early_stop.value, stop))
    for field, ours_total in (("totaln", oc.total_patients), ("totaltox", oc.total_dlts)):
        theirs_se = ours_total.se * math.sqrt(N_TRIALS / theirs_n)
        if not _close(ours_total.value, ours_total.se, float(first[field]), theirs_se):
            failures.append((field, None, ours_total.value, float(first[field])))
    if first["overdose60"] != "NA":
        for field, est in (("overdose60", oc.overdose60), ("overdose80", oc.overdose80)):
            theirs = float(first[field])
            if not _close(est.value, est.se, theirs, _proportion_se(theirs, theirs_n)):
                failures.append((field, None, est.value, theirs))
    assert not failures


SCENARIOS_33 = [
    (0.05, 0.10, 0.20, 0.30, 0.50),
    (0.10, 0.25, 0.40, 0.55, 0.70),
    (0.30, 0.45, 0.60, 0.75, 0.90),
    (0.01, 0.02, 0.03, 0.05, 0.08),
]


@pytest.mark.parametrize("variant", [Variant.SIMPLE, Variant.EXPAND])
@pytest.mark.parametrize("true_dlt", SCENARIOS_33)
def test_three_plus_three_simulation_equals_closed_form(
    variant: Variant, true_dlt: tuple[float, ...]
) -> None:
    settings = ThreePlusThreeSettings(variant)
    exact = exact_oc(settings, true_dlt)
    assert sum(exact.selection) + exact.no_mtd == pytest.approx(1.0, abs=1e-12)
    oc = simulate(settings, Scenario(true_dlt), n_trials=N_TRIALS, seed=5)
    for dose in range(len(true_dlt)):
        sel = oc.selection[dose]
        assert abs(sel.value - 100 * exact.selection[dose]) <= 2 * max(sel.se, 0.05), dose
        est = oc.patients[dose]
        assert abs(est.value - exact.patients[dose]) <= 2 * max(est.se, 1e-3), dose
        est = oc.dlts[dose]
        assert abs(est.value - exact.dlts[dose]) <= 2 * max(est.se, 1e-3), dose
    assert abs(oc.no_mtd.value - 100 * exact.no_mtd) <= 2 * max(oc.no_mtd.se, 0.05)


def test_closed_form_by_hand_one_dose() -> None:
    # One dose at p = 0.2: escalate (declare the MAD) with P = 0.8^3 + 3(0.2)(0.8)^2 0.8^3.
    exact = exact_oc(ThreePlusThreeSettings(Variant.SIMPLE), (0.2,))
    passes = 0.8**3 + 3 * 0.2 * 0.8**2 * 0.8**3
    assert exact.selection[0] == pytest.approx(passes)
    assert exact.patients[0] == pytest.approx(3 + 3 * 3 * 0.2 * 0.8**2)
