"""Visit schedules and subject calendars, worked by hand (docs/visits.md §2).

Dates are counted on a calendar: C1D1 + 21 days is the next Q3W Day 1, a cycle's Day d is its
Day 1 + (d - 1), survival follow-up every 12 weeks is every 84 days.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest

from visits.rules import (
    CycleVisit,
    DoseGiven,
    SubjectVisitFacts,
    VisitRecord,
    VisitsInputError,
    VisitStatus,
    Window,
    q2w_schedule,
    q3w_schedule,
    subject_calendar,
)
from visits.rules.schedule import add_months

D = date
CONSENT, ENROLLED, C1D1 = D(2026, 1, 2), D(2026, 1, 9), D(2026, 1, 12)


def q3w_facts(*doses: tuple[int, date], **more) -> SubjectVisitFacts:
    return SubjectVisitFacts(
        consented_on=CONSENT,
        enrolled_on=ENROLLED,
        doses=tuple(DoseGiven(cycle, 1, given_on) for cycle, given_on in doses),
        **more,
    )


# --- Q3W: a delayed Cycle 2 shifts every later visit ---------------------------------------------


def test_q3w_on_time_calendar() -> None:
    calendar = subject_calendar(
        q3w_schedule(), q3w_facts((1, C1D1), (2, D(2026, 2, 2))), D(2026, 2, 3)
    )
    expected = {
        # code: (target, earliest, latest, study day)
        "SCR": (D(2026, 1, 2), D(2026, 1, 2), D(2026, 1, 29), -10),  # consent + 27 days
        "C1D1": (C1D1, D(2026, 1, 9), D(2026, 1, 15), 1),
        "C1D8": (D(2026, 1, 19), D(2026, 1, 18), D(2026, 1, 20), 8),  # +/- 1 day
        "C1D15": (D(2026, 1, 26), D(2026, 1, 25), D(2026, 1, 27), 15),
        "C2D1": (D(2026, 2, 2), D(2026, 1, 30), D(2026, 2, 5), 22),  # C1D1 + 21
        "C3D1": (D(2026, 2, 23), D(2026, 2, 20), D(2026, 2, 26), 43),  # C2D1 + 21, projected
        "SCAN1": (D(2026, 2, 23), D(2026, 2, 16), D(2026, 3, 2), 43),  # C1D1 + 6 weeks
    }
    assert set(calendar.codes) == set(expected)
    for code, (target, earliest, latest, day) in expected.items():
        visit = calendar.visit(code)
        assert (visit.target, visit.earliest, visit.latest, visit.study_day) == (
            target, earliest, latest, day,
        ), code  # fmt: skip
    assert calendar.visit("C3D1").projected and not calendar.visit("C2D1").projected
    assert calendar.visit("C1D1").status is VisitStatus.DONE  # the dose is the visit done
    assert calendar.visit("C1D1").forms == ("vital_signs", "labs", "ecg", "ecog", "dose", "pk")


def test_q3w_cycle_2_delayed_7_days_shifts_every_later_visit() -> None:
    # A schedule with a Day 8 visit in every cycle, to see a delayed cycle's own visits move.
    schedule = q3w_schedule(
        cycle_visits=(
            CycleVisit(1, Window(3, 3), ("dose",), dose=True),
            CycleVisit(8, Window(1, 1), ("labs",)),
        ),
        projected_cycles=2,
    )
    on_time = subject_calendar(schedule, q3w_facts((1, C1D1), (2, D(2026, 2, 2))), D(2026, 2, 10))
    delayed = subject_calendar(schedule, q3w_facts((1, C1D1), (2, D(2026, 2, 9))), D(2026, 2, 10))
    assert sorted(on_time.codes) == sorted(delayed.codes)
    for code in on_time.codes:
        shift = delayed.visit(code).target - on_time.visit(code).target
        if code in ("C2D8", "C3D1", "C3D8", "C4D1", "C4D8"):
            assert shift == timedelta(days=7), code
        else:  # screening, Cycle 1, C2D1's due date and the scans (fixed on C1D1) do not move
            assert shift == timedelta(0), code
    # C2D1 was due 02-02 (window 01-30..02-05): given on 02-09 it is done, outside its window.
    c2d1 = delayed.visit("C2D1")
    assert (c2d1.status, c2d1.done_on, c2d1.out_of_window) == (
        VisitStatus.DONE,
        D(2026, 2, 9),
        True,
    )
    assert delayed.visit("C2D8").target == D(2026, 2, 16)  # actual C2D1 + 7
    assert delayed.visit("C3D1").target == D(2026, 3, 2)  # actual C2D1 + 21
    assert delayed.visit("C3D1").anchor == "21 days after Cycle 2 Day 1 (actual 2026-02-09)"


def test_review_example_c3d1_from_the_actual_delayed_c2d1() -> None:
    # C1D1 2026-03-02, C2D1 delayed to 2026-03-30: C3D1 is 21 days later, 04-20 (04-17..04-23).
    facts = SubjectVisitFacts(
        consented_on=D(2026, 2, 1),
        doses=(DoseGiven(1, 1, D(2026, 3, 2)), DoseGiven(2, 1, D(2026, 3, 30))),
    )
    c3d1 = subject_calendar(q3w_schedule(), facts, D(2026, 4, 1)).visit("C3D1")
    assert (c3d1.target, c3d1.earliest, c3d1.latest) == (
        D(2026, 4, 20),
        D(2026, 4, 17),
        D(2026, 4, 23),
    )


@pytest.mark.parametrize(
    ("c2d1", "on", "status"),
    [
        (D(2026, 2, 2), D(2026, 2, 19), VisitStatus.NOT_YET_DUE),  # C3D1 window opens 02-20
        (D(2026, 2, 2), D(2026, 2, 20), VisitStatus.DUE),
        (D(2026, 2, 2), D(2026, 2, 26), VisitStatus.DUE),  # last day of the window
        (D(2026, 2, 2), D(2026, 2, 27), VisitStatus.OVERDUE),
        (D(2026, 2, 9), D(2026, 2, 27), VisitStatus.DUE),  # delayed: window 02-27..03-05
    ],
)
def test_c3d1_status_on_a_date(c2d1, on, status) -> None:
    calendar = subject_calendar(q3w_schedule(), q3w_facts((1, C1D1), (2, c2d1)), on)
    assert calendar.visit("C3D1").status is status


def test_visit_before_a_dose_that_has_not_happened_is_projected() -> None:
    # On 02-06 C2D1 (due 02-02, window to 02-05) has no dose: overdue, projected from C1D1.
    calendar = subject_calendar(q3w_schedule(), q3w_facts((1, C1D1)), D(2026, 2, 6))
    c2d1 = calendar.visit("C2D1")
    assert (c2d1.target, c2d1.status, c2d1.projected) == (D(2026, 2, 2), VisitStatus.OVERDUE, True)
    assert "C3D1" not in calendar.codes  # one cycle ahead of the last actual Day 1


def test_before_the_first_dose() -> None:
    facts = SubjectVisitFacts(consented_on=CONSENT)
    assert subject_calendar(q3w_schedule(), facts, D(2026, 1, 5)).codes == ("SCR",)
    planned = replace(facts, planned_first_dose_on=C1D1)
    calendar = subject_calendar(q3w_schedule(), planned, D(2026, 1, 5))
    assert calendar.codes == ("SCR", "C1D1", "C1D8", "C1D15")
    assert calendar.visit("SCR").status is VisitStatus.DUE  # 01-02..01-29
    assert calendar.visit("C1D1").anchor == "planned first dose 2026-01-12"


# --- Q2W: Day 15 ----------------------------------------------------------------------------


def q2w_facts(*doses: tuple[int, int, date]) -> SubjectVisitFacts:
    return SubjectVisitFacts(
        consented_on=D(2026, 2, 10),
        doses=tuple(DoseGiven(cycle, day, given_on) for cycle, day, given_on in doses),
    )


@pytest.mark.parametrize(
    ("on", "status"),
    [
        (D(2026, 3, 12), VisitStatus.NOT_YET_DUE),  # C1D15 = 03-16, window 03-13..03-19
        (D(2026, 3, 13), VisitStatus.DUE),
        (D(2026, 3, 19), VisitStatus.DUE),
        (D(2026, 3, 20), VisitStatus.OVERDUE),
    ],
)
def test_q2w_day_15_status(on, status) -> None:
    calendar = subject_calendar(q2w_schedule(), q2w_facts((1, 1, D(2026, 3, 2))), on)
    c1d15 = calendar.visit("C1D15")
    assert (c1d15.target, c1d15.earliest, c1d15.latest) == (
        D(2026, 3, 16),
        D(2026, 3, 13),
        D(2026, 3, 19),
    )
    assert c1d15.status is status


def test_q2w_day_15_dose_and_the_next_cycle() -> None:
    facts = q2w_facts((1, 1, D(2026, 3, 2)), (1, 15, D(2026, 3, 20)), (2, 1, D(2026, 4, 1)))
    calendar = subject_calendar(q2w_schedule(), facts, D(2026, 4, 2))
    c1d15 = calendar.visit("C1D15")
    assert (c1d15.status, c1d15.out_of_window) == (VisitStatus.DONE, True)  # 03-20 > 03-19
    assert calendar.visit("C1D8").target == D(2026, 3, 9)
    assert calendar.visit("C2D1").target == D(2026, 3, 30)  # 28 days after C1D1
    assert calendar.visit("C2D15").target == D(2026, 4, 15)  # actual C2D1 04-01 + 14
    assert calendar.visit("C3D1").target == D(2026, 4, 29)  # actual C2D1 + 28
    assert "C2D8" not in calendar.codes  # Day 8 is Cycle 1 only


# --- End of treatment, safety and survival follow-up -------------------------------------------

EOT = D(2026, 3, 10)


def ended(**more) -> SubjectVisitFacts:
    return q3w_facts(
        (1, C1D1), (2, D(2026, 2, 2)), (3, D(2026, 2, 23)), end_of_treatment_on=EOT, **more
    )


def test_end_of_treatment_and_safety_follow_up() -> None:
    schedule = q3w_schedule(safety_follow_up_days=(30, 90))
    calendar = subject_calendar(schedule, ended(), D(2026, 3, 12))
    eot = calendar.visit("EOT")
    assert (eot.target, eot.earliest, eot.latest, eot.status) == (
        EOT,
        EOT,
        D(2026, 3, 17),
        VisitStatus.DUE,
    )
    sfu30 = calendar.visit("SFU30")  # last dose 02-23 + 30 days
    assert (sfu30.target, sfu30.earliest, sfu30.latest) == (
        D(2026, 3, 25),
        D(2026, 3, 18),
        D(2026, 4, 1),
    )
    assert calendar.visit("SFU90").target == D(2026, 5, 24)  # 02-23 + 90 days
    # No more treatment visits after the end of treatment: C4D1 (03-16) and SCAN2 (04-06) go.
    assert "C4D1" not in calendar.codes and "SCAN2" not in calendar.codes
    assert "SCAN1" in calendar.codes  # 02-23, before the end of treatment


def test_survival_follow_up_every_12_weeks_up_to_2_5_years() -> None:
    calendar = subject_calendar(q3w_schedule(), ended(), D(2026, 3, 12))
    # Enrolled 2026-01-09: horizon 30 months later, 2028-07-09.
    assert calendar.horizon == D(2028, 7, 9)
    survival = [visit for visit in calendar.visits if visit.code.startswith("SURV")]
    # EOT 2026-03-10 + 84 k days: k = 10 is 840 days = 2028-06-27; k = 11 (2028-09-19) is after.
    assert len(survival) == 10
    assert survival[0].target == D(2026, 6, 2)
    assert survival[-1].target == D(2028, 6, 27)
    gaps = {b.target - a.target for a, b in zip(survival, survival[1:], strict=False)}
    assert gaps == {timedelta(weeks=12)}


def test_survival_statuses_and_leaving_the_study() -> None:
    facts = ended(visits=(VisitRecord("SURV1", done_on=D(2026, 6, 5)),))
    calendar = subject_calendar(q3w_schedule(), facts, D(2026, 9, 10))
    assert calendar.visit("SURV1").status is VisitStatus.DONE  # window 05-26..06-09
    assert calendar.visit("SURV2").status is VisitStatus.OVERDUE  # 08-25, window to 09-01
    assert calendar.visit("SURV3").status is VisitStatus.NOT_YET_DUE  # 11-17
    missed = ended(visits=(VisitRecord("SURV2", not_done=True),))
    assert subject_calendar(q3w_schedule(), missed, D(2026, 9, 10)).visit("SURV2").status is (
        VisitStatus.MISSED
    )
    # Died 2027-01-15: SURV1-3 (06-02, 08-25, 11-17) stay, SURV4 (2027-02-09) is not expected.
    dead = ended(off_study_on=D(2027, 1, 15))
    codes = subject_calendar(q3w_schedule(), dead, D(2027, 2, 1)).codes
    assert [code for code in codes if code.startswith("SURV")] == ["SURV1", "SURV2", "SURV3"]


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (D(2026, 1, 9), 30, D(2028, 7, 9)),
        (D(2026, 8, 31), 6, D(2027, 2, 28)),  # no 31 February: the month's last day
        (D(2027, 8, 31), 6, D(2028, 2, 29)),  # leap year
        (D(2026, 12, 15), 1, D(2027, 1, 15)),
    ],
)
def test_add_months(day, months, expected) -> None:
    assert add_months(day, months) == expected


# --- refused input -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("facts", "message"),
    [
        (SubjectVisitFacts(CONSENT, doses=(DoseGiven(1, 8, C1D1),)),
         r"Cycle 1 Day 8 is not a dosing day of the Q3W schedule"),
        (SubjectVisitFacts(CONSENT, doses=(DoseGiven(1, 1, D(2026, 1, 1)),)), "before consent"),
        (SubjectVisitFacts(CONSENT, doses=(DoseGiven(1, 1, C1D1), DoseGiven(2, 1, C1D1))),
         "Cycle 2 Day 1 .* is not after Cycle 1 Day 1"),
        (SubjectVisitFacts(CONSENT, doses=(DoseGiven(1, 1, C1D1),), end_of_treatment_on=D(2026, 1, 11)),
         "end of treatment 2026-01-11 is before the last dose 2026-01-12"),
        (SubjectVisitFacts(CONSENT, visits=(VisitRecord("C9D3", done_on=C1D1),)),
         "visit record.* C9D3: no such visit"),
        (SubjectVisitFacts(CONSENT, doses=(DoseGiven(1, 1, C1D1), DoseGiven(1, 1, D(2026, 1, 13)))),
         "Cycle 1 Day 1: more than one dose recorded"),
        (SubjectVisitFacts(CONSENT, visits=(VisitRecord("SCR", done_on=CONSENT),
                                            VisitRecord("SCR", not_done=True))),
         "visit SCR: recorded more than once"),
    ],
)  # fmt: skip
def test_inconsistent_facts_are_refused(facts, message) -> None:
    with pytest.raises(VisitsInputError, match=message):
        subject_calendar(q3w_schedule(), facts, D(2026, 2, 1))


def test_unscheduled_visits_are_allowed_and_a_record_needs_a_date_or_not_done() -> None:
    facts = SubjectVisitFacts(CONSENT, visits=(VisitRecord("UNS1", done_on=D(2026, 1, 5)),))
    assert subject_calendar(q3w_schedule(), facts, D(2026, 1, 6)).codes == ("SCR",)
    with pytest.raises(VisitsInputError, match="either the date it was done or that it was not"):
        VisitRecord("C1D8")


def test_schedule_definition_is_checked() -> None:
    with pytest.raises(VisitsInputError, match="cycle day 22 is outside the 21-day cycle"):
        q3w_schedule(cycle_visits=(CycleVisit(1, dose=True), CycleVisit(22)))
    with pytest.raises(VisitsInputError, match="every cycle needs a Day 1 visit"):
        q3w_schedule(cycle_visits=(CycleVisit(1, first_cycle_only=True),))
