"""The CRM against the R package dfcrm 0.2-2.1 (reference/dfcrm_examples.txt: the documented
examples of crm, getprior and titecrm; reference/dfcrm_crm_cases.csv: 150 seeded data sets,
power and logistic models).

dfcrm integrates with R's `integrate` at its default relative tolerance (1.2e-4), which leaves
errors up to about 1.4e-6 in beta_hat on these cases; the project's fixed Gauss-Legendre rule
agrees with an independent high-precision integration (QUADPACK at 1e-13) to 1e-12. So beta_hat
is compared to dfcrm within 5e-6, to the high-precision value within 1e-12, and the recommended
dose must be dfcrm's in every case."""

from __future__ import annotations

import math

import pytest
from scipy.integrate import quad

from escalation.rules.designs import Action, DesignFacts, LevelData
from escalation.rules.designs.crm import (
    CrmModel,
    CrmSettings,
    TooToxic,
    crm_decide,
    getprior,
    posterior,
)

from .reference_data import REFERENCE, floats, ints, read_reference_csv

EXAMPLES = dict(
    line.split(" ", 1)
    for line in (REFERENCE / "dfcrm_examples.txt").read_text().splitlines()
    if not line.startswith("#")
)
PRIOR = (0.05, 0.10, 0.20, 0.35, 0.50, 0.70)


def _counts(levels: tuple[int, ...], tox: tuple[int, ...], k: int) -> tuple[tuple[int, ...], ...]:
    n, y = [0] * k, [0] * k
    for level, t in zip(levels, tox, strict=True):
        n[level - 1] += 1
        y[level - 1] += t
    return tuple(n), tuple(y)


def settings_for(model: str) -> CrmSettings:
    return CrmSettings(skeleton=PRIOR, target=0.2, model=CrmModel(model))


def _high_precision(settings: CrmSettings, n: tuple[int, ...], y: tuple[int, ...]) -> float:
    """beta_hat by adaptive quadrature at 1e-13, independently of the project's rule."""

    def density(a: float) -> float:
        value = math.exp(-(a**2) / 2 / settings.prior_variance)
        for d, (n_d, y_d) in enumerate(zip(n, y, strict=True)):
            if n_d:
                p = settings.dlt_probability(d, a)
                value *= p**y_d * (1 - p) ** (n_d - y_d)
        return value

    den = quad(density, -math.inf, math.inf, epsabs=0, epsrel=1e-13, limit=500)[0]
    num = quad(lambda a: a * density(a), -10, 10, epsabs=0, epsrel=1e-13, limit=500)[0]
    return float(num / den)


@pytest.mark.parametrize(("model", "key"), [("empiric", "crm"), ("logistic", "crm_logistic")])
def test_crm_documented_example(model: str, key: str) -> None:
    n, y = _counts((3, 4, 4, 3, 3, 4, 3, 2, 2, 2), (0, 0, 1, 0, 0, 1, 1, 0, 0, 0), 6)
    fit = posterior(settings_for(model), n, y)
    assert fit.beta == pytest.approx(float(EXAMPLES[f"{key}.estimate"]), abs=1e-9)
    assert fit.probabilities == pytest.approx(floats(EXAMPLES[f"{key}.ptox"]), abs=1e-9)
    assert fit.beta == pytest.approx(_high_precision(settings_for(model), n, y), abs=1e-12)
    assert fit.recommended + 1 == int(EXAMPLES[f"{key}.mtd"])


def test_getprior_documented_example() -> None:
    assert getprior(0.10, 0.25, 3, 6, CrmModel.LOGISTIC) == pytest.approx(
        floats(EXAMPLES["getprior_logistic"]), abs=1e-12
    )
    assert getprior(0.10, 0.25, 3, 6) == pytest.approx(
        floats(EXAMPLES["getprior_empiric"]), abs=1e-12
    )
    assert getprior(0.05, 0.30, 4, 5) == pytest.approx(
        floats(EXAMPLES["getprior_empiric_0.05_0.3_4_5"]), abs=1e-12
    )


def test_titecrm_documented_example() -> None:
    # Subjects with follow-up u of a 180-day window; the DLT subjects count with weight 1.
    levels = (3, 3, 3, 4, 4, 3, 2, 2, 2, 3)
    tox = (0, 0, 1, 0, 1, 0, 0, 0, 0, 0)
    followup = (178, 181, 168, 181, 24, 181, 179, 102, 42, 3)
    weights = [1.0 if t else min(u / 180, 1.0) for t, u in zip(tox, followup, strict=True)]
    assert weights == pytest.approx(floats(EXAMPLES["titecrm.weights"]), abs=1e-12)
    n, y = [0] * 6, [0] * 6
    pending: list[list[float]] = [[] for _ in range(6)]
    for level, t, w in zip(levels, tox, weights, strict=True):
        if t or w >= 1:
            n[level - 1] += 1
            y[level - 1] += t
        else:
            pending[level - 1].append(w)
    settings = CrmSettings(skeleton=PRIOR, target=0.2, tite=True)
    fit = posterior(settings, tuple(n), tuple(y), tuple(tuple(p) for p in pending))
    assert fit.beta == pytest.approx(float(EXAMPLES["titecrm.estimate"]), abs=1e-9)
    assert fit.probabilities == pytest.approx(floats(EXAMPLES["titecrm.ptox"]), abs=1e-9)
    assert fit.recommended + 1 == int(EXAMPLES["titecrm.mtd"])


def test_every_reference_case() -> None:
    rows = read_reference_csv("dfcrm_crm_cases.csv")
    assert len(rows) >= 250
    for row in rows:
        skeleton = floats(row["skeleton"])
        settings = CrmSettings(
            skeleton=skeleton, target=float(row["target"]), model=CrmModel(row["model"])
        )
        n, y = _counts(ints(row["level"]), ints(row["tox"]), len(skeleton))
        fit = posterior(settings, n, y)
        assert fit.beta == pytest.approx(float(row["estimate"]), abs=5e-6), row
        assert fit.recommended + 1 == int(row["mtd"]), row
        if int(row["case"]) % 10 == 0:
            assert fit.beta == pytest.approx(_high_precision(settings, n, y), abs=1e-12), row


def _facts(
    n: tuple[int, ...], y: tuple[int, ...], current: int, last: tuple[int, int]
) -> DesignFacts:
    return DesignFacts.from_counts(n, y, current, last_cohort=last)


def test_no_skipping_and_coherence() -> None:
    settings = CrmSettings(skeleton=PRIOR, target=0.2)
    # 0/3 at level 1: the model would jump several levels; restrict allows one.
    decision = crm_decide(settings, _facts((3, 0, 0, 0, 0, 0), (0,) * 6, 0, (3, 0)))
    assert posterior(settings, (3, 0, 0, 0, 0, 0), (0,) * 6).recommended > 1
    assert decision.action is Action.ESCALATE and decision.dose == 1
    assert decision.rule.startswith("no skipping")
    # A cohort at or above the target never leads to escalation, even if the model says so.
    n, y = (6, 6, 3, 0, 0, 0), (0, 0, 1, 0, 0, 0)
    assert posterior(settings, n, y).recommended > 2
    decision = crm_decide(settings, _facts(n, y, 2, (3, 1)))
    assert decision.action is Action.STAY and decision.rule.startswith("coherence")
    unrestricted = CrmSettings(skeleton=PRIOR, target=0.2, restrict=False)
    assert (
        crm_decide(unrestricted, _facts(n, y, 2, (3, 1))).dose
        == posterior(settings, n, y).recommended
    )


def test_stopping_rules() -> None:
    toxic = CrmSettings(skeleton=PRIOR, target=0.2, stop_when_too_toxic=TooToxic(0, None, 0.9))
    decision = crm_decide(toxic, _facts((3, 0, 0, 0, 0, 0), (3, 0, 0, 0, 0, 0), 0, (3, 3)))
    assert decision.action is Action.STOP and decision.dose is None
    assert crm_decide(toxic, _facts((3, 0, 0, 0, 0, 0), (0,) * 6, 0, (3, 0))).action is (
        Action.ESCALATE
    )
    at_dose = CrmSettings(skeleton=PRIOR, target=0.2, stop_when_n_at_dose=9)
    decision = crm_decide(at_dose, _facts((3, 9, 0, 0, 0, 0), (0, 2, 0, 0, 0, 0), 1, (3, 1)))
    assert decision.action is Action.SELECT_MTD and decision.mtd == 1
    at_n = CrmSettings(skeleton=PRIOR, target=0.2, stop_at_n=12)
    decision = crm_decide(at_n, _facts((3, 6, 3, 0, 0, 0), (0, 1, 1, 0, 0, 0), 2, (3, 1)))
    assert decision.action is Action.SELECT_MTD and decision.mtd is not None


def test_pending_outcomes() -> None:
    facts = DesignFacts(
        levels=(LevelData(3, 0), LevelData(1, 0, pending=(0.5, 0.2))) + (LevelData(0, 0),) * 4,
        current=1,
    )
    assert crm_decide(CrmSettings(skeleton=PRIOR), facts).action is Action.SUSPEND_ACCRUAL
    assert crm_decide(CrmSettings(skeleton=PRIOR, tite=True), facts).action in (
        Action.STAY,
        Action.ESCALATE,
        Action.DE_ESCALATE,
    )
