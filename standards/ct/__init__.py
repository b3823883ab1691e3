"""CDISC SDTM Controlled Terminology: the pinned release, the subset this product uses.

`standards/ct/sdtm-ct-<version>.tsv` is NCI EVS's "SDTM Terminology.txt" cut down to the codelists
and terms in use (standards/tools/extract_ct.py; provenance in standards/ct/SOURCE.md). Loaded once
per process; read-only.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

CT_VERSION = "2025-03-28"
CT_PACKAGE = f"SDTM CT {CT_VERSION}"
CT_FILE = Path(__file__).resolve().parent / f"sdtm-ct-{CT_VERSION}.tsv"


@dataclass(frozen=True)
class Term:
    code: str  # NCI C-code
    value: str  # CDISC submission value
    decode: str  # NCI preferred term


@dataclass(frozen=True)
class Codelist:
    code: str
    name: str  # the short name, e.g. "NY"
    label: str  # e.g. "No Yes Response"
    extensible: bool
    terms: dict[str, Term] = field(default_factory=dict)

    def code_of(self, value: str) -> str | None:
        term = self.terms.get(value)
        return term.code if term else None


@cache
def terminology() -> dict[str, Codelist]:
    """Codelists by short name (NY, SEX, ...)."""
    with CT_FILE.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    by_code: dict[str, Codelist] = {}
    for row in rows:
        if not row["Codelist Code"]:
            by_code[row["Code"]] = Codelist(
                code=row["Code"],
                name=row["CDISC Submission Value"],
                label=row["Codelist Name"],
                extensible=row["Codelist Extensible (Yes/No)"] == "Yes",
            )
    for row in rows:
        if row["Codelist Code"]:
            by_code[row["Codelist Code"]].terms[row["CDISC Submission Value"]] = Term(
                code=row["Code"],
                value=row["CDISC Submission Value"],
                decode=row["NCI Preferred Term"],
            )
    return {c.name: c for c in by_code.values()}


def codelist(name: str) -> Codelist:
    try:
        return terminology()[name]
    except KeyError:
        raise KeyError(
            f"Codelist {name} is not in the committed CT subset ({CT_FILE.name}); add it in "
            "standards/tools/extract_ct.py and extract again (docs/standards.md §9)."
        ) from None
