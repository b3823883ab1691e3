"""BOIN, the Bayesian optimal interval design (docs/designs.md §2).

Liu & Yuan, JRSS-C 2015;64:507-523; R package BOIN (Yan et al., J Stat Softw 2020;94(13)).
At the current dose, with p_hat = y / n: escalate if p_hat <= lambda_e, de-escalate if
p_hat >= lambda_d, else stay, where

    lambda_e = ln((1 - phi1) / (1 - phi)) / ln(phi (1 - phi1) / (phi1 (1 - phi)))
    lambda_d = ln((1 - phi) / (1 - phi2)) / ln(phi2 (1 - phi) / (phi (1 - phi2)))

(phi1 = 0.6 phi, phi2 = 1.4 phi by default). The comparisons are made on integer counts:
escalate if y <= floor(lambda_e n), de-escalate if y >= ceil(lambda_d n), each with a 1e-9
tolerance so that a product landing a hair off an integer in binary floating point still counts
as equal (inclusive, as the paper states). Elimination (n >= 3 and Pr(p > phi | y, n) > cutoff,
Beta(1, 1) prior) makes a cell DE; the de-escalation boundary is thereby capped at it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from .common import DecisionTable, DesignDecision, DesignFacts, DesignInputError, Letter
from .interval import TrialSettings, decide_interval, decision_table, elimination_cell

_TOLERANCE = 1e-9


def boin_boundaries(target: float, phi1: float, phi2: float) -> tuple[float, float]:
    """(lambda_e, lambda_d), Liu & Yuan 2015, section 2.2."""
    lambda_e = math.log((1 - phi1) / (1 - target)) / math.log(
        target * (1 - phi1) / (phi1 * (1 - target))
    )
    lambda_d = math.log((1 - target) / (1 - phi2)) / math.log(
        phi2 * (1 - target) / (target * (1 - phi2))
    )
    return lambda_e, lambda_d


@dataclass(frozen=True)
class BoinSettings:
    """BOIN's settings (docs/designs.md §2.5).

    - `phi1`, `phi2`: the highest rate deemed under-dosing and the lowest deemed overdosing
      (None: 0.6 x target and 1.4 x target) [p.saf, p.tox].
    - `bound_mtd`: the selected MTD's isotonic estimate must be <= lambda_d [boundMTD].
    - `stay_at_1_of_3`: MD Anderson option for targets 0.25-0.279: 1/3 stays.
    - `deescalate_at_2_of_6`: MD Anderson option for targets 0.28-0.33: 2/6 de-escalates.
    """

    trial: TrialSettings = field(default_factory=TrialSettings)
    phi1: float | None = None
    phi2: float | None = None
    bound_mtd: bool = False
    stay_at_1_of_3: bool = False
    deescalate_at_2_of_6: bool = False

    def __post_init__(self) -> None:
        self.trial.check()
        target = self.trial.target
        if target - self.low < 0.1 * target:
            raise DesignInputError("phi1: must be below the target by at least 10% of it")
        if self.high - target < 0.1 * target:
            raise DesignInputError("phi2: must be above the target by at least 10% of it")
        if not self.low > 0 or not self.high < 1:
            raise DesignInputError("phi1, phi2: must lie strictly between 0 and 1")
        if self.stay_at_1_of_3 and not 0.25 <= target <= 0.279:
            raise DesignInputError("stay_at_1_of_3: only for targets from 0.25 to 0.279")
        if self.deescalate_at_2_of_6 and not 0.28 <= target <= 0.33:
            raise DesignInputError("deescalate_at_2_of_6: only for targets from 0.28 to 0.33")

    @property
    def name(self) -> str:
        return "BOIN"

    @property
    def low(self) -> float:
        return 0.6 * self.trial.target if self.phi1 is None else self.phi1

    @property
    def high(self) -> float:
        return 1.4 * self.trial.target if self.phi2 is None else self.phi2

    @property
    def lambdas(self) -> tuple[float, float]:
        return boin_boundaries(self.trial.target, self.low, self.high)

    @property
    def bound(self) -> float | None:
        return self.lambdas[1] if self.bound_mtd else None

    def escalate_max(self, n: int) -> int:
        """Escalate if y <= this (floor(lambda_e n))."""
        return math.floor(self.lambdas[0] * n + _TOLERANCE)

    def deescalate_min(self, n: int) -> int:
        """De-escalate if y >= this (ceil(lambda_d n)), before the cap at elimination."""
        return math.ceil(self.lambdas[1] * n - _TOLERANCE)

    def cell(self, n: int, y: int) -> Letter:
        if not 0 <= y <= n or n < 1:
            raise DesignInputError(f"BOIN: no decision for n={n}, y={y}")
        if elimination_cell(self.trial, n, y):
            return Letter.DE
        if self.stay_at_1_of_3 and (n, y) == (3, 1):
            return Letter.S
        if self.deescalate_at_2_of_6 and (n, y) == (6, 2):
            return Letter.D
        if y >= self.deescalate_min(n):
            return Letter.D
        if y <= self.escalate_max(n):
            return Letter.E
        return Letter.S


def boin_table(settings: BoinSettings, n_max: int = 30) -> DecisionTable:
    return decision_table(settings, n_max)


def boin_decide(settings: BoinSettings, facts: DesignFacts) -> DesignDecision:
    """The BOIN recommendation for the next cohort (docs/designs.md §2)."""
    return decide_interval(settings, facts)
