"""Expansion cohorts: enroll to 10 under a pre-set safety monitoring rule (docs/escalation.md §6).

The rule pauses the cohort when DLT-type toxicities in the DLT window reach the boundary of
`DesignSettings.expansion_boundaries` (default: BOIN elimination boundary, 30% target) for the
number of evaluated (DLT-evaluable) subjects. Enrollment does not wait for windows to close:
expansion is not escalation, only the boundary can stop it.

Whether the escalation subjects already treated at the expansion dose count is the study setting
`expansion_counts_escalation_subjects` (default True; MIL97 synopsis: "expand to total of 10
subjects in each cohort"). The caller passes the subjects treated at the expansion's dose level
and regimen on escalation as `Track.escalation_subjects`. With the setting on, those evaluable
(with their DLTs) count toward the 10 and toward the safety boundary, and those still in their
window hold a place; those found not evaluable neither count nor are replaced here (that is the
escalation's business). With it off, the expansion counts only its own subjects.
"""

from __future__ import annotations

import dataclasses
from datetime import date

from .design import DesignSettings
from .facts import Track
from .recommendation import (
    Action,
    Flag,
    LevelMode,
    LevelSummary,
    Recommendation,
    Rule,
    describe_pending,
)
from .window import SubjectEvaluation, evaluate_subject, next_evaluation_date


def pause_threshold(settings: DesignSettings, evaluated: int) -> tuple[int | None, bool]:
    """DLT-type toxicities that pause the cohort at this many evaluated subjects.

    Returns (threshold or None below the table, True when `evaluated` is beyond the table's
    last row; the last row then applies: the boundary only rises with n, so this is stricter).
    """
    for low, high, dlts in settings.expansion_boundaries:
        if low <= evaluated <= high:
            return dlts, False
    last_high = settings.expansion_boundaries[-1][1] if settings.expansion_boundaries else 0
    if settings.expansion_boundaries and evaluated > last_high:
        return settings.expansion_boundaries[-1][2], True
    return None, False


def recommend_expansion(settings: DesignSettings, track: Track, today: date) -> Recommendation:
    level = track.dose_levels[0]
    dose = track.dose_text(level)
    own = tuple(evaluate_subject(settings, track, s, today) for s in track.subjects)
    counted: tuple[SubjectEvaluation, ...] = ()
    if settings.expansion_counts_escalation_subjects:
        counted = tuple(
            evaluation
            for evaluation in (
                evaluate_subject(settings, track, s, today) for s in track.escalation_subjects
            )
            if evaluation.evaluable or evaluation.awaiting_outcome
        )
    summary = LevelSummary(dose_level=level, mode=LevelMode.EXPANSION, subjects=counted + own)
    evaluable, dlts = summary.evaluable, summary.dlts
    awaiting = summary.awaiting
    size = settings.expansion_cohort_size
    notes = [note for s in summary.subjects for note in s.notes]
    flags = [Flag.DLT_CALL_NOT_RELATED] if notes else []
    # What every outcome below shares; each `replace` gives its action, rule and words.
    base = Recommendation(
        track=track.name,
        action=Action.WAIT,
        rule=Rule.EXPANSION_WAIT,
        text="",
        dose_level=level,
        levels=(summary,),
        evaluated_on=today,
        reevaluate_on=next_evaluation_date(settings, track, today),
        pending_subjects=tuple(s.subject_number for s in awaiting),
        wait_until=max((s.window.end for s in awaiting if s.window is not None), default=None),
    )
    counts = f"{dlts} DLT-type toxicities in {evaluable} evaluated"

    threshold, beyond = pause_threshold(settings, evaluable)
    if beyond:
        flags.append(Flag.BEYOND_BOUNDARY_TABLE)
        notes.append(
            f"{evaluable} evaluated is beyond the boundary table; its last row (>= {threshold}) "
            "applies"
        )
    if threshold is not None and dlts >= threshold:
        return dataclasses.replace(
            base,
            action=Action.PAUSE_EXPANSION,
            rule=Rule.EXPANSION_PAUSE,
            text=(
                f"pause expansion: safety boundary reached at {dose} ({counts}; boundary "
                f">= {threshold}); the committee reviews before any further enrollment"
            ),
            flags=tuple(flags),
            notes=tuple(notes),
        )

    open_places = size - evaluable - len(awaiting)
    if open_places > 0:
        replace = tuple(s.subject_number for s in summary.replacement_candidates[:open_places])
        if replace and len(replace) == open_places:
            noun = "subject" if len(replace) == 1 else "subjects"
            action, rule = Action.REPLACE, Rule.REPLACE_NOT_EVALUABLE
            text = f"replace {noun} {', '.join(replace)} in the {dose} expansion cohort"
        else:
            action, rule = Action.ENROLL, Rule.EXPANSION_ENROLL
            from_escalation = f", {len(counted)} of them treated on escalation" if counted else ""
            text = (
                f"enroll {open_places} more in the {dose} expansion cohort "
                f"({evaluable + len(awaiting)} of {size} in place{from_escalation})"
            )
            if replace:
                text += f"; {len(replace)} of them replace {', '.join(replace)}"
        text += f" ({counts})"
        return dataclasses.replace(
            base,
            action=action,
            rule=rule,
            text=text,
            n_subjects=open_places,
            subjects_to_replace=replace,
            flags=tuple(flags),
            notes=tuple(notes),
        )

    if awaiting:
        return dataclasses.replace(
            base,
            action=Action.WAIT,
            rule=Rule.EXPANSION_WAIT,
            text=(
                f"wait: {dose} expansion cohort fully enrolled; {describe_pending(awaiting)} "
                f"({counts} so far)"
            ),
            flags=tuple(flags),
            notes=tuple(notes),
        )

    return dataclasses.replace(
        base,
        action=Action.EXPANSION_COMPLETE,
        rule=Rule.EXPANSION_COMPLETE,
        text=f"expansion cohort at {dose} complete: {evaluable} evaluable ({counts})",
        flags=tuple(flags),
        notes=tuple(notes),
    )
