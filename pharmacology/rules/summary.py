"""Descriptive summaries of PK parameters and dose proportionality (docs/pharmacology.md §3).

Summaries follow PKNCA's defaults: geometric mean and geometric CV% for exposure (AUC, Cmax),
median and range for times (Tmax), arithmetic mean and SD for the half-life; a statistic is
given only when at most half of the values are missing. Dose proportionality is the power
model ln(PK) = a + b ln(dose) (Gough et al., Drug Inf J 1995;29:1039-1048; Smith et al., Pharm
Res 2000;17:1278-1283) fitted by ordinary least squares across subjects, judged by the 90% CI
of b against [1 + ln(thetaL)/ln(r), 1 + ln(thetaU)/ln(r)].
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, replace
from enum import StrEnum

from scipy import stats

from .errors import PharmacologyInputError, as_choice, require_finite

SUMMARY_VERSION = "pharmacology-summary 1"


class Statistic(StrEnum):
    GEOMETRIC = "geometric mean (geometric CV%)"
    MEDIAN_RANGE = "median (min, max)"
    MEAN_SD = "mean (SD)"


# The statistic for each NCA parameter name (the attribute names of nca.NcaResult).
PARAMETER_STATISTIC: dict[str, Statistic] = {
    **{
        name: Statistic.GEOMETRIC
        for name in (
            "cmax", "ceoi", "clast", "ctrough", "cavg", "auclast", "aucall", "auctau",
            "aucinf_obs", "aumclast", "aumcinf_obs", "clearance", "vz", "vss", "lambda_z",
        )
    },
    "tmax": Statistic.MEDIAN_RANGE,
    "tlast": Statistic.MEDIAN_RANGE,
    "half_life": Statistic.MEAN_SD,
    "mrt": Statistic.MEAN_SD,
    "auc_extrapolated_percent": Statistic.MEAN_SD,
}  # fmt: skip


@dataclass(frozen=True)
class SummarySettings:
    max_missing_fraction: float = 0.5  # PKNCA max.missing

    def __post_init__(self) -> None:
        if not 0 <= self.max_missing_fraction < 1:
            raise PharmacologyInputError("max_missing_fraction: must be in [0, 1)")


@dataclass(frozen=True)
class Summary:
    """One parameter's summary over a group. `point` is the geometric mean, median or mean;
    `spread` the geometric CV%, None (see `minimum`/`maximum`) or the SD."""

    parameter: str
    statistic: Statistic
    n: int
    n_missing: int
    point: float | None
    spread: float | None = None
    minimum: float | None = None
    maximum: float | None = None
    reason: str = ""
    version: str = SUMMARY_VERSION


@dataclass(frozen=True)
class MeanConcentration:
    """The arithmetic mean (SD) of concentrations at one time point, BLQ counted as 0 as the
    mean curves count them (docs/pharmacology.md §10); `n_blq` of the `n` were BLQ."""

    n: int
    n_blq: int
    mean: float
    sd: float | None  # None for a single value
    version: str = SUMMARY_VERSION


def mean_concentration(values: Sequence[float | None]) -> MeanConcentration:
    """Mean and SD of the results at one time point; None is a BLQ result (counted as 0)."""
    if not values:
        raise PharmacologyInputError("mean concentration: no values")
    for value in values:
        if value is not None:
            require_finite(value, "concentration")
    numbers = [0.0 if v is None else v for v in values]
    return MeanConcentration(
        n=len(numbers),
        n_blq=sum(v is None for v in values),
        mean=statistics.fmean(numbers),
        sd=statistics.stdev(numbers) if len(numbers) > 1 else None,
    )


def geometric_cv_percent(log_sd: float) -> float:
    """100 sqrt(exp(s^2) - 1), s the SD of the log values."""
    return 100 * math.sqrt(math.expm1(log_sd**2))


def summarise(
    parameter: str,
    values: Sequence[float | None],
    settings: SummarySettings | None = None,
    statistic: Statistic | str | None = None,
) -> Summary:
    """Summarise one parameter over a group; None stands for a missing value (no result)."""
    settings = settings or SummarySettings()
    if statistic is None:
        if parameter not in PARAMETER_STATISTIC:
            raise PharmacologyInputError(f"summary: no statistic is defined for {parameter!r}")
        chosen = PARAMETER_STATISTIC[parameter]
    else:
        chosen = as_choice(Statistic, statistic, "statistic")
    present = [v for v in values if v is not None]
    for value in present:
        require_finite(value, f"summary of {parameter}")
    n, missing = len(present), len(values) - len(present)
    base = Summary(parameter, chosen, n, missing, None)
    if not values:
        return _with(base, reason="no values")
    if missing / len(values) > settings.max_missing_fraction:
        return _with(
            base,
            reason=f"{missing} of {len(values)} values missing "
            f"(more than {settings.max_missing_fraction:.0%})",
        )
    if chosen is Statistic.GEOMETRIC:
        if any(v <= 0 for v in present):
            return _with(base, reason="a geometric mean needs positive values (a value is <= 0)")
        logs = [math.log(v) for v in present]
        point = math.exp(statistics.fmean(logs))
        spread = geometric_cv_percent(statistics.stdev(logs)) if n > 1 else None
        return _with(base, point=point, spread=spread)
    if chosen is Statistic.MEDIAN_RANGE:
        return _with(
            base, point=statistics.median(present), minimum=min(present), maximum=max(present)
        )
    spread = statistics.stdev(present) if n > 1 else None
    return _with(base, point=statistics.fmean(present), spread=spread)


def _with(base: Summary, **changes: object) -> Summary:
    return replace(base, **changes)  # type: ignore[arg-type]


# --- dose proportionality -------------------------------------------------------------------


class Proportionality(StrEnum):
    PROPORTIONAL = "proportional"  # the 90% CI of b lies inside the acceptance interval
    NOT_PROPORTIONAL = "not proportional"  # the CI lies entirely outside it
    INCONCLUSIVE = "inconclusive"  # the CI straddles a limit


@dataclass(frozen=True)
class DoseExposure:
    """One subject's dose (any unit, e.g. mg/kg) and PK parameter value (e.g. AUC0-tau)."""

    subject: str
    dose: float
    value: float | None


@dataclass(frozen=True)
class ProportionalitySettings:
    theta_low: float = 0.8
    theta_high: float = 1.25  # (0.5, 2) for exploratory Phase 1 (Hummel et al. 2009)
    confidence: float = 0.90

    def __post_init__(self) -> None:
        if not 0 < self.theta_low < 1 < self.theta_high:
            raise PharmacologyInputError(
                "theta_low, theta_high: need 0 < theta_low < 1 < theta_high"
            )
        if not 0 < self.confidence < 1:
            raise PharmacologyInputError("confidence: must be between 0 and 1")


@dataclass(frozen=True)
class ProportionalityResult:
    parameter: str
    n: int
    intercept: float
    slope: float
    slope_se: float
    slope_ci: tuple[float, float]
    dose_ratio: float
    acceptance: tuple[float, float]
    conclusion: Proportionality
    # Ratio of dose-normalised exposure, highest vs lowest dose: r^(b - 1), with its CI.
    normalised_ratio: float
    normalised_ratio_ci: tuple[float, float]
    excluded: tuple[tuple[str, str], ...]
    settings: ProportionalitySettings
    method: str = "power model ln(PK) = a + b ln(dose), ordinary least squares"
    version: str = SUMMARY_VERSION


def dose_proportionality(
    parameter: str,
    data: Sequence[DoseExposure],
    settings: ProportionalitySettings | None = None,
) -> ProportionalityResult:
    """Fit the power model across subjects and judge proportionality (docs/pharmacology.md §3.2)."""
    settings = settings or ProportionalitySettings()
    used: list[DoseExposure] = []
    excluded: list[tuple[str, str]] = []
    for row in data:
        require_finite(row.dose, f"dose proportionality: subject {row.subject} dose")
        if row.dose <= 0:
            raise PharmacologyInputError(
                f"dose proportionality: subject {row.subject} dose must be positive"
            )
        if row.value is None:
            excluded.append((row.subject, "no value"))
        elif row.value <= 0:
            excluded.append((row.subject, "value <= 0 has no logarithm"))
        else:
            require_finite(row.value, f"dose proportionality: subject {row.subject} value")
            used.append(row)
    doses = sorted({row.dose for row in used})
    if len(doses) < 2 or len(used) < 3:
        raise PharmacologyInputError(
            f"dose proportionality of {parameter}: needs at least 3 values at 2 or more doses"
        )
    x = [math.log(row.dose) for row in used]
    y = [math.log(row.value) for row in used if row.value is not None]
    n = len(x)
    mean_x, mean_y = statistics.fmean(x), statistics.fmean(y)
    sxx = math.fsum((xi - mean_x) ** 2 for xi in x)
    slope = math.fsum((xi - mean_x) * (yi - mean_y) for xi, yi in zip(x, y, strict=True)) / sxx
    intercept = mean_y - slope * mean_x
    residual = math.fsum((yi - intercept - slope * xi) ** 2 for xi, yi in zip(x, y, strict=True))
    se = math.sqrt(residual / (n - 2) / sxx)
    t = float(stats.t.ppf(0.5 + settings.confidence / 2, n - 2))
    low, high = slope - t * se, slope + t * se
    r = doses[-1] / doses[0]
    accept = (
        1 + math.log(settings.theta_low) / math.log(r),
        1 + math.log(settings.theta_high) / math.log(r),
    )
    if accept[0] <= low and high <= accept[1]:
        conclusion = Proportionality.PROPORTIONAL
    elif high < accept[0] or low > accept[1]:
        conclusion = Proportionality.NOT_PROPORTIONAL
    else:
        conclusion = Proportionality.INCONCLUSIVE
    return ProportionalityResult(
        parameter=parameter,
        n=n,
        intercept=intercept,
        slope=slope,
        slope_se=se,
        slope_ci=(low, high),
        dose_ratio=r,
        acceptance=accept,
        conclusion=conclusion,
        normalised_ratio=r ** (slope - 1),
        normalised_ratio_ci=(r ** (low - 1), r ** (high - 1)),
        excluded=tuple(excluded),
        settings=settings,
    )
