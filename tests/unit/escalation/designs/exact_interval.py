"""Exact operating characteristics of an interval design (BOIN, mTPI-2, i3+3) by enumeration.

Every trial path is walked through the live decision `decide_interval`: from the state (subjects
and DLTs per dose, current dose) each cohort's outcome k of m at the chosen dose has the
binomial probability C(m, k) p^k (1 - p)^(m - k); states reached by several paths are merged.
The trial ends where the live decision selects an MTD or stops. The result is each terminal
state with its probability, so every figure of docs/designs.md §10.2 follows exactly, with no
Monte-Carlo error; it is the truth that simulated figures are compared with (§10.3).
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from escalation.rules.designs import Action, DesignFacts, decide_interval
from escalation.rules.designs.interval import IntervalDesign
from escalation.rules.designs.isotonic import NO_MTD

State = tuple[tuple[int, ...], tuple[int, ...], int]


@dataclass(frozen=True)
class Terminal:
    n: tuple[int, ...]
    y: tuple[int, ...]
    selected: int  # NO_MTD when no dose is selected
    early_stop: bool
    probability: float


def terminal_states(design: IntervalDesign, true_dlt: tuple[float, ...]) -> list[Terminal]:
    if design.trial.titration is not None:
        raise ValueError("exact enumeration covers designs without accelerated titration")
    k = len(true_dlt)
    cap = design.trial.max_subjects
    states: dict[State, float] = {((0,) * k, (0,) * k, 0): 1.0}
    out: list[Terminal] = []
    while states:
        following: dict[State, float] = defaultdict(float)
        for (n, y, current), probability in states.items():
            decision = decide_interval(design, DesignFacts.from_counts(n, y, current))
            if decision.action in (Action.SELECT_MTD, Action.STOP):
                selected = NO_MTD if decision.mtd is None else decision.mtd
                early = decision.action is Action.STOP and sum(n) < cap
                out.append(Terminal(n, y, selected, early, probability))
                continue
            assert decision.dose is not None
            dose, size = decision.dose, min(decision.cohort_size, cap - sum(n))
            p = true_dlt[dose]
            for dlts in range(size + 1):
                weight = math.comb(size, dlts) * p**dlts * (1 - p) ** (size - dlts)
                if weight == 0:
                    continue
                n2 = n[:dose] + (n[dose] + size,) + n[dose + 1 :]
                y2 = y[:dose] + (y[dose] + dlts,) + y[dose + 1 :]
                following[(n2, y2, dose)] += probability * weight
        states = following
    return out


@dataclass(frozen=True)
class ExactFigures:
    selection: tuple[float, ...]  # %
    no_mtd: float  # %
    early_stop: float  # %
    patients: tuple[float, ...]
    dlts: tuple[float, ...]
    overdose60: float  # %
    overdose80: float  # %
    patients_sd: tuple[float, ...]  # the spread over trials, for a simulated mean's SE
    dlts_sd: tuple[float, ...]


def exact_figures(
    design: IntervalDesign, true_dlt: tuple[float, ...], true_mtd: int
) -> ExactFigures:
    """The figures of docs/designs.md §10.2 (selection, no MTD, early stop, subjects and DLTs
    per dose, overdosing) as exact expectations over the terminal states, and the exact SD of
    subjects and DLTs per dose over trials."""
    ends = terminal_states(design, true_dlt)
    w = np.array([t.probability for t in ends])
    assert abs(w.sum() - 1) < 1e-9, w.sum()
    n = np.array([t.n for t in ends], dtype=float)
    y = np.array([t.y for t in ends], dtype=float)
    selected = np.array([t.selected for t in ends])
    above = n[:, true_mtd + 1 :].sum(axis=1)
    cap = design.trial.max_subjects

    def percent(flags: npt.NDArray[np.bool_]) -> float:
        return float(100 * (w * flags).sum())

    mean_n, mean_y = w @ n, w @ y
    return ExactFigures(
        selection=tuple(percent(selected == j) for j in range(len(true_dlt))),
        no_mtd=percent(selected == NO_MTD),
        early_stop=percent(np.array([t.early_stop for t in ends])),
        patients=tuple(float(v) for v in mean_n),
        dlts=tuple(float(v) for v in mean_y),
        overdose60=percent(above > 0.6 * cap),
        overdose80=percent(above > 0.8 * cap),
        patients_sd=tuple(float(v) for v in np.sqrt(np.maximum(w @ n**2 - mean_n**2, 0))),
        dlts_sd=tuple(float(v) for v in np.sqrt(np.maximum(w @ y**2 - mean_y**2, 0))),
    )
