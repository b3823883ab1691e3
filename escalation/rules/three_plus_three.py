"""Dose escalation on one track: accelerated titration, then 3+3 (DOMAIN.md section 3).

How the dose level in question is found. The committee may override any recommendation (an
intermediate dose, a de-escalation), so the history need not have followed the rules' advice.
The core therefore does not trust "the last cohort's level"; it reads the data present at every
level and walks the track upwards from the lowest level:

1. The lowest level with >= 2 DLTs is "exceeded" (curtailment: pending subjects do not matter).
   Every level at or above it is closed. Exceeded at the lowest level: stop, no MTD.
2. From the lowest level up, each level either passes (0/1 in titration without a trigger, 0/3,
   <= 1/6, every subject evaluable) or is the level in question, and the recommendation is about
   it: enroll, replace, wait. A level just below the exceeded one passes only as the MTD
   (expand-lower: <= 1/6 with 6 evaluable; simple: as it stands, flagged under 6).
3. The first level with no subject after passing levels is where to escalate (or start).
4. Passing the top level: the MTD is not reached, the top dose is the MAD.

In the usual history this is exactly the level of the last cohort; after late data (a DLT entered
after escalation) it is the lower level the protocol says must be settled first, and a flag says
that higher levels already have subjects.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from .design import DesignSettings, ExceededVariant
from .facts import DoseLevel, Track
from .recommendation import (
    Action,
    Flag,
    LevelMode,
    LevelSummary,
    Recommendation,
    Rule,
    TitrationTriggered,
    describe_pending,
)
from .titration import find_titration_trigger, titration_positions
from .window import SubjectEvaluation, evaluate_subject, next_evaluation_date


def summarize_levels(
    settings: DesignSettings,
    track: Track,
    today: date,
    trigger: TitrationTriggered | None,
) -> tuple[LevelSummary, ...]:
    """Every level of the track with its subjects' evaluations and its mode."""
    evaluations = [evaluate_subject(settings, track, s, today) for s in track.subjects]
    positions = titration_positions(settings, track)
    trigger_position = track.dose_levels.index(trigger.dose_level) if trigger is not None else None
    top = len(track.dose_levels) - 1
    summaries = []
    for position, level in enumerate(track.dose_levels):
        # A titration level stays single-subject below the trigger level. The trigger level
        # itself takes 3 in all (DOMAIN 3.3). The top level of a track is never decided on one
        # subject: declaring the MAD needs a cohort of 3 (DOMAIN 3, top dose 0/3).
        titration = (
            position in positions
            and position < top
            and (trigger_position is None or position < trigger_position)
        )
        summaries.append(
            LevelSummary(
                dose_level=level,
                mode=LevelMode.TITRATION if titration else LevelMode.THREE_PLUS_THREE,
                subjects=tuple(e for e in evaluations if e.dose_level == level.number),
            )
        )
    return tuple(summaries)


@dataclass(frozen=True)
class _Step:
    """What one level needs: nothing (it passes), or places to fill, or time."""

    passes: bool
    target: int = 0
    open_places: int = 0
    rule: Rule | None = None


def _level_step(
    settings: DesignSettings,
    summary: LevelSummary,
    *,
    needs_six: bool,
    trigger_here: bool,
) -> _Step:
    evaluable, dlts, pending = summary.evaluable, summary.dlts, len(summary.awaiting)
    cohort, expanded = settings.cohort_size, settings.expanded_cohort_size

    if summary.mode is LevelMode.TITRATION and not needs_six and dlts == 0:
        # Simon 1997: one subject; the level is decided once that subject is evaluable.
        if evaluable >= 1 and pending == 0:
            return _Step(passes=True)
        return _Step(
            passes=False, target=1, open_places=1 - evaluable - pending, rule=Rule.TITRATION_ENROLL
        )

    if evaluable >= expanded and dlts <= 1 and pending == 0:
        return _Step(passes=True)  # <= 1/6
    if not needs_six and evaluable >= cohort and dlts == 0 and pending == 0:
        return _Step(passes=True)  # 0/3

    if needs_six:
        target, rule = expanded, Rule.EXPAND_LOWER_FILL
    elif dlts == 1 and evaluable >= cohort:
        target, rule = expanded, Rule.ADD_THREE
    elif trigger_here:
        target, rule = cohort, Rule.TITRATION_TRIGGERED
    else:
        target, rule = cohort, Rule.COHORT_INCOMPLETE
    return _Step(passes=False, target=target, open_places=target - evaluable - pending, rule=rule)


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


class _Context:
    """Shared fields of every recommendation for one track evaluation."""

    def __init__(
        self,
        settings: DesignSettings,
        track: Track,
        today: date,
        summaries: tuple[LevelSummary, ...],
        trigger: TitrationTriggered | None,
        exceeded: LevelSummary | None,
    ) -> None:
        self.settings = settings
        self.track = track
        self.summaries = summaries
        self.exceeded = exceeded
        flags: list[Flag] = []
        notes: list[str] = []
        for summary in summaries:
            for subject in summary.subjects:
                notes.extend(subject.notes)
        if notes:
            flags.append(Flag.DLT_CALL_NOT_RELATED)
        if exceeded is not None and exceeded.awaiting:
            flags.append(Flag.CURTAILED)
            notes.append(
                f"{track.dose_text(exceeded.dose_level)} decided as exceeded at the second DLT "
                f"while {describe_pending(exceeded.awaiting)} (curtailment)"
            )
        if exceeded is not None:
            # Late data: a second DLT entered at a level the escalation had already passed makes
            # it the lowest exceeded level while subjects are on higher doses that their own data
            # never showed toxic. They receive a dose above one that exceeded the MTD: the
            # committee must see them (their ongoing dosing, any not yet dosed). The walk stops
            # below the exceeded level, so the SUBJECTS_ABOVE check in `make` never reaches them;
            # higher levels that exceeded on their own data are already known and not repeated.
            start = summaries.index(exceeded) + 1
            beyond = [s for s in summaries[start:] if s.enrolled and not s.exceeded]
            if beyond:
                flags.append(Flag.SUBJECTS_ABOVE)
                notes.append(
                    f"subjects enrolled above {track.dose_text(exceeded.dose_level)}, which "
                    "exceeded the MTD: "
                    + ", ".join(
                        f"{track.dose_text(s.dose_level)} ({s.enrolled}"
                        + (f"; {describe_pending(s.awaiting)}" if s.awaiting else "")
                        + ")"
                        for s in beyond
                    )
                )
        self.flags = flags
        self.notes = notes
        self.common = {
            "track": track.name,
            "levels": summaries,
            "evaluated_on": today,
            "reevaluate_on": next_evaluation_date(settings, track, today),
            "titration_trigger": trigger,
            "exceeded_level": exceeded.dose_level if exceeded is not None else None,
        }

    def dose(self, summary: LevelSummary) -> str:
        return self.track.dose_text(summary.dose_level)

    def make(
        self,
        *,
        at: int | None,
        action: Action,
        rule: Rule,
        text: str,
        flags: tuple[Flag, ...] = (),
        notes: tuple[str, ...] = (),
        **fields,
    ) -> Recommendation:
        all_flags = list(self.flags) + list(flags)
        all_notes = list(self.notes) + list(notes)
        if at is not None:
            # Subjects above the level in question (below any exceeded level) mean the history
            # moved on before this level was settled: late data, or a committee override.
            limit = self.summaries.index(self.exceeded) if self.exceeded else len(self.summaries)
            above = [s for s in self.summaries[at + 1 : limit] if s.enrolled]
            if above:
                all_flags.append(Flag.SUBJECTS_ABOVE)
                all_notes.append(
                    "subjects already enrolled at higher levels: "
                    + ", ".join(f"{self.dose(s)} ({s.enrolled})" for s in above)
                )
        return Recommendation(
            action=action,
            rule=rule,
            text=text,
            flags=tuple(dict.fromkeys(all_flags)),
            notes=tuple(all_notes),
            **self.common,
            **fields,
        )


def recommend_escalation(settings: DesignSettings, track: Track, today: date) -> Recommendation:
    """The next step on an escalation track: a pure function of (settings, track, today)."""
    trigger = find_titration_trigger(settings, track)
    summaries = summarize_levels(settings, track, today, trigger)
    exceeded_position = next((i for i, s in enumerate(summaries) if s.exceeded), None)
    exceeded = summaries[exceeded_position] if exceeded_position is not None else None
    ctx = _Context(settings, track, today, summaries, trigger, exceeded)

    if exceeded_position == 0:
        return ctx.make(
            at=None,
            action=Action.STOP,
            rule=Rule.STOP_FIRST_LEVEL,
            # Name the track: on a track opened at some levels only (Q2W, DOMAIN 4) the lowest
            # level open to it is not the study's lowest dose, and "no MTD" holds for this track.
            text=(
                f"stop: {ctx.dose(exceeded)} exceeded ({exceeded.counts()}); no MTD: the lowest "
                f"dose level open to track {track.name} exceeded the MTD"
            ),
            dose_level=exceeded.dose_level,
        )

    limit = exceeded_position if exceeded_position is not None else len(summaries)
    top = len(summaries) - 1
    for position in range(limit):
        summary = summaries[position]
        below_exceeded = exceeded_position is not None and position + 1 == exceeded_position

        if summary.enrolled == 0:
            return _open_level(ctx, position, below_exceeded=below_exceeded)

        needs_six = below_exceeded and settings.exceeded_variant is ExceededVariant.EXPAND_LOWER
        trigger_here = trigger is not None and trigger.dose_level == summary.dose_level
        step = _level_step(settings, summary, needs_six=needs_six, trigger_here=trigger_here)

        if not step.passes:
            return _act_on_level(ctx, position, step)
        if below_exceeded:
            return _declare_mtd(ctx, summary)
        if position == top:
            return ctx.make(
                at=position,
                action=Action.MAD_REACHED,
                rule=Rule.MAD,
                # "Top dose" is the top of this track: a Q2W track is opened at one or two
                # levels cleared on Q3W (DOMAIN 4), so its top level tolerated is not the
                # study's top dose. Say which track, and that the committee may open more.
                text=(
                    f"MAD {ctx.dose(summary)} reached: the highest dose level open to track "
                    f"{track.name} tolerated ({summary.counts()}); MTD not reached on this "
                    "track; the committee picks the RP2D, or opens a higher dose level to this "
                    "track where the protocol allows"
                ),
                dose_level=summary.dose_level,
                mad_level=summary.dose_level,
            )
    raise AssertionError("unreachable: the walk ends at the MTD, the MAD or an open level")


def cleared_levels(settings: DesignSettings, track: Track, today: date) -> tuple[DoseLevel, ...]:
    """The levels the escalation has passed on this track, lowest first (the walk's prefix).

    A level is cleared when the walk goes past it: 0/1 in titration, 0/3 or <= 1/6 with every
    subject evaluable, and below any exceeded level. Under expand-lower the level just below an
    exceeded one is cleared only with 6 evaluable. The committee opens the Q2W track at levels
    already cleared on Q3W (DOMAIN 4); this is the list to offer it.
    """
    trigger = find_titration_trigger(settings, track)
    summaries = summarize_levels(settings, track, today, trigger)
    exceeded_position = next((i for i, s in enumerate(summaries) if s.exceeded), None)
    limit = exceeded_position if exceeded_position is not None else len(summaries)
    cleared = []
    for position in range(limit):
        summary = summaries[position]
        if summary.enrolled == 0:
            break
        needs_six = (
            exceeded_position is not None
            and position + 1 == exceeded_position
            and settings.exceeded_variant is ExceededVariant.EXPAND_LOWER
        )
        trigger_here = trigger is not None and trigger.dose_level == summary.dose_level
        if not _level_step(
            settings, summary, needs_six=needs_six, trigger_here=trigger_here
        ).passes:
            break
        cleared.append(summary.dose_level)
    return tuple(cleared)


def _open_level(ctx: _Context, position: int, *, below_exceeded: bool) -> Recommendation:
    """The walk reached a level with no subject: start here, or escalate to it."""
    summary = ctx.summaries[position]
    titration = summary.mode is LevelMode.TITRATION and not below_exceeded
    size = 1 if titration else ctx.settings.cohort_size
    if position == 0:
        return ctx.make(
            at=position,
            action=Action.ENROLL,
            rule=Rule.START,
            text=f"start at {ctx.dose(summary)}: open a cohort of {size}",
            dose_level=summary.dose_level,
            n_subjects=size,
        )
    below = ctx.summaries[position - 1]
    if below.mode is LevelMode.TITRATION:
        rule = Rule.TITRATION_ESCALATE if titration else Rule.TITRATION_OVER
    elif below.evaluable >= ctx.settings.expanded_cohort_size:
        rule = Rule.ESCALATE_AFTER_6
    else:
        rule = Rule.ESCALATE_AFTER_3
    return ctx.make(
        at=position,
        action=Action.ESCALATE,
        rule=rule,
        text=(
            f"escalate to {ctx.dose(summary)}: open a cohort of {size} "
            f"({ctx.dose(below)}: {below.counts()})"
        ),
        dose_level=summary.dose_level,
        n_subjects=size,
    )


def _act_on_level(ctx: _Context, position: int, step: _Step) -> Recommendation:
    summary = ctx.summaries[position]
    dose = ctx.dose(summary)
    awaiting = summary.awaiting
    pending_fields = {
        "pending_subjects": tuple(s.subject_number for s in awaiting),
        "wait_until": max((s.window.end for s in awaiting if s.window is not None), default=None),
    }
    counts = summary.counts()
    why = {
        Rule.TITRATION_ENROLL: "accelerated titration: one subject",
        Rule.TITRATION_TRIGGERED: (
            f"{ctx.common['titration_trigger'].description}; "
            f"{ctx.settings.cohort_size} in all here, then 3+3"
            if ctx.common["titration_trigger"] is not None
            else "titration trigger"
        ),
        Rule.COHORT_INCOMPLETE: f"to complete the cohort of {ctx.settings.cohort_size}",
        Rule.ADD_THREE: f"{counts}: 3+3 expands to {ctx.settings.expanded_cohort_size}",
        Rule.EXPAND_LOWER_FILL: (
            f"{ctx.dose(ctx.exceeded) if ctx.exceeded else 'next higher dose'} exceeded the MTD; "
            f"{counts} here; expand-lower, Korn 1994"
        ),
    }[step.rule]
    pending_text = f"; {describe_pending(awaiting)}" if awaiting else ""

    if step.open_places <= 0:
        return ctx.make(
            at=position,
            action=Action.WAIT,
            rule=Rule.WAIT_PENDING,
            text=f"wait: {describe_pending(awaiting)} at {dose} ({counts} so far)",
            dose_level=summary.dose_level,
            **pending_fields,
        )

    replace = tuple(s.subject_number for s in summary.replacement_candidates[: step.open_places])
    reasons = "; ".join(
        f"{s.subject_number} {s.reason.value}"
        for s in summary.replacement_candidates[: step.open_places]
        if s.reason is not None
    )
    if replace and len(replace) == step.open_places:
        noun = "subject" if len(replace) == 1 else "subjects"
        return ctx.make(
            at=position,
            action=Action.REPLACE,
            rule=Rule.REPLACE_NOT_EVALUABLE,
            text=(
                f"replace {noun} {', '.join(replace)} at {dose} ({reasons}; {why}){pending_text}"
            ),
            dose_level=summary.dose_level,
            n_subjects=step.open_places,
            subjects_to_replace=replace,
            **pending_fields,
        )

    if step.rule is Rule.EXPAND_LOWER_FILL:
        text = f"fill {dose} to {step.target}: enroll {step.open_places} more ({why})"
    else:
        text = f"enroll {step.open_places} more at {dose} ({why})"
    if replace:
        text += f"; {len(replace)} of them {'replaces' if len(replace) == 1 else 'replace'} "
        text += f"{', '.join(replace)} ({reasons})"
    return ctx.make(
        at=position,
        action=Action.ENROLL,
        rule=step.rule,
        text=text + pending_text,
        dose_level=summary.dose_level,
        n_subjects=step.open_places,
        subjects_to_replace=replace,
        **pending_fields,
    )


def _declare_mtd(ctx: _Context, summary: LevelSummary) -> Recommendation:
    exceeded = ctx.exceeded
    assert exceeded is not None
    position = ctx.summaries.index(summary)
    basis = f"{summary.counts()} here; {ctx.dose(exceeded)} exceeded ({exceeded.counts()})"
    if summary.evaluable >= ctx.settings.expanded_cohort_size:
        return ctx.make(
            at=position,
            action=Action.DECLARE_MTD,
            rule=Rule.MTD,
            text=f"MTD = {ctx.dose(summary)} ({basis})",
            dose_level=summary.dose_level,
            mtd_level=summary.dose_level,
        )
    # Only the simple variant gets here with fewer than 6 (expand-lower fills to 6 first).
    return ctx.make(
        at=position,
        action=Action.DECLARE_MTD,
        rule=Rule.SIMPLE_MTD,
        text=(
            f"MTD = {ctx.dose(summary)} ({basis}; simple variant: rests on "
            f"{_plural(summary.evaluable, 'evaluable subject')}, fewer than "
            f"{ctx.settings.expanded_cohort_size})"
        ),
        dose_level=summary.dose_level,
        mtd_level=summary.dose_level,
        flags=(Flag.MTD_ON_FEWER_THAN_6,),
    )


def subject_evaluations(
    settings: DesignSettings, track: Track, today: date
) -> tuple[SubjectEvaluation, ...]:
    """Every subject's DLT evaluation on the track, in the track's order."""
    return tuple(evaluate_subject(settings, track, s, today) for s in track.subjects)
