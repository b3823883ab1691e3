"""The dose-escalation rules core: plain Python, no Django.

Frozen dataclasses in, a `Recommendation` out. The rules are docs/escalation.md §2-§6: DLT windows
and evaluability, accelerated titration (Simon et al., JNCI 1997;89:1138) then 3+3 with the
"exceeded" variant of the study (expand-lower, Korn et al. 1994, or simple), separate Q2W tracks,
and expansion cohorts under a safety monitoring rule. Every recommendation names its rule
(`Rule`) and carries `RULES_VERSION`; the committee confirms or overrides it.

Input format (write a scenario by hand like this)::

    from datetime import date
    from escalation.rules import (
        AdverseEvent, DesignSettings, Dose, DoseLevel, Subject, Track, recommend,
    )

    settings = DesignSettings()  # MIL97 defaults, see below
    levels = (DoseLevel(1, "0.01 mg/kg"), DoseLevel(2, "0.03 mg/kg"), DoseLevel(3, "0.1 mg/kg"))
    track = Track(
        name="Q3W escalation", regimen="Q3W",
        dlt_window_days=21, planned_infusion_days=(1,),      # Q2W: 28 and (1, 15)
        dose_levels=levels, titration=True,                  # Q2W: only its allowed levels
        subjects=(
            Subject("101-001", dose_level=1, doses=(Dose(date(2026, 1, 5)),)),
            Subject(
                "101-002", dose_level=2, doses=(Dose(date(2026, 2, 2), fraction=1.0),),
                adverse_events=(
                    AdverseEvent(onset=date(2026, 2, 9), grade=3, related=True,
                                 dlt_investigator=True, dlt_adjudicated=None, term="Neutropenia"),
                ),
                left_on=None, replaced=False,
            ),
        ),
    )
    recommendation = recommend(settings, track, today=date(2026, 3, 1))
    recommendation.action, recommendation.rule, recommendation.text

- `DesignSettings`: titration_levels (2), titration_trigger ("dlt_or_related_grade2" |
  "dlt_only" | "second_related_grade2"), exceeded_variant ("expand_lower" | "simple"),
  window_convention ("inclusive": Day 1..Day N, last day start+N-1 | "after": last day start+N),
  minimum_exposure_fraction (1.0), minimum_infusions (None = every planned infusion),
  cohort_size (3), expanded_cohort_size (6), expansion_cohort_size (10), expansion_boundaries
  (rows (low, high, DLTs to pause); default BOIN 30%: >=3 of 3-4, >=4 of 5-6, >=5 of 7-9, >=6 of 10),
  expansion_counts_escalation_subjects (True), top_dose_rule ("fill_to_6" | "declare_at_3"),
  end_of_treatment_on_last_window_day ("evaluable" | "not_evaluable").
- `DoseLevel(number, label, amount)`: the number identifies the level; the order is the track's
  order; `amount` (optional) is for dose-intensity comparisons between regimens.
- `Subject(number, dose_level, doses, adverse_events, left_on, replaced)`: the window opens at
  the earliest dose; `left_on` = discontinued treatment, withdrew, lost or died; `replaced` once
  a replacement is enrolled.
- `Dose(given_on, fraction)`: fraction of the planned dose given (`Dose.from_amounts`).
- `AdverseEvent(onset, grade, related, dlt_investigator, dlt_adjudicated, term, reference)`:
  related = possible, probable or definite; the adjudicated DLT call wins when not None.
- `Track(name, regimen, dlt_window_days, planned_infusion_days, dose_levels, subjects,
  titration, phase, interval_days, reference, escalation_subjects)`: phase "escalation" or
  "expansion" (one dose level). The order of subjects does not matter to the rules. `reference`
  (`ReferenceTrack`, from `reference_from(settings, q3w_track, today, final=...)`) binds a Q2W
  track to the levels Q3W clears that day; `escalation_subjects` are the subjects treated at an
  expansion's dose and regimen on escalation.

Output: `Recommendation(action, rule, text, dose_level, n_subjects, subjects_to_replace,
pending_subjects, wait_until, reevaluate_on, mtd_level, mad_level, exceeded_level,
titration_trigger, flags, notes, levels, evaluated_on, rules_version)`. `levels` holds each
level's `LevelSummary` with every subject's `SubjectEvaluation` (DLT window, status, reason).
For one subject alone: `evaluate_subject(settings, track, subject, today)`; for the periodic
sweep: `next_evaluation_date(settings, track, today)` (earliest pending window end + 1 day); for
the levels a Q2W track may be offered: `cleared_levels(settings, q3w_track, today)`. Whether a
recommendation asks the committee for a step not yet carried out:
`needs_decision(recommendation, CarriedOut(...), track)`; the same decision whatever the
wording: `decision_key(recommendation)`.
"""

from .decide import recommend
from .decisions import (
    CarriedOut,
    DecisionCheck,
    OpenPlaces,
    TrackStatus,
    check_decision,
    decision_key,
    needs_decision,
    severe_event_without_dlt_call,
)
from .design import (
    BOIN_30_ELIMINATION,
    DesignSettings,
    ExceededVariant,
    LastWindowDay,
    TitrationTrigger,
    TopDoseRule,
    WindowConvention,
)
from .errors import EscalationInputError
from .expansion import pause_threshold
from .facts import AdverseEvent, Dose, DoseLevel, Phase, ReferenceTrack, Subject, Track
from .recommendation import (
    RULES_VERSION,
    Action,
    Flag,
    LevelMode,
    LevelSummary,
    Recommendation,
    Rule,
    TitrationTriggered,
    TriggerEvent,
)
from .three_plus_three import (
    cleared_levels,
    exceeded_levels,
    reference_from,
    subject_evaluations,
)
from .titration import find_titration_trigger
from .window import (
    DltWindow,
    NotEvaluableReason,
    SubjectEvaluation,
    SubjectStatus,
    dlt_window,
    evaluate_subject,
    next_evaluation_date,
)

__all__ = [
    "BOIN_30_ELIMINATION",
    "RULES_VERSION",
    "Action",
    "AdverseEvent",
    "CarriedOut",
    "DecisionCheck",
    "DesignSettings",
    "DltWindow",
    "Dose",
    "DoseLevel",
    "EscalationInputError",
    "ExceededVariant",
    "Flag",
    "LastWindowDay",
    "LevelMode",
    "LevelSummary",
    "NotEvaluableReason",
    "OpenPlaces",
    "Phase",
    "Recommendation",
    "ReferenceTrack",
    "Rule",
    "Subject",
    "SubjectEvaluation",
    "SubjectStatus",
    "TitrationTrigger",
    "TitrationTriggered",
    "TopDoseRule",
    "Track",
    "TrackStatus",
    "TriggerEvent",
    "WindowConvention",
    "check_decision",
    "cleared_levels",
    "decision_key",
    "dlt_window",
    "evaluate_subject",
    "exceeded_levels",
    "find_titration_trigger",
    "needs_decision",
    "next_evaluation_date",
    "pause_threshold",
    "recommend",
    "reference_from",
    "severe_event_without_dlt_call",
    "subject_evaluations",
]
