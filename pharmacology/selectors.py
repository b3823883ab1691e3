"""Every read of the pharmacology app, scoped to the user through accounts/scoping.py."""

from __future__ import annotations

from dataclasses import dataclass

from accounts.scoping import restrict, spans_study
from dosing.models import DoseAdministration
from subjects.models import Subject

from .models import (
    AdaResult,
    BiomarkerResult,
    Concentration,
    LabImport,
    NcaAnalysis,
    Sample,
    StudyPharmacology,
)
from .rules import DoseTimes, ExpectedSample, expected_samples
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
    if user is None or not user.is_authenticated:
        return rows.none()
    studies = {m.study_id for m in user.memberships_cached() if spans_study(user, m.study_id)}
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
