"""Stored tumour assessments translated into the rules core's inputs (docs/efficacy.md §15).

Works on model instances whether saved or not, so a service can check a new or corrected
assessment together with the subject's others before anything is saved.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from .models import Lesion, LesionObservation, TumourAssessment
from .rules import (
    Assessment,
    Baseline,
    BaselineLesion,
    EfficacyInputError,
    NewLesion,
    NonTargetObservation,
    RecistSettings,
    SubjectImaging,
    SubjectRecist,
    TargetMeasurement,
    evaluate_subject,
    summarize_baseline,
)


@dataclass
class Scan:
    """One assessment with its observations (each observation's `lesion` set)."""

    assessment: TumourAssessment
    observations: list[LesionObservation] = field(default_factory=list)


def _baseline_lesion(scan: Scan, observation: LesionObservation) -> BaselineLesion:
    lesion: Lesion = observation.lesion
    return BaselineLesion(
        lesion.code,
        organ=lesion.organ,
        role=lesion.role,  # type: ignore[arg-type]
        method=scan.assessment.method,  # type: ignore[arg-type]
        size_mm=observation.size_mm,
        nodal=lesion.nodal,
        site=lesion.location,
        slice_thickness_mm=scan.assessment.slice_thickness_mm,
        measurable_by_nature=lesion.measurable_by_nature,
    )


def baseline_of(scan: Scan) -> Baseline:
    return Baseline(
        scan.assessment.assessed_on,
        tuple(_baseline_lesion(scan, o) for o in scan.observations),
    )


def _follow_up(scan: Scan) -> Assessment:
    targets, non_targets, new = [], [], []
    for observation in scan.observations:
        lesion = observation.lesion
        if lesion.role == Lesion.Role.TARGET:
            targets.append(
                TargetMeasurement(
                    lesion.code,
                    observation.status,  # type: ignore[arg-type]
                    size_mm=observation.size_mm,
                    parts_mm=tuple(Decimal(str(p)) for p in observation.parts_mm or ()),
                    merged_into=observation.merged_into.code if observation.merged_into else None,
                    method=scan.assessment.method,  # type: ignore[arg-type]
                )
            )
        elif lesion.role == Lesion.Role.NON_TARGET:
            non_targets.append(NonTargetObservation(lesion.code, observation.status))  # type: ignore[arg-type]
        else:
            new.append(NewLesion(lesion.code, observation.status, site=lesion.location))  # type: ignore[arg-type]
    assessment = scan.assessment
    return Assessment(
        assessment.assessed_on,
        targets=tuple(targets),
        non_targets=tuple(non_targets),
        new_lesions=tuple(new),
        tumour_markers_normal=assessment.markers_normal,
        investigator_response=assessment.investigator_response or None,  # type: ignore[arg-type]
    )


def imaging_of(
    subject_label: str, first_dose_on: date, scans: Sequence[Scan], new_therapy_on: date | None
) -> SubjectImaging:
    baseline = next(s for s in scans if s.assessment.is_baseline)
    return SubjectImaging(
        subject_label,
        first_dose_on=first_dose_on,
        baseline=baseline_of(baseline),
        assessments=tuple(_follow_up(s) for s in scans if not s.assessment.is_baseline),
        new_therapy_on=new_therapy_on,
    )


@dataclass(frozen=True)
class Evaluation:
    """A subject's RECIST result, or why there is none yet (no baseline, no first dose) or the
    refusal of the core (inconsistent records, e.g. after a settings change)."""

    result: SubjectRecist | None
    problem: str = ""


def evaluate(
    settings: RecistSettings,
    subject_label: str,
    first_dose_on: date | None,
    scans: Sequence[Scan],
    new_therapy_on: date | None = None,
) -> Evaluation:
    if not any(s.assessment.is_baseline for s in scans):
        return Evaluation(None, "no baseline tumour assessment")
    if first_dose_on is None:
        baseline = next(s for s in scans if s.assessment.is_baseline)
        try:
            summarize_baseline(
                settings, baseline_of(baseline), first_dose_on=baseline.assessment.assessed_on
            )
        except EfficacyInputError as error:
            return Evaluation(None, str(error))
        return Evaluation(None, "no dose given yet: responses are counted from the first dose")
    try:
        return Evaluation(
            evaluate_subject(
                settings, imaging_of(subject_label, first_dose_on, scans, new_therapy_on)
            )
        )
    except EfficacyInputError as error:
        return Evaluation(None, str(error))
