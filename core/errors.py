"""One error vocabulary for the whole product.

Services raise these; forms show them on their fields, the API turns them into one JSON body
(HTTP 400, 403, 404 or 412), tasks let them fail the task. `ValidationError` is Django's own:
raise it with a dict of field -> messages so every message names its field.
"""

from django.core.exceptions import PermissionDenied, ValidationError

__all__ = [
    "FieldErrors",
    "PermissionDenied",
    "RecordLocked",
    "StaleRecord",
    "ValidationError",
    "field_error",
]


def field_error(field: str, message: str, code: str | None = None) -> ValidationError:
    """A ValidationError on one field: `field_error("grade", "...")`."""
    return ValidationError({field: [ValidationError(message, code=code)]})


class FieldErrors(dict[str, list[str]]):
    """Every problem of one entry, collected field by field, then raised together: a validator
    made of one small check per rule adds to it, and `raise_if_any` refuses the entry with all
    of them."""

    def add(self, field: str, message: str) -> None:
        self.setdefault(field, []).append(message)

    def add_error(self, error: ValidationError) -> None:
        """Every message of a ValidationError raised by a shared check (e.g. a future date)."""
        for field, messages in error.message_dict.items():
            for message in messages:
                self.add(field, message)

    def raise_if_any(self) -> None:
        if self:
            raise ValidationError(dict(self))


class StaleRecord(Exception):
    """An edit was based on a version that someone else has since changed.

    Carries what changed since the editor's version, so the form can show it and the API can
    answer 412 Precondition Failed.
    """

    def __init__(self, *, record, expected_version: int, changes: list[dict]):
        self.record = record
        self.expected_version = expected_version
        self.current_version = record.version
        self.changes = changes
        fields = ", ".join(sorted({c["field"] for c in changes})) or "the record"
        super().__init__(
            f"This record was changed by someone else (version {expected_version} -> "
            f"{record.version}; changed: {fields}). Reload it and apply your edit again."
        )


class RecordLocked(ValidationError):
    """A write to frozen or locked data (a frozen form, a locked subject, a locked study
    database). A ValidationError on "__all__", so a page shows it above the form; the API
    answers 423 Locked (RFC 4918 §11.3)."""

    def __init__(self, message: str):
        super().__init__({"__all__": [ValidationError(message, code="locked")]})
