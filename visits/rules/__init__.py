"""The visits rules core: plain Python, no Django (docs/visits.md).

Frozen dataclasses in, results out; every result names the rule or criterion that decided it, and
the lab and ECG grades carry the CTCAE version. Modules:

- `units`: lab values as reported -> the test's standard unit (docs/visits.md §3).
- `lab_grading` (criteria in `ctcae_v5`, shapes in `criteria`): CTCAE v5.0 grades of lab results,
  and the grade 4 neutropenia duration flag (§4-5).
- `vitals`: vital signs, units and plausibility ranges; the weight change that forces a mg/kg
  dose recalculation (§6).
- `ecg`: QTcF / QTcB, the triplicate mean and the QTc grade (§7); `ecog`: performance status (§8).
- `history`: cancer history and prior anticancer therapy: partial dates, the AJCC stage groups,
  the forms' lists and their checks (§11).
- `schedule`: the visit schedule as data and each subject's calendar and visit statuses (§2).

Input format (write a scenario by hand like this)::

    from datetime import date
    from visits.rules import (
        Baseline, DoseGiven, LabResult, NormalRange, SubjectVisitFacts, grade_lab_result,
        grade4_neutropenia_duration, q3w_schedule, subject_calendar,
    )

    alt = LabResult(
        "ALT", "150", "U/L", normal_range=NormalRange(None, "40", "U/L"),
        baseline=Baseline("35", "U/L"), sampled_on=date(2026, 1, 20),
    )
    grading = grade_lab_result(alt)          # one LabGrade per CTCAE term of the test
    worst = grading.worst                    # grade 2: 150 U/L > 3.0 x ULN (120 U/L)

    counts = [
        LabResult("NEUT", "0.4", "10^9/L", NormalRange("1.8", "7.5", "10^9/L"),
                  sampled_on=date(2026, 1, 12), reference="lab-1"),
        LabResult("NEUT", "1.2", "10^9/L", NormalRange("1.8", "7.5", "10^9/L"),
                  sampled_on=date(2026, 1, 21), reference="lab-2"),
    ]
    flag = grade4_neutropenia_duration(
        counts, window_start=date(2026, 1, 5), window_end=date(2026, 1, 25)
    )                                        # possible DLT: 9 days > 7

    facts = SubjectVisitFacts(
        consented_on=date(2025, 12, 15), enrolled_on=date(2026, 1, 2),
        doses=(DoseGiven(cycle=1, day=1, given_on=date(2026, 1, 5)),),
    )
    calendar = subject_calendar(q3w_schedule(), facts, on=date(2026, 1, 13))
    c1d8 = calendar.visit("C1D8")            # target 2026-01-12, window 01-11..01-13: due
"""

from .criteria import BaselineStatus, Direction, GradeCriteria, TermCriteria
from .ecg import (
    CorrectedQt,
    EcgReading,
    QtcGrade,
    QtCorrection,
    corrected_qt,
    grade_qtc,
    qtcb,
    qtcf,
)
from .ecog import ECOG_TEXTS, EcogStatus, ecog_choices, ecog_status
from .errors import VisitsInputError
from .history import (
    AJCC_STAGES,
    METASTATIC_SITES,
    RESPONSES,
    SETTINGS,
    STAGE_CHOICES,
    STOP_REASONS,
    THERAPY_TYPES,
    CancerHistoryFacts,
    PartialDay,
    PriorTherapyFacts,
    check_cancer_history,
    check_prior_therapy,
    partial_day,
)
from .lab_grading import (
    Baseline,
    DurationOutcome,
    GapPolicy,
    Grade4Episode,
    LabFlag,
    LabGrade,
    LabGrading,
    LabGradingSettings,
    LabResult,
    MissingRangePolicy,
    NeutropeniaDurationFlag,
    NeutropeniaDurationSettings,
    NormalRange,
    grade4_neutropenia_duration,
    grade_lab_result,
    grade_term,
    terms_for,
)
from .schedule import (
    CycleVisit,
    DoseGiven,
    Schedule,
    ScheduledVisit,
    SubjectCalendar,
    SubjectVisitFacts,
    VisitRecord,
    VisitStatus,
    Window,
    q2w_schedule,
    q3w_schedule,
    subject_calendar,
)
from .units import LAB_TESTS, LabTest, Measurement, lab_test, to_standard
from .version import RULES_VERSION
from .vitals import (
    VitalSign,
    VitalSignsSettings,
    VitalSignValue,
    WeightChange,
    blood_pressure,
    vital_sign,
    weight_change,
)

__all__ = [
    "AJCC_STAGES",
    "ECOG_TEXTS",
    "LAB_TESTS",
    "METASTATIC_SITES",
    "RESPONSES",
    "RULES_VERSION",
    "SETTINGS",
    "STAGE_CHOICES",
    "STOP_REASONS",
    "THERAPY_TYPES",
    "Baseline",
    "BaselineStatus",
    "CancerHistoryFacts",
    "CorrectedQt",
    "CycleVisit",
    "Direction",
    "DoseGiven",
    "DurationOutcome",
    "EcgReading",
    "EcogStatus",
    "GapPolicy",
    "Grade4Episode",
    "GradeCriteria",
    "LabFlag",
    "LabGrade",
    "LabGrading",
    "LabGradingSettings",
    "LabResult",
    "LabTest",
    "Measurement",
    "MissingRangePolicy",
    "NeutropeniaDurationFlag",
    "NeutropeniaDurationSettings",
    "NormalRange",
    "PartialDay",
    "PriorTherapyFacts",
    "QtCorrection",
    "QtcGrade",
    "Schedule",
    "ScheduledVisit",
    "SubjectCalendar",
    "SubjectVisitFacts",
    "TermCriteria",
    "VisitRecord",
    "VisitStatus",
    "VisitsInputError",
    "VitalSign",
    "VitalSignValue",
    "VitalSignsSettings",
    "WeightChange",
    "Window",
    "blood_pressure",
    "check_cancer_history",
    "check_prior_therapy",
    "corrected_qt",
    "ecog_choices",
    "ecog_status",
    "grade4_neutropenia_duration",
    "grade_lab_result",
    "grade_qtc",
    "grade_term",
    "lab_test",
    "partial_day",
    "q2w_schedule",
    "q3w_schedule",
    "qtcb",
    "qtcf",
    "subject_calendar",
    "terms_for",
    "to_standard",
    "vital_sign",
    "weight_change",
]
