"""AE-table percentages round half away from zero to one decimal, as SAS ROUND and PUT w.1 do,
so the tables reconcile with the sponsor's TFLs (worked by hand: n / N x 100)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from monitoring import tables
from monitoring.tables import Cell, Event, Exposure, build_ae_table, dose_group, one_decimal

# (subjects with the event, dosed subjects, the percentage as SAS prints it)
CASES = [
    (1, 16, "6.3"),  # 6.25: Python's round() on the float gives 6.2
    (5, 16, "31.3"),  # 31.25
    (3, 16, "18.8"),  # 18.75
    (1, 80, "1.3"),  # 1.25
    (3, 80, "3.8"),  # 3.75
    (1, 40, "2.5"),
    (1, 32, "3.1"),  # 3.125: down
    (7, 32, "21.9"),  # 21.875: up
    (1, 3, "33.3"),
    (2, 3, "66.7"),
    (0, 7, "0.0"),
    (16, 16, "100.0"),
]


@pytest.mark.parametrize(("n", "denominator", "shown"), CASES)
def test_a_cell_rounds_half_up(n: int, denominator: int, shown: str) -> None:
    cell = Cell(denominator)
    cell.by_grade[2] = n
    assert cell.percent("any") == Decimal(shown)
    assert tables.format_cell(n, cell.percent("any")) == (f"{n} ({shown}%)" if n else "0")


def test_one_decimal_is_half_away_from_zero() -> None:
    assert one_decimal(Decimal("0.05")) == Decimal("0.1")
    assert one_decimal(Decimal("2.45")) == Decimal("2.5")
    assert one_decimal(Decimal("2.449999")) == Decimal("2.4")


def test_the_page_and_the_csv_show_the_same_rounding() -> None:
    """16 dosed subjects, one with a grade 3 nausea: 6.3 on the page and in the CSV."""
    group = dose_group(regimen="Q3W", regimen_order=1, amount=Decimal("0.1"), unit="mg/kg")
    first = date(2026, 1, 5)
    population = [Exposure(i, group, first) for i in range(1, 17)]
    events = [Event(1, "Gastrointestinal disorders", "Nausea", 3, date(2026, 1, 9))]
    table = build_ae_table(population, events)
    (row, cells), *_ = tables.display_rows(table, ["any", "ge3"])
    assert [c[3] for c in cells] == ["6.3", "6.3", "6.3", "6.3"]  # the group and the total
    header, rows = tables.ae_table_csv(table)
    percents = [value for name, value in zip(header, rows[0], strict=True) if name.endswith(" %")]
    assert str(percents[0]) == "6.3" and "6.2" not in map(str, percents)
