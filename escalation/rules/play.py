"""A scripted trial played through the rules alone: the reference path of `manage.py play_trial`.

A script lists subjects in enrollment order with their outcome at the dose they receive
(docs/trial-player.md):

    N  evaluable without DLT           T  DLT (grade 3, related, Day 8)
    G  related grade 2 AE, no DLT (Day 4; the default titration trigger)
    X  not evaluable: leaves treatment and the study on Day 6, no DLT (replaced)
    P  pending: enrolled, dosed on the play's last day, window still open at the end

The play is a loop, the same in this module and in the Django player (escalation/player.py),
so both must reach the same signed steps and the same outcome:

1. Evaluate the track on the play's day. A recommendation that asks the committee for a step not
   yet carried out (`decisions.needs_decision`) is confirmed: enroll/escalate closes the track's
   cohorts and opens one at that level with that many places; MTD, MAD or stop closes the track.
2. Otherwise, while subjects remain: the next one is enrolled, replacing the first subject the
   recommendation names for replacement when that subject's cohort is not closed, else into an
   open cohort with a free place; the subject is dosed that day (a P subject is not dosed yet).
3. When nobody can be enrolled, the clock moves to the day after the last DLT window of the
   subjects dosed and not yet followed up, and their outcomes are entered (AEs, leaving the
   study, the other planned window infusions).
4. When nothing more can happen, the P subjects are dosed, the track is evaluated once more
   (and any step it asks confirmed), and the outcome is read: the MTD, the MAD or a stop with the
   dose, or what the track awaits.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from .decide import recommend
from .decisions import CarriedOut, OpenPlaces, TrackStatus, check_decision
from .design import DesignSettings
from .errors import EscalationInputError
from .facts import AdverseEvent, Dose, DoseLevel, Subject, Track
from .recommendation import Action, Recommendation
from .window import dlt_window

CODES = "NTGXP"
DLT_ONSET_DAY = 8  # study day of the T subject's DLT
GRADE2_ONSET_DAY = 4  # study day of the G subject's related grade 2 AE
LEFT_ON_DAY = 6  # study day the X subject leaves treatment and the study

# Protocol-file [design] keys and the DesignSettings fields they set (trial/services.py).
DESIGN_KEYS = {
    "titration_levels": "titration_levels",
    "titration_trigger": "titration_trigger",
    "exceeded_variant": "exceeded_variant",
    "dlt_window_convention": "window_convention",
    "min_exposure_fraction": "minimum_exposure_fraction",
    "min_infusions_in_window": "minimum_infusions",
    "cohort_size": "cohort_size",
    "expanded_cohort_size": "expanded_cohort_size",
    "expansion_cohort_size": "expansion_cohort_size",
    "expansion_boundaries": "expansion_boundaries",
    "expansion_counts_escalation_subjects": "expansion_counts_escalation_subjects",
    "top_dose_rule": "top_dose_rule",
    "end_of_treatment_on_last_window_day": "end_of_treatment_on_last_window_day",
}
# Protocol-file [design] keys that are not escalation rules (or that no script outcome reaches).
OTHER_DESIGN_KEYS = frozenset(
    {"min_weight_kg", "max_weight_kg", "max_dose_over_planned_percent", "left_window_on"}
)

# Closing steps: the track's status after the committee confirms them.
_CLOSING = {
    Action.DECLARE_MTD: TrackStatus.COMPLETED,
    Action.MAD_REACHED: TrackStatus.COMPLETED,
    Action.STOP: TrackStatus.STOPPED,
    Action.PAUSE_EXPANSION: TrackStatus.PAUSED,
    Action.EXPANSION_COMPLETE: TrackStatus.COMPLETED,
}


@dataclass(frozen=True)
class Script:
    """A scripted trial: outcome codes in enrollment order, and [design] overrides."""

    subjects: tuple[str, ...]
    settings: Mapping[str, object] = field(default_factory=dict)
    title: str = ""


def parse_script(data: Mapping[str, object]) -> Script:
    """A script from its JSON object (docs/trial-player.md), or an EscalationInputError naming
    the field and the rule."""
    unknown = set(data) - {"title", "subjects", "settings", "expected", "protocol"}
    if unknown:
        raise EscalationInputError(f"script: unknown field(s) {', '.join(sorted(unknown))}")
    raw = data.get("subjects")
    if isinstance(raw, str):
        codes = tuple(c for c in raw.upper() if not c.isspace() and c != ",")
    elif isinstance(raw, list) and all(isinstance(c, str) for c in raw):
        codes = tuple(str(c).strip().upper() for c in raw)
    else:
        raise EscalationInputError("subjects: a list of outcome codes (or a string of them)")
    bad = [c for c in codes if c not in tuple(CODES)]
    if bad:
        raise EscalationInputError(
            f"subjects: {', '.join(repr(c) for c in bad)} not an outcome code (N, T, G, X or P)"
        )
    settings = data.get("settings", {})
    if not isinstance(settings, Mapping):
        raise EscalationInputError("settings: an object of protocol [design] settings")
    unknown = set(settings) - set(DESIGN_KEYS) - OTHER_DESIGN_KEYS
    if unknown:
        raise EscalationInputError(f"settings: unknown design setting(s) {sorted(unknown)}")
    title = data.get("title", "")
    return Script(subjects=codes, settings=dict(settings), title=str(title))


def design_settings(design: Mapping[str, object]) -> DesignSettings:
    """DesignSettings from a protocol file's [design] table (values as the file writes them)."""
    values: dict[str, object] = {}
    for key, value in design.items():
        name = DESIGN_KEYS.get(key)
        if name is None:
            continue
        if name == "minimum_exposure_fraction":
            value = float(str(value))
        values[name] = value
    return DesignSettings(**values)  # type: ignore[arg-type]


@dataclass(frozen=True)
class PlayProtocol:
    """The escalation track a script is played on, and its first cohort (the protocol file)."""

    track_name: str
    regimen: str
    dlt_window_days: int
    planned_infusion_days: tuple[int, ...]
    interval_days: int
    dose_levels: tuple[DoseLevel, ...]
    titration: bool
    first_cohort_level: int
    first_cohort_size: int


def protocol_from_file(data: Mapping[str, object]) -> PlayProtocol:
    """The protocol file's first escalation track that starts active, with its first cohort.
    `data` is the parsed TOML (tomllib.loads)."""
    study = _table(data, "study")
    unit = str(study.get("dose_unit", "mg/kg"))
    levels = tuple(
        DoseLevel(
            int(str(lv["number"])),
            f"{lv['amount']} {lv.get('unit', unit)}",
            float(str(lv["amount"])),
        )
        for lv in _tables(data, "dose_levels")
    )
    levels = tuple(sorted(levels, key=lambda level: level.amount or 0.0))
    tracks = [
        t
        for t in _tables(data, "tracks")
        if t.get("phase") == "escalation" and t.get("status") == "active"
    ]
    if not tracks:
        raise EscalationInputError("protocol: no active escalation track to play")
    track = tracks[0]
    regimen = next(r for r in _tables(data, "regimens") if r["code"] == track["regimen"])
    cohort = next(c for c in _tables(data, "cohorts") if c["track"] == track["code"])
    window = int(str(regimen["dlt_window_days"]))
    cycle = int(str(regimen["cycle_length_days"]))
    infusion_days = [int(str(d)) for d in _list(regimen["infusion_days"])]
    planned = []
    c = 1
    while (c - 1) * cycle + 1 <= window:
        planned += [(c - 1) * cycle + d for d in infusion_days if (c - 1) * cycle + d <= window]
        c += 1
    return PlayProtocol(
        track_name=str(track["name"]),
        regimen=str(regimen["code"]),
        dlt_window_days=window,
        planned_infusion_days=tuple(planned),
        interval_days=int(str(regimen["interval_days"])),
        dose_levels=levels,
        titration=bool(track.get("uses_titration", False)),
        first_cohort_level=int(str(cohort["dose_level"])),
        first_cohort_size=int(str(cohort["planned_size"])),
    )


def _table(data: Mapping[str, object], key: str) -> Mapping[str, object]:
    value = data.get(key, {})
    if not isinstance(value, Mapping):
        raise EscalationInputError(f"protocol: [{key}] must be a table")
    return value


def _tables(data: Mapping[str, object], key: str) -> list[Mapping[str, object]]:
    return [t for t in _list(data.get(key, [])) if isinstance(t, Mapping)]


def _list(value: object) -> list[object]:
    if not isinstance(value, list):
        raise EscalationInputError("protocol: a list was expected")
    return value


@dataclass(frozen=True)
class SignedStep:
    """One step the committee confirmed: what it decided."""

    action: Action
    dose: str  # "0.03 mg/kg Q3W", "" when the step names no level
    n_subjects: int
    text: str  # the recommendation's words (rules text)

    def describe(self) -> str:
        what = {
            Action.ENROLL: f"open {self.n_subjects} place(s) at {self.dose}",
            Action.ESCALATE: f"escalate to {self.dose}, {self.n_subjects} subject(s)",
            Action.DECLARE_MTD: f"MTD {self.dose}",
            Action.MAD_REACHED: f"MAD {self.dose}",
            Action.STOP: f"stop ({self.dose} exceeded)",
        }.get(self.action, f"{self.action.value} {self.dose}".strip())
        return what


@dataclass(frozen=True)
class PlayOutcome:
    """How the play ended: "MTD", "MAD" or "stop" with the dose, or "open" with the action the
    track's recommendation awaits (e.g. "wait")."""

    kind: str
    dose: str
    text: str

    def describe(self) -> str:
        if self.kind in ("MTD", "MAD"):
            return f"{self.kind} {self.dose}"
        if self.kind == "stop":
            return f"stop: {self.dose} exceeded, no MTD"
        return f"not over; the track's recommendation: {self.text}"


@dataclass(frozen=True)
class PlayResult:
    steps: tuple[SignedStep, ...]
    outcome: PlayOutcome
    enrolled: int
    not_enrolled: int

    def summary(self) -> dict[str, object]:
        """What two plays of one script must agree on."""
        return {
            "steps": [(s.action.value, s.dose, s.n_subjects) for s in self.steps],
            "outcome": (self.outcome.kind, self.outcome.dose),
            "enrolled": self.enrolled,
            "not_enrolled": self.not_enrolled,
        }


def signed_step(recommendation: Recommendation, regimen: str) -> SignedStep:
    level = recommendation.dose_level
    return SignedStep(
        action=recommendation.action,
        dose=f"{level.label} {regimen}" if level is not None else "",
        n_subjects=recommendation.n_subjects
        if recommendation.action in (Action.ENROLL, Action.ESCALATE)
        else 0,
        text=recommendation.text,
    )


def outcome_of(
    status: TrackStatus, steps: Sequence[SignedStep], current: Recommendation, regimen: str
) -> PlayOutcome:
    """The play's outcome from the track's status, the last signed step and the track's current
    recommendation (what it awaits when the escalation is not over)."""
    last = steps[-1] if steps else None
    if last is not None and status is TrackStatus.COMPLETED and last.action is Action.DECLARE_MTD:
        return PlayOutcome("MTD", last.dose, last.text)
    if last is not None and status is TrackStatus.COMPLETED and last.action is Action.MAD_REACHED:
        return PlayOutcome("MAD", last.dose, last.text)
    if last is not None and status is TrackStatus.STOPPED and last.action is Action.STOP:
        return PlayOutcome("stop", last.dose, last.text)
    level = current.dose_level
    dose = f"{level.label} {regimen}" if level is not None else ""
    return PlayOutcome(current.action.value, dose, current.text)


@dataclass
class _Cohort:
    level: int
    size: int
    status: str = "open"  # open | full | closed


@dataclass
class _Subject:
    number: str
    code: str
    cohort: int  # index in the cohorts
    level: int
    dosed_on: date | None = None
    followed_up: bool = False
    replaced: bool = False


def play(
    script: Script,
    protocol: PlayProtocol,
    settings: DesignSettings,
    *,
    start: date = date(2025, 1, 6),
) -> PlayResult:
    """Play `script` through the rules alone, the committee confirming every step asked."""
    day = start
    cohorts = [_Cohort(protocol.first_cohort_level, protocol.first_cohort_size)]
    subjects: list[_Subject] = []
    queue = list(script.subjects)
    steps: list[SignedStep] = []
    status = TrackStatus.ACTIVE
    closed_by: Action | None = None
    closed_at: int | None = None

    def track() -> Track:
        return Track(
            name=protocol.track_name,
            regimen=protocol.regimen,
            dlt_window_days=protocol.dlt_window_days,
            planned_infusion_days=protocol.planned_infusion_days,
            dose_levels=protocol.dose_levels,
            subjects=tuple(_facts(s, protocol) for s in subjects),
            titration=protocol.titration,
            interval_days=protocol.interval_days,
        )

    def occupied(index: int) -> int:
        return sum(1 for s in subjects if s.cohort == index and not s.replaced)

    def state() -> CarriedOut:
        return CarriedOut(
            status=status,
            open_places=tuple(
                OpenPlaces(c.level, c.size - occupied(i))
                for i, c in enumerate(cohorts)
                if c.status == "open"
            ),
            closed_by=closed_by,
            closed_at_level=closed_at,
        )

    def confirm_pending() -> Recommendation:
        """Evaluate; confirm every step asked until none is. The current recommendation."""
        nonlocal status, closed_by, closed_at
        for _ in range(1000):
            facts = track()
            current = recommend(settings, facts, day)
            if not check_decision(current, state(), facts).needed:
                return current
            steps.append(signed_step(current, protocol.regimen))
            closing = _carry_out(current, cohorts)
            if closing is None:
                status = TrackStatus.ACTIVE
            else:
                status, closed_by, closed_at = closing
        raise AssertionError("the committee was asked 1000 steps in a row")

    for _ in range(10_000):
        current = confirm_pending()
        if queue and status is TrackStatus.ACTIVE:
            target, replaces = _where_to_enroll(current, cohorts, subjects, occupied)
            if target is not None:
                _enroll(queue.pop(0), target, replaces, cohorts, subjects, day)
                if occupied(target) >= cohorts[target].size and cohorts[target].status == "open":
                    cohorts[target].status = "full"
                continue
        later = _follow_up(subjects, protocol, settings)
        if later is not None:
            day = later
            continue
        break
    else:
        raise AssertionError("the play did not end")

    for s in subjects:  # the subjects still pending are dosed when the play ends
        s.dosed_on = day if s.code == "P" and s.dosed_on is None else s.dosed_on
    current = confirm_pending()
    return PlayResult(
        steps=tuple(steps),
        outcome=outcome_of(status, steps, current, protocol.regimen),
        enrolled=len(subjects),
        not_enrolled=len(queue),
    )


def _carry_out(
    current: Recommendation, cohorts: list[_Cohort]
) -> tuple[TrackStatus, Action, int | None] | None:
    """The committee's confirmed step on the track's cohorts: every cohort closes; an enroll or
    escalate step opens the next one (None is returned), a closing step returns the track's
    status, the action and the level it closed at."""
    for cohort in cohorts:
        cohort.status = "closed"
    if current.action in (Action.ENROLL, Action.ESCALATE):
        assert current.dose_level is not None
        cohorts.append(_Cohort(current.dose_level.number, current.n_subjects))
        return None
    if current.action in _CLOSING:
        level = current.dose_level.number if current.dose_level else None
        return _CLOSING[current.action], current.action, level
    # no script outcome makes a replacement need the committee
    raise EscalationInputError(f"cannot play a step asking {current.action.value}")


def _enroll(
    code: str,
    target: int,
    replaces: _Subject | None,
    cohorts: list[_Cohort],
    subjects: list[_Subject],
    day: date,
) -> None:
    """The script's next subject into cohort `target` (in the place of `replaces`, if any);
    dosed on `day` unless the code is P (dosed when the play ends)."""
    if replaces is not None:
        replaces.replaced = True
    number = f"S-{len(subjects) + 1:03d}"
    subjects.append(
        _Subject(number, code, target, cohorts[target].level, dosed_on=None if code == "P" else day)
    )


def _follow_up(
    subjects: list[_Subject], protocol: PlayProtocol, settings: DesignSettings
) -> date | None:
    """Follow every dosed subject not yet followed up to the end of their DLT window: the day
    after the last window ends, or None when nobody is waiting."""
    waiting = [s for s in subjects if s.dosed_on is not None and not s.followed_up]
    if not waiting:
        return None
    for s in waiting:
        s.followed_up = True
    return max(_window_end(s, protocol, settings) for s in waiting) + timedelta(days=1)


def _where_to_enroll(
    current: Recommendation,
    cohorts: list[_Cohort],
    subjects: list[_Subject],
    occupied: Callable[[int], int],
) -> tuple[int | None, _Subject | None]:
    """(cohort index, subject replaced) for the next subject, or (None, None)."""
    for number in current.subjects_to_replace:
        replaced = next((s for s in subjects if s.number == number and not s.replaced), None)
        if replaced is not None and cohorts[replaced.cohort].status != "closed":
            return replaced.cohort, replaced
        break
    for index, cohort in enumerate(cohorts):
        if cohort.status == "open" and occupied(index) < cohort.size:
            return index, None
    return None, None


def _window_end(subject: _Subject, protocol: PlayProtocol, settings: DesignSettings) -> date:
    assert subject.dosed_on is not None
    return dlt_window(subject.dosed_on, protocol.dlt_window_days, settings.window_convention).end


def _facts(subject: _Subject, protocol: PlayProtocol) -> Subject:
    """The subject as the rules see it on the play's day: the first infusion once dosed; the
    outcome (AEs, leaving, the other window infusions) once followed up."""
    if subject.dosed_on is None:
        return Subject(subject.number, subject.level, replaced=subject.replaced)
    first = subject.dosed_on
    doses = [Dose(first)]
    events: tuple[AdverseEvent, ...] = ()
    left_on = None
    if subject.followed_up:
        if subject.code == "X":
            left_on = first + timedelta(days=LEFT_ON_DAY - 1)
        else:
            doses += [
                Dose(first + timedelta(days=d - 1)) for d in protocol.planned_infusion_days[1:]
            ]
        if subject.code == "T":
            events = (
                AdverseEvent(
                    first + timedelta(days=DLT_ONSET_DAY - 1), 3, True, dlt_investigator=True
                ),
            )
        elif subject.code == "G":
            events = (AdverseEvent(first + timedelta(days=GRADE2_ONSET_DAY - 1), 2, True),)
    return Subject(
        subject.number,
        subject.level,
        doses=tuple(doses),
        adverse_events=events,
        left_on=left_on,
        replaced=subject.replaced,
    )
