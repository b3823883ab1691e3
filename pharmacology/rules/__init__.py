"""The pharmacology rules core: plain Python, no Django (docs/pharmacology.md).

Frozen dataclasses in, results out; every result names its method and the data it used, and
carries a version string. The Django app builds these inputs from its rows and stores the
outputs; tests build them by hand.

- `sampling`: nominal schedules as data, expected samples from the actual dose times, ADaM
  times (ARRLT, AFRLT, NRRLT, NFRLT), deviation and out-of-window flag (§1).
- `nca`: non-compartmental analysis of one subject's profile per cycle and analyte with the
  PKNCA defaults, and accumulation between cycles (§2).
- `summary`: geometric mean and CV%, median and range, mean and SD, and dose proportionality
  by the power model (§3).
- `ada`: tiered ADA results to subject status and incidence (§4).
- `biomarkers`: results as reported, units, change from baseline, BLQ treatment (§5).

Example (one Cycle 1 profile of a 30-minute infusion of 0.1 mg/kg to an 80 kg subject)::

    from pharmacology.rules import Concentration, Dosing, Profile, Route, analyse

    dosing = Dosing.from_mg_per_kg(
        mg_per_kg=0.1, weight_kg=80, route=Route.IV_INFUSION, infusion_hours=0.5, tau=504
    )
    profile = Profile(
        subject="101-001", analyte="MIL97", cycle=1, dosing=dosing, unit="ug/mL",
        concentrations=(
            Concentration(-0.5, None, blq=True), Concentration(0.55, 2.1),
            Concentration(24, 1.6), Concentration(168, 0.9), Concentration(336, 0.5),
            Concentration(503, 0.28),
        ),
    )
    result = analyse(profile)
    result.cmax.value, result.auctau.value, result.half_life.value
"""

from .ada import (
    ADA_VERSION,
    AdaClass,
    AdaIncidence,
    AdaSample,
    AdaSettings,
    AdaStatus,
    AdaSubject,
    BoostComparison,
    Outcome,
    Proportion,
    SampleStatus,
    incidence,
    subject_status,
)
from .biomarkers import (
    BIOMARKER_VERSION,
    BiomarkerResult,
    BiomarkerSettings,
    BiomarkerSummary,
    BlqTreatment,
    Change,
    Quantification,
    changes_from_baseline,
    convert,
    summarise_values,
)
from .errors import PharmacologyInputError
from .nca import (
    NCA_VERSION,
    Accumulation,
    AucMethod,
    BlqRule,
    Concentration,
    Dosing,
    LambdaZFit,
    NcaFlag,
    NcaResult,
    NcaSettings,
    PointStatus,
    PointUse,
    Profile,
    Route,
    SampleRole,
    Value,
    accumulation,
    analyse,
)
from .sampling import (
    SAMPLING_VERSION,
    Anchor,
    CycleSchedule,
    DoseTimes,
    ExpectedSample,
    Role,
    SampleKind,
    SampleTiming,
    SamplingSchedule,
    TimePoint,
    default_schedule,
    expected_samples,
    steady_state_interval,
    time_sample,
)
from .summary import (
    SUMMARY_VERSION,
    DoseExposure,
    MeanConcentration,
    Proportionality,
    ProportionalityResult,
    ProportionalitySettings,
    Statistic,
    Summary,
    SummarySettings,
    dose_proportionality,
    mean_concentration,
    summarise,
)

__all__ = [
    "ADA_VERSION",
    "BIOMARKER_VERSION",
    "NCA_VERSION",
    "SAMPLING_VERSION",
    "SUMMARY_VERSION",
    "Accumulation",
    "AdaClass",
    "AdaIncidence",
    "AdaSample",
    "AdaSettings",
    "AdaStatus",
    "AdaSubject",
    "Anchor",
    "AucMethod",
    "BiomarkerResult",
    "BiomarkerSettings",
    "BiomarkerSummary",
    "BlqRule",
    "BlqTreatment",
    "BoostComparison",
    "Change",
    "Concentration",
    "CycleSchedule",
    "DoseExposure",
    "DoseTimes",
    "Dosing",
    "ExpectedSample",
    "LambdaZFit",
    "MeanConcentration",
    "NcaFlag",
    "NcaResult",
    "NcaSettings",
    "Outcome",
    "PharmacologyInputError",
    "PointStatus",
    "PointUse",
    "Profile",
    "Proportion",
    "Proportionality",
    "ProportionalityResult",
    "ProportionalitySettings",
    "Quantification",
    "Role",
    "Route",
    "SampleKind",
    "SampleRole",
    "SampleStatus",
    "SampleTiming",
    "SamplingSchedule",
    "Statistic",
    "Summary",
    "SummarySettings",
    "TimePoint",
    "Value",
    "accumulation",
    "analyse",
    "changes_from_baseline",
    "convert",
    "default_schedule",
    "dose_proportionality",
    "expected_samples",
    "incidence",
    "mean_concentration",
    "steady_state_interval",
    "subject_status",
    "summarise",
    "summarise_values",
    "time_sample",
]
