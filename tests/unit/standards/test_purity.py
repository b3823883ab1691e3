"""The SDTM rules (timing, mapping declarations, dataset building, formats, checks, CT and the
SDTMIG tables) are plain Python: no Django import, so they are tested from tables and run
anywhere (the data reaching them comes from standards/context.py)."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3] / "standards"
PURE = [
    "timing.py",
    "mapping.py",
    "registry.py",
    "build.py",
    "formats.py",
    "checks.py",
    "ct/__init__.py",
    "spec/__init__.py",
]


@pytest.mark.parametrize("name", PURE)
def test_pure_modules_import_no_django(name):
    tree = ast.parse((ROOT / name).read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            imported.add(node.module.split(".")[0])
    assert not imported & {
        "django",
        "rest_framework",
        "accounts",
        "subjects",
        "trial",
        "dosing",
        "safety",
        "escalation",
        "core",
        "celery",
    }
