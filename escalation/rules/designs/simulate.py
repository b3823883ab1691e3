"""Operating characteristics by simulation (docs/designs.md §10).

`simulate(settings, scenario, n_trials=10_000, seed=...)` runs the design's own rules on
simulated trials and summarises them, each figure with its Monte-Carlo standard error
(sqrt(p (1 - p) / N) for a proportion over N trials, SD / sqrt(N) for a mean). The same seed
gives the same result (NumPy's PCG64 generator).

- BOIN, mTPI-2, i3+3: vectorised over trials. The decision at the current dose is read from
  the design's decision table, built by calling the same `cell` function the live decision
  calls; the trial-level rules mirror `interval.decide_interval` and a test replays simulated
  trials through `decide_interval` step by step.
- CRM, TITE-CRM, TITE-BOIN (and BOIN with waiting for every outcome): one trial at a time in
  calendar time, calling the live decision functions themselves (`crm_decide`,
  `tite_boin_decide`, `boin_decide`), with the CRM posterior cached per data set.
- 3+3: complete cohorts of 3 (three_plus_three.py), and its exact closed form beside it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, TypeAlias

import numpy as np
import numpy.typing as npt

from .boin import BoinSettings, boin_decide
from .common import (
    DESIGNS_VERSION,
    Action,
    DesignDecision,
    DesignFacts,
    DesignInputError,
    LevelData,
)
from .crm import CrmSettings, crm_decide
from .i3plus3 import I3plus3Settings
from .interval import IntervalDesign, table_codes
from .isotonic import NO_MTD, eliminated_levels, elimination_boundary, select_mtd_batch
from .mtpi2 import Mtpi2Settings
from .simulate_fast import crm_trials, tite_boin_trials
from .three_plus_three import ThreePlusThreeSettings, next_step
from .tite_boin import TiteBoinSettings, tite_boin_decide

IntArray: TypeAlias = npt.NDArray[np.int64]
FloatArray: TypeAlias = npt.NDArray[np.float64]
BoolArray: TypeAlias = npt.NDArray[np.bool_]

DesignSettings: TypeAlias = (
    BoinSettings
    | Mtpi2Settings
    | I3plus3Settings
    | TiteBoinSettings
    | CrmSettings
    | ThreePlusThreeSettings
)


@dataclass(frozen=True)
class Scenario:
    """True DLT probabilities per dose; `mtd` the true MTD (None: the dose closest to the
    target, the lower one on a tie; -1 when no dose is acceptable, as all are far too toxic)."""

    true_dlt: tuple[float, ...]
    name: str = ""
    mtd: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "true_dlt", tuple(float(p) for p in self.true_dlt))
        if not self.true_dlt or any(not 0 <= p <= 1 for p in self.true_dlt):
            raise DesignInputError("true_dlt: probabilities in [0, 1], at least one dose")

    def true_mtd(self, target: float) -> int:
        if self.mtd is not None:
            return self.mtd
        return min(range(len(self.true_dlt)), key=lambda d: (abs(self.true_dlt[d] - target), d))


class Accrual(StrEnum):
    FIXED = "fixed"  # one subject every 1 / rate
    POISSON = "poisson"  # exponential gaps with mean 1 / rate


@dataclass(frozen=True)
class Timing:
    """Calendar time for the time-to-event simulator, in days.

    `accrual_per_window`: subjects arriving per DLT window on average; `dlt_onset`: a DLT's
    onset is uniform on [a, b] x the window (fractions; (0, 1) = anywhere in the window).
    """

    accrual_per_window: float = 2.0
    accrual: Accrual = Accrual.POISSON
    dlt_onset: tuple[float, float] = (0.0, 1.0)

    def __post_init__(self) -> None:
        if self.accrual_per_window <= 0:
            raise DesignInputError("accrual_per_window: must be positive")
        a, b = self.dlt_onset
        if not 0 <= a <= b <= 1:
            raise DesignInputError("dlt_onset: fractions 0 <= a <= b <= 1 of the window")


@dataclass(frozen=True)
class Estimate:
    value: float
    se: float


@dataclass(frozen=True)
class OperatingCharacteristics:
    """Per scenario; percentages are in %, means per trial (docs/designs.md §10.2)."""

    design: str
    settings: str
    scenario: Scenario
    n_trials: int
    seed: int
    true_mtd: int
    selection: tuple[Estimate, ...]  # % of trials selecting each dose
    no_mtd: Estimate  # % of trials selecting no dose
    early_stop: Estimate  # % stopped early for toxicity (lowest dose eliminated / too toxic)
    pcs: Estimate  # % selecting the true MTD
    above_mtd: Estimate  # % selecting a dose above the true MTD
    patients: tuple[Estimate, ...]
    dlts: tuple[Estimate, ...]
    total_patients: Estimate
    total_dlts: Estimate
    patients_above_mtd: Estimate  # mean % of a trial's subjects treated above the true MTD
    overdose60: Estimate  # % of trials treating > 60% of the maximum sample size above the MTD
    overdose80: Estimate
    duration: Estimate | None = None  # days, time-to-event simulations only
    version: str = DESIGNS_VERSION
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TrialRecords:
    """Per-trial results: subjects and DLTs per dose, the selected dose (NO_MTD = none), early
    stops, durations, and each trial's cohorts (dose, size, DLTs) for replaying."""

    n: IntArray
    y: IntArray
    selected: IntArray
    early_stop: BoolArray
    duration: FloatArray | None = None
    history: tuple[tuple[tuple[int, int, int], ...], ...] = ()


def simulate(
    settings: DesignSettings,
    scenario: Scenario,
    *,
    n_trials: int = 10_000,
    seed: int = 20260301,
    timing: Timing | None = None,
) -> OperatingCharacteristics:
    """Simulate `n_trials` trials of the design under `scenario` and summarise them."""
    records = simulate_trials(settings, scenario, n_trials=n_trials, seed=seed, timing=timing)
    return summarise(settings, scenario, records, seed=seed)


def simulate_in_chunks(
    settings: DesignSettings,
    scenario: Scenario,
    *,
    n_trials: int = 10_000,
    seed: int = 20260301,
    chunk: int = 1000,
    timing: Timing | None = None,
) -> Iterator[tuple[int, TrialRecords | None]]:
    """The same simulation in chunks of `chunk` trials, for a progress bar: yields (trials done,
    None), and at the end (n_trials, every trial's records). Chunk i draws from the i-th child of NumPy's SeedSequence(seed), so the
    result depends on (seed, chunk) only: the same seed and chunk give the same figures."""
    if n_trials < 1:
        raise DesignInputError("n_trials: at least 1")
    if chunk < 1:
        raise DesignInputError("chunk: at least 1")
    sizes = [chunk] * (n_trials // chunk) + ([n_trials % chunk] if n_trials % chunk else [])
    children = np.random.SeedSequence(seed).spawn(len(sizes))
    parts: list[TrialRecords] = []
    done = 0
    for size, child in zip(sizes, children, strict=True):
        parts.append(simulate_trials(settings, scenario, n_trials=size, seed=child, timing=timing))
        done += size
        yield done, merge_records(parts) if done == n_trials else None


def merge_records(parts: list[TrialRecords]) -> TrialRecords:
    """The records of several batches of trials as one."""
    if len(parts) == 1:
        return parts[0]
    durations = [p.duration for p in parts]
    return TrialRecords(
        n=np.concatenate([p.n for p in parts]),
        y=np.concatenate([p.y for p in parts]),
        selected=np.concatenate([p.selected for p in parts]),
        early_stop=np.concatenate([p.early_stop for p in parts]),
        duration=None
        if any(d is None for d in durations)
        else np.concatenate([d for d in durations if d is not None]),
    )


def simulate_trials(
    settings: DesignSettings,
    scenario: Scenario,
    *,
    n_trials: int = 10_000,
    seed: int | np.random.SeedSequence = 20260301,
    timing: Timing | None = None,
    keep_history: int = 0,
    vectorised: bool = True,
) -> TrialRecords:
    """Every trial's records. `vectorised=False` runs TITE-BOIN one trial at a time through
    `tite_boin_decide` (the vectorised engine gives the same trials; a test compares them)."""
    if n_trials < 1:
        raise DesignInputError("n_trials: at least 1")
    rng = np.random.default_rng(seed)
    p = np.array(scenario.true_dlt)
    if isinstance(settings, ThreePlusThreeSettings):
        return _three_plus_three(settings, p, n_trials, rng, keep_history)
    if vectorised and not keep_history:
        if isinstance(settings, TiteBoinSettings) and settings.trial.titration is None:
            return _calendar_fast(settings, p, n_trials, rng, timing or Timing())
        if isinstance(settings, CrmSettings) and not settings.tite and settings.titration is None:
            return _calendar_fast(settings, p, n_trials, rng, timing or Timing())
    if isinstance(settings, TiteBoinSettings | CrmSettings) or timing is not None:
        return _calendar(settings, p, n_trials, rng, timing or Timing(), keep_history)
    return _interval(settings, p, n_trials, rng, keep_history)


def max_subjects(settings: DesignSettings) -> int:
    if isinstance(settings, CrmSettings):
        return settings.stop_at_n
    if isinstance(settings, ThreePlusThreeSettings):
        return 0
    return settings.trial.max_subjects


def target_of(settings: DesignSettings) -> float | None:
    if isinstance(settings, CrmSettings):
        return settings.target
    if isinstance(settings, ThreePlusThreeSettings):
        return None
    return settings.trial.target


# -- interval designs, vectorised ------------------------------------------------------------


def _interval(
    design: IntervalDesign, p: FloatArray, t: int, rng: np.random.Generator, keep: int
) -> TrialRecords:
    trial = design.trial
    k = len(p)
    cap = trial.max_subjects
    cohort = trial.cohort_size
    codes = table_codes(design, cap)
    elim_b = elimination_boundary(trial.target, trial.cutoff, cap)
    safe_b = (
        elimination_boundary(trial.target, trial.cutoff - trial.offset, cap)
        if trial.extrasafe
        else np.arange(cap + 1) + 1
    )
    n = np.zeros((t, k), dtype=np.int64)
    y = np.zeros((t, k), dtype=np.int64)
    d = np.zeros(t, dtype=np.int64)
    eliminated = np.zeros((t, k), dtype=bool)
    active = np.ones(t, dtype=bool)
    early = np.zeros(t, dtype=bool)
    single = trial.titration.single_levels(k) if trial.titration is not None else 0
    titrating = np.full(t, single > 0)
    fill = np.zeros(t, dtype=np.int64)  # completing a titration level to a full cohort
    rows = np.arange(t)
    columns = np.arange(cohort)
    history: list[list[tuple[int, int, int]]] = [[] for _ in range(min(keep, t))]
    while active.any():
        size = np.where(titrating, 1, np.where(fill > 0, fill, cohort))
        size = np.minimum(size, cap - n.sum(axis=1))
        size = np.where(active, size, 0)
        draws = rng.random((t, cohort))
        dlt = ((draws < p[d][:, None]) & (columns[None, :] < size[:, None])).sum(axis=1)
        for r in range(len(history)):
            if active[r]:
                history[r].append((int(d[r]), int(size[r]), int(dlt[r])))
        n[rows, d] += size
        y[rows, d] += dlt
        done = active & (n.sum(axis=1) >= cap)
        # Accelerated titration (titration.py): a DLT completes the level, else move up.
        in_titration = active & ~done & titrating
        trigger = in_titration & (dlt > 0)
        fill = np.where(trigger, cohort - 1, 0)
        passing = in_titration & ~trigger
        d = np.where(passing, d + 1, d)
        titrating = np.where(passing, d < single, False) & titrating
        titrating &= ~trigger
        titrating &= ~done
        decide = active & ~done & ~in_titration
        nd = n[rows, d]
        yd = y[rows, d]
        hit = decide & (yd >= elim_b[nd])
        eliminated |= hit[:, None] & (np.arange(k)[None, :] >= d[:, None])
        stop = hit & (d == 0)
        stop |= decide & (d == 0) & (yd >= safe_b[nd])
        early |= stop
        decide &= ~stop
        code = codes[nd, yd]
        blocked = (d == k - 1) | eliminated[rows, np.minimum(d + 1, k - 1)]
        stays = (code == 1) | ((code >= 2) & (d == 0)) | ((code == 0) & blocked)
        finish = decide & (nd >= trial.n_earlystop) & stays
        decide &= ~finish
        d = np.where(decide & (code == 0) & ~blocked, d + 1, d)
        d = np.where(decide & (code >= 2) & (d > 0), d - 1, d)
        active &= ~(done | stop | finish)
    final_elim = eliminated_levels(elim_b, n, y)
    lowest = final_elim[:, 0] | ((n[:, 0] >= 3) & (y[:, 0] >= safe_b[n[:, 0]]))
    selected, _ = select_mtd_batch(
        target=trial.target,
        n=n,
        y=y,
        eliminated=final_elim,
        lowest_stopped=lowest,
        bound=design.bound,
    )
    selected = np.where(early, NO_MTD, selected)
    return TrialRecords(
        n=n,
        y=y,
        selected=selected,
        early_stop=early,
        history=tuple(tuple(h) for h in history),
    )


# -- 3+3 ---------------------------------------------------------------------------------------


def _three_plus_three(
    settings: ThreePlusThreeSettings, p: FloatArray, t: int, rng: np.random.Generator, keep: int
) -> TrialRecords:
    k = len(p)
    # Pre-drawn uniforms: at most 6 subjects per dose plus 3 for a refill.
    draws = rng.random((t, k, 9))
    n_all = np.zeros((t, k), dtype=np.int64)
    y_all = np.zeros((t, k), dtype=np.int64)
    selected = np.full(t, NO_MTD, dtype=np.int64)
    early = np.zeros(t, dtype=bool)
    history: list[tuple[tuple[int, int, int], ...]] = []
    for r in range(t):
        n = [0] * k
        y = [0] * k
        steps: list[tuple[int, int, int]] = []
        dose: int | None = 0
        size = 3
        while dose is not None:
            start = n[dose]
            dlt = int((draws[r, dose, start : start + size] < p[dose]).sum())
            n[dose] += size
            y[dose] += dlt
            steps.append((dose, size, dlt))
            step = next_step(settings, n, y, dose)
            dose, size = step.dose, step.size
            if dose is None:
                selected[r] = NO_MTD if step.selected is None else step.selected
                early[r] = step.selected is None
        n_all[r] = n
        y_all[r] = y
        if r < keep:
            history.append(tuple(steps))
    return TrialRecords(n_all, y_all, selected, early, history=tuple(history))


# -- calendar time: TITE-BOIN, CRM, TITE-CRM, BOIN waiting for outcomes ---------------------------


@dataclass
class _Subject:
    dose: int
    arrival: float
    dlt_at: float  # absolute time of the DLT, inf without one


def _facts_at(
    subjects: list[_Subject],
    k: int,
    now: float,
    window: float,
    current: int,
    last: tuple[int, int] | None,
) -> DesignFacts:
    evaluable = [0] * k
    dlts = [0] * k
    pending: list[list[float]] = [[] for _ in range(k)]
    for s in subjects:
        if s.dlt_at <= now:
            evaluable[s.dose] += 1
            dlts[s.dose] += 1
        elif s.arrival + window <= now:
            evaluable[s.dose] += 1
        else:
            pending[s.dose].append(min((now - s.arrival) / window, 1.0 - 1e-12))
    levels = tuple(LevelData(evaluable[j], dlts[j], tuple(pending[j])) for j in range(k))
    return DesignFacts(levels=levels, current=current, last_cohort=last)


def _decider(settings: DesignSettings) -> Callable[[DesignFacts], DesignDecision]:
    if isinstance(settings, TiteBoinSettings):
        return lambda facts: tite_boin_decide(settings, facts)
    if isinstance(settings, CrmSettings):
        return lambda facts: crm_decide(settings, facts)
    if isinstance(settings, BoinSettings):
        return lambda facts: boin_decide(settings, facts)
    raise DesignInputError(f"no calendar-time simulation for {type(settings).__name__}")


def _window(settings: DesignSettings) -> float:
    if isinstance(settings, TiteBoinSettings | CrmSettings):
        return settings.window_days
    return 28.0


def _calendar(
    settings: DesignSettings,
    p: FloatArray,
    t: int,
    rng: np.random.Generator,
    timing: Timing,
    keep: int,
) -> TrialRecords:
    k = len(p)
    cap = max_subjects(settings)
    window = _window(settings)
    decide = _decider(settings)
    a, b = timing.dlt_onset
    u_dlt, u_onset, gaps = _calendar_draws(cap, t, rng, timing, window)
    n_all = np.zeros((t, k), dtype=np.int64)
    y_all = np.zeros((t, k), dtype=np.int64)
    selected = np.full(t, NO_MTD, dtype=np.int64)
    early = np.zeros(t, dtype=bool)
    duration = np.zeros(t)
    history: list[tuple[tuple[int, int, int], ...]] = []
    for r in range(t):
        subjects: list[_Subject] = []
        now = 0.0
        current = 0
        last: tuple[int, int] | None = None
        steps: list[tuple[int, int, int]] = []
        while True:
            facts = _facts_at(subjects, k, now, window, current, last)
            decision = decide(facts)
            if decision.action is Action.SUSPEND_ACCRUAL:
                upcoming = [
                    min(s.dlt_at, s.arrival + window)
                    for s in subjects
                    if min(s.dlt_at, s.arrival + window) > now
                ]
                if not upcoming:
                    raise DesignInputError("simulation: suspended with nothing pending")
                now = min(upcoming) + 1e-9
                continue
            if decision.action in (Action.STOP, Action.SELECT_MTD):
                early[r] = decision.action is Action.STOP and len(subjects) < cap
                if decision.mtd is not None:
                    selected[r] = decision.mtd
                break
            assert decision.dose is not None
            current = decision.dose
            size = min(decision.cohort_size, cap - len(subjects))
            dlt_count = 0
            for j in range(size):
                i = len(subjects)
                arrival = now if j == 0 else subjects[-1].arrival + gaps[r, i]
                has_dlt = u_dlt[r, i] < p[current]
                onset = arrival + (a + (b - a) * u_onset[r, i]) * window
                subjects.append(_Subject(current, arrival, onset if has_dlt else math.inf))
                dlt_count += int(has_dlt)
            steps.append((current, size, dlt_count))
            last = (size, dlt_count)
            now = subjects[-1].arrival + gaps[r, min(len(subjects), cap - 1)]
        for s in subjects:
            n_all[r, s.dose] += 1
            y_all[r, s.dose] += int(s.dlt_at < math.inf)
        duration[r] = (
            max([now] + [min(s.dlt_at, s.arrival + window) for s in subjects]) if subjects else 0.0
        )
        if r < keep:
            history.append(tuple(steps))
    return TrialRecords(n_all, y_all, selected, early, duration, tuple(history))


def _calendar_draws(
    cap: int, t: int, rng: np.random.Generator, timing: Timing, window: float
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Every subject's draws up front (DLT, onset, arrival gap), so a trial's course does not
    depend on the others; both calendar engines draw them this way, in this order."""
    gap = window / timing.accrual_per_window
    u_dlt = rng.random((t, cap))
    u_onset = rng.random((t, cap))
    gaps = (
        rng.exponential(gap, (t, cap))
        if timing.accrual is Accrual.POISSON
        else np.full((t, cap), gap)
    )
    return u_dlt, u_onset, gaps


def _calendar_fast(
    settings: TiteBoinSettings | CrmSettings,
    p: FloatArray,
    t: int,
    rng: np.random.Generator,
    timing: Timing,
) -> TrialRecords:
    """TITE-BOIN or the CRM, vectorised (simulate_fast.py): the trials of `_calendar`."""
    cap = max_subjects(settings)
    u_dlt, u_onset, gaps = _calendar_draws(cap, t, rng, timing, settings.window_days)
    if isinstance(settings, TiteBoinSettings):
        result = tite_boin_trials(settings, p, u_dlt, u_onset, gaps, timing.dlt_onset)
    else:
        result = crm_trials(settings, p, u_dlt, u_onset, gaps, timing.dlt_onset)
    n, y, selected, early, duration = result
    return TrialRecords(n, y, selected, early, duration)


# -- summaries ---------------------------------------------------------------------------------


def _proportion(flags: BoolArray) -> Estimate:
    m = len(flags)
    value = float(flags.mean())
    return Estimate(100 * value, 100 * math.sqrt(value * (1 - value) / m))


def _mean(values: npt.NDArray[Any]) -> Estimate:
    m = len(values)
    sd = float(values.std(ddof=1)) if m > 1 else 0.0
    return Estimate(float(values.mean()), sd / math.sqrt(m))


def summarise(
    settings: DesignSettings, scenario: Scenario, records: TrialRecords, *, seed: int
) -> OperatingCharacteristics:
    k = len(scenario.true_dlt)
    target = target_of(settings)
    true_mtd = scenario.true_mtd(target if target is not None else 0.3)
    n, y, selected = records.n, records.y, records.selected
    total = n.sum(axis=1)
    above = n[:, true_mtd + 1 :].sum(axis=1) if true_mtd >= 0 else total
    cap = max_subjects(settings) or int(total.max())
    share = np.where(total > 0, above / np.maximum(total, 1), 0.0)
    return OperatingCharacteristics(
        design=settings.name,
        settings=repr(settings),
        scenario=scenario,
        n_trials=len(selected),
        seed=seed,
        true_mtd=true_mtd,
        selection=tuple(_proportion(selected == j) for j in range(k)),
        no_mtd=_proportion(selected == NO_MTD),
        early_stop=_proportion(records.early_stop),
        pcs=_proportion(selected == true_mtd),
        above_mtd=_proportion(selected > true_mtd),
        patients=tuple(_mean(n[:, j]) for j in range(k)),
        dlts=tuple(_mean(y[:, j]) for j in range(k)),
        total_patients=_mean(total),
        total_dlts=_mean(y.sum(axis=1)),
        patients_above_mtd=_mean(100 * share),
        overdose60=_proportion(above > 0.6 * cap),
        overdose80=_proportion(above > 0.8 * cap),
        duration=None if records.duration is None else _mean(records.duration),
    )
