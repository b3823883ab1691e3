"""Measurability, target selection and the refusal of inconsistent records (docs/efficacy.md §1-§2).

Sources: RECIST 1.1 §3.1 (measurable and non-measurable), §3.2 (methods), §4.2 (at most 5
targets, 2 per organ); EORTC FAQ "Paired organs" (lungs, kidneys, ovaries, lymph nodes count as
one organ); RECIST 1.1 §4.3.2 (nodes keep their real short axis).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from efficacy.rules import (
    Assessment,
    Baseline,
    BaselineLesion,
    Disease,
    EfficacyInputError,
    MeasurementStatus,
    NonTargetObservation,
    RecistSettings,
    Rule,
    SubjectImaging,
    TargetMeasurement,
    evaluate_subject,
    measurability,
    summarize_baseline,
)

FIRST_DOSE = date(2026, 1, 5)


def lesion(lesion_id: str = "T1", **fields: Any) -> BaselineLesion:
    values: dict[str, Any] = {"organ": "liver", "role": "target", "method": "CT", "size_mm": 20}
    values.update(fields)
    return BaselineLesion(lesion_id, **values)


# fmt: off
@pytest.mark.parametrize(
    ("fields", "measurable", "rule"),
    [
        ({"size_mm": 10}, True, Rule.MEASURABLE),                     # §3.1.1: 10 mm on CT
        ({"size_mm": 9}, False, Rule.TOO_SMALL_AT_BASELINE),
        ({"size_mm": Decimal("9.9")}, False, Rule.TOO_SMALL_AT_BASELINE),
        ({"size_mm": 10, "slice_thickness_mm": 5}, True, Rule.MEASURABLE),
        ({"size_mm": 15, "slice_thickness_mm": 8}, False, Rule.TOO_SMALL_AT_BASELINE),  # 2 x 8
        ({"size_mm": 16, "slice_thickness_mm": 8}, True, Rule.MEASURABLE),
        ({"size_mm": 10, "method": "MRI"}, True, Rule.MEASURABLE),
        ({"size_mm": 10, "method": "caliper"}, True, Rule.MEASURABLE),  # §3.1.1: 10 mm caliper
        ({"size_mm": 19, "method": "chest X-ray"}, False, Rule.TOO_SMALL_AT_BASELINE),
        ({"size_mm": 20, "method": "chest X-ray"}, True, Rule.MEASURABLE),  # 20 mm on X-ray
        ({"size_mm": 40, "method": "ultrasound"}, False, Rule.METHOD_CANNOT_MEASURE),  # §3.2.2
        ({"size_mm": 40, "measurable_by_nature": False}, False, Rule.NON_MEASURABLE_NATURE),
        ({"size_mm": None}, False, Rule.NOT_SIZED),
        ({"size_mm": 15, "nodal": True}, True, Rule.MEASURABLE_NODE),  # §3.1.1: SA >= 15 mm
        ({"size_mm": Decimal("14.9"), "nodal": True}, False, Rule.PATHOLOGICAL_NODE),
        ({"size_mm": 10, "nodal": True}, False, Rule.PATHOLOGICAL_NODE),  # 10 to < 15: NT
        ({"size_mm": 20, "nodal": True, "method": "caliper"}, False, Rule.METHOD_CANNOT_MEASURE),
    ],
)
# fmt: on
def test_measurability(fields: dict[str, Any], measurable: bool, rule: Rule) -> None:
    judged = measurability(lesion(**fields))
    assert (judged.measurable, judged.rule) == (measurable, rule), judged.reason


def _baseline(*lesions: BaselineLesion) -> Baseline:
    return Baseline(date(2026, 1, 2), lesions)


# fmt: off
@pytest.mark.parametrize(
    ("lesions", "message"),
    [
        ((lesion(size_mm=9),), r"T1: a target lesion must be measurable .*< 10 mm"),
        ((lesion(size_mm=12, nodal=True),), r"T1: a target lesion must be measurable .*10 to < 15"),
        ((lesion(size_mm=8, nodal=True, role="non-target"),), r"T1: a lymph node of 8 mm .* normal"),
        (tuple(lesion(f"T{i}", organ=f"organ {i}") for i in range(6)), r"6 target lesions .*at most 5"),
        ((lesion("T1"), lesion("T2"), lesion("T3")), r"3 target lesions in liver .*at most 2 per organ"),
        ((lesion("T1", organ="Lung"), lesion("T2", organ="lung "), lesion("T3", organ="LUNG")),
         r"3 target lesions in lung"),
        ((lesion("N1", organ="axilla", nodal=True), lesion("N2", organ="neck", nodal=True),
          lesion("N3", organ="groin", nodal=True)), r"3 target lesions in lymph nodes"),
        ((), r"no lesion recorded"),
    ],
)
# fmt: on
def test_target_selection_is_checked(lesions: tuple[BaselineLesion, ...], message: str) -> None:
    with pytest.raises(EfficacyInputError, match=message):
        summarize_baseline(RecistSettings(), _baseline(*lesions), first_dose_on=FIRST_DOSE)


def test_baseline_sum_uses_short_axis_of_nodes_and_flags_an_old_baseline() -> None:
    summary = summarize_baseline(
        RecistSettings(),
        Baseline(
            date(2025, 12, 1),
            (lesion("T1", size_mm=Decimal("20.5")), lesion("N1", nodal=True, size_mm=15)),
        ),
        first_dose_on=FIRST_DOSE,
    )
    assert summary.disease is Disease.MEASURABLE
    assert summary.sum_mm == Decimal("35.5")
    assert summary.notes and "35 days before the first dose, more than 28" in summary.notes[0]


def _subject(*targets: TargetMeasurement, **fields: Any) -> SubjectImaging:
    baseline = _baseline(
        lesion("T1"), lesion("N1", organ="neck", nodal=True, size_mm=20),
        BaselineLesion("NT1", "bone", "non-target", "CT", measurable_by_nature=False),
    )  # fmt: skip
    assessment = Assessment(
        fields.pop("on", date(2026, 2, 16)),
        targets=targets,
        non_targets=fields.pop("non_targets", (NonTargetObservation("NT1", "present"),)),
    )
    return SubjectImaging("101-001", FIRST_DOSE, baseline, (assessment,), **fields)


MEASURED = MeasurementStatus.MEASURED


# fmt: off
@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: _subject(TargetMeasurement("T1", MEASURED, size_mm=10)),
         r"no record for target N1 \(record 'not evaluated'"),
        (lambda: _subject(TargetMeasurement("T1", MEASURED, size_mm=10),
                          TargetMeasurement("N1", MEASURED, size_mm=9),
                          TargetMeasurement("T9", MEASURED, size_mm=9)),
         r"T9 is not a baseline target"),
        (lambda: _subject(TargetMeasurement("T1", MEASURED, size_mm=10),
                          TargetMeasurement("N1", "gone")),
         r"target N1: a target lymph node keeps its real short axis"),
        (lambda: _subject(TargetMeasurement("T1", MEASURED, size_mm=10),
                          TargetMeasurement("N1", MEASURED, size_mm=9), non_targets=()),
         r"no record for non-target NT1"),
        (lambda: _subject(TargetMeasurement("T1", "merged", merged_into="T1"),
                          TargetMeasurement("N1", MEASURED, size_mm=9)),
         r"merged_into 'T1' is not another target"),
        (lambda: _subject(TargetMeasurement("T1", MEASURED, size_mm=10),
                          TargetMeasurement("N1", MEASURED, size_mm=9), on=FIRST_DOSE),
         r"a follow-up assessment comes after the baseline"),
        (lambda: TargetMeasurement("T1", MEASURED, size_mm=10.5), r"T1: size_mm: 10.5 .*not a float"),
        (lambda: TargetMeasurement("T1", MEASURED, size_mm=-1), r"size_mm: -1 mm is negative"),
        (lambda: TargetMeasurement("T1", MEASURED), r"status 'measured' needs size_mm"),
        (lambda: TargetMeasurement("T1", "split", parts_mm=(5,)), r"2\+ parts"),
        (lambda: TargetMeasurement("T1", "vanished"), r"status: 'vanished' is not one of"),
        (lambda: TargetMeasurement("T1", "merged"), r"merged_into"),
        (lambda: lesion(method="PET-CT"), r"method: 'PET-CT' is not one of"),
        (lambda: lesion(organ=" "), r"organ is required"),
        (lambda: RecistSettings(confirmation_days=0), r"confirmation_days: 0 must be at least 1"),
        (lambda: RecistSettings(too_small_mm=5.0), r"too_small_mm: 5.0 is not a length"),
        (lambda: Baseline(date(2026, 1, 2), (lesion("T1"), lesion("T1"))), r"repeated: T1"),
    ],
)
# fmt: on
def test_inconsistent_records_are_refused(build: Any, message: str) -> None:
    with pytest.raises(EfficacyInputError, match=message):
        subject = build()
        if isinstance(subject, SubjectImaging):
            evaluate_subject(RecistSettings(), subject)


def test_method_changed_from_baseline_makes_the_lesion_not_evaluable() -> None:
    # RECIST 1.1 §3.2: the same method at every assessment; a size on another method is not
    # compared with the baseline.
    subject = _subject(
        TargetMeasurement("T1", MEASURED, size_mm=10, method="MRI"),
        TargetMeasurement("N1", MEASURED, size_mm=9),
    )
    result = evaluate_subject(RecistSettings(), subject)
    target = result.time_points[0].target
    assert target is not None and target.rule is Rule.TARGET_NE
    assert "measured on MRI, not on CT" in target.reason
    assert not result.time_points[0].adequate
