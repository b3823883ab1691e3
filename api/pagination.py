"""Cursor pagination in id order: stable while data changes, one query per page, no COUNT.

Ids never change and never repeat, so a client that follows `next` to the end sees every record
that existed when it started exactly once, however many are added or edited meanwhile (new ones
appear at the end). The next page is also in the `Link` header (RFC 8288), which is where CSV
clients find it.

A cursor is written in the open: "<id>" continues after that id, "r<id>" goes back before it.
Ids are unique, so DRF's cursor offset is always 0 when it starts from 0, and no offset is ever
read from a client. Its exact form is in the OpenAPI document (`CURSOR_PATTERN`), and anything
else is a 400 naming the parameter, never "the first page".
"""

import re

from rest_framework import pagination
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

MAX_PAGE_SIZE = 1000
MAX_ID = 2**63 - 1
CURSOR_PATTERN = r"^r?[0-9]{1,19}$"
_CURSOR = re.compile(r"(r?)([0-9]{1,19})", re.ASCII)


class IdCursorPagination(pagination.CursorPagination):
    ordering = ("id",)
    page_size = 100
    page_size_query_param = "page_size"
    page_size_query_description = f"Records per page: 1 to {MAX_PAGE_SIZE} (default 100)."
    max_page_size = MAX_PAGE_SIZE
    cursor_query_description = "The position to continue from: take it from `next` or `previous`."

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        # ASCII digits only: int() would also read other scripts' digits ("١٠").
        size = int(raw) if raw.isascii() and raw.isdigit() else 0
        if not 1 <= size <= MAX_PAGE_SIZE:
            raise ValidationError(
                {self.page_size_query_param: [f"A whole number from 1 to {MAX_PAGE_SIZE}."]}
            )
        return size

    def decode_cursor(self, request):
        encoded = request.query_params.get(self.cursor_query_param)
        if encoded is None:
            return None
        match = _CURSOR.fullmatch(encoded)
        if match is None:
            raise ValidationError(
                {
                    self.cursor_query_param: [
                        "Not a cursor of this list: follow `next` or `previous`."
                    ]
                }
            )
        reverse, position = match.groups()
        # No id is above MAX_ID: a larger position selects what MAX_ID selects.
        position = str(min(int(position), MAX_ID))
        return pagination.Cursor(offset=0, reverse=bool(reverse), position=position)

    def encode_cursor(self, cursor):
        text = f"{'r' if cursor.reverse else ''}{cursor.position}"
        if cursor.offset or _CURSOR.fullmatch(text) is None:
            # Unique positions and offsets that start at 0: DRF never builds such a cursor.
            raise ValueError(f"cursor {cursor} cannot be written for an id-ordered list")
        return replace_query_param(self.base_url, self.cursor_query_param, text)

    def get_paginated_response(self, data):
        next_link, previous_link = self.get_next_link(), self.get_previous_link()
        links = [
            f'<{u}>; rel="{r}"' for u, r in ((next_link, "next"), (previous_link, "prev")) if u
        ]
        headers = {"Link": ", ".join(links)} if links else {}
        return Response(
            {"next": next_link, "previous": previous_link, "results": data}, headers=headers
        )

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": ["next", "previous", "results"],
            "properties": {
                "next": {"type": "string", "format": "uri", "nullable": True},
                "previous": {"type": "string", "format": "uri", "nullable": True},
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": self.cursor_query_param,
                "required": False,
                "in": "query",
                "description": self.cursor_query_description,
                "schema": {"type": "string", "pattern": CURSOR_PATTERN},
            },
            {
                "name": self.page_size_query_param,
                "required": False,
                "in": "query",
                "description": self.page_size_query_description,
                "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE},
            },
        ]
