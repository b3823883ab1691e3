"""Every read of visits and their forms, scoped to the user through accounts/scoping.py."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from django.db.models import QuerySet

from accounts.roles import Capability
from accounts.scoping import restrict
from subjects.models import Subject

from .models import EcogAssessment, LabResult, Visit, VitalSigns
from .schedules import FORMS, Calendar, calendars

SUBJECT_RELATED = ("site", "study", "cohort__track__regimen")


def subjects(user, capability: Capability = Capability.VIEW) -> QuerySet:
    return restrict(Subject.objects.select_related(*SUBJECT_RELATED), user, capability)


def subject(user, pk: int, capability: Capability = Capability.VIEW) -> Subject:
    """The subject if the user may see it (Subject.DoesNotExist otherwise: a 404)."""
    return subjects(user, capability).get(pk=pk)


def calendar(user, pk: int, on: date | None = None) -> Calendar:
    return calendars([subject(user, pk)], on)[0]


def visit(user, pk: int) -> Visit:
    return restrict(Visit.objects.select_related("subject__site", "subject__study"), user).get(
        pk=pk
    )


def visit_forms(user, visit_record: Visit) -> dict[str, list]:
    """The forms entered at a visit, by form code."""
    out = {}
    for code, model in (("vital_signs", VitalSigns), ("labs", LabResult), ("ecog", EcogAssessment)):
        out[code] = list(restrict(model.objects.filter(visit=visit_record), user).order_by("pk"))
    return out


def lab_result(user, pk: int) -> LabResult:
    return restrict(
        LabResult.objects.select_related(
            "subject__site", "subject__study", "subject__cohort__track", "visit", "adverse_event"
        ),
        user,
    ).get(pk=pk)


@dataclass
class MissingRow:
    subject: Subject
    code: str
    label: str
    status: str
    target: date
    earliest: date
    latest: date
    missing: tuple[str, ...]

    @property
    def missing_labels(self) -> list[str]:
        return [FORMS[code] for code in self.missing]


@dataclass
class SiteMissing:
    site: object
    rows: list[MissingRow]

    @property
    def form_count(self) -> int:
        return sum(len(row.missing) for row in self.rows)


def missing_forms(user, study_id: int, on: date | None = None) -> list[SiteMissing]:
    """Study-wide (for the user's scope): every visit whose forms are expected and not all
    entered, by site (docs/visits.md §2.4). A fixed number of queries."""
    chosen = (
        subjects(user)
        .filter(study_id=study_id)
        .exclude(status=Subject.Status.SCREEN_FAILED)
        .order_by("site__number", "screening_number")
    )
    by_site: dict[int, SiteMissing] = {}
    for book in calendars(chosen, on):
        for row in book.missing:
            site = book.subject.site
            entry = by_site.setdefault(site.pk, SiteMissing(site, []))
            entry.rows.append(
                MissingRow(
                    book.subject,
                    row.visit.code,
                    row.visit.label,
                    row.visit.status.value,
                    row.visit.target,
                    row.visit.earliest,
                    row.visit.latest,
                    row.missing,
                )
            )
    return sorted(by_site.values(), key=lambda entry: entry.site.number)


def lab_listing(user, study_id: int) -> QuerySet:
    return (
        restrict(LabResult.objects.filter(subject__study_id=study_id), user)
        .select_related("subject__site", "visit")
        .order_by("subject__site__number", "subject__screening_number", "sampled_on", "pk")
    )


def grouped(rows) -> dict:
    out: dict = defaultdict(list)
    for row in rows:
        out[row.subject_id].append(row)
    return out
