"""What a dose's amount and body weight say, stated once (docs/dosing.md §3-§4).

Plain Python, no Django: `dosing.services` refuses or asks for a confirmation with these
findings, and the dose page's preview warns with the same findings while the coordinator types.
Each caller words the finding for its place; which finding applies is decided here.

- The amount against the planned dose (§3): at or above `implausible_dose_factor` times the
  planned dose it is refused (a total in mg typed as mg/kg); more than
  `max_dose_over_planned_percent` above it is an overdose, recorded once confirmed with a reason;
  any other difference needs a reason.
- The body weight (§4): outside `min_weight_kg`-`max_weight_kg` it is confirmed as measured;
  more than `max_weight_change_percent` from the previous dose's weight (in whole percent,
  rounded half up, as the message states it) it is confirmed too.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Protocol

MG = Decimal("0.001")


class StudySettings(Protocol):
    """What the rules read of a study (`trial.models.Study`, docs/settings.md §2)."""

    min_weight_kg: Decimal
    max_weight_kg: Decimal
    max_dose_over_planned_percent: int
    implausible_dose_factor: int
    max_weight_change_percent: int


@dataclass(frozen=True)
class DoseLimits:
    """The study's dose and weight settings."""

    min_weight_kg: Decimal
    max_weight_kg: Decimal
    max_dose_over_planned_percent: int
    implausible_dose_factor: int
    max_weight_change_percent: int

    @classmethod
    def of(cls, study: StudySettings) -> DoseLimits:
        return cls(
            min_weight_kg=study.min_weight_kg,
            max_weight_kg=study.max_weight_kg,
            max_dose_over_planned_percent=study.max_dose_over_planned_percent,
            implausible_dose_factor=study.implausible_dose_factor,
            max_weight_change_percent=study.max_weight_change_percent,
        )


class Amount(StrEnum):
    NOT_POSITIVE = "not_positive"
    IMPLAUSIBLE = "implausible"
    OVERDOSE = "overdose"
    DIFFERS = "differs"
    AS_PLANNED = "as_planned"


class Weight(StrEnum):
    NOT_POSITIVE = "not_positive"
    OUTSIDE_RANGE = "outside_range"
    PLAUSIBLE = "plausible"


def total_dose_mg(dose_per_kg: Decimal, body_weight_kg: Decimal) -> Decimal:
    """mg/kg x kg, to the microgram."""
    return (Decimal(dose_per_kg) * Decimal(body_weight_kg)).quantize(MG, rounding=ROUND_HALF_UP)


def percent_off(value: Decimal, reference: Decimal) -> Decimal:
    """How far `value` is from `reference`, in % of it, to the whole percent (half up)."""
    return (abs(value - reference) * 100 / reference).quantize(Decimal(1), rounding=ROUND_HALF_UP)


def overdose_ceiling(planned: Decimal, limits: DoseLimits) -> Decimal:
    """The largest dose that is not an overdose."""
    return planned * (1 + Decimal(limits.max_dose_over_planned_percent) / 100)


def amount_finding(actual: Decimal, planned: Decimal, limits: DoseLimits) -> Amount:
    """The dose given against the planned dose (docs/dosing.md §3)."""
    if actual <= 0:
        return Amount.NOT_POSITIVE
    if actual >= planned * limits.implausible_dose_factor:
        return Amount.IMPLAUSIBLE
    if actual > overdose_ceiling(planned, limits):
        return Amount.OVERDOSE
    return Amount.DIFFERS if actual != planned else Amount.AS_PLANNED


def weight_finding(weight: Decimal, limits: DoseLimits) -> Weight:
    """The body weight against the study's plausible range (docs/dosing.md §4)."""
    if weight <= 0:
        return Weight.NOT_POSITIVE
    if limits.min_weight_kg <= weight <= limits.max_weight_kg:
        return Weight.PLAUSIBLE
    return Weight.OUTSIDE_RANGE


def weight_change(weight: Decimal, previous_kg: Decimal | None) -> Decimal | None:
    """The change from the previous dose's weight in whole percent, or None without one."""
    if previous_kg is None or previous_kg <= 0:
        return None
    return percent_off(weight, previous_kg)


def weight_changed(weight: Decimal, previous_kg: Decimal | None, limits: DoseLimits) -> bool:
    """More than `max_weight_change_percent` from the previous dose's weight (docs/dosing.md §4)."""
    change = weight_change(weight, previous_kg)
    return change is not None and change > limits.max_weight_change_percent
