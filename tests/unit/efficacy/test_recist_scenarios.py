"""Scenario table for RECIST 1.1 (docs/efficacy.md §1-§8).

Each case cites its source: "RECIST 1.1 §n / Table n" is Eisenhauer et al., Eur J Cancer
2009;45:228-247; "EORTC FAQ" is the RECIST committee's published questions and clarifications
(recist.eortc.org), with Schwartz et al., Eur J Cancer 2016;62:132-137; "admiralonco" is the
pharmaverse derive_param_confirmed_bor documentation (max_nr_ne = 1, accept_sd = FALSE).

Notation. The first dose is study day 1 (2026-01-05); `v(day, ...)` is an assessment on that
study day. Target sizes are given in the order of the baseline targets:

    50, Decimal("35.1")  measured (mm)       "ne"   not evaluated
    "ts"                 too small (5 mm)    "gone" disappeared (0 mm)
    ("split", 20, 15)    split, parts added  ("into", "T1")  merged into T1 (0 mm here)

`nt` is the status of every non-target lesion ("present", "absent", "pd", "ne"); `new` lists new
lesions as (id, "u" unequivocal | "e" equivocal).

Baselines (mm): STANDARD = T1 liver 50, T2 lung 30, N1 node 20 (sum 100) + NT1 bone;
SMALL20 = T1 20; SMALL25 = T1 25; NODES = N1 20, N2 16 (sum 36); DEC57 = T1 37, T2 20 (sum 57);
FAQ165 = T1 100, T2 65 (sum 165); NT_ONLY = NT1 bone + NT2 node 12 mm (no target).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest

from efficacy.rules import (
    RULES_VERSION,
    Assessment,
    Baseline,
    BaselineLesion,
    EndpointRule,
    EndpointSettings,
    MeasurementStatus,
    NewLesion,
    NonTargetObservation,
    Observation,
    RecistSettings,
    Response,
    Rule,
    SubjectFollowUp,
    SubjectImaging,
    SubjectRecist,
    TargetMeasurement,
    TimePointResponse,
    best_overall_response,
    duration_of_response,
    evaluate_subject,
    from_time_points,
    kaplan_meier,
    objective_response_rate,
    progression_free_survival,
)

FIRST_DOSE = date(2026, 1, 5)
BASELINE_ON = date(2026, 1, 2)


def _target(lesion_id: str, organ: str, size: int, nodal: bool = False) -> BaselineLesion:
    return BaselineLesion(lesion_id, organ, "target", "CT", size_mm=size, nodal=nodal)


BONE = BaselineLesion("NT1", "bone", "non-target", "CT", measurable_by_nature=False)
BASELINES = {
    "STANDARD": (
        _target("T1", "liver", 50),
        _target("T2", "lung", 30),
        _target("N1", "mediastinum", 20, nodal=True),
        BONE,
    ),
    "SMALL20": (_target("T1", "liver", 20),),
    "SMALL25": (_target("T1", "liver", 25),),
    "NODES": (_target("N1", "axilla", 20, nodal=True), _target("N2", "groin", 16, nodal=True)),
    "DEC57": (_target("T1", "liver", 37), _target("T2", "lung", 20)),
    "FAQ165": (_target("T1", "liver", 100), _target("T2", "lung", 65)),
    "NT_ONLY": (
        BONE,
        BaselineLesion("NT2", "pelvis", "non-target", "CT", size_mm=12, nodal=True),
    ),
}

NT_STATUS = {"present": "present", "absent": "absent", "pd": "unequivocal progression",
             "ne": "not evaluated"}  # fmt: skip


@dataclass(frozen=True)
class Visit:
    day: int
    sizes: tuple[Any, ...] = ()
    nt: str = "present"
    new: tuple[tuple[str, str], ...] = ()
    markers: bool | None = None
    investigator: str | None = None


def v(day: int, *sizes: Any, **fields: Any) -> Visit:
    return Visit(day, tuple(sizes), **fields)


def _measurement(lesion_id: str, code: Any) -> TargetMeasurement:
    if code == "ne":
        return TargetMeasurement(lesion_id, MeasurementStatus.NOT_EVALUATED)
    if code == "ts":
        return TargetMeasurement(lesion_id, MeasurementStatus.TOO_SMALL)
    if code == "gone":
        return TargetMeasurement(lesion_id, MeasurementStatus.GONE)
    if isinstance(code, tuple) and code[0] == "split":
        return TargetMeasurement(lesion_id, MeasurementStatus.SPLIT, parts_mm=code[1:])
    if isinstance(code, tuple) and code[0] == "into":
        return TargetMeasurement(lesion_id, MeasurementStatus.MERGED, merged_into=code[1])
    return TargetMeasurement(lesion_id, MeasurementStatus.MEASURED, size_mm=code)


def _day(day: int) -> date:
    return FIRST_DOSE + timedelta(days=day - 1)


def imaging(baseline: str, visits: tuple[Visit, ...], **fields: Any) -> SubjectImaging:
    lesions = BASELINES[baseline]
    targets = [les for les in lesions if les.role == "target"]
    non_targets = [les for les in lesions if les.role == "non-target"]
    assessments = []
    for visit in visits:
        assert len(visit.sizes) == len(targets), f"day {visit.day}: one size per target"
        assessments.append(
            Assessment(
                _day(visit.day),
                targets=tuple(
                    _measurement(t.lesion_id, code)
                    for t, code in zip(targets, visit.sizes, strict=True)
                ),
                non_targets=tuple(
                    NonTargetObservation(n.lesion_id, NT_STATUS[visit.nt]) for n in non_targets
                ),
                new_lesions=tuple(
                    NewLesion(i, "unequivocal" if c == "u" else "equivocal") for i, c in visit.new
                ),
                tumour_markers_normal=visit.markers,
                investigator_response=visit.investigator,
            )
        )
    return SubjectImaging(
        "101-001", FIRST_DOSE, Baseline(BASELINE_ON, lesions), tuple(assessments), **fields
    )


@dataclass(frozen=True)
class Case:
    id: str
    source: str
    baseline: str
    visits: tuple[Visit, ...]
    responses: tuple[str, ...]  # the derived overall response at each visit
    bor: str
    settings: dict[str, Any] = field(default_factory=dict)
    subject: dict[str, Any] = field(default_factory=dict)
    check: Callable[[SubjectRecist], None] | None = None


def _target_rule(index: int, rule: Rule) -> Callable[[SubjectRecist], None]:
    def check(result: SubjectRecist) -> None:
        target = result.time_points[index].target
        assert target is not None and target.rule is rule, target

    return check


def _sum(index: int, total: str, pct: str | None = None) -> Callable[[SubjectRecist], None]:
    def check(result: SubjectRecist) -> None:
        target = result.time_points[index].target
        assert target is not None and target.sum_mm == Decimal(total)
        if pct is not None:
            assert target.change_from_baseline_pct == Decimal(pct)

    return check


def _all(*checks: Callable[[SubjectRecist], None]) -> Callable[[SubjectRecist], None]:
    def check(result: SubjectRecist) -> None:
        for one in checks:
            one(result)

    return check


PR60 = (30, 18, 12)  # STANDARD at -40%
SD71 = (36, 20, 15)  # 71 mm: -29% from baseline, +18% from a nadir of 60
PD120 = (60, 36, 24)  # 120 mm: +20% and +20 mm from 100; +100% from 60
STABLE = (50, 30, 20)
CR_NODE8 = ("gone", "gone", 8)

# fmt: off
CASES = [
    # --- target lesions: the arithmetic of RECIST 1.1 §4.3.1, in integers (§3) ---
    Case("pr-at-exactly-minus-30pct", "RECIST 1.1 §4.3.1 PR: at least a 30% decrease",
         "STANDARD", (v(43, 35, 20, 15), v(85, 35, 20, 15)), ("PR", "PR"), "PR",
         check=_all(_sum(0, "70", "-30.0"), _target_rule(0, Rule.TARGET_PR))),
    Case("minus-29.9pct-is-not-pr", "RECIST 1.1 §4.3.1 PR threshold",
         "STANDARD", (v(43, Decimal("35.1"), 20, 15),), ("SD",), "SD",
         check=_all(_sum(0, "70.1", "-29.9"), _target_rule(0, Rule.TARGET_SD))),
    Case("minus-30pct-of-57mm-exact-in-decimal", "RECIST 1.1 §4.3.1; 39.9 = 0.7 x 57 exactly",
         "DEC57", (v(43, Decimal("26.9"), 13), v(85, Decimal("26.9"), 13)), ("PR", "PR"), "PR",
         check=_sum(0, "39.9", "-30.0")),
    Case("pd-at-plus-20pct-and-20mm", "RECIST 1.1 §4.3.1 PD: +20% and +5 mm from the nadir",
         "STANDARD", (v(43, *PD120),), ("PD",), "PD", check=_target_rule(0, Rule.TARGET_PD)),
    Case("plus-19.9pct-is-not-pd", "RECIST 1.1 §4.3.1 PD threshold",
         "STANDARD", (v(43, Decimal("59.9"), 36, 24),), ("SD",), "SD",
         check=_sum(0, "119.9", "19.9")),
    Case("plus-20pct-but-4mm-is-not-pd", "RECIST 1.1 §4.3.1: the absolute increase of 5 mm",
         "SMALL20", (v(43, 24),), ("SD",), "SD", check=_target_rule(0, Rule.TARGET_SD)),
    Case("plus-20pct-and-5mm-small-sum-is-pd", "RECIST 1.1 §4.3.1: +20% and +5 mm",
         "SMALL25", (v(43, 30),), ("PD",), "PD"),
    Case("pd-from-the-nadir-not-the-baseline",
         "RECIST 1.1 §4.3.1: PD from the smallest sum on study; EORTC FAQ (definition of SD)",
         "STANDARD", (v(43, *PR60), v(85, *PR60), v(127, 38, 22, 15)), ("PR", "PR", "PD"), "PR",
         check=_all(_sum(2, "75", "-25.0"), _target_rule(2, Rule.TARGET_PD))),
    Case("nadir-includes-the-baseline",
         "RECIST 1.1 §4.3.1: the nadir includes the baseline sum if smallest",
         "STANDARD", (v(43, 55, 33, 22), v(85, *PD120)), ("SD", "PD"), "SD"),
    Case("nodes-to-cr-under-10mm-with-sum-above-0",
         "RECIST 1.1 §4.3.1-4.3.2: CR when every target node < 10 mm; the sum may stay > 0",
         "NODES", (v(43, 8, 9), v(85, 7, 9)), ("CR", "CR"), "CR",
         check=_all(_sum(0, "17"), _target_rule(0, Rule.TARGET_CR))),
    Case("node-at-10mm-is-not-cr", "RECIST 1.1 §4.3.1: CR needs each node < 10 mm",
         "NODES", (v(43, 10, 9),), ("PR",), "SD", check=_target_rule(0, Rule.TARGET_PR)),
    Case("too-small-to-measure-counts-5mm",
         "RECIST 1.1 §4.3.2; EORTC FAQ 'Lesions less than 5 mm': record 5 mm",
         "STANDARD", (v(43, "gone", "ts", 8),), ("PR",), "SD", check=_sum(0, "13")),
    Case("split-lesion-parts-are-added", "RECIST 1.1 §4.3.2: lesions that fragment",
         "STANDARD", (v(43, ("split", 20, 15), 30, 20),), ("SD",), "SD", check=_sum(0, "85")),
    Case("merged-lesions-count-once", "RECIST 1.1 §4.3.2: lesions that coalesce",
         "STANDARD", (v(43, 75, ("into", "T1"), 20),), ("SD",), "SD", check=_sum(0, "95")),
    Case("target-not-assessed-is-ne", "RECIST 1.1 §4.4.2: missing measurements, NE",
         "STANDARD", (v(43, 30, "ne", 15),), ("NE",), "NE",
         check=_target_rule(0, Rule.TARGET_NE)),
    Case("pd-although-a-target-not-assessed",
         "RECIST 1.1 §4.4.2: NE unless the assessed lesions already show PD",
         "STANDARD", (v(43, 90, "ne", 40),), ("PD",), "PD",
         check=_target_rule(0, Rule.TARGET_PD_PARTIAL)),
    # --- non-target lesions and new lesions: RECIST 1.1 §4.3.3-4.3.5, Tables 1-2 ---
    Case("new-lesion-is-pd-despite-target-pr", "RECIST 1.1 §4.3.5, Table 1",
         "STANDARD", (v(43, *PR60, new=(("L1", "u"),)),), ("PD",), "PD"),
    Case("equivocal-new-lesion-confirmed-dates-pd-from-first-scan",
         "RECIST 1.1 §4.3.5: PD at the date of the initial scan",
         "STANDARD", (v(43, *STABLE, new=(("L1", "e"),)), v(85, *STABLE, new=(("L1", "u"),))),
         ("PD", "PD"), "PD",
         check=lambda r: (r.best.assessed_on == _day(43)
                          and r.time_points[0].new_lesions.rule is Rule.NEW_LESION_CONFIRMED)
         or pytest.fail(str(r.best))),
    Case("equivocal-new-lesion-not-confirmed-is-not-pd", "RECIST 1.1 §4.3.5",
         "STANDARD", (v(43, *STABLE, new=(("L1", "e"),)), v(85, *STABLE)), ("SD", "SD"), "SD"),
    Case("non-target-unequivocal-progression-is-pd", "RECIST 1.1 §4.3.3, Table 1",
         "STANDARD", (v(43, *PR60, nt="pd"),), ("PD",), "PD"),
    Case("target-cr-non-target-present-is-pr", "RECIST 1.1 Table 1: CR / non-CR/non-PD -> PR",
         "STANDARD", (v(43, *CR_NODE8), v(85, *CR_NODE8)), ("PR", "PR"), "PR"),
    Case("target-cr-non-target-not-evaluated-is-pr", "RECIST 1.1 Table 1: CR / NE -> PR",
         "STANDARD", (v(43, *CR_NODE8, nt="ne"),), ("PR",), "SD"),
    Case("target-pr-non-target-not-evaluated-is-pr", "RECIST 1.1 Table 1: PR / not all -> PR",
         "STANDARD", (v(43, *PR60, nt="ne"),), ("PR",), "SD"),
    Case("target-sd-non-target-not-evaluated-is-sd", "RECIST 1.1 Table 1: SD / not all -> SD",
         "STANDARD", (v(43, *STABLE, nt="ne"),), ("SD",), "SD"),
    Case("complete-response", "RECIST 1.1 Table 1: CR / CR / no new -> CR",
         "STANDARD", (v(43, *CR_NODE8, nt="absent"), v(85, *CR_NODE8, nt="absent")),
         ("CR", "CR"), "CR"),
    Case("tumour-markers-above-normal-is-not-cr", "RECIST 1.1 §4.3.3: CR needs normal markers",
         "STANDARD", (v(43, *CR_NODE8, nt="absent", markers=False),), ("PR",), "SD"),
    Case("non-target-only-non-cr-non-pd", "RECIST 1.1 Table 2: non-CR/non-PD, not SD",
         "NT_ONLY", (v(43),), ("NON-CR/NON-PD",), "NON-CR/NON-PD"),
    Case("non-target-only-cr", "RECIST 1.1 Table 2",
         "NT_ONLY", (v(43, nt="absent"), v(85, nt="absent")), ("CR", "CR"), "CR"),
    Case("non-target-only-not-evaluated-is-ne", "RECIST 1.1 Table 2: not all evaluated -> NE",
         "NT_ONLY", (v(43, nt="ne"),), ("NE",), "NE"),
    Case("non-target-only-early-non-cr-non-pd-is-ne",
         "RECIST 1.1 §4.6.1 minimum duration; admiralonco", "NT_ONLY", (v(29),),
         ("NON-CR/NON-PD",), "NE"),
    # --- best overall response and confirmation: RECIST 1.1 §4.4.3, §4.6.1, Table 3 ---
    Case("unconfirmed-pr-then-pd-is-sd", "RECIST 1.1 Table 3: PR then PD -> SD if X met",
         "STANDARD", (v(43, *PR60), v(64, *PD120)), ("PR", "PD"), "SD"),
    Case("unconfirmed-pr-before-x-then-pd-is-pd",
         "RECIST 1.1 Table 3: PR then PD -> PD if X not met", "STANDARD",
         (v(29, *PR60), v(57, *PD120)), ("PR", "PD"), "PD"),
    Case("confirmation-at-28-days", "RECIST 1.1 §4.6.1: confirmation >= 4 weeks later",
         "STANDARD", (v(43, *PR60), v(71, *PR60)), ("PR", "PR"), "PR",
         check=lambda r: r.best.confirmed_on == _day(71) or pytest.fail(str(r.best))),
    Case("confirmation-at-27-days-is-too-early", "RECIST 1.1 §4.6.1: >= 4 weeks (28 days)",
         "STANDARD", (v(43, *PR60), v(70, *PR60)), ("PR", "PR"), "SD",
         check=lambda r: any("27 days" in n for n in r.best.notes) or pytest.fail(str(r.best))),
    Case("sd-before-its-minimum-duration-then-pd-is-pd",
         "RECIST 1.1 §4.6.1 (SD at least 6-8 weeks), Table 3", "STANDARD",
         (v(29, *STABLE), v(57, *PD120)), ("SD", "PD"), "PD"),
    Case("sd-before-its-minimum-duration-alone-is-ne", "RECIST 1.1 §4.6.1; admiralonco",
         "STANDARD", (v(29, *STABLE),), ("SD",), "NE"),
    Case("sd-42-days-after-first-dose-counts", "docs/efficacy.md §6: day >= first dose + 42",
         "STANDARD", (v(43, *STABLE),), ("SD",), "SD"),
    Case("sd-41-days-after-first-dose-does-not", "docs/efficacy.md §6",
         "STANDARD", (v(42, *STABLE),), ("SD",), "NE"),
    Case("pd-after-confirmed-cr-keeps-cr", "RECIST 1.1 Table 3: CR then CR -> CR",
         "STANDARD", (v(43, *CR_NODE8, nt="absent"), v(85, *CR_NODE8, nt="absent"),
                      v(127, *CR_NODE8, nt="absent", new=(("L1", "u"),))),
         ("CR", "CR", "PD"), "CR"),
    Case("cr-then-disease-returns-is-pd-then-bor-sd",
         "RECIST 1.1 Table 3 note (CR then PR); EORTC FAQ 'Does a new lesion always result in "
         "PD?'", "STANDARD",
         (v(43, *CR_NODE8, nt="absent"), v(85, 10, "gone", 8, nt="absent")), ("CR", "PD"), "SD",
         check=_target_rule(1, Rule.TARGET_PD_REAPPEARED)),
    Case("cr-then-disease-returns-before-x-is-pd", "RECIST 1.1 Table 3 note", "STANDARD",
         (v(29, *CR_NODE8, nt="absent"), v(57, 10, "gone", 8, nt="absent")), ("CR", "PD"), "PD"),
    Case("non-target-seen-again-after-cr-is-pd",
         "EORTC FAQ 'Does a new lesion always result in PD?'", "STANDARD",
         (v(43, *CR_NODE8, nt="absent"), v(85, *CR_NODE8, nt="present")), ("CR", "PD"), "SD",
         check=lambda r: r.time_points[1].non_target.rule is Rule.NON_TARGET_PD_REAPPEARED
         or pytest.fail(str(r.time_points[1]))),
    Case("node-under-10mm-after-cr-has-not-reappeared", "EORTC FAQ 'Abnormal lymph node'",
         "STANDARD", (v(43, *CR_NODE8, nt="absent"), v(85, "gone", "gone", 9, nt="absent")),
         ("CR", "CR"), "CR"),
    Case("pr-then-cr-is-pr", "RECIST 1.1 Table 3: PR then CR -> PR",
         "STANDARD", (v(43, *PR60), v(85, *CR_NODE8, nt="absent")), ("PR", "CR"), "PR",
         check=lambda r: r.best.response_started_on == _day(43) or pytest.fail(str(r.best))),
    Case("pr-then-sd-is-sd", "RECIST 1.1 Table 3: PR then SD -> SD",
         "STANDARD", (v(43, *PR60), v(85, *SD71)), ("PR", "SD"), "SD"),
    Case("one-ne-between-responses-is-accepted", "admiralonco max_nr_ne = 1",
         "STANDARD", (v(43, *PR60), v(64, 30, "ne", 12), v(85, *PR60)), ("PR", "NE", "PR"), "PR"),
    Case("two-ne-between-responses-are-not", "admiralonco max_nr_ne = 1",
         "STANDARD", (v(43, *PR60), v(64, 30, "ne", 12), v(85, 30, "ne", 12), v(106, *PR60)),
         ("PR", "NE", "NE", "PR"), "SD"),
    Case("two-ne-between-accepted-by-setting", "admiralonco max_nr_ne as a setting",
         "STANDARD", (v(43, *PR60), v(64, 30, "ne", 12), v(85, 30, "ne", 12), v(106, *PR60)),
         ("PR", "NE", "NE", "PR"), "PR", settings={"max_ne_between": 2}),
    Case("sd-between-pr-and-its-confirmation-breaks-it", "admiralonco accept_sd = FALSE",
         "STANDARD", (v(43, *PR60), v(64, *SD71), v(85, *PR60)), ("PR", "SD", "PR"), "SD"),
    Case("sd-between-accepted-by-setting", "admiralonco accept_sd = TRUE",
         "STANDARD", (v(43, *PR60), v(64, *SD71), v(85, *PR60)), ("PR", "SD", "PR"), "PR",
         settings={"accept_sd_between": True}),
    Case("ne-then-ne-is-ne", "RECIST 1.1 Table 3: NE then NE -> NE",
         "STANDARD", (v(43, 30, "ne", 12), v(85, "ne", "ne", "ne")), ("NE", "NE"), "NE"),
    Case("confirmed-pr-continues-until-pd",
         "EORTC FAQ 'Managing PR when measurements change slightly' (100, 70, 70, 80, 80)",
         "STANDARD", (v(43, 35, 20, 15), v(85, 35, 20, 15), v(127, 40, 23, 17),
                      v(169, 40, 23, 17)), ("PR", "PR", "PR", "PR"), "PR",
         check=_target_rule(2, Rule.TARGET_PR_CONTINUED)),
    Case("continued-pr-off-by-setting", "EORTC FAQ continued PR as a setting",
         "STANDARD", (v(43, 35, 20, 15), v(85, 35, 20, 15), v(127, 40, 23, 17)),
         ("PR", "PR", "SD"), "PR", settings={"continue_confirmed_pr": False}),
    Case("faq-165-63-65-continued-pr", "EORTC FAQ 'The definition of SD' (165, 63, 65 mm)",
         "FAQ165", (v(57, 38, 25), v(113, 39, 26)), ("PR", "PR"), "PR",
         check=_sum(1, "65")),
    Case("unconfirmed-pr-is-not-continued", "EORTC FAQ: only a confirmed PR continues",
         "STANDARD", (v(43, 35, 20, 15), v(85, 40, 23, 17)), ("PR", "SD"), "SD"),
    Case("assessments-after-new-therapy-do-not-count",
         "RECIST 1.1 §4.4.3 (BOR until PD or new therapy); docs/efficacy.md §6",
         "STANDARD", (v(43, *PR60), v(85, *PR60)), ("PR", "PR"), "SD",
         subject={"new_therapy_on": _day(60)}),
    Case("confirmation-not-required-setting", "RECIST 1.1 §4.6.1 (randomised trials)",
         "STANDARD", (v(43, *PR60), v(64, *PD120)), ("PR", "PD"), "PR",
         settings={"confirmation_required": False}),
]
# fmt: on


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_recist_scenario(case: Case) -> None:
    settings = RecistSettings(**case.settings)
    result = evaluate_subject(settings, imaging(case.baseline, case.visits, **case.subject))
    assert tuple(str(p.response) for p in result.time_points) == case.responses, [
        (p.assessed_on, p.rule, p.reason) for p in result.time_points
    ]
    assert result.best.response == Response(case.bor), (result.best, case.source)
    assert result.best.rules_version == RULES_VERSION
    for point in result.time_points:
        assert point.reason and point.rule  # every derived value says why
    if case.check is not None:
        case.check(result)


def test_table_has_enough_cited_cases() -> None:
    assert len(CASES) >= 30
    assert all(case.source for case in CASES)


@pytest.mark.parametrize(
    ("sequence", "bor", "started"),
    [
        # Given time-point responses (e.g. the investigator's), the same Table 3 rules apply.
        (((43, "CR"), (85, "PR")), "SD", None),  # CR then PR: disease returned (Table 3 note)
        (((29, "CR"), (57, "PR")), "PD", None),
        (((43, "PR"), (85, "CR"), (127, "CR")), "CR", 43),  # DoR starts at the first PR
        (((43, "PR"), (64, "NE"), (85, "PR")), "PR", 43),
        (((43, "SD"), (85, "PD")), "SD", None),
        ((), "MISSING", None),
    ],
)
def test_best_overall_response_from_given_time_points(
    sequence: tuple[tuple[int, str], ...], bor: str, started: int | None
) -> None:
    points = [TimePointResponse(_day(day), Response(r)) for day, r in sequence]
    best = best_overall_response(RecistSettings(), points, first_dose_on=FIRST_DOSE)
    assert best.response == Response(bor), best
    assert best.response_started_on == (None if started is None else _day(started))


def test_cr_then_pr_sequence_says_why() -> None:
    points = [TimePointResponse(_day(43), Response.CR), TimePointResponse(_day(85), Response.PR)]
    best = best_overall_response(RecistSettings(), points, first_dose_on=FIRST_DOSE)
    assert any("disease returned" in note for note in best.notes)


def test_disagreement_with_the_investigator_is_flagged() -> None:
    subject = imaging(
        "STANDARD",
        (v(43, Decimal("35.1"), 20, 15, investigator="PR"), v(85, 35, 20, 15, investigator="PR")),
        investigator_best_response="PR",
    )
    result = evaluate_subject(RecistSettings(), subject)
    assert [p.agrees_with_investigator for p in result.time_points] == [False, True]
    assert [(d.what, d.derived, d.investigator) for d in result.disagreements] == [
        ("time point 2026-02-16", Response.SD, Response.PR),
        ("best overall response", Response.SD, Response.PR),
    ]
    assert "-29.9%" in result.disagreements[0].reason


# --- from lesion records to endpoints and a Kaplan-Meier median (docs/efficacy.md §9-§12) ---


def test_equivocal_new_lesion_dates_the_pfs_event_from_its_first_scan() -> None:
    # RECIST 1.1 §4.3.5 and the FDA rule "progression at the first scan showing it".
    subject = imaging(
        "STANDARD",
        (v(43, *STABLE, new=(("L1", "e"),)), v(85, *STABLE, new=(("L1", "u"),))),
    )
    result = evaluate_subject(RecistSettings(), subject)
    pfs = progression_free_survival(
        EndpointSettings(),
        SubjectFollowUp("101-001", FIRST_DOSE, from_time_points(result.time_points)),
    )
    assert (pfs.rule, pfs.end_on, pfs.days) == (EndpointRule.PROGRESSION, _day(43), 43)


def test_cohort_from_lesions_to_orr_pfs_and_km() -> None:
    visits = {
        "101-001": (v(43, *PR60), v(85, *PR60), v(127, 38, 22, 15)),  # PR, PD on day 127
        "101-002": (v(43, *STABLE), v(85, 60, 36, 24)),  # SD, PD on day 85
        "101-003": (v(43, *STABLE), v(85, *STABLE)),  # SD, censored on day 85
        "101-004": (v(43, 60, 36, 24),),  # PD on day 43
    }
    settings = RecistSettings()
    results = {}
    pfs = {}
    dor = {}
    for number, subject_visits in visits.items():
        subject = imaging("STANDARD", subject_visits)
        result = evaluate_subject(settings, subject)
        results[number] = result.best
        follow_up = SubjectFollowUp(number, FIRST_DOSE, from_time_points(result.time_points))
        pfs[number] = progression_free_survival(EndpointSettings(), follow_up)
        dor[number] = duration_of_response(EndpointSettings(), follow_up, result.best)
    orr = objective_response_rate(results, denominator_name="treated, measurable disease")
    assert (orr.numerator, orr.denominator, orr.subjects) == (1, 4, ("101-001",))
    assert [p.days for p in pfs.values()] == [127, 85, 85, 43]
    assert [p.event for p in pfs.values()] == [True, True, False, True]
    response = dor["101-001"]
    assert response is not None and (response.start_on, response.days) == (_day(43), 85)
    assert [d is None for d in dor.values()] == [False, True, True, True]
    curve = kaplan_meier([Observation.from_time_to_event(p) for p in pfs.values()])
    # 4 at risk: event at 43 (3/4), at 85 one event and one censoring (3/4 x 2/3 = 1/2), the
    # last at risk has its event at 127 (0): S is exactly 1/2 from day 85 to day 127.
    assert [row.survival for row in curve.rows] == [Fraction(3, 4), Fraction(1, 2), Fraction(0)]
    assert curve.median.estimate == (85 + 127) / Fraction(2)
    assert curve.at_risk(86) == 1
