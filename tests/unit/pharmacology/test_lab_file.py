"""The laboratory's CSV layouts checked row by row (docs/pharmacology.md §8)."""

from __future__ import annotations

from datetime import date

import pytest

from pharmacology.rules.lab_file import read_lab_file, same_timepoint

# Columns may come in any order: the time point comes last here.
PK_HEADER = "sample_id,subject,analyte,result,unit,lloq,uloq,run_id,timepoint\n"
UNITS = {"IL6": ("pg/mL",), "SCD80": ("pg/mL", "ng/mL")}


def pk(*rows: str) -> str:
    """A PK file of the rows, each taken at the 2 h time point."""
    lines = [line for row in rows for line in row.split("\n")]
    return PK_HEADER + "".join(line + ",2 h\n" for line in lines)


def test_a_good_pk_file_keeps_blq_with_its_lloq() -> None:
    parsed = read_lab_file(
        "pk",
        pk(
            "S1,101-001,MIL97,BLQ,ug/mL,0.05,50,R1",
            "S2,101-001,MIL97,2.31,ug/mL,0.05,50,R1",
            "S3,101-001,MIL97,<0.05,ug/mL,0.05,,R1",
        ),
    )
    assert parsed.ok
    first, second, third = parsed.rows
    assert (first.blq, first.value, first.reported, first.lloq) == (True, None, "BLQ", 0.05)
    assert (second.blq, second.value, second.line) == (False, 2.31, 3)
    assert third.blq and third.uloq is None


@pytest.mark.parametrize(
    ("row", "column", "words"),
    [
        ("S1,101-001,MIL97,2.1,mg,0.05,50,R1", "unit", "'mg' is not one of"),
        ("S1,101-001,MIL97,2.1,ug/mL,0.05,50,R1\nS1,101-001,MIL97,2.2,ug/mL,0.05,50,R1",
         "sample_id", "already on line 3: a duplicate"),
        ("S1,101-001,MIL97,0.01,ug/mL,0.05,50,R1", "result", "below the LLOQ 0.05"),
        ("S1,101-001,MIL97,70,ug/mL,0.05,50,R1", "result", "above the ULOQ 50"),
        ("S1,101-001,MIL97,high,ug/mL,0.05,50,R1", "result", "neither a number nor BLQ"),
        ("S1,101-001,MIL97,-1,ug/mL,0.05,50,R1", "result", "at least 0"),
        ("S1,101-001,ABC,1,ug/mL,0.05,50,R1", "analyte", "not the study's PK analyte"),
        ("S1,101-001,MIL97,1,ug/mL,,50,R1", "lloq", "a number is needed"),
        ("S1,101-001,MIL97,1,ug/mL,0.05,0.01,R1", "uloq", "above the LLOQ"),
        (",101-001,MIL97,1,ug/mL,0.05,50,R1", "sample_id", "sample ID is needed"),
        ("S1,,MIL97,1,ug/mL,0.05,50,R1", "subject", "subject is needed"),
        ("S1,101-001,MIL97,1,ug/mL,0.05,50,R1,extra", "", "more fields than the header"),
    ],
)  # fmt: skip
def test_bad_pk_rows_are_reported_with_line_column_and_rule(
    row: str, column: str, words: str
) -> None:
    parsed = read_lab_file("pk", pk("S0,101-001,MIL97,1,ug/mL,0.05,50,R1", row))
    assert not parsed.ok
    [error] = parsed.errors
    assert error.column == column and words in error.message
    assert error.line >= 3


def test_header_is_checked_first() -> None:
    parsed = read_lab_file("pk", "sample_id,subject,result\nS1,101-001,1\n")
    assert [(e.line, e.column) for e in parsed.errors] == [(1, "timepoint")]
    assert "lacks the column(s) timepoint, analyte, unit, lloq" in parsed.errors[0].message
    assert read_lab_file("pk", PK_HEADER).errors[0].message == "the file has no rows"
    unknown = read_lab_file("pk", PK_HEADER.strip() + ",colour\n")
    assert "unknown column(s) colour" in unknown.errors[0].message


@pytest.mark.parametrize(
    ("row", "column", "words"),
    [
        ("A1,101-001,negative,,,,", None, None),
        ("A1,101-001,positive,positive,400,negative,", None, None),
        ("A1,101-001,positive,,,,", "confirmatory", "needs its confirmatory result"),
        ("A1,101-001,negative,,400,,", "titer", "only confirmed positive samples are titered"),
        ("A1,101-001,positive,negative,,positive,", "neutralising", "only confirmed positive"),
        ("A1,101-001,maybe,,,,", "screening", "not positive or negative"),
    ],
)
def test_ada_tiers(row: str, column: str | None, words: str | None) -> None:
    parsed = read_lab_file(
        "ada",
        "sample_id,subject,screening,confirmatory,titer,neutralising,run_id,timepoint\n"
        + row
        + ",pre-dose\n",
    )
    if column is None:
        assert parsed.ok and parsed.rows[0].analyte == "ADA"
    else:
        [error] = parsed.errors
        assert (error.column, words in error.message) == (column, True), error


def test_biomarkers_keep_the_text_and_check_units() -> None:
    header = "sample_id,subject,timepoint,analyte,result,unit,lloq,uloq,diluted\n"
    good = read_lab_file(
        "biomarker",
        header + "B1,101-001,6 h,IL6,<LLOQ,pg/mL,1.5,500,\nB1,101-001,6 h,SCD80,2.5,ng/mL,0.1,10,\n"
        "B2,101-001,6 h,IL6,>ULOQ,pg/mL,1.5,500,\nB3,101-001,6 h,IL6,900,pg/mL,1.5,500,yes\n",
        biomarker_units=UNITS,
    )
    assert good.ok, good.errors
    assert [(r.quantification, r.value) for r in good.rows] == [
        ("below LLOQ", None), ("quantified", 2.5), ("above ULOQ", None), ("quantified", 900.0),
    ]  # fmt: skip
    bad = read_lab_file(
        "biomarker",
        header + "B1,101-001,6 h,IL6,2,ng/mL,1.5,500,\nB2,101-001,6 h,IL99,2,pg/mL,1.5,500,\n"
        "B3,101-001,6 h,IL6,1,pg/mL,1.5,500,\n",
        biomarker_units=UNITS,
    )
    assert [(e.line, e.column) for e in bad.errors] == [(2, "unit"), (3, "analyte"), (4, "result")]
    assert "report it as '<LLOQ'" in bad.errors[2].message


def test_each_row_names_its_time_point_and_may_name_its_day() -> None:
    header = "sample_id,subject,timepoint,collection_date,analyte,result,unit,lloq\n"
    good = read_lab_file("pk", header + "S1,101-001,Pre-dose,2025-03-04,MIL97,BLQ,ug/mL,0.05\n")
    assert good.ok, good.errors
    [row] = good.rows
    assert (row.timepoint, row.collection_date) == ("Pre-dose", date(2025, 3, 4))
    bad = read_lab_file(
        "pk",
        header + "S1,101-001,,,MIL97,BLQ,ug/mL,0.05\n"
        "S2,101-001,2 h,04/03/2025,MIL97,1.2,ug/mL,0.05\n"
        "S3,101-001,2 h,2025-02-30,MIL97,1.2,ug/mL,0.05\n"
        "S4,101-001,2 h,2025-W10-2,MIL97,1.2,ug/mL,0.05\n",
    )
    assert [(e.line, e.column) for e in bad.errors] == [
        (2, "timepoint"), (3, "collection_date"), (4, "collection_date"), (5, "collection_date"),
    ]  # fmt: skip
    assert "nominal time point is needed" in bad.errors[0].message
    assert "'04/03/2025' is not a date (YYYY-MM-DD)" in bad.errors[1].message
    assert bad.rows == ()


@pytest.mark.parametrize(
    ("reported", "nominal", "same"),
    [
        ("pre-dose", "pre-dose", True),
        ("Pre-Dose", "pre-dose", True),
        (" 2  H ", "2 h", True),
        ("EOI", "EOI", True),
        ("2 h", "24 h", False),
        ("predose", "pre-dose", False),
        ("6h", "6 h", False),
    ],
)
def test_a_time_point_is_the_schedules_label_in_any_case_and_spacing(
    reported: str, nominal: str, same: bool
) -> None:
    assert same_timepoint(reported, nominal) is same
