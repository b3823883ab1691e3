"""The bioanalytical laboratory's CSV files, read and checked row by row
(docs/pharmacology.md §8).

Three layouts, one per kind of result; the laboratory's sample ID (the tube's barcode) is the
join. Every row is checked and every problem reported with its line, column and rule; the
caller saves nothing when any row has an error. What needs the database (does the sample
exist, is it the subject's, does it already have a result) is checked by the service with the
rows this module returns.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date

from .ada import AdaSample, Outcome
from .biomarkers import BiomarkerResult as CoreBiomarkerResult
from .biomarkers import Quantification
from .errors import PharmacologyInputError
from .nca import CONCENTRATION_UNITS_MG_PER_L

LAB_FILE_VERSION = "pharmacology-lab-file 2"

# Required and optional columns of each layout (docs/pharmacology.md §8.1).
COLUMNS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "pk": (
        ("sample_id", "subject", "timepoint", "analyte", "result", "unit", "lloq"),
        ("collection_date", "uloq", "run_id", "reassay_reason"),
    ),
    "ada": (
        ("sample_id", "subject", "timepoint", "screening"),
        ("collection_date", "confirmatory", "titer", "neutralising", "run_id", "reassay_reason"),
    ),
    "biomarker": (
        ("sample_id", "subject", "timepoint", "analyte", "result", "unit", "lloq"),
        ("collection_date", "uloq", "diluted", "run_id", "reassay_reason"),
    ),
}
BLQ_TEXTS = ("BLQ", "<LLOQ")
MAX_ROWS = 100_000


@dataclass(frozen=True)
class RowError:
    line: int  # the file's line number (the header is line 1)
    column: str
    message: str
    sample_id: str = ""


@dataclass(frozen=True)
class LabRow:
    """One checked row. For PK and biomarkers `analyte`, `reported`, `value` (None unless
    quantified), `unit`, `lloq`, `uloq`; PK `blq`; biomarker `quantification`; ADA the tiers."""

    line: int
    sample_id: str
    subject: str
    timepoint: str = ""  # the sample's nominal time point as the laboratory names it
    collection_date: date | None = None  # the day the sample was taken, when the file gives it
    run_id: str = ""
    reassay_reason: str = ""
    analyte: str = ""
    reported: str = ""
    value: float | None = None
    blq: bool = False
    quantification: str = ""
    unit: str = ""
    lloq: float | None = None
    uloq: float | None = None
    screening: str = ""
    confirmatory: str = ""
    titer: float | None = None
    neutralising: str = ""

    @property
    def key(self) -> tuple[str, str]:
        return (self.sample_id, self.analyte)


@dataclass(frozen=True)
class LabFile:
    kind: str
    rows: tuple[LabRow, ...]
    errors: tuple[RowError, ...]
    version: str = LAB_FILE_VERSION

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass
class _Row:
    line: int
    values: Mapping[str, str]
    errors: list[RowError] = field(default_factory=list)

    def get(self, name: str) -> str:
        return (self.values.get(name) or "").strip()

    def fail(self, column: str, message: str) -> None:
        self.errors.append(RowError(self.line, column, message, self.get("sample_id")))

    def day(self, name: str) -> date | None:
        text = self.get(name)
        if not text:
            return None
        try:
            day = date.fromisoformat(text)
        except ValueError:
            day = None
        if day is None or day.isoformat() != text:  # YYYY-MM-DD only, not 20250304 or weeks
            self.fail(name, f"{text!r} is not a date (YYYY-MM-DD)")
            return None
        return day

    def number(self, name: str, *, required: bool) -> float | None:
        text = self.get(name)
        if not text:
            if required:
                self.fail(name, "a number is needed")
            return None
        try:
            value = float(text)
        except ValueError:
            self.fail(name, f"{text!r} is not a number")
            return None
        if not math.isfinite(value) or value <= 0:
            self.fail(name, f"{text!r} must be a positive number")
            return None
        return value


def _pk(row: _Row, analytes: Sequence[str]) -> LabRow | None:
    analyte = row.get("analyte")
    if analyte not in analytes:
        row.fail("analyte", f"{analyte!r} is not the study's PK analyte ({', '.join(analytes)})")
    unit = row.get("unit")
    if unit not in CONCENTRATION_UNITS_MG_PER_L:
        row.fail("unit", f"{unit!r} is not one of {', '.join(CONCENTRATION_UNITS_MG_PER_L)}")
    lloq = row.number("lloq", required=True)
    uloq = row.number("uloq", required=False)
    if lloq is not None and uloq is not None and uloq <= lloq:
        row.fail("uloq", "the ULOQ must be above the LLOQ")
        uloq = None
    reported = row.get("result")
    value: float | None = None
    blq = reported.upper() in BLQ_TEXTS or reported.startswith("<")
    if not reported:
        row.fail("result", "a result is needed (a number, or BLQ)")
    elif not blq:
        try:
            value = float(reported)
        except ValueError:
            row.fail("result", f"{reported!r} is neither a number nor BLQ / <LLOQ")
        else:
            if not math.isfinite(value) or value < 0:
                row.fail("result", f"{reported!r} must be a number of at least 0")
            elif lloq is not None and value < lloq:
                row.fail(
                    "result",
                    f"{value:g} is below the LLOQ {lloq:g}: the laboratory reports it as BLQ",
                )
            elif uloq is not None and value > uloq:
                row.fail(
                    "result",
                    f"{value:g} is above the ULOQ {uloq:g}: re-assay diluted and report "
                    "the diluted result",
                )
    if row.errors:
        return None
    return LabRow(
        line=row.line,
        sample_id=row.get("sample_id"),
        subject=row.get("subject"),
        run_id=row.get("run_id"),
        reassay_reason=row.get("reassay_reason"),
        analyte=analyte,
        reported=reported,
        value=value,
        blq=blq,
        unit=unit,
        lloq=lloq,
        uloq=uloq,
    )


def _outcome(row: _Row, name: str, *, required: bool) -> str:
    text = row.get(name).lower()
    if not text:
        if required:
            row.fail(name, "positive or negative is needed")
        return ""
    if text not in (o.value for o in Outcome):
        row.fail(name, f"{row.get(name)!r} is not positive or negative")
        return ""
    return text


def _ada(row: _Row) -> LabRow | None:
    screening = _outcome(row, "screening", required=True)
    confirmatory = _outcome(row, "confirmatory", required=False)
    neutralising = _outcome(row, "neutralising", required=False)
    titer = row.number("titer", required=False)
    if row.errors:
        return None
    try:
        AdaSample(
            sample_id=row.get("sample_id"),
            day=0,
            screening=Outcome(screening),
            confirmatory=Outcome(confirmatory) if confirmatory else None,
            titer=titer,
            neutralising=Outcome(neutralising) if neutralising else None,
        )
    except PharmacologyInputError as error:
        # "ADA sample X: titer: only confirmed ..." -> the column and the rule.
        text = str(error).split(": ", 1)[-1]
        column, _, message = text.partition(": ")
        row.fail(column if message else "screening", message or text)
        return None
    if screening == "positive" and not confirmatory:
        row.fail("confirmatory", "a screen-positive sample needs its confirmatory result")
        return None
    return LabRow(
        line=row.line,
        sample_id=row.get("sample_id"),
        subject=row.get("subject"),
        run_id=row.get("run_id"),
        reassay_reason=row.get("reassay_reason"),
        analyte="ADA",
        screening=screening,
        confirmatory=confirmatory,
        titer=titer,
        neutralising=neutralising,
    )


def _biomarker(row: _Row, analytes: Mapping[str, Sequence[str]]) -> LabRow | None:
    analyte = row.get("analyte")
    if analyte not in analytes:
        row.fail(
            "analyte", f"{analyte!r} is not one of the study's biomarkers ({', '.join(analytes)})"
        )
        return None
    unit = row.get("unit")
    if unit not in analytes[analyte]:
        row.fail("unit", f"{unit!r} is not a unit of {analyte} ({', '.join(analytes[analyte])})")
    lloq = row.number("lloq", required=True)
    uloq = row.number("uloq", required=False)
    diluted = row.get("diluted").lower() in ("y", "yes", "true", "1")
    if row.errors or lloq is None:
        return None
    try:
        result = CoreBiomarkerResult(
            subject=row.get("subject"),
            analyte=analyte,
            timepoint="",
            day=0,
            reported=row.get("result"),
            unit=unit,
            lloq=lloq,
            uloq=uloq,
            diluted=diluted,
        )
    except PharmacologyInputError as error:
        text = str(error).split(": ", 1)[-1]
        column, _, message = text.partition(": ")
        column = {"reported": "result"}.get(column, column)
        row.fail(column if message else "result", message or text)
        return None
    return LabRow(
        line=row.line,
        sample_id=row.get("sample_id"),
        subject=row.get("subject"),
        run_id=row.get("run_id"),
        reassay_reason=row.get("reassay_reason"),
        analyte=analyte,
        reported=result.reported.strip(),
        value=result.number,
        blq=result.quantification is Quantification.BELOW_LLOQ,
        quantification=result.quantification.value,
        unit=unit,
        lloq=lloq,
        uloq=uloq,
    )


def _header_errors(kind: str, header: list[str]) -> list[RowError]:
    """The header's problems: a required column missing, an unknown or a repeated one."""
    required, optional = COLUMNS[kind]
    errors: list[RowError] = []
    missing = [c for c in required if c not in header]
    unknown = [c for c in header if c not in required + optional]
    if missing:
        errors.append(
            RowError(1, missing[0], f"the header lacks the column(s) {', '.join(missing)}")
        )
    if unknown:
        errors.append(RowError(1, unknown[0], f"unknown column(s) {', '.join(unknown)}"))
    if len(set(header)) != len(header):
        errors.append(RowError(1, "header", "a column is repeated"))
    return errors


def _is_blank(values: Mapping[str | None, object]) -> bool:
    return not any((v or "").strip() for v in values.values() if isinstance(v, str))


def _identified(row: _Row) -> bool:
    """The checks every layout shares: the row fits the header, names its sample and subject."""
    if None in row.values:
        row.fail("", "the row has more fields than the header")
    if not row.get("sample_id"):
        row.fail("sample_id", "the laboratory's sample ID is needed")
    if not row.get("subject"):
        row.fail("subject", "the subject is needed")
    if not row.get("timepoint"):
        row.fail(
            "timepoint", "the sample's nominal time point is needed (as the schedule names it)"
        )
    return not row.errors


def same_timepoint(reported: str, nominal: str) -> bool:
    """The laboratory's time point names the sample's nominal one: the schedule's label, in
    any case and spacing ("Pre-dose" for "pre-dose", "2 H" for "2 h")."""
    return " ".join(reported.casefold().split()) == " ".join(nominal.casefold().split())


@dataclass(frozen=True)
class _Layout:
    """What the rows of one file are checked against: the study's analytes and units."""

    kind: str
    pk_analytes: Sequence[str]
    biomarker_units: Mapping[str, Sequence[str]]

    def parse(self, row: _Row) -> LabRow | None:
        collected = row.day("collection_date")
        if self.kind == "pk":
            parsed = _pk(row, self.pk_analytes)
        elif self.kind == "ada":
            parsed = _ada(row)
        else:
            parsed = _biomarker(row, self.biomarker_units)
        if parsed is None or row.errors:
            return None
        return replace(parsed, timepoint=row.get("timepoint"), collection_date=collected)


def _duplicate(parsed: LabRow, seen: dict[tuple[str, str], int], line: int) -> RowError | None:
    """A second row for the same sample and analyte within the file."""
    first = seen.get(parsed.key)
    if first is None:
        seen[parsed.key] = line
        return None
    return RowError(
        line,
        "sample_id",
        f"sample {parsed.sample_id} ({parsed.analyte}) is already on line {first}: a duplicate",
        parsed.sample_id,
    )


def read_lab_file(
    kind: str,
    text: str,
    *,
    pk_analytes: Sequence[str] = ("MIL97",),
    biomarker_units: Mapping[str, Sequence[str]] | None = None,
) -> LabFile:
    """Every row of a laboratory file checked (docs/pharmacology.md §8.2). A row with an error
    is not returned; the file is good only when `errors` is empty."""
    if kind not in COLUMNS:
        raise PharmacologyInputError(f"kind: {kind!r} is not one of {', '.join(COLUMNS)}")
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff"), newline=""))
    header = [h.strip() for h in (reader.fieldnames or [])]
    reader.fieldnames = header
    errors = _header_errors(kind, header)
    if errors:
        return LabFile(kind, (), tuple(errors))
    layout = _Layout(kind, pk_analytes, biomarker_units or {})
    rows: list[LabRow] = []
    seen: dict[tuple[str, str], int] = {}
    for number, values in enumerate(reader, start=2):
        if number - 1 > MAX_ROWS:
            errors.append(RowError(number, "", f"a file holds at most {MAX_ROWS} rows"))
            break
        if _is_blank(values):
            continue
        row = _Row(number, values)
        parsed = layout.parse(row) if _identified(row) else None
        errors.extend(row.errors)
        if parsed is None:
            continue
        duplicate = _duplicate(parsed, seen, number)
        if duplicate is not None:
            errors.append(duplicate)
            continue
        rows.append(parsed)
    if not rows and not errors:
        errors.append(RowError(1, "", "the file has no rows"))
    return LabFile(kind, tuple(rows), tuple(errors))
