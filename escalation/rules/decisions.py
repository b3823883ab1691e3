"""Does a recommendation ask the Safety Review Committee for a step, or is that step done already?

Every computed decision is a recommendation that the committee confirms or overrides
(docs/escalation.md §7), but only once: after the committee confirmed "escalate to 0.03 mg/kg
Q3W: open a cohort of 1" and the cohort opened, the rules still say "escalate to 0.03 mg/kg Q3W" until a subject is enrolled
there. That recommendation is carried out, not a new question; asking it again would open a second
cohort at the same dose. A step is carried out when the track's state shows it:

- enroll / escalate / start at a level, n places: the track is active and its open cohorts at that
  level have at least n free places (the committee opened them);
- declare the MTD (MAD) at a level: the track is completed by the committee's MTD (MAD) decision
  at that level;
- stop: the track is stopped by the committee; pause (expansion safety rule): the track is paused
  by the committee's decision (a pause made by the rule alone still awaits the committee);
- expansion complete: the track is completed by the committee.

Waiting asks nothing; replacing a non-evaluable subject asks nothing unless that subject had a
severe event in the window without a DLT call (grade 5, or related grade >= 3): the committee then
looks before anyone is replaced.

Two recommendations are the same decision when they decide the same thing (`decision_key`: the
action, its dose level, the number of places, who is replaced, the MTD/MAD level), whatever their
wording: a corrected AE grade inside the evidence text is the same decision with new evidence.

The Django layer only computes the facts (`CarriedOut`: open cohorts and their free places, the
track's status, the committee's step that closed it); the answer is this module's.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from .facts import DoseLevel, Track
from .recommendation import Action, Recommendation


class TrackStatus(StrEnum):
    PLANNED = "planned"
    ACTIVE = "active"
    PAUSED = "paused"
    COMPLETED = "completed"
    STOPPED = "stopped"


@dataclass(frozen=True)
class OpenPlaces:
    """Free places in the track's open cohorts at one dose level."""

    dose_level: int
    free: int


@dataclass(frozen=True)
class CarriedOut:
    """What the track's state shows the committee has decided and done.

    `closed_by`: the action carried out by the committee's latest decision when that decision
    closed or paused the track (DECLARE_MTD, MAD_REACHED, STOP, PAUSE_EXPANSION,
    EXPANSION_COMPLETE), with its dose level; None otherwise.
    """

    status: TrackStatus = TrackStatus.ACTIVE
    open_places: tuple[OpenPlaces, ...] = ()
    closed_by: Action | None = None
    closed_at_level: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "status", TrackStatus(self.status))
        object.__setattr__(self, "open_places", tuple(self.open_places))
        if self.closed_by is not None:
            object.__setattr__(self, "closed_by", Action(self.closed_by))

    def free_at(self, dose_level: int) -> int:
        return sum(p.free for p in self.open_places if p.dose_level == dose_level and p.free > 0)


@dataclass(frozen=True)
class DecisionCheck:
    needed: bool
    reason: str  # why no decision is needed, in words ("" when one is)
    carried_out: bool = False  # the step is done already (not merely "nothing to decide")


_CLOSING = {
    Action.DECLARE_MTD: (TrackStatus.COMPLETED, "the MTD is declared"),
    Action.MAD_REACHED: (TrackStatus.COMPLETED, "the MAD is declared"),
    Action.STOP: (TrackStatus.STOPPED, "the track is stopped"),
    Action.PAUSE_EXPANSION: (TrackStatus.PAUSED, "the committee paused the track"),
    Action.EXPANSION_COMPLETE: (TrackStatus.COMPLETED, "the expansion is completed"),
}


def check_decision(
    recommendation: Recommendation, state: CarriedOut, track: Track
) -> DecisionCheck:
    """Whether `recommendation` asks the committee for a step, given the track's state."""
    action = recommendation.action
    if action is Action.WAIT:
        return DecisionCheck(False, "waiting asks nothing of the committee")
    if action is Action.REPLACE:
        if severe_event_without_dlt_call(recommendation, track):
            return DecisionCheck(True, "")
        return DecisionCheck(False, "replacing a non-evaluable subject carries out the protocol")
    if action in (Action.ENROLL, Action.ESCALATE):
        level = recommendation.dose_level
        if level is None or state.status is not TrackStatus.ACTIVE:
            return DecisionCheck(True, "")
        free = state.free_at(level.number)
        if free >= recommendation.n_subjects:
            places = "1 place" if free == 1 else f"{free} places"
            return DecisionCheck(
                False,
                f"carried out: {places} open at {track.dose_text(level)}; enroll there",
                carried_out=True,
            )
        return DecisionCheck(True, "")
    if action in _CLOSING:
        status, words = _CLOSING[action]
        level = _level_of(recommendation)
        same_level = level is None or state.closed_at_level == level.number
        if state.status is status and state.closed_by is action and same_level:
            return DecisionCheck(False, f"carried out: {words}", carried_out=True)
        return DecisionCheck(True, "")
    return DecisionCheck(True, "")


def needs_decision(recommendation: Recommendation, state: CarriedOut, track: Track) -> bool:
    """Does this recommendation ask the committee for a step that is not carried out yet?"""
    return check_decision(recommendation, state, track).needed


def _level_of(recommendation: Recommendation) -> DoseLevel | None:
    if recommendation.action is Action.DECLARE_MTD:
        return recommendation.mtd_level
    if recommendation.action is Action.MAD_REACHED:
        return recommendation.mad_level
    # Stop, pause and complete act on the whole track, whatever level they name.
    return None


def decision_key(recommendation: Recommendation) -> dict[str, object]:
    """What the recommendation decides, as JSON-able data: two recommendations with equal keys
    are the same decision, whatever their wording or evidence."""
    return {
        "action": str(recommendation.action),
        "dose_level": _number(recommendation.dose_level),
        "n_subjects": recommendation.n_subjects,
        "subjects_to_replace": list(recommendation.subjects_to_replace),
        "mtd_level": _number(recommendation.mtd_level),
        "mad_level": _number(recommendation.mad_level),
    }


def _number(level: DoseLevel | None) -> int | None:
    return level.number if level is not None else None


def severe_event_without_dlt_call(recommendation: Recommendation, track: Track) -> bool:
    """A subject to replace had, inside the DLT window, an event of grade 5 or a related event of
    grade >= 3 that nobody called a DLT: the committee looks before the subject is replaced."""
    windows = {s.subject_number: s.window for s in recommendation.subjects}
    for subject in track.subjects:
        if subject.number not in recommendation.subjects_to_replace:
            continue
        window = windows.get(subject.number)
        for event in subject.adverse_events:
            inside = window is not None and window.contains(event.onset)
            severe = event.grade == 5 or (event.related and event.grade >= 3)
            if inside and severe and not event.is_dlt:
                return True
    return False
