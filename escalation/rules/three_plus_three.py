"""Dose escalation on one track: accelerated titration, then 3+3 (docs/escalation.md §3-§4).

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
4. Passing the top level: the MTD is not reached, the top dose is the MAD. With the default
   `top_dose_rule` ("fill_to_6") 0/3 at the top dose does not pass: the level is filled to 6
   first and <= 1/6 there declares the MAD ("declare_at_3": 0/3 declares it).
5. A track bound to a reference track (Q2W after Q3W, docs/escalation.md §5) escalates only into levels the
   reference track clears on the day of the recommendation; the walk stops below the first level
   it does not clear and waits (or, once the reference's escalation is over, that level is the
   top of this track). A level whose dose per week reaches that of a reference level that
   exceeded the MTD is flagged.

In the usual history this is exactly the level of the last cohort; after late data (a DLT entered
after escalation) it is the lower level the protocol says must be settled first, and a flag says
that higher levels already have subjects.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from .design import DesignSettings, ExceededVariant, TopDoseRule
from .errors import EscalationInputError
from .facts import DoseLevel, ReferenceTrack, Track
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
        # itself takes 3 in all (docs/escalation.md §3). The top level of a track is never decided on one
        # subject: declaring the MAD needs a cohort of 3 (docs/escalation.md §4.5).
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
    top_fill: bool = False,
) -> _Step:
    """`needs_six`: expand-lower below an exceeded dose; `top_fill`: the top dose under
    top_dose_rule "fill_to_6". Either way 0/3 is not enough: the level needs <= 1/6."""
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
    if not needs_six and not top_fill and evaluable >= cohort and dlts == 0 and pending == 0:
        return _Step(passes=True)  # 0/3

    if needs_six:
        target, rule = expanded, Rule.EXPAND_LOWER_FILL
    elif dlts == 1 and evaluable >= cohort:
        target, rule = expanded, Rule.ADD_THREE
    elif top_fill and evaluable >= cohort:
        target, rule = expanded, Rule.TOP_DOSE_FILL
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
        self.enrolled_positions = tuple(i for i, s in enumerate(summaries) if s.enrolled)
        self.today = today
        self.trigger = trigger
        self.reevaluate_on = next_evaluation_date(settings, track, today)

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
        also: tuple[int, ...] = (),
        dose_level: DoseLevel | None = None,
        n_subjects: int = 0,
        subjects_to_replace: tuple[str, ...] = (),
        pending_subjects: tuple[str, ...] = (),
        wait_until: date | None = None,
        mtd_level: DoseLevel | None = None,
        mad_level: DoseLevel | None = None,
    ) -> Recommendation:
        all_flags = list(self.flags) + list(flags)
        all_notes = list(self.notes) + list(notes)
        reference = self.track.reference
        if reference is not None:
            positions = (*self.enrolled_positions, *also, *(() if at is None else (at,)))
            intensity = _intensity_notes(self.track, reference, positions)
            if intensity:
                all_flags.append(Flag.DOSE_INTENSITY_AT_EXCEEDED)
                all_notes.extend(intensity)
            if at is not None and not reference.clears(self.track.dose_levels[at]):
                all_flags.append(Flag.LEVEL_NOT_CLEARED_ON_REFERENCE)
                all_notes.append(
                    f"{self.track.dose_text(self.track.dose_levels[at])} is above what "
                    f"{reference.name} clears now ({_cleared_text(reference)})"
                )
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
            track=self.track.name,
            action=action,
            rule=rule,
            text=text,
            dose_level=dose_level,
            n_subjects=n_subjects,
            subjects_to_replace=subjects_to_replace,
            pending_subjects=pending_subjects,
            wait_until=wait_until,
            reevaluate_on=self.reevaluate_on,
            mtd_level=mtd_level,
            mad_level=mad_level,
            exceeded_level=self.exceeded.dose_level if self.exceeded is not None else None,
            titration_trigger=self.trigger,
            flags=tuple(dict.fromkeys(all_flags)),
            notes=tuple(all_notes),
            levels=self.summaries,
            evaluated_on=self.today,
        )


def recommend_escalation(settings: DesignSettings, track: Track, today: date) -> Recommendation:
    """The next step on an escalation track: a pure function of (settings, track, today)."""
    trigger = find_titration_trigger(settings, track)
    summaries = summarize_levels(settings, track, today, trigger)
    exceeded_position = next((i for i, s in enumerate(summaries) if s.exceeded), None)
    exceeded = summaries[exceeded_position] if exceeded_position is not None else None
    ctx = _Context(settings, track, today, summaries, trigger, exceeded)

    if exceeded is not None and exceeded_position == 0:
        return ctx.make(
            at=None,
            action=Action.STOP,
            rule=Rule.STOP_FIRST_LEVEL,
            # Name the track: on a track opened at some levels only (Q2W, docs/escalation.md §5) the lowest
            # level open to it is not the study's lowest dose, and "no MTD" holds for this track.
            text=(
                f"stop: {ctx.dose(exceeded)} exceeded ({exceeded.counts()}); no MTD: the lowest "
                f"dose level open to track {track.name} exceeded the MTD"
            ),
            dose_level=exceeded.dose_level,
        )

    limit = exceeded_position if exceeded_position is not None else len(summaries)
    for position in range(limit):
        summary = summaries[position]
        below_exceeded = exceeded_position is not None and position + 1 == exceeded_position

        if summary.enrolled == 0:
            return _open_level(ctx, position, below_exceeded=below_exceeded)

        at_top, capped = _top_here(track, summaries, position)
        needs_six = below_exceeded and settings.exceeded_variant is ExceededVariant.EXPAND_LOWER
        trigger_here = trigger is not None and trigger.dose_level == summary.dose_level
        step = _level_step(
            settings,
            summary,
            needs_six=needs_six,
            trigger_here=trigger_here,
            top_fill=at_top and settings.top_dose_rule is TopDoseRule.FILL_TO_6,
        )

        if not step.passes:
            return _act_on_level(ctx, position, step)
        if below_exceeded:
            return _declare_mtd(ctx, summary)
        if at_top:
            return _declare_mad(ctx, position, capped=capped)
        if capped:
            return _wait_for_reference(ctx, position)
    raise AssertionError("unreachable: the walk ends at the MTD, the MAD or an open level")


def _top_here(
    track: Track, summaries: tuple[LevelSummary, ...], position: int
) -> tuple[bool, bool]:
    """(the level at `position` is the top of the track now, the level above is closed to it
    because the reference track does not clear it now).

    The top is the track's highest level; or, once the reference track's escalation is over
    (it will clear nothing more), the highest level below one the reference does not clear. A
    level above that already has subjects (opened before late data on the reference) is not
    closed: the walk goes on to it, and the recommendation there is flagged."""
    if position == len(summaries) - 1:
        return True, False
    reference = track.reference
    above = summaries[position + 1]
    capped = (
        reference is not None and above.enrolled == 0 and not reference.clears(above.dose_level)
    )
    return capped and reference is not None and reference.final, capped


def _declare_mad(ctx: _Context, position: int, *, capped: bool) -> Recommendation:
    summary = ctx.summaries[position]
    track = ctx.track
    # "Top dose" is the top of this track: a Q2W track is opened at one or two levels cleared on
    # Q3W (docs/escalation.md §5), so its top level tolerated is not the study's top dose. Say
    # which track, and that the committee may open more.
    because = ""
    if capped and track.reference is not None:
        because = (
            f", as {track.reference.name} has ended and cleared no higher dose "
            f"({_cleared_text(track.reference)})"
        )
    return ctx.make(
        at=position,
        action=Action.MAD_REACHED,
        rule=Rule.MAD,
        text=(
            f"MAD {ctx.dose(summary)} reached: the highest dose level open to track "
            f"{track.name} tolerated ({summary.counts()}){because}; MTD not reached on this "
            "track; the committee picks the RP2D, or opens a higher dose level to this track "
            "where the protocol allows"
        ),
        dose_level=summary.dose_level,
        mad_level=summary.dose_level,
    )


def _wait_for_reference(ctx: _Context, position: int) -> Recommendation:
    """The level passed, but the next one is not cleared on the reference track today."""
    summary = ctx.summaries[position]
    above = ctx.summaries[position + 1]
    reference = ctx.track.reference
    assert reference is not None
    return ctx.make(
        at=position,
        action=Action.WAIT,
        rule=Rule.WAIT_REFERENCE,
        text=(
            f"wait: {ctx.dose(summary)} tolerated ({summary.counts()}); escalation to "
            f"{ctx.dose(above)} is not recommended: {reference.name} does not clear "
            f"{above.dose_level.label} now ({_cleared_text(reference)}); this track escalates "
            f"only to dose levels already cleared on {reference.regimen}"
        ),
        dose_level=summary.dose_level,
        also=(position + 1,),
    )


def _cleared_text(reference: ReferenceTrack) -> str:
    if not reference.cleared:
        return f"no dose level cleared on {reference.regimen}"
    labels = ", ".join(level.label for level in reference.cleared)
    return f"cleared on {reference.regimen}: {labels}"


def _unit(level: DoseLevel) -> str:
    """ "mg/kg" from the label "0.1 mg/kg"."""
    parts = level.label.split(" ", 1)
    return parts[1] if len(parts) == 2 else ""


def _intensity_notes(
    track: Track, reference: ReferenceTrack, positions: Iterable[int]
) -> list[str]:
    """Levels of `track` whose dose per week reaches that of a reference level that exceeded
    the MTD: the same drug exposure per week that proved too toxic on the other schedule."""
    exceeded = [
        (per_week, level)
        for level in reference.exceeded
        if (per_week := level.per_week(reference.interval_days)) is not None
    ]
    if not exceeded:
        return []
    bound, bound_level = min(exceeded, key=lambda item: item[0])
    notes = []
    for position in sorted(set(positions)):
        level = track.dose_levels[position]
        per_week = level.per_week(track.interval_days)
        # A relative tolerance: 0.3 / 3 and 0.2 / 2 are the same intensity in decimal terms.
        if per_week is not None and per_week >= bound * (1 - 1e-9):
            unit = _unit(level)
            notes.append(
                f"{track.dose_text(level)} gives {per_week:.4g} {unit}/week, as much as "
                f"{bound_level.label} {reference.regimen} ({bound:.4g} {unit}/week), which "
                f"exceeded the MTD on {reference.name}"
            )
    return notes


def cleared_levels(settings: DesignSettings, track: Track, today: date) -> tuple[DoseLevel, ...]:
    """The levels the escalation has passed on this track, lowest first (the walk's prefix).

    A level is cleared when the walk goes past it: 0/1 in titration, 0/3 or <= 1/6 with every
    subject evaluable, and below any exceeded level. Under expand-lower the level just below an
    exceeded one is cleared only with 6 evaluable. The committee opens the Q2W track at levels
    already cleared on Q3W (docs/escalation.md §5); this is the list to offer it.
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
        at_top, capped = _top_here(track, summaries, position)
        step = _level_step(
            settings,
            summary,
            needs_six=needs_six,
            trigger_here=trigger_here,
            top_fill=at_top and settings.top_dose_rule is TopDoseRule.FILL_TO_6,
        )
        if not step.passes:
            break
        cleared.append(summary.dose_level)
        if capped:
            break
    return tuple(cleared)


def exceeded_levels(settings: DesignSettings, track: Track, today: date) -> tuple[DoseLevel, ...]:
    """The track's levels with 2 or more DLTs: they exceeded the MTD (docs/escalation.md §4.5)."""
    trigger = find_titration_trigger(settings, track)
    summaries = summarize_levels(settings, track, today, trigger)
    return tuple(s.dose_level for s in summaries if s.exceeded)


def reference_from(
    settings: DesignSettings, track: Track, today: date, *, final: bool = False
) -> ReferenceTrack:
    """What `track` (Q3W) clears and has found too toxic on `today`, as the reference of a track
    that may only use levels cleared there (Q2W). `final`: its escalation is over."""
    if track.interval_days is None:
        raise EscalationInputError(f"track {track.name}: the reference needs its interval_days")
    return ReferenceTrack(
        name=track.name,
        regimen=track.regimen,
        interval_days=track.interval_days,
        cleared=cleared_levels(settings, track, today),
        exceeded=exceeded_levels(settings, track, today),
        final=final,
    )


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
    pending_subjects = tuple(s.subject_number for s in awaiting)
    wait_until = max((s.window.end for s in awaiting if s.window is not None), default=None)
    counts = summary.counts()
    assert step.rule is not None  # a step that does not pass names its rule
    why = {
        Rule.TITRATION_ENROLL: "accelerated titration: one subject",
        Rule.TITRATION_TRIGGERED: (
            f"{ctx.trigger.description}; {ctx.settings.cohort_size} in all here, then 3+3"
            if ctx.trigger is not None
            else "titration trigger"
        ),
        Rule.COHORT_INCOMPLETE: f"to complete the cohort of {ctx.settings.cohort_size}",
        Rule.ADD_THREE: f"{counts}: 3+3 expands to {ctx.settings.expanded_cohort_size}",
        Rule.EXPAND_LOWER_FILL: (
            f"{ctx.dose(ctx.exceeded) if ctx.exceeded else 'next higher dose'} exceeded the MTD; "
            f"{counts} here; expand-lower, Korn 1994"
        ),
        Rule.TOP_DOSE_FILL: (
            f"{counts} at the highest dose level open to track {ctx.track.name}; the MAD "
            f"needs <= 1 DLT in {ctx.settings.expanded_cohort_size}"
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
            pending_subjects=pending_subjects,
            wait_until=wait_until,
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
            pending_subjects=pending_subjects,
            wait_until=wait_until,
        )

    if step.rule in (Rule.EXPAND_LOWER_FILL, Rule.TOP_DOSE_FILL):
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
        pending_subjects=pending_subjects,
        wait_until=wait_until,
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
