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
from functools import cache

from accounts.scoping import restrict
from core.history import describe_changes
from core.records import history_for_rows
from dosing.models import DoseAdministration
from safety.models import AdverseEvent
from subjects.models import Subject

from .models import FORM_LABELS, CasebookSignature, Freeze, Query, SubjectLock, Verification
from .services import FORM_MODELS, _subject_path, casebook_models


@dataclass(frozen=True)
class Source:
    """A history table of the report: its form key (the filter), its label, the model, and how a
    history row names its subject: a field holding the subject's id, or (for a record below
    another, e.g. a lesion observation below its assessment) the field holding its parent's id
    and the parent model, whose rows name the subject."""

    key: str
    label: str
    model: type
    subject_field: str
    parent: type | None = None


def _casebook_sources() -> list[Source]:
    """Every other form of the casebook (docs/quality.md §8): visits and their forms, tumour
    assessments and lesions, samples and laboratory results."""
    keys = {model: key for key, model in FORM_MODELS.items()}
    out = []
    for model in casebook_models():
        if model in (DoseAdministration, AdverseEvent):
            continue
        key = keys.get(model, model._meta.model_name)
        label = FORM_LABELS.get(key) or str(model._meta.verbose_name)
        path = (_subject_path(model) or "").split("__")
        if len(path) == 1:
            out.append(Source(key, label[:1].upper() + label[1:], model, "subject_id"))
        else:  # one hop: "assessment__subject", "sample__subject"
            parent = model._meta.get_field(path[0]).related_model
            out.append(Source(key, label[:1].upper() + label[1:], model, f"{path[0]}_id", parent))
    return out


@cache
def sources() -> tuple[Source, ...]:
    return (
        Source("subject", "Subject", Subject, "id"),
        Source("dose", "Dose administration", DoseAdministration, "subject_id"),
        Source("adverse_event", "Adverse event", AdverseEvent, "subject_id"),
        *_casebook_sources(),
        Source("query", "Query", Query, "subject_id"),
        Source("verification", "Source data verification", Verification, "subject_id"),
        Source("signature", "Casebook signature", CasebookSignature, "subject_id"),
        Source("freeze", "Form freeze", Freeze, "subject_id"),
        Source("subject_lock", "Subject lock", SubjectLock, "subject_id"),
    )


def forms() -> list[tuple[str, str]]:
    """The form filter's choices: (key, label)."""
    return [(source.key, source.label) for source in sources()]


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
    for source in sources():
        if filters.form and filters.form != source.key:
            continue
        entries.extend(_entries(source, labels, filters))
    entries.sort(key=lambda e: e.at, reverse=True)
    return entries


def _entries(source: Source, labels: dict[int, str], filters: AuditFilters) -> list[AuditEntry]:
    """One history table's entries for these subjects: one query (two below a parent)."""
    if source.parent is None:
        subject_of = None
        lookup = {f"{source.subject_field}__in": list(labels)}
    else:
        subject_of = dict(
            source.parent.all_objects.filter(subject_id__in=list(labels)).values_list(
                "pk", "subject_id"
            )
        )
        lookup = {f"{source.subject_field}__in": list(subject_of)}
    rows = (
        source.model.history.filter(**lookup).select_related("history_user").order_by("history_id")
    )
    out = []
    for row, entry in zip(rows, history_for_rows(rows), strict=True):
        name = entry["user"].get_username() if entry["user"] is not None else "system"
        if filters.username and name != filters.username:
            continue
        day = entry["at"].date()
        if filters.date_from and day < filters.date_from:
            continue
        if filters.date_to and day > filters.date_to:
            continue
        subject_id = getattr(row, source.subject_field)
        if subject_of is not None:
            subject_id = subject_of.get(subject_id)
        out.append(
            AuditEntry(
                at=entry["at"],
                user=name,
                form=source.label,
                record_id=entry["record_id"],
                subject=labels.get(subject_id, ""),
                action=entry["type"],
                version=entry["version"],
                reason=entry["reason"],
                changes=describe_changes(source.model, entry["changes"]),
            )
        )
    return out


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
