"""Evaluation of escalation tracks as data arrives, and with the passing of time.

A change to a subject, dose or AE records that the subject's track owes an evaluation and queues
it after commit (`escalation/triggers.py`). The evaluation loads the track, asks the pure rules
core, refreshes each subject's DLT status and stores a recommendation only when it decides
something other than the track's current one (the same decision with newer evidence is brought
up to date in place). It neither enqueues nor notifies: the task around it
(`tasks.evaluate_and_announce`) records the monitors' notification of a recommendation that
awaits the committee in the evaluation's transaction and sends it after commit. The periodic sweep (`tasks.sweep`, or `manage.py sweep --every`) evaluates whatever is owed, so
nothing depends on the broker being up at commit time (docs/escalation.md §8).

One lock order everywhere (docs/escalation.md §8), so data entry, evaluation and the committee
never wait on each other in a cycle: a committee decision locks the track's open cohorts (as an
enrollment does first), then the tracks' evaluation states in track order, then the
recommendation; a clinical write locks its record (FOR NO KEY UPDATE, `core.records`) and then
the evaluation states of the tracks it concerns, in track order; an evaluation locks its track's
state, then the recommendation. PostgreSQL's aborts of a cycle that remains (40P01, 40001) are
run again (`core.records.retry_on_conflict`).
"""

import hashlib
import json
import logging
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from core.errors import RecordLocked
from core.events import check_study_writable
from core.records import retry_on_conflict
from subjects.models import Subject
from subjects.selectors import occupied_places
from trial.models import Cohort, EscalationTrack

from . import facts, rules
from .design_evidence import evidence_as_data
from .models import CommitteeDecision, Recommendation, SubjectDltStatus, TrackEvaluationState

log = logging.getLogger(__name__)

Step = CommitteeDecision.Step

# The committee's steps that close or pause a track, as the action of the recommendation they
# carry out (rules.CarriedOut.closed_by).
CLOSING_STEPS = {
    Step.DECLARE_MTD: rules.Action.DECLARE_MTD,
    Step.DECLARE_MAD: rules.Action.MAD_REACHED,
    Step.STOP_TRACK: rules.Action.STOP,
    Step.PAUSE_TRACK: rules.Action.PAUSE_EXPANSION,
    Step.COMPLETE_TRACK: rules.Action.EXPANSION_COMPLETE,
}


@dataclass(frozen=True)
class EvaluationResult:
    track_id: int
    recommendation: Recommendation | None  # the track's current recommendation
    created: bool  # a new recommendation was stored by this evaluation
    refused: str = ""  # why nothing was stored (a locked study database)


def study_write_refusal(study_id: int) -> str:
    """Why the study's data may not change now (its database is locked, docs/quality.md §5),
    or "". Inside a transaction, the check holds until commit against a lock being taken."""
    try:
        check_study_writable(study_id)
    except RecordLocked as error:
        return " ".join(error.messages)
    return ""


def lock_tracks(track_ids, *, cohorts: bool = False) -> dict[int, TrackEvaluationState]:
    """Take the tracks' locks in the one order (module docstring): with `cohorts`, their open,
    full and planned cohorts first (an enrollment locks its cohort before anything else), then
    their evaluation states in track order. Inside a transaction."""
    ids = sorted({pk for pk in track_ids if pk is not None})
    if cohorts:
        list(
            Cohort.objects.select_for_update(of=("self",), no_key=True)
            .filter(track_id__in=ids)
            .exclude(status=Cohort.Status.CLOSED)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
    for pk in ids:
        TrackEvaluationState.objects.get_or_create(track_id=pk)
    return {
        state.track_id: state
        for state in TrackEvaluationState.objects.select_for_update()
        .filter(track_id__in=ids)
        .order_by("track_id")
    }


def carried_out_state(track: EscalationTrack) -> rules.CarriedOut:
    """The facts the rules need to tell a carried-out step from a new one: the free places of
    the track's open cohorts by dose level, its status, and the committee's step that closed or
    paused it (docs/escalation.md §7)."""
    places = [
        rules.OpenPlaces(cohort.dose_level_id, cohort.planned_size - occupied_places(cohort))
        for cohort in Cohort.objects.filter(track=track, status=Cohort.Status.OPEN)
    ]
    latest = (
        CommitteeDecision.objects.filter(
            (Q(track=track) & ~Q(step=Step.OPEN_TRACK)) | Q(target_track=track)
        )
        .order_by("-decided_at", "-pk")
        .first()
    )
    closed_by = CLOSING_STEPS.get(latest.step) if latest is not None else None
    return rules.CarriedOut(
        status=track.status,
        open_places=tuple(places),
        closed_by=closed_by,
        closed_at_level=latest.dose_level_id if closed_by is not None else None,
    )


def stored_decision_key(recommendation: Recommendation) -> dict:
    """`rules.decision_key` of a stored recommendation (read from its data, so recommendations
    stored before the key existed compare too), with whether it awaits the committee."""
    data = recommendation.data or {}

    def level(name):
        value = data.get(name)
        return value.get("id") if value else None

    return {
        "action": data.get("action", recommendation.action),
        "dose_level": level("dose_level"),
        "n_subjects": data.get("n_subjects", recommendation.n_subjects),
        "subjects_to_replace": list(data.get("subjects_to_replace", [])),
        "mtd_level": level("mtd_level"),
        "mad_level": level("mad_level"),
        "needs_decision": recommendation.status == Recommendation.Status.PENDING,
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
        **(
            {"design": evidence_as_data(recommendation.design)}
            if recommendation.design is not None
            else {}
        ),
    }


def cleared_dose_levels(track: EscalationTrack) -> list[int]:
    """Ids of the dose levels the track's escalation has passed (offered to a Q2W track)."""
    subjects = list(facts.track_subjects(track))
    today = facts.evaluation_today(subjects)
    return [
        level.number
        for level in rules.cleared_levels(
            facts.design_settings(track.study),
            facts.track_facts(track, subjects, today=today),
            today,
        )
    ]


def counted_escalation_subjects(track: EscalationTrack) -> int:
    """On an expansion track of a study that counts them: the subjects treated at its dose and
    regimen on escalation who count toward the expansion (evaluable, or still in their window)."""
    if track.phase != EscalationTrack.Phase.EXPANSION or track.lowest_dose_level_id is None:
        return 0
    if not track.study.expansion_counts_escalation_subjects:
        return 0
    subjects = list(facts.escalation_subjects_at(track))
    today = facts.evaluation_today(subjects)
    track_input = facts.track_facts(track, [], today=today)
    settings = facts.design_settings(track.study)
    return sum(
        1
        for s in track_input.escalation_subjects
        if (e := rules.evaluate_subject(settings, track_input, s, today)).evaluable
        or e.awaiting_outcome
    )


def _refresh_subject_statuses(
    track, subjects: list[Subject], recommendation: rules.Recommendation, now
) -> None:
    by_number = {s.subject_number: s for s in subjects}
    existing = {
        row.subject_id: row for row in SubjectDltStatus.objects.filter(subject__in=subjects)
    }
    for evaluation in recommendation.subjects:
        subject = by_number.get(evaluation.subject_number)
        if subject is None:
            continue  # an escalation subject an expansion counts: its own track keeps its status
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


@retry_on_conflict
def evaluate_track(track_id: int) -> EvaluationResult:
    """Evaluate one track now. Idempotent: the same data gives the same single recommendation."""
    started = timezone.now()
    with transaction.atomic():
        # The track's state row first: evaluations of one track run one at a time, and every
        # other writer of this track's recommendations takes the same row first.
        state = lock_tracks([track_id])[track_id]
        track = EscalationTrack.objects.select_related(
            "study", "regimen", "lowest_dose_level", "highest_dose_level"
        ).get(pk=track_id)
        current = (
            Recommendation.objects.select_for_update()
            .filter(track=track, status__in=Recommendation.CURRENT)
            .first()
        )
        if track.status == EscalationTrack.Status.PLANNED:
            _mark_evaluated(state, started, next_on=None)
            return EvaluationResult(track_id, current, created=False)
        refused = study_write_refusal(track.study_id)
        if refused:
            # A locked study database is read-only for everyone: no recommendation, DLT status
            # or pause is stored. Unlocking asks for the evaluations again (quality.services).
            log.info("track %s: evaluation stores nothing: %s", track_id, refused)
            _mark_evaluated(state, started, next_on=None)
            return EvaluationResult(track_id, current, created=False, refused=refused)
        subjects = list(facts.track_subjects(track))
        today = facts.evaluation_today(subjects)
        track_input = facts.track_facts(track, subjects, today=today)
        result = rules.recommend(facts.design_settings(track.study), track_input, today)
        _refresh_subject_statuses(track, subjects, result, started)
        check = rules.check_decision(result, carried_out_state(track), track_input)
        # What it decides, and whether that still asks the committee: the same words that now
        # need a decision are a new recommendation; new evidence for the same decision is not.
        key = {**rules.decision_key(result), "needs_decision": check.needed}
        text = f"{result.text} ({check.reason})" if check.carried_out else result.text
        inputs = facts.facts_as_data(track_input)
        digest = hashlib.sha256(
            json.dumps([inputs, result.rules_version], sort_keys=True).encode()
        ).hexdigest()
        data = {
            **recommendation_as_data(result),
            "key": key,
            "decision": check.reason,
        }
        if current is not None and stored_decision_key(current) == key:
            _keep_evidence_current(current, result, text, data, inputs, digest, today, started)
            _mark_evaluated(state, started, next_on=result.reevaluate_on)
            return EvaluationResult(track_id, current, created=False)
        previous = Recommendation.objects.filter(track=track).order_by("-sequence").first()
        if current is not None:
            current.status = Recommendation.Status.SUPERSEDED
            current.superseded_at = started
            current._change_reason = "Superseded by newer data"
            current.save(update_fields=["status", "superseded_at"])
        try:
            with transaction.atomic():
                recommendation = Recommendation(
                    track=track,
                    sequence=(previous.sequence + 1) if previous else 1,
                    created_at=started,
                    evaluated_on=today,
                    action=str(result.action),
                    rule=str(result.rule),
                    text=text,
                    dose_level_id=result.dose_level.number if result.dose_level else None,
                    n_subjects=result.n_subjects,
                    data=data,
                    inputs=inputs,
                    input_digest=digest,
                    rules_version=result.rules_version,
                    status=(
                        Recommendation.Status.PENDING
                        if check.needed
                        else Recommendation.Status.INFORMATION
                    ),
                )
                recommendation._change_reason = "Evaluation"
                recommendation.save()
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
    return EvaluationResult(track_id, recommendation, created=True)


def _keep_evidence_current(current, result, text, data, inputs, digest, today, started) -> None:
    """The same decision on newer evidence (a corrected grade, a window that closed): the
    recommendation stays the one step asked (no new number, no new e-mail); its text and
    evidence are brought up to date as a new version, the history keeping every earlier one."""
    unchanged = current.input_digest == digest and current.text == text and current.data == data
    if unchanged:
        return
    current.text = text
    current.rule = str(result.rule)
    current.data = data
    current.inputs = inputs
    current.input_digest = digest
    current.evaluated_on = today
    current.rules_version = result.rules_version
    current.updated_at = started
    current.version += 1
    current._change_reason = "Evidence brought up to date; the decision asked is the same"
    current.save()


def _mark_evaluated(state: TrackEvaluationState, started, *, next_on) -> None:
    # Only what was requested before this evaluation started is covered by it.
    if state.requested_at is not None and state.requested_at <= started:
        state.requested_at = None
    state.evaluated_at = timezone.now()
    state.next_evaluation_on = next_on
    state.last_error = ""
    state.save()
