"""Import of the NCI CTCAE v5.0 dictionary from the official workbook.

The workbook (NCI, CTCAE v5.0, November 2017; public domain) is not shipped with the product:
users download it from NCI and import it with `manage.py import_ctcae PATH`. Its sheet
"CTCAE v5.0 Clean Copy" has one row per term: MedDRA code, SOC, term, Grade 1..5, definition,
navigational note. A grade the term does not have is the cell " -". Without the workbook, a
starter set of common oncology terms (`ctcae_starter.json`, taken from the same workbook) keeps
the product usable.
"""

import json
from dataclasses import dataclass
from pathlib import Path

from django.db import transaction

from core.errors import ValidationError

from .models import CtcaeTerm

STARTER_SET = Path(__file__).resolve().parent / "ctcae_starter.json"
SHEET_HINT = "clean copy"
COLUMNS = {
    "meddra code": "meddra_code",
    "meddra soc": "soc",
    "ctcae term": "term",
    "grade 1": "grade_1",
    "grade 2": "grade_2",
    "grade 3": "grade_3",
    "grade 4": "grade_4",
    "grade 5": "grade_5",
    "definition": "definition",
    "navigational note": "navigational_note",
}
FIELDS = (
    "term",
    "soc",
    "grade_1",
    "grade_2",
    "grade_3",
    "grade_4",
    "grade_5",
    "definition",
    "navigational_note",
)


@dataclass
class ImportSummary:
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    @property
    def total(self) -> int:
        return self.created + self.updated + self.unchanged


def _text(value) -> str | None:
    """A cell as text; the workbook's " -" (no such grade) and empty cells are None."""
    if value is None:
        return None
    text = str(value).replace("\xa0", " ").strip()
    return None if text in ("", "-") else text


def read_workbook(path: str | Path) -> list[dict]:
    from openpyxl import load_workbook

    path = Path(path)
    if not path.exists():
        raise ValidationError({"path": f"No file at {path}."})
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises several types for a file that is not a workbook
        raise ValidationError(
            {"path": f"{path.name} is not an Excel workbook ({error})."}
        ) from error
    try:
        sheet_name = next((n for n in workbook.sheetnames if SHEET_HINT in n.lower()), None)
        if sheet_name is None:
            raise ValidationError(
                {
                    "path": f"{path.name} has no 'Clean Copy' sheet (sheets: {', '.join(workbook.sheetnames)})."
                }
            )
        rows = workbook[sheet_name].iter_rows(values_only=True)
        header = [(_text(h) or "").lower() for h in next(rows)]
        index = {COLUMNS[h]: i for i, h in enumerate(header) if h in COLUMNS}
        missing = set(COLUMNS.values()) - set(index)
        if missing:
            raise ValidationError(
                {"path": f"Sheet '{sheet_name}' lacks columns: {', '.join(sorted(missing))}."}
            )
        terms = []
        for number, row in enumerate(rows, start=2):
            code = row[index["meddra_code"]]
            if code is None:
                continue
            try:
                code = int(code)
            except (TypeError, ValueError):
                raise ValidationError(
                    {"path": f"Row {number}: MedDRA code '{code}' is not a number."}
                ) from None
            term = {"meddra_code": code}
            for field in FIELDS:
                term[field] = _text(row[index[field]])
            term["definition"] = term["definition"] or ""
            term["navigational_note"] = term["navigational_note"] or ""
            terms.append(term)
    finally:
        workbook.close()
    return terms


def read_starter_set() -> list[dict]:
    return json.loads(STARTER_SET.read_text())["terms"]


@transaction.atomic
def import_terms(terms: list[dict], *, version: str = "5.0") -> ImportSummary:
    """Create or update terms by MedDRA code. Importing the same data again changes nothing."""
    summary = ImportSummary()
    existing = {t.meddra_code: t for t in CtcaeTerm.objects.filter(version=version)}
    for data in terms:
        values = {field: data.get(field) for field in FIELDS}
        values["definition"] = values["definition"] or ""
        values["navigational_note"] = values["navigational_note"] or ""
        term = existing.get(data["meddra_code"])
        if term is None:
            term = CtcaeTerm(meddra_code=data["meddra_code"], version=version, **values)
            term.full_clean()
            term._change_reason = "Imported from the CTCAE workbook"
            term.save()
            summary.created += 1
            continue
        differing = {k: v for k, v in values.items() if getattr(term, k) != v}
        if not differing:
            summary.unchanged += 1
            continue
        for key, value in differing.items():
            setattr(term, key, value)
        term.full_clean()
        term._change_reason = f"Re-imported: {', '.join(sorted(differing))} changed"
        term.save()
        summary.updated += 1
    return summary


def import_ctcae(path: str | Path) -> ImportSummary:
    return import_terms(read_workbook(path))
