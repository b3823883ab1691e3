"""The SAE and DLT listings, the DLTs the committee did not uphold, and the dose deviations."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date

from django.db.models import Count, OuterRef, Q, Subquery

from accounts.scoping import restrict
from dosing.models import DoseAdministration
from escalation.selectors import (
    dlt_status_of,
)
from safety.models import LISTED, AdverseEvent
from safety.selectors import DLT_FINAL, with_adjudicator
from subjects.models import Subject

from .paging import Pager, link_pagers
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


# Rows a page of each listing shows (each with its adjudication form for the monitor); its CSV
# has them all.
LISTED_PER_PAGE = 25

# The listings of the page: (name, its rows' condition, its page parameter, its anchor).
LISTINGS = (
    ("dlt", DLT_FINAL, "dlt_page", "dlt-title"),
    # The investigator called a DLT, the committee adjudicated it as not a DLT.
    (
        "dlt_not_upheld",
        Q(dlt_investigator=True, dlt_adjudicated=False),
        "not_upheld_page",
        "not-upheld-title",
    ),
    ("sae", Q(serious=True), "sae_page", "sae-title"),
)


@dataclass
class ListingsPage:
    """Each listing's page of rows and its pager (`pagers`, by listing name and
    "dose_deviations"); `querysets` read a whole listing for its CSV."""

    saes: list[ListingRow]
    dlts: list[ListingRow]
    not_upheld: list[ListingRow]
    # Doses recorded as given with a confirmed deviation (docs/dosing.md).
    dose_deviations: list[DoseAdministration]
    pagers: dict[str, Pager]
    querysets: dict[str, object] = field(default_factory=dict)

    def csv(self, table: str):
        if table == "dose_deviations":
            rows = self.querysets["dose_deviations"]
            return DOSE_DEVIATION_HEADER, [dose_deviation_csv_row(d) for d in rows]
        listed = self.querysets[table]  # KeyError: no such table
        return LISTING_HEADER, [listing_csv_row(ListingRow(e)) for e in listed]


def dose_deviations(user, scope: Scope, subjects):
    """The doses recorded with a confirmed deviation, by date (a queryset)."""
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
    return doses


def _listed_events(user, scope: Scope, subjects):
    """The adverse events of the selection some listing shows: (for counting, with what the
    listings show of them, by onset and subject)."""
    first_dose = (
        DoseAdministration.objects.filter(subject=OuterRef("subject"))
        .order_by("administered_on")
        .values("administered_on")[:1]
    )
    # Only the events some listing shows (safety.models.LISTED, on its own index).
    events = restrict(
        AdverseEvent.objects.filter(subject__in=subjects.values("pk")).filter(LISTED), user
    )
    if scope.date_from:
        events = events.filter(onset_date__gte=scope.date_from)
    if scope.date_to:
        events = events.filter(onset_date__lte=scope.date_to)
    shown = (
        with_adjudicator(events)
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
    return events, shown


def listings(
    user, scope: Scope, *, pages: dict[str, int] | None = None, download: bool = False
) -> ListingsPage:
    """A page of each listing (`pages`: the page asked for, by page parameter): the listings'
    sizes in one query, then one query per listing's page and two for the dose deviations
    (their count and page) whatever the size of the study. With `download`, nothing is read
    until one listing is taken whole for its CSV."""
    pages = pages or {}
    subjects = scoped_subjects(user, scope)
    events, shown = _listed_events(user, scope, subjects)
    querysets: dict[str, object] = {
        name: shown.filter(condition) for name, condition, _, _ in LISTINGS
    }
    querysets["dose_deviations"] = deviations = dose_deviations(user, scope, subjects)
    if download:
        return ListingsPage([], [], [], [], pagers={}, querysets=querysets)
    sizes = events.aggregate(
        **{name: Count("pk", filter=condition) for name, condition, _, _ in LISTINGS}
    )
    pagers = {
        name: Pager.of(
            sizes[name], pages.get(param, 1), LISTED_PER_PAGE, param=param, anchor=anchor
        )  # fmt: skip
        for name, _, param, anchor in LISTINGS
    }
    pagers["dose_deviations"] = Pager.of(
        deviations.count(),
        pages.get("deviations_page", 1),
        LISTED_PER_PAGE,
        param="deviations_page",
        anchor="dose-deviations",
    )
    link_pagers(list(pagers.values()), scope)
    rows = {
        name: [ListingRow(e) for e in pagers[name].rows(querysets[name])]
        for name, _, _, _ in LISTINGS
    }
    return ListingsPage(
        saes=rows["sae"],
        dlts=rows["dlt"],
        not_upheld=rows["dlt_not_upheld"],
        dose_deviations=pagers["dose_deviations"].rows(deviations),
        pagers=pagers,
        querysets=querysets,
    )


LISTING_PAGE_PARAMS = [param for _, _, param, _ in LISTINGS] + ["deviations_page"]
