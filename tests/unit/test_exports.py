from decimal import Decimal

import pytest

from core.exports import csv_text, neutralise


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+1+1", "'+1+1"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "'\rcmd"),
        ("nausea", "nausea"),
        ("a\x00b", "ab"),
        (None, ""),
        (True, "yes"),
        (3, 3),
        (-1.5, -1.5),
    ],
)
def test_neutralise(value, expected):
    assert neutralise(value) == expected


def test_decimal_negative_is_text_and_neutralised():
    # Decimals are written as text by csv; a negative one must not become a formula.
    assert neutralise(Decimal("-0.5")) == "'-0.5"


def test_csv_text():
    assert csv_text(["term", "grade"], [["=cmd", 3]]) == "term,grade\r\n'=cmd,3\r\n"
