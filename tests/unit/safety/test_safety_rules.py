"""Treatment emergence (safety/rules.py; docs/safety.md §3), from a table of scenarios: onset
date and time at the site, the first infusion's start date and time, the grade and the baseline
grade of a pre-existing condition."""

import ast
from datetime import date, time
from pathlib import Path

import pytest

import safety.rules as rules
from safety.rules import treatment_emergence

D1 = date(2026, 3, 2)  # Cycle 1 Day 1
START = time(10, 30)  # the first infusion's start, site local time

# (name, onset date, onset time, first dose date, first dose time, grade, baseline, emergent)
SCENARIOS = [
    ("not dosed yet", D1, None, None, None, 2, None, False),
    ("the day before the first dose", date(2026, 3, 1), time(23, 59), D1, START, 2, None, False),
    ("Day 1, before the infusion started", D1, time(9, 0), D1, START, 1, None, False),
    ("Day 1, the minute the infusion started", D1, START, D1, START, 1, None, True),
    ("Day 1, during the infusion", D1, time(10, 45), D1, START, 3, None, True),
    ("Day 1, onset time not known", D1, None, D1, START, 2, None, True),
    ("Day 1, infusion start time not known", D1, time(6, 0), D1, None, 2, None, True),
    ("Day 2, any time", date(2026, 3, 3), time(0, 1), D1, START, 1, None, True),
    ("pre-existing, worsened after the dose", date(2026, 3, 9), None, D1, START, 3, 1, True),
    ("pre-existing, worsened by one grade", date(2026, 3, 9), None, D1, START, 2, 1, True),
    ("pre-existing, same grade after the dose", date(2026, 3, 9), None, D1, START, 2, 2, False),
    ("pre-existing, worse but before the infusion", D1, time(8, 0), D1, START, 3, 1, False),
    ("pre-existing, before the dose", date(2026, 2, 20), None, D1, START, 2, 1, False),
]


@pytest.mark.parametrize(
    ("onset", "onset_time", "first", "first_time", "grade", "baseline", "emergent"),
    [s[1:] for s in SCENARIOS],
    ids=[s[0] for s in SCENARIOS],
)
def test_treatment_emergence(onset, onset_time, first, first_time, grade, baseline, emergent):
    result = treatment_emergence(
        onset_date=onset,
        onset_time=onset_time,
        first_dose_date=first,
        first_dose_time=first_time,
        grade=grade,
        baseline_grade=baseline,
    )
    assert result.emergent is emergent
    assert result.why


def test_the_reason_names_the_times_and_the_baseline():
    before = treatment_emergence(
        onset_date=D1,
        onset_time=time(9, 0),
        first_dose_date=D1,
        first_dose_time=START,
        grade=1,
        baseline_grade=None,
    )
    assert before.why == "onset 09:00, before the first infusion started (10:30)"
    same = treatment_emergence(
        onset_date=date(2026, 3, 9),
        onset_time=None,
        first_dose_date=D1,
        first_dose_time=START,
        grade=2,
        baseline_grade=2,
    )
    assert same.why == "not worse than the baseline grade 2"


def test_the_rules_are_pure():
    tree = ast.parse(Path(rules.__file__).read_text())
    imported = {
        (node.module or "") if isinstance(node, ast.ImportFrom) else alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    assert not any(name.split(".")[0] == "django" for name in imported), imported
