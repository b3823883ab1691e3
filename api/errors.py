"""One error body for every API failure, whatever raised it:

    {"error": {"status": 400, "code": "invalid", "message": "grade: ...",
               "fields": {"grade": ["CTCAE v5.0 defines no grade 5 for ..."]}}}

Services raise Django's ValidationError (by field), PermissionDenied or core.errors.StaleRecord;
DRF raises its own exceptions (authentication, throttling, parsing). All of them are turned into
this shape here, once. A stale edit (412) also says which version is current and what changed;
a throttled request (429) says when to retry.
"""

import json
import logging
import math

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.http import Http404, JsonResponse
from rest_framework import exceptions, serializers
from rest_framework.response import Response
from rest_framework.views import set_rollback

from core.errors import RecordLocked, StaleRecord

from .concurrency import PreconditionFailed, etag_for

logger = logging.getLogger("api")

NON_FIELD = "non_field_errors"


def _flatten(detail) -> dict[str, list[str]]:
    """DRF or Django error detail (nested dicts/lists) -> {"field" or "field.sub": [messages]}."""
    fields: dict[str, list[str]] = {}

    def walk(value, key: str | None) -> None:
        if isinstance(value, dict):
            for name, sub in value.items():
                if isinstance(name, int) and key is not None:
                    # A list's items (DRF keys them by index): "lesions[0].size_mm", as the
                    # services name them.
                    walk(sub, f"{key}[{name}]")
                    continue
                name = NON_FIELD if name in ("__all__", NON_FIELD) else str(name)
                walk(sub, name if key is None or name == NON_FIELD else f"{key}.{name}")
        elif isinstance(value, list | tuple):
            for index, item in enumerate(value):
                if isinstance(item, dict | list | tuple):
                    walk(item, f"{key or NON_FIELD}[{index}]")
                else:
                    fields.setdefault(key or NON_FIELD, []).append(str(item))
        else:
            fields.setdefault(key or NON_FIELD, []).append(str(value))

    walk(detail, None)
    return fields


def _summary(fields: dict[str, list[str]]) -> str:
    parts = []
    for name, messages in fields.items():
        for message in messages:
            parts.append(message if name == NON_FIELD else f"{name}: {message}")
    return " ".join(parts[:5]) or "The request is not valid."


def error_body(
    status_code: int, code: str, message: str, *, fields=None, **extra
) -> dict[str, dict]:
    error = {"status": status_code, "code": code, "message": message}
    if fields:
        error["fields"] = fields
    error.update({k: v for k, v in extra.items() if v is not None})
    return {"error": error}


def exception_handler(exc, context):
    """REST_FRAMEWORK["EXCEPTION_HANDLER"]: every exception a view raises, in one shape."""
    headers: dict[str, str] = {}
    extra: dict = {}
    fields = None

    if isinstance(exc, RecordLocked):
        # Frozen or locked data: 423 Locked (RFC 4918 §11.3), docs/quality.md §5.
        fields = _flatten(exc.message_dict)
        status_code, code, message = 423, "locked", _summary(fields)
    elif isinstance(exc, DjangoValidationError):
        fields = _flatten(
            exc.message_dict if hasattr(exc, "error_dict") else {NON_FIELD: exc.messages}
        )
        status_code, code, message = 400, "invalid", _summary(fields)
    elif isinstance(exc, StaleRecord):
        status_code, code, message = 412, "stale_record", str(exc)
        headers["ETag"] = etag_for(exc.record)
        extra = {
            "current_version": exc.current_version,
            "changes": _jsonable(exc.changes),
        }
    elif isinstance(exc, DjangoPermissionDenied):
        status_code, code = 403, "permission_denied"
        message = str(exc) or exceptions.PermissionDenied.default_detail
    elif isinstance(exc, Http404):
        status_code, code, message = 404, "not_found", "Not found."
    elif isinstance(exc, RequestDataTooBig):
        # A client error, not a defect: the body is over DATA_UPLOAD_MAX_MEMORY_SIZE.
        status_code, code = 413, "payload_too_large"
        message = (
            f"The request body is larger than {settings.DATA_UPLOAD_MAX_MEMORY_SIZE:,} bytes; "
            "nothing was saved."
        )
    elif isinstance(exc, exceptions.APIException):
        status_code = exc.status_code
        code = getattr(exc, "default_code", "error")
        detail = exc.detail
        if isinstance(exc, exceptions.ValidationError):
            fields = _flatten(detail if isinstance(detail, dict) else {NON_FIELD: detail})
            code, message = "invalid", _summary(fields)
        else:
            message = str(detail)
        if getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = exc.auth_header
        if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
            wait = max(1, math.ceil(exc.wait))
            headers["Retry-After"] = str(wait)
            extra["retry_after"] = wait
        if isinstance(exc, PreconditionFailed) and exc.record is not None:
            headers["ETag"] = etag_for(exc.record)
            extra = {"current_version": exc.record.version, "changes": _jsonable(exc.changes)}
    else:
        # A defect, not a refusal: log it with its traceback, answer in the same shape.
        request = context.get("request")
        logger.exception(
            "Unhandled error in %s %s",
            getattr(request, "method", "?"),
            getattr(request, "path", "?"),
        )
        status_code, code = 500, "server_error"
        message = "The server could not complete the request; nothing was saved in part."

    set_rollback()
    return Response(
        error_body(status_code, code, message, fields=fields, **extra),
        status=status_code,
        headers=headers,
    )


def _jsonable(changes: list[dict]) -> list[dict]:
    """Old and new values as plain JSON (dates as ISO strings, decimals as strings)."""
    return json.loads(json.dumps(changes, cls=DjangoJSONEncoder))


def json_error(status_code: int, code: str, message: str) -> JsonResponse:
    """The same body for responses made outside DRF views (unknown /api/ paths)."""
    return JsonResponse(error_body(status_code, code, message), status=status_code)


# --- The error body as a schema component, for every operation in the OpenAPI document. ---


class FieldChangeSerializer(serializers.Serializer):
    field = serializers.CharField()
    old = serializers.JSONField(allow_null=True)
    new = serializers.JSONField(allow_null=True)


class ErrorDetailSerializer(serializers.Serializer):
    status = serializers.IntegerField(help_text="The HTTP status, repeated.")
    code = serializers.CharField(
        help_text="Stable machine-readable reason: invalid, parse_error, not_authenticated, "
        "authentication_failed, permission_denied, not_found, method_not_allowed, "
        "not_acceptable, payload_too_large, unsupported_media_type, precondition_failed, "
        "stale_record, precondition_required, locked, throttled, server_error."
    )
    message = serializers.CharField(help_text="For people: what went wrong and what to do.")
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="400 only: messages by field name ('non_field_errors' for the whole request).",
    )
    current_version = serializers.IntegerField(
        required=False, help_text="412 only: the record's current version."
    )
    changes = FieldChangeSerializer(
        many=True,
        required=False,
        help_text="412 only: what changed since the version the client sent.",
    )
    retry_after = serializers.IntegerField(
        required=False, help_text="429 only: seconds to wait (also in Retry-After)."
    )


class ErrorSerializer(serializers.Serializer):
    error = ErrorDetailSerializer()
