"""The 3+3 over counts, for the simulator, and its exact operating characteristics
(docs/designs.md §9).

The live 3+3 is the project's escalation core (escalation/rules/three_plus_three.py), which
works on subjects and dates; this module is the same rule on complete cohorts of 3, the input the
simulator has: 0/3 escalate, 1/3 add 3, <= 1/6 escalate, >= 2 DLTs the dose exceeded the MTD.
Two variants of "exceeded" (docs/designs.md §9.1): `simple` (the dose below is the MTD; the top
dose tolerated at 0/3 or <= 1/6 is the maximum administered dose, MAD) and `expand` (Korn et al.
1994: a dose below left with 3 subjects is filled to 6 and is the MTD at <= 1/6, else exceeded in
turn; the top dose is filled to 6 the same way before it is declared). The MAD counts as the
selected dose in the operating characteristics.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from .common import DesignInputError


class Variant(StrEnum):
    SIMPLE = "simple"
    EXPAND = "expand"


@dataclass(frozen=True)
class ThreePlusThreeSettings:
    variant: Variant = Variant.SIMPLE

    def __post_init__(self) -> None:
        object.__setattr__(self, "variant", Variant(self.variant))

    @property
    def name(self) -> str:
        return f"3+3 ({self.variant})"


@dataclass(frozen=True)
class ExactOC:
    """Exact selection probability per dose, no-MTD probability, expected subjects and DLTs."""

    selection: tuple[float, ...]
    no_mtd: float
    patients: tuple[float, ...]
    dlts: tuple[float, ...]


def exact_oc(settings: ThreePlusThreeSettings, true_dlt: tuple[float, ...]) -> ExactOC:
    """Closed-form 3+3 operating characteristics from dose 1 (docs/designs.md §9.2).

    a_k = (1-p)^3 (0/3), b_k = 3p(1-p)^2 (1/3), E_k = a_k + b_k (1-p)^3 (escalate from k),
    R_k = E_1 ... E_(k-1) (dose k reached). Simple: P(select k) = R_(k+1) (1 - E_(k+1)),
    P(select K) = R_K E_K, P(no MTD) = 1 - E_1. Expand: A_k = (1-p)^3 + 3p(1-p)^2 (a fill of 3
    passes); acc_k = (a_k A_k + b_k (1-p)^3) / E_k, rej_k = a_k (1 - A_k) / E_k; X_K = R_K E_K,
    X_k = R_(k+1) (1 - E_(k+1)) + X_(k+1) rej_(k+1); P(select k) = X_k acc_k; P(no MTD) =
    1 - E_1 + X_1 rej_1; a fill adds 3 X_k a_k / E_k subjects at k.
    """
    if not true_dlt or any(not 0 <= p <= 1 for p in true_dlt):
        raise DesignInputError("true_dlt: probabilities in [0, 1], at least one dose")
    k = len(true_dlt)
    a = [(1 - p) ** 3 for p in true_dlt]
    b = [3 * p * (1 - p) ** 2 for p in true_dlt]
    e = [a[i] + b[i] * (1 - p) ** 3 for i, p in enumerate(true_dlt)]
    reach = [1.0] * k
    for i in range(1, k):
        reach[i] = reach[i - 1] * e[i - 1]
    patients = [reach[i] * (3 + 3 * b[i]) for i in range(k)]
    dlts = [reach[i] * 3 * p * (1 + b[i]) for i, p in enumerate(true_dlt)]
    if settings.variant is Variant.SIMPLE:
        selection = [reach[i + 1] * (1 - e[i + 1]) for i in range(k - 1)]
        selection.append(reach[k - 1] * e[k - 1])
        return ExactOC(tuple(selection), 1 - e[0], tuple(patients), tuple(dlts))
    big_a = [(1 - p) ** 3 + 3 * p * (1 - p) ** 2 for p in true_dlt]
    acc = [
        (a[i] * big_a[i] + b[i] * (1 - p) ** 3) / e[i] if e[i] > 0 else 0.0
        for i, p in enumerate(true_dlt)
    ]
    rej = [a[i] * (1 - big_a[i]) / e[i] if e[i] > 0 else 0.0 for i in range(k)]
    x = [0.0] * k
    x[k - 1] = reach[k - 1] * e[k - 1]
    for i in range(k - 2, -1, -1):
        x[i] = reach[i + 1] * (1 - e[i + 1]) + x[i + 1] * rej[i + 1]
    selection = [x[i] * acc[i] for i in range(k)]
    for i, p in enumerate(true_dlt):
        extra = 3 * x[i] * a[i] / e[i] if e[i] > 0 else 0.0
        patients[i] += extra
        dlts[i] += extra * p
    return ExactOC(tuple(selection), 1 - e[0] + x[0] * rej[0], tuple(patients), tuple(dlts))


@dataclass(frozen=True)
class Step:
    """The 3+3's next step after a complete cohort: treat `size` at `dose`, or finish."""

    dose: int | None
    size: int
    selected: int | None = None  # the MTD (or MAD) when finished; None with dose None = no MTD


def next_step(settings: ThreePlusThreeSettings, n: list[int], y: list[int], current: int) -> Step:
    """The decision after the latest cohort at `current` (all subjects evaluable)."""
    top = len(n) - 1
    d = current
    if y[d] >= 2:
        return _exceeded(settings, n, y, d)
    if n[d] == 3 and y[d] == 1:
        return Step(d, 3)
    passed = (n[d] == 3 and y[d] == 0) or (n[d] >= 6 and y[d] <= 1)
    if not passed:
        raise DesignInputError(f"3+3: no rule for {y[d]}/{n[d]}")
    if d < top and n[d + 1] == 0:
        return Step(d + 1, 3)
    if d < top:  # the dose above was filled back here (expand): this dose is the MTD
        return Step(None, 0, d)
    if settings.variant is Variant.EXPAND and n[d] == 3:
        return Step(d, 3)  # the top dose is filled to 6 before it is declared
    return Step(None, 0, d)  # MAD


def _exceeded(settings: ThreePlusThreeSettings, n: list[int], y: list[int], d: int) -> Step:
    if d == 0:
        return Step(None, 0, None)
    below = d - 1
    if settings.variant is Variant.SIMPLE:
        return Step(None, 0, below)
    if n[below] >= 6:
        return Step(None, 0, below) if y[below] <= 1 else _exceeded(settings, n, y, below)
    return Step(below, 3)
