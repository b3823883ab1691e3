"""MTD selection for the interval designs by isotonic regression (docs/designs.md §6).

The method of BOIN's `select.mtd` (Liu & Yuan, JRSS-C 2015;64:507-523; R package BOIN 2.7.2):
among treated doses not eliminated, p_d = (y_d + 0.05) / (n_d + 0.1) with weights
1 / var_d, var_d = (y_d + 0.05)(n_d - y_d + 0.05) / ((n_d + 0.1)^2 (n_d + 1.1)); the weighted
isotonic (non-decreasing) fit; 1e-10 x d added so that doses pooled into one block are ordered
(the highest dose of a block below the target wins, the lowest of a block above it); the dose
whose estimate is closest to the target is the MTD, the lowest dose on an exact tie. With
`bound_mtd`, only estimates <= lambda_d qualify. The same rule serves mTPI-2 and i3+3 (their
authors' R package FIND selects the MTD the same way).

One implementation works on a batch of trials at once (NumPy arrays), so the live decision (a
batch of one) and the simulator run the very same code.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import numpy.typing as npt

from .common import prob_above

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

NO_MTD = -1


def isotonic_fit(values: FloatArray, weights: FloatArray, mask: BoolArray) -> FloatArray:
    """Weighted isotonic regression over the masked entries of each row (unmasked: NaN).

    Uses the max-min formula iso_i = max_{s <= i} min_{t >= i} mean_w(s..t) over masked
    entries, which equals the pool-adjacent-violators result and vectorises over rows.
    """
    rows, k = values.shape
    w = np.where(mask, weights, 0.0)
    wx = np.where(mask, values * weights, 0.0)
    cw = np.concatenate([np.zeros((rows, 1)), np.cumsum(w, axis=1)], axis=1)
    cwx = np.concatenate([np.zeros((rows, 1)), np.cumsum(wx, axis=1)], axis=1)
    # block[s, t] = weighted mean over s..t (inclusive), for s <= t.
    s_idx = np.arange(k)[:, None]
    t_idx = np.arange(k)[None, :]
    sw = cw[:, None, 1:] - cw[:, :-1, None]  # (rows, s, t)
    swx = cwx[:, None, 1:] - cwx[:, :-1, None]
    valid = (s_idx <= t_idx)[None, :, :] & (sw > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        block = np.where(valid, swx / np.where(sw > 0, sw, 1.0), np.nan)
    fit = np.full((rows, k), np.nan)
    for i in range(k):
        # min over t >= i of block[s, t], for each s <= i; then max over s <= i.
        inner = np.where(np.isnan(block[:, : i + 1, i:]), np.inf, block[:, : i + 1, i:])
        mins = inner.min(axis=2)
        mins = np.where(np.isinf(mins), -np.inf, mins)
        fit[:, i] = mins.max(axis=1)
    return np.where(mask, fit, np.nan)


def elimination_boundary(target: float, cutoff: float, n_max: int, min_n: int = 3) -> IntArray:
    """For n = 0..n_max: the fewest DLTs with Pr(p > target | y, n) > cutoff (n >= min_n);
    n + 1 (never) where no count qualifies. BOIN's elimination rule (docs/designs.md §2.3)."""
    return np.array(elimination_counts(target, cutoff, n_max, min_n), dtype=np.int64)


@lru_cache(maxsize=1024)
def elimination_counts(target: float, cutoff: float, n_max: int, min_n: int = 3) -> tuple[int, ...]:
    """`elimination_boundary` as a tuple (cached: the live decision asks for it every time)."""
    out = []
    for n in range(n_max + 1):
        value = n + 1
        if n >= min_n:
            value = next((y for y in range(n + 1) if prob_above(target, n, y) > cutoff), n + 1)
        out.append(value)
    return tuple(out)


def eliminated_levels(boundary: IntArray, n: IntArray, y: IntArray) -> BoolArray:
    """Per row: the lowest dose whose counts reach the elimination boundary, and all above."""
    flag = y >= boundary[n]
    return np.logical_or.accumulate(flag, axis=1)


def select_mtd_batch(
    *,
    target: float,
    n: IntArray,
    y: IntArray,
    eliminated: BoolArray,
    lowest_stopped: BoolArray,
    bound: float | None = None,
) -> tuple[IntArray, FloatArray]:
    """The selected dose per row (NO_MTD = none) and the isotonic estimates used.

    `eliminated`: levels excluded (the elimination rule); `lowest_stopped`: rows where the
    lowest dose is excluded (by elimination or the extra safety rule): no MTD there.
    `bound`: BOIN's boundMTD, the estimate of the selected dose must be <= this (lambda_d).
    """
    n_f = n.astype(np.float64)
    y_f = y.astype(np.float64)
    admissible = (n > 0) & ~eliminated
    p = (y_f + 0.05) / (n_f + 0.1)
    var = (y_f + 0.05) * (n_f - y_f + 0.05) / ((n_f + 0.1) ** 2 * (n_f + 1.1))
    fit = isotonic_fit(p, 1.0 / var, admissible)
    # BOIN adds 1e-10 x (rank among admissible doses); any increasing sequence orders ties the
    # same way, and ranks keep the exact R values for display.
    rank = np.cumsum(admissible, axis=1).astype(np.float64)
    tied = fit + rank * 1e-10
    distance = np.abs(tied - target)
    candidate = admissible.copy()
    if bound is not None:
        candidate &= tied <= bound
    distance = np.where(candidate, distance, np.inf)
    best = np.argmin(distance, axis=1)  # the first (lowest) dose on an exact tie
    chosen = np.where(np.isfinite(distance.min(axis=1)), best, NO_MTD)
    chosen = np.where(lowest_stopped | ~admissible.any(axis=1), NO_MTD, chosen)
    return chosen.astype(np.int64), fit


def select_mtd(
    *,
    target: float,
    n: tuple[int, ...],
    y: tuple[int, ...],
    cutoff: float = 0.95,
    extrasafe_cutoff: float | None = None,
    bound: float | None = None,
) -> tuple[int | None, tuple[float | None, ...]]:
    """One trial's MTD (0-based position, None = no MTD) and the isotonic estimates per dose."""
    n_a = np.array([n], dtype=np.int64)
    y_a = np.array([y], dtype=np.int64)
    eliminated = eliminated_levels(elimination_boundary(target, cutoff, max(n)), n_a, y_a)
    lowest = eliminated[:, 0].copy()
    if extrasafe_cutoff is not None and n[0] >= 3:
        lowest |= prob_above(target, n[0], y[0]) > extrasafe_cutoff
    chosen, fit = select_mtd_batch(
        target=target, n=n_a, y=y_a, eliminated=eliminated, lowest_stopped=lowest, bound=bound
    )
    estimates = tuple(None if np.isnan(v) else float(v) for v in fit[0])
    value = int(chosen[0])
    return (None if value == NO_MTD else value), estimates
