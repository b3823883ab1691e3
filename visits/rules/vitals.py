"""Vital signs: units, conversion to the standard unit, plausibility ranges (docs/visits.md §6).

Each sign has one standard unit (BP mmHg, pulse beats/min, respiratory rate breaths/min,
temperature C, SpO2 %, weight kg, height cm) and a few accepted ones converted exactly:
temperature (F - 32) x 5/9, pounds x 0.45359237 kg and inches x 2.54 cm (both exact by
definition, International Yard and Pound Agreement, 1959). A value outside the sign's plausible
range is refused with the range named: the ranges are study settings, not clinical standards;
they catch typing and unit errors (a weight typed in pounds into a kilogram field) and say nothing
about whether a value is abnormal.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from .errors import Number, VisitsInputError, as_choice, as_decimal
from .units import format_number


class VitalSign(StrEnum):
    SYSTOLIC_BP = "systolic_bp"
    DIASTOLIC_BP = "diastolic_bp"
    PULSE = "pulse"
    RESPIRATORY_RATE = "respiratory_rate"
    TEMPERATURE = "temperature"
    SPO2 = "spo2"
    WEIGHT = "weight"
    HEIGHT = "height"


LABELS: dict[VitalSign, str] = {
    VitalSign.SYSTOLIC_BP: "systolic blood pressure",
    VitalSign.DIASTOLIC_BP: "diastolic blood pressure",
    VitalSign.PULSE: "pulse",
    VitalSign.RESPIRATORY_RATE: "respiratory rate",
    VitalSign.TEMPERATURE: "temperature",
    VitalSign.SPO2: "SpO2",
    VitalSign.WEIGHT: "weight",
    VitalSign.HEIGHT: "height",
}

STANDARD_UNITS: dict[VitalSign, str] = {
    VitalSign.SYSTOLIC_BP: "mmHg",
    VitalSign.DIASTOLIC_BP: "mmHg",
    VitalSign.PULSE: "beats/min",
    VitalSign.RESPIRATORY_RATE: "breaths/min",
    VitalSign.TEMPERATURE: "C",
    VitalSign.SPO2: "%",
    VitalSign.WEIGHT: "kg",
    VitalSign.HEIGHT: "cm",
}

# Accepted spellings (lower case, no spaces) -> canonical unit.
_UNIT_ALIASES: dict[VitalSign, dict[str, str]] = {
    VitalSign.SYSTOLIC_BP: {"mmhg": "mmHg"},
    VitalSign.DIASTOLIC_BP: {"mmhg": "mmHg"},
    VitalSign.PULSE: {"beats/min": "beats/min", "bpm": "beats/min", "/min": "beats/min"},
    VitalSign.RESPIRATORY_RATE: {
        "breaths/min": "breaths/min",
        "/min": "breaths/min",
        "rpm": "breaths/min",
    },
    VitalSign.TEMPERATURE: {"c": "C", "°c": "C", "degc": "C", "f": "F", "°f": "F", "degf": "F"},
    VitalSign.SPO2: {"%": "%"},
    VitalSign.WEIGHT: {"kg": "kg", "lb": "lb", "lbs": "lb"},
    VitalSign.HEIGHT: {"cm": "cm", "in": "in", "inch": "in", "inches": "in"},
}

POUND_KG = Decimal("0.45359237")
INCH_CM = Decimal("2.54")
# Fahrenheit converted to Celsius is kept to 0.01 C (thermometers read to 0.1).
_TEMPERATURE_STEP = Decimal("0.01")


def _range(low: str, high: str) -> tuple[Decimal, Decimal]:
    return Decimal(low), Decimal(high)


@dataclass(frozen=True)
class VitalSignsSettings:
    """Plausible ranges, both ends inside, in the standard units; defaults are settings only.

    `weight_change_percent`: the change from the dosing weight at which a mg/kg dose must be
    recalculated (often 10%).
    """

    systolic_bp: tuple[Decimal, Decimal] = _range("50", "300")
    diastolic_bp: tuple[Decimal, Decimal] = _range("20", "200")
    pulse: tuple[Decimal, Decimal] = _range("20", "250")
    respiratory_rate: tuple[Decimal, Decimal] = _range("4", "60")
    temperature: tuple[Decimal, Decimal] = _range("30", "44")
    spo2: tuple[Decimal, Decimal] = _range("50", "100")
    weight: tuple[Decimal, Decimal] = _range("20", "300")
    height: tuple[Decimal, Decimal] = _range("100", "250")
    weight_change_percent: Decimal = Decimal("10")

    def __post_init__(self) -> None:
        for sign in VitalSign:
            low, high = self.range_for(sign)
            if low >= high:
                raise VisitsInputError(f"{sign.value}: the plausible range {low}-{high} is empty")
        if self.weight_change_percent <= 0:
            raise VisitsInputError("weight_change_percent: must be positive")

    def range_for(self, sign: VitalSign) -> tuple[Decimal, Decimal]:
        low, high = getattr(self, sign.value)
        return as_decimal(low, f"{sign.value} low"), as_decimal(high, f"{sign.value} high")


@dataclass(frozen=True)
class VitalSignValue:
    sign: VitalSign
    value: Decimal  # in the standard unit
    unit: str
    reported_value: Decimal
    reported_unit: str

    def describe(self) -> str:
        return f"{LABELS[self.sign]} {format_number(self.value)} {self.unit}"


def canonical_vital_unit(sign: VitalSign, unit: str) -> str:
    key = unit.strip().lower().replace(" ", "") if isinstance(unit, str) else ""
    aliases = _UNIT_ALIASES[sign]
    if key not in aliases:
        accepted = ", ".join(sorted(set(aliases.values())))
        raise VisitsInputError(
            f"{LABELS[sign]}: unit {unit!r} is not accepted; accepted units: {accepted}"
        )
    return aliases[key]


def _to_standard(sign: VitalSign, value: Decimal, unit: str) -> Decimal:
    if unit == "F":
        return ((value - 32) * 5 / 9).quantize(_TEMPERATURE_STEP, rounding=ROUND_HALF_UP)
    if unit == "lb":
        return value * POUND_KG
    if unit == "in":
        return value * INCH_CM
    return value


def vital_sign(
    sign: VitalSign | str,
    value: Number,
    unit: str,
    settings: VitalSignsSettings | None = None,
) -> VitalSignValue:
    """One vital sign in its standard unit, refused when outside its plausible range."""
    settings = settings or VitalSignsSettings()
    sign = as_choice(VitalSign, sign, "vital sign")
    number = as_decimal(value, LABELS[sign])
    canonical = canonical_vital_unit(sign, unit)
    standard = _to_standard(sign, number, canonical)
    low, high = settings.range_for(sign)
    if not low <= standard <= high:
        shown = format_number(standard)
        converted = "" if canonical == STANDARD_UNITS[sign] else f" ({number} {canonical})"
        raise VisitsInputError(
            f"{LABELS[sign]}: {shown} {STANDARD_UNITS[sign]}{converted} is outside the plausible "
            f"range {low}-{high} {STANDARD_UNITS[sign]} (a study setting); check the value and "
            "its unit"
        )
    return VitalSignValue(sign, standard, STANDARD_UNITS[sign], number, canonical)


def blood_pressure(
    systolic: Number,
    diastolic: Number,
    unit: str = "mmHg",
    settings: VitalSignsSettings | None = None,
) -> tuple[VitalSignValue, VitalSignValue]:
    """A blood pressure reading; the diastolic must be below the systolic."""
    high = vital_sign(VitalSign.SYSTOLIC_BP, systolic, unit, settings)
    low = vital_sign(VitalSign.DIASTOLIC_BP, diastolic, unit, settings)
    if low.value >= high.value:
        raise VisitsInputError(
            f"blood pressure: the diastolic {low.value} mmHg must be below the systolic "
            f"{high.value} mmHg"
        )
    return high, low


@dataclass(frozen=True)
class WeightChange:
    reference_kg: Decimal
    current_kg: Decimal
    percent: Decimal  # signed change from the reference weight, in %
    recalculate: bool  # the change reaches the setting: a mg/kg dose must be recalculated
    text: str


def weight_change(
    reference: VitalSignValue, current: VitalSignValue, settings: VitalSignsSettings | None = None
) -> WeightChange:
    """The change from the weight the dose was calculated on (docs/visits.md §6)."""
    settings = settings or VitalSignsSettings()
    if reference.sign is not VitalSign.WEIGHT or current.sign is not VitalSign.WEIGHT:
        raise VisitsInputError("weight change: both values must be weights")
    percent = (current.value - reference.value) / reference.value * 100
    recalculate = abs(percent) >= settings.weight_change_percent
    shown = format_number(percent.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))
    verdict = "recalculate the dose" if recalculate else "keep the dosing weight"
    return WeightChange(
        reference.value,
        current.value,
        percent,
        recalculate,
        f"weight {format_number(current.value)} kg is {shown}% from the dosing weight "
        f"{format_number(reference.value)} kg (threshold {settings.weight_change_percent}%): "
        f"{verdict}",
    )
