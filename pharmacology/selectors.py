"""Every read of the pharmacology app, scoped to the user through accounts/scoping.py."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field

from django.db.models import Q

from accounts.scoping import member_study_ids, restrict, spans_study
from dosing.models import DoseAdministration
from subjects.models import Subject
from trial.models import Regimen

from .models import (
    AdaResult,
    BiomarkerResult,
    Concentration,
    LabImport,
    NcaAnalysis,
    Sample,
    StudyPharmacology,
)
from .rules import (
    DoseTimes,
    ExpectedSample,
    MeanConcentration,
    PharmacologyInputError,
    expected_samples,
    mean_concentration,
    steady_state_interval,
)
from .rules.nca import CONCENTRATION_UNITS_MG_PER_L as TO_MG_PER_L
from .rules.protocol import PharmacologyProtocol, read_protocol

_PROTOCOLS: dict[tuple[int, str], PharmacologyProtocol] = {}


def protocol_for(study_id: int) -> PharmacologyProtocol | None:
    """The study's [pharmacology] settings as the core reads them (None when not loaded)."""
    row = StudyPharmacology.objects.filter(study_id=study_id).only("section", "loaded_at").first()
    if row is None:
        return None
    key = (study_id, row.loaded_at.isoformat())
    if key not in _PROTOCOLS:
        _PROTOCOLS[key] = read_protocol(row.section)
    return _PROTOCOLS[key]


def interval_number(regimen, cycle: int, day: int) -> int | None:
    """The dosing interval of an infusion: the cycle on Q3W; one per infusion on Q2W
    (C1D1 = 1, C1D15 = 2, C2D1 = 3, ...). docs/pharmacology.md §7.1."""
    days = list(regimen.infusion_days or [1])
    if day not in days:
        return None
    return (cycle - 1) * len(days) + days.index(day) + 1


@dataclass(frozen=True)
class SubjectDose:
    interval: int
    dose: DoseAdministration

    @property
    def times(self) -> DoseTimes:
        return DoseTimes(self.interval, self.dose.infusion_start, self.dose.infusion_end)


def subject_doses(subject: Subject) -> list[SubjectDose]:
    """The subject's active infusions with their dosing interval, in order."""
    regimen = subject.cohort.track.regimen if subject.cohort_id else None
    if regimen is None:
        return []
    out = []
    for dose in DoseAdministration.objects.filter(subject=subject).order_by("infusion_start"):
        number = interval_number(regimen, dose.cycle, dose.day)
        if number is not None:
            out.append(SubjectDose(number, dose))
    return out


@dataclass(frozen=True)
class ExpectedRow:
    """One scheduled sample with what was recorded for it (if anything)."""

    expected: ExpectedSample
    dose: DoseAdministration
    sample: Sample | None

    @property
    def key(self) -> str:
        return f"{self.dose.pk}:{self.expected.kind.value}:{self.expected.label}"


def expected_rows(subject: Subject) -> list[ExpectedRow]:
    """Every sample the schedule expects from the subject's actual infusions
    (docs/pharmacology.md §1.2), joined to the samples recorded for them."""
    protocol = protocol_for(subject.study_id)
    if protocol is None or not subject.cohort_id:
        return []
    schedule = protocol.schedule(subject.cohort.track.regimen.code)
    doses = subject_doses(subject)
    if schedule is None or not doses:
        return []
    by_interval = {d.interval: d.dose for d in doses}
    recorded = {(s.dose_id, s.kind, s.timepoint): s for s in Sample.objects.filter(subject=subject)}
    rows = []
    for expected in expected_samples(schedule, [d.times for d in doses]):
        dose = by_interval[expected.cycle]
        rows.append(
            ExpectedRow(
                expected, dose, recorded.get((dose.pk, expected.kind.value, expected.label))
            )
        )
    return sorted(rows, key=lambda r: (r.expected.nominal_at, r.expected.kind.value))


def samples_for(user, **filters):
    return (
        restrict(Sample.objects.all(), user)
        .filter(**filters)
        .select_related("subject", "dose", "subject__site")
    )


def lab_imports_for(user, study_id: int | None = None):
    """Laboratory files name every site's subjects: study-wide roles only."""
    rows = restrict(LabImport.objects.all(), user).select_related("imported_by")
    studies = {s for s in member_study_ids(user) if spans_study(user, s)}
    rows = rows.filter(study_id__in=studies)
    return rows if study_id is None else rows.filter(study_id=study_id)


def concentrations_for(user):
    return restrict(Concentration.objects.all(), user).select_related(
        "sample", "sample__subject", "sample__subject__site"
    )


def ada_results_for(user):
    return restrict(AdaResult.objects.all(), user).select_related(
        "sample", "sample__subject", "sample__subject__site"
    )


def biomarker_results_for(user):
    return restrict(BiomarkerResult.objects.all(), user).select_related(
        "sample", "sample__subject", "sample__subject__site"
    )


def nca_for(user):
    return restrict(NcaAnalysis.objects.all(), user).select_related("subject", "subject__site")


# --- the PK page (docs/pharmacology.md §10) -------------------------------------------------

SUMMARY_PARAMETERS = (
    ("cmax", "Cmax"), ("tmax", "Tmax (h)"), ("auclast", "AUClast"), ("auctau", "AUC0-tau"),
    ("aucinf_obs", "AUCinf,obs"), ("half_life", "t1/2 (h)"), ("clearance", "CL (L/h)"),
    ("ctrough", "Ctrough"),
)  # fmt: skip


@dataclass
class DoseLevelPk:
    number: int
    amount: str
    unit: str
    nca: list = field(default_factory=list)
    concentrations: list = field(default_factory=list)
    summaries: list = field(default_factory=list)
    mean_points: list = field(default_factory=list)

    @property
    def label(self) -> str:
        return f"Dose level {self.number} ({self.amount} {self.unit})"


def _level(subject) -> tuple[int, str, str] | None:
    if not subject.cohort_id:
        return None
    level = subject.cohort.dose_level
    return (level.number, f"{level.amount.normalize():f}", level.unit)


def pk_overview(user, study_id: int, *, interval: int = 1) -> dict:
    """Concentrations and NCA parameters of one dosing interval by dose level, with the
    geometric means and CV% and the power-model dose proportionality (§3)."""
    from .rules import DoseExposure, dose_proportionality, summarise

    levels: dict[int, DoseLevelPk] = {}

    def level_for(subject) -> DoseLevelPk | None:
        key = _level(subject)
        if key is None:
            return None
        return levels.setdefault(key[0], DoseLevelPk(*key))

    concentrations = (
        concentrations_for(user)
        .filter(sample__study_id=study_id, sample__interval=interval)
        .select_related("sample__subject__cohort__dose_level")
        .order_by("sample__subject_id", "sample__collected_at")
    )
    for result in concentrations:
        level = level_for(result.sample.subject)
        if level is not None:
            level.concentrations.append(result)
    analyses = (
        nca_for(user)
        .filter(study_id=study_id, interval=interval)
        .select_related("subject__cohort__dose_level")
    )
    exposures: dict[str, list] = {"cmax": [], "auclast": []}
    for analysis in analyses:
        level = level_for(analysis.subject)
        if level is None:
            continue
        level.nca.append(analysis)
        for name in exposures:
            value = (analysis.parameters.get(name) or {}).get("value")
            exposures[name].append(
                DoseExposure(str(analysis.subject), analysis.dose_per_kg or 0.0, value)
            )
    for level in levels.values():
        level.summaries = [
            (label, summarise(name, [(a.parameters.get(name) or {}).get("value") for a in level.nca]))
            for name, label in SUMMARY_PARAMETERS
        ] if level.nca else []  # fmt: skip
        by_time: dict[float, list[float]] = {}
        for result in level.concentrations:
            by_time.setdefault(result.sample.nrrlt_hours, []).append(result.value or 0.0)
        level.mean_points = [
            (t, statistics.fmean(v), statistics.stdev(v) if len(v) > 1 else None, len(v))
            for t, v in sorted(by_time.items())
        ]
    proportionality = []
    for name, data in exposures.items():
        if len({d.dose for d in data if d.value}) >= 2:
            try:
                proportionality.append(dose_proportionality(name, data))
            except PharmacologyInputError as error:
                proportionality.append(str(error))
    return {
        "levels": [levels[k] for k in sorted(levels)],
        "proportionality": proportionality,
        "interval": interval,
    }


# --- across cycles: Cycle 1 against steady state, troughs (docs/pharmacology.md §10) ---------


def visit_of_interval(regimen, interval: int) -> str:
    """C<cycle>D<day> of a dosing interval (the inverse of `interval_number`)."""
    days = list(regimen.infusion_days or [1])
    cycle, index = divmod(interval - 1, len(days))
    return f"C{cycle + 1}D{days[index]}"


@dataclass(frozen=True)
class ProfilePoint:
    timepoint: str
    nominal_hours: float  # NRRLT
    mean: MeanConcentration


@dataclass(frozen=True)
class ProfileLine:
    """The mean profile of one regimen's dosing interval at one dose level."""

    regimen: str
    interval: int
    visit: str
    steady_state: bool
    points: tuple[ProfilePoint, ...]


@dataclass(frozen=True)
class Trough:
    """A pre-dose concentration: the trough of the interval before (docs/pharmacology.md §1.1),
    its value in the page's unit (None for BLQ)."""

    result: Concentration
    regimen: str
    interval: int  # the interval it ends
    before: str  # the visit whose pre-dose sample it is
    value: float | None


@dataclass
class DoseLevelCycles:
    number: int
    amount: str
    unit: str
    lines: list[ProfileLine] = field(default_factory=list)
    troughs: list[Trough] = field(default_factory=list)
    trough_means: list[tuple[str, int, MeanConcentration]] = field(default_factory=list)

    @property
    def label(self) -> str:
        return f"Dose level {self.number} ({self.amount} {self.unit})"


def pk_across_cycles(user, study_id: int) -> dict:
    """Per dose level, the mean profile of Cycle 1 beside the steady-state interval's (the first
    interval that repeats Cycle 1's PK time points), and every trough (pre-dose) concentration
    by the interval it ends with their means; in the protocol's PK analyte and unit, BLQ
    counted as 0 in the means (docs/pharmacology.md §10)."""
    protocol = protocol_for(study_id)
    if protocol is None:
        return {"levels": [], "unit": "", "steady": {}}
    steady = {s.regimen: steady_state_interval(s) for s in protocol.schedules}
    unit = protocol.pk.unit
    wanted = Q(sample__interval=1) | Q(sample__role="predose", sample__interval__gte=2)
    if any(steady.values()):
        wanted |= Q(sample__interval__in=sorted({i for i in steady.values() if i}))
    results = (
        concentrations_for(user)
        .filter(wanted, sample__study_id=study_id, analyte=protocol.pk.analyte)
        .select_related("sample__subject__cohort__dose_level", "sample__subject__cohort__track")
        .select_related("sample__subject__cohort__track__regimen")
        .order_by("sample__subject_id", "sample__collected_at", "pk")
    )
    levels: dict[int, DoseLevelCycles] = {}
    profiles: dict[tuple[int, str, int], dict[tuple[float, str], list[float | None]]] = {}
    regimens: dict[str, Regimen] = {}
    for result in results:
        sample = result.sample
        key = _level(sample.subject)
        if key is None:
            continue
        level = levels.setdefault(key[0], DoseLevelCycles(*key))
        regimen = sample.subject.cohort.track.regimen
        regimens[regimen.code] = regimen
        value = None
        if result.value is not None:
            value = result.value * TO_MG_PER_L[result.unit] / TO_MG_PER_L[unit]
        if sample.interval in (1, steady.get(regimen.code)):
            bucket = profiles.setdefault((level.number, regimen.code, sample.interval), {})
            bucket.setdefault((sample.nrrlt_hours, sample.timepoint), []).append(value)
        if sample.role == "predose" and sample.interval >= 2:
            before = visit_of_interval(regimen, sample.interval)
            level.troughs.append(Trough(result, regimen.code, sample.interval - 1, before, value))
    for (number, code, interval), bucket in sorted(profiles.items()):
        points = tuple(
            ProfilePoint(label, hours, mean_concentration(values))
            for (hours, label), values in sorted(bucket.items())
        )
        levels[number].lines.append(
            ProfileLine(code, interval, visit_of_interval(regimens[code], interval),
                        interval != 1, points)
        )  # fmt: skip
    for level in levels.values():
        by_interval: dict[tuple[str, int], list[float | None]] = {}
        for trough in level.troughs:
            by_interval.setdefault((trough.regimen, trough.interval), []).append(trough.value)
        level.trough_means = [
            (code, interval, mean_concentration(values))
            for (code, interval), values in sorted(by_interval.items())
        ]
    return {"levels": [levels[k] for k in sorted(levels)], "unit": unit, "steady": steady}


# --- ADA and biomarkers (docs/pharmacology.md §4, §5, §10) ----------------------------------


def _group(subject) -> str:
    key = _level(subject)
    return f"Dose level {key[0]} ({key[1]} {key[2]})" if key else "Not assigned"


def ada_overview(user, study_id: int) -> dict:
    """Each subject's ADA status (Shankar et al. 2014) and the incidence per dose level over
    the ADA-evaluable subjects, with the protocol's ADA settings."""
    from .rules import AdaSample, AdaSubject, incidence, subject_status

    protocol = protocol_for(study_id)
    settings = protocol.ada if protocol else None
    results = (
        ada_results_for(user)
        .filter(sample__study_id=study_id)
        .select_related("sample__subject__cohort__dose_level")
        .order_by("sample__subject_id", "sample__collected_at")
    )
    by_subject: dict[int, tuple[object, list]] = {}
    for result in results:
        sample = result.sample
        entry = by_subject.setdefault(sample.subject_id, (sample.subject, []))
        entry[1].append(
            AdaSample(
                sample_id=sample.sample_id,
                day=(sample.afrlt_hours or 0.0) / 24,
                baseline=sample.interval == 1 and sample.role == "predose",
                screening=result.screening or None,
                confirmatory=result.confirmatory or None,
                titer=result.titer,
                neutralising=result.neutralising or None,
            )
        )
    statuses = [
        subject_status(AdaSubject(str(subject), _group(subject), tuple(samples)), settings)
        for subject, samples in by_subject.values()
    ]
    return {
        "statuses": sorted(statuses, key=lambda s: (s.group, s.subject)),
        "incidence": incidence(statuses, settings) if statuses else (),
        "settings": settings,
    }


def biomarker_overview(user, study_id: int) -> dict:
    """Change from baseline of each biomarker by dose level and time point, with the
    protocol's BLQ rule and unit (docs/pharmacology.md §5)."""
    from .rules import BiomarkerResult as CoreResult
    from .rules import changes_from_baseline
    from .rules.biomarkers import summarise_changes

    protocol = protocol_for(study_id)
    settings = protocol.biomarkers if protocol else None
    results = (
        biomarker_results_for(user)
        .filter(sample__study_id=study_id)
        .select_related("sample__subject__cohort__dose_level")
    )
    groups: dict[str, str] = {}
    core = []
    for result in results:
        sample = result.sample
        groups[str(sample.subject)] = _group(sample.subject)
        core.append(
            CoreResult(
                subject=str(sample.subject),
                analyte=result.analyte,
                timepoint=f"C{sample.interval} {sample.timepoint}",
                day=(sample.afrlt_hours or 0.0) / 24,
                reported=result.reported,
                unit=result.unit,
                lloq=result.lloq,
                uloq=result.uloq,
                run_id=result.run_id,
                baseline=sample.interval == 1 and sample.role == "predose",
                diluted=result.value is not None
                and result.uloq is not None
                and result.value > result.uloq,
            )
        )
    changes = changes_from_baseline(core, settings)
    buckets: dict[tuple[str, str, str], list] = {}
    order: dict[str, float] = {}
    for change in changes:
        buckets.setdefault((change.analyte, groups[change.subject], change.timepoint), []).append(
            change
        )
        order[change.timepoint] = min(order.get(change.timepoint, change.day), change.day)
    summaries = [
        summarise_changes(group, rows)
        for (analyte, group, timepoint), rows in sorted(
            buckets.items(), key=lambda kv: (kv[0][0], kv[0][1], order[kv[0][2]])
        )
    ]
    return {"changes": changes, "summaries": summaries, "settings": settings, "groups": groups}
