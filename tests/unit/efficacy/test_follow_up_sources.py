"""What the endpoints take from the site's records beside the scans (docs/efficacy.md §9-§10,
§15): the start of new anticancer therapy (the FDA censoring rule and the end of BOR counting)
and the last date known alive (OS censoring). One table row per rule.

Sources: FDA guidance "Clinical Trial Endpoints for the Approval of Cancer Drugs and Biologics"
(2018) and its 2007 edition, Appendix 3, Table A ("new anticancer treatment started": censored
at the last adequate assessment before it); RECIST 1.1 §4.4.3 (the best overall response is
recorded until the start of new treatment). Day 1 is the first dose (2026-01-05).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pytest

from efficacy.rules import (
    EndpointRule,
    EndpointSettings,
    RecistSettings,
    Response,
    SubjectFollowUp,
    TimePointResponse,
    TumourAssessment,
    best_overall_response,
    duration_of_response,
    last_known_alive,
    new_anticancer_therapy_on,
    overall_survival,
    progression_free_survival,
)

FIRST_DOSE = date(2026, 1, 5)
SETTINGS = EndpointSettings(assessment_interval_days=42, assessment_window_days=7)


def day(n: int) -> date:
    return FIRST_DOSE + timedelta(days=n - 1)


@dataclass(frozen=True)
class TherapyRow:
    id: str
    starts: tuple[int, ...]  # study days of the starts the survival contacts report
    counted: int | None  # study day of the start the endpoints use


# fmt: off
THERAPY_TABLE = [
    TherapyRow("none-reported", (), None),
    TherapyRow("one-start", (100,), 100),
    TherapyRow("the-earliest-of-several-contacts", (150, 60, 100), 60),
    TherapyRow("a-start-on-day-1-counts", (1,), 1),
    TherapyRow("a-start-before-the-first-dose-is-not-new-therapy", (-10,), None),
    TherapyRow("the-earliest-on-or-after-the-first-dose", (-10, 120, 90), 90),
]
# fmt: on


@pytest.mark.parametrize("row", THERAPY_TABLE, ids=[r.id for r in THERAPY_TABLE])
def test_new_anticancer_therapy_start_table(row: TherapyRow) -> None:
    found = new_anticancer_therapy_on(FIRST_DOSE, [day(n) for n in row.starts])
    assert found == (None if row.counted is None else day(row.counted))


def _assessments(*points: tuple[int, str]) -> tuple[TumourAssessment, ...]:
    return tuple(TumourAssessment(day(n), Response(r), r != "NE") for n, r in points)


def test_the_earliest_new_therapy_drives_pfs_censoring() -> None:
    """Two contacts report therapies from day 100 and day 60: PFS is censored at the last
    adequate assessment on or before day 60 (day 43), not before day 100 (day 85)."""
    scans = _assessments((43, "SD"), (85, "SD"), (127, "PD"))
    starts_on = new_anticancer_therapy_on(FIRST_DOSE, [day(100), day(60)])
    pfs = progression_free_survival(
        SETTINGS, SubjectFollowUp("101-001", FIRST_DOSE, scans, new_therapy_on=starts_on)
    )
    assert (pfs.rule, pfs.end_on, pfs.cnsr) == (EndpointRule.NEW_THERAPY, day(43), 4)
    assert f"new anticancer therapy on {day(60)}" in pfs.reason


def test_new_therapy_ends_bor_counting_and_censors_the_duration_of_response() -> None:
    """PR day 43 confirmed by PR day 85, then PD on day 169 after new therapy from day 120: the
    PD is not counted for the BOR and the DoR is censored at day 85 (RECIST 1.1 §4.4.3)."""
    recist = RecistSettings()
    points = [(43, "PR"), (85, "PR"), (169, "PD")]
    starts_on = new_anticancer_therapy_on(FIRST_DOSE, [day(120)])
    best = best_overall_response(
        recist,
        [TimePointResponse(day(n), Response(r)) for n, r in points],
        first_dose_on=FIRST_DOSE,
        new_therapy_on=starts_on,
    )
    assert (best.response, best.response_started_on) == (Response.PR, day(43))
    assert any("after new anticancer therapy" in note for note in best.notes)
    facts = SubjectFollowUp("101-001", FIRST_DOSE, _assessments(*points), new_therapy_on=starts_on)
    dor = duration_of_response(SETTINGS, facts, best)
    assert dor is not None
    assert (dor.rule, dor.start_on, dor.end_on, dor.days) == (
        EndpointRule.NEW_THERAPY,
        day(43),
        day(85),
        43,
    )


@dataclass(frozen=True)
class AliveRow:
    id: str
    contact: int | None
    visit: int | None
    dose: int | None
    scans: tuple[int, ...]
    expected: tuple[int, str] | None
    death: int | None = None


# fmt: off
ALIVE_TABLE = [
    AliveRow("a-survival-contact-after-everything", 400, 200, 190, (43, 85), (400, "survival contact")),
    AliveRow("a-visit-after-the-last-dose", None, 220, 190, (43, 85), (220, "visit")),
    AliveRow("the-last-dose", None, 150, 190, (43, 85), (190, "dose")),
    AliveRow("the-last-scan", None, None, 64, (43, 85, 127), (127, "tumour assessment")),
    AliveRow("an-earlier-contact-does-not-shorten-it", 100, None, 190, (43,), (190, "dose")),
    AliveRow("records-before-the-first-dose-do-not-count", None, -20, None, (), (1, "first dose")),
    AliveRow("nothing-after-day-1", None, None, 1, (), (1, "dose")),
    AliveRow("a-tie-names-the-survival-contact", 190, 190, 190, (), (190, "survival contact")),
    AliveRow("after-a-death-there-is-none", 400, 200, 190, (43,), None, death=300),
]
# fmt: on


def _dated(row: AliveRow) -> list[tuple[date | None, str]]:
    def on(n: int | None) -> date | None:
        return None if n is None else day(n)

    return [
        (on(row.contact), "survival contact"),
        (on(row.visit), "visit"),
        (on(row.dose), "dose"),
        *((day(n), "tumour assessment") for n in row.scans),
    ]


@pytest.mark.parametrize("row", ALIVE_TABLE, ids=[r.id for r in ALIVE_TABLE])
def test_last_known_alive_table(row: AliveRow) -> None:
    death_on = None if row.death is None else day(row.death)
    found = last_known_alive(FIRST_DOSE, _dated(row), death_on=death_on)
    expected = None if row.expected is None else (day(row.expected[0]), row.expected[1])
    assert found == expected
    if found is not None:
        os = overall_survival(SubjectFollowUp("101-001", FIRST_DOSE, last_known_alive_on=found[0]))
        assert (os.rule, os.end_on, os.cnsr) == (EndpointRule.ALIVE, found[0], 1)
