"""Build the rules core's plain inputs from the database, in a fixed number of queries.

The core sees dose levels by their database id (`DoseLevel.number` = pk), so an intermediate
dose the committee adds is just another level; labels carry the protocol wording.
"""

import operator
from datetime import date
from functools import reduce
from zoneinfo import ZoneInfo

from django.db.models import Prefetch, Q
from django.utils import timezone

from dosing.models import DoseAdministration
from safety.models import AdverseEvent
from subjects.models import Subject
from trial.models import EscalationTrack, Study

from . import rules
from .rules.designs.config import DesignConfig, parse_design


def design_settings(study: Study) -> rules.DesignSettings:
    boundaries = {}
    if study.expansion_boundaries:
        boundaries["expansion_boundaries"] = tuple(tuple(row) for row in study.expansion_boundaries)
    return rules.DesignSettings(
        **boundaries,
        expansion_counts_escalation_subjects=study.expansion_counts_escalation_subjects,
        top_dose_rule=study.top_dose_rule,
        end_of_treatment_on_last_window_day=study.end_of_treatment_on_last_window_day,
        minimum_infusions=study.min_infusions_in_window,
        titration_levels=study.titration_levels,
        titration_trigger=study.titration_trigger,
        exceeded_variant=study.exceeded_variant,
        window_convention=study.dlt_window_convention,
        minimum_exposure_fraction=float(study.min_exposure_fraction),
        cohort_size=study.cohort_size,
        expanded_cohort_size=study.expanded_cohort_size,
        expansion_cohort_size=study.expansion_cohort_size,
    )


def track_design(track: EscalationTrack, *, n_levels: int) -> DesignConfig | None:
    """The track's dose-finding design from its stored settings (docs/designs.md §12), or None
    for the 3+3 of the escalation core."""
    if not track.design or track.phase != EscalationTrack.Phase.ESCALATION:
        return None
    return parse_design(
        track.design,
        n_levels=n_levels,
        titration_levels=track.study.titration_levels if track.uses_titration else 0,
        window_days=track.regimen.dlt_window_days,
    )


def track_subjects(track: EscalationTrack):
    """Every subject ever enrolled on the track, with doses and AEs (voided records excluded)."""
    return _with_facts(Subject.objects.filter(cohort__track=track), track.regimen)


def escalation_subjects_at(track: EscalationTrack):
    """On an expansion track: the subjects treated at its dose level and regimen on the study's
    escalation tracks (they count toward the expansion when the study says so)."""
    return _with_facts(
        Subject.objects.filter(
            cohort__track__study_id=track.study_id,
            cohort__track__phase=EscalationTrack.Phase.ESCALATION,
            cohort__track__regimen_id=track.regimen_id,
            cohort__dose_level_id=track.lowest_dose_level_id,
        ),
        track.regimen,
    )


# The adverse events the rules read (docs/operations.md §2): a DLT call (the investigator's or the
# committee's), a grade 5, or a related event of grade 2 or more (titration's trigger, the severe
# event nobody called a DLT). The others cannot change a decision, and in a large study they are
# most of the rows: they are not loaded.
RULES_READ_EVENTS = (
    Q(dlt_investigator=True)
    | Q(dlt_adjudicated=True)
    | Q(grade__gte=5)
    | Q(grade__gte=2, relationship__in=AdverseEvent.RELATED)
)


# The columns `subject_facts` reads, and no others (docs/operations.md §2): clinical rows are wide
# (audit, free text, seriousness criteria), and an evaluation under load spends most of its time
# turning rows into objects.
DOSE_COLUMNS = ("subject_id", "cycle", "day", "administered_on", "actual_dose_per_kg",
                "planned_dose_per_kg")  # fmt: skip
EVENT_COLUMNS = ("subject_id", "onset_date", "grade", "relationship", "dlt_investigator",
                 "dlt_attested_at", "dlt_adjudicated", "ctcae_term__term")  # fmt: skip


def in_window_slots(regimen) -> Q:
    """The infusions planned inside the regimen's DLT window, by cycle and day: the only doses the
    rules read (`subject_facts`); a Q3W track's later cycles are most of its dose rows."""
    slots = [Q(cycle=cycle, day=day) for cycle, day in regimen.dlt_window_infusions()]
    return reduce(operator.or_, slots) if slots else Q(pk__in=[])


def _with_facts(subjects, regimen):
    return (
        subjects.select_related("site", "cohort")
        .prefetch_related(
            Prefetch(
                "dose_administrations",
                queryset=DoseAdministration.objects.filter(in_window_slots(regimen))
                .only(*DOSE_COLUMNS)
                .order_by("administered_on", "cycle", "day"),
            ),
            Prefetch(
                "adverse_events",
                queryset=AdverseEvent.objects.filter(RULES_READ_EVENTS)
                .select_related("ctcae_term")
                .only(*EVENT_COLUMNS)
                .order_by("onset_date", "id"),
            ),
            "replaced_by",
        )
        .order_by("enrollment_date", "id")
    )


def left_on(subject: Subject, study: Study) -> date | None:
    """The day the subject left the DLT window's observation, if any (docs/escalation.md §2.2):
    death or the end of study, and, under the study's setting, the end of treatment."""
    dates = [subject.end_of_study_date, subject.death_date]
    if study.left_window_on == Study.LeftWindowOn.END_OF_TREATMENT:
        dates.append(subject.end_of_treatment_date)
    dates = [d for d in dates if d]
    return min(dates) if dates else None


def subject_facts(
    subject: Subject, *, study: Study, window_slots: set[tuple[int, int]]
) -> rules.Subject:
    """The subject as the rules see it. Only the infusions planned inside the DLT window (by
    cycle and day) are passed: a later cycle's dose cannot stand in for a missed one."""
    return rules.Subject(
        number=subject.subject_number,
        dose_level=subject.cohort.dose_level_id,
        doses=tuple(
            rules.Dose(
                given_on=dose.administered_on,
                fraction=float(dose.actual_dose_per_kg / dose.planned_dose_per_kg),
            )
            for dose in subject.dose_administrations.all()
            if (dose.cycle, dose.day) in window_slots
        ),
        adverse_events=tuple(
            rules.AdverseEvent(
                onset=event.onset_date,
                grade=event.grade,
                related=event.is_related,
                dlt_investigator=event.dlt_investigator,
                dlt_adjudicated=event.dlt_adjudicated,
                term=event.ctcae_term.term,
                reference=str(event.pk),
                dlt_attested=not event.dlt_awaiting_attestation,
            )
            for event in subject.adverse_events.all()
        ),
        left_on=left_on(subject, study),
        replaced=subject.is_replaced,
    )


def track_facts(
    track: EscalationTrack, subjects: list[Subject], *, today: date | None = None
) -> rules.Track:
    """The track as the rules see it: its subjects, and what binds it to other tracks (the
    reference track's cleared levels on `today`; an expansion's escalation subjects)."""
    regimen = track.regimen
    window_slots = set(regimen.dlt_window_infusions())
    today = today or evaluation_today(subjects)
    study = track.study
    reference = None
    if track.reference_track_id is not None and track.phase == EscalationTrack.Phase.ESCALATION:
        source = EscalationTrack.objects.select_related("study", "regimen").get(
            pk=track.reference_track_id
        )
        source_subjects = list(track_subjects(source))
        reference = rules.reference_from(
            design_settings(study),
            _plain_track(source, source_subjects, window_slots=None),
            today,
            final=source.status
            in (EscalationTrack.Status.COMPLETED, EscalationTrack.Status.STOPPED),
        )
    escalation = ()
    if (
        track.phase == EscalationTrack.Phase.EXPANSION
        and track.lowest_dose_level_id is not None
        and study.expansion_counts_escalation_subjects
    ):
        escalation = tuple(
            subject_facts(s, study=study, window_slots=window_slots)
            for s in escalation_subjects_at(track)
        )
    return _plain_track(
        track,
        subjects,
        window_slots=window_slots,
        reference=reference,
        escalation_subjects=escalation,
    )


def _plain_track(track, subjects, *, window_slots, reference=None, escalation_subjects=()):
    regimen = track.regimen
    if window_slots is None:
        window_slots = set(regimen.dlt_window_infusions())
    dose_levels = tuple(
        rules.DoseLevel(level.pk, level.label, float(level.amount)) for level in track.dose_levels()
    )
    return rules.Track(
        name=track.name,
        regimen=regimen.code,
        dlt_window_days=regimen.dlt_window_days,
        planned_infusion_days=tuple(regimen.dlt_window_infusion_days()),
        dose_levels=dose_levels,
        subjects=tuple(
            subject_facts(s, study=track.study, window_slots=window_slots) for s in subjects
        ),
        titration=track.uses_titration,
        phase=track.phase,
        interval_days=regimen.interval_days,
        reference=reference,
        escalation_subjects=escalation_subjects,
        design=track_design(track, n_levels=len(dose_levels)),
    )


def evaluation_today(subjects: list[Subject]) -> date:
    """The evaluation's 'today': the earliest local date among the track's sites.

    A DLT window is complete only once its last day has passed at the subject's site; taking the
    site furthest behind UTC never declares a window complete while it is still open somewhere.
    """
    now = timezone.now()
    zones = {s.site.timezone for s in subjects} or {"UTC"}
    return min(now.astimezone(ZoneInfo(zone)).date() for zone in zones)


def facts_as_data(track: rules.Track) -> dict:
    """The per-subject inputs, as stored with each recommendation."""
    return {
        "track": track.name,
        "regimen": track.regimen,
        "dlt_window_days": track.dlt_window_days,
        "planned_infusion_days": list(track.planned_infusion_days),
        "dose_levels": [{"id": level.number, "label": level.label} for level in track.dose_levels],
        "titration": track.titration,
        "phase": str(track.phase),
        "reference": None
        if track.reference is None
        else {
            "track": track.reference.name,
            "regimen": track.reference.regimen,
            "cleared": [level.number for level in track.reference.cleared],
            "exceeded": [level.number for level in track.reference.exceeded],
            "final": track.reference.final,
        },
        "escalation_subjects": [s.number for s in track.escalation_subjects],
        **({"design": dict(track.design.values)} if track.design is not None else {}),
        "subjects": [
            {
                "number": s.number,
                "dose_level": s.dose_level,
                "doses": [
                    {"given_on": d.given_on.isoformat(), "fraction": round(d.fraction, 6)}
                    for d in s.doses
                ],
                "adverse_events": [
                    {
                        "id": e.reference,
                        "term": e.term,
                        "onset": e.onset.isoformat(),
                        "grade": e.grade,
                        "related": e.related,
                        "dlt_investigator": e.dlt_investigator,
                        "dlt_adjudicated": e.dlt_adjudicated,
                        **(
                            {"dlt_call": "proposed, awaiting investigator attestation"}
                            if e.awaiting_attestation
                            else {}
                        ),
                    }
                    for e in s.adverse_events
                ],
                "left_on": s.left_on.isoformat() if s.left_on else None,
                "replaced": s.replaced,
            }
            for s in (*track.subjects, *track.escalation_subjects)
        ],
    }
