"""The facts the escalation core decides from: dose levels, subjects, doses, adverse events, tracks.

Plain frozen dataclasses. The Django layer builds them from its rows; tests build them by hand.
Lists given for tuple fields are turned into tuples so hand-written scenarios stay short.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import TYPE_CHECKING

from .errors import EscalationInputError, as_choice

# A dose that reaches the minimum fraction up to this tolerance counts as reaching it, so that a
# quotient such as 0.7 / 0.7000000001 computed from mg amounts does not make a full infusion
# look under-dosed.
_FRACTION_TOLERANCE = 1e-9

if TYPE_CHECKING:
    from .designs.config import DesignConfig


@dataclass(frozen=True)
class DoseLevel:
    """One dose level of a track. `number` identifies it (L1..L6 on MIL97; an intermediate dose
    chosen by the committee gets any unused number); the order of levels is the track's order."""

    number: int
    label: str  # e.g. "0.1 mg/kg"
    # The dose per administration in the study's unit (0.1 for "0.1 mg/kg"). Optional: only the
    # dose-intensity comparison between regimens needs it (`Track.reference`).
    amount: float | None = None

    def per_week(self, interval_days: int | None) -> float | None:
        """Dose intensity: the dose given per week on a regimen with this interval (e.g. 0.2 mg/kg
        every 14 days is 0.1 mg/kg per week), or None without an amount or an interval."""
        if self.amount is None or not interval_days:
            return None
        return self.amount * 7 / interval_days


@dataclass(frozen=True)
class Dose:
    """One administration: its date and the fraction of the planned dose actually given."""

    given_on: date
    fraction: float = 1.0

    @classmethod
    def from_amounts(cls, given_on: date, actual: float, planned: float) -> Dose:
        """Build from the actual and planned amounts (same unit, e.g. mg/kg or mg)."""
        if planned <= 0:
            raise EscalationInputError("the planned dose must be positive")
        return cls(given_on=given_on, fraction=actual / planned)

    def __post_init__(self) -> None:
        if self.fraction < 0:
            raise EscalationInputError(f"dose on {self.given_on}: fraction cannot be negative")

    def reaches(self, minimum_fraction: float) -> bool:
        return self.fraction + _FRACTION_TOLERANCE >= minimum_fraction


@dataclass(frozen=True)
class AdverseEvent:
    """An adverse event as the DLT rules see it.

    `related` is True for possible, probable or definite relationship to the study drug.
    `dlt_investigator` is the investigator's DLT call; `dlt_adjudicated` the Safety Review
    Committee's (None until adjudicated). The adjudicated call wins when present (docs/escalation.md §2.3).
    `dlt_attested` is False while an investigator's call proposed by a coordinator awaits the
    investigator's attestation: it counts as a DLT all the same (the safe side), and is shown so.
    """

    onset: date
    grade: int
    related: bool
    dlt_investigator: bool = False
    dlt_adjudicated: bool | None = None
    term: str = ""
    reference: str = ""  # the caller's id for the AE record, echoed back in the output
    dlt_attested: bool = True

    def __post_init__(self) -> None:
        if not 1 <= self.grade <= 5:
            raise EscalationInputError(f"AE {self.term or self.reference}: grade must be 1-5")

    @property
    def is_dlt(self) -> bool:
        """The DLT call that counts: the adjudicated one when present, else the investigator's."""
        if self.dlt_adjudicated is not None:
            return self.dlt_adjudicated
        return self.dlt_investigator

    @property
    def awaiting_attestation(self) -> bool:
        """The call that counts is a proposed investigator's call not yet attested."""
        return self.dlt_adjudicated is None and self.dlt_investigator and not self.dlt_attested

    def describe(self) -> str:
        name = self.term or "AE"
        return f"grade {self.grade} {name} (onset {self.onset.isoformat()})"


@dataclass(frozen=True)
class Subject:
    """One subject assigned to a dose level of a track.

    The DLT window starts on the earliest dose in `doses` (Cycle 1 Day 1); a subject without
    doses has not been dosed yet. `left_on` is the date the subject discontinued treatment,
    withdrew, was lost to follow-up or died. `replaced` is True once a replacement subject has
    been enrolled for this one.
    """

    number: str
    dose_level: int
    doses: tuple[Dose, ...] = ()
    adverse_events: tuple[AdverseEvent, ...] = ()
    left_on: date | None = None
    replaced: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "doses", tuple(sorted(self.doses, key=lambda dose: dose.given_on)))
        object.__setattr__(self, "adverse_events", tuple(self.adverse_events))
        if not self.number:
            raise EscalationInputError("a subject needs a number")

    @property
    def first_dose_on(self) -> date | None:
        return self.doses[0].given_on if self.doses else None


class Phase(StrEnum):
    ESCALATION = "escalation"
    EXPANSION = "expansion"


@dataclass(frozen=True)
class ReferenceTrack:
    """The track whose cleared dose levels bound this one: the Q2W track escalates only to levels
    already cleared on Q3W (docs/escalation.md §5), re-checked at every recommendation against what Q3W clears
    on that day (`reference_from` builds this from the Q3W track's own facts).

    - `cleared`: the levels the reference track's escalation has passed now, lowest first.
    - `exceeded`: its levels with 2 or more DLTs (exceeded the MTD there).
    - `final`: its escalation is over (MTD or MAD declared, or stopped): it will clear no more.
    """

    name: str
    regimen: str
    interval_days: int
    cleared: tuple[DoseLevel, ...] = ()
    exceeded: tuple[DoseLevel, ...] = ()
    final: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "cleared", tuple(self.cleared))
        object.__setattr__(self, "exceeded", tuple(self.exceeded))
        if self.interval_days < 1:
            raise EscalationInputError(f"reference track {self.name}: interval must be >= 1 day")

    def clears(self, level: DoseLevel) -> bool:
        """Is `level` at or below what the reference track has cleared? Compared by dose when
        both amounts are known (an intermediate dose of this track is judged by its amount),
        else by level number."""
        if not self.cleared:
            return False
        top = self.cleared[-1]
        if level.amount is not None and top.amount is not None:
            return level.amount <= top.amount + _FRACTION_TOLERANCE
        return level.number in {cleared.number for cleared in self.cleared}


@dataclass(frozen=True)
class Track:
    """One escalation track (or one expansion cohort) and everything enrolled on it.

    - `regimen`: label shown with each dose, e.g. "Q3W" or "Q2W".
    - `dlt_window_days`: 21 on Q3W, 28 on Q2W.
    - `planned_infusion_days`: the study days of the infusions planned inside the window,
      (1,) on Q3W and (1, 15) on Q2W; the minimum exposure is judged on these infusions.
    - `dose_levels`: the levels this track may use, lowest first. For the Q2W track these are
      only the levels the committee has allowed it (e.g. levels already cleared on Q3W).
    - `titration`: whether accelerated titration applies to its first levels (Q3W only on MIL97).
    - `phase`: escalation (3+3) or expansion (one dose level, safety monitoring rule).
    - `subjects`: everyone ever assigned to the track, replaced subjects included.
    - `interval_days`: days between infusions (21 on Q3W, 14 on Q2W), for dose intensity.
    - `reference`: for a track bound to what another track has cleared (Q2W after Q3W).
    - `design`: the dose-finding design that decides escalation (None: the 3+3).
    - `escalation_subjects`: on an expansion track, the subjects treated at its dose level and
      regimen on escalation; they count toward the expansion when the study says so
      (`DesignSettings.expansion_counts_escalation_subjects`).
    """

    name: str
    regimen: str
    dlt_window_days: int
    planned_infusion_days: tuple[int, ...]
    dose_levels: tuple[DoseLevel, ...]
    subjects: tuple[Subject, ...] = ()
    titration: bool = False
    phase: Phase = Phase.ESCALATION
    interval_days: int | None = None
    reference: ReferenceTrack | None = None
    escalation_subjects: tuple[Subject, ...] = ()
    # The track's dose-finding design (docs/designs.md §12); None = the 3+3 of this core.
    design: DesignConfig | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "planned_infusion_days", tuple(self.planned_infusion_days))
        object.__setattr__(self, "dose_levels", tuple(self.dose_levels))
        object.__setattr__(self, "subjects", tuple(self.subjects))
        object.__setattr__(self, "escalation_subjects", tuple(self.escalation_subjects))
        object.__setattr__(self, "phase", as_choice(Phase, self.phase, "phase"))
        if self.dlt_window_days < 1:
            raise EscalationInputError(f"track {self.name}: the DLT window needs at least 1 day")
        if not self.planned_infusion_days:
            raise EscalationInputError(f"track {self.name}: no planned infusion in the window")
        if any(not 1 <= day <= self.dlt_window_days for day in self.planned_infusion_days):
            raise EscalationInputError(
                f"track {self.name}: planned infusion days must fall inside the DLT window"
            )
        if not self.dose_levels:
            raise EscalationInputError(f"track {self.name}: no dose level")
        numbers = [level.number for level in self.dose_levels]
        if len(set(numbers)) != len(numbers):
            raise EscalationInputError(f"track {self.name}: a dose level number is repeated")
        if self.phase is Phase.EXPANSION and len(self.dose_levels) != 1:
            raise EscalationInputError(
                f"track {self.name}: an expansion cohort has exactly one dose level"
            )
        if self.escalation_subjects and self.phase is not Phase.EXPANSION:
            raise EscalationInputError(
                f"track {self.name}: only an expansion track counts escalation subjects"
            )
        if self.interval_days is not None and self.interval_days < 1:
            raise EscalationInputError(f"track {self.name}: the interval must be >= 1 day")
        subject_numbers = [s.number for s in (*self.subjects, *self.escalation_subjects)]
        if len(set(subject_numbers)) != len(subject_numbers):
            raise EscalationInputError(f"track {self.name}: a subject number is repeated")
        for subject in (*self.subjects, *self.escalation_subjects):
            if subject.dose_level not in numbers:
                raise EscalationInputError(
                    f"subject {subject.number}: dose level {subject.dose_level} "
                    f"is not a level of track {self.name}"
                )

    def level(self, number: int) -> DoseLevel:
        for level in self.dose_levels:
            if level.number == number:
                return level
        raise EscalationInputError(f"track {self.name}: no dose level {number}")

    def dose_text(self, level: DoseLevel) -> str:
        """The dose as people say it: "0.1 mg/kg Q3W"."""
        return f"{level.label} {self.regimen}".strip()

    def position(self, number: int) -> int:
        for index, level in enumerate(self.dose_levels):
            if level.number == number:
                return index
        raise EscalationInputError(f"track {self.name}: no dose level {number}")
