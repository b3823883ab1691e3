"""Extract the SDTMIG variable and dataset tables into standards/spec/ (run by hand).

    python -m standards.tools.extract_spec Variables.csv Datasets.csv

Input: the CDISC Library export of SDTMIG v3.4 (the "Variables" and "Datasets" tables). Kept:
each variable's order, class, dataset, name, label, type, codelist codes, role and core status;
the CDISC notes (prose) are left out. See standards/spec/SOURCE.md for where the copy came from.
"""

import csv
import sys
from pathlib import Path

SPEC = Path(__file__).resolve().parent.parent / "spec"
VARIABLE_COLUMNS = [
    "Version",
    "Variable Order",
    "Class",
    "Dataset Name",
    "Variable Name",
    "Variable Label",
    "Type",
    "CDISC CT Codelist Code(s)",
    "Role",
    "Core",
]
DATASET_COLUMNS = ["Version", "Class", "Dataset Name", "Dataset Label", "Structure"]


def _copy(source: Path, target: Path, columns: list[str]) -> int:
    with source.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    with target.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({c: row[c] for c in columns})
    return len(rows)


def main(variables: str, datasets: str) -> None:
    n = _copy(Path(variables), SPEC / "sdtmig-3.4-variables.csv", VARIABLE_COLUMNS)
    m = _copy(Path(datasets), SPEC / "sdtmig-3.4-datasets.csv", DATASET_COLUMNS)
    print(f"{n} variables, {m} datasets")


if __name__ == "__main__":
    main(*sys.argv[1:3])
