"""The efficacy rules core: plain Python, no Django (docs/efficacy.md).

Frozen dataclasses in, results out; every derived value names its `Rule` (or `EndpointRule`)
and a reason in plain words, and carries `RULES_VERSION`.

- `recist`: RECIST 1.1 (Eisenhauer et al., Eur J Cancer 2009;45:228-247, with the EORTC RECIST
  FAQ): measurability and target selection at baseline, target/non-target/new-lesion responses,
  the overall time-point response (Tables 1-2), the best overall response with confirmation
  (Table 3; admiralonco's NE/SD settings) and the comparison with the investigator.
- `rates`: ORR and DCR with exact Clopper-Pearson intervals, the denominator named.
- `endpoints`: PFS, OS and duration of response per subject, with the FDA censoring rules.
- `survival`: Kaplan-Meier with Greenwood bands ("log" or "log-log"), numbers at risk, the median
  and its interval as R survival computes them, median follow-up by reverse Kaplan-Meier.

Input format (write a subject by hand like this)::

    from datetime import date, timedelta
    from efficacy.rules import (
        Assessment, Baseline, BaselineLesion, EndpointSettings, NonTargetObservation,
        RecistSettings, SubjectFollowUp, SubjectImaging, TargetMeasurement, evaluate_subject,
        from_time_points, progression_free_survival,
    )

    settings = RecistSettings()  # confirmation >= 28 days, SD >= 42 days after the first dose
    baseline = Baseline(date(2026, 1, 2), (
        BaselineLesion("T1", organ="liver", role="target", method="CT", size_mm=40),
        BaselineLesion("T2", organ="lung", role="target", method="CT", size_mm=20),
        BaselineLesion("N1", organ="mediastinum", role="target", method="CT", size_mm=16,
                       nodal=True),
        BaselineLesion("NT1", organ="bone", role="non-target", method="CT",
                       measurable_by_nature=False),
    ))

    def visit(day, t1, t2, n1, bone="present"):
        return Assessment(
            date(2026, 1, 5) + timedelta(days=day - 1),  # study day `day`
            targets=(TargetMeasurement("T1", "measured", size_mm=t1),
                     TargetMeasurement("T2", "measured", size_mm=t2),
                     TargetMeasurement("N1", "measured", size_mm=n1)),
            non_targets=(NonTargetObservation("NT1", bone),),
        )

    imaging = SubjectImaging("101-001", first_dose_on=date(2026, 1, 5), baseline=baseline,
                             assessments=(visit(43, 28, 12, 10), visit(85, 26, 12, 9)))
    result = evaluate_subject(settings, imaging)
    result.best.response, result.best.rule, result.best.reason
    pfs = progression_free_survival(
        EndpointSettings(),
        SubjectFollowUp("101-001", date(2026, 1, 5), from_time_points(result.time_points),
                        last_known_alive_on=date(2026, 4, 1)),
    )

- `RecistSettings`: too_small_mm (5), confirmation_required (True), confirmation_days (28),
  sd_minimum_days (42), max_ne_between (1), accept_sd_between (False), baseline_window_days
  (28), continue_confirmed_pr (True).
- `BaselineLesion(lesion_id, organ, role, method, size_mm, nodal, site, slice_thickness_mm,
  measurable_by_nature)`; `Baseline(assessed_on, lesions)`.
- `Assessment(assessed_on, targets, non_targets, new_lesions, tumour_markers_normal,
  investigator_response)` with `TargetMeasurement(lesion_id, status, size_mm, parts_mm,
  merged_into, method)`, `NonTargetObservation(lesion_id, status)`, `NewLesion(lesion_id,
  certainty, site)`.
- `SubjectImaging(subject, first_dose_on, baseline, assessments, new_therapy_on,
  investigator_best_response)` -> `evaluate_subject` -> `SubjectRecist(baseline, time_points,
  best, disagreements)`. For responses already read: `best_overall_response(settings,
  [TimePointResponse(date, response), ...], first_dose_on=...)`.
- `EndpointSettings`: assessment_interval_days (42), assessment_window_days (7),
  missed_assessments (2). `SubjectFollowUp(subject, first_dose_on, assessments,
  baseline_assessed, death_on, last_known_alive_on, new_therapy_on)` ->
  `progression_free_survival`, `overall_survival`, `duration_of_response` -> `TimeToEvent`.
  What to put there from the site's records: `new_anticancer_therapy_on(first_dose_on,
  starts)`, `last_known_alive(first_dose_on, [(date, source), ...], death_on=...)`.
- `objective_response_rate` / `disease_control_rate({subject: BestOverallResponse},
  denominator_name=...)` -> `Rate`; `clopper_pearson(x, n)`.
- `kaplan_meier([Observation(time, event), ...], conf_type="log")` -> `KaplanMeier` (rows,
  `at(t)`, `at_risk(t)`, `median`); `median_follow_up(observations)`.
"""

from .endpoints import (
    Endpoint,
    EndpointRule,
    EndpointSettings,
    SubjectFollowUp,
    TimeToEvent,
    TumourAssessment,
    duration_of_response,
    from_time_points,
    last_known_alive,
    new_anticancer_therapy_on,
    overall_survival,
    progression_free_survival,
)
from .errors import EfficacyInputError
from .rates import (
    ExactInterval,
    Rate,
    clopper_pearson,
    disease_control_rate,
    objective_response_rate,
)
from .recist import (
    Assessment,
    Baseline,
    BaselineLesion,
    BaselineSummary,
    BestOverallResponse,
    Disagreement,
    Disease,
    LesionRole,
    Measurability,
    MeasurementStatus,
    Method,
    NewLesion,
    NewLesionCertainty,
    NewLesionResult,
    NonTargetObservation,
    NonTargetResult,
    NonTargetStatus,
    RecistSettings,
    Response,
    Rule,
    SubjectImaging,
    SubjectRecist,
    TargetMeasurement,
    TargetResult,
    TimePointResponse,
    TimePointResult,
    best_overall_response,
    compare_with_investigator,
    evaluate_subject,
    evaluate_time_points,
    measurability,
    minimum_size,
    summarize_baseline,
)
from .survival import (
    ConfType,
    Estimate,
    KaplanMeier,
    KmRow,
    Observation,
    QuantileEstimate,
    kaplan_meier,
    median_follow_up,
)
from .version import RULES_VERSION

__all__ = [
    "RULES_VERSION",
    "Assessment",
    "Baseline",
    "BaselineLesion",
    "BaselineSummary",
    "BestOverallResponse",
    "ConfType",
    "Disagreement",
    "Disease",
    "EfficacyInputError",
    "Endpoint",
    "EndpointRule",
    "EndpointSettings",
    "Estimate",
    "ExactInterval",
    "KaplanMeier",
    "KmRow",
    "LesionRole",
    "Measurability",
    "MeasurementStatus",
    "Method",
    "NewLesion",
    "NewLesionCertainty",
    "NewLesionResult",
    "NonTargetObservation",
    "NonTargetResult",
    "NonTargetStatus",
    "Observation",
    "QuantileEstimate",
    "Rate",
    "RecistSettings",
    "Response",
    "Rule",
    "SubjectFollowUp",
    "SubjectImaging",
    "SubjectRecist",
    "TargetMeasurement",
    "TargetResult",
    "TimePointResponse",
    "TimePointResult",
    "TimeToEvent",
    "TumourAssessment",
    "best_overall_response",
    "clopper_pearson",
    "compare_with_investigator",
    "disease_control_rate",
    "duration_of_response",
    "evaluate_subject",
    "evaluate_time_points",
    "from_time_points",
    "kaplan_meier",
    "last_known_alive",
    "measurability",
    "median_follow_up",
    "minimum_size",
    "new_anticancer_therapy_on",
    "objective_response_rate",
    "overall_survival",
    "progression_free_survival",
    "summarize_baseline",
]
