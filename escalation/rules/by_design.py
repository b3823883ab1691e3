"""The recommendation on a track run by a dose-finding design other than the 3+3
(docs/designs.md §12).

The same path as the 3+3: every subject's DLT window and evaluability come from `window.py`
(the study's rules for who counts), the counts per level go to the design
(`designs.config.decide`), and its decision comes back as a `Recommendation` that the committee
confirms or overrides like any other. The design's rule, its decision table and the counts it
read are the recommendation's evidence (`DesignEvidence`).

Counts: n = the evaluable subjects at a level, y = those with a DLT. A subject still inside the
window without a DLT, or assigned and not yet dosed, is pending with the fraction of the window
followed so far ((today - Day 1) / window days, 0 before the first dose); the time-to-event
designs (TITE-BOIN, TITE-CRM) decide with them, the others wait for them. A subject who is not
evaluable does not count (the next cohort is the design's as usual); the evidence names them.
The current dose is the level of the subject enrolled last.
"""

from __future__ import annotations

from datetime import date, timedelta

from .design import DesignSettings
from .designs import common as design_common
from .designs.common import DesignDecision, DesignFacts, LevelData
from .designs.config import DesignConfig, decide, pending_table
from .evidence import DesignEvidence
from .facts import Track
from .recommendation import Action, LevelMode, LevelSummary, Recommendation, describe_pending
from .window import SubjectStatus, evaluate_subject, next_evaluation_date

# A pending subject's follow-up fraction stays below 1 (the designs' facts require [0, 1)): on
# the window's last day the outcome is still open.
_ALMOST_ONE = 0.999


def _fraction(today: date, start: date, days: int) -> float:
    return min(max((today - start).days / days, 0.0), _ALMOST_ONE)


def recommend_by_design(
    settings: DesignSettings, track: Track, today: date, design: DesignConfig
) -> Recommendation:
    """The design's recommendation for the next cohort on `track` (module docstring)."""
    evaluations = [evaluate_subject(settings, track, s, today) for s in track.subjects]
    summaries = tuple(
        LevelSummary(
            dose_level=level,
            mode=LevelMode.DESIGN,
            subjects=tuple(e for e in evaluations if e.dose_level == level.number),
        )
        for level in track.dose_levels
    )
    levels = []
    for summary in summaries:
        pending = []
        for evaluation in summary.subjects:
            if not evaluation.awaiting_outcome:
                continue
            if evaluation.status is SubjectStatus.PENDING and evaluation.window is not None:
                pending.append(_fraction(today, evaluation.window.start, evaluation.window.days))
            else:
                pending.append(0.0)
        levels.append(LevelData(summary.evaluable, summary.dlts, tuple(pending)))
    current = _current_position(track)
    facts = DesignFacts(levels=tuple(levels), current=current)
    decision = decide(design, facts)
    evidence = DesignEvidence(
        design=design, facts=facts, decision=decision, pending_rows=pending_table(design)
    )
    return _recommendation(settings, track, today, design, summaries, decision, evidence)


def _current_position(track: Track) -> int:
    """The level of the subject enrolled last (the track lists subjects in enrollment order;
    a later first dose wins over the list order, an undosed subject is the latest)."""
    if not track.subjects:
        return 0
    ranked = sorted(
        enumerate(track.subjects),
        key=lambda item: (item[1].first_dose_on or date.max, item[0]),
    )
    return track.position(ranked[-1][1].dose_level)


def _recommendation(
    settings: DesignSettings,
    track: Track,
    today: date,
    design: DesignConfig,
    summaries: tuple[LevelSummary, ...],
    decision: DesignDecision,
    evidence: DesignEvidence,
) -> Recommendation:
    levels = track.dose_levels
    label = design.label
    rule = f"{label}: {decision.rule}"
    notes = list(decision.notes)
    not_evaluable = [
        s.subject_number
        for summary in summaries
        for s in summary.subjects
        if s.status is SubjectStatus.NOT_EVALUABLE
    ]
    if not_evaluable:
        notes.append("not evaluable, not counted by the design: " + ", ".join(not_evaluable))
    for summary in summaries:
        for subject in summary.subjects:
            notes.extend(subject.notes)
    reevaluate_on = next_evaluation_date(settings, track, today)
    if design.time_to_event and any(level.pending for level in evidence.facts.levels):
        # A pending subject's follow-up grows every day, and with it the design's decision.
        reevaluate_on = today + timedelta(days=1)

    def dose_text(position: int) -> str:
        return track.dose_text(levels[position])

    def make(action: Action, text: str, **fields: object) -> Recommendation:
        return Recommendation(
            track=track.name,
            action=action,
            rule=rule,
            text=f"{label}: {text}",
            reevaluate_on=reevaluate_on,
            notes=tuple(notes),
            levels=summaries,
            evaluated_on=today,
            design=evidence,
            **fields,  # type: ignore[arg-type]
        )

    act = decision.action
    counts = _counts(evidence.facts, decision.current)
    if act is design_common.Action.SELECT_MTD and decision.mtd is not None:
        return make(
            Action.DECLARE_MTD,
            f"MTD = {dose_text(decision.mtd)} ({decision.rule})",
            dose_level=levels[decision.mtd],
            mtd_level=levels[decision.mtd],
        )
    if (
        act is design_common.Action.STOP
        or decision.dose is None
        and act is not (design_common.Action.SUSPEND_ACCRUAL)
    ):
        return make(Action.STOP, f"stop, no MTD: {decision.text}", dose_level=levels[0])
    if act is design_common.Action.SUSPEND_ACCRUAL:
        at = decision.dose if decision.dose is not None else decision.current
        pending = tuple(s for s in summaries[at].subjects if s.awaiting_outcome) or tuple(
            s for summary in summaries for s in summary.subjects if s.awaiting_outcome
        )
        ends = [s.window.end for s in pending if s.window is not None]
        described = describe_pending(pending)
        return make(
            Action.WAIT,
            f"{decision.text}; {counts}" + (f"; {described}" if described else ""),
            dose_level=levels[at],
            pending_subjects=tuple(s.subject_number for s in pending),
            wait_until=max(ends) if ends else None,
        )
    assert decision.dose is not None
    target = decision.dose
    reference = track.reference
    if reference is not None and target > decision.current and not reference.clears(levels[target]):
        return make(
            Action.WAIT,
            f"escalation to {dose_text(target)} waits: {reference.name} does not "
            f"clear it now; {counts}",
            dose_level=levels[decision.current],
        )
    size = decision.cohort_size
    verb = {
        design_common.Action.ESCALATE: f"escalate to {dose_text(target)}",
        design_common.Action.DE_ESCALATE: f"de-escalate to {dose_text(target)}",
        design_common.Action.DE_ESCALATE_ELIMINATE: (
            f"de-escalate to {dose_text(target)}; {dose_text(decision.current)} and above "
            "are eliminated"
        ),
    }.get(act, f"treat the next cohort at {dose_text(target)}")
    action = Action.ESCALATE if target > decision.current else Action.ENROLL
    noun = "subject" if size == 1 else "subjects"
    return make(
        action,
        f"{verb}: a cohort of {size} {noun} ({decision.rule}; {counts})",
        dose_level=levels[target],
        n_subjects=size,
    )


def _counts(facts: DesignFacts, position: int) -> str:
    level = facts.levels[position]
    text = f"{level.dlts} DLT{'' if level.dlts == 1 else 's'} in {level.evaluable} evaluable"
    if level.pending:
        text += f", {len(level.pending)} pending"
    return f"{text} at level {position + 1}"
