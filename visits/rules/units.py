"""Lab values as reported, converted to one standard unit per test (docs/visits.md §3).

A site reports a value with its unit ("1.2 mg/dL", "1500 /mm3"); the casebook keeps it as typed and
also stores it in the test's standard unit, mostly SI. Each test accepts a closed list of units;
any other unit is refused with the test and the accepted units named, so that a unit confusion
(a percentage for an absolute count, mg/dL for a test reported in mmol/L) never becomes a grade.

Conversion factors (conventional unit -> SI unit, multiply; "divide" where the factor is the
reciprocal of a round number):
- Young DS. Implementation of SI units for clinical laboratory data. Ann Intern Med
  1987;106:114-129, the table the AMA Manual of Style (11th ed., 2020, section 17.5) reproduces:
  bilirubin 17.1, creatinine 88.4, calcium 0.2495, magnesium 0.4114, cholesterol 0.02586,
  triglycerides 0.01129 (as triolein), uric acid 59.48, haemoglobin 0.6206 mmol/L per g/dL
  (monomer), albumin and haemoglobin g/dL x 10, enzyme activity 1 ukat/L = 60 U/L.
- Glucose: mg/dL / 18.016 (10 / molar mass 180.16 g/mol; the AMA table rounds it to x 0.0555).
- mEq/L equals mmol/L for monovalent ions (sodium, potassium, bicarbonate) and is twice the
  mmol/L value for divalent ones (calcium, magnesium: x 0.5).
- Cell counts: 1 /mm3 = 1 /uL = 10^6/L, so 10^3/uL = 10^9/L and 1500 /mm3 = 1.5 x 10^9/L (the
  equivalence NCI CTCAE v5.0 itself prints, e.g. "<1500/mm3; <1.5 x 10e9 /L").
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from .errors import Number, VisitsInputError, as_decimal

ONE = Decimal(1)


@dataclass(frozen=True)
class Conversion:
    """One accepted unit of a test and how to reach the standard unit: x multiply / divide."""

    unit: str
    multiply: Decimal = ONE
    divide: Decimal = ONE

    def to_standard(self, value: Decimal) -> Decimal:
        return value * self.multiply / self.divide

    def from_standard(self, value: Decimal) -> Decimal:
        return value * self.divide / self.multiply


@dataclass(frozen=True)
class LabTest:
    """A lab test the casebook grades: its code, name, standard unit and accepted units."""

    code: str
    name: str
    standard_unit: str
    conversions: tuple[Conversion, ...]

    @property
    def units(self) -> tuple[str, ...]:
        return tuple(conversion.unit for conversion in self.conversions)

    @property
    def dimensionless(self) -> bool:
        return self.standard_unit in ("ratio", "pH")

    def conversion(self, unit: str) -> Conversion:
        """The accepted unit `unit` stands for, or an error naming the test and its units."""
        canonical = canonical_unit(unit)
        if canonical == "ratio" and self.dimensionless:
            canonical = self.standard_unit  # a blank unit is accepted for INR and pH
        for conversion in self.conversions:
            if conversion.unit == canonical:
                return conversion
        raise VisitsInputError(
            f"{self.name} ({self.code}): unit {unit!r} is not accepted; "
            f"accepted units: {', '.join(self.units)}"
        )

    def to_standard(self, value: Number, unit: str) -> Measurement:
        number = as_decimal(value, f"{self.name} value")
        return Measurement(self.conversion(unit).to_standard(number), self.standard_unit)

    def convert(self, value: Number, from_unit: str, to_unit: str) -> Decimal:
        """`value` in `from_unit` expressed in `to_unit` (both accepted units of this test)."""
        number = as_decimal(value, f"{self.name} value")
        source, target = self.conversion(from_unit), self.conversion(to_unit)
        if source.unit == target.unit:
            return number
        return target.from_standard(source.to_standard(number))


@dataclass(frozen=True)
class Measurement:
    value: Decimal
    unit: str

    def describe(self) -> str:
        return f"{format_number(self.value)} {self.unit}".strip()


def format_number(value: Decimal) -> str:
    """A value for a message: as given when short, else to 4 decimal places (no exponent)."""
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent >= -4:
        return format(value, "f")
    return format(value.quantize(Decimal("0.0001")).normalize(), "f")


# Every spelling a site may use, reduced to a key (lower case, no spaces, "u" for micro), and the
# canonical unit it means. Canonical units are the ones the accepted-unit lists use.
_ALIASES: dict[str, str] = {
    "10^9/l": "10^9/L",
    "g/l(cells)": "10^9/L",
    "10^3/ul": "10^3/uL",
    "10^3/mm3": "10^3/uL",
    "k/ul": "10^3/uL",
    "/mm3": "/mm3",
    "/ul": "/mm3",
    "cells/ul": "/mm3",
    "cells/mm3": "/mm3",
    "g/l": "g/L",
    "g/dl": "g/dL",
    "mg/dl": "mg/dL",
    "mg/l": "mg/L",
    "mmol/l": "mmol/L",
    "umol/l": "umol/L",
    "meq/l": "mEq/L",
    "u/l": "U/L",
    "iu/l": "IU/L",
    "ukat/l": "ukat/L",
    "s": "s",
    "sec": "s",
    "seconds": "s",
    "": "ratio",  # INR and pH only (LabTest.dimensionless)
    "ratio": "ratio",
    "inr": "ratio",
    "ph": "pH",
}


def canonical_unit(unit: str) -> str:
    """The canonical spelling of a unit as typed ("mmol/l", "x10E9/L", "µmol/L"), or the input."""
    if not isinstance(unit, str):
        raise VisitsInputError(f"unit: text is required, got {unit!r}")
    key = unit.strip().lower().replace(" ", "")
    key = key.replace("µ", "u").replace("μ", "u").replace("³", "3").replace("×", "x")
    key = key.replace("mcl", "ul").replace("10**", "10^").replace("10*", "10^")
    key = key.replace("10e", "10^")
    if key.startswith("x10^"):
        key = key[1:]
    return _ALIASES.get(key, unit.strip())


def _per_mm3() -> tuple[Conversion, ...]:
    return (
        Conversion("10^9/L"),
        Conversion("10^3/uL"),
        Conversion("/mm3", divide=Decimal(1000)),
    )


def _enzyme() -> tuple[Conversion, ...]:
    return (Conversion("U/L"), Conversion("IU/L"), Conversion("ukat/L", multiply=Decimal(60)))


def _monovalent() -> tuple[Conversion, ...]:
    return (Conversion("mmol/L"), Conversion("mEq/L"))


def _d(text: str) -> Decimal:
    return Decimal(text)


LAB_TESTS: tuple[LabTest, ...] = (
    LabTest("NEUT", "Neutrophils (absolute count)", "10^9/L", _per_mm3()),
    LabTest("PLAT", "Platelets", "10^9/L", _per_mm3()),
    LabTest("WBC", "Leukocytes", "10^9/L", _per_mm3()),
    LabTest("LYM", "Lymphocytes (absolute count)", "10^9/L", _per_mm3()),
    LabTest("CD4", "CD4 lymphocytes (absolute count)", "10^9/L", _per_mm3()),
    LabTest(
        "HGB",
        "Hemoglobin",
        "g/L",
        (
            Conversion("g/L"),
            Conversion("g/dL", multiply=_d("10")),
            # 1 g/dL = 0.6206 mmol/L (monomer), so 1 mmol/L = 10 / 0.6206 g/L.
            Conversion("mmol/L", multiply=_d("10"), divide=_d("0.6206")),
        ),
    ),
    LabTest("ALT", "Alanine aminotransferase", "U/L", _enzyme()),
    LabTest("AST", "Aspartate aminotransferase", "U/L", _enzyme()),
    LabTest("ALP", "Alkaline phosphatase", "U/L", _enzyme()),
    LabTest("GGT", "Gamma glutamyl transferase", "U/L", _enzyme()),
    LabTest("CK", "Creatine kinase", "U/L", _enzyme()),
    LabTest("LDH", "Lactate dehydrogenase", "U/L", _enzyme()),
    LabTest("LIPASE", "Lipase", "U/L", _enzyme()),
    LabTest("AMYLASE", "Amylase", "U/L", _enzyme()),
    LabTest(
        "BILI",
        "Bilirubin (total)",
        "umol/L",
        (Conversion("umol/L"), Conversion("mg/dL", multiply=_d("17.1"))),
    ),
    LabTest(
        "CREAT",
        "Creatinine",
        "umol/L",
        (
            Conversion("umol/L"),
            Conversion("mg/dL", multiply=_d("88.4")),
            Conversion("mmol/L", multiply=_d("1000")),
        ),
    ),
    LabTest("K", "Potassium", "mmol/L", _monovalent()),
    LabTest("SODIUM", "Sodium", "mmol/L", _monovalent()),
    LabTest("BICARB", "Bicarbonate", "mmol/L", _monovalent()),
    LabTest(
        "CA",
        "Calcium (serum, corrected for albumin)",
        "mmol/L",
        (
            Conversion("mmol/L"),
            Conversion("mg/dL", multiply=_d("0.2495")),
            Conversion("mEq/L", multiply=_d("0.5")),
        ),
    ),
    LabTest(
        "CAION",
        "Calcium (ionized)",
        "mmol/L",
        (
            Conversion("mmol/L"),
            Conversion("mg/dL", multiply=_d("0.2495")),
            Conversion("mEq/L", multiply=_d("0.5")),
        ),
    ),
    LabTest(
        "MG",
        "Magnesium",
        "mmol/L",
        (
            Conversion("mmol/L"),
            Conversion("mg/dL", multiply=_d("0.4114")),
            Conversion("mEq/L", multiply=_d("0.5")),
        ),
    ),
    LabTest(
        "GLUC",
        "Glucose",
        "mmol/L",
        (Conversion("mmol/L"), Conversion("mg/dL", divide=_d("18.016"))),
    ),
    LabTest(
        "ALB",
        "Albumin",
        "g/L",
        (Conversion("g/L"), Conversion("g/dL", multiply=_d("10"))),
    ),
    LabTest(
        "CHOL",
        "Cholesterol (total)",
        "mmol/L",
        (Conversion("mmol/L"), Conversion("mg/dL", multiply=_d("0.02586"))),
    ),
    LabTest(
        "TRIG",
        "Triglycerides",
        "mmol/L",
        (Conversion("mmol/L"), Conversion("mg/dL", multiply=_d("0.01129"))),
    ),
    LabTest(
        "URATE",
        "Urate (uric acid)",
        "umol/L",
        (
            Conversion("umol/L"),
            Conversion("mg/dL", multiply=_d("59.48")),
            Conversion("mmol/L", multiply=_d("1000")),
        ),
    ),
    LabTest(
        "HAPTOG",
        "Haptoglobin",
        "g/L",
        (Conversion("g/L"), Conversion("mg/dL", multiply=_d("0.01"))),
    ),
    LabTest("INR", "Prothrombin time INR", "ratio", (Conversion("ratio"),)),
    LabTest("APTT", "Activated partial thromboplastin time", "s", (Conversion("s"),)),
    LabTest("PH", "pH (blood)", "pH", (Conversion("pH"),)),
)

_BY_CODE: dict[str, LabTest] = {test.code: test for test in LAB_TESTS}


def lab_test(code: str) -> LabTest:
    """The test with this code, or an error listing the codes the casebook knows."""
    key = code.strip().upper() if isinstance(code, str) else code
    if not isinstance(key, str) or key not in _BY_CODE:
        raise VisitsInputError(
            f"lab test: {code!r} is not a known test code; known: {', '.join(sorted(_BY_CODE))}"
        )
    return _BY_CODE[key]


def to_standard(test: str, value: Number, unit: str) -> Measurement:
    """A reported value in the test's standard unit (refused when the unit is not accepted)."""
    return lab_test(test).to_standard(value, unit)
