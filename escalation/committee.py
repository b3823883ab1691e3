"""The Safety Review Committee's decisions (docs/escalation.md §7).

Every computed decision is a recommendation. A medical monitor confirms it, or overrides it with
a rationale, signing with their password (21 CFR 11.200: the signature asks for the password
again; the meaning "approved" and the printed name are stored with it). Only then does the next
cohort open, or the track close. The recommendation and the decision both stay on record.
"""

from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone

from accounts.roles import Capability
from accounts.scoping import require
from core.errors import ValidationError, field_error
from core.events import check_study_writable
from core.records import check_signing_password, retry_on_conflict, sign_record
from safety.models import AdverseEvent
from safety.selectors import AWAITING_ATTESTATION
from trial.models import Cohort, DoseLevel, EscalationTrack

from . import rules
from .models import CommitteeDecision, Recommendation
from .services import cleared_dose_levels, counted_escalation_subjects, lock_tracks
from .triggers import request_evaluation

Step = CommitteeDecision.Step

# What confirming each kind of recommendation does.
CONFIRM_STEP = {
    rules.Action.ENROLL: Step.OPEN_COHORT,
    rules.Action.ESCALATE: Step.OPEN_COHORT,
    rules.Action.DECLARE_MTD: Step.DECLARE_MTD,
    rules.Action.MAD_REACHED: Step.DECLARE_MAD,
    rules.Action.STOP: Step.STOP_TRACK,
    rules.Action.PAUSE_EXPANSION: Step.PAUSE_TRACK,
    rules.Action.EXPANSION_COMPLETE: Step.COMPLETE_TRACK,
}


def committee_confirm(
    *, by, recommendation: Recommendation, password: str, request=None
) -> CommitteeDecision:
    """Confirm the recommendation as it stands and carry it out. `request`: the signing page's
    (a wrong password then counts towards the account lockout, see core.records)."""
    action = rules.Action(recommendation.action)
    step = CONFIRM_STEP.get(action)
    if step is None:
        raise field_error(
            "recommendation", "This recommendation asks for no decision.", "no_decision"
        )
    return _decide(
        by=by,
        password=password,
        recommendation=recommendation,
        track=recommendation.track,
        outcome=CommitteeDecision.Outcome.CONFIRMED,
        step=step,
        dose_level=recommendation.dose_level,
        n_subjects=recommendation.n_subjects,
        rationale="",
        request=request,
    )


def committee_override(
    *,
    by,
    password: str,
    rationale: str,
    step: str,
    recommendation: Recommendation | None = None,
    track: EscalationTrack | None = None,
    dose_level: DoseLevel | None = None,
    new_dose_amount=None,
    n_subjects: int = 0,
    target_track: EscalationTrack | None = None,
    new_expansion_regimen=None,
    request=None,
) -> CommitteeDecision:
    """Decide otherwise than recommended (e.g. an intermediate dose), or act on the committee's
    own initiative (open the Q2W track, an expansion cohort), always with a rationale.

    `new_dose_amount` creates an intermediate dose level (in the study's unit) for the step.
    `new_expansion_regimen` with step open_track creates an expansion track on that regimen.
    """
    if recommendation is None and track is None:
        raise field_error("track", "Name the track the decision is about.", "required")
    track = track or recommendation.track
    rationale = (rationale or "").strip()
    if not rationale:
        raise field_error("rationale", "An override needs the committee's rationale.", "required")
    if step not in Step.values:
        raise field_error("step", f"Choose one of: {', '.join(Step.values)}.", "invalid")
    if step == Step.OPEN_TRACK and target_track is None and new_expansion_regimen is None:
        raise field_error(
            "target_track",
            "Choose the track to open, or a regimen for a new expansion cohort.",
            "required",
        )
    return _decide(
        by=by,
        password=password,
        recommendation=recommendation,
        track=track,
        outcome=CommitteeDecision.Outcome.OVERRIDDEN,
        step=Step(step),
        dose_level=dose_level,
        new_dose_amount=new_dose_amount,
        n_subjects=n_subjects,
        rationale=rationale,
        target_track=target_track,
        new_expansion_regimen=new_expansion_regimen,
        request=request,
    )


def _decide(
    *,
    by,
    password,
    recommendation,
    track,
    outcome,
    step,
    dose_level,
    n_subjects,
    rationale,
    new_dose_amount=None,
    target_track=None,
    new_expansion_regimen=None,
    request=None,
) -> CommitteeDecision:
    require(by, Capability.SIGN_COMMITTEE_DECISION, study_id=track.study_id)
    # A locked study database takes no decision (docs/quality.md §5): said before the password
    # is spent; checked again, and held, inside the transaction.
    check_study_writable(track.study_id)
    # An unattested DLT call in the evidence is refused before the password is spent, and
    # again inside the transaction (where a superseded recommendation is refused first).
    if (
        recommendation is None
        or Recommendation.objects.filter(
            pk=recommendation.pk, status=Recommendation.Status.PENDING
        ).exists()
    ):
        _check_dlt_calls_attested(track, target_track)
    if request is not None:
        # Checked before the transaction: a wrong password counts towards the account lockout,
        # and that count must not roll back with the refused decision.
        check_signing_password(by, password, request=request)
    return _decide_in_transaction(
        by=by,
        password=password,
        recommendation=recommendation,
        track=track,
        outcome=outcome,
        step=step,
        dose_level=dose_level,
        n_subjects=n_subjects,
        rationale=rationale,
        new_dose_amount=new_dose_amount,
        target_track=target_track,
        new_expansion_regimen=new_expansion_regimen,
    )


@retry_on_conflict
def _decide_in_transaction(
    *,
    by,
    password,
    recommendation,
    track,
    outcome,
    step,
    dose_level,
    n_subjects,
    rationale,
    new_dose_amount,
    target_track,
    new_expansion_regimen,
) -> CommitteeDecision:
    with transaction.atomic():
        # Refused while the study database is locked; a lock being taken waits for this
        # decision to commit, or this decision waits for the lock and is refused.
        check_study_writable(track.study_id)
        # The one lock order (escalation.services): the tracks' cohorts, then their evaluation
        # states, then the recommendation. An evaluation running now holds the track's state:
        # the decision waits for it, then finds the recommendation as the evaluation left it
        # (superseded by newer data: refused with that reason, never a deadlock).
        lock_tracks([track.pk, target_track.pk if target_track is not None else None], cohorts=True)
        if recommendation is not None:
            recommendation = Recommendation.objects.select_for_update().get(pk=recommendation.pk)
            if recommendation.status != Recommendation.Status.PENDING:
                raise field_error(
                    "recommendation",
                    f"This recommendation is {recommendation.get_status_display().lower()}: "
                    "decide on the track's current one.",
                    "not_pending",
                )
        if target_track is not None and target_track.study_id != track.study_id:
            raise field_error("target_track", "That track belongs to another study.", "wrong_study")
        _check_dlt_calls_attested(track, target_track)
        if new_dose_amount not in (None, ""):
            # An intermediate dose belongs to the track it is given on (a new expansion track
            # names its one level explicitly, so there it stays with the deciding track).
            dose_level = _intermediate_dose(target_track or track, new_dose_amount, by=by)
        if step == Step.OPEN_TRACK and target_track is None:
            target_track = _new_expansion_track(track, new_expansion_regimen, dose_level, by=by)
        cohort_track = target_track or track
        # Everything above is undone if a check or the signature below fails (one transaction).
        if step in (Step.OPEN_COHORT, Step.OPEN_TRACK):
            _check_open(cohort_track, dose_level, n_subjects)
        if step == Step.OPEN_TRACK:
            _check_track_opening(track, cohort_track, dose_level)
        # The signature comes last among the checks: a wrong password changes nothing.
        signed = recommendation if recommendation is not None else track
        signature = sign_record(signed, by=by, password=password, meaning="approved")
        decision = CommitteeDecision(
            recommendation=recommendation,
            track=track,
            outcome=outcome,
            step=step,
            target_track=target_track,
            dose_level=dose_level,
            n_subjects=n_subjects or 0,
            rationale=rationale,
            decided_by=by,
            decided_at=signature.signed_at,
            signature=signature,
        )
        opened = _carry_out(decision, cohort_track, by=by)
        decision.opened_cohort = opened
        decision.full_clean()
        decision._history_user = by
        decision._change_reason = (
            f"Committee decision: {decision.get_outcome_display()} ({step.label})"
        )
        decision.save()
        if recommendation is not None:
            recommendation.status = (
                Recommendation.Status.CONFIRMED
                if outcome == CommitteeDecision.Outcome.CONFIRMED
                else Recommendation.Status.OVERRIDDEN
            )
            recommendation._history_user = by
            recommendation._change_reason = decision._change_reason
            recommendation.save(update_fields=["status"])
        # The new state (a cohort open, a track closed) changes what the rules say next.
        request_evaluation(track.pk)
        if cohort_track.pk != track.pk:
            request_evaluation(cohort_track.pk)
    return decision


def _check_dlt_calls_attested(track: EscalationTrack, target_track) -> None:
    """The committee signs only on attested DLT calls (docs/escalation.md §7): a DLT call a
    coordinator proposed and the investigator has not attested (docs/safety.md §8) counts as a
    DLT in the evidence, but no decision is signed on it until the investigator attests it (or
    the committee adjudicates the event)."""
    tracks = [t for t in (track, target_track) if t is not None]
    evidence = Q(subject__cohort__track_id__in=[t.pk for t in tracks])
    for t in tracks:
        if (
            t.phase == EscalationTrack.Phase.EXPANSION
            and t.lowest_dose_level_id is not None
            and t.study.expansion_counts_escalation_subjects
        ):
            # The escalation subjects an expansion counts are in its evidence too.
            evidence |= Q(
                subject__cohort__track__study_id=t.study_id,
                subject__cohort__track__phase=EscalationTrack.Phase.ESCALATION,
                subject__cohort__track__regimen_id=t.regimen_id,
                subject__cohort__dose_level_id=t.lowest_dose_level_id,
            )
    waiting = list(
        AdverseEvent.objects.filter(AWAITING_ATTESTATION, evidence)
        .select_related("subject", "ctcae_term")
        .order_by("onset_date", "id")
    )
    if not waiting:
        return
    events = "; ".join(
        f"subject {e.subject.subject_number}: {e.ctcae_term.term} grade {e.grade} "
        f"(onset {e.onset_date:%Y-%m-%d})"
        for e in waiting
    )
    raise field_error(
        "recommendation",
        f"The evidence has a DLT call proposed, awaiting investigator attestation ({events}). "
        "The committee cannot sign a decision until the site's investigator attests the call "
        "(or corrects it), or the committee adjudicates the event.",
        "dlt_call_not_attested",
    )


def _intermediate_dose(track, amount, *, by) -> DoseLevel:
    """The dose level for an amount the committee chose: a protocol level when the amount is
    one, else an intermediate dose of this track (never offered to other tracks)."""
    try:
        value = Decimal(str(amount))
    except (InvalidOperation, ValueError):
        raise field_error("new_dose_amount", "Enter the dose as a number.", "invalid") from None
    if not value.is_finite() or value <= 0:
        raise field_error("new_dose_amount", "The dose must be a number above 0.", "invalid")
    study = track.study
    protocol_levels = study.dose_levels.filter(track__isnull=True)
    same = protocol_levels.filter(amount=value).first()
    if same is not None:
        return same
    highest = protocol_levels.order_by("-amount").first()
    if highest is not None and value > highest.amount:
        raise field_error(
            "new_dose_amount",
            f"An intermediate dose lies between protocol levels (at most {highest.label}).",
            "above_top",
        )
    level = DoseLevel.objects.filter(track=track, amount=value, unit=study.dose_unit).first()
    if level is None:
        level = DoseLevel(study=study, track=track, number=None, amount=value, unit=study.dose_unit)
        level.full_clean()
        level._history_user = by
        level._change_reason = f"Intermediate dose set by committee decision on {track}"
        level.save()
    return level


def _new_expansion_track(track, regimen, dose_level, *, by) -> EscalationTrack:
    if regimen is None or regimen.study_id != track.study_id:
        raise field_error(
            "new_expansion_regimen", "Choose the regimen of the expansion cohort.", "required"
        )
    if dose_level is None:
        raise field_error("dose_level", "Choose the dose level to expand.", "required")
    count = EscalationTrack.objects.filter(
        study=track.study, phase=EscalationTrack.Phase.EXPANSION
    ).count()
    expansion = EscalationTrack(
        study=track.study,
        code=f"EXP{count + 1}-{regimen.code}",
        name=f"Expansion {count + 1}: {dose_level.label} {regimen.code}",
        regimen=regimen,
        phase=EscalationTrack.Phase.EXPANSION,
        uses_titration=False,
        status=EscalationTrack.Status.PLANNED,
        display_order=10 + count,
        lowest_dose_level=dose_level,
        highest_dose_level=dose_level,
    )
    expansion.full_clean()
    expansion._history_user = by
    expansion._change_reason = "Created by committee decision"
    expansion.save()
    return expansion


def _check_track_opening(source: EscalationTrack, target: EscalationTrack, dose_level) -> None:
    """docs/escalation.md §5: the Q2W track opens at a level already cleared on Q3W."""
    if target.status not in (EscalationTrack.Status.PLANNED, EscalationTrack.Status.PAUSED):
        raise field_error(
            "target_track",
            f"{target} is {target.get_status_display().lower()} already.",
            "not_planned",
        )
    if target.phase == EscalationTrack.Phase.ESCALATION and target.pk != source.pk:
        cleared = cleared_dose_levels(source)
        if dose_level is not None and dose_level.pk not in cleared:
            raise field_error(
                "dose_level",
                f"{dose_level.label} has not been cleared on {source}: the track opens at a cleared level.",
                "not_cleared",
            )
        # The new track escalates no higher than what the source track has cleared today, and
        # at each later recommendation no higher than what it clears then (docs/escalation.md
        # §5): the source becomes its reference track.
        if cleared:  # levels come lowest first
            target.highest_dose_level_id = cleared[-1]
        if target.reference_track_id is None:
            target.reference_track = source


def _check_open(track: EscalationTrack, dose_level: DoseLevel | None, n_subjects: int) -> None:
    errors = {}
    if dose_level is None:
        errors["dose_level"] = ["Choose the dose level of the cohort to open."]
    elif dose_level.study_id != track.study_id:
        errors["dose_level"] = ["That dose level belongs to another study."]
    if not n_subjects or n_subjects < 1:
        errors["n_subjects"] = ["Give the number of subjects (at least 1)."]
    if track.phase == EscalationTrack.Phase.EXPANSION and n_subjects:
        size = track.study.expansion_cohort_size
        counted = counted_escalation_subjects(track) if dose_level is not None else 0
        if n_subjects > size:
            errors["n_subjects"] = [f"An expansion cohort takes at most {size}."]
        elif n_subjects > size - counted:
            # docs/escalation.md §6: the study counts the subjects already treated at this
            # dose and regimen on escalation toward the expansion's total.
            who = "1 subject" if counted == 1 else f"{counted} subjects"
            verb = "counts" if counted == 1 else "count"
            errors["n_subjects"] = [
                f"This expansion cohort takes at most {max(size - counted, 0)}: {who} treated "
                f"at {dose_level.label} {track.regimen.code} on escalation {verb} toward its "
                f"{size}."
            ]
    if errors:
        raise ValidationError(errors)


def _carry_out(decision: CommitteeDecision, track: EscalationTrack, *, by) -> Cohort | None:
    now = timezone.now()
    reason = f"Committee decision ({decision.get_outcome_display().split(' ')[0].lower()}): {decision.get_step_display()}"
    if decision.step in (Step.OPEN_COHORT, Step.OPEN_TRACK):
        if decision.step == Step.OPEN_TRACK:
            if decision.dose_level is not None and track.phase == EscalationTrack.Phase.EXPANSION:
                track.lowest_dose_level = track.highest_dose_level = decision.dose_level
            elif decision.dose_level is not None and track.lowest_dose_level_id is None:
                track.lowest_dose_level = decision.dose_level
        _set_track_status(track, EscalationTrack.Status.ACTIVE, reason, by)
        return _open_cohort(
            track, decision.dose_level, decision.n_subjects, reason=reason, by=by, now=now
        )
    status = {
        Step.DECLARE_MTD: EscalationTrack.Status.COMPLETED,
        Step.DECLARE_MAD: EscalationTrack.Status.COMPLETED,
        Step.COMPLETE_TRACK: EscalationTrack.Status.COMPLETED,
        Step.STOP_TRACK: EscalationTrack.Status.STOPPED,
        Step.PAUSE_TRACK: EscalationTrack.Status.PAUSED,
    }[decision.step]
    _close_cohorts(track, reason=reason, by=by, now=now)
    _set_track_status(track, status, reason, by)
    return None


def _set_track_status(track, status, reason, by) -> None:
    track.status = status
    track._history_user = by
    track._change_reason = reason
    track.save()


def _close_cohorts(track, *, reason, by, now) -> None:
    for cohort in Cohort.objects.filter(
        track=track, status__in=[Cohort.Status.OPEN, Cohort.Status.FULL, Cohort.Status.PLANNED]
    ):
        cohort.status = Cohort.Status.CLOSED
        cohort.opened_at = cohort.opened_at or now
        cohort.closed_at = now
        cohort._history_user = by
        cohort._change_reason = reason
        cohort.save()


def _open_cohort(track, dose_level, n_subjects, *, reason, by, now) -> Cohort:
    """Close the track's earlier cohorts and open the next one: one open cohort per track."""
    _close_cohorts(track, reason=reason, by=by, now=now)
    number = (Cohort.objects.filter(study=track.study).aggregate(n=Max("number"))["n"] or 0) + 1
    cohort = Cohort(
        study=track.study,
        track=track,
        number=number,
        dose_level=dose_level,
        planned_size=n_subjects,
        is_titration=track.uses_titration and n_subjects == 1,
        status=Cohort.Status.OPEN,
        opened_at=now,
    )
    cohort.full_clean()
    cohort._history_user = by
    cohort._change_reason = reason
    cohort.save()
    return cohort
