"""Optimistic concurrency over HTTP: ETag out, If-Match in (RFC 9110 sections 8.8.3, 13.1.1).

A record's ETag is a strong validator made of its id and version ("42.3"): every change raises
the version, so the ETag changes with every change. Every write to an existing record must send
the ETag it was based on in If-Match. Missing: 428. Not the current version: 412, with what has
changed since and the current ETag, so the client can show it and try again. `*` is refused
(428): it would skip exactly the check If-Match exists for. The services check the version again
under a row lock, so two clients holding the same ETag cannot both win.
"""

import re

from rest_framework import exceptions, status

from core.errors import StaleRecord
from core.records import changes_since


class PreconditionRequired(exceptions.APIException):
    status_code = 428
    default_code = "precondition_required"
    default_detail = (
        "Send the record's ETag in an If-Match header (GET the record first), so that an edit "
        "based on an old version is refused instead of overwriting someone else's change."
    )


class PreconditionFailed(exceptions.APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_code = "precondition_failed"
    default_detail = "The If-Match header does not name the current version of this record."

    def __init__(self, detail=None, *, record=None, changes=None):
        super().__init__(detail)
        self.record = record
        self.changes = changes or []


_ENTITY_TAG = re.compile(r'^"([0-9]{1,19})\.([0-9]{1,10})"$')


def etag_for(record) -> str:
    return f'"{record.pk}.{record.version}"'


def expected_version(request, record) -> int:
    """The version the client's If-Match names for `record`; raises 428 or 412 otherwise."""
    header = request.headers.get("If-Match", "").strip()
    if not header:
        raise PreconditionRequired()
    tags = [tag.strip() for tag in header.split(",") if tag.strip()]
    if "*" in tags:
        raise PreconditionRequired(
            "If-Match: * is not accepted here: send the ETag of the version you edited."
        )
    for tag in tags:
        match = _ENTITY_TAG.match(tag)  # weak validators (W/"...") never match: RFC 9110
        if match and int(match.group(1)) == record.pk:
            version = int(match.group(2))
            if version != record.version:
                raise StaleRecord(
                    record=record,
                    expected_version=version,
                    changes=changes_since(record, version),
                )
            return version
    raise PreconditionFailed(record=record)
