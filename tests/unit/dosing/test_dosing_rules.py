"""The dose findings (dosing/rules.py; docs/dosing.md §3-§4), from tables of scenarios with
MIL97's settings: overdose above 10% of the planned dose, refused at 10 times it, weight
30-250 kg, a change of more than 10% from the previous dose confirmed."""

from __future__ import annotations

import ast
from decimal import Decimal
from pathlib import Path

import pytest

import dosing.rules as rules
from dosing.rules import (
    Amount,
    DoseLimits,
    Weight,
    amount_finding,
    total_dose_mg,
    weight_change,
    weight_changed,
    weight_finding,
)

MIL97 = DoseLimits(
    min_weight_kg=Decimal("30"),
    max_weight_kg=Decimal("250"),
    max_dose_over_planned_percent=10,
    implausible_dose_factor=10,
    max_weight_change_percent=10,
)

# (actual mg/kg, planned mg/kg) -> finding
AMOUNTS = [
    ("0.1", "0.1", Amount.AS_PLANNED),
    ("0.11", "0.1", Amount.DIFFERS),  # exactly 10% above: not an overdose
    ("0.1100001", "0.1", Amount.OVERDOSE),
    ("0.09", "0.1", Amount.DIFFERS),  # below the plan: a reason, no confirmation
    ("0.2", "0.1", Amount.OVERDOSE),  # the next level's vial
    ("0.999", "0.1", Amount.OVERDOSE),
    ("1", "0.1", Amount.IMPLAUSIBLE),  # 10 times: a total in mg typed as mg/kg
    ("7", "0.1", Amount.IMPLAUSIBLE),  # 0.1 mg/kg x 70 kg typed into the mg/kg field
    ("0", "0.1", Amount.NOT_POSITIVE),
    ("-0.1", "0.1", Amount.NOT_POSITIVE),
]


@pytest.mark.parametrize(("actual", "planned", "expected"), AMOUNTS)
def test_amount_finding(actual: str, planned: str, expected: Amount) -> None:
    assert amount_finding(Decimal(actual), Decimal(planned), MIL97) is expected


# (weight kg, previous dose's weight kg or None) -> (range finding, changed)
WEIGHTS = [
    ("70", None, Weight.PLAUSIBLE, False),
    ("30", None, Weight.PLAUSIBLE, False),
    ("250", None, Weight.PLAUSIBLE, False),
    ("29.9", None, Weight.OUTSIDE_RANGE, False),
    ("250.1", None, Weight.OUTSIDE_RANGE, False),
    ("154", "70", Weight.PLAUSIBLE, True),  # pounds typed as kg: inside the range, 120% off
    ("77", "70", Weight.PLAUSIBLE, False),  # 10%: not more than the margin
    ("77.3", "70", Weight.PLAUSIBLE, False),  # 10.4%, 10% in whole percent: no check
    ("77.4", "70", Weight.PLAUSIBLE, True),  # 10.57%, 11% in whole percent
    ("63", "70", Weight.PLAUSIBLE, False),  # 10% below
    ("62.6", "70", Weight.PLAUSIBLE, True),  # 10.57% below
    ("70", "0", Weight.PLAUSIBLE, False),  # no usable previous weight
    ("0", "70", Weight.NOT_POSITIVE, True),
]


@pytest.mark.parametrize(("weight", "previous", "finding", "changed"), WEIGHTS)
def test_weight_findings(weight: str, previous: str | None, finding: Weight, changed: bool) -> None:
    previous_kg = Decimal(previous) if previous is not None else None
    assert weight_finding(Decimal(weight), MIL97) is finding
    assert weight_changed(Decimal(weight), previous_kg, MIL97) is changed


def test_weight_change_is_whole_percent_half_up() -> None:
    assert weight_change(Decimal("77.35"), Decimal("70")) == Decimal("11")  # 10.5% -> 11
    assert weight_change(Decimal("70"), None) is None


def test_total_dose_is_to_the_microgram() -> None:
    assert total_dose_mg(Decimal("0.1"), Decimal("70.5")) == Decimal("7.050")
    assert total_dose_mg(Decimal("0.0333"), Decimal("71.15")) == Decimal("2.369")  # 2.369295


def test_the_module_imports_the_standard_library_only() -> None:
    tree = ast.parse(Path(rules.__file__).read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add((node.module or "").split(".")[0])
    assert imported <= {"__future__", "dataclasses", "decimal", "enum", "typing"}
