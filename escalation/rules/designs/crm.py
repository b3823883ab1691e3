"""The continual reassessment method, CRM (docs/designs.md §7).

O'Quigley, Pepe & Fisher, Biometrics 1990;46:33-48; as the R package dfcrm (Cheung) computes it.

- Power ("empiric") model F(d, beta) = p0_d ^ exp(beta), with the skeleton p0; or the logistic
  model F = 1 / (1 + exp(-a0 - exp(beta) x_d)), x_d = logit(p0_d) - a0, a0 = `intercept` (3).
- Prior beta ~ N(0, sigma^2), sigma^2 = 1.34. The posterior mean of beta is a ratio of two
  integrals over the same ranges as dfcrm's `crm`: the numerator over [-10, 10], the
  denominator over the whole line. dfcrm takes them by R's adaptive `integrate`; here a fixed
  composite Gauss-Legendre rule takes them (vectorised, so the simulator can afford it), which
  agrees with dfcrm to 1e-9 on its documented examples and 300 seeded data sets.
- p_hat_d = F(d, beta_hat); the recommended dose is the one whose p_hat is closest to the
  target (the top dose if all are <= target, the lowest if all are >= target).
- `restrict` (dfcrm crmsim): never skip an untried dose when escalating (at most one level up
  from the current dose) and never escalate right after a cohort whose DLT fraction is >= the
  target (coherence, Cheung, Biometrika 2005;92:863-873).
- Stopping rules named as the R package `escalation` names them: stop_at_n, stop_when_n_at_dose
  (the recommended dose already has that many subjects: select it), stop_when_too_toxic
  (Pr(F(dose, beta) > threshold | data) > confidence: stop, no MTD; computed by integrating the
  same posterior).
- TITE-CRM (Cheung & Chappell 2000; dfcrm `titecrm`): a pending subject without DLT enters the
  likelihood as (1 - w F) with w its follow-up fraction of the window.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from .common import (
    Action,
    DesignDecision,
    DesignFacts,
    DesignInputError,
    check_positive,
    check_target,
)
from .titration import Titration, titration_decision

FloatArray = npt.NDArray[np.float64]


class CrmModel(StrEnum):
    EMPIRIC = "empiric"  # the power model
    LOGISTIC = "logistic"


@dataclass(frozen=True)
class TooToxic:
    """stop_when_too_toxic: stop when Pr(DLT rate at `dose` > threshold) > `confidence`;
    `threshold` None means the target."""

    dose: int = 0
    threshold: float | None = None
    confidence: float = 0.9


@dataclass(frozen=True)
class CrmSettings:
    skeleton: tuple[float, ...] = (0.05, 0.10, 0.20, 0.35, 0.50)
    target: float = 0.3
    prior_variance: float = 1.34
    model: CrmModel = CrmModel.EMPIRIC
    intercept: float = 3.0
    cohort_size: int = 3
    restrict: bool = True
    stop_at_n: int = 30
    stop_when_n_at_dose: int | None = None
    stop_when_too_toxic: TooToxic | None = None
    tite: bool = False
    titration: Titration | None = None
    window_days: float = 28.0  # TITE-CRM: the simulator's DLT window

    def __post_init__(self) -> None:
        object.__setattr__(self, "skeleton", tuple(float(p) for p in self.skeleton))
        object.__setattr__(self, "model", CrmModel(self.model))
        check_target(self.target)
        check_positive("cohort_size", self.cohort_size)
        check_positive("stop_at_n", self.stop_at_n)
        if not self.skeleton or any(not 0 < p < 1 for p in self.skeleton):
            raise DesignInputError("skeleton: each guess must be strictly between 0 and 1")
        if any(b <= a for a, b in zip(self.skeleton, self.skeleton[1:], strict=False)):
            raise DesignInputError("skeleton: the guesses must increase with the dose")
        if self.prior_variance <= 0:
            raise DesignInputError("prior_variance: must be positive")
        if self.model is CrmModel.LOGISTIC and any(x >= 0 for x in self.scaled_doses):
            raise DesignInputError(
                "intercept: too small for the logistic model (a scaled dose is >= 0)"
            )
        if self.stop_when_n_at_dose is not None:
            check_positive("stop_when_n_at_dose", self.stop_when_n_at_dose)
        tox = self.stop_when_too_toxic
        if tox is not None and (
            not 0 <= tox.dose < len(self.skeleton) or not 0 < tox.confidence < 1
        ):
            raise DesignInputError(
                "stop_when_too_toxic: a dose of the skeleton, confidence in (0, 1)"
            )

    @property
    def name(self) -> str:
        return "TITE-CRM" if self.tite else "CRM"

    @property
    def scaled_doses(self) -> tuple[float, ...]:
        if self.model is CrmModel.EMPIRIC:
            return self.skeleton
        return tuple(math.log(p / (1 - p)) - self.intercept for p in self.skeleton)

    def dlt_probability(self, dose: int, beta: float) -> float:
        x = self.scaled_doses[dose]
        # Far in the tails exp(beta) overflows; the limits are those R reaches with Inf.
        scale = math.exp(beta) if beta < 700 else math.inf
        if self.model is CrmModel.EMPIRIC:
            return float(x**scale)
        z = -self.intercept - scale * x
        return 0.0 if z > 700 else 1.0 / (1.0 + math.exp(z))


@dataclass(frozen=True)
class CrmPosterior:
    beta: float  # posterior mean of beta
    probabilities: tuple[float, ...]  # p_hat per dose
    recommended: int  # closest to the target, no restriction


def posterior(
    settings: CrmSettings,
    n: tuple[int, ...],
    y: tuple[int, ...],
    weights: tuple[tuple[float, ...], ...] = (),
) -> CrmPosterior:
    """beta_hat and the DLT estimates from counts per dose (n complete, y with DLT) and, for
    TITE-CRM, the weights of pending subjects without DLT per dose."""
    if len(n) != len(settings.skeleton) or len(y) != len(n):
        raise DesignInputError("n, y: one count per dose of the skeleton")
    return _posterior(settings, tuple(n), tuple(y), tuple(tuple(w) for w in weights))


def _gauss_legendre(start: float, stop: float, panels: int) -> tuple[FloatArray, FloatArray]:
    """Composite 16-point Gauss-Legendre nodes and weights on [start, stop]."""
    nodes, weights = np.polynomial.legendre.leggauss(16)
    edges = np.linspace(start, stop, panels + 1)
    half = (edges[1:] - edges[:-1])[:, None] / 2
    middle = (edges[1:] + edges[:-1])[:, None] / 2
    return (middle + half * nodes[None, :]).ravel(), (half * weights[None, :]).ravel()


# The numerator of the posterior mean over [-10, 10] (as dfcrm), the denominator over the whole
# line: beyond +-40 the N(0, 1.34) prior is below exp(-597) and the likelihood is at most 1, so
# [-40, 40] is the whole line to machine precision. Panels of 0.2 (centre) and 0.5 (tails) with
# 16 nodes each integrate these smooth densities to about 1e-12 relative (tested against
# dfcrm 0.2-2.1 to 1e-9 on its examples and 300 seeded data sets).
_CENTRE = _gauss_legendre(-10.0, 10.0, 100)
_LOW = _gauss_legendre(-40.0, -10.0, 60)
_HIGH = _gauss_legendre(10.0, 40.0, 60)


def _log_density(
    settings: CrmSettings,
    a: FloatArray,
    n: tuple[int, ...],
    y: tuple[int, ...],
    weights: tuple[tuple[float, ...], ...],
) -> FloatArray:
    """log of prior x likelihood at the points `a` (dfcrm's crmh, in logs to avoid underflow)."""
    value: FloatArray = -(a**2) / 2 / settings.prior_variance
    scale = np.exp(np.minimum(a, 700.0))
    with np.errstate(over="ignore", under="ignore", divide="ignore", invalid="ignore"):
        for d, (n_d, y_d) in enumerate(zip(n, y, strict=True)):
            pending = weights[d] if d < len(weights) else ()
            if n_d == 0 and not pending:
                continue
            x = settings.scaled_doses[d]
            if settings.model is CrmModel.EMPIRIC:
                log_p = scale * math.log(x)
                log_q = np.log(-np.expm1(log_p))
            else:
                z = settings.intercept + scale * x
                log_p = -np.logaddexp(0.0, -z)
                log_q = -np.logaddexp(0.0, z)
            if y_d:
                value = value + y_d * log_p
            if n_d - y_d:
                value = value + (n_d - y_d) * log_q
            for w in pending:
                value = value + np.log1p(-w * np.exp(log_p))
    return np.where(np.isnan(value), -np.inf, value)


@lru_cache(maxsize=200_000)
def _posterior(
    settings: CrmSettings,
    n: tuple[int, ...],
    y: tuple[int, ...],
    weights: tuple[tuple[float, ...], ...],
) -> CrmPosterior:
    parts = [_log_density(settings, nodes, n, y, weights) for nodes, _ in (_CENTRE, _LOW, _HIGH)]
    top = max(float(part.max()) for part in parts)
    centre, low, high = (np.exp(part - top) for part in parts)
    denominator = float(centre @ _CENTRE[1] + low @ _LOW[1] + high @ _HIGH[1])
    numerator = float((centre * _CENTRE[0]) @ _CENTRE[1])
    beta = numerator / denominator
    probabilities = tuple(settings.dlt_probability(d, beta) for d in range(len(n)))
    return CrmPosterior(beta, probabilities, _closest(probabilities, settings.target))


def posteriors_batch(
    settings: CrmSettings, data: list[tuple[tuple[int, ...], tuple[int, ...]]]
) -> list[CrmPosterior]:
    """`posterior` for many data sets (n, y) at once, without time-to-event weights: the log
    densities of all data sets over the integration nodes as one array, built with the very
    element-by-element operations of `_log_density`, and each data set's sums taken as in
    `_posterior`, so every result equals `posterior(settings, n, y)` exactly (the simulator's
    CRM engine uses it; a test compares the two engines trial by trial)."""
    if not data:
        return []
    n = np.array([row[0] for row in data], dtype=np.int64)
    y = np.array([row[1] for row in data], dtype=np.int64)
    parts = [_log_density_batch(settings, nodes, n, y) for nodes, _ in (_CENTRE, _LOW, _HIGH)]
    out = []
    for i in range(len(data)):
        rows = [part[i] for part in parts]
        top = max(float(row.max()) for row in rows)
        centre, low, high = (np.exp(row - top) for row in rows)
        denominator = float(centre @ _CENTRE[1] + low @ _LOW[1] + high @ _HIGH[1])
        numerator = float((centre * _CENTRE[0]) @ _CENTRE[1])
        beta = numerator / denominator
        probabilities = tuple(settings.dlt_probability(d, beta) for d in range(n.shape[1]))
        out.append(CrmPosterior(beta, probabilities, _closest(probabilities, settings.target)))
    return out


def _log_density_batch(
    settings: CrmSettings, a: FloatArray, n: npt.NDArray[np.int64], y: npt.NDArray[np.int64]
) -> FloatArray:
    """`_log_density` for each row of counts (rows x nodes), term by term in the same order."""
    base: FloatArray = -(a**2) / 2 / settings.prior_variance
    value: FloatArray = np.broadcast_to(base, (n.shape[0], a.shape[0])).copy()
    scale = np.exp(np.minimum(a, 700.0))
    with np.errstate(over="ignore", under="ignore", divide="ignore", invalid="ignore"):
        for d in range(n.shape[1]):
            x = settings.scaled_doses[d]
            if settings.model is CrmModel.EMPIRIC:
                log_p = scale * math.log(x)
                log_q = np.log(-np.expm1(log_p))
            else:
                z = settings.intercept + scale * x
                log_p = -np.logaddexp(0.0, -z)
                log_q = -np.logaddexp(0.0, z)
            y_d = y[:, d : d + 1]
            rest = n[:, d : d + 1] - y_d
            value = np.where(y_d > 0, value + y_d * log_p[None, :], value)
            value = np.where(rest > 0, value + rest * log_q[None, :], value)
    return np.where(np.isnan(value), -np.inf, value)


def _closest(probabilities: tuple[float, ...], target: float) -> int:
    if all(p <= target for p in probabilities):
        return len(probabilities) - 1
    if all(p >= target for p in probabilities):
        return 0
    return min(range(len(probabilities)), key=lambda d: (abs(probabilities[d] - target), d))


def prob_too_toxic(
    settings: CrmSettings,
    n: tuple[int, ...],
    y: tuple[int, ...],
    weights: tuple[tuple[float, ...], ...],
    rule: TooToxic,
) -> float:
    """Pr(F(dose, beta) > threshold | data), by integrating the posterior of beta."""
    threshold = settings.target if rule.threshold is None else rule.threshold
    x = settings.scaled_doses[rule.dose]
    # F is decreasing in beta for both models: F > threshold <=> beta < cut.
    if settings.model is CrmModel.EMPIRIC:
        cut = math.log(math.log(threshold) / math.log(x))
    else:
        ratio = (math.log(threshold / (1 - threshold)) - settings.intercept) / x
        if ratio <= 0:
            return 0.0 if (math.log(threshold / (1 - threshold)) - settings.intercept) > 0 else 1.0
        cut = math.log(ratio)
    grid = _gauss_legendre(-40.0, 40.0, 320)
    log_density = _log_density(settings, grid[0], n, y, weights)
    top = float(log_density.max())
    total = float(np.exp(log_density - top) @ grid[1])
    if cut <= -40.0:
        return 0.0
    part = _gauss_legendre(-40.0, min(cut, 40.0), 320)
    below = float(np.exp(_log_density(settings, part[0], n, y, weights) - top) @ part[1])
    return min(max(below / total, 0.0), 1.0)


def crm_decide(settings: CrmSettings, facts: DesignFacts) -> DesignDecision:
    """The CRM recommendation for the next cohort (docs/designs.md §7)."""
    levels = facts.levels
    if len(levels) != len(settings.skeleton):
        raise DesignInputError("levels: the skeleton needs one guess per dose level")
    d = facts.current
    no_elimination = tuple(False for _ in levels)
    early = titration_decision(
        settings.titration,
        facts,
        design=settings.name,
        cohort_size=settings.cohort_size,
        eliminated=no_elimination,
    )
    if early is not None:
        return early
    pending_any = any(level.pending for level in levels)
    if pending_any and not settings.tite:
        return _make(
            settings,
            facts,
            Action.SUSPEND_ACCRUAL,
            "pending: outcomes pending -> wait (CRM without time-to-event weights)",
            "wait for pending outcomes",
            d,
            None,
            (),
        )
    n = facts.n
    y = facts.y
    weights = tuple(level.pending for level in levels) if settings.tite else ()
    if facts.treated == 0:
        return _make(settings, facts, Action.STAY, "start", "start at this dose", d, None, ())
    fit = posterior(settings, n, y, weights)
    rule = settings.stop_when_too_toxic
    if rule is not None:
        probability = prob_too_toxic(settings, n, y, weights, rule)
        confidence = rule.confidence
        if probability > confidence:
            return _make(
                settings,
                facts,
                Action.STOP,
                "stop_when_too_toxic: Pr(DLT rate at the dose > threshold) > confidence",
                f"stop: Pr(too toxic at level {rule.dose + 1}) = {probability:.3f}; no MTD",
                None,
                None,
                fit.probabilities,
            )
    if facts.treated >= settings.stop_at_n:
        if pending_any:
            return _make(
                settings,
                facts,
                Action.SUSPEND_ACCRUAL,
                "stop_at_n: accrual complete; the MTD is selected once no outcome is pending",
                "wait: accrual complete, outcomes pending",
                None,
                None,
                fit.probabilities,
            )
        return _make(
            settings,
            facts,
            Action.SELECT_MTD,
            "stop_at_n: maximum sample size -> the dose closest to the target",
            f"MTD = level {fit.recommended + 1}",
            None,
            fit.recommended,
            fit.probabilities,
        )
    dose = fit.recommended
    rule_text = "CRM: the dose whose estimate is closest to the target"
    if settings.restrict:
        size, dlts = facts.last_cohort or (levels[d].evaluable, levels[d].dlts)
        if dlts * 1.0 / size >= settings.target and dose > d:
            dose, rule_text = d, "coherence: no escalation after a cohort at or above the target"
        elif dose > d + 1:
            dose, rule_text = d + 1, "no skipping: at most one level above the current dose"
    if settings.stop_when_n_at_dose is not None and levels[dose].treated >= (
        settings.stop_when_n_at_dose
    ):
        return _make(
            settings,
            facts,
            Action.SELECT_MTD,
            "stop_when_n_at_dose: the recommended dose already has enough subjects",
            f"MTD = level {dose + 1}",
            None,
            dose,
            fit.probabilities,
        )
    action = Action.ESCALATE if dose > d else Action.DE_ESCALATE if dose < d else Action.STAY
    return _make(
        settings,
        facts,
        action,
        rule_text,
        f"{action} to level {dose + 1}",
        dose,
        None,
        fit.probabilities,
        beta=fit.beta,
    )


def _make(
    settings: CrmSettings,
    facts: DesignFacts,
    action: Action,
    rule: str,
    text: str,
    dose: int | None,
    mtd: int | None,
    estimates: tuple[float, ...],
    beta: float | None = None,
) -> DesignDecision:
    return DesignDecision(
        design=settings.name,
        action=action,
        rule=rule,
        text=text,
        current=facts.current,
        dose=dose,
        cohort_size=settings.cohort_size if dose is not None else 0,
        eliminated=tuple(False for _ in facts.levels),
        mtd=mtd,
        estimates=estimates,
        details={} if beta is None else {"beta": beta},
    )


def getprior(
    halfwidth: float,
    target: float,
    nu: int,
    n_levels: int,
    model: CrmModel = CrmModel.EMPIRIC,
    intercept: float = 3.0,
) -> tuple[float, ...]:
    """A skeleton by indifference intervals (Lee & Cheung, Clin Trials 2009;6:227-238; dfcrm
    getprior): level `nu` (1-based) gets the target, and neighbouring levels are spaced so that
    each level is the best one exactly over target +- halfwidth."""
    if not 0 < halfwidth < min(target, 1 - target):
        raise DesignInputError("halfwidth: must be positive and keep target +- halfwidth in (0, 1)")
    if not 1 <= nu <= n_levels:
        raise DesignInputError("nu: the prior MTD must be one of the levels")
    lo, hi = target - halfwidth, target + halfwidth
    scaled = [0.0] * n_levels
    if CrmModel(model) is CrmModel.EMPIRIC:
        scaled[nu - 1] = target
        for k in range(nu - 1, 0, -1):
            b = math.log(math.log(hi) / math.log(scaled[k]))
            scaled[k - 1] = math.exp(math.log(lo) / math.exp(b))
        for k in range(nu - 1, n_levels - 1):
            b = math.log(math.log(lo) / math.log(scaled[k]))
            scaled[k + 1] = math.exp(math.log(hi) / math.exp(b))
        return tuple(scaled)

    def logit(p: float) -> float:
        return math.log(p / (1 - p))

    scaled[nu - 1] = logit(target) - intercept
    for k in range(nu - 1, 0, -1):
        b = math.log((logit(hi) - intercept) / scaled[k])
        scaled[k - 1] = (logit(lo) - intercept) / math.exp(b)
    for k in range(nu - 1, n_levels - 1):
        b = math.log((logit(lo) - intercept) / scaled[k])
        scaled[k + 1] = (logit(hi) - intercept) / math.exp(b)
    return tuple(1.0 / (1.0 + math.exp(-intercept - x)) for x in scaled)
