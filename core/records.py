"""The only write path for clinical records: create, update with a reason, void with a reason.

App services (`subject_enroll`, `dose_record`, `adverse_event_update`, ...) validate the rules of
their own record and then call these, so the audit trail, the version check and signature
invalidation are the same for every record type.
"""

import copy
import functools
import hashlib
import json
import logging
import random
import time
from collections.abc import Callable, Iterable

from django.conf import settings
from django.contrib.auth.signals import user_login_failed
from django.contrib.contenttypes.models import ContentType
from django.core.serializers.json import DjangoJSONEncoder
from django.db import OperationalError, connection, transaction
from django.http import QueryDict
from django.utils import timezone

from .errors import StaleRecord, ValidationError, field_error
from .events import check_writable, record_written
from .models import ClinicalRecord, Signature

REASON_MAX_LENGTH = 2000

log = logging.getLogger(__name__)

# PostgreSQL aborts one transaction of a lock cycle (deadlock_detected) or of a serialization
# conflict (serialization_failure); running it again is the documented remedy (PostgreSQL 15
# manual, 13.2 and Appendix A).
RETRYABLE_SQLSTATES = frozenset({"40P01", "40001"})
RETRY_ATTEMPTS = 4


def is_retryable(error: BaseException) -> bool:
    cause = error.__cause__ or error.__context__
    return getattr(cause, "pgcode", None) in RETRYABLE_SQLSTATES


def retry_on_conflict(func: Callable) -> Callable:
    """Run a write again when PostgreSQL aborted its transaction for a deadlock or a
    serialization conflict. Only the outermost transaction can be run again: called inside
    someone else's transaction, the error goes to that caller. Nothing of an aborted attempt is
    kept (its transaction rolled back, its on-commit work discarded)."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        if connection.in_atomic_block:
            return func(*args, **kwargs)
        for attempt in range(1, RETRY_ATTEMPTS + 1):
            try:
                return func(*args, **kwargs)
            except OperationalError as error:
                if attempt == RETRY_ATTEMPTS or not is_retryable(error):
                    raise
                log.warning(
                    "%s: transaction aborted by the database (%s), attempt %s of %s",
                    func.__qualname__,
                    str(error).splitlines()[0] if str(error) else type(error).__name__,
                    attempt,
                    RETRY_ATTEMPTS,
                )
                # A short random pause so the two sides of a cycle do not meet again at once.
                time.sleep(random.uniform(0.005, 0.03) * attempt)
        raise AssertionError("unreachable")

    return wrapper


def require_reason(reason: str | None, field: str = "reason") -> str:
    reason = (reason or "").strip()
    if not reason:
        raise field_error(
            field, "A reason for the change is required once a record has been entered.", "required"
        )
    if len(reason) > REASON_MAX_LENGTH:
        raise field_error(
            field, f"Keep the reason under {REASON_MAX_LENGTH} characters.", "max_length"
        )
    return reason


def create_record(instance: ClinicalRecord, *, by, reason: str = "Initial entry") -> ClinicalRecord:
    """Validate and insert a new record, with its first history row."""
    with transaction.atomic():
        check_writable(instance)  # frozen and locked data (docs/quality.md §5)
        instance.created_by = by
        instance.full_clean()
        instance._history_user = by
        instance._change_reason = reason
        instance.save()
        record_written(instance, by)
    return instance


def update_record(
    instance: ClinicalRecord,
    *,
    by,
    changes: dict,
    reason: str,
    expected_version: int | None,
    validate: Callable[[ClinicalRecord], None] | None = None,
) -> ClinicalRecord:
    """Apply `changes` to the record, audited, or refuse them all.

    `expected_version` is the version the editor saw; None only for changes the system makes
    itself (e.g. enrollment filling in the subject's cohort). The row is locked for the check,
    so two editors of the same version cannot both win.

    The lock is FOR NO KEY UPDATE, as PostgreSQL takes for an UPDATE that keeps the key: it
    excludes other editors but not the foreign-key checks of rows that point at this record (the
    escalation evaluation's subject DLT status names the DLT adverse event), which a FOR UPDATE
    lock would block, closing a lock cycle with the evaluation (docs/escalation.md §8).
    """
    reason = require_reason(reason)
    model = type(instance)
    with transaction.atomic():
        check_writable(instance)  # frozen and locked data (docs/quality.md §5)
        current = model.all_objects.select_for_update(no_key=True).get(pk=instance.pk)
        if current.voided_at is not None:
            raise field_error(
                "__all__", f"This {model._meta.verbose_name} is voided and cannot be edited."
            )
        if expected_version is not None and current.version != expected_version:
            raise StaleRecord(
                record=current,
                expected_version=expected_version,
                changes=changes_since(current, expected_version),
            )
        unknown = (
            set(changes)
            - {f.name for f in model._meta.concrete_fields}
            - {f.attname for f in model._meta.concrete_fields}
        )
        if unknown:
            raise ValidationError(
                {name: ["This field cannot be changed here."] for name in unknown}
            )
        changed = {
            name: value for name, value in changes.items() if getattr(current, name) != value
        }
        if not changed:
            return current
        for name, value in changed.items():
            setattr(current, name, value)
        if validate is not None:
            validate(current)
        current.full_clean()
        current.version += 1
        current._history_user = by
        current._change_reason = reason
        current.save()
        _invalidate_signatures(current, f"The record changed (version {current.version}): {reason}")
        record_written(current, by)
    return current


def void_record(
    instance: ClinicalRecord, *, by, reason: str, expected_version: int | None = None
) -> ClinicalRecord:
    """Void a record: it leaves every count and rule, and stays on record with who and why."""
    reason = require_reason(reason)
    model = type(instance)
    with transaction.atomic():
        check_writable(instance)  # frozen and locked data (docs/quality.md §5)
        # FOR NO KEY UPDATE: see update_record.
        current = model.all_objects.select_for_update(no_key=True).get(pk=instance.pk)
        if current.voided_at is not None:
            raise field_error("__all__", f"This {model._meta.verbose_name} is already voided.")
        if expected_version is not None and current.version != expected_version:
            raise StaleRecord(
                record=current,
                expected_version=expected_version,
                changes=changes_since(current, expected_version),
            )
        current.voided_at = timezone.now()
        current.voided_by = by
        current.void_reason = reason
        current.version += 1
        current._history_user = by
        current._change_reason = f"Voided: {reason}"
        current.save()
        _invalidate_signatures(current, f"The record was voided: {reason}")
        record_written(current, by)
    return current


def record_digest(instance) -> str:
    """SHA-256 of the record's field values: what a signature is bound to."""
    data = {f.attname: getattr(instance, f.attname) for f in instance._meta.concrete_fields}
    data.pop("updated_at", None)
    payload = json.dumps(data, cls=DjangoJSONEncoder, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()


def sign_record(instance, *, by, password: str, meaning: str, request=None) -> Signature:
    """Sign the current version of a record. Signing asks for the password again (21 CFR 11.200).

    `request`: the page's request when a signed-in user signs; see `check_signing_password`.
    """
    check_signing_password(by, password, request=request)
    printed_name = by.get_full_name().strip() or by.get_username()
    signature = Signature(
        signer=by,
        printed_name=printed_name,
        meaning=meaning,
        signed_at=timezone.now(),
        content_type=ContentType.objects.get_for_model(instance),
        object_id=instance.pk,
        record_version=getattr(instance, "version", 1),
        record_digest=record_digest(instance),
    )
    signature.full_clean()
    signature._history_user = by
    signature._change_reason = f"Signed: {meaning}"
    signature.save()
    return signature


def check_signing_password(by, password: str, *, request=None) -> None:
    """The signer's password, asked again to sign (21 CFR 11.200); a field error on `password`.

    With the request (a page where a signed-in user signs), guessing at the signing prompt counts
    as guessing at the sign-in page (21 CFR 11.300(d)): a wrong password is recorded as a failed
    sign-in for the account lockout (django-axes), and a locked account cannot sign. The failure
    is written at once, so call this outside any transaction the refusal rolls back (the
    committee checks it before its transaction opens). Without a request (tasks, tests) only the
    password is checked.
    """
    lockout = _lockout_request(request) if request is not None else None
    credentials = {"username": by.get_username()}
    if lockout is not None and _locked_out(lockout, credentials):
        raise field_error("password", _locked_message(), "locked")
    if password and by.check_password(password):
        return
    message = "The password is not correct; nothing was signed."
    if lockout is not None:
        user_login_failed.send(sender=__name__, credentials=credentials, request=lockout)
        if _locked_out(lockout, credentials):
            message += " " + _locked_message(now=True)
    raise field_error("password", message, "invalid")


def _lockout_request(request):
    """The request as the lockout records see it: without its form data, because django-axes
    stores a failure's POST data and masks only a field named "password" (the signing forms name
    theirs otherwise), and without axes' marks, which would turn the page's own answer (the
    refusal shown on the form) into the bare lockout page."""
    lockout = copy.copy(request)
    for name in [name for name in vars(lockout) if name.startswith("axes_")]:
        delattr(lockout, name)
    lockout.POST = QueryDict()
    return lockout


def _locked_out(request, credentials: dict) -> bool:
    if not getattr(settings, "AXES_ENABLED", False):
        return False
    from axes.handlers.proxy import AxesProxyHandler

    return AxesProxyHandler.is_locked(request, credentials)


def _locked_message(*, now: bool = False) -> str:
    cooloff = settings.AXES_COOLOFF_TIME
    until = f"for {int(cooloff.total_seconds() // 60)} minutes or " if cooloff else ""
    return (
        f"Your account is {'now ' if now else ''}locked after {settings.AXES_FAILURE_LIMIT} wrong "
        f"passwords (at sign-in or when signing): signing and signing in are refused {until}"
        f"until an administrator unlocks it.{'' if now else ' Nothing was signed.'}"
    )


def _invalidate_signatures(instance, reason: str) -> None:
    content_type = ContentType.objects.get_for_model(instance)
    for signature in Signature.objects.filter(
        content_type=content_type, object_id=instance.pk, invalidated_at__isnull=True
    ):
        signature.invalidated_at = timezone.now()
        signature.invalidation_reason = reason
        signature._change_reason = reason
        signature.save()


def changes_since(instance: ClinicalRecord, version: int) -> list[dict]:
    """Field changes between the editor's version and the current one (for a stale edit)."""
    rows = list(
        instance.history.filter(version__in=[version, instance.version]).order_by("history_id")
    )
    old = next((r for r in rows if r.version == version), None)
    new = next((r for r in reversed(rows) if r.version == instance.version), None)
    if old is None or new is None:
        return []
    delta = new.diff_against(old, excluded_fields=["updated_at"])
    return [{"field": c.field, "old": c.old, "new": c.new} for c in delta.changes]


def history_entries(instance: ClinicalRecord) -> list[dict]:
    """The record's change history, oldest first: who, when (UTC), what (old -> new), why."""
    return history_for_rows(instance.history.select_related("history_user").order_by("history_id"))


def history_for_rows(rows: Iterable) -> list[dict]:
    entries = []
    previous_by_record: dict = {}
    for row in rows:
        previous = previous_by_record.get(row.id)
        changes = []
        if previous is not None:
            delta = row.diff_against(previous, excluded_fields=["updated_at"])
            changes = [{"field": c.field, "old": c.old, "new": c.new} for c in delta.changes]
        # The record's version (its ETag's counter); a derived row's `version` names the rules
        # that made it instead (NcaAnalysis.version): that one is a change like any other field.
        version = getattr(row, "version", None)
        entries.append(
            {
                "record_id": row.id,
                "version": version if isinstance(version, int) else None,
                "type": {"+": "created", "~": "changed", "-": "deleted"}[row.history_type],
                "at": row.history_date,
                "user": row.history_user,
                "reason": row.history_change_reason or "",
                "changes": changes,
            }
        )
        previous_by_record[row.id] = row
    return entries
