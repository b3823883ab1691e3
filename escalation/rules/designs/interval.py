"""The trial-level rules shared by the interval designs BOIN, mTPI-2 and i3+3 (docs/designs.md §2).

Each design supplies its decision table (E, S, D, DE from n and y at the current dose); the
rest is common and follows BOIN's `get.oc` (R package BOIN 2.7.2; Liu & Yuan 2015):

1. The lowest dose eliminated (n >= 3 and Pr(p > target | y, n) > cutoff): stop, no MTD.
2. Extra safety (option): at the lowest dose, n >= 3 and Pr(p > target) > cutoff - offset: stop.
3. n at the current dose >= n.earlystop and the next cohort would stay there: select the MTD.
4. E: escalate, unless the current dose is the top one or the next dose is eliminated (stay).
   D or DE: de-escalate (and eliminate), unless the current dose is the lowest (stay).
5. The maximum sample size reached: select the MTD (isotonic regression, isotonic.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol

import numpy as np

from .common import (
    Action,
    DecisionTable,
    DesignDecision,
    DesignFacts,
    DesignInputError,
    Letter,
    LevelData,
    check_positive,
    check_target,
    prob_above,
)
from .isotonic import elimination_counts, select_mtd
from .titration import Titration, titration_decision


@dataclass(frozen=True)
class TrialSettings:
    """Settings every interval design shares (the names of BOIN's get.oc in brackets).

    - `target`: target DLT probability phi [target].
    - `cohort_size` [cohortsize]; `max_subjects`: the maximum sample size [ncohort x cohortsize].
    - `n_earlystop`: stop once this many are at the current dose and it would stay [n.earlystop].
    - `cutoff`: the elimination cut-off, Pr(p > target) > cutoff with n >= 3 [cutoff.eli].
    - `extrasafe`, `offset`: the extra stopping rule at the lowest dose [extrasafe, offset].
    - `titration`: accelerated titration in front (None = off).
    """

    target: float = 0.3
    cohort_size: int = 3
    max_subjects: int = 30
    n_earlystop: int = 100
    cutoff: float = 0.95
    extrasafe: bool = False
    offset: float = 0.05
    titration: Titration | None = None

    def check(self) -> None:
        check_target(self.target)
        check_positive("cohort_size", self.cohort_size)
        check_positive("max_subjects", self.max_subjects)
        check_positive("n_earlystop", self.n_earlystop)
        if not 0.5 < self.cutoff < 1:
            raise DesignInputError("cutoff: the elimination cut-off must be in (0.5, 1)")
        if not 0 <= self.offset < 0.5:
            raise DesignInputError("offset: must be in [0, 0.5)")


class IntervalDesign(Protocol):
    """What an interval design's settings provide to the shared rules."""

    @property
    def trial(self) -> TrialSettings: ...

    @property
    def name(self) -> str: ...

    def cell(self, n: int, y: int) -> Letter: ...

    @property
    def bound(self) -> float | None: ...

    def __hash__(self) -> int: ...


def decision_table(design: IntervalDesign, n_max: int = 30) -> DecisionTable:
    return _table(design, n_max)


@lru_cache(maxsize=256)
def _table(design: IntervalDesign, n_max: int) -> DecisionTable:
    cells = tuple(tuple(design.cell(n, y) for y in range(n + 1)) for n in range(1, n_max + 1))
    return DecisionTable(design=design.name, settings=repr(design), cells=cells)


def table_codes(design: IntervalDesign, n_max: int) -> np.ndarray:
    """The decision table as integer codes [n, y] (0 E, 1 S, 2 D, 3 DE) for the simulator;
    built from `cell`, the function the live decision calls."""
    codes = np.full((n_max + 1, n_max + 1), -1, dtype=np.int64)
    order = {Letter.E: 0, Letter.S: 1, Letter.D: 2, Letter.DE: 3}
    for n in range(1, n_max + 1):
        for y in range(n + 1):
            codes[n, y] = order[design.cell(n, y)]
    return codes


def eliminated_flags(
    design: IntervalDesign, facts: DesignFacts, *, pending_as_no_dlt: bool = False
) -> tuple[bool, ...]:
    trial = design.trial
    counts = [lv.treated if pending_as_no_dlt else lv.evaluable for lv in facts.levels]
    boundary = elimination_counts(trial.target, trial.cutoff, max(counts))
    flags: list[bool] = []
    for n, level in zip(counts, facts.levels, strict=True):
        flags.append(bool(flags and flags[-1]) or level.dlts >= boundary[n])
    return tuple(flags)


def elimination_cell(trial: TrialSettings, n: int, y: int) -> bool:
    """The elimination rule at one dose (docs/designs.md §2.3)."""
    return n >= 3 and prob_above(trial.target, n, y) > trial.cutoff


PendingRule = Callable[[LevelData], "Letter | None"]


def decide_interval(
    design: IntervalDesign, facts: DesignFacts, *, pending_rule: PendingRule | None = None
) -> DesignDecision:
    """The next cohort's dose under an interval design (the rules in this module's docstring).

    `pending_rule` is the time-to-event designs' decision at a dose with pending subjects (None
    from it = suspend accrual); without it, pending outcomes at the current dose mean waiting.
    With it, pending subjects count as treated without a DLT for elimination and n.earlystop.
    """
    trial = design.trial
    tite = pending_rule is not None
    step = _Step(
        design=design,
        facts=facts,
        tite=tite,
        eliminated=eliminated_flags(design, facts, pending_as_no_dlt=tite),
        table=decision_table(design, max(trial.max_subjects, max(facts.n), 1)),
    )
    if step.eliminated[0]:
        return step.make(
            Action.STOP,
            "elimination: the lowest dose is eliminated -> stop, no MTD",
            f"stop: level 1 has Pr(DLT rate > {trial.target}) > {trial.cutoff}; no MTD",
            None,
        )
    early = titration_decision(
        trial.titration,
        facts,
        design=design.name,
        cohort_size=trial.cohort_size,
        eliminated=step.eliminated,
    )
    if early is not None:
        return early
    for rule in (_wait_for_outcomes, _maximum_sample_size, _no_data_yet, _extra_safety):
        decision = rule(step)
        if decision is not None:
            return decision
    letter = _letter(step, pending_rule)
    if isinstance(letter, DesignDecision):
        return letter
    if step.n >= trial.n_earlystop and _stays(step, letter):
        return _final(step, f"n.earlystop: {step.n} at the current dose and it stays -> select")
    return _apply_letter(step, letter)


@dataclass(frozen=True)
class _Step:
    """One decision's inputs: the design, the facts, the eliminated levels and the table."""

    design: IntervalDesign
    facts: DesignFacts
    tite: bool
    eliminated: tuple[bool, ...]
    table: DecisionTable

    @property
    def d(self) -> int:
        return self.facts.current

    @property
    def top(self) -> int:
        return len(self.facts.levels) - 1

    @property
    def level(self) -> LevelData:
        return self.facts.levels[self.d]

    @property
    def n(self) -> int:
        """Subjects at the current dose: evaluable, or treated when pending ones count."""
        return self.level.treated if self.tite else self.level.evaluable

    @property
    def y(self) -> int:
        return self.level.dlts

    @property
    def counts(self) -> str:
        return f"{self.y} DLT(s) in {self.n} at level {self.d + 1}"

    def make(
        self,
        action: Action,
        rule: str,
        text: str,
        dose: int | None,
        mtd: int | None = None,
        estimates: tuple[float | None, ...] = (),
    ) -> DesignDecision:
        facts = self.facts
        if not estimates and action in (Action.SELECT_MTD, Action.STOP) and any(facts.n):
            _, estimates = _selection(self.design, facts)
        trial = self.design.trial
        return DesignDecision(
            design=self.design.name,
            action=action,
            rule=rule,
            text=text,
            current=self.d,
            dose=dose,
            cohort_size=trial.cohort_size if dose is not None else 0,
            eliminated=self.eliminated,
            mtd=mtd,
            estimates=estimates,
            table=self.table,
        )


def _wait_for_outcomes(step: _Step) -> DesignDecision | None:
    """Pending outcomes at the current dose under a design without time-to-event: wait."""
    if not step.level.pending or step.tite:
        return None
    return step.make(
        Action.SUSPEND_ACCRUAL,
        "pending: outcomes at the current dose are pending -> wait",
        f"wait: {len(step.level.pending)} subject(s) pending at level {step.d + 1}",
        step.d,
    )


def _maximum_sample_size(step: _Step) -> DesignDecision | None:
    """The maximum sample size reached: select the MTD once no outcome is pending."""
    if step.facts.treated < step.design.trial.max_subjects:
        return None
    if any(lv.pending for lv in step.facts.levels):
        return step.make(
            Action.SUSPEND_ACCRUAL,
            "maximum sample size reached: the MTD is selected once no outcome is pending",
            "wait: accrual complete, outcomes pending",
            None,
        )
    return _final(step, "maximum sample size reached -> select the MTD")


def _no_data_yet(step: _Step) -> DesignDecision | None:
    if step.n != 0:
        return None
    return step.make(
        Action.STAY, "start: no data at this dose yet", f"treat at level {step.d + 1}", step.d
    )


def _extra_safety(step: _Step) -> DesignDecision | None:
    """BOIN's extra safety rule at the lowest dose (docs/designs.md §2.4)."""
    trial = step.design.trial
    n, y = step.n, step.y
    if not (trial.extrasafe and step.d == 0 and n >= 3):
        return None
    if prob_above(trial.target, n, y) <= trial.cutoff - trial.offset:
        return None
    return step.make(
        Action.STOP,
        "extra safety: Pr(DLT rate at the lowest dose > target) > cutoff - offset -> stop",
        f"stop: level 1 too toxic by the extra safety rule ({y}/{n}); no MTD",
        None,
    )


def _letter(step: _Step, pending_rule: PendingRule | None) -> Letter | DesignDecision:
    """The cell at the current dose: the table's, or the time-to-event rule's with pending
    subjects (which may suspend accrual instead)."""
    level = step.level
    if not (level.pending and pending_rule is not None):
        return step.table.cell(step.n, step.y)
    letter = pending_rule(level)
    if letter is not None:
        return letter
    return step.make(
        Action.SUSPEND_ACCRUAL,
        "TITE: too many subjects pending at the current dose -> suspend accrual",
        f"suspend accrual: {len(level.pending)} of {step.n} pending at level {step.d + 1}",
        step.d,
    )


def _blocked_up(step: _Step) -> bool:
    return step.d == step.top or step.eliminated[step.d + 1]


def _stays(step: _Step, letter: Letter) -> bool:
    """Whether the next cohort would stay at the current dose (for n.earlystop)."""
    return (
        letter is Letter.S
        or (letter in (Letter.D, Letter.DE) and step.d == 0)
        or (letter is Letter.E and _blocked_up(step))
    )


def _apply_letter(step: _Step, letter: Letter) -> DesignDecision:
    """E, S, D or DE turned into the next cohort's dose (rule 4 of this module's docstring)."""
    d, counts = step.d, step.counts
    if letter is Letter.E:
        if d == step.top:
            return step.make(Action.STAY, f"{letter}: top dose -> stay", f"stay: {counts}", d)
        if step.eliminated[d + 1]:
            return step.make(
                Action.STAY, f"{letter}: next dose eliminated -> stay", f"stay: {counts}", d
            )
        return step.make(
            Action.ESCALATE, f"{letter}: escalate", f"escalate to level {d + 2}: {counts}", d + 1
        )
    if letter is Letter.S:
        return step.make(Action.STAY, "S: stay", f"stay at level {d + 1}: {counts}", d)
    if d == 0:
        return step.make(Action.STAY, f"{letter}: lowest dose -> stay", f"stay: {counts}", d)
    return _deescalate(step, letter)


def _deescalate(step: _Step, letter: Letter) -> DesignDecision:
    d, counts = step.d, step.counts
    below = max((j for j in range(d) if not step.eliminated[j]), default=None)
    if below is None:  # only reachable after an override put the trial above eliminated doses
        return step.make(Action.STOP, "elimination: no dose left below", "stop: no MTD", None)
    if letter is Letter.DE or step.eliminated[d]:
        return step.make(
            Action.DE_ESCALATE_ELIMINATE,
            "DE: de-escalate and eliminate this and higher doses",
            f"de-escalate to level {below + 1} and eliminate level {d + 1} and above: {counts}",
            below,
        )
    return step.make(
        Action.DE_ESCALATE, "D: de-escalate", f"de-escalate to level {below + 1}: {counts}", below
    )


def _selection(
    design: IntervalDesign, facts: DesignFacts
) -> tuple[int | None, tuple[float | None, ...]]:
    trial = design.trial
    return select_mtd(
        target=trial.target,
        n=facts.n,
        y=facts.y,
        cutoff=trial.cutoff,
        extrasafe_cutoff=trial.cutoff - trial.offset if trial.extrasafe else None,
        bound=design.bound,
    )


def _final(step: _Step, why: str) -> DesignDecision:
    mtd, estimates = _selection(step.design, step.facts)
    if mtd is None:
        return step.make(
            Action.STOP,
            f"{why}: no dose qualifies (isotonic selection)",
            "stop: no MTD",
            None,
            estimates=estimates,
        )
    return step.make(
        Action.SELECT_MTD,
        f"{why} (isotonic regression)",
        f"MTD = level {mtd + 1}",
        None,
        mtd,
        estimates=estimates,
    )
