"""The visits rules core stays plain Python, and refuses inconsistent input (docs/visits.md §1)."""

from __future__ import annotations

import ast
import dataclasses
from datetime import date
from pathlib import Path

import pytest

import visits.rules as rules
from visits.rules import (
    RULES_VERSION,
    LabGradingSettings,
    LabResult,
    NeutropeniaDurationSettings,
    NormalRange,
    VisitsInputError,
)

RULES_DIR = Path(rules.__file__).parent
MODULES = sorted(RULES_DIR.glob("*.py"))


def _imported_names(path: Path) -> list[tuple[str, int]]:
    """(module name, relative level) of every import statement in a module."""
    names = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.extend((alias.name, 0) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            names.append((node.module or "", node.level))
    return names


def test_rules_package_has_modules() -> None:
    assert {p.name for p in MODULES} >= {
        "__init__.py",
        "units.py",
        "lab_grading.py",
        "ctcae_v5.py",
        "vitals.py",
        "ecg.py",
        "ecog.py",
        "schedule.py",
    }


@pytest.mark.parametrize("path", MODULES, ids=[p.name for p in MODULES])
def test_no_module_imports_django(path: Path) -> None:
    offenders = [
        name
        for name, level in _imported_names(path)
        if level == 0 and name.split(".")[0] == "django"
    ]
    assert not offenders, f"{path.name} imports {offenders}"


@pytest.mark.parametrize("path", MODULES, ids=[p.name for p in MODULES])
def test_no_module_reaches_outside_the_package(path: Path) -> None:
    # Only the standard library and sibling modules: no app models, no settings.
    allowed = {"__future__", "collections", "dataclasses", "datetime", "decimal", "enum", "typing"}
    for name, level in _imported_names(path):
        if level:
            assert level == 1, f"{path.name}: relative import above the package ({name})"
        else:
            assert name.split(".")[0] in allowed, f"{path.name} imports {name}"


def test_rules_version_is_a_stable_string() -> None:
    assert isinstance(RULES_VERSION, str) and "CTCAE v5.0" in RULES_VERSION


def test_inputs_are_frozen() -> None:
    result = LabResult("NEUT", "1.0", "10^9/L")
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.value = 2  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        NeutropeniaDurationSettings().max_days = 5  # type: ignore[misc]


@pytest.mark.parametrize(
    ("build", "message"),
    [
        pytest.param(lambda: LabResult("NEUT", "45", "%"),
                     r"Neutrophils \(absolute count\) \(NEUT\): unit '%' is not accepted; "
                     r"accepted units: 10\^9/L, 10\^3/uL, /mm3", id="percent-for-a-count"),
        pytest.param(lambda: LabResult("CREAT", "1.1", "mg/L"),
                     "accepted units: umol/L, mg/dL, mmol/L", id="unknown-creatinine-unit"),
        pytest.param(lambda: LabResult("XYZ", "1", "U/L"), "'XYZ' is not a known test code",
                     id="unknown-test"),
        pytest.param(lambda: LabResult("ALT", "abc", "U/L"), "'abc' is not a number",
                     id="not-a-number"),
        pytest.param(lambda: LabResult("ALT", "NaN", "U/L"), "not a finite number", id="nan"),
        pytest.param(lambda: LabResult("ALT", True, "U/L"), "a number is required",
                     id="boolean-value"),
        pytest.param(lambda: LabResult("ALT", "-3", "U/L"), "cannot be negative", id="negative"),
        pytest.param(lambda: NormalRange("5", "3", "mmol/L"), "low limit 5 is above the high",
                     id="range-upside-down"),
        pytest.param(lambda: LabResult("K", "4", "mmol/L", NormalRange("3.5", "5", "U/L")),
                     r"Potassium \(K\): unit 'U/L' is not accepted", id="range-in-a-foreign-unit"),
        pytest.param(lambda: LabGradingSettings(ctcae_version="4.03"),
                     "no lab criteria for CTCAE version '4.03'; available: 5.0", id="version"),
        pytest.param(lambda: NeutropeniaDurationSettings(gap_policy="interpolate"),
                     "gap_policy: 'interpolate' is not one of", id="gap-policy"),
        pytest.param(lambda: NeutropeniaDurationSettings(max_days=0), "max_days", id="max-days"),
    ],
)  # fmt: skip
def test_bad_input_is_refused_naming_the_field(build, message: str) -> None:
    with pytest.raises(VisitsInputError, match=message):
        build()


def test_package_docstring_example_runs() -> None:
    # The input format is documented by example; the example must stay true.
    block = rules.__doc__.split("like this)::")[1]
    code = "\n".join(line[4:] for line in block.splitlines())
    namespace: dict = {}
    exec(code, namespace)  # our own docstring, nothing from outside
    assert namespace["worst"].grade == 2
    assert namespace["worst"].term == "Alanine aminotransferase increased"
    assert namespace["flag"].possible_dlt
    assert namespace["flag"].episodes[0].days == 9
    c1d8 = namespace["c1d8"]
    assert (c1d8.target, c1d8.earliest, c1d8.latest) == (
        date(2026, 1, 12),
        date(2026, 1, 11),
        date(2026, 1, 13),
    )
    assert c1d8.status == "due"


def test_results_carry_the_rules_version() -> None:
    from visits.rules import grade_qtc, q3w_schedule, subject_calendar
    from visits.rules.lab_grading import grade4_neutropenia_duration, grade_lab_result
    from visits.rules.schedule import SubjectVisitFacts

    assert grade_lab_result(LabResult("K", "4", "mmol/L")).rules_version == RULES_VERSION
    assert grade_qtc(440).rules_version == RULES_VERSION
    flag = grade4_neutropenia_duration(
        [], window_start=date(2026, 1, 1), window_end=date(2026, 1, 21)
    )
    assert flag.rules_version == RULES_VERSION
    calendar = subject_calendar(
        q3w_schedule(), SubjectVisitFacts(date(2026, 1, 1)), date(2026, 1, 2)
    )
    assert calendar.rules_version == RULES_VERSION


def test_missing_range_is_flagged_only_where_a_criterion_needs_one() -> None:
    from visits.rules import LabFlag, grade_lab_result

    inr = grade_lab_result(LabResult("INR", "1.3", "")).term("INR increased")
    assert (inr.grade, inr.flags) == (1, ())
    potassium = grade_lab_result(LabResult("K", "6.5", "mmol/L")).term("Hyperkalemia")
    assert potassium.grade is None and LabFlag.NO_NORMAL_RANGE in potassium.flags
