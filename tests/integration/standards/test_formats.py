"""The dataset files: SAS XPORT v5 read back with two other readers (pyreadstat and pandas)
equals the rows written; Dataset-JSON v1.1 validates against CDISC's schema and holds the same
rows; what XPT v5 cannot hold is refused with the place named (docs/standards.md §7)."""

import json
import math
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pyreadstat
import pytest
from jsonschema import Draft201909Validator

from standards.build import ExportRefused, build_datasets
from standards.context import ExportContext
from standards.formats import write_dataset_json, write_xpt

SCHEMA = (
    Path(__file__).resolve().parents[3] / "standards/schemas/dataset-json-1.1/dataset.schema.json"
)


@pytest.fixture
def datasets(trial_data, study):
    return build_datasets(ExportContext(study))


def _same(value, read):
    if value is None:
        return read == "" or (isinstance(read, float) and math.isnan(read))
    if isinstance(value, int | float):
        return float(read) == float(value)
    return read == value


def test_xpt_v5_files_read_back_equal_the_rows(datasets, tmp_path):
    for dataset in datasets:
        path = tmp_path / f"{dataset.filename}.xpt"
        write_xpt(dataset, path)
        assert path.read_bytes().startswith(b"HEADER RECORD*******LIBRARY HEADER RECORD")
        frame, meta = pyreadstat.read_xport(str(path))
        assert meta.table_name == dataset.name
        assert meta.file_label == dataset.label
        assert list(frame.columns) == [c.name for c in dataset.columns]
        assert meta.column_labels == [c.variable.label for c in dataset.columns]
        for column in dataset.columns:
            if column.variable.type == "Char":
                # Stored at the longest value's length (docs/standards.md §7.1: no padding to 200).
                assert meta.variable_storage_width[column.name] == column.length
        assert len(frame) == len(dataset.rows)
        for index, row in enumerate(dataset.rows):
            for column in dataset.columns:
                assert _same(row[column.name], frame.iloc[index][column.name]), (
                    dataset.name,
                    index,
                    column.name,
                )
        # A second, independent reader: pandas' own SAS XPORT parser.
        other = pd.read_sas(path, format="xport", encoding="ascii")
        assert list(other.columns) == list(frame.columns) and len(other) == len(frame)
        for name in other.columns:
            for a, b in zip(other[name], frame[name], strict=True):
                assert (pd.isna(a) and pd.isna(b)) or a == b or (a in ("", None) and b == "")


def test_dataset_json_validates_and_holds_the_same_rows(datasets, tmp_path):
    validator = Draft201909Validator(json.loads(SCHEMA.read_text()))
    now = datetime.now(UTC)
    for dataset in datasets:
        path = tmp_path / f"{dataset.filename}.json"
        write_dataset_json(
            dataset,
            path,
            study_oid="STDY.X",
            metadata_version_oid="MDV.X",
            created=now,
            data_cut=now,
            originator="Sponsor",
            source_system=("EDC", "1"),
        )
        document = json.loads(path.read_text())
        errors = sorted(validator.iter_errors(document), key=str)
        assert errors == [], (dataset.name, errors[:3])
        assert document["datasetJSONVersion"] == "1.1.0"
        assert document["records"] == len(dataset.rows)
        assert [c["name"] for c in document["columns"]] == [c.name for c in dataset.columns]
        assert document["itemGroupOID"] == f"IG.{dataset.name}"
        names = [c["name"] for c in document["columns"]]
        assert [dict(zip(names, r, strict=True)) for r in document["rows"]] == dataset.rows


def test_non_ascii_text_is_refused_for_xpt_naming_the_place(datasets, tmp_path):
    ae = next(d for d in datasets if d.name == "AE")
    ae.rows[0]["AETERM"] = "Céphalée"
    with pytest.raises(ExportRefused, match=r"AE.AETERM record 1: 'é' is not ASCII"):
        write_xpt(ae, tmp_path / "ae.xpt")
    assert not (tmp_path / "ae.xpt").exists()


def test_the_read_back_check_finds_a_file_that_differs(datasets, tmp_path):
    from standards.services import _read_back

    dm = next(d for d in datasets if d.name == "DM")
    path = tmp_path / "dm.xpt"
    write_xpt(dm, path)
    assert _read_back(dm, path) == []
    dm.rows.append(dict(dm.rows[0]))
    findings = _read_back(dm, path)
    assert [f.message for f in findings] == ["XPT read-back: 5 records read, 6 written"]
    assert findings[0].severity == "error" and findings[0].check == "XPT0001"
