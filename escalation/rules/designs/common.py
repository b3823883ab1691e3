"""What every dose-finding design of this package takes and returns (docs/designs.md §1).

A design decides from counts: at each dose level of a track, the evaluable subjects `n`, the
subjects with a DLT `y` and, for time-to-event designs, the follow-up fraction of each subject
still pending. The Django layer builds `DesignFacts` from the subjects' DLT evaluations; the
simulator builds the same facts from simulated subjects.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import StrEnum
from fractions import Fraction
from functools import lru_cache

from escalation.rules.errors import EscalationInputError

DESIGNS_VERSION = "escalation-designs 1.0.0 (2026-03)"


class DesignInputError(EscalationInputError):
    """Design settings or facts that break a rule; the message names the field and the rule."""


class Action(StrEnum):
    """What the next cohort does (docs/designs.md §1)."""

    ESCALATE = "escalate"
    STAY = "stay"
    DE_ESCALATE = "de-escalate"
    DE_ESCALATE_ELIMINATE = "de-escalate and eliminate"  # this dose and all higher ones
    SUSPEND_ACCRUAL = "suspend accrual"  # wait for pending outcomes
    STOP = "stop"  # stop the trial, no MTD
    SELECT_MTD = "select MTD"  # the trial is complete; `mtd` is the selected dose


class Letter(StrEnum):
    """One cell of a decision table: the decision at the current dose from (n, y) alone."""

    E = "E"  # escalate
    S = "S"  # stay
    D = "D"  # de-escalate
    DE = "DE"  # de-escalate and eliminate this and higher doses (mTPI-2 says "DU")


@dataclass(frozen=True)
class LevelData:
    """One dose level: `evaluable` subjects (n), of whom `dlts` (y) had a DLT.

    `pending` holds, for each subject treated at the level whose DLT window is still open without
    a DLT, the fraction of the window followed so far (0 <= f < 1). Only time-to-event designs
    use it; the others wait for pending subjects.
    """

    evaluable: int
    dlts: int
    pending: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "pending", tuple(float(f) for f in self.pending))
        if self.evaluable < 0:
            raise DesignInputError("evaluable: cannot be negative")
        if not 0 <= self.dlts <= self.evaluable:
            raise DesignInputError("dlts: must be between 0 and the number evaluable")
        if any(not (0.0 <= f < 1.0) or math.isnan(f) for f in self.pending):
            raise DesignInputError("pending: each follow-up fraction must be in [0, 1)")

    @property
    def treated(self) -> int:
        return self.evaluable + len(self.pending)


@dataclass(frozen=True)
class DesignFacts:
    """The counts a design decides from.

    - `levels`: every dose level of the track, lowest first.
    - `current`: position (0-based) of the dose level the most recent cohort received.
    - `last_cohort`: (subjects, DLTs) of the most recent cohort; the CRM's coherence rule reads
      it (None = not known: the rule then uses the current level's counts).
    """

    levels: tuple[LevelData, ...]
    current: int = 0
    last_cohort: tuple[int, int] | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "levels", tuple(self.levels))
        if not self.levels:
            raise DesignInputError("levels: at least one dose level is needed")
        if not 0 <= self.current < len(self.levels):
            raise DesignInputError("current: must be the position of one of the dose levels")
        if self.last_cohort is not None:
            size, dlts = self.last_cohort
            if size < 1 or not 0 <= dlts <= size:
                raise DesignInputError("last_cohort: (subjects >= 1, 0 <= DLTs <= subjects)")

    @property
    def n(self) -> tuple[int, ...]:
        return tuple(level.evaluable for level in self.levels)

    @property
    def y(self) -> tuple[int, ...]:
        return tuple(level.dlts for level in self.levels)

    @property
    def treated(self) -> int:
        return sum(level.treated for level in self.levels)

    @classmethod
    def from_counts(
        cls,
        n: tuple[int, ...] | list[int],
        y: tuple[int, ...] | list[int],
        current: int,
        last_cohort: tuple[int, int] | None = None,
    ) -> DesignFacts:
        if len(n) != len(y):
            raise DesignInputError("n and y: one count per dose level")
        return cls(
            levels=tuple(LevelData(a, b) for a, b in zip(n, y, strict=True)),
            current=current,
            last_cohort=last_cohort,
        )


@dataclass(frozen=True)
class DecisionTable:
    """A design's decision at one dose as data: `cells[n - 1][y]` for n = 1..n_max, y = 0..n."""

    design: str
    settings: str  # the settings' repr, shown with the table
    cells: tuple[tuple[Letter, ...], ...]

    @property
    def n_max(self) -> int:
        return len(self.cells)

    def cell(self, n: int, y: int) -> Letter:
        if not 1 <= n <= self.n_max or not 0 <= y <= n:
            raise DesignInputError(f"decision table: no cell for n={n}, y={y}")
        return self.cells[n - 1][y]

    def rows(self) -> tuple[tuple[int, tuple[Letter, ...]], ...]:
        """(n, decisions for y = 0..n) per row, for display."""
        return tuple((index + 1, row) for index, row in enumerate(self.cells))

    def boundaries(self) -> tuple[tuple[int, int | None, int | None, int | None], ...]:
        """Per n: (n, escalate if y <=, de-escalate if y >=, eliminate if y >=); None = never."""
        out = []
        for n, row in self.rows():
            e = max((y for y, c in enumerate(row) if c is Letter.E), default=None)
            d = min((y for y, c in enumerate(row) if c in (Letter.D, Letter.DE)), default=None)
            de = min((y for y, c in enumerate(row) if c is Letter.DE), default=None)
            out.append((n, e, d, de))
        return tuple(out)


@dataclass(frozen=True)
class DesignDecision:
    """What the design recommends for the next cohort; the committee confirms or overrides it.

    `dose` is the position of the level the next cohort receives (None when the trial stops);
    `mtd` the selected level when `action` is SELECT_MTD; `eliminated` one flag per level;
    `rule` names the design rule that decided; `estimates` the model's or the isotonic DLT
    estimates per level when the design has them (None where a level has no data).
    """

    design: str
    action: Action
    rule: str
    text: str
    current: int
    dose: int | None
    cohort_size: int
    eliminated: tuple[bool, ...]
    mtd: int | None = None
    estimates: tuple[float | None, ...] = ()
    table: DecisionTable | None = None
    notes: tuple[str, ...] = ()
    version: str = DESIGNS_VERSION
    details: dict[str, float] = field(default_factory=dict)


@lru_cache(maxsize=4096)
def exact(value: float) -> Fraction:
    """A setting such as 0.3 as the decimal the protocol wrote (3/10), not the binary float."""
    return Fraction(repr(float(value)))


def prob_above(target: float, n: int, y: int) -> float:
    """Pr(p > target | y DLTs in n) under a Beta(1, 1) prior: 1 - BetaCDF(target; y+1, n-y+1).

    Computed exactly as Pr(Binomial(n + 1, target) <= y), the identity between the beta and
    binomial distributions, so no special-function library is needed.
    """
    if not 0 <= y <= n:
        raise DesignInputError("DLTs must be between 0 and the number evaluable")
    m = n + 1
    return math.fsum(
        math.comb(m, k) * target**k * (1.0 - target) ** (m - k) for k in range(0, y + 1)
    )


def check_target(target: float) -> None:
    if not 0.05 <= target <= 0.6:
        raise DesignInputError("target: the target DLT probability must be in [0.05, 0.6]")


def check_positive(name: str, value: int) -> None:
    if value < 1:
        raise DesignInputError(f"{name}: must be at least 1")
