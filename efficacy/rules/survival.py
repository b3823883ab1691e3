"""Kaplan-Meier estimates, their confidence bands, the median and the median follow-up
(docs/efficacy.md §12).

- S(t) = product over event times t_i <= t of (1 - d_i / n_i) (Kaplan & Meier, JASA
  1958;53:457-481), kept as an exact Fraction so that "S is exactly 0.5" is a fact, not a float
  comparison.
- Greenwood: var(log S(t)) = sum over t_i <= t of d_i / (n_i (n_i - d_i)).
- Pointwise bands, `ConfType`: "log" (R survival's survfit default) S exp(+-z se), the upper limit
  capped at 1; "log-log" (SAS PROC LIFETEST's default) S^exp(+-z se / log S). The transform is
  printed with every estimate.
- Median and its interval (Brookmeyer & Crowley, Biometrics 1982;38:29-41, as R survival's
  print.survfit computes it): the first time the curve (or the lower/upper band) is at or below
  0.5; when it is exactly 0.5 and falls lower later, the midpoint between that time and the time
  of the next fall. Never at or below 0.5: not reached (None).
- Median follow-up: the reverse Kaplan-Meier (Schemper & Smith, Control Clin Trials
  1996;17:343-346): the same estimate with censoring as the event.

Checked against R survival 3.5-3 on datasets it ships (tests/unit/efficacy/reference/).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction
from statistics import NormalDist

from .endpoints import TimeToEvent
from .errors import EfficacyInputError, as_choice
from .version import RULES_VERSION

_HALF = Fraction(1, 2)
# R survival compares the bands with 0.5 within sqrt(.Machine$double.eps); the bands are floats
# (exp of a square root), so the same tolerance is used for them here. S itself is exact.
_BAND_TOLERANCE = math.sqrt(2.220446049250313e-16)


class ConfType(StrEnum):
    LOG = "log"
    LOG_LOG = "log-log"


def _as_time(value: object, name: str) -> Fraction:
    if isinstance(value, bool) or not isinstance(value, int | Fraction | Decimal):
        raise EfficacyInputError(
            f"{name}: {value!r} is not a time (give an int, Fraction or Decimal, not a "
            f"{type(value).__name__})"
        )
    time = Fraction(value)
    if time < 0:
        raise EfficacyInputError(f"{name}: time {value} is negative")
    return time


@dataclass(frozen=True)
class Observation:
    """One subject's time (e.g. days) and whether it ended with the event (else censored)."""

    time: int | Fraction | Decimal
    event: bool

    def __post_init__(self) -> None:
        _as_time(self.time, "observation")
        if not isinstance(self.event, bool):
            raise EfficacyInputError(f"observation: event {self.event!r} is not True or False")

    @classmethod
    def from_time_to_event(cls, record: TimeToEvent) -> Observation:
        return cls(record.days, record.event)


@dataclass(frozen=True)
class KmRow:
    """The curve at one observed time (an event or a censoring), as R's survfit lists it.

    `std_err_log` is Greenwood's standard error of log S (R's `std.err`); None where it is
    infinite (S = 0). `lower`/`upper`: None where the transform is undefined (R's NA).
    """

    time: Fraction
    n_risk: int
    n_event: int
    n_censor: int
    survival: Fraction
    std_err_log: float | None
    lower: float | None
    upper: float | None

    @property
    def std_err(self) -> float | None:
        """Standard error of S itself (R's summary.survfit `std.err`)."""
        return None if self.std_err_log is None else float(self.survival) * self.std_err_log


@dataclass(frozen=True)
class Estimate:
    """The curve at an arbitrary time t: the subjects still at risk at t and the last step."""

    time: Fraction
    n_risk: int
    survival: Fraction
    std_err_log: float | None
    lower: float | None
    upper: float | None


@dataclass(frozen=True)
class QuantileEstimate:
    """A median (or median follow-up) with its interval; None = not reached."""

    estimate: Fraction | None
    lower: Fraction | None
    upper: Fraction | None
    conf_type: ConfType
    confidence: float
    method: str

    def describe(self, unit: str = "days") -> str:
        def text(value: Fraction | None) -> str:
            return "not reached" if value is None else f"{float(value):g}"

        return (
            f"{text(self.estimate)} {unit} ({self.confidence * 100:g}% CI {text(self.lower)} to "
            f"{text(self.upper)}; {self.method}; conf.type {self.conf_type})"
        )


@dataclass(frozen=True)
class KaplanMeier:
    rows: tuple[KmRow, ...]
    n: int
    events: int
    conf_type: ConfType
    confidence: float
    median: QuantileEstimate
    rules_version: str = RULES_VERSION

    def at(self, time: int | Fraction | Decimal) -> Estimate:
        """The estimate at `time` (R summary.survfit(times = ..., extend = TRUE))."""
        t = _as_time(time, "at")
        risk = next((row.n_risk for row in self.rows if row.time >= t), 0)
        before = [row for row in self.rows if row.time <= t]
        if not before:
            # Before the first observed time the curve is 1 with no uncertainty; R's summary
            # gives the interval (1, 1) there whatever the transform.
            return Estimate(t, risk, Fraction(1), 0.0, 1.0, 1.0)
        row = before[-1]
        return Estimate(t, risk, row.survival, row.std_err_log, row.lower, row.upper)

    def at_risk(self, time: int | Fraction | Decimal) -> int:
        """Subjects whose time is at or after `time` (the numbers at risk under a KM plot)."""
        return self.at(time).n_risk

    def survival_at(self, time: int | Fraction | Decimal) -> Fraction:
        return self.at(time).survival

    def describe(self) -> str:
        return f"Kaplan-Meier, n = {self.n}, {self.events} events; median {self.median.describe()}"


def _z(confidence: float) -> float:
    if not 0 < confidence < 1:
        raise EfficacyInputError(f"confidence {confidence} is not in (0, 1)")
    return NormalDist().inv_cdf(1 - (1 - confidence) / 2)


def _band(
    survival: Fraction, std_err_log: float | None, conf_type: ConfType, z: float
) -> tuple[float | None, float | None]:
    """The pointwise interval at one step, as R survival's survfit_confint computes it."""
    if survival == 0 or std_err_log is None:
        return None, None
    s = float(survival)
    if conf_type is ConfType.LOG:
        return math.exp(math.log(s) - z * std_err_log), min(
            math.exp(math.log(s) + z * std_err_log), 1.0
        )
    if survival == 1:
        return None, None  # log(-log 1) is undefined
    shift = z * std_err_log / math.log(s)
    log_minus_log = math.log(-math.log(s))
    return math.exp(-math.exp(log_minus_log - shift)), math.exp(-math.exp(log_minus_log + shift))


def kaplan_meier(
    observations: Iterable[Observation],
    *,
    conf_type: ConfType | str = ConfType.LOG,
    confidence: float = 0.95,
) -> KaplanMeier:
    """The Kaplan-Meier curve of `observations`, with Greenwood bands and the median (§12)."""
    kind = as_choice(ConfType, conf_type, "conf_type")
    z = _z(confidence)
    data = sorted((_as_time(o.time, "observation"), o.event) for o in observations)
    if not data:
        raise EfficacyInputError("Kaplan-Meier: no observation")
    rows: list[KmRow] = []
    survival = Fraction(1)
    greenwood = Fraction(0)
    infinite = False
    at_risk = len(data)
    index = 0
    while index < len(data):
        time = data[index][0]
        deaths = censored = 0
        while index < len(data) and data[index][0] == time:
            if data[index][1]:
                deaths += 1
            else:
                censored += 1
            index += 1
        if deaths:
            survival *= 1 - Fraction(deaths, at_risk)
            if deaths == at_risk:
                infinite = True
            else:
                greenwood += Fraction(deaths, at_risk * (at_risk - deaths))
        std_err_log = None if infinite else math.sqrt(greenwood)
        lower, upper = _band(survival, std_err_log, kind, z)
        rows.append(KmRow(time, at_risk, deaths, censored, survival, std_err_log, lower, upper))
        at_risk -= deaths + censored
    events = sum(row.n_event for row in rows)
    median = QuantileEstimate(
        estimate=_median_exact(rows),
        lower=_median_band(rows, [row.lower for row in rows]),
        upper=_median_band(rows, [row.upper for row in rows]),
        conf_type=kind,
        confidence=confidence,
        method="Kaplan-Meier median, Brookmeyer-Crowley interval as R survival print.survfit",
    )
    return KaplanMeier(tuple(rows), len(data), events, kind, confidence, median)


def _median_exact(rows: Sequence[KmRow]) -> Fraction | None:
    """The first time S <= 1/2; the midpoint to the next fall when S is exactly 1/2 there."""
    for position, row in enumerate(rows):
        if row.survival <= _HALF:
            if row.survival == _HALF:
                lower = next((r for r in rows[position:] if r.survival < _HALF), None)
                if lower is not None:
                    return (row.time + lower.time) / 2
            return row.time
    return None


def _median_band(rows: Sequence[KmRow], band: Sequence[float | None]) -> Fraction | None:
    """Where a band first reaches 0.5, by the same rule (within R's tolerance; NA skipped)."""
    kept = [
        (row.time, value)
        for row, value in zip(rows, band, strict=True)
        if value is not None and value < 0.5 + _BAND_TOLERANCE
    ]
    if not kept:
        return None
    time, value = kept[0]
    if abs(value - 0.5) < _BAND_TOLERANCE:
        lower = next((t for t, v in kept if v < value), None)
        if lower is not None:
            return (time + lower) / 2
    return time


def median_follow_up(
    observations: Iterable[Observation],
    *,
    conf_type: ConfType | str = ConfType.LOG,
    confidence: float = 0.95,
) -> QuantileEstimate:
    """Median follow-up by the reverse Kaplan-Meier (Schemper & Smith 1996; §12): censoring is
    the event and the events are censored."""
    flipped = [Observation(o.time, not o.event) for o in observations]
    curve = kaplan_meier(flipped, conf_type=conf_type, confidence=confidence)
    return QuantileEstimate(
        estimate=curve.median.estimate,
        lower=curve.median.lower,
        upper=curve.median.upper,
        conf_type=curve.conf_type,
        confidence=confidence,
        method="median follow-up, reverse Kaplan-Meier (Schemper & Smith 1996)",
    )
