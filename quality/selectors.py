"""Every read of data quality and sign-off, scoped to the user through accounts.scoping
(docs/quality.md). Reports run a fixed number of queries whatever the number of rows."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date

from django.db.models import Exists, OuterRef, Prefetch
from django.utils import timezone

from accounts.roles import Capability
from accounts.scoping import can, restrict
from dosing.models import DoseAdministration
from efficacy.models import Lesion
from safety.models import AdverseEvent
from subjects.models import Subject
from trial.models import Site, Study
from visits.models import LabResult

from .models import (
    FORM_LABELS,
    CasebookSignature,
    Freeze,
    Query,
    QueryMessage,
    StudyLock,
    SubjectLock,
    Verification,
)
from .services import FORM_MODELS, current_casebook_signature, settings_for

# Days open -> the report's columns (docs/quality.md §2).
AGE_BUCKETS = (
    ("0-7 days", 0, 7),
    ("8-14 days", 8, 14),
    ("15-30 days", 15, 30),
    ("over 30 days", 31, None),
)

BOOKKEEPING = {
    "id",
    "version",
    "created_at",
    "created_by",
    "updated_at",
    "voided_at",
    "voided_by",
    "void_reason",
    "study",
    "site",
    "subject",
    "cohort",
    "planned_dose_level",
    "eligibility_answers",
}


def user_studies(user):
    return restrict(Study.objects.all(), user).order_by("protocol_number")


def study_for(user, study_id: int | None = None) -> Study | None:
    studies = user_studies(user)
    if study_id is not None:
        return studies.filter(pk=study_id).first()
    return studies.first()


def subject_for(user, pk: int) -> Subject:
    """The subject if the user may see it (Subject.DoesNotExist otherwise: a 404)."""
    return restrict(Subject.all_objects.select_related("study", "site"), user).get(pk=pk)


def query_for(user, pk: int) -> Query:
    return restrict(Query.objects.select_related("subject", "site", "study"), user).get(pk=pk)


def age_in_days(opened_at, today: date) -> int:
    return (today - opened_at.date()).days


def age_bucket(days: int) -> str:
    for label, low, high in AGE_BUCKETS:
        if days >= low and (high is None or days <= high):
            return label
    return AGE_BUCKETS[-1][0]


# --- One subject ----------------------------------------------------------------------------


@dataclass
class FieldRow:
    name: str
    label: str
    value: object
    queries: list[Query] = field(default_factory=list)
    verification: Verification | None = None


@dataclass
class FormRecord:
    form: str
    record: object
    label: str
    fields: list[FieldRow]
    form_queries: list[Query]
    verification: Verification | None
    freeze: Freeze | None

    @property
    def record_id(self) -> int:
        return self.record.pk

    @property
    def open_queries(self) -> int:
        return sum(1 for q in self.all_queries if q.is_unresolved)

    @property
    def all_queries(self) -> list[Query]:
        return self.form_queries + [q for f in self.fields for q in f.queries]


@dataclass
class SubjectQuality:
    subject: Subject
    records: list[FormRecord]
    signature: CasebookSignature | None
    lock: SubjectLock | None
    study_lock: StudyLock | None
    sdv_forms: list[str]
    may: dict[str, bool]

    @property
    def unresolved(self) -> int:
        return sum(r.open_queries for r in self.records)


def _fields(record) -> list[tuple[str, str, object]]:
    rows = []
    for f in record._meta.concrete_fields:
        if f.name in BOOKKEEPING or not f.editable:
            continue  # derived values (a lab result's grade) are not entered, nor queried
        value = getattr(record, f"get_{f.name}_display")() if f.choices else getattr(record, f.name)
        rows.append((f.name, str(f.verbose_name).capitalize(), value))
    return rows


def subject_quality(user, subject: Subject) -> SubjectQuality:
    """The subject's forms with their fields, each field's queries and verification, the form's
    freeze, the casebook's signature and lock: what the subject's quality page shows."""
    records: list[tuple[str, object, str]] = [("subject", subject, f"Subject {subject}")]
    for dose in DoseAdministration.objects.filter(subject=subject).order_by(
        "administered_on", "pk"
    ):
        records.append(
            ("dose", dose, f"Dose C{dose.cycle}D{dose.day} ({dose.administered_on:%Y-%m-%d})")
        )
    for ae in (
        AdverseEvent.objects.filter(subject=subject)
        .select_related("ctcae_term")
        .order_by("onset_date", "pk")
    ):
        records.append(
            ("adverse_event", ae, f"Adverse event {ae.ctcae_term.term} ({ae.onset_date:%Y-%m-%d})")
        )
    for lab in (
        LabResult.objects.filter(subject=subject)
        .select_related("visit__subject", "adverse_event")
        .order_by("sampled_on", "test", "pk")
    ):
        records.append(
            (
                "lab_result",
                lab,
                f"Lab result {lab.test} ({lab.sampled_on:%Y-%m-%d}, {lab.visit.code})",
            )
        )
    for lesion in (
        Lesion.objects.filter(subject=subject).select_related("first_seen").order_by("pk")
    ):
        records.append(
            (
                "lesion",
                lesion,
                f"Lesion {lesion.code} ({lesion.get_role_display().lower()}, {lesion.organ})",
            )
        )
    queries = defaultdict(list)
    for query in (
        Query.objects.filter(subject=subject)
        .select_related("opened_by", "closed_by")
        .prefetch_related(Prefetch("messages", QueryMessage.objects.select_related("by")))
    ):
        queries[(query.form, query.record_id, query.field)].append(query)
    verified = {
        (v.form, v.record_id, v.field): v
        for v in Verification.objects.filter(
            subject=subject, cleared_at__isnull=True
        ).select_related("verified_by")
    }
    frozen = {
        (f.form, f.record_id): f
        for f in Freeze.objects.filter(subject=subject, unfrozen_at__isnull=True)
    }
    rows = []
    for form, record, label in records:
        fields = [
            FieldRow(
                name,
                flabel,
                value,
                queries.get((form, record.pk, name), []),
                verified.get((form, record.pk, name)),
            )
            for name, flabel, value in _fields(record)
        ]
        rows.append(
            FormRecord(
                form,
                record,
                label,
                fields,
                queries.get((form, record.pk, ""), []),
                verified.get((form, record.pk, "")),
                frozen.get((form, record.pk)),
            )
        )
    site = dict(study_id=subject.study_id, site_id=subject.site_id)
    return SubjectQuality(
        subject=subject,
        records=rows,
        signature=current_casebook_signature(subject),
        lock=SubjectLock.objects.filter(subject=subject, unlocked_at__isnull=True).first(),
        study_lock=StudyLock.objects.filter(
            study_id=subject.study_id, unlocked_at__isnull=True
        ).first(),
        sdv_forms=list(settings_for(subject.study).sdv_forms),
        may={
            "manage": can(user, Capability.MANAGE_QUERIES, **site),
            "answer": can(user, Capability.ANSWER_QUERIES, **site),
            "verify": can(user, Capability.VERIFY_SOURCE, **site),
            "sign": can(user, Capability.SIGN_CASEBOOK, **site),
            "lock": can(user, Capability.LOCK_DATA, **site),
        },
    )


def subject_summary(user, subject: Subject) -> dict:
    """The casebook's one-line quality summary: unresolved queries, signature, lock."""
    return {
        "unresolved": restrict(Query.objects.filter(subject=subject), user)
        .exclude(status=Query.Status.CLOSED)
        .count(),
        "signature": current_casebook_signature(subject),
        "locked": SubjectLock.objects.filter(subject=subject, unlocked_at__isnull=True).exists(),
    }


# --- The study's reports ---------------------------------------------------------------------


@dataclass
class QueryReport:
    study: Study
    buckets: list[str]
    by_site: list[dict]
    totals: dict
    unresolved: list[Query]


def query_report(user, study: Study, *, today: date | None = None) -> QueryReport:
    """Unresolved queries by site and by age (days open), and their list: three queries in all."""
    today = today or timezone.now().date()
    scoped = restrict(Query.objects.filter(study=study), user).exclude(status=Query.Status.CLOSED)
    sites = list(restrict(Site.objects.filter(study=study), user).order_by("number"))
    counts: dict[int, Counter] = defaultdict(Counter)
    unresolved = list(scoped.select_related("subject", "site").order_by("opened_at", "pk"))
    for query in unresolved:
        query.age_days = age_in_days(query.opened_at, today)
        counts[query.site_id][age_bucket(query.age_days)] += 1
        counts[query.site_id][query.status] += 1
    buckets = [label for label, _, _ in AGE_BUCKETS]
    by_site = [
        {
            "site": site,
            "cells": [counts[site.pk][b] for b in buckets],
            "open": counts[site.pk]["open"],
            "answered": counts[site.pk]["answered"],
            "total": sum(counts[site.pk][b] for b in buckets),
        }
        for site in sites
    ]
    totals = {
        "cells": [sum(row["cells"][i] for row in by_site) for i in range(len(buckets))],
        "open": sum(row["open"] for row in by_site),
        "answered": sum(row["answered"] for row in by_site),
        "total": sum(row["total"] for row in by_site),
    }
    return QueryReport(study, buckets, by_site, totals, unresolved)


@dataclass
class SdvRow:
    subject: Subject
    required: int
    verified: int

    @property
    def complete(self) -> bool:
        return self.verified >= self.required


def sdv_status(user, study: Study) -> dict:
    """Source data verification by subject and by site over the forms the study requires:
    records to verify, and those whose form is verified (current)."""
    forms = list(settings_for(study).sdv_forms)
    subjects = list(
        restrict(Subject.objects.filter(study=study), user)
        .select_related("site")
        .order_by("site__number", "screening_number")
    )
    ids = [s.pk for s in subjects]
    records: dict[int, set[tuple[str, int]]] = defaultdict(set)
    if "subject" in forms:
        for s in subjects:
            records[s.pk].add(("subject", s.pk))
    for form in forms:
        if form == "subject":
            continue
        for pk, subject_id in (
            FORM_MODELS[form].objects.filter(subject_id__in=ids).values_list("pk", "subject_id")
        ):
            records[subject_id].add((form, pk))
    verified = set(
        Verification.objects.filter(
            subject_id__in=ids, field="", cleared_at__isnull=True
        ).values_list("form", "record_id")
    )
    rows = [SdvRow(s, len(records[s.pk]), len(records[s.pk] & verified)) for s in subjects]
    sites: dict[int, dict] = {}
    for row in rows:
        entry = sites.setdefault(
            row.subject.site_id,
            {"site": row.subject.site, "required": 0, "verified": 0, "subjects": 0},
        )
        entry["required"] += row.required
        entry["verified"] += row.verified
        entry["subjects"] += 1
    return {
        "forms": [FORM_LABELS[f] for f in forms],
        "subjects": rows,
        "sites": list(sites.values()),
    }


def awaiting_signature(user, study: Study):
    """Enrolled subjects (ever) whose casebook has no valid investigator signature: never
    signed, or changed since."""
    valid = CasebookSignature.objects.filter(
        subject=OuterRef("pk"), signature__invalidated_at__isnull=True
    )
    signed_before = CasebookSignature.objects.filter(subject=OuterRef("pk"))
    return (
        restrict(Subject.objects.filter(study=study, subject_number__isnull=False), user)
        .annotate(has_valid=Exists(valid), signed_before=Exists(signed_before))
        .filter(has_valid=False)
        .select_related("site")
        .order_by("site__number", "subject_number")
    )


def study_lock_state(study: Study) -> StudyLock | None:
    return (
        StudyLock.objects.filter(study=study, unlocked_at__isnull=True)
        .select_related("locked_by", "unlock_requested_by")
        .first()
    )
