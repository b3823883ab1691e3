"""Grade 4 neutropenia lasting more than N days inside the DLT window (docs/visits.md §5).

Grade 4 = "<500/mm3; <0.5 x 10e9 /L" (NCI CTCAE v5.0, Neutrophil count decreased). An episode
starts at the first grade 4 result dated inside the window and lasts until the first later result
that is not grade 4; "more than 7 days" is a duration of 8 days or more.
"""

from __future__ import annotations

from datetime import date

import pytest

from visits.rules import (
    DurationOutcome,
    GapPolicy,
    LabResult,
    NeutropeniaDurationSettings,
    NormalRange,
    VisitsInputError,
    grade4_neutropenia_duration,
)

START, END = date(2026, 1, 5), date(2026, 1, 25)  # Q3W window, Day 1 to Day 21 inclusive
RANGE = NormalRange("1.8", "7.5", "10^9/L")


def anc(day: date, value: str, unit: str = "10^9/L", ref: str = "") -> LabResult:
    reference = ref or f"ANC {day.isoformat()}"
    return LabResult("NEUT", value, unit, RANGE, sampled_on=day, reference=reference)


def flag(*results: LabResult, **settings):
    return grade4_neutropenia_duration(
        results,
        window_start=START,
        window_end=END,
        settings=NeutropeniaDurationSettings(**settings),
    )


def d(day: int, month: int = 1) -> date:
    return date(2026, month, day)


@pytest.mark.parametrize(
    ("results", "outcome", "days"),
    [
        # G4 on 01-10 and 01-14, first non-G4 on 01-17: 7 days, not more than 7.
        pytest.param((anc(d(10), "0.3"), anc(d(14), "0.4"), anc(d(17), "0.8")),
                     DurationOutcome.NOT_MET, 7, id="7-days-is-not-more-than-7"),
        # Recovery sample on 01-18: 8 days.
        pytest.param((anc(d(10), "0.3"), anc(d(14), "0.4"), anc(d(18), "0.8")),
                     DurationOutcome.POSSIBLE_DLT, 8, id="8-days-is-a-possible-dlt"),
        # 0.5 is grade 3 (the lower end of <1.0 - 0.5): it ends the episode.
        pytest.param((anc(d(10), "0.49"), anc(d(13), "0.5")),
                     DurationOutcome.NOT_MET, 3, id="0.5-ends-the-episode"),
        # Still grade 4 on the last sample, 6 days after the first: not over, not yet 8 days.
        pytest.param((anc(d(10), "0.3"), anc(d(13), "0.2"), anc(d(16), "0.4")),
                     DurationOutcome.UNRESOLVED, 6, id="unresolved-6-days"),
        # Still grade 4, 9 days after the first: already more than 7.
        pytest.param((anc(d(10), "0.3"), anc(d(13), "0.2"), anc(d(16), "0.4"), anc(d(19), "0.3")),
                     DurationOutcome.POSSIBLE_DLT, 9, id="unresolved-but-already-9-days"),
        # Onset on 01-24 (Day 20), recovery on 02-02 after the window ended: 9 days, counted.
        pytest.param((anc(d(24), "0.4"), anc(d(28), "0.3"), anc(d(2, 2), "1.1")),
                     DurationOutcome.POSSIBLE_DLT, 9, id="onset-in-window-measured-beyond"),
        # First grade 4 on 01-26, the day after the window: not a DLT-window event.
        pytest.param((anc(d(20), "1.0"), anc(d(26), "0.2"), anc(d(6, 2), "1.2")),
                     DurationOutcome.NO_GRADE_4, None, id="onset-after-window"),
        # /mm3 values: 499 is grade 4, 500 is not.
        pytest.param((anc(d(8), "499", "/mm3"), anc(d(12), "500", "/mm3")),
                     DurationOutcome.NOT_MET, 4, id="per-mm3-boundary"),
        pytest.param((anc(d(8), "1.9"), anc(d(12), "1.2")), DurationOutcome.NO_GRADE_4, None,
                     id="no-grade-4"),
    ],
)  # fmt: skip
def test_duration_outcome(results, outcome, days) -> None:
    result = flag(*results)
    assert result.outcome is outcome, result.text
    if days is not None:
        assert max(episode.days for episode in result.episodes) == days


def test_the_flag_names_the_results_it_used() -> None:
    result = flag(
        anc(d(6), "2.1", ref="lab-1"),
        anc(d(10), "0.3", ref="lab-2"),
        anc(d(14), "0.4", ref="lab-3"),
        anc(d(18), "0.8", ref="lab-4"),
    )
    assert result.possible_dlt
    (episode,) = result.episodes
    assert (episode.start, episode.last_grade4_on, episode.recovered_on) == (d(10), d(14), d(18))
    assert episode.results == (
        "lab-2 (2026-01-10, 0.3 10^9/L, grade 4)",
        "lab-3 (2026-01-14, 0.4 10^9/L, grade 4)",
        "lab-4 (2026-01-18, 0.8 10^9/L, grade 3)",
    )
    assert result.text.startswith(
        "possible DLT: grade 4 neutropenia from 2026-01-10 lasted 8 days (more than 7)"
    )


def test_gap_policy_decides_how_a_long_gap_counts() -> None:
    # One grade 4 sample on 01-10, next sample 01-20 not grade 4: 10 days apart.
    results = (anc(d(10), "0.3"), anc(d(20), "1.6"))
    literal = flag(*results)
    assert literal.outcome is DurationOutcome.POSSIBLE_DLT and literal.episodes[0].days == 10
    proven = flag(*results, gap_policy=GapPolicy.LAST_GRADE4_RESULT)
    assert proven.outcome is DurationOutcome.NOT_MET and proven.episodes[0].days == 0
    # Both say that the duration rests on samples further apart than the setting (3 days).
    for result in (literal, proven):
        assert result.episodes[0].long_gaps == ((d(10), d(20)),)
        assert "duration uncertain: samples more than 3 days apart" in result.text


def test_max_days_is_a_protocol_setting() -> None:
    results = (anc(d(10), "0.3"), anc(d(16), "0.9"))  # 6 days
    assert flag(*results).outcome is DurationOutcome.NOT_MET
    assert flag(*results, max_days=5).outcome is DurationOutcome.POSSIBLE_DLT


def test_two_episodes_the_long_one_flags() -> None:
    result = flag(
        anc(d(7), "0.4"), anc(d(9), "1.0"),  # 2 days
        anc(d(12), "0.2"), anc(d(16), "0.3"), anc(d(21), "0.7"),  # 9 days
    )  # fmt: skip
    assert [episode.days for episode in result.episodes] == [2, 9]
    assert result.possible_dlt and "from 2026-01-12 lasted 9 days" in result.text


def test_results_are_ordered_by_date_whatever_the_input_order() -> None:
    result = flag(anc(d(18), "0.8"), anc(d(10), "0.3"), anc(d(14), "0.4"))
    assert result.episodes[0].days == 8


def test_inconsistent_input_is_refused() -> None:
    with pytest.raises(VisitsInputError, match="has no sample date"):
        flag(LabResult("NEUT", "0.3", "10^9/L", RANGE))
    with pytest.raises(VisitsInputError, match="PLAT is not a NEUT result"):
        flag(LabResult("PLAT", "20", "10^9/L", sampled_on=d(10)))
    with pytest.raises(VisitsInputError, match="the end is before the start"):
        grade4_neutropenia_duration([], window_start=END, window_end=START)
