"""TITE-BOIN, BOIN with pending DLT outcomes (docs/designs.md §5).

Yuan, Lin, Li, Nie & Warren, Clin Cancer Res 2018;24:4921-4930. At the current dose: n treated,
y DLTs, c pending (window open, no DLT), r = n - c; STFT = the pending subjects' follow-up
fractions added up (0 <= STFT < c). With p = (y + phi / 2) / (r + 1) and q = p / (1 - p), the
imputed rate is p_tilde = (y + q (c - STFT)) / n. In order:

1. elimination as BOIN, pending subjects counted as without DLT -> DE;
2. y / n >= lambda_d -> D (whatever the pending subjects do, the rate cannot fall);
3. pending / n above `suspend_fraction` (one half) -> suspend accrual;
4. y / n < phi: E if p_tilde <= lambda_e, else S;
5. y / n >= phi: D if p_tilde >= lambda_d, else S.

With no pending subject this is BOIN. The decision table (`tite_table`) lists each (n, y, c)
with its decision or the STFT threshold that splits it, in the manner of the paper's Table 1.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction

from .boin import BoinSettings
from .common import DesignDecision, DesignFacts, DesignInputError, Letter, LevelData, exact
from .interval import TrialSettings, decide_interval, elimination_cell


@dataclass(frozen=True)
class TiteBoinSettings:
    """BOIN's settings, plus `suspend_fraction` (suspend when pending / n exceeds it) and the
    DLT window in days (`window_days`, used by the simulator and to compute follow-up)."""

    boin: BoinSettings = field(default_factory=BoinSettings)
    suspend_fraction: float = 0.5
    window_days: float = 28.0

    def __post_init__(self) -> None:
        if not 0 < self.suspend_fraction < 1:
            raise DesignInputError("suspend_fraction: must be in (0, 1)")
        if self.window_days <= 0:
            raise DesignInputError("window_days: must be positive")

    @property
    def name(self) -> str:
        return "TITE-BOIN"

    @property
    def trial(self) -> TrialSettings:
        return self.boin.trial

    @property
    def bound(self) -> float | None:
        return self.boin.bound

    def cell(self, n: int, y: int) -> Letter:
        return self.boin.cell(n, y)

    def imputed_rate(self, n: int, y: int, pending: int, stft: float) -> float:
        """p_tilde = (y + q (c - STFT)) / n."""
        target = self.trial.target
        p = (y + target / 2) / (n - pending + 1)
        q = p / (1 - p)
        return (y + q * (pending - stft)) / n

    def pending_letter(self, level: LevelData) -> Letter | None:
        """The decision at a dose with pending subjects; None = suspend accrual."""
        pending = len(level.pending)
        n = level.treated
        y = level.dlts
        if pending == 0:
            return self.boin.cell(n, y)
        lambda_e, lambda_d = self.boin.lambdas
        if elimination_cell(self.trial, n, y):
            return Letter.DE
        if y >= self.boin.deescalate_min(n):
            return Letter.D
        if Fraction(pending, n) > exact(self.suspend_fraction):
            return None
        rate = self.imputed_rate(n, y, pending, math.fsum(level.pending))
        if Fraction(y, n) < exact(self.trial.target):
            return Letter.E if rate <= lambda_e else Letter.S
        return Letter.D if rate >= lambda_d else Letter.S


@dataclass(frozen=True)
class TiteRow:
    """One row of the TITE-BOIN table: n treated, y DLTs, c pending, and the decision.

    `decision` is "E", "S", "D", "DE", "suspend", or "E if STFT >= t" / "D if STFT <= t" with
    the threshold in `stft_threshold` (else S).
    """

    n: int
    y: int
    pending: int
    decision: str
    stft_threshold: float | None = None


def tite_table(settings: TiteBoinSettings, n_max: int = 12) -> tuple[TiteRow, ...]:
    """Every (n, y, c) for n = cohort size, 2 x cohort size, ... up to n_max."""
    lambda_e, lambda_d = settings.boin.lambdas
    target = settings.trial.target
    rows = []
    step = settings.trial.cohort_size
    for n in range(step, n_max + 1, step):
        for y in range(n + 1):
            for c in range(n - y + 1):
                rows.append(_tite_row(settings, n, y, c, lambda_e, lambda_d, target))
    return tuple(rows)


def _tite_row(
    settings: TiteBoinSettings,
    n: int,
    y: int,
    c: int,
    lambda_e: float,
    lambda_d: float,
    target: float,
) -> TiteRow:
    if c == 0:
        return TiteRow(n, y, c, str(settings.boin.cell(n, y)))
    if elimination_cell(settings.trial, n, y):
        return TiteRow(n, y, c, str(Letter.DE))
    if y >= settings.boin.deescalate_min(n):
        return TiteRow(n, y, c, str(Letter.D))
    if Fraction(c, n) > exact(settings.suspend_fraction):
        return TiteRow(n, y, c, "suspend")
    p = (y + target / 2) / (n - c + 1)
    q = p / (1 - p)
    # p_tilde is decreasing in STFT, so each decision holds on one side of a threshold.
    if Fraction(y, n) < exact(target):
        threshold = c - (n * lambda_e - y) / q
        if threshold <= 0:
            return TiteRow(n, y, c, "E")
        if threshold >= c:
            return TiteRow(n, y, c, "S")
        return TiteRow(n, y, c, "E if STFT >= t", threshold)
    threshold = c - (n * lambda_d - y) / q
    if threshold < 0:
        return TiteRow(n, y, c, "S")
    if threshold >= c:
        return TiteRow(n, y, c, "D")
    return TiteRow(n, y, c, "D if STFT <= t", threshold)


def tite_boin_decide(settings: TiteBoinSettings, facts: DesignFacts) -> DesignDecision:
    """The TITE-BOIN recommendation; pending subjects carry their follow-up fractions."""
    return decide_interval(settings, facts, pending_rule=settings.pending_letter)
