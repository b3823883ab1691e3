"""Readers for the reference outputs under reference/ (made by the R scripts beside them)."""

from __future__ import annotations

import csv
from pathlib import Path

REFERENCE = Path(__file__).parent / "reference"


def read_reference_csv(name: str) -> list[dict[str, str]]:
    """Rows of a reference CSV; its leading '#' lines name the package and version."""
    with (REFERENCE / name).open() as handle:
        lines = [line for line in handle if not line.startswith("#")]
    return list(csv.DictReader(lines))


def reference_header(name: str) -> list[str]:
    with (REFERENCE / name).open() as handle:
        return [line.strip() for line in handle if line.startswith("#")]


def ints(text: str) -> tuple[int, ...]:
    return tuple(int(v) for v in text.split())


def floats(text: str) -> tuple[float, ...]:
    return tuple(float(v) for v in text.split())
