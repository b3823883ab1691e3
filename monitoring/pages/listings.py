"""The SAE and DLT listings, the DLTs the committee did not uphold, the dose deviations, and a
listing per casebook form (docs/visits.md §12)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date
from decimal import Decimal
from typing import Any

from django.db.models import Count, OuterRef, Q, QuerySet, Subquery

from accounts.scoping import restrict
from dosing.models import DoseAdministration
from escalation.selectors import (
    dlt_status_of,
)
from safety.models import LISTED, AdverseEvent
from safety.rules import Emergence
from safety.selectors import DLT_FINAL, emergence_of, with_adjudicator
from subjects.models import Subject
from visits.selectors import LISTED_FORMS, form_records

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
    def emergence(self) -> Emergence:
        """Treatment-emergent or not, from the first infusion's start (docs/safety.md §3)."""
        return emergence_of(
            self.event, self.event.first_dose_start, self.event.subject.site.timezone
        )

    @property
    def treatment_emergent(self) -> bool:
        return self.emergence.emergent

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
    "Onset time (site)",
    "Baseline grade",
    "Study day",
    "Resolution",
    "Treatment-emergent",
    "Serious",
    "Seriousness criteria",
    "SAE awareness (UTC)",
    "SAE entered as serious (UTC)",
    "SAE reported late (> 24 h)",
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
        e.onset_time.strftime("%H:%M") if e.onset_time else "",
        e.baseline_grade or "",
        row.study_day if row.study_day is not None else "",
        e.resolution_date.isoformat() if e.resolution_date else "",
        row.treatment_emergent,
        e.serious,
        "; ".join(e.seriousness_criteria()),
        _utc(e.sae_awareness_at),
        _utc(e.sae_reported_at),
        e.sae_reported_late if e.serious else "",
        e.get_relationship_display(),
        e.get_action_taken_display(),
        e.get_outcome_display(),
        e.dlt_investigator,
        "" if e.dlt_adjudicated is None else e.dlt_adjudicated,
        e.is_dlt,
        "" if row.in_window is None else row.in_window,
        _utc(e.dlt_adjudicated_at),
        getattr(e, "adjudicator", None) or "",
        e.dlt_adjudication_note,
    ]


def _utc(moment) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S") if moment else ""


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
    first = DoseAdministration.objects.filter(subject=OuterRef("subject")).order_by(
        "administered_on", "infusion_start"
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
        .annotate(
            first_dose=Subquery(first.values("administered_on")[:1]),
            first_dose_start=Subquery(first.values("infusion_start")[:1]),
        )
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


# --- The casebook's forms, one listing each ------------------------------------------------

FORM_LISTING_PAGE_SIZE = 100


def _day(value) -> str:
    return value.isoformat() if value else ""


def _num(value) -> str:
    if value is None:
        return ""
    return f"{Decimal(value).normalize():f}" if isinstance(value, Decimal) else str(value)


def _yes_no(value: bool | None) -> str:
    return "" if value is None else ("Yes" if value else "No")


def _subject(record) -> list:
    return [record.subject.label, record.subject.site.number]


def _visit(record) -> list:
    return [*_subject(record), record.visit.code]


def _vital_signs(v) -> list:
    return [
        *_visit(v),
        _day(v.measured_on),
        v.get_timepoint_display(),
        _num(v.systolic_bp),
        _num(v.diastolic_bp),
        _num(v.pulse),
        _num(v.respiratory_rate),
        _num(v.temperature_c),
        v.temperature_reported,
        _num(v.spo2),
        _num(v.weight_kg),
        v.weight_reported,
    ]


def _labs(lab) -> list:
    return [
        *_visit(lab),
        _day(lab.sampled_on),
        lab.test,
        _num(lab.value),
        lab.unit,
        _num(lab.normal_low),
        _num(lab.normal_high),
        lab.get_reference_flag_display() if lab.has_normal_range else "No normal range",
        _num(lab.standard_value),
        lab.standard_unit,
        lab.ctcae_term if lab.ctcae_grade is not None else "",
        _num(lab.ctcae_grade),
        "; ".join(lab.grading_flags),
        _yes_no(lab.clinically_significant),
        "Yes" if lab.adverse_event_id else "",
    ]


def _ecog(e) -> list:
    return [*_visit(e), _day(e.assessed_on), e.status, e.get_status_display().split(": ", 1)[1]]


def _ecg(e) -> list:
    return [
        *_visit(e),
        _day(e.recorded_on),
        e.get_timepoint_display(),
        len(e.qtcf_replicates),
        e.qtcf_ms,
        _num(e.baseline_qtcf_ms),
        e.qtc_grade,
        _num(e.pr_ms),
        _num(e.qrs_ms),
        e.get_interpretation_display(),
    ]


def _medication(m) -> list:
    event = m.adverse_event
    return [
        *_subject(m),
        m.medication,
        m.atc_code,
        m.indication,
        f"{event.ctcae_term.term} ({_day(event.onset_date)})" if event else "",
        _num(m.dose),
        m.dose_unit,
        m.frequency,
        m.route,
        _day(m.start_date),
        _day(m.end_date),
        _yes_no(m.ongoing),
    ]


def _medical_history(h) -> list:
    return [
        *_subject(h),
        h.term,
        h.ctcae_term.term if h.ctcae_term else "",
        h.start_text,
        _yes_no(h.ongoing),
        _day(h.end_date),
        _num(h.baseline_grade),
    ]


def _cancer_history(c) -> list:
    return [
        *_subject(c),
        c.primary_site,
        c.histology,
        c.diagnosis_date,
        c.stage_at_diagnosis,
        c.tnm_at_diagnosis,
        c.stage_at_entry,
        c.tnm_at_entry,
        c.advanced_disease_date,
        "; ".join(c.metastatic_site_labels),
        _yes_no(c.no_prior_therapy),
    ]


def _prior_therapy(t) -> list:
    return [
        *_subject(t),
        t.get_therapy_type_display(),
        t.treatment,
        t.get_setting_display(),
        _num(t.line),
        t.start_date,
        t.end_date,
        t.get_best_response_display() if t.best_response else "",
        t.get_stop_reason_display() if t.stop_reason else "",
        t.stop_reason_other,
    ]


def _survival(c) -> list:
    cause = c.get_cause_of_death_display() if c.cause_of_death else ""
    if c.cause_adverse_event_id:
        cause = f"{cause}: {c.cause_adverse_event.ctcae_term.term}"
    elif c.cause_other:
        cause = f"{cause}: {c.cause_other}"
    return [
        *_visit(c),
        _day(c.contact_date),
        c.get_status_display(),
        _day(c.last_known_alive),
        _yes_no(c.new_therapy),
        c.new_therapy_regimen,
        _day(c.new_therapy_start),
        cause,
    ]


def _demographics(s) -> list:
    cohort = s.cohort
    return [
        s.label,
        s.site.number,
        s.screening_number,
        s.get_sex_display(),
        s.year_of_birth,
        s.get_ethnicity_display() if s.ethnicity else "",
        _races(s),
        _day(s.screening_date),
        _day(s.consent_date),
        s.consent_version,
        s.get_eligibility_outcome_display(),
        _day(s.enrollment_date),
        cohort.number if cohort else "",
        cohort.dose_level.label if cohort else "",
        cohort.track.regimen.code if cohort else "",
        s.get_status_display(),
    ]


def _disposition(s) -> list:
    return [
        s.label,
        s.site.number,
        s.get_status_display(),
        s.screen_failure_reason,
        _day(s.end_of_treatment_date),
        s.end_of_treatment_reason_code,
        s.end_of_treatment_reason,
        _day(s.end_of_study_date),
        s.end_of_study_reason_code,
        s.end_of_study_reason,
        _day(s.death_date),
    ]


def _races(s) -> str:
    """The races as the CT names them, in the list's order; Other with the subject's words."""
    labels = s.race_labels
    if s.race_other:
        labels = [f"{label}: {s.race_other}" if r == "OTHER" else label
                  for r, label in zip(s.races, labels, strict=True)]  # fmt: skip
    return "; ".join(labels)


SUBJECT = ("Subject", "Site")
VISIT = (*SUBJECT, "Visit")


@dataclass(frozen=True)
class FormListing:
    """One casebook form's listing: its columns and how a record fills them."""

    slug: str
    title: str
    header: tuple[str, ...]
    cells: Callable[[Any], list]
    note: str = ""


FORM_LISTINGS: dict[str, FormListing] = {
    listing.slug: listing
    for listing in (
        FormListing(
            "demographics",
            "Demographics",
            (
                *SUBJECT,
                "Screening number",
                "Sex",
                "Year of birth",
                "Ethnicity",
                "Race",
                "Screening",
                "Informed consent",
                "Consent form version",
                "Eligibility",
                "Enrollment",
                "Cohort",
                "Dose level",
                "Regimen",
                "Status",
            ),
            _demographics,
            "Every subject registered, screen failures included, by screening date; ethnicity "
            "and races as the CDISC CT names them (several races joined by ';').",
        ),
        FormListing(
            "disposition",
            "Disposition",
            (
                *SUBJECT,
                "Status",
                "Screen failure reason",
                "End of treatment",
                "Reason treatment ended (NCOMPLT)",
                "Reason treatment ended, specify",
                "End of study",
                "Reason the study ended (NCOMPLT)",
                "Reason the study ended, specify",
                "Date of death",
            ),
            _disposition,
            "Every subject registered, with the ends recorded so far: each reason coded (CDISC "
            "CT NCOMPLT, as DS DSDECOD) and as the site wrote it.",
        ),
        FormListing(
            "vital_signs",
            "Vital signs",
            (
                *VISIT,
                "Date",
                "Time point",
                "Systolic BP (mmHg)",
                "Diastolic BP (mmHg)",
                "Pulse (beats/min)",
                "Respiratory rate (breaths/min)",
                "Temperature (C)",
                "Temperature as typed",
                "SpO2 (%)",
                "Weight (kg)",
                "Weight as typed",
            ),
            _vital_signs,
        ),
        FormListing(
            "labs",
            "Local laboratory results",
            (
                *VISIT,
                "Sample date",
                "Test",
                "Value",
                "Unit",
                "LLN",
                "ULN",
                "Flag",
                "Standard value",
                "Standard unit",
                "CTCAE term",
                "CTCAE grade",
                "Grading flags",
                "Clinically significant",
                "Reported as adverse event",
            ),
            _labs,
            "The CTCAE v5.0 grade derived from the value and the site lab's range "
            "(docs/visits.md §4); no range, no grade.",
        ),
        FormListing(
            "ecog",
            "ECOG performance status",
            (*VISIT, "Date", "ECOG", "Description"),
            _ecog,
        ),
        FormListing(
            "ecg",
            "12-lead ECG",
            (
                *VISIT,
                "Date",
                "Time point",
                "Tracings",
                "QTcF mean (ms)",
                "Baseline QTcF (ms)",
                "QTc grade",
                "PR (ms)",
                "QRS (ms)",
                "Reading",
            ),
            _ecg,
        ),
        FormListing(
            "concomitant_medications",
            "Concomitant medications",
            (
                *SUBJECT,
                "Medication",
                "ATC code",
                "Indication",
                "Adverse event treated",
                "Dose",
                "Unit",
                "Frequency",
                "Route",
                "Start",
                "End",
                "Ongoing",
            ),
            _medication,
        ),
        FormListing(
            "medical_history",
            "Medical history",
            (
                *SUBJECT,
                "Condition",
                "CTCAE term",
                "Start",
                "Ongoing at the first dose",
                "End",
                "Grade at the first dose",
            ),
            _medical_history,
        ),
        FormListing(
            "cancer_history",
            "Cancer history",
            (
                *SUBJECT,
                "Primary site",
                "Histology",
                "Initial diagnosis",
                "AJCC stage at diagnosis",
                "TNM at diagnosis",
                "AJCC stage at entry",
                "TNM at entry",
                "Metastatic or advanced disease",
                "Sites of metastases",
                "No prior anticancer therapy",
            ),
            _cancer_history,
        ),
        FormListing(
            "prior_therapy",
            "Prior cancer therapy",
            (
                *SUBJECT,
                "Type",
                "Regimen or procedure",
                "Setting",
                "Line",
                "Start",
                "End",
                "Best response",
                "Reason stopped",
                "Other reason",
            ),
            _prior_therapy,
        ),
        FormListing(
            "survival",
            "Survival follow-up",
            (
                *VISIT,
                "Contact date",
                "Status",
                "Last known alive",
                "New anticancer therapy",
                "Regimen",
                "Therapy start",
                "Cause of death",
            ),
            _survival,
        ),
    )
}
# The subject-level listings read the subjects themselves; the date range applies to this field.
SUBJECT_LISTING_DAYS = {"demographics": "screening_date", "disposition": None}


@dataclass
class FormListingPage:
    """A form's records in the selection, a page at a time: two queries (the count and the
    page) whatever their number; the CSV reads every record of the selection in one more."""

    listing: FormListing
    queryset: QuerySet  # every record of the selection, in order
    records: list  # this page's
    number: int
    pages: int
    total: int
    dated: bool  # does the date range apply to this form?

    @property
    def rows(self) -> list[tuple[int, int, list]]:
        """(record id, its subject's id, its cells, the subject first) of this page."""
        return [
            (record.pk, getattr(record, "subject_id", record.pk), self.listing.cells(record))
            for record in self.records
        ]

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages

    def csv(self, table: str):
        if table != self.listing.slug:
            raise KeyError(table)
        return list(self.listing.header), [self.listing.cells(r) for r in self.queryset]


def listed_subjects(user, scope: Scope) -> QuerySet:
    """The study's subjects the user may see, under the site, track and dose level filters
    (the form listings include subjects not enrolled: screening and screen failures)."""
    subjects = restrict(Subject.objects.filter(study=scope.study), user)
    if scope.site:
        subjects = subjects.filter(site=scope.site)
    if scope.track:
        subjects = subjects.filter(cohort__track=scope.track)
    if scope.dose_level:
        subjects = subjects.filter(cohort__dose_level=scope.dose_level)
    return subjects


def _records(user, scope: Scope, form: str) -> tuple[QuerySet, str | None]:
    subjects = listed_subjects(user, scope)
    if form in SUBJECT_LISTING_DAYS:
        records = subjects.select_related(
            "site", "cohort__dose_level", "cohort__track__regimen"
        ).order_by("site__number", "screening_date", "screening_number", "pk")
        return records, SUBJECT_LISTING_DAYS[form]
    return form_records(user, form, subjects), LISTED_FORMS[form].day


def form_listing(user, scope: Scope, *, form: str, page: int = 1) -> FormListingPage:
    """One casebook form's listing for the selection (KeyError for an unknown form)."""
    listing = FORM_LISTINGS[form]
    records, day = _records(user, scope, form)
    if day and scope.date_from:
        records = records.filter(**{f"{day}__gte": scope.date_from})
    if day and scope.date_to:
        records = records.filter(**{f"{day}__lte": scope.date_to})
    total = records.count()
    pages = max(1, -(-total // FORM_LISTING_PAGE_SIZE))
    number = min(max(1, page), pages)
    start = (number - 1) * FORM_LISTING_PAGE_SIZE
    shown = list(records[start : start + FORM_LISTING_PAGE_SIZE]) if total else []
    return FormListingPage(
        listing=listing,
        queryset=records,
        records=shown,
        number=number,
        pages=pages,
        total=total,
        dated=day is not None,
    )
