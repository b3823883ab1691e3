"""Cursor pagination in id order: stable while data changes, one query per page, no COUNT.

Ids never change and never repeat, so a client that follows `next` to the end sees every record
that existed when it started exactly once, however many are added or edited meanwhile (new ones
appear at the end). The next page is also in the `Link` header (RFC 8288), which is where CSV
clients find it.
"""

from rest_framework import pagination
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

MAX_PAGE_SIZE = 1000
MAX_ID = 2**63 - 1


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
        try:
            size = int(raw)
        except ValueError:
            size = 0
        if not 1 <= size <= MAX_PAGE_SIZE:
            raise ValidationError(
                {self.page_size_query_param: [f"A whole number from 1 to {MAX_PAGE_SIZE}."]}
            )
        return size

    def decode_cursor(self, request):
        try:
            cursor = super().decode_cursor(request)
        except Exception:  # DRF answers 404 to a bad cursor; it is a bad request
            cursor = False
        if cursor is not False and (
            cursor is None
            or cursor.position is None
            or (cursor.position.isdigit() and int(cursor.position) <= MAX_ID)
        ):
            return cursor
        raise ValidationError(
            {self.cursor_query_param: ["Not a cursor of this list: follow `next` or `previous`."]}
        )

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
                "schema": {"type": "string"},
            },
            {
                "name": self.page_size_query_param,
                "required": False,
                "in": "query",
                "description": self.page_size_query_description,
                "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE},
            },
        ]
