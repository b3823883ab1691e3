"""The SAE and DLT listings, the DLTs the committee did not uphold, and the dose deviations."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date

from django.db.models import OuterRef, Q, Subquery

from accounts.scoping import restrict
from dosing.models import DoseAdministration
from escalation.selectors import (
    dlt_status_of,
)
from safety.models import AdverseEvent
from safety.selectors import DLT_FINAL, with_adjudicator
from subjects.models import Subject

from .scope import (
    Scope,
    scoped_subjects,
)


@dataclass
class ListingRow:
    event: AdverseEvent  # annotated with the subject's first dose (and the adjudicator)

    @property
    def first_dose(self) -> date | None:
        return self.event.first_dose

    @property
    def in_window(self) -> bool | None:
        """Onset inside the subject's DLT window (None while the window is unknown)."""
        status = dlt_status_of(self.event.subject)
        if status and status.window_start and status.window_end:
            return status.window_start <= self.event.onset_date <= status.window_end
        return None

    @property
    def study_day(self) -> int | None:
        """Day 1 = the first dose (no day 0); negative before it."""
        if self.first_dose is None:
            return None
        days = (self.event.onset_date - self.first_dose).days
        return days + 1 if days >= 0 else days

    @property
    def treatment_emergent(self) -> bool:
        return self.first_dose is not None and self.event.onset_date >= self.first_dose

    @property
    def subject(self) -> Subject:
        return self.event.subject


LISTING_HEADER = [
    "Subject",
    "Site",
    "Cohort",
    "Dose level",
    "Regimen",
    "CTCAE term",
    "System organ class",
    "Verbatim term",
    "Grade",
    "Onset",
    "Study day",
    "Resolution",
    "Treatment-emergent",
    "Serious",
    "Seriousness criteria",
    "Relationship",
    "Action taken",
    "Outcome",
    "DLT (investigator)",
    "DLT (adjudicated)",
    "DLT (final call)",
    "Onset in DLT window",
    "DLT adjudicated at (UTC)",
    "DLT adjudicated by",
    "Adjudication note",
]


def listing_csv_row(row: ListingRow) -> list:
    e, s = row.event, row.event.subject
    return [
        s.subject_number,
        s.site.number,
        s.cohort.number if s.cohort else "",
        s.cohort.dose_level.label if s.cohort else "",
        s.cohort.track.regimen.code if s.cohort else "",
        e.ctcae_term.term,
        e.ctcae_term.soc,
        e.verbatim_term,
        e.grade,
        e.onset_date.isoformat(),
        row.study_day if row.study_day is not None else "",
        e.resolution_date.isoformat() if e.resolution_date else "",
        row.treatment_emergent,
        e.serious,
        "; ".join(e.seriousness_criteria()),
        e.get_relationship_display(),
        e.get_action_taken_display(),
        e.get_outcome_display(),
        e.dlt_investigator,
        "" if e.dlt_adjudicated is None else e.dlt_adjudicated,
        e.is_dlt,
        "" if row.in_window is None else row.in_window,
        e.dlt_adjudicated_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
        if e.dlt_adjudicated_at
        else "",
        getattr(e, "adjudicator", None) or "",
        e.dlt_adjudication_note,
    ]


DOSE_DEVIATION_HEADER = [
    "Subject",
    "Site",
    "Cohort",
    "Visit",
    "Date given",
    "Planned dose",
    "Dose given",
    "Unit",
    "Body weight (kg)",
    "Total dose (mg)",
    "Protocol deviations",
    "Values confirmed as measured",
    "Reason the dose differs",
    "Reason for the deviation",
    "Recorded by",
]


def dose_deviation_csv_row(dose: DoseAdministration) -> list:
    s = dose.subject
    return [
        s.subject_number,
        s.site.number,
        dose.cohort.number,
        f"C{dose.cycle}D{dose.day}",
        dose.administered_on.isoformat(),
        f"{dose.planned_dose_per_kg.normalize():f}",
        f"{dose.actual_dose_per_kg.normalize():f}",
        dose.dose_unit,
        f"{dose.body_weight_kg}",
        f"{dose.total_dose_mg}",
        "; ".join(dose.protocol_deviations),
        "; ".join(dose.confirmed_values),
        dose.dose_change_reason,
        dose.deviation_reason,
        dose.created_by.get_full_name() or dose.created_by.username,
    ]


# A dose recorded with a protocol deviation or an unusual value the site confirmed.
DOSE_FLAGGED = (
    Q(overdose_confirmed=True)
    | Q(short_interval_confirmed=True)
    | Q(outside_visit_window_confirmed=True)
    | Q(weight_outside_range_confirmed=True)
    | Q(weight_change_confirmed=True)
)


@dataclass
class ListingsPage:
    saes: list[ListingRow]
    dlts: list[ListingRow]
    # The investigator called a DLT, the committee adjudicated it as not a DLT.
    not_upheld: list[ListingRow] = field(default_factory=list)
    # Doses recorded as given with a confirmed deviation (docs/dosing.md).
    dose_deviations: list[DoseAdministration] = field(default_factory=list)

    def csv(self, table: str):
        if table == "dose_deviations":
            return DOSE_DEVIATION_HEADER, [dose_deviation_csv_row(d) for d in self.dose_deviations]
        rows = {"sae": self.saes, "dlt": self.dlts, "dlt_not_upheld": self.not_upheld}[table]
        return LISTING_HEADER, [listing_csv_row(r) for r in rows]


def dose_deviations(user, scope: Scope, subjects) -> list[DoseAdministration]:
    doses = (
        restrict(DoseAdministration.objects.filter(subject__in=subjects.values("pk")), user)
        .filter(DOSE_FLAGGED)
        .select_related(
            "subject__site", "cohort__dose_level", "cohort__track__regimen", "created_by"
        )
        .order_by("administered_on", "subject__subject_number", "cycle", "day")
    )
    if scope.date_from:
        doses = doses.filter(administered_on__gte=scope.date_from)
    if scope.date_to:
        doses = doses.filter(administered_on__lte=scope.date_to)
    return list(doses)


def listings(user, scope: Scope) -> ListingsPage:
    subjects = scoped_subjects(user, scope)
    first_dose = (
        DoseAdministration.objects.filter(subject=OuterRef("subject"))
        .order_by("administered_on")
        .values("administered_on")[:1]
    )
    events = (
        with_adjudicator(
            restrict(AdverseEvent.objects.filter(subject__in=subjects.values("pk")), user)
        )
        .filter(Q(serious=True) | DLT_FINAL | Q(dlt_investigator=True))
        .select_related(
            "ctcae_term",
            "subject__site",
            "subject__cohort__dose_level",
            "subject__cohort__track__regimen",
            "subject__dlt_status",
        )
        .annotate(first_dose=Subquery(first_dose))
        .order_by("onset_date", "subject__subject_number", "pk")
    )
    if scope.date_from:
        events = events.filter(onset_date__gte=scope.date_from)
    if scope.date_to:
        events = events.filter(onset_date__lte=scope.date_to)
    saes, dlts, not_upheld = [], [], []
    for event in events:
        row = ListingRow(event)
        if event.serious:
            saes.append(row)
        if event.is_dlt:
            dlts.append(row)
        elif event.dlt_investigator:
            not_upheld.append(row)
    return ListingsPage(
        saes=saes,
        dlts=dlts,
        not_upheld=not_upheld,
        dose_deviations=dose_deviations(user, scope, subjects),
    )
