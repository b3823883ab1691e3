"""The schedule of assessments: loaded from the protocol file with the study, and each subject's
calendar built from what was recorded (docs/visits.md §2).

Reads here take subjects already scoped by the caller (visits/selectors.py) and fetch what the
calendars need in a fixed number of queries, however many subjects and visits there are.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from core.errors import ValidationError
from dosing.models import DoseAdministration
from trial.models import Regimen

from .models import (
    CancerHistory,
    EcgAssessment,
    EcogAssessment,
    LabResult,
    PriorCancerTherapy,
    SurvivalContact,
    Visit,
    VisitSchedule,
    VitalSigns,
)
from .rules import (
    DoseGiven,
    Schedule,
    ScheduledVisit,
    SubjectCalendar,
    SubjectVisitFacts,
    VisitRecord,
    VisitsInputError,
    VisitStatus,
    subject_calendar,
)
from .rules.lab_grading import MissingRangePolicy
from .rules.protocol import schedule_from_mapping, schedule_to_mapping

# The forms the casebook captures, by the code the protocol file uses, with their labels.
FORMS: dict[str, str] = {
    "dose": "Dose administration",
    "vital_signs": "Vital signs",
    "labs": "Local laboratory results",
    "ecog": "ECOG performance status",
    "ecg": "12-lead ECG",
    "survival": "Survival follow-up contact",
    "cancer_history": "Cancer history",
    "prior_therapy": "Prior cancer therapy",
}
# Forms entered through this app, by code: the model (linked to the visit).
VISIT_FORM_MODELS = {
    "vital_signs": VitalSigns,
    "labs": LabResult,
    "ecog": EcogAssessment,
    "ecg": EcgAssessment,
    "survival": SurvivalContact,
}

# Statuses in which the forms of a visit are expected (docs/visits.md §2.4).
FORMS_EXPECTED = (VisitStatus.DUE, VisitStatus.OVERDUE, VisitStatus.DONE)


def load_from_protocol(sender, *, study, data: dict, summary, by, **kwargs) -> None:
    """`trial.services.study_loaded` receiver: create or update each regimen's schedule."""
    settings = data.get("visits", {})
    unknown = set(settings) - {"lab_missing_range", "neutropenia_max_days"}
    if unknown:
        raise ValidationError({"visits": f"Unknown visit settings: {', '.join(sorted(unknown))}."})
    missing_range = settings.get("lab_missing_range", MissingRangePolicy.NO_GRADE.value)
    if missing_range not in {p.value for p in MissingRangePolicy}:
        raise ValidationError(
            {"visits": f"lab_missing_range: {missing_range!r} is not no_grade or decidable_grades."}
        )
    max_days = settings.get("neutropenia_max_days", 7)
    if not isinstance(max_days, int) or isinstance(max_days, bool) or max_days < 1:
        raise ValidationError(
            {"visits": "neutropenia_max_days: a whole number of days, 1 or more."}
        )
    for table in data.get("visit_schedules", []):
        try:
            schedule = schedule_from_mapping(table, FORMS)
        except VisitsInputError as error:
            raise ValidationError({"visit_schedules": str(error)}) from error
        regimen = Regimen.objects.filter(study=study, code=schedule.regimen).first()
        if regimen is None:
            raise ValidationError(
                {
                    "visit_schedules": f"Schedule for regimen '{schedule.regimen}': no such regimen "
                    "in [[regimens]]."
                }
            )
        values = {
            "study": study,
            "definition": schedule_to_mapping(schedule),
            "lab_missing_range": missing_range,
            "neutropenia_max_days": max_days,
        }
        current = VisitSchedule.objects.filter(regimen=regimen).first()
        label = f"visit schedule {regimen.code}"
        if current is None:
            current = VisitSchedule(regimen=regimen, **values)
            created = True
        else:
            differing = [k for k, v in values.items() if getattr(current, k) != v]
            if not differing:
                continue
            for key in differing:
                setattr(current, key, values[key])
            created = False
            label = f"{label} ({', '.join(sorted(differing))})"
        current.full_clean()
        current._history_user = by
        current._change_reason = (
            f"Loaded from protocol file ({'created' if created else 'updated'})"
        )
        current.save()
        (summary.created if created else summary.updated).append(label)


def schedule_of(visit_schedule: VisitSchedule) -> Schedule:
    return schedule_from_mapping(visit_schedule.definition, FORMS)


@dataclass
class CalendarRow:
    visit: ScheduledVisit
    record: Visit | None
    entered: tuple[str, ...]
    missing: tuple[str, ...]

    @property
    def form_labels(self) -> list[tuple[str, str, bool]]:
        return [(code, FORMS[code], code in self.entered) for code in self.visit.forms]


@dataclass
class Calendar:
    subject: object
    schedule: Schedule | None
    calendar: SubjectCalendar | None
    rows: list[CalendarRow] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def missing(self) -> list[CalendarRow]:
        return [row for row in self.rows if row.missing]


def _facts(subject, doses: list, visits: list[Visit]) -> SubjectVisitFacts | None:
    if subject.consent_date is None:
        return None
    off = [d for d in (subject.end_of_study_date, subject.death_date) if d is not None]
    dose_facts = tuple(DoseGiven(d.cycle, d.day, d.administered_on) for d in doses)
    return SubjectVisitFacts(
        consented_on=subject.consent_date,
        enrolled_on=subject.enrollment_date,
        # Until the first dose, Cycle 1 Day 1 is projected from enrollment (docs/visits.md §2.2).
        planned_first_dose_on=subject.enrollment_date if not dose_facts else None,
        doses=dose_facts,
        end_of_treatment_on=subject.end_of_treatment_date,
        off_study_on=min(off) if off else None,
        visits=tuple(
            VisitRecord(v.code, done_on=v.visit_date, not_done=v.not_done) for v in visits
        ),
    )


def calendars(subjects: Iterable, on: date | None = None) -> list[Calendar]:
    """Each subject's calendar with the forms entered and missing per visit, in a fixed number
    of queries. `on`: the date statuses are computed for (default: each site's today)."""
    from core.dates import site_today

    subjects = list(subjects)
    ids = [s.pk for s in subjects]
    schedules = {
        vs.regimen_id: vs
        for vs in VisitSchedule.objects.filter(study__in={s.study_id for s in subjects})
    }
    by_study: dict[int, VisitSchedule] = {}
    for vs in sorted(schedules.values(), key=lambda vs: vs.regimen_id):
        by_study.setdefault(vs.study_id, vs)
    doses: dict[int, list] = defaultdict(list)
    for dose in DoseAdministration.objects.filter(subject_id__in=ids).order_by("administered_on"):
        doses[dose.subject_id].append(dose)
    visits: dict[int, list[Visit]] = defaultdict(list)
    for visit in Visit.objects.filter(subject_id__in=ids).order_by("id"):
        visits[visit.subject_id].append(visit)
    entered: dict[tuple[int, str], set[str]] = defaultdict(set)
    for dose in (d for ds in doses.values() for d in ds):
        entered[(dose.subject_id, f"C{dose.cycle}D{dose.day}")].add("dose")
    for code, model in VISIT_FORM_MODELS.items():
        for subject_id, visit_code in model.objects.filter(subject_id__in=ids).values_list(
            "subject_id", "visit__code"
        ):
            entered[(subject_id, visit_code)].add(code)
    about_subject = _subject_forms(ids)
    out = []
    for subject in subjects:
        regimen_id = subject.cohort.track.regimen_id if subject.cohort_id else None
        visit_schedule = schedules.get(regimen_id) or by_study.get(subject.study_id)
        today = on or site_today(subject.site.timezone)
        out.append(
            _calendar(
                subject,
                visit_schedule,
                doses[subject.pk],
                visits[subject.pk],
                (entered, about_subject[subject.pk]),
                today,
            )
        )
    return out


def _subject_forms(ids: list[int]) -> dict[int, set[str]]:
    """The forms about the subject rather than one visit that each subject has entered
    (docs/visits.md §2.4): the cancer history once recorded; prior therapy once one is
    recorded, or when the cancer history says there was none. They count at whichever visit
    expects them. Two queries."""
    found: dict[int, set[str]] = defaultdict(set)
    for subject_id, none_before in CancerHistory.objects.filter(subject_id__in=ids).values_list(
        "subject_id", "no_prior_therapy"
    ):
        found[subject_id].add("cancer_history")
        if none_before:
            found[subject_id].add("prior_therapy")
    for subject_id in (
        PriorCancerTherapy.objects.filter(subject_id__in=ids)
        .values_list("subject_id", flat=True)
        .distinct()
    ):
        found[subject_id].add("prior_therapy")
    return found


def _calendar(subject, visit_schedule, doses, visits, entered, on: date) -> Calendar:
    entered, about_subject = entered
    if visit_schedule is None:
        return Calendar(subject, None, None, notes=["The study has no schedule of assessments."])
    schedule = schedule_of(visit_schedule)
    facts = _facts(subject, doses, visits)
    if facts is None:
        return Calendar(subject, schedule, None, notes=["The calendar starts at informed consent."])
    notes: list[str] = []
    try:
        calendar = subject_calendar(schedule, facts, on)
    except VisitsInputError:
        # A visit recorded under a code the calendar no longer has (e.g. after the end of
        # treatment moved it): shown apart, the rest of the calendar computed without it.
        bare = subject_calendar(schedule, _facts(subject, doses, []), on)
        known = set(bare.codes)
        stray = [v for v in visits if v.code not in known and not v.code.upper().startswith("UNS")]
        kept = [v for v in visits if v not in stray]
        calendar = subject_calendar(schedule, _facts(subject, doses, kept), on)
        notes.extend(
            f"Visit {v.code} recorded on {v.visit_date or 'not done'} is not in the current "
            "schedule."
            for v in stray
        )
    records = {v.code: v for v in visits}
    rows = []
    for item in calendar.visits:
        done = entered.get((subject.pk, item.code), set()) | about_subject
        present = tuple(code for code in item.forms if code in done)
        missing = (
            tuple(code for code in item.forms if code not in done)
            if item.status in FORMS_EXPECTED
            else ()
        )
        rows.append(CalendarRow(item, records.get(item.code), present, missing))
    notes.extend(calendar.notes)
    return Calendar(subject, schedule, calendar, rows, notes)
