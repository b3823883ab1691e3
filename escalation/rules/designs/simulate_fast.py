"""TITE-BOIN and CRM trials in calendar time, vectorised over trials (docs/designs.md §10.1).

The same trials as the one-at-a-time simulator (`simulate._calendar`, which calls
`tite_boin_decide` and `crm_decide` themselves): the same draws in the same order (each
subject's DLT, onset and arrival gap), the same decision at every step, written as array
operations over all trials still running. Tests run both engines on the same seed and find every
trial's subjects, DLTs, selected dose, early stop and duration equal.

Each step, for every running trial: the counts at each level as the live decision sees them on
that day (a DLT counts once its onset has passed; a subject is complete once the window has
passed; the rest are pending with the fraction of the window followed); then the design's rules
in the order of its decision function; then the trial waits for its next outcome, stops,
selects the MTD, or enrolls the next cohort (the first subject now, the others a gap apart).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias

import numpy as np
import numpy.typing as npt

from .common import exact
from .crm import CrmSettings, posteriors_batch, prob_too_toxic
from .interval import table_codes
from .isotonic import NO_MTD, eliminated_levels, elimination_boundary, select_mtd_batch
from .tite_boin import TiteBoinSettings

IntArray: TypeAlias = npt.NDArray[np.int64]
FloatArray: TypeAlias = npt.NDArray[np.float64]
BoolArray: TypeAlias = npt.NDArray[np.bool_]
Result: TypeAlias = tuple[IntArray, IntArray, IntArray, BoolArray, FloatArray]

_ALMOST_ONE = 1.0 - 1e-12
E, S, D, DE = 0, 1, 2, 3  # the decision table's codes (interval.table_codes)
WAIT, STOP, FINAL, ENROLL = 0, 1, 2, 3  # what a trial does at a step


@dataclass
class _View:
    """The running trials' data on their own day (rows = `idx`)."""

    idx: IntArray
    now: FloatArray
    dose: IntArray  # per subject slot
    enrolled: BoolArray
    pending: BoolArray
    ends: FloatArray  # min(DLT onset, window end) per subject
    fraction: FloatArray  # pending subjects' follow-up fraction
    treated: IntArray  # per level
    dlts: IntArray
    n_pending: IntArray
    current: IntArray
    total: IntArray
    last_size: IntArray
    last_dlts: IntArray


class _Trials:
    """Every trial's subjects: arrival, dose and DLT onset (inf: no DLT) per slot."""

    def __init__(
        self,
        p: FloatArray,
        u_dlt: FloatArray,
        u_onset: FloatArray,
        gaps: FloatArray,
        window: float,
        onset: tuple[float, float],
    ) -> None:
        t, cap = u_dlt.shape
        self.p, self.u_dlt, self.u_onset, self.gaps = p, u_dlt, u_onset, gaps
        self.window = window
        self.onset = onset
        self.t, self.cap, self.k = t, cap, len(p)
        self.slots = np.arange(cap)
        self.levels = np.arange(self.k)
        self.arrival = np.full((t, cap), np.inf)
        self.dose_of = np.full((t, cap), -1, dtype=np.int64)
        self.dlt_at = np.full((t, cap), np.inf)
        self.count = np.zeros(t, dtype=np.int64)
        self.now = np.zeros(t)
        self.d = np.zeros(t, dtype=np.int64)
        self.active = np.ones(t, dtype=bool)
        self.selected = np.full(t, NO_MTD, dtype=np.int64)
        self.early = np.zeros(t, dtype=bool)
        self.last_size = np.zeros(t, dtype=np.int64)
        self.last_dlts = np.zeros(t, dtype=np.int64)

    def view(self) -> _View:
        idx = np.flatnonzero(self.active)
        now = self.now[idx]
        arrival = self.arrival[idx]
        dose = self.dose_of[idx]
        dlt = self.dlt_at[idx]
        enrolled = self.slots[None, :] < self.count[idx][:, None]
        seen = enrolled & (dlt <= now[:, None])
        window_end = arrival + self.window
        complete = enrolled & ~seen & (window_end <= now[:, None])
        pending = enrolled & ~seen & ~complete
        fraction = np.where(
            pending, np.minimum((now[:, None] - arrival) / self.window, _ALMOST_ONE), 0.0
        )
        return _View(
            idx=idx,
            now=now,
            dose=dose,
            enrolled=enrolled,
            pending=pending,
            ends=np.where(enrolled, np.minimum(dlt, window_end), np.inf),
            fraction=fraction,
            treated=self._per_level(dose, enrolled),
            dlts=self._per_level(dose, seen),
            n_pending=self._per_level(dose, pending),
            current=self.d[idx],
            total=self.count[idx],
            last_size=self.last_size[idx],
            last_dlts=self.last_dlts[idx],
        )

    def _per_level(self, dose: IntArray, mask: BoolArray) -> IntArray:
        """Per row and level, how many subjects of `mask` (rows x slots) are at that level."""
        m = dose.shape[0]
        keys = (np.arange(m)[:, None] * self.k + dose)[mask]
        return np.bincount(keys, minlength=m * self.k).reshape(m, self.k).astype(np.int64)

    def wait(self, view: _View, mask: BoolArray) -> None:
        """Jump to the next outcome (a DLT's onset or a window's end) after now."""
        if not mask.any():
            return
        upcoming = np.where(view.ends > view.now[:, None], view.ends, np.inf)
        self.now[view.idx[mask]] = upcoming[mask].min(axis=1) + 1e-9

    def finish(self, rows: IntArray, selected: IntArray, early: BoolArray) -> None:
        self.selected[rows] = selected
        self.early[rows] = early
        self.active[rows] = False

    def enroll(self, rows: IntArray, doses: IntArray, cohort: int) -> None:
        """A cohort at `doses`: the first subject now, each next one a gap later."""
        if not len(rows):
            return
        a, b = self.onset
        self.d[rows] = doses
        start = self.count[rows]
        size = np.minimum(cohort, self.cap - start)
        last = self.now[rows].copy()
        dlts = np.zeros(len(rows), dtype=np.int64)
        for j in range(cohort):
            live = j < size
            if not live.any():
                break
            r = rows[live]
            slot = start[live] + j
            when = self.now[r] if j == 0 else last[live] + self.gaps[r, slot]
            self.arrival[r, slot] = when
            self.dose_of[r, slot] = doses[live]
            has_dlt = self.u_dlt[r, slot] < self.p[doses[live]]
            onset_at = when + (a + (b - a) * self.u_onset[r, slot]) * self.window
            self.dlt_at[r, slot] = np.where(has_dlt, onset_at, np.inf)
            last[live] = when
            dlts[live] += has_dlt
        self.count[rows] = start + size
        self.last_size[rows] = size
        self.last_dlts[rows] = dlts
        self.now[rows] = last + self.gaps[rows, np.minimum(self.count[rows], self.cap - 1)]

    def result(self) -> Result:
        enrolled = self.slots[None, :] < self.count[:, None]
        ends = np.where(enrolled, np.minimum(self.dlt_at, self.arrival + self.window), -np.inf)
        duration = np.where(self.count > 0, np.maximum(self.now, ends.max(axis=1)), 0.0)
        n = np.zeros((self.t, self.k), dtype=np.int64)
        y = np.zeros((self.t, self.k), dtype=np.int64)
        for j in range(self.k):
            at = (self.dose_of == j) & enrolled
            n[:, j] = at.sum(axis=1)
            y[:, j] = (at & np.isfinite(self.dlt_at)).sum(axis=1)
        return n, y, self.selected, self.early, duration


def _settle(outcome: IntArray, mask: BoolArray, value: int) -> None:
    outcome[mask & (outcome == -1)] = value


def tite_boin_trials(
    settings: TiteBoinSettings,
    p: FloatArray,
    u_dlt: FloatArray,
    u_onset: FloatArray,
    gaps: FloatArray,
    onset: tuple[float, float],
) -> Result:
    """TITE-BOIN in the order of `interval.decide_interval` with `pending_letter`: elimination
    (pending as no DLT), the maximum sample size (wait for pending outcomes, then select the
    MTD), the start, the extra safety rule, the TITE rule at the current dose (BOIN's table
    without pending subjects), the early-stop rule, and the move."""
    trial = settings.trial
    state = _Trials(p, u_dlt, u_onset, gaps, settings.window_days, onset)
    cap, k = state.cap, state.k
    target = trial.target
    lambda_e, lambda_d = settings.boin.lambdas
    codes = table_codes(settings.boin, cap)
    elim_b = elimination_boundary(target, trial.cutoff, cap)
    safe_b = (
        elimination_boundary(target, trial.cutoff - trial.offset, cap)
        if trial.extrasafe
        else np.arange(cap + 1) + 1
    )
    deesc_min = np.array(
        [cap + 1] + [settings.boin.deescalate_min(n) for n in range(1, cap + 1)], dtype=np.int64
    )
    suspend = exact(settings.suspend_fraction)
    target_q = exact(target)

    while state.active.any():
        v = state.view()
        m = len(v.idx)
        rows = np.arange(m)
        cur = v.current
        eliminated = eliminated_levels(elim_b, v.treated, v.dlts)
        n = v.treated[rows, cur]
        y = v.dlts[rows, cur]
        c = v.n_pending[rows, cur]
        stft = np.where(v.dose == cur[:, None], v.fraction, 0.0).sum(axis=1)

        outcome = np.full(m, -1, dtype=np.int64)
        _settle(outcome, eliminated[:, 0], STOP)
        at_cap = v.total >= cap
        _settle(outcome, at_cap & v.pending.any(axis=1), WAIT)
        _settle(outcome, at_cap, FINAL)
        _settle(outcome, n == 0, ENROLL)  # the start: this dose
        if trial.extrasafe:
            _settle(outcome, (cur == 0) & (y >= safe_b[n]), STOP)

        letter = codes[n, y]
        with np.errstate(divide="ignore", invalid="ignore"):
            prior = (y + target / 2) / (n - c + 1)
            q = prior / (1 - prior)
            rate = (y + q * (c - stft)) / np.maximum(n, 1)
        below_target = y * target_q.denominator < target_q.numerator * n
        tite = np.where(
            below_target, np.where(rate <= lambda_e, E, S), np.where(rate >= lambda_d, D, S)
        )
        tite = np.where(c * suspend.denominator > suspend.numerator * n, -1, tite)
        tite = np.where(y >= deesc_min[n], D, tite)
        tite = np.where(y >= elim_b[n], DE, tite)
        letter = np.where(c > 0, tite, letter)
        _settle(outcome, letter == -1, WAIT)  # too many pending: suspend accrual

        blocked_up = (cur == k - 1) | eliminated[rows, np.minimum(cur + 1, k - 1)]
        stays = (letter == S) | ((letter >= D) & (cur == 0)) | ((letter == E) & blocked_up)
        _settle(outcome, (n >= trial.n_earlystop) & stays, FINAL)
        up = (letter == E) & ~blocked_up
        down = (letter >= D) & (cur > 0)
        target_dose = np.where(up, cur + 1, np.where(down, cur - 1, cur))
        _settle(outcome, np.ones(m, dtype=bool), ENROLL)

        state.wait(v, outcome == WAIT)
        finishing = (outcome == STOP) | (outcome == FINAL)
        if finishing.any():
            # select_mtd on the evaluable subjects, as `interval._final`.
            n_e = (v.treated - v.n_pending)[finishing]
            y_e = v.dlts[finishing]
            final_elim = eliminated_levels(elim_b, n_e, y_e)
            lowest = final_elim[:, 0] | ((n_e[:, 0] >= 3) & (y_e[:, 0] >= safe_b[n_e[:, 0]]))
            chosen, _ = select_mtd_batch(
                target=target,
                n=n_e,
                y=y_e,
                eliminated=final_elim,
                lowest_stopped=lowest,
                bound=settings.bound,
            )
            stopped = outcome[finishing] == STOP
            chosen = np.where(stopped, NO_MTD, chosen)
            # A stop before the maximum sample size is early (so is a final selection that
            # finds no dose: `_final` answers stop then).
            early = (stopped | (chosen == NO_MTD)) & (v.total[finishing] < cap)
            state.finish(v.idx[finishing], chosen, early)
        enrolling = outcome == ENROLL
        state.enroll(v.idx[enrolling], target_dose[enrolling], trial.cohort_size)
    return state.result()


def crm_trials(
    settings: CrmSettings,
    p: FloatArray,
    u_dlt: FloatArray,
    u_onset: FloatArray,
    gaps: FloatArray,
    onset: tuple[float, float],
) -> Result:
    """The CRM (without time-to-event weights) in the order of `crm.crm_decide`: wait for
    pending outcomes, the start, the posterior (one per distinct data set, `crm.posterior`,
    cached), stop_when_too_toxic, stop_at_n, the closest dose with no skipping and coherence,
    stop_when_n_at_dose."""
    state = _Trials(p, u_dlt, u_onset, gaps, settings.window_days, onset)
    cap = settings.stop_at_n
    fits: dict[tuple[tuple[int, ...], tuple[int, ...]], tuple[int, bool]] = {}
    rule = settings.stop_when_too_toxic

    def fit_all(keys: list[tuple[tuple[int, ...], tuple[int, ...]]]) -> None:
        """The posterior of every data set not seen yet (one batch), and the too-toxic rule."""
        missing = [key for key in dict.fromkeys(keys) if key not in fits]
        for key, fit in zip(missing, posteriors_batch(settings, missing), strict=True):
            toxic = False
            if rule is not None:
                toxic = prob_too_toxic(settings, key[0], key[1], (), rule) > rule.confidence
            fits[key] = (fit.recommended, toxic)

    while state.active.any():
        v = state.view()
        m = len(v.idx)
        rows = np.arange(m)
        cur = v.current
        outcome = np.full(m, -1, dtype=np.int64)
        waiting = np.asarray(v.pending.any(axis=1), dtype=bool)
        starting: BoolArray = v.total == 0
        _settle(outcome, waiting, WAIT)
        _settle(outcome, starting, ENROLL)
        deciding = outcome == -1
        recommended = cur.copy()
        toxic = np.zeros(m, dtype=bool)
        if deciding.any():
            data = np.concatenate([v.treated, v.dlts], axis=1)[deciding]
            unique, inverse = np.unique(data, axis=0, return_inverse=True)
            k = state.k
            keys = [(tuple(map(int, row[:k])), tuple(map(int, row[k:]))) for row in unique]
            fit_all(keys)
            found = [fits[key] for key in keys]
            recommended[deciding] = np.array([f[0] for f in found], dtype=np.int64)[inverse.ravel()]
            toxic[deciding] = np.array([f[1] for f in found], dtype=bool)[inverse.ravel()]
        _settle(outcome, toxic, STOP)
        _settle(outcome, v.total >= cap, FINAL)
        dose = recommended
        if settings.restrict:
            coherent = (v.last_dlts * 1.0 / np.maximum(v.last_size, 1) >= settings.target) & (
                dose > cur
            )
            dose = np.where(coherent, cur, np.where(dose > cur + 1, cur + 1, dose))
        if settings.stop_when_n_at_dose is not None:
            full = np.asarray(v.treated[rows, dose] >= settings.stop_when_n_at_dose, dtype=bool)
            _settle(outcome, full, FINAL)
        _settle(outcome, np.ones(m, dtype=bool), ENROLL)

        state.wait(v, outcome == WAIT)
        finishing = (outcome == STOP) | (outcome == FINAL)
        if finishing.any():
            # stop_at_n selects the unrestricted closest dose; stop_when_n_at_dose the
            # restricted one (as `crm_decide`).
            at_n = v.total >= cap
            chosen = np.where(at_n, recommended, dose)
            stopped = outcome == STOP
            chosen = np.where(stopped, NO_MTD, chosen)[finishing]
            early = (stopped & (v.total < cap))[finishing]
            state.finish(v.idx[finishing], chosen, early)
        enrolling = outcome == ENROLL
        state.enroll(v.idx[enrolling], dose[enrolling], settings.cohort_size)
    return state.result()
