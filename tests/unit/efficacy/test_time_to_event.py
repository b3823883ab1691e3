"""PFS, OS and duration of response per subject: one table row per event and censoring rule
(docs/efficacy.md §9-§10).

Sources: FDA guidance "Clinical Trial Endpoints for the Approval of Cancer Drugs and Biologics"
(2018) and its 2007 edition, §III.B (an adequate assessment: every scheduled tumour assessment
done) and Appendix 3, Table A (progression at the first scan showing it; death; censoring at the
last adequate assessment, before new anticancer therapy, and before an event after two or more
missed visits; no baseline: censored at the start). RECIST 1.1 §4.6.2 for duration of response.

Schedule: an assessment every 42 days, window 7: an event more than 2 x 42 + 7 = 91 days after
the last adequate assessment follows two missed assessments. Day 1 is the first dose (2026-01-05).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from efficacy.rules import (
    EfficacyInputError,
    Endpoint,
    EndpointRule,
    EndpointSettings,
    RecistSettings,
    Response,
    SubjectFollowUp,
    TimePointResponse,
    TumourAssessment,
    best_overall_response,
    duration_of_response,
    overall_survival,
    progression_free_survival,
)

FIRST_DOSE = date(2026, 1, 5)
SETTINGS = EndpointSettings(assessment_interval_days=42, assessment_window_days=7)


def day(n: int) -> date:
    return FIRST_DOSE + timedelta(days=n - 1)


def a(n: int, response: str, adequate: bool | None = None) -> TumourAssessment:
    """An assessment on study day n; adequate unless NE (or said otherwise)."""
    ok = response != "NE" if adequate is None else adequate
    return TumourAssessment(day(n), Response(response), ok)


@dataclass(frozen=True)
class Row:
    id: str
    source: str
    assessments: tuple[TumourAssessment, ...]
    rule: EndpointRule
    end_day: int
    facts: dict[str, Any] = field(default_factory=dict)


# fmt: off
PFS_TABLE = [
    Row("progression-at-the-first-scan-showing-it", "FDA 2007 App. 3 Table A: progression",
        (a(43, "SD"), a(85, "PD")), EndpointRule.PROGRESSION, 85),
    Row("death-without-progression", "FDA 2007 Table A: death between adequate assessments",
        (a(43, "SD"), a(85, "SD")), EndpointRule.DEATH, 100, {"death_on": day(100)}),
    Row("death-before-the-first-assessment", "FDA 2007 Table A: death before first assessment",
        (), EndpointRule.DEATH, 30, {"death_on": day(30)}),
    Row("progression-before-death", "the first of progression and death",
        (a(43, "SD"), a(85, "PD")), EndpointRule.PROGRESSION, 85, {"death_on": day(100)}),
    Row("no-event-censored-at-the-last-adequate-assessment",
        "FDA 2007 Table A: no progression; §III.B adequate assessment",
        (a(43, "SD"), a(85, "PR"), a(127, "NE")), EndpointRule.LAST_ASSESSMENT, 85),
    Row("no-adequate-post-baseline-assessment-censored-on-day-1",
        "FDA 2007 §III.B; docs/efficacy.md §10", (a(43, "NE"),),
        EndpointRule.NO_ADEQUATE_ASSESSMENT, 1),
    Row("no-post-baseline-assessment-censored-on-day-1", "docs/efficacy.md §10",
        (), EndpointRule.NO_ADEQUATE_ASSESSMENT, 1),
    Row("no-baseline-assessment-censored-on-day-1",
        "FDA 2007 Table A: no baseline tumour assessment", (a(43, "PD"),),
        EndpointRule.NO_BASELINE, 1, {"baseline_assessed": False}),
    Row("new-therapy-before-progression",
        "FDA 2007 Table A: new anticancer treatment started",
        (a(43, "SD"), a(85, "SD"), a(127, "PD")), EndpointRule.NEW_THERAPY, 85,
        {"new_therapy_on": day(100)}),
    Row("new-therapy-before-death-without-assessment", "FDA 2007 Table A; day 1 when none",
        (), EndpointRule.NEW_THERAPY, 1, {"new_therapy_on": day(30), "death_on": day(60)}),
    Row("new-therapy-no-event", "FDA 2007 Table A: last assessment before new therapy",
        (a(43, "SD"), a(85, "SD"), a(127, "SD")), EndpointRule.NEW_THERAPY, 85,
        {"new_therapy_on": day(100)}),
    Row("progression-scan-on-the-day-new-therapy-starts-is-an-event", "docs/efficacy.md §10",
        (a(43, "SD"), a(85, "PD")), EndpointRule.PROGRESSION, 85, {"new_therapy_on": day(85)}),
    Row("progression-after-two-missed-assessments",
        "FDA 2007 Table A: progression after more than one missed visit",
        (a(43, "SD"), a(135, "PD")), EndpointRule.MISSED_ASSESSMENTS, 43),
    Row("progression-in-the-window-of-the-second-assessment-is-an-event",
        "FDA 2007 Table A; 134 - 43 = 91 days, not more", (a(43, "SD"), a(134, "PD")),
        EndpointRule.PROGRESSION, 134),
    Row("death-after-two-missed-assessments",
        "FDA 2007 Table A: deaths after two or more missed visits are censored",
        (a(43, "SD"),), EndpointRule.MISSED_ASSESSMENTS, 43, {"death_on": day(200)}),
    Row("death-after-two-missed-without-any-assessment", "FDA 2007 Table A; from day 1",
        (), EndpointRule.MISSED_ASSESSMENTS, 1, {"death_on": day(93)}),
    Row("not-evaluable-assessments-count-as-missed",
        "FDA 2007 §III.B: only adequate assessments count",
        (a(43, "SD"), a(85, "NE"), a(127, "NE"), a(169, "PD")),
        EndpointRule.MISSED_ASSESSMENTS, 43),
    Row("progression-with-a-lesion-not-assessed-is-still-progression",
        "RECIST 1.1 §4.4.2: PD despite a lesion not assessed", (a(43, "PD", adequate=False),),
        EndpointRule.PROGRESSION, 43),
]
# fmt: on


@pytest.mark.parametrize("row", PFS_TABLE, ids=[r.id for r in PFS_TABLE])
def test_pfs_censoring_table(row: Row) -> None:
    facts = SubjectFollowUp("101-001", FIRST_DOSE, row.assessments, **row.facts)
    pfs = progression_free_survival(SETTINGS, facts)
    assert (pfs.rule, pfs.end_on) == (row.rule, day(row.end_day)), (pfs.reason, row.source)
    assert pfs.days == row.end_day  # end - start + 1
    assert pfs.event == (row.rule in (EndpointRule.PROGRESSION, EndpointRule.DEATH))
    assert (pfs.cnsr == 0) == pfs.event
    assert pfs.description and pfs.reason and pfs.endpoint is Endpoint.PFS


def test_cnsr_codes_and_descriptions_are_distinct() -> None:
    censorings = [
        rule for rule in EndpointRule if not rule.event and rule is not EndpointRule.ALIVE
    ]
    assert len({rule.cnsr for rule in censorings}) == len(censorings)
    assert EndpointRule.PROGRESSION.description == "DISEASE PROGRESSION"
    assert EndpointRule.NEW_THERAPY.description.startswith("LAST ADEQUATE TUMOR ASSESSMENT BEFORE")


def test_days_and_months() -> None:
    pfs = progression_free_survival(
        SETTINGS, SubjectFollowUp("101-001", FIRST_DOSE, (a(43, "SD"), a(85, "PD")))
    )
    assert pfs.days == 85
    assert pfs.months == Decimal(85) / Decimal("30.4375")


def test_the_gap_is_a_setting() -> None:
    facts = SubjectFollowUp("101-001", FIRST_DOSE, (a(43, "SD"), a(135, "PD")))
    wider = EndpointSettings(assessment_interval_days=56, assessment_window_days=7)
    assert progression_free_survival(wider, facts).rule is EndpointRule.PROGRESSION
    assert "more than 91 days" in SETTINGS.describe()


# --- overall survival ---


def test_os_death_is_the_event_whatever_else_happened() -> None:
    facts = SubjectFollowUp(
        "101-001", FIRST_DOSE, (a(43, "PD"),), death_on=day(300), new_therapy_on=day(60)
    )
    os = overall_survival(facts)
    assert (os.rule, os.end_on, os.days, os.cnsr) == (EndpointRule.DEATH, day(300), 300, 0)


def test_os_censored_at_the_last_date_known_alive() -> None:
    os = overall_survival(
        SubjectFollowUp("101-001", FIRST_DOSE, (a(43, "SD"),), last_known_alive_on=day(250))
    )
    assert (os.rule, os.end_on, os.event, os.description) == (
        EndpointRule.ALIVE, day(250), False, "LAST KNOWN ALIVE DATE",
    )  # fmt: skip


# --- duration of response ---


def _bor(*points: tuple[int, str]):
    return best_overall_response(
        RecistSettings(),
        [TimePointResponse(day(n), Response(r)) for n, r in points],
        first_dose_on=FIRST_DOSE,
    )


def test_dor_from_the_first_response_later_confirmed_to_progression() -> None:
    sequence = ((43, "PR"), (85, "CR"), (127, "CR"), (169, "PD"))
    best = _bor(*sequence)
    assert best.response is Response.CR and best.response_started_on == day(43)
    facts = SubjectFollowUp("101-001", FIRST_DOSE, tuple(a(n, r) for n, r in sequence))
    dor = duration_of_response(SETTINGS, facts, best)
    assert dor is not None
    assert (dor.start_on, dor.end_on, dor.days, dor.rule) == (
        day(43), day(169), 127, EndpointRule.PROGRESSION,
    )  # fmt: skip


def test_dor_uses_the_pfs_censoring_rules() -> None:
    sequence = ((43, "PR"), (85, "PR"), (127, "PR"))
    facts = SubjectFollowUp(
        "101-001", FIRST_DOSE, tuple(a(n, r) for n, r in sequence), new_therapy_on=day(100)
    )
    dor = duration_of_response(SETTINGS, facts, _bor(*sequence))
    assert dor is not None
    assert (dor.rule, dor.end_on, dor.days) == (EndpointRule.NEW_THERAPY, day(85), 43)


def test_dor_death_after_missed_assessments_is_censored() -> None:
    sequence = ((43, "PR"), (85, "PR"))
    facts = SubjectFollowUp(
        "101-001", FIRST_DOSE, tuple(a(n, r) for n, r in sequence), death_on=day(300)
    )
    dor = duration_of_response(SETTINGS, facts, _bor(*sequence))
    assert dor is not None and (dor.rule, dor.end_on) == (EndpointRule.MISSED_ASSESSMENTS, day(85))


@pytest.mark.parametrize("sequence", [((43, "PR"), (64, "PD")), ((43, "SD"),), ()])
def test_no_dor_without_a_confirmed_response(sequence: tuple[tuple[int, str], ...]) -> None:
    facts = SubjectFollowUp("101-001", FIRST_DOSE, tuple(a(n, r) for n, r in sequence))
    assert duration_of_response(SETTINGS, facts, _bor(*sequence)) is None


# fmt: off
@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: SubjectFollowUp("101-001", FIRST_DOSE, (a(1, "SD"),)), "is not after the first dose"),
        (lambda: SubjectFollowUp("101-001", FIRST_DOSE, (a(43, "SD"), a(43, "PD"))), "two tumour"),
        (lambda: SubjectFollowUp("101-001", FIRST_DOSE, (a(43, "SD"),), death_on=day(40)),
         "after death"),
        (lambda: SubjectFollowUp("101-001", FIRST_DOSE, (a(43, "SD"),), last_known_alive_on=day(40)),
         "before a tumour assessment"),
        (lambda: SubjectFollowUp("101-001", FIRST_DOSE, death_on=day(40),
                                 last_known_alive_on=day(41)), "after death_on"),
        (lambda: overall_survival(SubjectFollowUp("101-001", FIRST_DOSE)),
         "OS needs death_on or last_known_alive_on"),
        (lambda: EndpointSettings(assessment_interval_days=0), "assessment_interval_days"),
    ],
)
# fmt: on
def test_inconsistent_follow_up_is_refused(build: Any, message: str) -> None:
    with pytest.raises(EfficacyInputError, match=message):
        build()
