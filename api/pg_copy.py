"""The streamed pull written by PostgreSQL itself (docs/operations.md §5).

On PostgreSQL the export's queryset (the view's, so the same scoping and filters) is compiled to
one SELECT whose columns are already the list's cells, formatted in SQL as the API formats them
(`SQL_CELLS`), and read with `COPY (...) TO STDOUT` through psycopg2's copy API: the database
writes the rows, and Python only passes blocks of bytes on. The output is byte for byte that of
the Python path (api/streaming.py), which SQLite keeps:

- CSV: `COPY ... WITH (FORMAT csv)` quotes a field exactly when Python's csv module does (a
  delimiter, a quote, CR or LF in it), except an empty string, which it quotes to tell it from
  NULL: text cells are NULLIF(..., '') so both are an empty cell, as in the list's CSV. Rows end
  in LF, which is turned into the csv module's CRLF outside quoted fields.
- JSON: each row is one JSON object built in SQL (`TO_JSON` escapes text as Python's json module
  does without `ensure_ascii`), read with `COPY ... (FORMAT text)`, which doubles backslashes
  only (the objects hold no control character): they are halved back, and the rows joined into
  the array.

A serializer with a field this compiler does not know (nested values, method fields, floats) is
not compiled (`None`): the export then takes the Python path.

psycopg2 reads COPY's rows in one blocking call; it runs on a thread that hands blocks of about
`BLOCK_BYTES` to the response through a queue of `QUEUE_BLOCKS`, so a slow client holds the
database back instead of filling memory. If the client goes away, the COPY is cancelled.
"""

from __future__ import annotations

import json
import queue
import re
import threading
from collections.abc import Callable, Iterator

from django.db import connection
from django.db.models import F, Func, TextField, Value
from rest_framework import serializers
from rest_framework.settings import api_settings

from core.exports import FORMULA_STARTS

BLOCK_BYTES = 256 * 1024
QUEUE_BLOCKS = 4

INTEGER_COLUMNS = frozenset(
    {
        "AutoField",
        "BigAutoField",
        "SmallAutoField",
        "IntegerField",
        "BigIntegerField",
        "SmallIntegerField",
        "PositiveIntegerField",
        "PositiveBigIntegerField",
        "PositiveSmallIntegerField",
    }
)
TEXT_COLUMNS = frozenset({"CharField", "TextField"})

# In each template {0} is the column. The CSV cell of each kind of column, as the list's CSV
# writes the API's value (api/renderers.py, core.exports.neutralise); NULL is an empty cell.
_STARTS = ", ".join(f"CHR({ord(c)})" for c in FORMULA_STARTS)
_UTC = "(({0}) AT TIME ZONE 'UTC')"
# ISO 8601 in UTC as the API writes it: microseconds only when there are some, "Z" for +00:00.
_DATETIME = (
    f"TO_CHAR({_UTC}, CASE WHEN DATE_TRUNC('second', {_UTC}) = {_UTC} "
    'THEN \'YYYY-MM-DD"T"HH24:MI:SS"Z"\' ELSE \'YYYY-MM-DD"T"HH24:MI:SS.US"Z"\' END)'
)
_DATE = "TO_CHAR({0}, 'YYYY-MM-DD')"
_TIME = "TO_CHAR({0}, 'HH24:MI')"  # a local time of day to the minute (api/serializers.py)


def _neutralised(text: str) -> str:
    """core.exports.neutralise in SQL: a formula-looking start gets a single quote."""
    return (
        f"NULLIF(CASE WHEN LEFT({text}, 1) IN ({_STARTS}) THEN '''' || {text} ELSE {text} END, '')"
    )


CSV_CELLS = {
    "integer": "{0}",
    "text": _neutralised("{0}"),
    "boolean": "CASE WHEN {0} THEN 'true' WHEN NOT {0} THEN 'false' END",
    "date": _DATE,
    "time": _TIME,
    "datetime": _DATETIME,
    "decimal": _neutralised("({0})::text"),
}
JSON_VALUES = {
    "integer": "COALESCE(({0})::text, 'null')",
    "text": "COALESCE(TO_JSON({0})::text, 'null')",
    "boolean": "CASE WHEN {0} THEN 'true' WHEN NOT {0} THEN 'false' ELSE 'null' END",
    "date": f"COALESCE('\"' || {_DATE} || '\"', 'null')",
    "time": f"COALESCE('\"' || {_TIME} || '\"', 'null')",
    "datetime": f"COALESCE('\"' || {_DATETIME} || '\"', 'null')",
    "decimal": "COALESCE('\"' || ({0})::text || '\"', 'null')",
}


class Sql(Func):
    """`sql` with each {n} replaced by the n-th expression's SQL (its parameters repeated as
    often as it appears)."""

    def __init__(self, sql: str, *expressions, output_field=None):
        super().__init__(*expressions, output_field=output_field or TextField())
        self.sql = sql

    def as_sql(self, compiler, connection, **extra):
        compiled = [compiler.compile(e) for e in self.get_source_expressions()]
        params: list = []

        def put(match):
            sql, more = compiled[int(match.group(1))]
            params.extend(more)
            return sql

        return re.sub(r"\{(\d+)\}", put, self.sql), params


def _column_type(queryset, attribute: str, property_expressions: dict) -> str:
    """The Django field type of what `attribute` reads (a column, an annotation or a property
    with an expression), foreign keys as their target's."""
    if attribute in property_expressions:
        field = property_expressions[attribute]().output_field
    elif attribute in queryset.query.annotations:
        field = queryset.query.annotations[attribute].output_field
    else:
        field = queryset.model._meta.get_field(attribute)
    while field.is_relation:
        field = field.target_field
    return field.get_internal_type()


def _kind(field, column: str, convert, model_field) -> str | None:
    """How the API writes this field's value, when SQL can write it the same way."""
    if isinstance(field, serializers.BooleanField):
        return "boolean" if column == "BooleanField" else None
    if isinstance(field, serializers.BigIntegerField) and getattr(
        field, "coerce_to_string", api_settings.COERCE_BIGINT_TO_STRING
    ):
        return None
    if isinstance(field, serializers.IntegerField | serializers.PrimaryKeyRelatedField):
        return "integer" if column in INTEGER_COLUMNS else None
    if isinstance(field, serializers.ChoiceField):
        if column in INTEGER_COLUMNS:
            return "integer"
        return "text" if column in TEXT_COLUMNS else None
    if isinstance(field, serializers.CharField):
        return "text" if column in TEXT_COLUMNS else None
    if isinstance(field, serializers.DateTimeField):
        # Only the UTC shortcut of the row plan (api/serializers.py) is written in SQL.
        utc = getattr(convert, "__name__", "") == "_utc_isoformat"
        return "datetime" if utc and column == "DateTimeField" else None
    if isinstance(field, serializers.DateField):
        return "date" if column == "DateField" else None
    if isinstance(field, serializers.TimeField):
        minutes = getattr(convert, "__name__", "") == "_minutes"
        return "time" if minutes and column == "TimeField" else None
    if isinstance(field, serializers.DecimalField):
        # The stored scale is the API's: numeric(p, s)::text has exactly DRF's digits.
        same = (
            model_field is not None
            and column == "DecimalField"
            and getattr(field, "coerce_to_string", api_settings.COERCE_DECIMAL_TO_STRING)
            and not field.localize
            and not field.normalize_output
            and field.decimal_places == model_field.decimal_places
        )
        return "decimal" if same else None
    return None


def compiled_columns(serializer_class, queryset, property_expressions: dict):
    """[(name, kind, expression)] for every field of the list's serializer, or None when one
    of them cannot be written in SQL exactly as the API writes it."""
    probe = serializer_class()
    plan = probe._plan() if hasattr(probe, "_plan") else None
    if plan is None:
        return None
    fields = probe.fields
    concrete = {f.attname: f for f in queryset.model._meta.concrete_fields}
    columns = []
    for name, attribute, convert in plan:
        if attribute is None:
            return None
        known = (
            attribute in concrete
            or attribute in queryset.query.annotations
            or attribute in property_expressions
        )
        if not known:
            return None
        column = _column_type(queryset, attribute, property_expressions)
        model_field = concrete.get(attribute)
        if attribute in property_expressions:
            expression = property_expressions[attribute]()
        else:
            expression = F(attribute)
        kind = _kind(fields[name], column, convert, model_field)
        if kind is None:
            return None
        columns.append((name, kind, expression))
    return columns


def _mogrified(queryset) -> str:
    """The queryset's SQL with its parameters inlined by psycopg2 (COPY takes none)."""
    sql, params = queryset.query.get_compiler(using=queryset.db).as_sql()
    connection.ensure_connection()
    with connection.connection.cursor() as cursor:
        return cursor.mogrify(sql, params).decode()


def csv_copy_sql(columns, queryset) -> str:
    cells = {
        f"copy_{i}": Sql(CSV_CELLS[kind], expression)
        for i, (_, kind, expression) in enumerate(columns)
    }
    select = queryset.order_by("id").annotate(**cells).values_list(*cells)
    return f"COPY ({_mogrified(select)}) TO STDOUT WITH (FORMAT csv)"


def json_copy_sql(columns, queryset) -> str:
    parts, expressions = [], []
    for i, (name, kind, expression) in enumerate(columns):
        key = ("{" if i == 0 else ",") + json.dumps(name, ensure_ascii=False) + ":"
        expressions += [Value(key), expression]
        parts.append(f"{{{2 * i}}} || " + JSON_VALUES[kind].replace("{0}", f"{{{2 * i + 1}}}"))
    row = Sql(" || ".join(parts) + " || '}'", *expressions)
    select = queryset.order_by("id").annotate(copy_row=row).values_list("copy_row")
    return f"COPY ({_mogrified(select)}) TO STDOUT WITH (FORMAT text)"


def crlf_rows(block: bytes, rows: int) -> bytes:
    """A block of whole COPY CSV rows with each row's LF made CRLF, as Python's csv module ends
    rows; a line break inside a quoted field stays as it is."""
    if block.count(b"\n") == rows:  # no line break inside a field
        return block.replace(b"\n", b"\r\n")
    # Outside quoted fields are the even pieces between quotes (a doubled quote inside a field
    # makes an empty odd piece).
    pieces = block.split(b'"')
    pieces[::2] = [piece.replace(b"\n", b"\r\n") for piece in pieces[::2]]
    return b'"'.join(pieces)


def json_rows(block: bytes, rows: int) -> bytes:
    """A block of whole COPY text rows, each one JSON object: the objects comma-separated, the
    backslashes COPY doubled halved back."""
    return block[:-1].replace(b"\n", b",").replace(b"\\\\", b"\\")


_END = object()


class _Copy:
    """One COPY run on a worker thread: psycopg2 writes its rows into `write` (once per row:
    libpq returns COPY data a row at a time), which hands blocks of whole rows to the queue."""

    def __init__(self, raw, sql: str, convert: Callable[[bytes, int], bytes]):
        self.raw, self.sql, self.convert = raw, sql, convert
        self.blocks: queue.Queue = queue.Queue(maxsize=QUEUE_BLOCKS)
        self.stop = threading.Event()  # the reader went away
        self.done = threading.Event()  # the COPY has returned
        self.parts: list[bytes] = []
        self.size = 0

    def put(self, item) -> None:
        while not self.stop.is_set():
            try:
                self.blocks.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    def write(self, data: bytes) -> None:
        if self.stop.is_set():
            return
        self.parts.append(data)
        self.size += len(data)
        if self.size >= BLOCK_BYTES:
            self.flush()

    def flush(self) -> None:
        if self.parts:
            block = self.convert(b"".join(self.parts), len(self.parts))
            self.parts, self.size = [], 0
            self.put(block)

    def run(self) -> None:
        try:
            with self.raw.cursor() as cursor:
                cursor.copy_expert(self.sql, self)
            self.flush()
            self.put(_END)
        except BaseException as error:  # handed to the reader, raised there
            self.put(error)
        finally:
            self.done.set()


def copy_blocks(sql: str, convert: Callable[[bytes, int], bytes]) -> Iterator[bytes]:
    """The data of `sql` (a COPY ... TO STDOUT), in blocks of whole rows passed through
    `convert(block, rows)`. Must be iterated to the end or closed (a response is)."""
    connection.ensure_connection()
    copy = _Copy(connection.connection, sql, convert)
    worker = threading.Thread(target=copy.run, name="copy-export", daemon=True)
    worker.start()
    complete = ended = False
    try:
        while True:
            item = copy.blocks.get()
            if item is _END:
                complete = ended = True
                return
            if isinstance(item, BaseException):
                ended = True
                raise item
            yield item
    finally:
        copy.stop.set()
        if not ended and not copy.done.is_set():
            copy.raw.cancel()  # the client went away: the database stops writing
        worker.join()
        if not complete and connection.in_atomic_block:
            # A failed or cancelled COPY aborts the transaction it ran in.
            connection.needs_rollback = True
