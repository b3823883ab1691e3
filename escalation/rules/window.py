"""Each subject's DLT window and DLT status (docs/escalation.md §2)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta
from enum import StrEnum

from .design import DesignSettings, LastWindowDay, WindowConvention
from .errors import EscalationInputError, as_choice
from .facts import AdverseEvent, Subject, Track


@dataclass(frozen=True)
class DltWindow:
    """The DLT observation window: every date from `start` to `end`, both inside."""

    start: date
    end: date
    days: int
    convention: WindowConvention

    def contains(self, day: date) -> bool:
        return self.start <= day <= self.end

    def is_complete(self, today: date) -> bool:
        # Complete once the whole last day has passed.
        return today > self.end

    def describe(self) -> str:
        if self.convention is WindowConvention.INCLUSIVE:
            return (
                f"Day 1 ({self.start.isoformat()}) to Day {self.days} ({self.end.isoformat()}), "
                "inclusive"
            )
        return (
            f"{self.start.isoformat()} to {self.end.isoformat()} ({self.days} days after the dose)"
        )


def dlt_window(first_dose_on: date, days: int, convention: WindowConvention) -> DltWindow:
    """The window opened by the first dose (Cycle 1 Day 1), under the study's day-count setting."""
    if days < 1:
        raise EscalationInputError("the DLT window needs at least 1 day")
    convention = as_choice(WindowConvention, convention, "window_convention")
    if convention is WindowConvention.INCLUSIVE:
        end = first_dose_on + timedelta(days=days - 1)  # Day 1..Day N
    else:
        end = first_dose_on + timedelta(days=days)  # N days after the dose
    return DltWindow(start=first_dose_on, end=end, days=days, convention=convention)


class SubjectStatus(StrEnum):
    NOT_DOSED = "not_dosed"  # assigned, waiting for Cycle 1 Day 1
    PENDING = "pending"  # inside the window, no DLT so far
    EVALUABLE_NO_DLT = "evaluable_no_dlt"
    DLT = "dlt"  # evaluable, with a DLT inside the window
    NOT_EVALUABLE = "not_evaluable"


class NotEvaluableReason(StrEnum):
    LEFT_BEFORE_FIRST_DOSE = "left the study before the first dose"
    LEFT_WINDOW_EARLY = "left the DLT window early without a DLT"
    UNDER_DOSED = "under-dosed: below the minimum exposure in the DLT window"


@dataclass(frozen=True)
class SubjectEvaluation:
    """One subject's DLT evaluation on `today`; the Django layer stores one per subject."""

    subject_number: str
    dose_level: int
    status: SubjectStatus
    rule: str  # the docs/escalation.md §2.2 rule that decided the status
    window: DltWindow | None  # None until the first dose
    reason: NotEvaluableReason | None = None
    dlt_event: AdverseEvent | None = None  # the first DLT inside the window
    qualifying_infusions: int = 0  # planned infusions that reached the minimum fraction
    required_infusions: int = 0
    replaced: bool = False
    notes: tuple[str, ...] = ()

    @property
    def evaluable(self) -> bool:
        return self.status in (SubjectStatus.EVALUABLE_NO_DLT, SubjectStatus.DLT)

    @property
    def has_dlt(self) -> bool:
        return self.status is SubjectStatus.DLT

    @property
    def awaiting_outcome(self) -> bool:
        """Holds a place in its cohort while the outcome is unknown (a replaced subject does not)."""
        return self.status in (SubjectStatus.PENDING, SubjectStatus.NOT_DOSED) and not self.replaced

    @property
    def replacement_candidate(self) -> bool:
        """Not evaluable and no replacement enrolled yet. Whether a replacement is needed is the
        level's decision: not when the level already has the evaluable subjects it needs."""
        return self.status is SubjectStatus.NOT_EVALUABLE and not self.replaced

    @property
    def window_end(self) -> date | None:
        return self.window.end if self.window else None

    def describe(self) -> str:
        if self.status is SubjectStatus.PENDING and self.window:
            return f"{self.subject_number}: pending, DLT window ends {self.window.end.isoformat()}"
        if self.status is SubjectStatus.NOT_DOSED:
            return f"{self.subject_number}: awaiting first dose"
        if self.status is SubjectStatus.DLT and self.dlt_event:
            return f"{self.subject_number}: DLT, {self.dlt_event.describe()}"
        if self.status is SubjectStatus.NOT_EVALUABLE and self.reason:
            return f"{self.subject_number}: not evaluable, {self.reason.value}"
        return f"{self.subject_number}: evaluable without DLT"


def required_infusions(settings: DesignSettings, track: Track) -> int:
    planned = len(track.planned_infusion_days)
    required = planned if settings.minimum_infusions is None else settings.minimum_infusions
    if required > planned:
        raise EscalationInputError(
            f"track {track.name}: the minimum exposure asks for {required} infusions "
            f"but only {planned} are planned in the DLT window"
        )
    return required


def counted_dlts(subject: Subject, window: DltWindow) -> list[AdverseEvent]:
    """DLTs that count: the call that counts is a DLT and the onset is inside the window."""
    return sorted(
        (ae for ae in subject.adverse_events if ae.is_dlt and window.contains(ae.onset)),
        key=lambda ae: ae.onset,
    )


def evaluate_subject(
    settings: DesignSettings, track: Track, subject: Subject, today: date
) -> SubjectEvaluation:
    """The subject's DLT window and status on `today` (docs/escalation.md §2.2).

    Evaluable: a DLT inside the window, whatever the exposure; or the window completed (today
    past its last day, on study through that day) with the minimum exposure. Otherwise not
    evaluable (left early, under-dosed) or still pending. Whether ending treatment on the last
    day completes the window is `DesignSettings.end_of_treatment_on_last_window_day`
    ("evaluable" by default, "not_evaluable" for the strict reading).
    """
    # What every outcome below shares; each `replace` fills in its status, rule and window.
    base = SubjectEvaluation(
        subject_number=subject.number,
        dose_level=subject.dose_level,
        status=SubjectStatus.NOT_DOSED,
        rule="",
        window=None,
        replaced=subject.replaced,
        required_infusions=required_infusions(settings, track),
    )
    first_dose_on = subject.first_dose_on
    if first_dose_on is None:
        if subject.left_on is not None:
            return replace(
                base,
                status=SubjectStatus.NOT_EVALUABLE,
                reason=NotEvaluableReason.LEFT_BEFORE_FIRST_DOSE,
                rule="evaluability: left before Cycle 1 Day 1 -> not evaluable, replace",
                window=None,
            )
        return replace(
            base,
            status=SubjectStatus.NOT_DOSED,
            rule="window: opens at the first dose (Cycle 1 Day 1)",
            window=None,
        )

    window = dlt_window(first_dose_on, track.dlt_window_days, settings.window_convention)

    # The planned infusions of the window are the subject's first doses on study days 1..N (one
    # on Q3W, Day 1 and Day 15 on Q2W; the track refuses planned days outside 1..N). Under the
    # "after" convention the window's last day is study day N + 1, the next cycle's Day 1: a dose
    # given that day (C2D1 on Q3W, C2D1 = Day 29 on Q2W) is never a planned infusion of this
    # window. Taking simply the first doses inside the window let such a dose stand in for a
    # missed one: Q2W Day 1 given, Day 15 missed, Day 29 given counted as "both infusions" and
    # made an under-exposed subject evaluable (docs/escalation.md §2.2: minimum exposure, both infusions on Q2W).
    planned_count = len(track.planned_infusion_days)
    last_planned_day = first_dose_on + timedelta(days=track.dlt_window_days - 1)
    planned_given = [
        dose for dose in subject.doses if first_dose_on <= dose.given_on <= last_planned_day
    ][:planned_count]
    qualifying = sum(
        1 for dose in planned_given if dose.reaches(settings.minimum_exposure_fraction)
    )
    base = replace(base, qualifying_infusions=qualifying)
    required = base.required_infusions

    dlts = counted_dlts(subject, window)
    if dlts:
        first = dlts[0]
        notes: tuple[str, ...] = ()
        if not first.related:
            # docs/escalation.md §2.3: a DLT is at least possibly related. The call is counted anyway (counting
            # it can only slow escalation) and the inconsistency is shown for correction.
            notes = (
                f"{subject.number}: DLT call on an AE assessed as not related "
                f"({first.describe()}); counted, check the record",
            )
        return replace(
            base,
            status=SubjectStatus.DLT,
            rule="evaluability: DLT with onset inside the window -> evaluable, whatever the exposure",
            window=window,
            dlt_event=first,
            notes=notes,
        )

    # Leaving before the window's last day is leaving early: escalation rests only on subjects
    # observed through the whole window. Leaving on the last day itself is a study setting
    # (`end_of_treatment_on_last_window_day`, docs/escalation.md §2.2): by default the subject was
    # observed through that day and no infusion of the window is missed, so the window counts as
    # completed; the strict reading makes it leaving early.
    strict = settings.end_of_treatment_on_last_window_day is LastWindowDay.NOT_EVALUABLE
    if subject.left_on is not None and (
        subject.left_on < window.end or (strict and subject.left_on == window.end)
    ):
        return replace(
            base,
            status=SubjectStatus.NOT_EVALUABLE,
            reason=NotEvaluableReason.LEFT_WINDOW_EARLY,
            rule="evaluability: left the window early without DLT -> not evaluable, replace",
            window=window,
        )

    # Every planned infusion given and still short of the minimum: the outcome is known before
    # the window ends (unless a DLT comes, which makes the subject evaluable again).
    if len(planned_given) >= planned_count and qualifying < required:
        return replace(
            base,
            status=SubjectStatus.NOT_EVALUABLE,
            reason=NotEvaluableReason.UNDER_DOSED,
            rule="evaluability: below the minimum exposure -> not evaluable, replace",
            window=window,
        )

    if not window.is_complete(today):
        return replace(
            base,
            status=SubjectStatus.PENDING,
            rule="window: not complete until the day after its last day -> pending",
            window=window,
        )

    if qualifying < required:
        return replace(
            base,
            status=SubjectStatus.NOT_EVALUABLE,
            reason=NotEvaluableReason.UNDER_DOSED,
            rule="evaluability: below the minimum exposure -> not evaluable, replace",
            window=window,
        )

    return replace(
        base,
        status=SubjectStatus.EVALUABLE_NO_DLT,
        rule="evaluability: window completed with the minimum exposure, no DLT -> evaluable",
        window=window,
    )


def next_evaluation_date(settings: DesignSettings, track: Track, today: date) -> date | None:
    """When time alone will change this track's picture: the day after the earliest window end
    among subjects still pending (the periodic sweep re-evaluates the track then)."""
    ends = [
        evaluation.window.end
        for evaluation in (
            evaluate_subject(settings, track, s, today)
            for s in (*track.subjects, *track.escalation_subjects)
        )
        if evaluation.status is SubjectStatus.PENDING and evaluation.window is not None
    ]
    return min(ends) + timedelta(days=1) if ends else None
