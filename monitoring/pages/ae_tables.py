"""The treatment-emergent adverse event tables (all and related), by dose group."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Min, Q

from accounts.scoping import restrict
from monitoring import tables
from safety.models import AdverseEvent

from .scope import (
    Scope,
    regimen_order,
    scoped_subjects,
)


def _population(user, scope: Scope):
    """Each subject of the filters with their column group and first (non-voided) dose."""
    rows = (
        scoped_subjects(user, scope)
        .select_related(None)
        .annotate(
            first_dose=Min(
                "dose_administrations__administered_on",
                filter=Q(dose_administrations__voided_at__isnull=True),
            )
        )
        .values(
            "pk",
            "first_dose",
            "cohort__dose_level__amount",
            "cohort__dose_level__unit",
            "cohort__track__regimen_id",
            "cohort__track__regimen__code",
        )
    )
    order = regimen_order(scope.tracks)
    return [
        tables.Exposure(
            subject_id=row["pk"],
            group=tables.dose_group(
                regimen=row["cohort__track__regimen__code"],
                regimen_order=order.get(row["cohort__track__regimen_id"], 99),
                amount=row["cohort__dose_level__amount"],
                unit=row["cohort__dose_level__unit"],
            ),
            first_dose=row["first_dose"],
        )
        for row in rows
    ]


def _events(user, scope: Scope, subjects):
    events = restrict(AdverseEvent.objects.filter(subject__in=subjects.values("pk")), user).values(
        "subject_id", "ctcae_term__soc", "ctcae_term__term", "grade", "onset_date", "relationship"
    )
    return [
        tables.Event(
            subject_id=row["subject_id"],
            soc=row["ctcae_term__soc"],
            term=row["ctcae_term__term"],
            grade=row["grade"],
            onset=row["onset_date"],
            related=row["relationship"] in AdverseEvent.RELATED,
        )
        for row in events
    ]


@dataclass
class AeTablesPage:
    all_events: tables.AeTable
    related: tables.AeTable
    related_only: bool

    @property
    def table(self) -> tables.AeTable:
        return self.related if self.related_only else self.all_events

    def csv(self, table: str):
        chosen = {"teae": self.all_events, "teae_related": self.related}[table]
        return tables.ae_table_csv(chosen)


def ae_tables(user, scope: Scope, *, related_only: bool = False) -> AeTablesPage:
    """Both tables (all TEAEs, related TEAEs) from one read of the population and the events."""
    population = _population(user, scope)
    events = _events(user, scope, scoped_subjects(user, scope))
    window = {"onset_from": scope.date_from, "onset_to": scope.date_to}
    return AeTablesPage(
        all_events=tables.build_ae_table(population, events, **window),
        related=tables.build_ae_table(population, events, related_only=True, **window),
        related_only=related_only,
    )
