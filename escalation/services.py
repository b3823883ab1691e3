"""Evaluation of escalation tracks as data arrives, and with the passing of time.

A change to a subject, dose or AE (announced by the clinical services through `core.events`)
records in the same transaction that the subject's track owes an evaluation, and enqueues the
evaluation after commit. The evaluation loads the track, asks the pure rules core, refreshes each
subject's DLT status and stores a recommendation only when it differs from the track's current
one. The periodic sweep (`tasks.sweep`) evaluates whatever is owed, so nothing depends on the
broker being up at commit time.
"""

import hashlib
import json
import logging
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone

from core.events import ClinicalDataChanged
from subjects.models import Subject
from subjects.services import occupied_places
from trial.models import Cohort, EscalationTrack

from . import facts, rules
from .models import Recommendation, SubjectDltStatus, TrackEvaluationState
from .notifications import notify_adverse_event, notify_dose_deviation, notify_recommendation

log = logging.getLogger(__name__)

# A current recommendation with one of these actions asks nothing of the committee.
NO_DECISION_ACTIONS = {rules.Action.WAIT}


@dataclass(frozen=True)
class EvaluationResult:
    track_id: int
    recommendation: Recommendation | None  # the track's current recommendation
    created: bool  # a new recommendation was stored by this evaluation


def on_clinical_data_changed(event: ClinicalDataChanged) -> None:
    """Subscribed to the clinical services' events (inside their transaction)."""
    subject = Subject.all_objects.select_related("cohort").get(pk=event.subject_id)
    if subject.cohort_id is not None:
        request_evaluation(subject.cohort.track_id)
    if event.record == "adverse_event":
        notify_adverse_event(event.record_id)
    elif event.record == "dose":
        notify_dose_deviation(event.record_id)


def request_evaluation(track_id: int) -> None:
    """Record that the track owes an evaluation, and enqueue it once the transaction commits."""
    now = timezone.now()
    # Always write the row: the lock this takes (until commit) makes an evaluation that starts
    # meanwhile wait for this data, and requested_at later than its start keeps the debt open.
    if not TrackEvaluationState.objects.filter(track_id=track_id).update(requested_at=now):
        TrackEvaluationState.objects.get_or_create(
            track_id=track_id, defaults={"requested_at": now}
        )
    transaction.on_commit(lambda: enqueue_evaluation(track_id), robust=True)


def enqueue_evaluation(track_id: int) -> None:
    from .tasks import evaluate_track_task

    try:
        evaluate_track_task.delay(track_id)
    except Exception:  # broker unreachable: the sweep evaluates what is owed
        log.exception(
            "could not enqueue the evaluation of track %s; the sweep will make it", track_id
        )


def recommendation_key(recommendation: rules.Recommendation) -> dict:
    """What makes two recommendations the same decision (not the evaluation date)."""
    level = recommendation.dose_level
    return {
        "action": str(recommendation.action),
        "rule": str(recommendation.rule),
        "text": recommendation.text,
        "dose_level": level.number if level else None,
        "n_subjects": recommendation.n_subjects,
        "subjects_to_replace": list(recommendation.subjects_to_replace),
        "mtd_level": recommendation.mtd_level.number if recommendation.mtd_level else None,
        "mad_level": recommendation.mad_level.number if recommendation.mad_level else None,
        "exceeded_level": recommendation.exceeded_level.number
        if recommendation.exceeded_level
        else None,
        "flags": [str(f) for f in recommendation.flags],
    }


def recommendation_as_data(recommendation: rules.Recommendation) -> dict:
    def level(value):
        return {"id": value.number, "label": value.label} if value else None

    trigger = recommendation.titration_trigger
    return {
        "action": str(recommendation.action),
        "rule": str(recommendation.rule),
        "text": recommendation.text,
        "n_subjects": recommendation.n_subjects,
        "subjects_to_replace": list(recommendation.subjects_to_replace),
        "flags": [str(f) for f in recommendation.flags],
        "dose_level": level(recommendation.dose_level),
        "mtd_level": level(recommendation.mtd_level),
        "mad_level": level(recommendation.mad_level),
        "exceeded_level": level(recommendation.exceeded_level),
        "pending_subjects": list(recommendation.pending_subjects),
        "wait_until": recommendation.wait_until.isoformat() if recommendation.wait_until else None,
        "reevaluate_on": recommendation.reevaluate_on.isoformat()
        if recommendation.reevaluate_on
        else None,
        "notes": list(recommendation.notes),
        "titration_trigger": None
        if trigger is None
        else {
            "setting": str(trigger.setting),
            "dose_level": level(trigger.dose_level),
            "description": trigger.description,
            "events": [
                {
                    "subject": e.subject_number,
                    "kind": e.kind,
                    "event": e.event.describe(),
                    "ae_id": e.event.reference,
                }
                for e in trigger.events
            ],
        },
        "levels": [
            {
                "dose_level": level(summary.dose_level),
                "mode": str(summary.mode),
                "enrolled": summary.enrolled,
                "evaluable": summary.evaluable,
                "dlts": summary.dlts,
                "subjects": [
                    {
                        "number": s.subject_number,
                        "status": str(s.status),
                        "window_start": s.window.start.isoformat() if s.window else None,
                        "window_end": s.window.end.isoformat() if s.window else None,
                        "reason": s.reason.value if s.reason else "",
                        "dlt": s.dlt_event.describe() if s.dlt_event else "",
                        "replaced": s.replaced,
                    }
                    for s in summary.subjects
                ],
            }
            for summary in recommendation.levels
        ],
        "rules_version": recommendation.rules_version,
    }


def needs_committee(
    recommendation: rules.Recommendation, track: EscalationTrack, track_input: rules.Track
) -> bool:
    """Does this recommendation ask the committee for a step?

    Waiting asks nothing. Enrolling into places a cohort already has open (the committee opened
    it) carries out a decision already taken; so does replacing a non-evaluable subject, unless
    that subject had a severe event in the window without a DLT call (grade 5, or related grade
    >= 3): the committee then looks before anyone is replaced. Everything else (escalate, add a
    cohort, fill a lower dose, MTD, MAD, stop, pause, complete) needs a signed confirmation.
    """
    action = recommendation.action
    if action in NO_DECISION_ACTIONS:
        return False
    if action is rules.Action.REPLACE:
        return _severe_event_without_dlt_call(recommendation, track_input)
    if action is rules.Action.ENROLL and recommendation.dose_level is not None:
        open_cohorts = Cohort.objects.filter(
            track=track, dose_level_id=recommendation.dose_level.number, status=Cohort.Status.OPEN
        )
        free = sum(cohort.planned_size - occupied_places(cohort) for cohort in open_cohorts)
        return free < recommendation.n_subjects
    return True


def _severe_event_without_dlt_call(
    recommendation: rules.Recommendation, track_input: rules.Track
) -> bool:
    windows = {s.subject_number: s.window for s in recommendation.subjects}
    for subject in track_input.subjects:
        if subject.number not in recommendation.subjects_to_replace:
            continue
        window = windows.get(subject.number)
        for event in subject.adverse_events:
            inside = window is not None and window.contains(event.onset)
            severe = event.grade == 5 or (event.related and event.grade >= 3)
            if inside and severe and not event.is_dlt:
                return True
    return False


def cleared_dose_levels(track: EscalationTrack) -> list[int]:
    """Ids of the dose levels the track's escalation has passed (offered to a Q2W track)."""
    subjects = list(facts.track_subjects(track))
    return [
        level.number
        for level in rules.cleared_levels(
            facts.design_settings(track.study),
            facts.track_facts(track, subjects),
            facts.evaluation_today(subjects),
        )
    ]


def _refresh_subject_statuses(
    track, subjects: list[Subject], recommendation: rules.Recommendation, now
) -> None:
    by_number = {s.subject_number: s for s in subjects}
    existing = {
        row.subject_id: row for row in SubjectDltStatus.objects.filter(subject__in=subjects)
    }
    for evaluation in recommendation.subjects:
        subject = by_number[evaluation.subject_number]
        values = {
            "track": track,
            "status": str(evaluation.status),
            "window_start": evaluation.window.start if evaluation.window else None,
            "window_end": evaluation.window.end if evaluation.window else None,
            "reason": evaluation.reason.value if evaluation.reason else "",
            "rule": evaluation.rule,
            "dlt_adverse_event_id": int(evaluation.dlt_event.reference)
            if evaluation.dlt_event
            else None,
            "qualifying_infusions": evaluation.qualifying_infusions,
            "required_infusions": evaluation.required_infusions,
            "rules_version": recommendation.rules_version,
        }
        row = existing.get(subject.pk)
        if row is None:
            SubjectDltStatus.objects.create(subject=subject, evaluated_at=now, **values)
        elif (
            any(getattr(row, k) != v for k, v in values.items() if k != "track")
            or row.track_id != track.pk
        ):
            for key, value in values.items():
                setattr(row, key, value)
            row.evaluated_at = now
            row.save()


def evaluate_track(track_id: int) -> EvaluationResult:
    """Evaluate one track now. Idempotent: the same data gives the same single recommendation."""
    started = timezone.now()
    with transaction.atomic():
        TrackEvaluationState.objects.get_or_create(track_id=track_id)
        # Lock the track's state row: evaluations of one track run one at a time.
        state = TrackEvaluationState.objects.select_for_update().get(track_id=track_id)
        track = EscalationTrack.objects.select_related(
            "study", "regimen", "lowest_dose_level", "highest_dose_level"
        ).get(pk=track_id)
        current = Recommendation.objects.filter(
            track=track, status__in=Recommendation.CURRENT
        ).first()
        if track.status == EscalationTrack.Status.PLANNED:
            _mark_evaluated(state, started, next_on=None)
            return EvaluationResult(track_id, current, created=False)
        subjects = list(facts.track_subjects(track))
        track_input = facts.track_facts(track, subjects)
        today = facts.evaluation_today(subjects)
        result = rules.recommend(facts.design_settings(track.study), track_input, today)
        _refresh_subject_statuses(track, subjects, result, started)
        decision_needed = needs_committee(result, track, track_input)
        # Whether it asks the committee for a step is part of the recommendation: the same words
        # that now need a decision are a new recommendation.
        key = {**recommendation_key(result), "needs_decision": decision_needed}
        if current is not None and current.data.get("key") == key:
            _mark_evaluated(state, started, next_on=result.reevaluate_on)
            return EvaluationResult(track_id, current, created=False)
        inputs = facts.facts_as_data(track_input)
        digest = hashlib.sha256(
            json.dumps([inputs, result.rules_version], sort_keys=True).encode()
        ).hexdigest()
        previous = Recommendation.objects.filter(track=track).order_by("-sequence").first()
        if current is not None:
            current.status = Recommendation.Status.SUPERSEDED
            current.superseded_at = started
            current.save(update_fields=["status", "superseded_at"])
        try:
            with transaction.atomic():
                recommendation = Recommendation.objects.create(
                    track=track,
                    sequence=(previous.sequence + 1) if previous else 1,
                    created_at=started,
                    evaluated_on=today,
                    action=str(result.action),
                    rule=str(result.rule),
                    text=result.text,
                    dose_level_id=result.dose_level.number if result.dose_level else None,
                    n_subjects=result.n_subjects,
                    data={**recommendation_as_data(result), "key": key},
                    inputs=inputs,
                    input_digest=digest,
                    rules_version=result.rules_version,
                    status=(
                        Recommendation.Status.PENDING
                        if decision_needed
                        else Recommendation.Status.INFORMATION
                    ),
                )
        except IntegrityError:
            # Another evaluation stored the current recommendation first (the unique constraint
            # is the guard; the row lock above makes this rare).
            current = Recommendation.objects.filter(
                track=track, status__in=Recommendation.CURRENT
            ).first()
            return EvaluationResult(track_id, current, created=False)
        if (
            result.action is rules.Action.PAUSE_EXPANSION
            and track.status == EscalationTrack.Status.ACTIVE
        ):
            # The safety monitoring rule acts at once; the committee then confirms or resumes.
            track.status = EscalationTrack.Status.PAUSED
            track._change_reason = f"Paused by the safety monitoring rule: {result.text}"
            track.save(update_fields=["status"])
        _mark_evaluated(state, started, next_on=result.reevaluate_on)
        transaction.on_commit(lambda: _announce(recommendation.pk), robust=True)
    return EvaluationResult(track_id, recommendation, created=True)


def _mark_evaluated(state: TrackEvaluationState, started, *, next_on) -> None:
    # Only what was requested before this evaluation started is covered by it.
    if state.requested_at is not None and state.requested_at <= started:
        state.requested_at = None
    state.evaluated_at = timezone.now()
    state.next_evaluation_on = next_on
    state.last_error = ""
    state.save()


def _announce(recommendation_id: int) -> None:
    notify_recommendation(recommendation_id)
