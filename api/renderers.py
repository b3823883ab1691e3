"""CSV for statisticians: one row per record, flat columns, safe to open in a spreadsheet.

`?format=csv` (or `Accept: text/csv`) on a list gives the page's records with a header row; the
next page is in the `Link` header. Text is neutralised by the product's one rule
(core.exports.neutralise: a cell starting with =, +, -, @, tab or carriage return is prefixed with
a single quote; NUL is dropped). Booleans are written true/false, as in the JSON, so that R,
pandas and SAS read them as they read the JSON; nested values (eligibility answers, change lists)
are written as JSON text.
"""

import json

from django.core.serializers.json import DjangoJSONEncoder
from django.http import Http404
from rest_framework.exceptions import ValidationError
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BaseRenderer

from core.exports import csv_text


def cell(value):
    """A JSON value as csv_text takes it: booleans as in the JSON, nested values as JSON text."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list | tuple):
        return json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False)
    return value


class CsvRenderer(BaseRenderer):
    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if data is None:
            return b""
        if isinstance(data, dict) and isinstance(data.get("results"), list):
            rows = data["results"]
        elif isinstance(data, list):
            rows = data
        else:
            rows = [data]
        columns = self._columns(rows, renderer_context or {})
        cells = (
            [cell(row.get(column)) for column in columns] if isinstance(row, dict) else [cell(row)]
            for row in rows
        )
        return csv_text(columns, cells).encode(self.charset)

    @staticmethod
    def _columns(rows, context) -> list[str]:
        columns: list[str] = []
        view = context.get("view")
        serializer_class = getattr(view, "get_serializer_class", None)
        if serializer_class is not None:
            try:
                columns = list(serializer_class()().fields.keys())
            except Exception:  # a view without a serializer for this action
                columns = []
        if rows and isinstance(rows[0], dict):
            known = set(columns)
            columns += [key for key in rows[0] if key not in known]
        return columns or ["value"]


class FormatNegotiation(DefaultContentNegotiation):
    """An unknown ?format= is a bad request naming the parameter (DRF answers 404), and so is
    an empty one (DRF would ignore it; the document's enum has no empty value)."""

    def select_renderer(self, request, renderers, format_suffix=None):
        if request.query_params.get(self.settings.URL_FORMAT_OVERRIDE) == "":
            offered = ", ".join(r.format for r in renderers)
            raise ValidationError({"format": [f"One of: {offered}."]})
        try:
            return super().select_renderer(request, renderers, format_suffix)
        except Http404:
            offered = ", ".join(r.format for r in renderers)
            raise ValidationError({"format": [f"One of: {offered}."]}) from None
