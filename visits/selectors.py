"""Every read of visits and their forms, scoped to the user through accounts/scoping.py."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from django.db.models import Max, QuerySet

from accounts.roles import Capability
from accounts.scoping import restrict
from subjects.models import Subject

from .models import (
    CancerHistory,
    ConcomitantMedication,
    EcgAssessment,
    EcogAssessment,
    LabResult,
    MedicalHistory,
    PriorCancerTherapy,
    SurvivalContact,
    Visit,
    VitalSigns,
)
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
    for code, model in (
        ("vital_signs", VitalSigns),
        ("labs", LabResult),
        ("ecog", EcogAssessment),
        ("ecg", EcgAssessment),
        ("survival", SurvivalContact),
    ):
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


@dataclass(frozen=True)
class LabInWindow:
    """A lab result with the window of its visit on the subject's calendar (None: an
    unscheduled visit, or one the calendar no longer has)."""

    result: LabResult
    window: tuple[date, date] | None


def lab_windows(subject_record: Subject) -> list[LabInWindow]:
    """The subject's lab results (not voided), each with its visit's window as the calendar
    plans it (docs/visits.md §2.2), for a caller that holds the subject already (the data
    quality checks, docs/quality.md §1). No result, no calendar: one query."""
    results = list(
        LabResult.objects.filter(subject=subject_record)
        .select_related("visit")
        .order_by("sampled_on", "pk")
    )
    if not results:
        return []
    subject_with_regimen = Subject.all_objects.select_related(*SUBJECT_RELATED).get(
        pk=subject_record.pk
    )
    planned = calendars([subject_with_regimen])[0]
    windows = {row.visit.code: (row.visit.earliest, row.visit.latest) for row in planned.rows}
    return [LabInWindow(result, windows.get(result.visit.code)) for result in results]


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


@dataclass
class NeutropeniaRow:
    subject: Subject
    flag: object  # visits.rules.NeutropeniaDurationFlag


def neutropenia_flags(user, study_id: int) -> list[NeutropeniaRow]:
    """Each dosed subject in the user's scope whose neutrophil counts show grade 4 starting in
    the DLT window (docs/visits.md §5): a possible DLT for the investigator and the committee,
    or an episode still open. A fixed number of queries."""
    from escalation.rules.window import dlt_window

    from .models import VisitSchedule
    from .rules import (
        DurationOutcome,
        LabGradingSettings,
        NeutropeniaDurationSettings,
        NormalRange,
        grade4_neutropenia_duration,
    )
    from .rules import LabResult as RulesLabResult
    from .services import first_doses

    chosen = list(subjects(user).filter(study_id=study_id, cohort__isnull=False))
    firsts = first_doses([s.pk for s in chosen])
    counts: dict[int, list[LabResult]] = defaultdict(list)
    for lab in LabResult.objects.filter(subject_id__in=list(firsts), test="NEUT").order_by(
        "sampled_on", "pk"
    ):
        counts[lab.subject_id].append(lab)
    schedules = {vs.regimen_id: vs for vs in VisitSchedule.objects.filter(study_id=study_id)}
    out = []
    for subject in chosen:
        if subject.pk not in firsts or not counts.get(subject.pk):
            continue
        regimen = subject.cohort.track.regimen
        window = dlt_window(
            firsts[subject.pk], regimen.dlt_window_days, subject.study.dlt_window_convention
        )
        schedule = schedules.get(regimen.pk)
        settings = NeutropeniaDurationSettings(
            max_days=schedule.neutropenia_max_days if schedule else 7,
            grading=LabGradingSettings(
                missing_range=schedule.lab_missing_range if schedule else "no_grade"
            ),
        )
        results = [
            RulesLabResult(
                "NEUT",
                lab.value,
                lab.unit,
                normal_range=NormalRange(lab.normal_low, lab.normal_high, lab.unit)
                if lab.has_normal_range
                else None,
                sampled_on=lab.sampled_on,
                reference=str(lab.pk),
            )
            for lab in counts[subject.pk]
        ]
        flag = grade4_neutropenia_duration(
            results, window_start=window.start, window_end=window.end, settings=settings
        )
        if flag.outcome in (DurationOutcome.POSSIBLE_DLT, DurationOutcome.UNRESOLVED):
            out.append(NeutropeniaRow(subject, flag))
    return out


def medications(user, subject_record: Subject) -> QuerySet:
    return restrict(
        ConcomitantMedication.objects.filter(subject=subject_record), user
    ).select_related("adverse_event__ctcae_term")


def medical_history(user, subject_record: Subject) -> QuerySet:
    return restrict(MedicalHistory.objects.filter(subject=subject_record), user).select_related(
        "ctcae_term"
    )


def cancer_history(user, subject_record: Subject) -> CancerHistory | None:
    return restrict(CancerHistory.objects.filter(subject=subject_record), user).first()


def prior_therapies(user, subject_record: Subject) -> QuerySet:
    return restrict(PriorCancerTherapy.objects.filter(subject=subject_record), user).order_by(
        "start_date", "pk"
    )


def voided_cancer_histories(user, subject_record: Subject) -> QuerySet:
    """The subject's voided cancer histories, shown struck through with why (never counted)."""
    return restrict(
        CancerHistory.all_objects.filter(subject=subject_record, voided_at__isnull=False), user
    ).order_by("voided_at", "pk")


def voided_prior_therapies(user, subject_record: Subject) -> QuerySet:
    """The subject's voided prior therapies, shown struck through with why (never counted)."""
    return restrict(
        PriorCancerTherapy.all_objects.filter(subject=subject_record, voided_at__isnull=False),
        user,
    ).order_by("start_date", "pk")


# The casebook's forms as listings (the monitor's listings per form): each form's records in
# the user's scope with the rows its listing shows, the date a date range applies to (None: the
# form has no complete date) and the order within a subject (after site and subject).
@dataclass(frozen=True)
class ListedForm:
    model: type
    related: tuple[str, ...]
    day: str | None
    order: tuple[str, ...]


LISTED_FORMS: dict[str, ListedForm] = {
    "vital_signs": ListedForm(VitalSigns, ("subject__site", "visit"), "measured_on", ()),
    "labs": ListedForm(LabResult, ("subject__site", "visit"), "sampled_on", ("test",)),
    "ecog": ListedForm(EcogAssessment, ("subject__site", "visit"), "assessed_on", ()),
    "ecg": ListedForm(EcgAssessment, ("subject__site", "visit"), "recorded_on", ()),
    "concomitant_medications": ListedForm(
        ConcomitantMedication,
        ("subject__site", "adverse_event__ctcae_term"),
        "start_date",
        (),
    ),
    "medical_history": ListedForm(
        MedicalHistory,
        ("subject__site", "ctcae_term"),
        None,
        ("start_year", "start_month", "start_day"),
    ),
    "cancer_history": ListedForm(CancerHistory, ("subject__site",), None, ()),
    "prior_therapy": ListedForm(PriorCancerTherapy, ("subject__site",), None, ("start_date",)),
    "survival": ListedForm(
        SurvivalContact,
        ("subject__site", "visit", "cause_adverse_event__ctcae_term"),
        "contact_date",
        (),
    ),
}


def form_records(user, form: str, subjects: QuerySet) -> QuerySet:
    """The records of `form` of these subjects that the user may see, with the rows they name
    (one query however many records), by site, subject and date."""
    listed = LISTED_FORMS[form]
    day = (listed.day,) if listed.day else ()
    return (
        restrict(listed.model.objects.filter(subject__in=subjects.values("pk")), user)
        .select_related(*listed.related)
        .order_by("subject__site__number", "subject__screening_number", *day, *listed.order, "pk")
    )


# --- Survival follow-up, for the efficacy endpoints ------------------------------------------

SURVIVAL_VISIT_PREFIX = "SURV"


@dataclass(frozen=True)
class NewTherapy:
    """A new anticancer therapy as a survival contact recorded it."""

    starts_on: date
    regimen: str
    contact_date: date


@dataclass(frozen=True)
class SurvivalFollowUp:
    """What the site recorded after (and beside) treatment that the time-to-event endpoints
    need (docs/visits.md §10, docs/efficacy.md §15):

    - `new_therapies`: every new anticancer therapy a contact reported, earliest start first;
    - `last_alive_contact_on`: the latest date a contact knew the subject alive (its
      `last_known_alive`; an alive contact's own date);
    - `last_visit_on`: the latest visit done. A survival follow-up visit (SURVn) counts only
      through its contact: the call may have found the subject dead or not found them.
    """

    new_therapies: tuple[NewTherapy, ...] = ()
    last_alive_contact_on: date | None = None
    last_visit_on: date | None = None


def survival_follow_up(subject_ids) -> dict[int, SurvivalFollowUp]:
    """Each subject's survival follow-up facts, in two queries whatever their number (voided
    records left out). The caller has scoped the subjects (accounts.scoping) already."""
    ids = list(subject_ids)
    therapies: dict[int, list[NewTherapy]] = defaultdict(list)
    alive: dict[int, date] = {}
    contacts = SurvivalContact.objects.filter(subject_id__in=ids).values_list(
        "subject_id", "contact_date", "status", "last_known_alive", "new_therapy",
        "new_therapy_start", "new_therapy_regimen",
    )  # fmt: skip
    for subject_id, contact_date, status, known, new, starts, regimen in contacts:
        seen_alive = contact_date if status == SurvivalContact.Status.ALIVE else None
        for on in (known, seen_alive):
            if on is not None and (subject_id not in alive or on > alive[subject_id]):
                alive[subject_id] = on
        if new and starts is not None:
            therapies[subject_id].append(NewTherapy(starts, regimen, contact_date))
    visits = (
        Visit.objects.filter(subject_id__in=ids, not_done=False, visit_date__isnull=False)
        .exclude(code__startswith=SURVIVAL_VISIT_PREFIX)
        .values("subject_id")
        .annotate(last=Max("visit_date"))
        .values_list("subject_id", "last")
    )
    last_visit = dict(visits)
    return {
        pk: SurvivalFollowUp(
            tuple(sorted(therapies.get(pk, ()), key=lambda t: (t.starts_on, t.contact_date))),
            alive.get(pk),
            last_visit.get(pk),
        )
        for pk in ids
    }
