"""The efficacy rules core stays plain Python (docs/efficacy.md)."""

from __future__ import annotations

import ast
import dataclasses
from datetime import date
from pathlib import Path
from typing import Any

import pytest

import efficacy.rules as rules
from efficacy.rules import (
    RULES_VERSION,
    EndpointRule,
    EndpointSettings,
    Observation,
    RecistSettings,
    Response,
    SubjectFollowUp,
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
        "__init__.py", "recist.py", "rates.py", "endpoints.py", "survival.py",
    }  # fmt: skip


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
    # The standard library, sibling modules and scipy (the exact binomial interval) only: no app
    # models, no settings.
    allowed = {
        "__future__", "collections", "dataclasses", "datetime", "decimal", "enum", "fractions",
        "math", "statistics", "typing", "scipy",
    }  # fmt: skip
    for name, level in _imported_names(path):
        if level:
            assert level == 1, f"{path.name}: relative import above the package ({name})"
        else:
            assert name.split(".")[0] in allowed, f"{path.name} imports {name}"


def test_rules_version_is_a_stable_string() -> None:
    assert isinstance(RULES_VERSION, str) and RULES_VERSION.startswith("efficacy-rules ")


def test_settings_defaults() -> None:
    settings = RecistSettings()
    assert settings.too_small_mm == 5
    assert (settings.confirmation_required, settings.confirmation_days) == (True, 28)
    assert settings.sd_minimum_days == 42
    assert (settings.max_ne_between, settings.accept_sd_between) == (1, False)  # admiralonco
    assert settings.baseline_window_days == 28 and settings.continue_confirmed_pr
    schedule = EndpointSettings()
    assert (schedule.assessment_interval_days, schedule.assessment_window_days) == (42, 7)
    assert schedule.missed_assessments == 2


def test_inputs_and_results_are_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        RecistSettings().confirmation_days = 21  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        Observation(1, True).event = False  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        SubjectFollowUp("101-001", date(2026, 1, 5)).death_on = None  # type: ignore[misc]


def test_stored_strings_become_enums() -> None:
    assert Response("NON-CR/NON-PD") is Response.NON_CR_NON_PD
    assert EndpointRule.DEATH.cnsr == 0


def test_package_docstring_example_runs() -> None:
    # The input format is documented by example; the example must stay true.
    doc = rules.__doc__
    assert doc is not None
    block = doc.split("like this)::")[1].split("\n- `RecistSettings`")[0]
    code = "\n".join(line[4:] for line in block.splitlines())
    namespace: dict[str, Any] = {}
    exec(code, namespace)  # our own docstring, nothing from outside
    result = namespace["result"]
    assert [str(p.response) for p in result.time_points] == ["PR", "PR"]
    assert result.best.response is Response.PR
    assert result.best.confirmed_on == date(2026, 3, 30)
    pfs = namespace["pfs"]
    assert (pfs.rule, pfs.days) == (EndpointRule.LAST_ASSESSMENT, 85)
