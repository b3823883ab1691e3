"""The SDTMIG v3.4 variable and dataset tables (provenance in standards/spec/SOURCE.md)."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path

IG_NAME = "SDTMIG"
IG_VERSION = "3.4"
SDTM_VERSION = "2.0"
HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class SpecVariable:
    dataset: str
    order: int
    name: str
    label: str
    type: str  # Char / Num
    codelists: str  # CDISC CT codelist C-codes, ";"-separated
    role: str
    core: str  # Req / Exp / Perm


@dataclass(frozen=True)
class SpecDataset:
    name: str
    label: str
    observation_class: str
    structure: str
    variables: tuple[SpecVariable, ...]

    def variable(self, name: str) -> SpecVariable | None:
        return next((v for v in self.variables if v.name == name), None)


@cache
def ig_datasets() -> dict[str, SpecDataset]:
    with (HERE / "sdtmig-3.4-variables.csv").open(encoding="utf-8", newline="") as handle:
        variables = [
            SpecVariable(
                dataset=r["Dataset Name"],
                order=int(r["Variable Order"]),
                name=r["Variable Name"],
                label=r["Variable Label"],
                type=r["Type"],
                codelists=r["CDISC CT Codelist Code(s)"],
                role=r["Role"],
                core=r["Core"],
            )
            for r in csv.DictReader(handle)
        ]
    with (HERE / "sdtmig-3.4-datasets.csv").open(encoding="utf-8", newline="") as handle:
        datasets = list(csv.DictReader(handle))
    result = {}
    for row in datasets:
        name = row["Dataset Name"]
        result[name] = SpecDataset(
            name=name,
            label=row["Dataset Label"],
            observation_class=row["Class"],
            structure=row["Structure"],
            variables=tuple(
                sorted((v for v in variables if v.dataset == name), key=lambda v: v.order)
            ),
        )
    return result


def ig_dataset(name: str) -> SpecDataset | None:
    """A dataset's spec; SUPP-- datasets all follow SUPPQUAL."""
    if name.startswith("SUPP") and name != "SUPPQUAL":
        name = "SUPPQUAL"
    return ig_datasets().get(name)
