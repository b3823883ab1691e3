"""Summaries and dose proportionality (docs/pharmacology.md §3), checked against base R.

reference/summary_reference.R fits lm(log(PK) ~ log(dose)) and confint(level = 0.9) with R 4.2
and writes reference/summary_reference.csv; the data are written out in that script and here.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import pytest

from pharmacology.rules.errors import PharmacologyInputError
from pharmacology.rules.summary import (
    DoseExposure,
    Proportionality,
    ProportionalitySettings,
    Statistic,
    SummarySettings,
    dose_proportionality,
    geometric_cv_percent,
    summarise,
)

REFERENCE = Path(__file__).parent / "reference" / "summary_reference.csv"
DOSES = (0.01, 0.01, 0.01, 0.03, 0.03, 0.03, 0.1, 0.1, 0.1, 0.3, 0.3, 0.3, 0.45, 0.45, 0.45)
CASES = {
    "proportional": (1.9, 2.3, 2.1, 6.4, 5.8, 7.1, 20.5, 23.9, 18.7, 61.0, 66.2, 58.4,
                     93.1, 88.7, 101.5),
    "scattered": (2.6, 1.5, 2.2, 5.1, 8.9, 6.0, 24.0, 15.8, 22.4, 71.0, 49.5, 60.2,
                  110.3, 79.9, 96.0),
    "supra": (0.05, 0.07, 0.06, 0.31, 0.26, 0.35, 1.9, 2.2, 1.7, 8.8, 7.9, 9.6, 15.2, 13.9, 16.8),
}  # fmt: skip


def r_results() -> dict[tuple[str, str], float]:
    with REFERENCE.open(newline="") as handle:
        return {(r["case"], r["quantity"]): float(r["value"]) for r in csv.DictReader(handle)}


def data(case: str) -> list[DoseExposure]:
    return [
        DoseExposure(f"S{i:02d}", dose, value)
        for i, (dose, value) in enumerate(zip(DOSES, CASES[case], strict=True))
    ]


@pytest.mark.parametrize("case", sorted(CASES))
def test_power_model_matches_r_lm_and_confint(case: str) -> None:
    r = r_results()
    result = dose_proportionality("AUC0-tau", data(case))
    assert result.n == 15
    assert result.intercept == pytest.approx(r[case, "intercept"], rel=1e-12)
    assert result.slope == pytest.approx(r[case, "slope"], rel=1e-12)
    assert result.slope_se == pytest.approx(r[case, "slope_se"], rel=1e-10)
    assert result.slope_ci[0] == pytest.approx(r[case, "slope_ci_low"], rel=1e-10)
    assert result.slope_ci[1] == pytest.approx(r[case, "slope_ci_high"], rel=1e-10)


@pytest.mark.parametrize(
    ("case", "thetas", "conclusion"),
    [
        pytest.param("proportional", (0.8, 1.25), Proportionality.PROPORTIONAL, id="within"),
        pytest.param("scattered", (0.8, 1.25), Proportionality.INCONCLUSIVE, id="straddles"),
        pytest.param("scattered", (0.5, 2.0), Proportionality.PROPORTIONAL,
                     id="straddles-0.8-within-0.5"),
        pytest.param("supra", (0.8, 1.25), Proportionality.NOT_PROPORTIONAL, id="outside"),
        pytest.param("supra", (0.5, 2.0), Proportionality.NOT_PROPORTIONAL, id="outside-0.5"),
    ],
)  # fmt: skip
def test_conclusion_against_the_acceptance_interval(
    case: str, thetas: tuple[float, float], conclusion: Proportionality
) -> None:
    settings = ProportionalitySettings(theta_low=thetas[0], theta_high=thetas[1])
    result = dose_proportionality("AUC", data(case), settings)
    r = 0.45 / 0.01
    assert result.dose_ratio == pytest.approx(45)
    assert result.acceptance == pytest.approx(
        (1 + math.log(thetas[0]) / math.log(r), 1 + math.log(thetas[1]) / math.log(r))
    )
    assert result.conclusion is conclusion


def test_acceptance_interval_for_mil97_dose_range() -> None:
    # r = 45 (0.01 to 0.45 mg/kg): (0.8, 1.25) gives [0.9414, 1.0586], (0.5, 2) [0.8179, 1.1821].
    result = dose_proportionality("AUC", data("proportional"))
    assert result.acceptance == pytest.approx((0.94138, 1.05862), abs=1e-5)
    wide = dose_proportionality(
        "AUC", data("proportional"), ProportionalitySettings(theta_low=0.5, theta_high=2.0)
    )
    assert wide.acceptance == pytest.approx((0.81791, 1.18209), abs=1e-5)


def test_normalised_ratio_is_r_to_the_b_minus_1() -> None:
    result = dose_proportionality("Cmax", data("supra"))
    assert result.normalised_ratio == pytest.approx(45 ** (result.slope - 1))
    assert result.normalised_ratio_ci[0] < result.normalised_ratio < result.normalised_ratio_ci[1]


def test_missing_and_zero_values_are_left_out_with_reasons() -> None:
    rows = [*data("proportional"), DoseExposure("X1", 0.1, None), DoseExposure("X2", 0.1, 0.0)]
    result = dose_proportionality("AUC", rows)
    assert result.n == 15
    assert result.excluded == (("X1", "no value"), ("X2", "value <= 0 has no logarithm"))


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        pytest.param([DoseExposure("A", 0.1, 1.0)] * 3, "at 2 or more doses", id="one-dose"),
        pytest.param([DoseExposure("A", 0.1, 1.0), DoseExposure("B", 0.3, 3.0)],
                     "at least 3 values", id="two-values"),
        pytest.param([DoseExposure("A", 0.0, 1.0)], "dose must be positive", id="zero-dose"),
    ],
)  # fmt: skip
def test_dose_proportionality_refuses_too_little(rows: list[DoseExposure], message: str) -> None:
    with pytest.raises(PharmacologyInputError, match=message):
        dose_proportionality("AUC", rows)


def test_settings_refuse_thetas_on_the_wrong_side_of_1() -> None:
    with pytest.raises(PharmacologyInputError, match="theta_low"):
        ProportionalitySettings(theta_low=1.1, theta_high=1.25)


# --- descriptive statistics ---

VALUES = (93.1, 88.7, 101.5, 61.0, 120.4)


def test_geometric_mean_and_cv_match_r() -> None:
    r = r_results()
    summary = summarise("auctau", VALUES)
    assert summary.statistic is Statistic.GEOMETRIC
    assert summary.point == pytest.approx(r["geometric", "geometric_mean"], rel=1e-12)
    assert summary.spread == pytest.approx(r["geometric", "geometric_cv_percent"], rel=1e-12)


def test_geometric_cv_formula() -> None:
    assert geometric_cv_percent(0.3) == pytest.approx(100 * math.sqrt(math.exp(0.09) - 1))


def test_tmax_is_median_and_range() -> None:
    r = r_results()
    summary = summarise("tmax", VALUES)
    assert summary.point == pytest.approx(r["geometric", "median"])
    assert (summary.minimum, summary.maximum) == (61.0, 120.4)


def test_half_life_is_mean_and_sd() -> None:
    r = r_results()
    summary = summarise("half_life", VALUES)
    assert summary.point == pytest.approx(r["geometric", "mean"], rel=1e-12)
    assert summary.spread == pytest.approx(r["geometric", "sd"], rel=1e-12)


@pytest.mark.parametrize(
    ("values", "given"),
    [
        pytest.param((1.0, 2.0, None, None), True, id="half-missing-given"),
        pytest.param((1.0, None, None), False, id="two-thirds-missing-withheld"),
        pytest.param((1.0, 2.0, 3.0, None), True, id="quarter-missing-given"),
    ],
)
def test_statistic_only_when_at_least_half_the_values_exist(
    values: tuple[float | None, ...], given: bool
) -> None:
    summary = summarise("cmax", values)
    assert (summary.point is not None) is given
    assert summary.n_missing == values.count(None)
    if not given:
        assert "missing" in summary.reason


def test_missing_fraction_is_a_setting() -> None:
    summary = summarise("cmax", (1.0, 2.0, None, None), SummarySettings(max_missing_fraction=0.25))
    assert summary.point is None


def test_geometric_mean_refuses_zero_values() -> None:
    summary = summarise("auclast", (0.0, 2.0, 3.0))
    assert summary.point is None and "positive" in summary.reason


def test_unknown_parameter_is_refused() -> None:
    with pytest.raises(PharmacologyInputError, match="no statistic is defined for 'foo'"):
        summarise("foo", (1.0,))


def test_the_mean_concentration_counts_blq_as_zero() -> None:
    from pharmacology.rules.summary import mean_concentration

    # Worked by hand: (1.0 + 0 + 2.0) / 3 = 1.0; SD sqrt(((0)^2 + 1^2 + 1^2) / 2) = 1.0.
    mean = mean_concentration([1.0, None, 2.0])
    assert (mean.n, mean.n_blq, mean.mean, mean.sd) == (3, 1, 1.0, 1.0)
    single = mean_concentration([0.42])
    assert (single.mean, single.sd) == (0.42, None)
    assert mean_concentration([None, None]).mean == 0.0
    with pytest.raises(PharmacologyInputError):
        mean_concentration([])
    with pytest.raises(PharmacologyInputError):
        mean_concentration([1.0, math.nan])
