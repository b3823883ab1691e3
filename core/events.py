"""Explicit events that services announce, for work that belongs to a higher layer.

A subject's, dose's or adverse event's service calls `clinical_data_changed(...)` inside its
transaction; the escalation app (which depends on all the clinical apps, never the reverse)
subscribes in its AppConfig.ready to record that the subject's track needs evaluation and to
enqueue that evaluation on commit. The call sits in the service, in plain sight, rather than in
a model signal.
"""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class ClinicalDataChanged:
    subject_id: int
    record: str  # "subject", "dose", "adverse_event"
    record_id: int
    action: str  # "created", "updated", "voided"
    by_id: int | None = None


_subscribers: list[Callable[[ClinicalDataChanged], None]] = []


def subscribe(handler: Callable[[ClinicalDataChanged], None]) -> None:
    if handler not in _subscribers:
        _subscribers.append(handler)


def clinical_data_changed(
    *, subject_id: int, record: str, record_id: int, action: str, by=None
) -> None:
    event = ClinicalDataChanged(
        subject_id=subject_id,
        record=record,
        record_id=record_id,
        action=action,
        by_id=getattr(by, "pk", None),
    )
    for handler in list(_subscribers):
        handler(event)


# Write guards: called by core.records before every create, correction and void of a clinical
# record, inside its transaction; a guard raises (core.errors.RecordLocked) to refuse the write.
# The quality app registers the one guard for frozen forms and locked subjects and studies
# (docs/quality.md §5), so the check sits in one place whatever service writes.
_write_guards: list[Callable[[object], None]] = []


def guard_writes(guard: Callable[[object], None]) -> None:
    if guard not in _write_guards:
        _write_guards.append(guard)


def check_writable(instance: object) -> None:
    for guard in list(_write_guards):
        guard(instance)


# Study write guards: called by the writes that belong to a study rather than to one subject's
# casebook and so do not pass core.records (the Safety Review Committee's decisions, the
# recommendations an evaluation stores), inside their transaction, with the study's id. The
# quality app registers the check of a locked study database (docs/quality.md §5): read-only
# for everyone, so a guard raises core.errors.RecordLocked.
_study_guards: list[Callable[[int], None]] = []


def guard_study_writes(guard: Callable[[int], None]) -> None:
    if guard not in _study_guards:
        _study_guards.append(guard)


def check_study_writable(study_id: int) -> None:
    for guard in list(_study_guards):
        guard(study_id)


# After-write hooks: called by core.records after every create, correction and void of a clinical
# record, inside its transaction, with the record and the user. The quality app clears the
# source data verification and invalidates the casebook signature the change touches
# (docs/quality.md §3-4), whichever form was written.
_after_write: list[Callable[[object, object], None]] = []


def after_write(handler: Callable[[object, object], None]) -> None:
    if handler not in _after_write:
        _after_write.append(handler)


def record_written(instance: object, by: object) -> None:
    for handler in list(_after_write):
        handler(instance, by)
