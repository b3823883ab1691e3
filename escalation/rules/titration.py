"""Accelerated titration: which dose levels take one subject, and what ended titration.

Simon et al., JNCI 1997;89:1138: single-subject cohorts at the first dose levels until a trigger,
then standard cohorts. MIL97 (docs/escalation.md §3): levels 1-2 only; on a trigger at level k, 2 more subjects
at level k (3 in all) and 3+3 from there; no trigger by level 2: level 3 opens with 3.
"""

from __future__ import annotations

from datetime import date

from .design import DesignSettings, TitrationTrigger
from .facts import AdverseEvent, Phase, Subject, Track
from .recommendation import TitrationTriggered, TriggerEvent
from .window import dlt_window

DLT = "DLT"
RELATED_GRADE2 = "related grade >= 2 AE"


def titration_positions(settings: DesignSettings, track: Track) -> range:
    """Positions (0-based, in track order) of the dose levels that start in titration."""
    if not track.titration or track.phase is not Phase.ESCALATION:
        return range(0)
    return range(min(settings.titration_levels, len(track.dose_levels)))


def _window_events(
    settings: DesignSettings, track: Track, subject: Subject
) -> list[tuple[date, AdverseEvent, str]]:
    if subject.first_dose_on is None:
        return []
    window = dlt_window(subject.first_dose_on, track.dlt_window_days, settings.window_convention)
    events = []
    for ae in subject.adverse_events:
        if not window.contains(ae.onset):
            continue
        if ae.is_dlt:
            events.append((ae.onset, ae, DLT))
        elif ae.related and ae.grade >= 2:
            events.append((ae.onset, ae, RELATED_GRADE2))
    return events


def find_titration_trigger(settings: DesignSettings, track: Track) -> TitrationTriggered | None:
    """The event that ended titration on this track, or None.

    Events are taken from every subject dosed at a titration level (replaced subjects too: a
    toxicity is a toxicity), with onset inside that subject's DLT window, in onset order.
    """
    positions = titration_positions(settings, track)
    if not positions:
        return None
    titration_numbers = {track.dose_levels[i].number for i in positions}
    candidates: list[tuple[date, int, int, TriggerEvent]] = []
    for subject_index, subject in enumerate(track.subjects):
        if subject.dose_level not in titration_numbers:
            continue
        for event_index, (onset, ae, kind) in enumerate(_window_events(settings, track, subject)):
            event = TriggerEvent(
                subject_number=subject.number, dose_level=subject.dose_level, event=ae, kind=kind
            )
            candidates.append((onset, subject_index, event_index, event))
    candidates.sort(key=lambda item: item[:3])
    ordered = [item[3] for item in candidates]

    setting = settings.titration_trigger
    fired: tuple[TriggerEvent, ...] | None = None
    if setting is TitrationTrigger.DLT_ONLY:
        fired = next(((e,) for e in ordered if e.kind == DLT), None)
    elif setting is TitrationTrigger.DLT_OR_RELATED_GRADE2:
        fired = (ordered[0],) if ordered else None
    else:  # SECOND_RELATED_GRADE2: the first DLT, or related grade >= 2 in a second subject.
        # Simon et al. 1997 (abstract): single-patient cohorts "until one patient experienced
        # dose-limiting toxic effects or two patients experienced grade 2 toxic effects". Two
        # grade 2 events in the same subject are one patient with grade 2, not the trigger: only
        # each subject's first such event counts toward the two.
        seen: list[TriggerEvent] = []
        for event in ordered:
            if event.kind == DLT:
                fired = (event,)
                break
            if any(e.subject_number == event.subject_number for e in seen):
                continue
            seen.append(event)
            if len(seen) == 2:
                fired = tuple(seen)
                break
    if fired is None:
        return None

    last = fired[-1]
    level = track.level(last.dose_level)
    what = "; ".join(
        f"{e.kind} in subject {e.subject_number} at {track.dose_text(track.level(e.dose_level))}: "
        f"{e.event.describe()}"
        for e in fired
    )
    return TitrationTriggered(
        setting=setting,
        dose_level=level,
        events=fired,
        description=f"titration trigger: {setting.label}, at {track.dose_text(level)}: {what}",
    )
