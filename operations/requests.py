"""A request id for every request, in its response header and on every log line written while
it is served, and carried into the Celery tasks it queues (docs/operations.md §4).

An incoming `X-Request-ID` made of letters, digits, `-` and `_` (up to 64) is kept, so a proxy's
id follows the request through; anything else is replaced by a new one.
"""

import logging
import re
import time
import uuid
from contextvars import ContextVar

request_id: ContextVar[str] = ContextVar("request_id", default="")

HEADER = "X-Request-ID"
VALID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")

access_log = logging.getLogger("edc.request")


def new_id() -> str:
    return uuid.uuid4().hex


class RequestIdFilter(logging.Filter):
    """Puts the current request id on every record (empty outside a request or task)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        return True


class RequestIdMiddleware:
    """First in MIDDLEWARE: sets the request id, answers it in `X-Request-ID`, and writes one
    access line per request (method, path, status, duration, user id)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get(HEADER, "")
        rid = incoming if VALID.match(incoming) else new_id()
        token = request_id.set(rid)
        request.request_id = rid
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            response[HEADER] = rid
            user = getattr(request, "user", None)
            access_log.info(
                "%s %s %s",
                request.method,
                request.path,
                response.status_code,
                extra={
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                    "user_id": getattr(user, "pk", None),
                },
            )
            return response
        finally:
            request_id.reset(token)
