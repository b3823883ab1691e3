"""The criteria texts in visits/rules/ctcae_v5.py are the NCI workbook's, verbatim.

The workbook (NCI CTCAE v5.0, 2017) is not part of the project: the test reads it from the
CTCAE_WORKBOOK path, as the import command does, and fails in CI when it is missing.
"""

from __future__ import annotations

import os
from pathlib import Path

import openpyxl
import pytest

from visits.rules.ctcae_v5 import TERMS

REQUIRE = os.environ.get("EDC_REQUIRE_SERVICES") == "1"


def _text(value: object) -> str:
    return "" if value is None else str(value).replace("\xa0", " ").strip()


@pytest.fixture(scope="module")
def workbook_rows() -> dict[int, tuple[object, ...]]:
    path = os.environ.get("CTCAE_WORKBOOK", "")
    if not path or not Path(path).exists():
        if REQUIRE:
            pytest.fail(f"CTCAE_WORKBOOK must point at the NCI workbook in CI (got {path!r})")
        pytest.skip("set CTCAE_WORKBOOK to the NCI CTCAE v5.0 workbook")
    workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    sheet = next(name for name in workbook.sheetnames if "clean copy" in name.lower())
    rows = {}
    for row in workbook[sheet].iter_rows(min_row=2, values_only=True):
        if row[0] is not None:
            rows[int(row[0])] = row
    workbook.close()
    return rows


@pytest.mark.parametrize("criteria", TERMS, ids=[f"{t.term}-{t.test}" for t in TERMS])
def test_criteria_text_is_the_workbooks(criteria, workbook_rows) -> None:
    row = workbook_rows[criteria.meddra_code]
    assert _text(row[2]) == criteria.term
    cells = {grade: _text(row[2 + grade]) for grade in (1, 2, 3, 4)}
    existing = {grade for grade, text in cells.items() if text not in ("", "-")}
    # Every grade the workbook defines for the term is here, and no other.
    assert {grade.grade for grade in criteria.grades} == existing
    for grade in criteria.grades:
        assert grade.text == cells[grade.grade], grade.grade
    # Highest grade first, as the first-match rule needs.
    assert [grade.grade for grade in criteria.grades] == sorted(existing, reverse=True)
