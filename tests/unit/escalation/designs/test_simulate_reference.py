"""Operating characteristics against references, each cell within 2 Monte-Carlo standard errors
(docs/designs.md §10.3).

1. BOIN's documented get.oc example (the call of the BOIN 2.7.2 manual; Yan et al., J Stat
   Softw 2020;94(13)): our simulation against the table get.oc gives for it (run by
   boin_reference.R: the manual gives the call, not the figures), 15 cells.
2. BOIN's get.oc in four more scenarios (reference/boin_get_oc.csv, seed 6) against the exact
   operating characteristics of the live rules (exact_interval.py: every trial path walked
   through `decide_interval`): no Monte-Carlo error on our side, so a cell beyond 2 SE is either
   BOIN's own Monte-Carlo error or a difference of method.
3. Our simulation against those exact figures, and mTPI-2's and i3+3's against theirs (seed 11).
4. The 3+3's simulation against its exact closed form (seed 5).

The seeds are fixed: each comparison gives the same figures on every run. Even with no
difference of method, about one cell in twenty-two lies beyond 2 SE by chance, so each such cell
is named below with what was found: the same comparison from an independent run (BOIN's seed 7
for 2, our next seed for 3 and 4) puts it within 2 SE, which a difference of method would not.
A cell beyond 2 SE that is not named fails the test, and so does a named cell that is back
within 2 SE (the list is kept exact).

A percentage whose expected count is small (N p (1 - p) < 10) is compared by its count with
the central binomial interval of the same coverage as +-2 SE (95.45%), where the normal
approximation behind "2 SE" does not hold; a mean by its SE.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache

import pytest
from scipy.stats import binom

from escalation.rules.designs import BoinSettings, I3plus3Settings, Mtpi2Settings, TrialSettings
from escalation.rules.designs.interval import IntervalDesign
from escalation.rules.designs.simulate import OperatingCharacteristics, Scenario, simulate
from escalation.rules.designs.three_plus_three import (
    ThreePlusThreeSettings,
    Variant,
    exact_oc,
)

from .exact_interval import ExactFigures, exact_figures
from .reference_data import floats, read_reference_csv

N_TRIALS = 100_000  # BOIN runs vectorised: 100,000 trials take about half a second
N_TRIALS_33 = 20_000  # the 3+3 runs trial by trial
TAIL = (1 - math.erf(2 / math.sqrt(2))) / 2  # each tail beyond 2 SE of a normal law


def _scenarios(name: str) -> dict[str, list[dict[str, str]]]:
    out: dict[str, list[dict[str, str]]] = {}
    for row in read_reference_csv(name):
        out.setdefault(row["scenario"], []).append(row)
    return out


SCENARIOS = _scenarios("boin_get_oc.csv")


def _settings(first: dict[str, str]) -> BoinSettings:
    return BoinSettings(
        trial=TrialSettings(
            target=float(first["target"]),
            max_subjects=3 * int(first["ncohort"]),
            n_earlystop=int(first["n_earlystop"]),
            extrasafe=first["extrasafe"] == "TRUE",
        )
    )


@cache
def _exact(name: str) -> ExactFigures:
    first = SCENARIOS[name][0]
    p = floats(first["p_true"])
    return exact_figures(_settings(first), p, Scenario(p).true_mtd(float(first["target"])))


# -- comparing with a true value ---------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    name: str
    value: float
    truth: float
    z: float  # (value - truth) / SE
    within: bool  # within 2 SE (or the binomial interval of the same coverage)


def percentage_cell(name: str, percent: float, truth: float, n: int) -> Cell:
    """A simulated percentage over n trials against its true value."""
    q = truth / 100
    se = 100 * math.sqrt(q * (1 - q) / n)
    z = (percent - truth) / se if se else (0.0 if percent == truth else math.inf)
    if n * q * (1 - q) >= 10:
        return Cell(name, percent, truth, z, abs(z) <= 2)
    count = round(percent * n / 100)
    within = binom.cdf(count, n, q) >= TAIL and binom.sf(count - 1, n, q) >= TAIL
    return Cell(name, percent, truth, z, bool(within))


def mean_cell(name: str, value: float, truth: float, se: float) -> Cell:
    if se == 0:
        return Cell(name, value, truth, 0.0, math.isclose(value, truth, abs_tol=1e-9))
    z = (value - truth) / se
    return Cell(name, value, truth, z, abs(z) <= 2)


def beyond(cells: list[Cell]) -> dict[str, float]:
    return {c.name: round(c.z, 2) for c in cells if not c.within}


# -- 1. the documented get.oc example ----------------------------------------------------------


def _z_proportion(ours: float, n_ours: int, theirs: float, n_theirs: int) -> float:
    """z of the difference of two percentages, with the pooled proportion's SE."""
    pooled = (ours * n_ours + theirs * n_theirs) / (100 * (n_ours + n_theirs))
    se = 100 * math.sqrt(pooled * (1 - pooled) * (1 / n_ours + 1 / n_theirs))
    return 0.0 if se == 0 else (ours - theirs) / se


def _z_mean(ours: float, se_ours: float, theirs: float, n_ours: int, n_theirs: int) -> float:
    """z of the difference of two means; the reference's SE from our SD at its own N."""
    se = se_ours * math.sqrt(1 + n_ours / n_theirs)
    return 0.0 if se == 0 else (ours - theirs) / se


@pytest.mark.parametrize("seed", [11, 12, 13])
def test_the_documented_get_oc_example_is_reproduced_within_2_se_in_every_cell(seed: int) -> None:
    """BOIN's own documented example (get.oc, target 0.3, p = 0.05/0.15/0.3/0.45/0.6, 20 cohorts
    of 3, 1000 trials, seed 6; BOIN 2.7.2 manual and Yan et al., J Stat Softw 2020;94(13)):
    selection %, subjects and DLTs per dose, every one of the 15 cells within 2 standard errors
    of the difference of two independent estimates. The reference's 1000 trials dominate that
    SE, so the check does not hang on our seed: it holds for each of three (largest |z| about
    1.5). (20 cohorts are beyond the exact enumeration's reach; comparison 2 covers 10-12.)"""
    rows = SCENARIOS["rd_example"]
    first = rows[0]
    oc = simulate(_settings(first), Scenario(floats(first["p_true"])), n_trials=N_TRIALS, seed=seed)
    m = int(first["ntrial"])
    z = []
    for dose, row in enumerate(rows):
        z.append(_z_proportion(oc.selection[dose].value, N_TRIALS, float(row["selpercent"]), m))
        for field, estimates in (("npatients", oc.patients), ("ntox", oc.dlts)):
            est = estimates[dose]
            z.append(_z_mean(est.value, est.se, float(row[field]), N_TRIALS, m))
    assert len(z) == 15
    assert max(abs(v) for v in z) <= 2, z


# -- 2. BOIN's get.oc against the exact OC of the live rules -----------------------------------


def _reference_cells(name: str, rows: list[dict[str, str]]) -> list[Cell]:
    """get.oc's figures (over its own ntrial) against the exact ones, with get.oc's SE."""
    exact = _exact(name)
    first = rows[0]
    m = int(first["ntrial"])
    cells = []
    for d, row in enumerate(rows):
        cells.append(
            percentage_cell(f"selection {d + 1}", float(row["selpercent"]), exact.selection[d], m)
        )
        cells.append(
            mean_cell(
                f"npatients {d + 1}",
                float(row["npatients"]),
                exact.patients[d],
                exact.patients_sd[d] / math.sqrt(m),
            )
        )
        cells.append(
            mean_cell(
                f"ntox {d + 1}",
                float(row["ntox"]),
                exact.dlts[d],
                exact.dlts_sd[d] / math.sqrt(m),
            )
        )
    # get.oc's percentstop counts every trial that selects no dose (its select.mtd returns 99
    # also at the end of a complete trial), so it is the no-MTD percentage.
    cells.append(percentage_cell("percentstop", float(first["percentstop"]), exact.no_mtd, m))
    if first.get("overdose60", "NA") != "NA":
        cells.append(percentage_cell("overdose60", float(first["overdose60"]), exact.overdose60, m))
        cells.append(percentage_cell("overdose80", float(first["overdose80"]), exact.overdose80, m))
    return cells


# Cells of get.oc's seed-6 runs beyond 2 SE of the exact figures, and their z. Each is within
# 2 SE in get.oc's independent run with seed 7 (boin_get_oc_rerun.R); the pair of s2 moves
# together (one trial's subjects and DLTs at a dose).
GET_OC_BEYOND = {
    "s1": {"selection 5": -2.78},
    "s2": {"npatients 4": 2.78, "ntox 4": 2.53},
    "s3": {},
    "s4": {},
}


@pytest.mark.parametrize("name", ["s1", "s2", "s3", "s4"])
def test_get_oc_agrees_with_the_exact_oc_of_the_live_rules(name: str) -> None:
    """75 cells in all (selection %, subjects and DLTs per dose, percentstop, overdose60/80)."""
    cells = _reference_cells(name, SCENARIOS[name])
    assert len(cells) == 3 * len(SCENARIOS[name]) + 3
    found = beyond(cells)
    assert found == GET_OC_BEYOND[name], found
    if found:
        rerun = _scenarios("boin_get_oc_rerun.csv")[name]
        again = {c.name: c for c in _reference_cells(name, rerun)}
        assert all(again[cell].within for cell in found), [again[cell] for cell in found]


def test_the_exact_enumeration_sums_to_one_and_matches_a_hand_computation() -> None:
    # One dose, cohorts of 3, 6 subjects at most, target 0.3: the trial treats 6 at dose 1
    # unless 3/3 (eliminated: Pr(p > 0.3 | 3/3) = 0.9919 > 0.95) stops it after 3.
    p = 0.4
    settings = BoinSettings(trial=TrialSettings(target=0.3, max_subjects=6))
    exact = exact_figures(settings, (p,), 0)
    assert exact.early_stop == pytest.approx(100 * p**3)
    assert exact.patients[0] == pytest.approx(3 + 3 * (1 - p**3))
    assert exact.dlts[0] == pytest.approx(3 * p + 3 * p * (1 - p**3))


# -- 3. our simulation against the exact OC ----------------------------------------------------


def _simulation_cells(
    settings: IntervalDesign, p: tuple[float, ...], exact: ExactFigures, seed: int
) -> list[Cell]:
    oc = simulate(settings, Scenario(p), n_trials=N_TRIALS, seed=seed)
    cells = []
    for d in range(len(p)):
        cells.append(
            percentage_cell(
                f"selection {d + 1}", oc.selection[d].value, exact.selection[d], N_TRIALS
            )
        )
        sd = math.sqrt(N_TRIALS)
        cells.append(
            mean_cell(
                f"subjects {d + 1}",
                oc.patients[d].value,
                exact.patients[d],
                exact.patients_sd[d] / sd,
            )
        )
        cells.append(
            mean_cell(f"DLTs {d + 1}", oc.dlts[d].value, exact.dlts[d], exact.dlts_sd[d] / sd)
        )
    for label, est, truth in (
        ("no MTD", oc.no_mtd, exact.no_mtd),
        ("early stop", oc.early_stop, exact.early_stop),
        ("overdose60", oc.overdose60, exact.overdose60),
        ("overdose80", oc.overdose80, exact.overdose80),
    ):
        cells.append(percentage_cell(label, est.value, truth, N_TRIALS))
    return cells


# Cells of our seed-11 runs beyond 2 SE of the exact figures; each is within 2 SE with seed 12.
SIMULATION_BEYOND: dict[str, dict[str, float]] = {
    "s1": {},
    "s2": {"selection 6": 2.47},
    "s3": {"selection 5": 3.11},  # 7 trials of 100,000 where 2.3 are expected
    "s4": {},
}


@pytest.mark.parametrize("name", ["s1", "s2", "s3", "s4"])
def test_the_simulation_agrees_with_the_exact_oc(name: str) -> None:
    """79 cells in all, 100,000 simulated trials each."""
    first = SCENARIOS[name][0]
    settings, p = _settings(first), floats(first["p_true"])
    found = beyond(_simulation_cells(settings, p, _exact(name), seed=11))
    assert found == SIMULATION_BEYOND[name], found
    if found:
        again = {c.name: c for c in _simulation_cells(settings, p, _exact(name), seed=12)}
        assert all(again[cell].within for cell in found), [again[cell] for cell in found]


OTHER_DESIGNS: dict[str, tuple[IntervalDesign, tuple[float, ...]]] = {
    "mTPI-2 a": (Mtpi2Settings(trial=TrialSettings(target=0.3)), (0.05, 0.15, 0.3, 0.45, 0.6)),
    "mTPI-2 b": (Mtpi2Settings(trial=TrialSettings(target=0.3)), (0.1, 0.15, 0.2, 0.25, 0.3)),
    # At target 0.3 with cohorts of 3 the two tables agree at every n reached (3, 6, ...);
    # at 0.25 i3+3 stays where mTPI-2 de-escalates at 1/3 and 9/30.
    "i3+3 a": (I3plus3Settings(trial=TrialSettings(target=0.25)), (0.05, 0.1, 0.25, 0.4, 0.55)),
    "i3+3 b": (I3plus3Settings(trial=TrialSettings(target=0.25)), (0.08, 0.12, 0.16, 0.2, 0.25)),
}
# Their cells beyond 2 SE with seed 11; each is within 2 SE with seed 12 (-1.55 and 0.25).
OTHER_BEYOND: dict[str, dict[str, float]] = {"i3+3 a": {"DLTs 5": -2.02, "overdose60": -2.12}}


@pytest.mark.parametrize("name", list(OTHER_DESIGNS))
def test_mtpi2_and_i3plus3_simulations_agree_with_their_exact_oc(name: str) -> None:
    """mTPI-2 (target 0.3) and i3+3 (target 0.25), 10 cohorts of 3, 19 cells each, 76 in all."""
    settings, p = OTHER_DESIGNS[name]
    exact = exact_figures(settings, p, Scenario(p).true_mtd(settings.trial.target))
    found = beyond(_simulation_cells(settings, p, exact, seed=11))
    assert found == OTHER_BEYOND.get(name, {}), found
    if found:
        again = {c.name: c for c in _simulation_cells(settings, p, exact, seed=12)}
        assert all(again[cell].within for cell in found), [again[cell] for cell in found]


# -- 4. the 3+3 against its closed form --------------------------------------------------------

SCENARIOS_33 = [
    (0.05, 0.10, 0.20, 0.30, 0.50),
    (0.10, 0.25, 0.40, 0.55, 0.70),
    (0.30, 0.45, 0.60, 0.75, 0.90),
    (0.01, 0.02, 0.03, 0.05, 0.08),
]


def _three_plus_three_cells(variant: Variant, true_dlt: tuple[float, ...], seed: int) -> list[Cell]:
    settings = ThreePlusThreeSettings(variant)
    exact = exact_oc(settings, true_dlt)
    assert sum(exact.selection) + exact.no_mtd == pytest.approx(1.0, abs=1e-12)
    oc: OperatingCharacteristics = simulate(
        settings, Scenario(true_dlt), n_trials=N_TRIALS_33, seed=seed
    )
    cells = [percentage_cell("no MTD", oc.no_mtd.value, 100 * exact.no_mtd, N_TRIALS_33)]
    for d in range(len(true_dlt)):
        cells.append(
            percentage_cell(
                f"selection {d + 1}", oc.selection[d].value, 100 * exact.selection[d], N_TRIALS_33
            )
        )
        # The closed form gives means only; their SE is the simulation's (SD / sqrt(N)).
        cells.append(
            mean_cell(
                f"subjects {d + 1}", oc.patients[d].value, exact.patients[d], oc.patients[d].se
            )
        )
        cells.append(mean_cell(f"DLTs {d + 1}", oc.dlts[d].value, exact.dlts[d], oc.dlts[d].se))
    return cells


# Cells of the seed-5 runs beyond 2 SE of the closed form; each is within 2 SE with seed 6.
# The two "no MTD" cells are one event drawn from the same numbers (1 - E_1 in either variant).
THREE_PLUS_THREE_BEYOND: dict[tuple[Variant, int], dict[str, float]] = {
    (Variant.SIMPLE, 3): {"no MTD": 2.19},
    (Variant.EXPAND, 1): {"selection 1": -2.72, "subjects 1": -2.95},
    (Variant.EXPAND, 3): {"no MTD": 2.18},
}


@pytest.mark.parametrize("variant", [Variant.SIMPLE, Variant.EXPAND])
@pytest.mark.parametrize("scenario", range(len(SCENARIOS_33)))
def test_three_plus_three_simulation_equals_closed_form(variant: Variant, scenario: int) -> None:
    """128 cells in all (no MTD, selection %, subjects and DLTs per dose), 20,000 trials each."""
    true_dlt = SCENARIOS_33[scenario]
    found = beyond(_three_plus_three_cells(variant, true_dlt, seed=5))
    assert found == THREE_PLUS_THREE_BEYOND.get((variant, scenario), {}), found
    if found:
        again = {c.name: c for c in _three_plus_three_cells(variant, true_dlt, seed=6)}
        assert all(again[cell].within for cell in found), [again[cell] for cell in found]


def test_closed_form_by_hand_one_dose() -> None:
    # One dose at p = 0.2: escalate (declare the MAD) with P = 0.8^3 + 3(0.2)(0.8)^2 0.8^3.
    exact = exact_oc(ThreePlusThreeSettings(Variant.SIMPLE), (0.2,))
    passes = 0.8**3 + 3 * 0.2 * 0.8**2 * 0.8**3
    assert exact.selection[0] == pytest.approx(passes)
    assert exact.patients[0] == pytest.approx(3 + 3 * 3 * 0.2 * 0.8**2)
