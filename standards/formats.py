"""Dataset files: SAS XPORT version 5 (.xpt) and CDISC Dataset-JSON v1.1 (.json).

XPT v5 (FDA Study Data Technical Conformance Guide, SAS transport files; the format SAS
documents as TS-140): one dataset per file, names of up to 8 characters, labels of up to 40, character
values of up to 200 bytes, ASCII only. Written with pyreadstat's `write_xport(...,
file_format_version=5)`; anything outside those limits is refused with a message naming the
dataset, variable and record rather than written altered.

Dataset-JSON v1.1 (CDISC, 2024): the same rows as JSON, each column described with its
define.xml ItemOID, label, data type and length (docs/standards.md §7).
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pyreadstat

from .build import MAX_TEXT_BYTES, Column, Dataset, ExportRefused

NAME = re.compile(r"^[A-Z][A-Z0-9_]{0,7}$")
MAX_LABEL = 40
DATASET_JSON_VERSION = "1.1.0"


def item_oid(dataset: Dataset, name: str) -> str:
    return f"IT.{dataset.name}.{name}"


def group_oid(dataset: Dataset) -> str:
    return f"IG.{dataset.name}"


def v5_problems(dataset: Dataset) -> list[str]:
    """What keeps the dataset out of an XPT v5 file (empty when it fits)."""
    problems = []
    if not NAME.match(dataset.name):
        problems.append(f"dataset name {dataset.name!r} is not 1-8 letters/digits/_")
    if len(dataset.label) > MAX_LABEL:
        problems.append(f"{dataset.name} label is longer than {MAX_LABEL} characters")
    for column in dataset.columns:
        variable = column.variable
        if not NAME.match(variable.name):
            problems.append(f"{dataset.name}.{variable.name}: name is not 1-8 letters/digits/_")
        if len(variable.label) > MAX_LABEL:
            problems.append(f"{dataset.name}.{variable.name}: label over {MAX_LABEL} characters")
        if variable.type != "Char":
            continue
        for index, row in enumerate(dataset.rows, start=1):
            value = row.get(variable.name)
            if value is None:
                continue
            if not value.isascii():
                bad = next(ch for ch in value if not ch.isascii())
                problems.append(
                    f"{dataset.name}.{variable.name} record {index}: {bad!r} is not ASCII "
                    f"({value[:40]!r}); XPT v5 holds ASCII text only"
                )
            elif len(value) > MAX_TEXT_BYTES:
                problems.append(
                    f"{dataset.name}.{variable.name} record {index}: {len(value)} characters, "
                    f"over {MAX_TEXT_BYTES}"
                )
    return problems


def dataframe(dataset: Dataset) -> pd.DataFrame:
    data = {}
    for column in dataset.columns:
        values = [row.get(column.name) for row in dataset.rows]
        if column.variable.type == "Num":
            data[column.name] = pd.Series(
                [float(v) if v is not None else float("nan") for v in values], dtype="float64"
            )
        else:
            data[column.name] = pd.Series(["" if v is None else v for v in values], dtype=object)
    return pd.DataFrame(data, columns=[c.name for c in dataset.columns])


def write_xpt(dataset: Dataset, path: Path) -> None:
    problems = v5_problems(dataset)
    if problems:
        raise ExportRefused(
            f"{dataset.name} cannot be written as SAS XPORT v5: " + "; ".join(problems[:5])
        )
    frame = dataframe(dataset)
    pyreadstat.write_xport(
        frame,
        str(path),
        file_label=dataset.label,
        column_labels=[c.variable.label for c in dataset.columns],
        table_name=dataset.name,
        file_format_version=5,
    )


def _json_type(dataset: Dataset, column: Column) -> str:
    if column.variable.type == "Char":
        return "string"
    data_type = column.variable.define_data_type(r.get(column.name) for r in dataset.rows)
    return "integer" if data_type == "integer" else "double"


def dataset_json(
    dataset: Dataset,
    *,
    study_oid: str,
    metadata_version_oid: str,
    created: datetime,
    data_cut: datetime,
    originator: str,
    source_system: tuple[str, str],
) -> dict[str, Any]:
    """The dataset as a CDISC Dataset-JSON v1.1 document."""
    keys = {name: i for i, name in enumerate(dataset.keys, start=1)}
    columns: list[dict[str, Any]] = []
    for column in dataset.columns:
        entry: dict[str, Any] = {
            "itemOID": item_oid(dataset, column.name),
            "name": column.name,
            "label": column.variable.label,
            "dataType": _json_type(dataset, column),
        }
        if column.variable.type == "Char":
            entry["length"] = column.length
        if column.name in keys:
            entry["keySequence"] = keys[column.name]
        columns.append(entry)
    types = {c["name"]: c["dataType"] for c in columns}

    def cell(name: str, value: Any) -> Any:
        if value is None:
            return None
        if types[name] == "integer":
            return int(value)
        if types[name] == "double":
            return float(value)
        return value

    return {
        "datasetJSONCreationDateTime": created.isoformat(timespec="seconds"),
        "datasetJSONVersion": DATASET_JSON_VERSION,
        "fileOID": f"{study_oid}.{dataset.name}",
        "dbLastModifiedDateTime": data_cut.isoformat(timespec="seconds"),
        "originator": originator,
        "sourceSystem": {"name": source_system[0], "version": source_system[1]},
        "studyOID": study_oid,
        "metaDataVersionOID": metadata_version_oid,
        "metaDataRef": "define.xml",
        "itemGroupOID": group_oid(dataset),
        "records": len(dataset.rows),
        "name": dataset.name,
        "label": dataset.label,
        "columns": columns,
        "rows": [[cell(c["name"], row.get(c["name"])) for c in columns] for row in dataset.rows],
    }


def write_dataset_json(dataset: Dataset, path: Path, **metadata: Any) -> None:
    document = dataset_json(dataset, **metadata)
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")


def read_xpt(path: Path) -> tuple[pd.DataFrame, Any]:
    """Read an XPT file back (a second reader, for the checks and the tests)."""
    frame, meta = pyreadstat.read_xport(str(path))
    return frame, meta
