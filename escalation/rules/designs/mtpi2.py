"""mTPI-2, the modified toxicity probability interval design 2 (docs/designs.md §3).

Guo et al., Contemp Clin Trials 2017;58:23-33. Posterior Beta(1 + y, 1 + n - y). The equivalence
interval EI = [target - eps1, target + eps2] and intervals of the same width below and above it,
cut at 0 and 1, partition [0, 1]; the interval with the largest unit probability mass
(posterior probability / width) decides: below EI escalate, EI stay, above de-escalate.
Dose exclusion (DU, "de-escalate and never return"): n >= 3 and Pr(p > target | y, n) > cutoff.
Interval ends are rounded to 3 decimals, as the authors' R package FIND does; a tie between
unit masses goes to the lowest interval (FIND's which.max).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from functools import cached_property

from scipy.stats import beta

from .common import DecisionTable, DesignDecision, DesignFacts, DesignInputError, Letter, exact
from .interval import TrialSettings, decide_interval, decision_table, elimination_cell


@dataclass(frozen=True)
class Mtpi2Settings:
    """`eps1`, `eps2`: the equivalence interval [target - eps1, target + eps2]."""

    trial: TrialSettings = field(default_factory=TrialSettings)
    eps1: float = 0.05
    eps2: float = 0.05

    def __post_init__(self) -> None:
        self.trial.check()
        t = self.trial.target
        if not 0.1 * t <= self.eps1 < t or not 0.1 * t <= self.eps2 < 1 - t:
            raise DesignInputError(
                "eps1, eps2: each at least 10% of the target and inside (0, 1) around it"
            )

    @property
    def name(self) -> str:
        return "mTPI-2"

    @property
    def bound(self) -> float | None:
        return None

    @cached_property
    def intervals(self) -> tuple[tuple[Fraction, Fraction, int], ...]:
        """(start, end, side) with side -1 below EI, 0 the EI, +1 above; exact decimals."""
        low = exact(self.trial.target) - exact(self.eps1)
        high = exact(self.trial.target) + exact(self.eps2)
        width = high - low
        out: list[tuple[Fraction, Fraction, int]] = []
        end = low
        while end > 0:
            out.insert(0, (max(end - width, Fraction(0)), end, -1))
            end -= width
        out.append((low, high, 0))
        start = high
        while start < 1:
            out.append((start, min(start + width, Fraction(1)), 1))
            start += width
        return tuple((_round3(a), _round3(b), side) for a, b, side in out)

    def upm_side(self, n: int, y: int) -> int:
        """The side (-1, 0, +1) of the interval with the largest unit probability mass."""
        best_side, best = 0, -1.0
        for start, end, side in self.intervals:
            mass = float(beta.cdf(float(end), 1 + y, 1 + n - y)) - float(
                beta.cdf(float(start), 1 + y, 1 + n - y)
            )
            upm = mass / float(end - start)
            if upm > best:
                best_side, best = side, upm
        return best_side

    def cell(self, n: int, y: int) -> Letter:
        if not 0 <= y <= n or n < 1:
            raise DesignInputError(f"mTPI-2: no decision for n={n}, y={y}")
        if elimination_cell(self.trial, n, y):
            return Letter.DE
        return {-1: Letter.E, 0: Letter.S, 1: Letter.D}[self.upm_side(n, y)]


def _round3(value: Fraction) -> Fraction:
    return Fraction(round(value * 1000), 1000)


def mtpi2_table(settings: Mtpi2Settings, n_max: int = 30) -> DecisionTable:
    return decision_table(settings, n_max)


def mtpi2_decide(settings: Mtpi2Settings, facts: DesignFacts) -> DesignDecision:
    return decide_interval(settings, facts)
