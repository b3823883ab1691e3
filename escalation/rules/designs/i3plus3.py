"""i3+3, the interval 3+3 design (docs/designs.md §4).

Liu, Wang & Ji, J Biopharm Stat 2020;30:294-304. With EI = [target - eps1, target + eps2]:
y / n below EI escalate; inside EI (both ends included) stay; above EI stay if (y - 1) / n is
below EI, else de-escalate. Dose exclusion as mTPI-2 (the authors' package FIND: n >= 3 and
Pr(p > target | y, n) > cutoff). The comparisons are exact on fractions, so 3/10 equals 0.3.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

from .common import DecisionTable, DesignDecision, DesignFacts, DesignInputError, Letter, exact
from .interval import TrialSettings, decide_interval, decision_table, elimination_cell


@dataclass(frozen=True)
class I3plus3Settings:
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
        return "i3+3"

    @property
    def bound(self) -> float | None:
        return None

    def cell(self, n: int, y: int) -> Letter:
        if not 0 <= y <= n or n < 1:
            raise DesignInputError(f"i3+3: no decision for n={n}, y={y}")
        if elimination_cell(self.trial, n, y):
            return Letter.DE
        low = exact(self.trial.target) - exact(self.eps1)
        high = exact(self.trial.target) + exact(self.eps2)
        rate = Fraction(y, n)
        if rate < low:
            return Letter.E
        if rate <= high:
            return Letter.S
        if Fraction(y - 1, n) < low:
            return Letter.S
        return Letter.D


def i3plus3_table(settings: I3plus3Settings, n_max: int = 30) -> DecisionTable:
    return decision_table(settings, n_max)


def i3plus3_decide(settings: I3plus3Settings, facts: DesignFacts) -> DesignDecision:
    return decide_interval(settings, facts)
