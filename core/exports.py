"""Safe spreadsheet exports (docs/audit.md §6: formula-looking text in exported cells).

A cell that starts with =, +, -, @, a tab or a carriage return is read as a formula by Excel and
LibreOffice (OWASP, "CSV Injection"); such text is prefixed with a single quote so that it shows
as typed. NUL bytes are dropped. Numbers stay numbers.
"""

import csv
import io
from collections.abc import Iterable

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value) -> object:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return value
    text = str(value).replace("\x00", "")
    if text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


def csv_text(header: Iterable[str], rows: Iterable[Iterable]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([neutralise(h) for h in header])
    for row in rows:
        writer.writerow([neutralise(cell) for cell in row])
    return buffer.getvalue()
