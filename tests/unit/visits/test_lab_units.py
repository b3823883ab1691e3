"""Lab units: each accepted unit converted to the test's standard unit, by hand.

Factors: Young DS, Ann Intern Med 1987;106:114-129 (AMA Manual of Style SI table); glucose 10 /
180.16 g/mol; cell counts 1 /mm3 = 10^6/L (docs/visits.md §3).
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from visits.rules import VisitsInputError, lab_test, to_standard


@pytest.mark.parametrize(
    ("test", "value", "unit", "standard", "standard_unit"),
    [
        ("HGB", "12.5", "g/dL", "125.0", "g/L"),  # x 10
        ("HGB", "6.206", "mmol/L", "100", "g/L"),  # 6.206 mmol/L = 10.00 g/dL (x 0.6206)
        ("HGB", "118", "g/l", "118", "g/L"),  # spelling only
        ("CREAT", "1.0", "mg/dL", "88.40", "umol/L"),  # x 88.4
        ("CREAT", "0.1", "mmol/L", "100.0", "umol/L"),  # x 1000
        ("CREAT", "97", "µmol/L", "97", "umol/L"),  # micro sign
        ("BILI", "1.0", "mg/dL", "17.10", "umol/L"),  # x 17.1
        ("GLUC", "90.08", "mg/dL", "5", "mmol/L"),  # / 18.016
        ("NEUT", "1500", "/mm3", "1.5", "10^9/L"),  # / 1000
        ("NEUT", "1500", "cells/µL", "1.5", "10^9/L"),  # cells/uL = /mm3
        ("NEUT", "1.5", "x10E9/L", "1.5", "10^9/L"),  # spelling of 10^9/L
        ("PLAT", "250", "K/uL", "250", "10^9/L"),  # 10^3/uL = 10^9/L
        ("WBC", "6.1", "10^3/mm3", "6.1", "10^9/L"),
        ("K", "4.2", "mEq/L", "4.2", "mmol/L"),  # monovalent: mEq/L = mmol/L
        ("SODIUM", "140", "mmol/L", "140", "mmol/L"),
        ("CA", "10.0", "mg/dL", "2.495", "mmol/L"),  # x 0.2495
        ("CA", "5.0", "mEq/L", "2.5", "mmol/L"),  # divalent: x 0.5
        ("MG", "2.0", "mg/dL", "0.8228", "mmol/L"),  # x 0.4114
        ("MG", "1.6", "mEq/L", "0.8", "mmol/L"),
        ("ALB", "4.0", "g/dL", "40", "g/L"),
        ("ALT", "1.0", "ukat/L", "60", "U/L"),  # 1 ukat/L = 60 U/L
        ("AST", "33", "IU/L", "33", "U/L"),
        ("CHOL", "200", "mg/dL", "5.172", "mmol/L"),  # x 0.02586
        ("TRIG", "150", "mg/dL", "1.6935", "mmol/L"),  # x 0.01129
        ("URATE", "7.0", "mg/dL", "416.36", "umol/L"),  # x 59.48
        ("HAPTOG", "100", "mg/dL", "1.00", "g/L"),  # x 0.01
        ("INR", "1.1", "", "1.1", "ratio"),
        ("APTT", "31", "sec", "31", "s"),
    ],
)
def test_conversion_to_standard(test, value, unit, standard, standard_unit) -> None:
    measurement = to_standard(test, value, unit)
    assert measurement.unit == standard_unit
    assert measurement.value == Decimal(standard)


def test_conversion_round_trips_between_accepted_units() -> None:
    creatinine = lab_test("CREAT")
    assert creatinine.convert("176.8", "umol/L", "mg/dL") == Decimal(2)
    assert creatinine.convert("2", "mg/dL", "mmol/L") == Decimal("0.1768")
    glucose = lab_test("GLUC")
    assert glucose.convert("5", "mmol/L", "mg/dL") == Decimal("90.080")


@pytest.mark.parametrize(
    ("test", "unit", "accepted"),
    [
        ("NEUT", "%", "10^9/L, 10^3/uL, /mm3"),  # a differential percentage is not a count
        ("CREAT", "mg/L", "umol/L, mg/dL, mmol/L"),
        ("GLUC", "g/L", "mmol/L, mg/dL"),
        ("ALT", "mmol/L", "U/L, IU/L, ukat/L"),
        ("K", "mg/dL", "mmol/L, mEq/L"),
        ("PH", "mmol/L", "pH"),
    ],
)
def test_unknown_unit_is_refused_naming_test_and_units(test, unit, accepted) -> None:
    with pytest.raises(VisitsInputError) as error:
        to_standard(test, "1", unit)
    message = str(error.value)
    assert f"({test}): unit {unit!r} is not accepted" in message
    assert message.endswith(f"accepted units: {accepted}")


def test_blank_unit_only_for_dimensionless_tests() -> None:
    assert to_standard("PH", "7.4", "").unit == "pH"
    with pytest.raises(VisitsInputError, match="unit '' is not accepted"):
        to_standard("ALT", "30", "")


def test_test_codes_are_case_insensitive_and_unknown_ones_listed() -> None:
    assert lab_test("neut").code == "NEUT"
    with pytest.raises(VisitsInputError, match="known: ALB, ALP, ALT"):
        lab_test("ANC")
