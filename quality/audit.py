"""The audit trail report (docs/quality.md §8): every create, change and void of a subject's or
the study's casebook records, and every step of their queries, verifications, signatures,
freezes and locks, as one list in time order, filterable by user, form and date; a page and a CSV
export (a 21 CFR Part 11 inspection request).

The rows are the simple-history tables; one query per table whatever the number of rows. The
differences are computed between consecutive rows of each record before the filters apply, so
a filtered list still shows each entry's real old and new values.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from accounts.scoping import restrict
from core.history import describe_changes
from core.records import history_for_rows
from dosing.models import DoseAdministration
from safety.models import AdverseEvent
from subjects.models import Subject

from .models import CasebookSignature, Freeze, Query, SubjectLock, Verification

# (form key, label, model, the history row's field naming the subject)
SOURCES = (
    ("subject", "Subject", Subject, "id"),
    ("dose", "Dose administration", DoseAdministration, "subject_id"),
    ("adverse_event", "Adverse event", AdverseEvent, "subject_id"),
    ("query", "Query", Query, "subject_id"),
    ("verification", "Source data verification", Verification, "subject_id"),
    ("signature", "Casebook signature", CasebookSignature, "subject_id"),
    ("freeze", "Form freeze", Freeze, "subject_id"),
    ("subject_lock", "Subject lock", SubjectLock, "subject_id"),
)
FORMS = [(key, label) for key, label, _, _ in SOURCES]


@dataclass(frozen=True)
class AuditFilters:
    subject_id: int | None = None
    username: str = ""
    form: str = ""
    date_from: date | None = None
    date_to: date | None = None


@dataclass
class AuditEntry:
    at: object
    user: str
    form: str
    record_id: int
    subject: str
    action: str
    version: int | None
    reason: str
    changes: list[dict]


def audit_trail(user, study, filters: AuditFilters) -> list[AuditEntry]:
    """The audit trail of the study's subjects the user may see, newest first."""
    subjects = restrict(Subject.all_objects.filter(study=study), user)
    if filters.subject_id is not None:
        subjects = subjects.filter(pk=filters.subject_id)
    labels = {
        pk: number or f"Screening {screening}"
        for pk, number, screening in subjects.values_list(
            "pk", "subject_number", "screening_number"
        )
    }
    entries: list[AuditEntry] = []
    for key, label, model, subject_field in SOURCES:
        if filters.form and filters.form != key:
            continue
        rows = (
            model.history.filter(**{f"{subject_field}__in": list(labels)})
            .select_related("history_user")
            .order_by("history_id")
        )
        for row, entry in zip(rows, history_for_rows(rows), strict=True):
            name = entry["user"].get_username() if entry["user"] is not None else "system"
            if filters.username and name != filters.username:
                continue
            day = entry["at"].date()
            if filters.date_from and day < filters.date_from:
                continue
            if filters.date_to and day > filters.date_to:
                continue
            entries.append(
                AuditEntry(
                    at=entry["at"],
                    user=name,
                    form=label,
                    record_id=entry["record_id"],
                    subject=labels.get(getattr(row, subject_field), ""),
                    action=entry["type"],
                    version=entry["version"],
                    reason=entry["reason"],
                    changes=describe_changes(model, entry["changes"]),
                )
            )
    entries.sort(key=lambda e: e.at, reverse=True)
    return entries


CSV_HEADER = (
    "time (UTC)",
    "user",
    "form",
    "record",
    "subject",
    "action",
    "version",
    "reason",
    "changes",
)


def csv_rows(entries: list[AuditEntry]):
    for e in entries:
        yield (
            f"{e.at:%Y-%m-%d %H:%M:%S}",
            e.user,
            e.form,
            e.record_id,
            e.subject,
            e.action,
            e.version if e.version is not None else "",
            e.reason,
            "; ".join(f"{c['field']}: {c['old']} -> {c['new']}" for c in e.changes),
        )
