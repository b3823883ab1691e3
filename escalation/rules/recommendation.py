"""What the core hands back: a recommendation in plain words and as data.

Every recommendation is only that: the Safety Review Committee confirms it or overrides it with a
rationale (docs/escalation.md §7). `rule` names the protocol rule behind it; the Django layer stores it with
`rules_version`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import TYPE_CHECKING

from .design import TitrationTrigger
from .facts import AdverseEvent, DoseLevel
from .window import SubjectEvaluation, SubjectStatus

if TYPE_CHECKING:
    from .evidence import DesignEvidence

# Bump whenever a rule's outcome can change for the same facts; stored with every decision.
RULES_VERSION = "escalation-rules 1.2.0 (2026-11)"


class Action(StrEnum):
    ENROLL = "enroll"  # open `n_subjects` places at `dose_level` (first cohort, add, fill)
    ESCALATE = "escalate"  # open the next higher `dose_level` with a cohort of `n_subjects`
    REPLACE = "replace"  # enroll replacements for `subjects_to_replace` at `dose_level`
    WAIT = "wait"  # nothing to enroll: subjects are pending until `wait_until`
    DECLARE_MTD = "declare_mtd"  # `mtd_level` is the MTD
    MAD_REACHED = "mad_reached"  # top dose tolerated: MTD not reached, `mad_level` is the MAD
    STOP = "stop"  # the lowest dose level exceeded the MTD: no MTD
    PAUSE_EXPANSION = "pause_expansion"  # expansion safety boundary reached
    EXPANSION_COMPLETE = "expansion_complete"


class Rule(StrEnum):
    """The protocol rule behind a recommendation (docs/escalation.md §3-§6)."""

    START = "start: first cohort at the starting dose"
    TITRATION_ENROLL = "titration: one subject at this level"
    TITRATION_ESCALATE = "titration: 0/1 without trigger -> escalate, 1 subject"
    TITRATION_OVER = "titration: no trigger by the last titration level -> next level opens with 3"
    TITRATION_TRIGGERED = "titration: trigger at this level -> 3 in all here, then 3+3"
    COHORT_INCOMPLETE = "3+3: cohort of 3 not complete -> enroll"
    ADD_THREE = "3+3: 1/3 -> add 3"
    ESCALATE_AFTER_3 = "3+3: 0/3 -> escalate"
    ESCALATE_AFTER_6 = "3+3: <=1/6 -> escalate"
    EXPAND_LOWER_FILL = "3+3 expand-lower: next higher dose exceeded -> fill this dose to 6"
    MTD = "3+3: <=1/6 here, next higher dose exceeded -> MTD"
    SIMPLE_MTD = "3+3 simple: next higher dose exceeded -> this dose is the MTD"
    STOP_FIRST_LEVEL = "3+3: lowest dose level exceeded -> stop, no MTD"
    MAD = "3+3: top dose tolerated -> MTD not reached, MAD"
    TOP_DOSE_FILL = "3+3 top dose: 0/3 at the highest dose -> fill it to 6 before the MAD"
    WAIT_REFERENCE = "Q2W: next dose level not cleared on the reference track now -> wait"
    WAIT_PENDING = "escalation needs every subject of the cohort evaluable -> wait"
    REPLACE_NOT_EVALUABLE = "evaluability: not evaluable -> replace"
    EXPANSION_ENROLL = "expansion: enroll to the cohort size"
    EXPANSION_WAIT = "expansion: fully enrolled, windows pending -> wait"
    EXPANSION_PAUSE = "expansion: DLT-type toxicities reached the safety boundary -> pause"
    EXPANSION_COMPLETE = "expansion: cohort size evaluable -> complete"


class Flag(StrEnum):
    """Points the committee must see beside the recommendation."""

    MTD_ON_FEWER_THAN_6 = "mtd_rests_on_fewer_than_6"
    CURTAILED = "curtailed_with_subjects_pending"
    SUBJECTS_ABOVE = "subjects_already_at_higher_levels"
    DLT_CALL_NOT_RELATED = "dlt_call_on_ae_not_related"
    BEYOND_BOUNDARY_TABLE = "evaluated_beyond_boundary_table"
    # A level of this track gives as much drug per week as a level of the reference track (Q3W)
    # that exceeded the MTD there (e.g. 0.2 mg/kg Q2W = 0.1 mg/kg/week = 0.3 mg/kg Q3W).
    DOSE_INTENSITY_AT_EXCEEDED = "dose_intensity_reaches_an_exceeded_reference_level"
    # The level in question is above what the reference track clears now (late data there).
    LEVEL_NOT_CLEARED_ON_REFERENCE = "level_not_cleared_on_reference_track"


class LevelMode(StrEnum):
    TITRATION = "titration"  # one subject (accelerated titration)
    THREE_PLUS_THREE = "3+3"
    EXPANSION = "expansion"
    DESIGN = "design"  # counted for the track's dose-finding design (docs/designs.md §12)


@dataclass(frozen=True)
class LevelSummary:
    """The facts at one dose level, counted the way the rules count them."""

    dose_level: DoseLevel
    mode: LevelMode
    subjects: tuple[SubjectEvaluation, ...]

    @property
    def enrolled(self) -> int:
        return len(self.subjects)

    @property
    def evaluable(self) -> int:
        return sum(1 for s in self.subjects if s.evaluable)

    @property
    def dlts(self) -> int:
        return sum(1 for s in self.subjects if s.has_dlt)

    @property
    def awaiting(self) -> tuple[SubjectEvaluation, ...]:
        return tuple(s for s in self.subjects if s.awaiting_outcome)

    @property
    def replacement_candidates(self) -> tuple[SubjectEvaluation, ...]:
        return tuple(s for s in self.subjects if s.replacement_candidate)

    @property
    def exceeded(self) -> bool:
        # >= 2 DLTs decide "exceeded" at once, pending subjects or not (curtailment, docs/escalation.md §4.2).
        return self.dlts >= 2

    def counts(self) -> str:
        """ "1 DLT in 3 evaluable" """
        return dlt_count(self.dlts, self.evaluable)


@dataclass(frozen=True)
class TriggerEvent:
    subject_number: str
    dose_level: int
    event: AdverseEvent
    kind: str  # "DLT" or "related grade >= 2 AE"


@dataclass(frozen=True)
class TitrationTriggered:
    """Accelerated titration ended here, on these events, under this setting (docs/escalation.md §3)."""

    setting: TitrationTrigger
    dose_level: DoseLevel
    events: tuple[TriggerEvent, ...]  # the event(s) that fired it, in onset order
    description: str


@dataclass(frozen=True)
class Recommendation:
    track: str
    action: Action
    # The protocol rule; on a track run by a dose-finding design, the design's rule in words.
    rule: Rule | str
    text: str  # what happens next, in plain words
    dose_level: DoseLevel | None = None  # where the action applies
    n_subjects: int = 0  # places to open (cohort size when escalating)
    subjects_to_replace: tuple[str, ...] = ()
    pending_subjects: tuple[str, ...] = ()  # at the level the recommendation is about
    wait_until: date | None = None  # last window end among those pending subjects
    reevaluate_on: date | None = None  # earliest pending window end + 1 day, whole track
    mtd_level: DoseLevel | None = None
    mad_level: DoseLevel | None = None
    exceeded_level: DoseLevel | None = None  # lowest dose level that exceeded the MTD
    titration_trigger: TitrationTriggered | None = None
    flags: tuple[Flag, ...] = ()
    notes: tuple[str, ...] = ()
    levels: tuple[LevelSummary, ...] = ()
    evaluated_on: date | None = None
    rules_version: str = RULES_VERSION
    # On a track run by a dose-finding design: what the design read and decided, with its table.
    design: DesignEvidence | None = None

    @property
    def subjects(self) -> tuple[SubjectEvaluation, ...]:
        """Every subject's DLT evaluation, level by level."""
        return tuple(s for level in self.levels for s in level.subjects)


def dlt_count(dlts: int, evaluable: int) -> str:
    return f"{dlts} DLT{'' if dlts == 1 else 's'} in {evaluable} evaluable"


def describe_pending(pending: tuple[SubjectEvaluation, ...]) -> str:
    """ "1 subject pending until 2026-03-02" / "2 subjects pending until ... (a ..., b ...)"."""
    dated = [
        (s, s.window.end)
        for s in pending
        if s.status is SubjectStatus.PENDING and s.window is not None
    ]
    undosed = [s for s in pending if s.status is SubjectStatus.NOT_DOSED]
    parts = []
    if dated:
        until = max(end for _, end in dated).isoformat()
        noun = "subject" if len(dated) == 1 else "subjects"
        detail = ", ".join(f"{s.subject_number} window ends {end.isoformat()}" for s, end in dated)
        parts.append(f"{len(dated)} {noun} pending until {until} ({detail})")
    if undosed:
        noun = "subject" if len(undosed) == 1 else "subjects"
        names = ", ".join(s.subject_number for s in undosed)
        parts.append(f"{len(undosed)} {noun} awaiting first dose ({names})")
    return "; ".join(parts)
