"""The rules core stays plain Python, and refuses inconsistent facts (README, Layout)."""

from __future__ import annotations

import ast
import dataclasses
from datetime import date
from pathlib import Path

import pytest

import escalation.rules as rules
from escalation.rules import (
    RULES_VERSION,
    AdverseEvent,
    DesignSettings,
    Dose,
    DoseLevel,
    EscalationInputError,
    ExceededVariant,
    Phase,
    Subject,
    TitrationTrigger,
    Track,
    WindowConvention,
    evaluate_subject,
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
    assert {p.name for p in MODULES} >= {"__init__.py", "window.py", "three_plus_three.py"}


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
    allowed = {"__future__", "collections", "dataclasses", "datetime", "enum", "typing"}
    for name, level in _imported_names(path):
        if level:
            assert level == 1, f"{path.name}: relative import above the package ({name})"
        else:
            assert name.split(".")[0] in allowed, f"{path.name} imports {name}"


def test_rules_version_is_a_stable_string() -> None:
    assert isinstance(RULES_VERSION, str) and RULES_VERSION.strip()


def test_settings_defaults_are_mil97() -> None:
    settings = DesignSettings()
    assert settings.titration_levels == 2
    assert settings.titration_trigger is TitrationTrigger.DLT_OR_RELATED_GRADE2
    assert settings.exceeded_variant is ExceededVariant.EXPAND_LOWER
    assert settings.window_convention is WindowConvention.INCLUSIVE
    assert (settings.cohort_size, settings.expanded_cohort_size) == (3, 6)
    assert settings.expansion_cohort_size == 10
    assert settings.minimum_exposure_fraction == 1.0


def test_settings_accept_stored_strings() -> None:
    settings = DesignSettings(titration_trigger="dlt_only", exceeded_variant="simple")
    assert settings.titration_trigger is TitrationTrigger.DLT_ONLY
    assert settings.exceeded_variant is ExceededVariant.SIMPLE


def test_inputs_are_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        DesignSettings().cohort_size = 4  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        Subject("101-001", 1).replaced = True  # type: ignore[misc]


LEVELS = (DoseLevel(1, "0.01 mg/kg"), DoseLevel(2, "0.03 mg/kg"))


def _track(**overrides) -> Track:
    fields = {
        "name": "Q3W",
        "regimen": "Q3W",
        "dlt_window_days": 21,
        "planned_infusion_days": (1,),
        "dose_levels": LEVELS,
    }
    return Track(**{**fields, **overrides})


@pytest.mark.parametrize(
    ("build", "message"),
    [
        pytest.param(lambda: DesignSettings(titration_trigger="first_grade1"),
                     "titration_trigger: 'first_grade1' is not one of", id="unknown-trigger"),
        pytest.param(lambda: DesignSettings(window_convention="day0"), "window_convention",
                     id="unknown-window-convention"),
        pytest.param(lambda: _track(phase="pilot"), "phase", id="unknown-phase"),
        pytest.param(lambda: DesignSettings(minimum_exposure_fraction=0), "minimum_exposure",
                     id="zero-exposure"),
        pytest.param(lambda: DesignSettings(cohort_size=6, expanded_cohort_size=6), "cohort_size",
                     id="cohort-not-smaller-than-expanded"),
        pytest.param(lambda: DesignSettings(expansion_boundaries=((5, 6, 4), (3, 4, 3))),
                     "out of order", id="boundary-rows-out-of-order"),
        pytest.param(lambda: _track(subjects=(Subject("101-001", 9),)), "dose level 9",
                     id="subject-at-unknown-level"),
        pytest.param(lambda: _track(subjects=(Subject("101-001", 1), Subject("101-001", 2))),
                     "subject number is repeated", id="duplicate-subject-number"),
        pytest.param(lambda: _track(dose_levels=(LEVELS[0], LEVELS[0])), "level number",
                     id="duplicate-level"),
        pytest.param(lambda: _track(phase=Phase.EXPANSION), "exactly one dose level",
                     id="expansion-with-two-levels"),
        pytest.param(lambda: _track(planned_infusion_days=(1, 22)), "inside the DLT window",
                     id="infusion-day-outside-window"),
        pytest.param(lambda: AdverseEvent(date(2026, 1, 1), 6, True), "grade", id="grade-6"),
        pytest.param(lambda: Dose(date(2026, 1, 1), fraction=-0.1), "negative",
                     id="negative-dose"),
    ],
)  # fmt: skip
def test_inconsistent_facts_are_refused(build, message: str) -> None:
    with pytest.raises(EscalationInputError, match=message):
        build()


def test_minimum_infusions_above_planned_is_refused() -> None:
    subject = Subject("101-001", 1, doses=(Dose(date(2026, 1, 5)),))
    track = _track(subjects=(subject,))
    with pytest.raises(EscalationInputError, match="only 1 are planned"):
        evaluate_subject(DesignSettings(minimum_infusions=2), track, subject, date(2026, 3, 1))


def test_package_docstring_example_runs() -> None:
    # The input format is documented by example; the example must stay true.
    doc = rules.__doc__
    block = doc.split("like this)::")[1].split("\n- `DesignSettings`")[0]
    code = "\n".join(line[4:] for line in block.splitlines())
    namespace: dict = {}
    exec(code, namespace)  # our own docstring, nothing from outside
    recommendation = namespace["recommendation"]
    assert recommendation.action == "enroll"
    assert recommendation.text.startswith("enroll 2 more at 0.03 mg/kg Q3W")


def test_the_rules_core_type_checks_under_mypy_strict() -> None:
    # Frozen dataclasses in, results out, fully typed: the standard for the pure modules.
    api = pytest.importorskip("mypy.api")
    stdout, stderr, status = api.run(
        ["--strict", "--no-incremental", "--cache-dir", "/dev/null", str(RULES_DIR)]
    )
    assert status == 0, stdout + stderr
