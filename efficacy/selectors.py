"""Every read of the efficacy app, scoped to the user through accounts.scoping.

A subject's RECIST result and the study's endpoints are computed here from the stored
assessments by `efficacy.rules` (docs/efficacy.md §15), in a fixed number of queries whatever
the number of subjects.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from django.db.models import Max, Min, Prefetch

from accounts.scoping import restrict
from core.dates import local_date
from dosing.models import DoseAdministration
from subjects.models import Subject
from visits.selectors import NewTherapy, SurvivalFollowUp, survival_follow_up

from .imaging import Evaluation, Scan, evaluate
from .models import EfficacySettings, Lesion, LesionObservation, TumourAssessment
from .rules import (
    BestOverallResponse,
    Disease,
    KaplanMeier,
    Observation,
    Rate,
    Response,
    SubjectFollowUp,
    TimePointResult,
    TimeToEvent,
    disease_control_rate,
    duration_of_response,
    from_time_points,
    kaplan_meier,
    last_known_alive,
    new_anticancer_therapy_on,
    objective_response_rate,
    overall_survival,
    progression_free_survival,
)
from .services import settings_for

DENOMINATOR = "treated subjects with measurable disease at baseline (RECIST 1.1)"
DENOMINATOR_ALL = "treated subjects with a baseline tumour assessment"


def visible_subjects(user, study_id: int | None = None):
    subjects = restrict(Subject.objects.all(), user).select_related(
        "site", "cohort__dose_level", "cohort__track"
    )
    if study_id is not None:
        subjects = subjects.filter(study_id=study_id)
    return subjects


def visible_assessments(user):
    return restrict(TumourAssessment.objects.all(), user)


def visible_lesions(user):
    return restrict(Lesion.objects.all(), user)


def visible_observations(user):
    return restrict(LesionObservation.objects.all(), user)


def subject_lesions(subject: Subject) -> list[Lesion]:
    """The subject's lesions (not voided) in the order they were identified, for a caller that
    holds the subject already (the data quality checks, docs/quality.md §1)."""
    return list(Lesion.objects.filter(subject=subject).order_by("pk"))


@dataclass
class SubjectEfficacy:
    """One subject's tumour assessments and everything derived from them."""

    subject: Subject
    first_dose_on: date | None
    last_dose_on: date | None
    scans: list[Scan]
    evaluation: Evaluation
    settings: EfficacySettings
    survival: SurvivalFollowUp = field(default_factory=SurvivalFollowUp)
    pfs: TimeToEvent | None = None
    os: TimeToEvent | None = None
    dor: TimeToEvent | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        return self.subject.label

    @property
    def dose_level(self) -> str:
        cohort = self.subject.cohort
        if cohort is None:
            return "not enrolled"
        level = cohort.dose_level
        return f"DL{level.number} {level.amount.normalize():f} {level.unit}"

    @property
    def dose_level_number(self) -> int:
        return self.subject.cohort.dose_level.number if self.subject.cohort else 0

    @property
    def best(self) -> BestOverallResponse | None:
        result = self.evaluation.result
        return result.best if result else None

    @property
    def time_points(self) -> tuple[TimePointResult, ...]:
        result = self.evaluation.result
        return result.time_points if result else ()

    @property
    def rows(self) -> list[tuple[Scan, TimePointResult | None]]:
        """Each follow-up scan with its derived time point (None for the baseline)."""
        by_date = {p.assessed_on: p for p in self.time_points}
        return [
            (
                scan,
                None if scan.assessment.is_baseline else by_date.get(scan.assessment.assessed_on),
            )
            for scan in self.scans
        ]

    @property
    def baseline_sum(self):
        result = self.evaluation.result
        return result.baseline.sum_mm if result else None

    @property
    def disagreements(self):
        result = self.evaluation.result
        return result.disagreements if result else ()

    def study_day(self, on: date) -> int | None:
        if self.first_dose_on is None:
            return None
        days = (on - self.first_dose_on).days
        return days + 1 if days >= 0 else days

    def schedule(self, on: date) -> tuple[str, bool]:
        """Where a follow-up scan falls on the protocol's schedule (every N weeks from the first
        dose, within the window; docs/efficacy.md §15): its text, and whether it is in window."""
        day = self.study_day(on)
        if day is None:
            return "", True
        interval = self.settings.assessment_interval_days
        number = max(1, round((day - 1) / interval))
        target = number * interval + 1
        window = self.settings.assessment_window_days
        inside = abs(day - target) <= window
        text = f"week {number * self.settings.assessment_every_weeks} (day {target} ± {window})"
        return (text if inside else f"{text}: out of window, day {day}"), inside

    def baseline_in_window(self, on: date) -> bool:
        if self.first_dose_on is None:
            return True
        before = (self.first_dose_on - on).days
        return 0 <= before <= self.settings.baseline_window_days

    @property
    def best_change_pct(self):
        """The best (lowest) % change of the sum from baseline over complete sums (waterfall)."""
        changes = [
            p.target.change_from_baseline_pct
            for p in self.time_points
            if p.target is not None and p.target.change_from_baseline_pct is not None
        ]
        return min(changes) if changes else None

    @property
    def new_therapy(self) -> NewTherapy | None:
        """The earliest new anticancer therapy started on or after the first dose, from the
        survival contacts: the BOR stops counting after its start, and PFS and DoR are censored
        at the last adequate assessment on or before it (docs/efficacy.md §6, §10, §15)."""
        if self.first_dose_on is None:
            return None
        starts_on = new_anticancer_therapy_on(
            self.first_dose_on, (t.starts_on for t in self.survival.new_therapies)
        )
        return next((t for t in self.survival.new_therapies if t.starts_on == starts_on), None)

    @property
    def new_therapy_on(self) -> date | None:
        therapy = self.new_therapy
        return therapy.starts_on if therapy else None

    @property
    def last_known_alive(self) -> tuple[date, str] | None:
        """The last date the subject was known alive and where it comes from: the latest of the
        survival contacts, the visits done, the doses and the tumour assessments on or after
        the first dose (docs/efficacy.md §9, §15). None after a death or before a first dose."""
        if self.first_dose_on is None:
            return None
        return last_known_alive(
            self.first_dose_on,
            (
                (self.survival.last_alive_contact_on, "survival contact"),
                (self.survival.last_visit_on, "visit"),
                (self.last_dose_on, "dose"),
                *((s.assessment.assessed_on, "tumour assessment") for s in self.scans),
            ),
            death_on=self.subject.death_date,
        )

    @property
    def last_known_alive_on(self) -> date | None:
        known = self.last_known_alive
        return known[0] if known else None


def _dose_dates(subject_ids: list[int]) -> dict[int, tuple]:
    rows = (
        DoseAdministration.objects.filter(subject_id__in=subject_ids)
        .values("subject_id")
        .annotate(first=Min("infusion_start"), last=Max("infusion_start"))
    )
    return {row["subject_id"]: (row["first"], row["last"]) for row in rows}


def _scans_by_subject(subject_ids: list[int]) -> dict[int, list[Scan]]:
    assessments = TumourAssessment.objects.filter(subject_id__in=subject_ids).prefetch_related(
        Prefetch(
            "observations",
            queryset=LesionObservation.objects.select_related("lesion", "merged_into").order_by(
                "lesion__code"
            ),
        )
    )
    found: dict[int, list[Scan]] = defaultdict(list)
    for assessment in assessments.order_by("assessed_on"):
        found[assessment.subject_id].append(Scan(assessment, list(assessment.observations.all())))
    return found


def _derive(
    subject: Subject,
    scans: list[Scan],
    doses: tuple | None,
    settings: EfficacySettings,
    survival: SurvivalFollowUp,
) -> SubjectEfficacy:
    tz = subject.site.timezone
    first = local_date(doses[0], tz) if doses else None
    last = local_date(doses[1], tz) if doses else None
    found = SubjectEfficacy(
        subject, first, last, scans, Evaluation(None), settings, survival=survival
    )
    if first is not None:
        found.notes = [
            f"New anticancer therapy {t.regimen} starting on {t.starts_on} (survival contact of "
            f"{t.contact_date}) is before the first dose ({first}): not counted as new therapy; "
            "check the contact."
            for t in survival.new_therapies
            if t.starts_on < first
        ]
    therapy_on = found.new_therapy_on
    found.evaluation = evaluate(settings.recist(), subject.label, first, scans, therapy_on)
    if first is None:
        return found
    result = found.evaluation.result
    facts = SubjectFollowUp(
        subject.label,
        first,
        from_time_points(result.time_points) if result else (),
        baseline_assessed=result is not None,
        death_on=subject.death_date,
        last_known_alive_on=found.last_known_alive_on,
        new_therapy_on=therapy_on,
    )
    found.pfs = progression_free_survival(settings.endpoints(), facts)
    found.os = overall_survival(facts)
    if result is not None:
        found.dor = duration_of_response(settings.endpoints(), facts, result.best)
    return found


def derive_many(subjects: list[Subject], settings: EfficacySettings) -> dict[int, SubjectEfficacy]:
    """Each subject's record, in five queries whatever their number (the subjects are already
    scoped by the caller): the doses, the assessments and their observations, the survival
    contacts and the visits done (visits.selectors.survival_follow_up)."""
    ids = [s.pk for s in subjects]
    doses = _dose_dates(ids)
    scans = _scans_by_subject(ids)
    survival = survival_follow_up(ids)
    return {
        s.pk: _derive(s, scans.get(s.pk, []), doses.get(s.pk), settings, survival[s.pk])
        for s in subjects
    }


def subject_efficacy(user, subject: Subject) -> SubjectEfficacy:
    """One subject's record, for a user who may see the subject (the caller has checked)."""
    subject = visible_subjects(user).get(pk=subject.pk)
    return derive_many([subject], settings_for(subject.study_id))[subject.pk]


@dataclass
class RateRow:
    label: str
    orr: Rate | None
    dcr: Rate | None
    n: int


@dataclass
class Curve:
    name: str
    km: KaplanMeier | None
    records: list[TimeToEvent]


@dataclass
class StudyEfficacy:
    settings: EfficacySettings
    subjects: list[SubjectEfficacy]
    rates: list[RateRow]
    curves: list[Curve]

    @property
    def evaluable(self) -> list[SubjectEfficacy]:
        return [s for s in self.subjects if s.best is not None]

    @property
    def disagreements(self) -> list[SubjectEfficacy]:
        return [s for s in self.subjects if s.disagreements]


def _rates(label: str, group: list[SubjectEfficacy], settings: EfficacySettings) -> RateRow:
    """ORR over treated subjects with measurable disease at baseline (the default population,
    docs/efficacy.md §11); DCR over the same, or over every treated subject with a baseline
    when non-CR/non-PD counts (non-target disease only)."""
    measurable = {
        s.label: s.best
        for s in group
        if s.best is not None
        and s.evaluation.result is not None
        and s.evaluation.result.baseline.disease is Disease.MEASURABLE
    }
    every = {s.label: s.best for s in group if s.best is not None}
    control = every if settings.dcr_includes_non_cr_non_pd else measurable
    return RateRow(
        label,
        objective_response_rate(measurable, denominator_name=DENOMINATOR) if measurable else None,
        disease_control_rate(
            control,
            denominator_name=DENOMINATOR_ALL
            if settings.dcr_includes_non_cr_non_pd
            else DENOMINATOR,
            include_non_cr_non_pd=settings.dcr_includes_non_cr_non_pd,
        )
        if control
        else None,
        len(measurable),
    )


def _curve(name: str, records: list[TimeToEvent], settings: EfficacySettings) -> Curve:
    km = (
        kaplan_meier(
            [Observation.from_time_to_event(r) for r in records], conf_type=settings.km_conf_type
        )
        if records
        else None
    )
    return Curve(name, km, records)


def study_efficacy(user, study_id: int) -> StudyEfficacy:
    """Every visible subject's responses and endpoints, the rates and the curves."""
    settings = settings_for(study_id)
    subjects = list(
        visible_subjects(user, study_id).filter(cohort__isnull=False).order_by("subject_number")
    )
    by_pk = derive_many(subjects, settings)
    derived = [by_pk[s.pk] for s in subjects]
    treated = [d for d in derived if d.first_dose_on is not None]
    levels: dict[int, list[SubjectEfficacy]] = defaultdict(list)
    for item in treated:
        levels[item.dose_level_number].append(item)
    rates = [_rates(group[0].dose_level, group, settings) for _, group in sorted(levels.items())]
    rates.append(_rates("All dose levels", treated, settings))
    curves = [
        _curve("Progression-free survival", [d.pfs for d in treated if d.pfs], settings),
        _curve("Overall survival", [d.os for d in treated if d.os], settings),
        _curve("Duration of response", [d.dor for d in treated if d.dor], settings),
    ]
    return StudyEfficacy(settings, derived, rates, curves)


RESPONSE_ORDER = [r.value for r in Response]
