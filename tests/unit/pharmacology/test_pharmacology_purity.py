"""The pharmacology rules core stays plain Python: no Django, nothing from the project's apps."""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

import pytest

import pharmacology.rules as rules

RULES_DIR = Path(rules.__file__).parent
MODULES = sorted(RULES_DIR.glob("*.py"))
# The standard library modules used, and scipy for the t quantile (docs/pharmacology.md §3.2).
ALLOWED = {
    "__future__", "collections", "dataclasses", "datetime", "enum", "math", "statistics",
    "typing", "scipy", "csv", "io",
}  # fmt: skip


def _imported_names(path: Path) -> list[tuple[str, int]]:
    names = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.extend((alias.name, 0) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            names.append((node.module or "", node.level))
    return names


def test_rules_package_has_modules() -> None:
    assert {p.name for p in MODULES} >= {
        "__init__.py", "nca.py", "summary.py", "ada.py", "biomarkers.py", "sampling.py",
    }  # fmt: skip


@pytest.mark.parametrize("path", MODULES, ids=[p.name for p in MODULES])
def test_no_module_imports_django(path: Path) -> None:
    offenders = [
        n for n, level in _imported_names(path) if level == 0 and n.split(".")[0] == "django"
    ]
    assert not offenders, f"{path.name} imports {offenders}"


@pytest.mark.parametrize("path", MODULES, ids=[p.name for p in MODULES])
def test_no_module_reaches_outside_the_package(path: Path) -> None:
    for name, level in _imported_names(path):
        if level:
            assert level == 1, f"{path.name}: relative import above the package ({name})"
        else:
            assert name.split(".")[0] in ALLOWED, f"{path.name} imports {name}"


def test_versions_are_stable_strings() -> None:
    for version in (
        rules.NCA_VERSION, rules.SUMMARY_VERSION, rules.ADA_VERSION, rules.BIOMARKER_VERSION,
        rules.SAMPLING_VERSION,
    ):  # fmt: skip
        assert isinstance(version, str) and version.strip()


def test_inputs_are_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        rules.NcaSettings().auc_method = rules.AucMethod.LINEAR  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        rules.Concentration(1.0, 2.0).value = 3.0  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        rules.AdaSettings().boost_fold = 2  # type: ignore[misc]


def test_settings_accept_stored_strings() -> None:
    settings = rules.NcaSettings(auc_method="linear", blq_trailing="drop")
    assert settings.auc_method is rules.AucMethod.LINEAR
    assert settings.blq_trailing is rules.BlqRule.DROP
    assert rules.AdaSettings(boost_comparison="log10").boost_comparison is (
        rules.BoostComparison.LOG10
    )


def test_nca_defaults_are_pknca() -> None:
    settings = rules.NcaSettings()
    assert settings.auc_method is rules.AucMethod.LIN_UP_LOG_DOWN
    assert (settings.blq_leading, settings.blq_middle, settings.blq_trailing) == (
        rules.BlqRule.KEEP, rules.BlqRule.DROP, rules.BlqRule.KEEP,
    )  # fmt: skip
    assert (settings.min_hl_points, settings.adj_r_squared_factor) == (3, 1e-4)
    assert not settings.allow_tmax_in_half_life and settings.first_tmax
    assert (settings.min_span_ratio, settings.max_extrapolated_percent) == (2.0, 20.0)
    assert settings.predose_shift_fraction == 0.05


def test_package_docstring_example_runs() -> None:
    doc = rules.__doc__
    assert doc is not None
    block = doc.split("80 kg subject)::")[1]
    code = "\n".join(line[4:] for line in block.strip("\n").splitlines())
    namespace: dict[str, object] = {}
    exec(code, namespace)  # our own docstring, nothing from outside
    result = namespace["result"]
    assert isinstance(result, rules.NcaResult)
    assert result.cmax.value == 2.1
    assert result.auctau.value is not None and result.half_life.value is not None
    assert result.clearance.value is not None
