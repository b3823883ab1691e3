"""Decision tables against their reference packages, targets 0.25 and 0.30, n = 1..30.

- BOIN: R package BOIN 2.7.2, get.boundary (reference/boin_boundaries.csv, boin_reference.R).
- mTPI-2 and i3+3: the authors' R package FIND 0.1.1 (Ji & Zhang), get_decision_mtpi2 and
  get_decision_i3plus3 (reference/*_tables.csv, interval_reference.R); FIND tabulates n >= 3,
  the rows n = 1, 2 are checked against the published rules directly.
"""

from __future__ import annotations

import math
from fractions import Fraction

import pytest
from scipy.stats import beta

from escalation.rules.designs import (
    BoinSettings,
    I3plus3Settings,
    Letter,
    Mtpi2Settings,
    TrialSettings,
    boin_table,
    i3plus3_table,
    mtpi2_table,
)

from .reference_data import read_reference_csv, reference_header

TARGETS = (0.25, 0.30)


def _boin(target: float, extrasafe: bool = False) -> BoinSettings:
    return BoinSettings(trial=TrialSettings(target=target, extrasafe=extrasafe))


def _optional(text: str) -> int | None:
    return None if text == "NA" else int(text)


def test_reference_files_name_their_package() -> None:
    assert reference_header("boin_boundaries.csv")[0].startswith("# BOIN 2.7.2")
    assert reference_header("mtpi2_tables.csv")[0].startswith("# FIND 0.1.1")
    assert reference_header("i3plus3_tables.csv")[0].startswith("# FIND 0.1.1")


@pytest.mark.parametrize("target", TARGETS)
def test_boin_boundaries_equal_get_boundary(target: float) -> None:
    rows = [
        r
        for r in read_reference_csv("boin_boundaries.csv")
        if float(r["target"]) == target and r["extrasafe"] == "FALSE"
    ]
    assert [int(r["n"]) for r in rows] == list(range(1, 31))
    settings = _boin(target)
    lambda_e, lambda_d = settings.lambdas
    assert lambda_e == pytest.approx(float(rows[0]["lambda_e"]), abs=1e-14)
    assert lambda_d == pytest.approx(float(rows[0]["lambda_d"]), abs=1e-14)
    table = boin_table(settings, 30)
    for (n, escalate, deescalate, eliminate), row in zip(table.boundaries(), rows, strict=True):
        assert escalate == int(row["escalate_if_le"]), n
        assert deescalate == int(row["deescalate_if_ge"]), n  # BOIN caps it at elimination
        assert eliminate == _optional(row["eliminate_if_ge"]), n


@pytest.mark.parametrize("target", TARGETS)
def test_boin_extrasafe_stop_boundary_equals_get_boundary(target: float) -> None:
    from escalation.rules.designs.common import prob_above

    rows = [
        r
        for r in read_reference_csv("boin_boundaries.csv")
        if float(r["target"]) == target and r["extrasafe"] == "TRUE"
    ]
    for row in rows:
        n = int(row["n"])
        ours = (
            next((y for y in range(n + 1) if prob_above(target, n, y) > 0.95 - 0.05), None)
            if n >= 3
            else None
        )
        assert ours == _optional(row["stop_lowest_if_ge"]), n


@pytest.mark.parametrize("target", TARGETS)
def test_boin_products_never_sit_on_an_integer(target: float) -> None:
    # BOIN 2.7.2 de-escalates only above lambda_d n when that product is an exact integer; the
    # paper says ">=". Neither target reaches that case for n <= 30, so both agree here.
    lambda_e, lambda_d = _boin(target).lambdas
    for n in range(1, 31):
        for value in (lambda_e * n, lambda_d * n):
            assert abs(value - round(value)) > 1e-6


def _reference_cells(name: str, target: float) -> dict[tuple[int, int], str]:
    return {
        (int(r["n"]), int(r["y"])): r["decision"]
        for r in read_reference_csv(name)
        if float(r["target"]) == target
    }


LETTER = {"E": Letter.E, "S": Letter.S, "D": Letter.D, "DU": Letter.DE}


@pytest.mark.parametrize("target", TARGETS)
def test_mtpi2_table_equals_find(target: float) -> None:
    reference = _reference_cells("mtpi2_tables.csv", target)
    assert len(reference) == sum(n + 1 for n in range(3, 31))
    table = mtpi2_table(Mtpi2Settings(trial=TrialSettings(target=target)), 30)
    for (n, y), decision in reference.items():
        assert table.cell(n, y) is LETTER[decision], (n, y)


@pytest.mark.parametrize("target", TARGETS)
def test_i3plus3_table_equals_find(target: float) -> None:
    reference = _reference_cells("i3plus3_tables.csv", target)
    table = i3plus3_table(I3plus3Settings(trial=TrialSettings(target=target)), 30)
    for (n, y), decision in reference.items():
        assert table.cell(n, y) is LETTER[decision], (n, y)


@pytest.mark.parametrize("target", TARGETS)
def test_rows_below_three_follow_the_published_rules(target: float) -> None:
    # No exclusion below 3 subjects; mTPI-2 by the largest unit probability mass computed here
    # independently (midpoints, as FIND classifies); i3+3 by its three comparisons.
    low, high = Fraction(repr(target)) - Fraction(1, 20), Fraction(repr(target)) + Fraction(1, 20)
    mtpi2 = mtpi2_table(Mtpi2Settings(trial=TrialSettings(target=target)), 30)
    i3 = i3plus3_table(I3plus3Settings(trial=TrialSettings(target=target)), 30)
    edges = [float(low) - k * 0.1 for k in range(0, 10)][::-1] + [
        float(high) + k * 0.1 for k in range(0, 10)
    ]
    edges = sorted({round(min(max(e, 0.0), 1.0), 3) for e in edges})
    for n in (1, 2):
        for y in range(n + 1):
            upm = [
                (beta.cdf(b, 1 + y, 1 + n - y) - beta.cdf(a, 1 + y, 1 + n - y)) / (b - a)
                for a, b in zip(edges, edges[1:], strict=False)
            ]
            best = max(range(len(upm)), key=lambda i: (upm[i], -i))
            middle = (edges[best] + edges[best + 1]) / 2
            expected = Letter.E if middle < low else Letter.D if middle > high else Letter.S
            assert mtpi2.cell(n, y) is expected, (n, y)
            rate = Fraction(y, n)
            if rate < low:
                expected = Letter.E
            elif rate <= high or Fraction(y - 1, n) < low:
                expected = Letter.S
            else:
                expected = Letter.D
            assert i3.cell(n, y) is expected, (n, y)


def test_boin_published_table_target_030() -> None:
    # Liu & Yuan 2015 / Yuan et al. 2016 (Clin Cancer Res 22:4291) Table: target 0.3, cohorts
    # of 3: escalate if y <= 0, 0, 1, 1, 2, 2, 2, 3, 3, 4 and de-escalate if y >= 2, 3, 4, 5,
    # 6, 7, 8, 9, 10, 11 at n = 3, 6, ..., 30 (before the cap at elimination).
    settings = _boin(0.30)
    assert [settings.escalate_max(n) for n in range(3, 31, 3)] == [0, 1, 2, 2, 3, 4, 4, 5, 6, 7]
    assert [settings.deescalate_min(n) for n in range(3, 31, 3)] == [
        math.ceil(settings.lambdas[1] * n) for n in range(3, 31, 3)
    ]


def test_md_anderson_options_change_only_their_cell() -> None:
    plain = boin_table(_boin(0.30), 30)
    option = boin_table(
        BoinSettings(trial=TrialSettings(target=0.30), deescalate_at_2_of_6=True), 30
    )
    assert plain.cell(6, 2) is Letter.S and option.cell(6, 2) is Letter.D
    assert [c for r in plain.cells for c in r].count(Letter.S) - 1 == [
        c for r in option.cells for c in r
    ].count(Letter.S)
    custom = BoinSettings(trial=TrialSettings(target=0.25), phi2=0.32, stay_at_1_of_3=True)
    assert BoinSettings(trial=TrialSettings(target=0.25), phi2=0.32).cell(3, 1) is Letter.D
    assert custom.cell(3, 1) is Letter.S
