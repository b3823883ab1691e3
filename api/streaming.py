"""The pull of a whole resource in one response, streamed (docs/operations.md §5).

`GET /api/v1/<resource>/export/?format=csv|json` sends every record the caller may see (the
list's filters apply), in id order, as the list's CSV (header row, same columns and cells) or as
a JSON array of the list's records. Rows are read from a server-side cursor
(`QuerySet.iterator(chunk_size=...)`) and written as they come, so memory stays flat whatever
the size. When every field of the list's serializer is a column or an annotation, the rows are
read as tuples (`values_list`) and converted with the serializer's own per-field plan; otherwise
each chunk goes through the serializer.
"""

import csv
import io
from collections.abc import Iterator

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection
from django.db.models import BooleanField, ExpressionWrapper, F, Q
from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError

from api import pg_copy
from api.renderers import cell
from core.exports import FORMULA_STARTS, neutralise
from safety.models import PROPOSED_DLT, SAE_REPORTING_CLOCK

CHUNK_SIZE = 2000
FLUSH_ROWS = 500

# Model properties the serializers read, as the database expression that gives the same value.
PROPERTY_EXPRESSIONS = {
    "is_voided": lambda: ExpressionWrapper(Q(voided_at__isnull=False), output_field=BooleanField()),
    # safety.models.AdverseEvent.sae_reported_late (docs/safety.md §4)
    "sae_reported_late": lambda: ExpressionWrapper(
        Q(
            serious=True,
            sae_awareness_at__isnull=False,
            sae_reported_at__isnull=False,
            sae_reported_at__gt=F("sae_awareness_at") + SAE_REPORTING_CLOCK,
        ),
        output_field=BooleanField(),
    ),
    # safety.models.AdverseEvent.dlt_awaiting_attestation (docs/safety.md §8)
    "dlt_awaiting_attestation": lambda: ExpressionWrapper(
        PROPOSED_DLT, output_field=BooleanField()
    ),
}


def tuple_rows(serializer, queryset):
    """(names, rows of values, converters) read as tuples, or None when a field needs DRF."""
    plan = serializer._plan() if hasattr(serializer, "_plan") else None
    if plan is None:
        return None
    columns = {f.attname for f in queryset.model._meta.concrete_fields}
    columns |= set(queryset.query.annotations)
    extra, selected = {}, []
    for _name, attribute, _convert in plan:
        if attribute is None:
            return None
        if attribute in columns:
            selected.append(attribute)
        elif attribute in PROPERTY_EXPRESSIONS:
            alias = f"stream_{attribute}"
            extra[alias] = PROPERTY_EXPRESSIONS[attribute]()
            selected.append(alias)
        else:
            return None
    rows = queryset.annotate(**extra).values_list(*selected).iterator(chunk_size=CHUNK_SIZE)
    return [name for name, _, _ in plan], rows, [convert for _, _, convert in plan]


def records(
    serializer_class, queryset, context, formatters=None
) -> tuple[list[str], Iterator[list]]:
    """The column names and the rows (lists of JSON values), in id order; with `formatters`
    (one per column, None where the value is written as it is), each value is passed through
    its column's formatter."""
    queryset = queryset.order_by("id")
    probe = serializer_class(context=context)
    fast = tuple_rows(probe, queryset)
    if fast is not None:
        names, rows, converters = fast
        # Only the columns that need work are touched: a value read as it is written (a whole
        # number, a date, a code) costs nothing per row.
        work = [
            (i, _then(convert, formatters[i] if formatters else None))
            for i, convert in enumerate(converters)
            if convert is not None or (formatters and formatters[i] is not None)
        ]

        def converted():
            for values in rows:
                row = list(values)
                for i, step in work:
                    row[i] = step(row[i])
                yield row

        return names, converted()
    names = list(probe.fields)

    def serialized():
        chunk = []
        for instance in queryset.iterator(chunk_size=CHUNK_SIZE):
            chunk.append(instance)
            if len(chunk) == CHUNK_SIZE:
                yield from _as_lists(serializer_class, chunk, context, names, formatters)
                chunk = []
        if chunk:
            yield from _as_lists(serializer_class, chunk, context, names, formatters)

    return names, serialized()


def _as_lists(serializer_class, chunk, context, names, formatters=None):
    steps = [f or _same for f in formatters] if formatters else None
    for row in serializer_class(chunk, many=True, context=context).data:
        if steps:
            yield [f(row.get(name)) for f, name in zip(steps, names, strict=True)]
        else:
            yield [row.get(name) for name in names]


def _same(value):
    return value


def _then(convert, formatter):
    """One step per column: the serializer's conversion (skipped for None), then the format."""
    if convert is None:
        return formatter
    if formatter is None:
        return lambda value: None if value is None else convert(value)
    return lambda value: formatter(None if value is None else convert(value))


BOOLEAN_CELLS = {True: "true", False: "false", None: ""}


def _boolean(value):
    return BOOLEAN_CELLS[value]


def _any(value):
    return neutralise(cell(value))


def _text(value):
    if type(value) is not str:
        return _any(value)
    value = value.replace("\x00", "")
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def _safe_codes(serializer_class, field) -> bool:
    """A model field whose every stored value is one of its choices' codes, none of which looks
    like a formula: written as it is."""
    model = getattr(getattr(serializer_class, "Meta", None), "model", None)
    try:
        model_field = model._meta.get_field(field.source) if model else None
    except Exception:
        return False
    if not getattr(model_field, "choices", None):
        return False
    return all(
        isinstance(code, str) and code and not code.startswith(FORMULA_STARTS)
        for code, _ in model_field.flatchoices
    )


def csv_formatters(serializer_class, names: list[str]) -> list:
    """Each column's cell writer: the list CSV's `neutralise(cell(value))` worked out once per
    column for the values its field can hold (None where the csv module writes the value as
    the list's CSV does: whole numbers, ISO dates, None as empty, safe codes)."""
    fields = serializer_class().fields
    formatters = []
    for name in names:
        field = fields.get(name)
        if isinstance(field, serializers.BooleanField):
            formatters.append(_boolean)
        elif (
            isinstance(
                field,
                serializers.IntegerField
                | serializers.PrimaryKeyRelatedField
                | serializers.DateField
                | serializers.DateTimeField,
            )
            or isinstance(field, serializers.ChoiceField)
            and _safe_codes(serializer_class, field)
        ):
            formatters.append(None)
        elif isinstance(field, serializers.CharField):
            formatters.append(_text)
        else:
            formatters.append(_any)
    return formatters


def csv_chunks(names: list[str], rows: Iterator[list]) -> Iterator[bytes]:
    """CSV of rows whose cells are already formatted (`csv_formatters`)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([neutralise(name) for name in names])
    for count, row in enumerate(rows, start=1):
        writer.writerow(row)
        if count % FLUSH_ROWS == 0:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()


def json_chunks(names: list[str], rows: Iterator[list]) -> Iterator[bytes]:
    dumps = DjangoJSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    parts = ["["]
    first = True
    for row in rows:
        parts.append(("" if first else ",") + dumps(dict(zip(names, row, strict=True))))
        first = False
        if len(parts) >= FLUSH_ROWS:
            yield "".join(parts).encode()
            parts = []
    parts.append("]")
    yield "".join(parts).encode()


def copied(wanted: str, serializer_class, queryset, names: list[str]) -> Iterator[bytes] | None:
    """On PostgreSQL, the export written by the database (api/pg_copy.py), byte for byte what
    `csv_chunks` or `json_chunks` write; None where the Python path must write it."""
    if connection.vendor != "postgresql":
        return None
    columns = pg_copy.compiled_columns(serializer_class, queryset, PROPERTY_EXPRESSIONS)
    if columns is None or [name for name, _, _ in columns] != names:
        return None
    if wanted == "csv":
        return _csv_copy(names, pg_copy.csv_copy_sql(columns, queryset))
    return _json_copy(pg_copy.json_copy_sql(columns, queryset))


def _csv_copy(names: list[str], sql: str) -> Iterator[bytes]:
    header = next(csv_chunks(names, iter(())))
    yield header
    yield from pg_copy.copy_blocks(sql, pg_copy.crlf_rows)


def _json_copy(sql: str) -> Iterator[bytes]:
    before = b"["
    for block in pg_copy.copy_blocks(sql, pg_copy.json_rows):
        yield before + block
        before = b","
    yield b"[]" if before == b"[" else b"]"


EXPORT_FORMAT = OpenApiParameter(
    "format",
    type=OpenApiTypes.STR,
    location=OpenApiParameter.QUERY,
    enum=["json", "csv"],
    description="json (default: one JSON array of the records) or csv (one row per record).",
)


class StreamedPullMixin:
    """Adds `GET .../export/`: the whole resource in one streamed response."""

    def filter_queryset(self, queryset):
        if getattr(self, "action", None) == "export":
            for backend in list(self.filter_backends):
                queryset = backend().filter_queryset(self.request, queryset, self)
            return queryset
        return super().filter_queryset(queryset)

    @extend_schema(
        summary="Every record in one streamed response",
        description="All the records the caller may see, in id order, with the list's filters: "
        "a JSON array of the list's records, or with ?format=csv the list's CSV. Streamed, so a "
        "whole study's records come in one request at the database's pace.",
        parameters=[EXPORT_FORMAT],
        # An array of the list's records (their schema is the list's); not one record.
        responses={200: {"type": "array", "items": {"type": "object"}}},
    )
    @action(detail=False, methods=["get"], pagination_class=None)
    def export(self, request):
        wanted = request.query_params.get("format", "json")
        if wanted not in ("json", "csv"):
            raise ValidationError({"format": ["One of: json, csv."]})
        queryset = self.filter_queryset(self.get_queryset())
        serializer_class, context = self.get_serializer_class(), self.get_serializer_context()
        names = list(serializer_class(context=context).fields)
        written = copied(wanted, serializer_class, queryset, names)
        if written is not None:
            content_type = "text/csv; charset=utf-8" if wanted == "csv" else "application/json"
            return StreamingHttpResponse(written, content_type=content_type)
        if wanted == "csv":
            formatters = csv_formatters(serializer_class, names)
            names, rows = records(serializer_class, queryset, context, formatters)
            response = StreamingHttpResponse(
                csv_chunks(names, rows), content_type="text/csv; charset=utf-8"
            )
        else:
            names, rows = records(serializer_class, queryset, context)
            response = StreamingHttpResponse(
                json_chunks(names, rows), content_type="application/json"
            )
        return response
