"""Operating characteristics against figures printed in a publication (docs/designs.md §10.3).

The published figures (reference/escalation_vignettes_oc.csv, with their source and settings) are
those the documentation of the R package escalation (Brock, version 0.2.3) prints for BOIN
(target 0.25, six doses, 36 subjects, 50 trials), the 3+3 (five doses, runs of 20, 20 and 50
trials) and the CRM (dfcrm's empiric model, 12 subjects, two runs of 20 trials). They were
copied as printed, not re-run. We simulate the same settings with many more trials (N) and
compare every printed cell within 2 standard errors of the DIFFERENCE of the two Monte-Carlo
estimates:

- a percentage: the published count k of m trials (k = value x m) against our proportion q of
  N trials, SE = sqrt(pooled (1 - pooled) (1/m + 1/N)), pooled = (k + qN) / (m + N). Where the
  published run is too small for the normal approximation (m q (1 - q) < 10: every cell here but
  one, m being 20 or 50), k is compared with the central interval of Binomial(m, q) of the same
  coverage as +-2 SE (95.45%); our own error (N = 20,000 to 100,000) is negligible beside m's
  there, and q is taken as exact.
- a mean: z = (published - ours) / sqrt(SE_ours^2 + SD_ours^2 / m). The published mean's SE is
  its SD over m trials, which is not printed; ours estimates it. A published mean of exactly 0
  (no trial treated anyone at that dose) is compared as a count: 0 of m trials against our
  fraction of trials that treated someone there.

Each figure is compared with the same quantity of ours. escalation's get_boin, without
select_boin_mtd(), recommends when it stops the dose its rules give the next cohort (E, S or D
from BOIN's table at the last dose given, an escalation into an eliminated dose held back; no
dose once the lowest dose is eliminated), not BOIN's isotonic MTD: we read that dose from each
simulated trial's last cohort through the decision table the live decision uses. Its 3+3
(allow_deescalate = FALSE) is our simple variant; its CRM recommends the dose whose estimate is
closest to the target with no restriction (our `restrict=False`).

With 20 and 50 published trials the published figures' own SE dominates (about 10 percentage
points on a proportion of 0.4 from 20 trials), so this comparison can find only large
differences of method; the comparisons with BOIN's get.oc at 50,000 trials and with exact
operating characteristics (test_simulate_reference.py) are the fine ones. Every check is made
for three seeds of ours, so it does not hang on one.

One cell lies beyond 2 SE, named below with what was found (a cell beyond that is not named
fails the test, and so does a named cell back within).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache

import numpy as np
import numpy.typing as npt
import pytest
from scipy.stats import binom, chisquare

from escalation.rules.designs import BoinSettings, TrialSettings
from escalation.rules.designs.crm import CrmSettings
from escalation.rules.designs.interval import table_codes
from escalation.rules.designs.isotonic import NO_MTD, elimination_boundary
from escalation.rules.designs.simulate import Scenario, TrialRecords, simulate_trials
from escalation.rules.designs.three_plus_three import (
    ThreePlusThreeSettings,
    Variant,
    exact_oc,
)

from .reference_data import floats, read_reference_csv

TAIL = (1 - math.erf(2 / math.sqrt(2))) / 2  # each tail beyond 2 SE of a normal law
ROWS = read_reference_csv("escalation_vignettes_oc.csv")
RUNS = sorted({row["run"] for row in ROWS})
SEEDS = [31, 32, 33]
N_TRIALS = {"boin": 100_000, "3+3": 20_000, "crm": 100_000}  # the 3+3 runs trial by trial
CRM_SKELETON = (0.05, 0.1, 0.25, 0.4, 0.6)  # the vignettes' skeleton (the CSV's header)


def published(run: str) -> list[dict[str, str]]:
    return [row for row in ROWS if row["run"] == run]


@dataclass(frozen=True)
class Cell:
    name: str
    published: float
    ours: float
    z: float
    within: bool


def count_cell(name: str, fraction: float, m: int, q: float, n: int) -> Cell:
    """A published fraction of m trials against our fraction q of n trials."""
    k = round(fraction * m)
    pooled = (k + q * n) / (m + n)
    se = math.sqrt(pooled * (1 - pooled) * (1 / m + 1 / n))
    z = 0.0 if se == 0 else (k / m - q) / se
    if m * q * (1 - q) >= 10:
        return Cell(name, k / m, q, z, abs(z) <= 2)
    within = binom.cdf(k, m, q) >= TAIL and binom.sf(k - 1, m, q) >= TAIL
    return Cell(name, k / m, q, z, bool(within))


def mean_cell(name: str, value: float, m: int, values: npt.NDArray[np.int64]) -> Cell:
    """A published mean over m trials against the mean of our per-trial values."""
    n = len(values)
    if value == 0:
        return count_cell(name, 0.0, m, float((values > 0).mean()), n)
    sd = float(values.std(ddof=1))
    se = math.sqrt(sd**2 / n + sd**2 / m)
    ours = float(values.mean())
    z = 0.0 if se == 0 else (value - ours) / se
    return Cell(name, value, ours, z, abs(z) <= 2)


# -- our simulations of the published settings -------------------------------------------------


def boin_settings(first: dict[str, str]) -> BoinSettings:
    return BoinSettings(
        trial=TrialSettings(
            target=float(first["target"]),
            cohort_size=int(first["cohort_size"]),
            max_subjects=int(first["max_subjects"]),
        )
    )


def next_cohort_dose(settings: BoinSettings, records: TrialRecords) -> npt.NDArray[np.int64]:
    """Per trial: the dose BOIN's rules give the next cohort after the last one (NO_MTD once the
    lowest dose meets the elimination rule), read from the table the live decision uses."""
    trial = settings.trial
    codes = table_codes(settings, trial.max_subjects)
    elim = elimination_boundary(trial.target, trial.cutoff, trial.max_subjects)
    top = records.n.shape[1] - 1
    out = np.empty(len(records.history), dtype=np.int64)
    for r, steps in enumerate(records.history):
        d = steps[-1][0]
        n, y = records.n[r], records.y[r]
        if y[d] >= elim[n[d]]:  # eliminated, with every dose above
            out[r] = NO_MTD if d == 0 else d - 1
        elif codes[n[d], y[d]] == 0:  # E, unless at the top or into an eliminated dose
            up = min(d + 1, top)
            out[r] = d if n[up] > 0 and y[up] >= elim[n[up]] else up
        elif codes[n[d], y[d]] >= 2:  # D
            out[r] = max(d - 1, 0)
        else:
            out[r] = d
    return out


@cache
def ours(design: str, p_true: str, seed: int) -> tuple[TrialRecords, npt.NDArray[np.int64]]:
    """Our trials in a published setting, and each trial's recommended dose as the package
    recommends it (one simulation serves the runs that share a design and scenario)."""
    first = next(r for r in ROWS if r["design"] == design and r["p_true"] == p_true)
    scenario = Scenario(floats(p_true))
    n = N_TRIALS[design]
    if design == "boin":
        settings = boin_settings(first)
        records = simulate_trials(settings, scenario, n_trials=n, seed=seed, keep_history=n)
        return records, next_cohort_dose(settings, records)
    if design == "crm":
        crm = CrmSettings(
            skeleton=CRM_SKELETON,
            target=float(first["target"]),
            cohort_size=int(first["cohort_size"]),
            stop_at_n=int(first["max_subjects"]),
            restrict=False,
        )
        records = simulate_trials(crm, scenario, n_trials=n, seed=seed)
        return records, records.selected
    records = simulate_trials(
        ThreePlusThreeSettings(Variant.SIMPLE), scenario, n_trials=n, seed=seed
    )
    return records, records.selected


def cells(run: str, seed: int) -> list[Cell]:
    rows = published(run)
    first = rows[0]
    m = int(first["ntrial"])
    records, recommended = ours(first["design"], first["p_true"], seed)
    n = len(recommended)
    out = []
    for row in rows:
        figure, dose, value = row["figure"], row["dose"], float(row["value"])
        name = f"{figure} {dose}"
        j = NO_MTD if dose in ("none", "all") else int(dose) - 1
        if figure == "recommend":
            out.append(count_cell(name, value, m, float((recommended == j).mean()), n))
        elif figure == "patients":
            out.append(mean_cell(name, value, m, records.n[:, j]))
        elif figure == "share":  # every trial has max_subjects: mean subjects = share x that
            cap = int(first["max_subjects"])
            assert (records.n.sum(axis=1) == cap).all()
            out.append(mean_cell(name, round(value * cap, 9), m, records.n[:, j]))
        elif figure == "subjects":
            out.append(mean_cell(name, value, m, records.n.sum(axis=1)))
        elif dose == "all":
            out.append(mean_cell(name, value, m, records.y.sum(axis=1)))
        else:
            out.append(mean_cell(name, value, m, records.y[:, j]))
    return out


def beyond(found: list[Cell]) -> dict[str, float]:
    return {c.name: round(c.z, 1) for c in found if not c.within}


# The one cell beyond 2 SE (at every seed of ours): the 3+3 run of the vignette "Simulating
# dose-escalation trials" recommends dose 1 in 14 of its 20 trials where ours gives 0.39, as does
# the closed form (docs/designs.md §9.2: 0.386; P(14 or more of 20) = 0.0044). No difference of
# method explains it: the same vignette lists its first ten trials, each following our simple
# variant (e.g. dose 1 0/3, dose 2 2/6: dose 1 recommended), and the independent run of the same
# design in the same scenario (3p3_a710) recommends dose 1 in 7 of 20 (0.35), within 2 SE in
# every cell, as is the third run (3p3_ref, 21 of 50); pooled, the three runs agree with ours
# (see the pooled test). With 71 cells about three are expected beyond 2 SE by chance (fewer
# with counts this discrete).
BEYOND = {"3p3_a700": {"recommend 1": 2.9}}


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("run", RUNS)
def test_the_published_vignette_figures_are_reproduced_within_2_se(run: str, seed: int) -> None:
    """71 cells in six published runs: BOIN 13 (recommended dose incl. none, subjects per
    dose), 3+3 8, 16 and 6, CRM 12 and 16 (recommended dose, subjects and DLTs)."""
    found = cells(run, seed)
    assert len(found) == len(published(run))
    named = BEYOND.get(run, {})
    assert {c.name for c in found if not c.within} == set(named), beyond(found)
    for c in found:
        if c.name in named:
            assert c.z == pytest.approx(named[c.name], abs=0.15), c


def test_the_3_plus_3_excursion_is_one_against_the_closed_form_too() -> None:
    # Without Monte-Carlo error on our side: P(recommend dose 1) in closed form, and the
    # probability of 14 or more of 20 published trials recommending it.
    p = floats(published("3p3_a700")[0]["p_true"])
    exact = exact_oc(ThreePlusThreeSettings(Variant.SIMPLE), p)
    assert exact.selection[0] == pytest.approx(0.386, abs=0.001)
    assert binom.sf(13, 20, exact.selection[0]) == pytest.approx(0.0044, abs=0.0002)
    other = count_cell("recommend 1", 0.35, 20, exact.selection[0], 10**9)
    assert other.within


def test_the_next_cohort_dose_differs_from_the_isotonic_mtd() -> None:
    # Why BOIN's published recommendation is compared with the next cohort's dose: the two are
    # different quantities (no dose is the same event under both, the lowest dose eliminated).
    records, recommended = ours("boin", published("boin_a230")[0]["p_true"], SEEDS[0])
    assert np.array_equal(recommended == NO_MTD, records.selected == NO_MTD)
    assert (recommended != records.selected).mean() > 0.05


# The independent published runs of each design pooled (3+3: 20 + 20 + 50 trials; CRM: 20 + 20):
# the distribution of the recommended dose against ours, Pearson's chi-square over
# groups of doses whose expected counts are not too small (the CRM never recommends "no dose"
# here: it has no stopping rule but the sample size).
POOLED = {
    "3+3": (("3p3_a700", "3p3_a710", "3p3_ref"), (("none",), ("1",), ("2",), ("3", "4", "5"))),
    "crm": (("crm_a700", "crm_a710"), (("none", "1"), ("2",), ("3",), ("4", "5"))),
}


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("design", list(POOLED))
def test_the_published_runs_pooled_agree_with_ours(design: str, seed: int) -> None:
    """p > 0.0455, the coverage of 2 SE. Found: 3+3 p 0.31-0.41; CRM p 0.07-0.09 (dose 3:
    16 of 40 published where ours expects 9.5; one-sided p 0.016 alone, not beyond 2 SE with the
    other doses; the CRM's method is dfcrm's, checked case by case in test_crm.py)."""
    runs, groups = POOLED[design]
    rows = [row for run in runs for row in published(run) if row["figure"] == "recommend"]
    m = sum(int(published(run)[0]["ntrial"]) for run in runs)
    _, recommended = ours(design, rows[0]["p_true"], seed)
    observed, expected = [], []
    for group in groups:
        chosen = [row for row in rows if row["dose"] in group]
        observed.append(sum(round(float(r["value"]) * int(r["ntrial"])) for r in chosen))
        doses = [NO_MTD if d == "none" else int(d) - 1 for d in group]
        expected.append(m * float(np.isin(recommended, doses).mean()))
    assert sum(observed) == m
    assert chisquare(observed, np.array(expected) * m / sum(expected)).pvalue > 2 * TAIL
