"""The chart geometry, from plain values (no database)."""

from datetime import date, timedelta

from monitoring import charts

LEVELS = [charts.LadderLevel(i, f"L{i}") for i in (1, 2, 3)]


def cohort(number, level, statuses, planned=3, status="closed", opened_by=""):
    subjects = tuple(charts.LadderSubject(f"S{number}{i}", s) for i, s in enumerate(statuses))
    return charts.LadderCohort(number, level, planned, status, subjects, opened_by)


def test_the_ladder_draws_each_step_and_the_recommended_one():
    cohorts = [
        cohort(1, 1, ["evaluable_no_dlt"], planned=1),
        cohort(2, 2, ["evaluable_no_dlt", "dlt", "evaluable_no_dlt"], opened_by="confirmed"),
        cohort(3, 2, ["pending", "not_dosed"], status="open", opened_by="confirmed"),
    ]
    ladder = charts.ladder_chart(
        "Q3W", LEVELS, cohorts, charts.LadderNext(1, 3, "de-escalate", awaiting_committee=True)
    )
    kinds = [(a.kind, a.proposed) for a in ladder.arrows]
    assert kinds == [("escalate", False), ("same", False), ("de-escalate", True)]
    by_status = {}
    for m in ladder.markers:
        by_status[m.status] = by_status.get(m.status, 0) + 1
    assert by_status == {
        "evaluable_no_dlt": 3,
        "dlt": 1,
        "pending": 1,
        "not_dosed": 1,
        "open_place": 1,  # cohort 3 has a free place
        "proposed": 3,
    }
    dlt = next(m for m in ladder.markers if m.status == "dlt")
    assert dlt.shape == "diamond" and "DLT" in dlt.title
    # Higher levels are drawn higher (smaller y).
    y = {row["label"]: row["y"] for row in ladder.rows}
    assert y["L3"] < y["L2"] < y["L1"]
    assert ladder.next_box is not None and "awaiting the committee" in ladder.next_box["title"]
    assert "Current recommendation: de-escalate" in ladder.description


def test_a_decision_about_a_level_highlights_its_row():
    ladder = charts.ladder_chart(
        "Q3W", LEVELS, [cohort(1, 2, ["dlt", "dlt"])], charts.LadderNext(1, 0, "MTD is L1", True)
    )
    assert ladder.next_box is None and ladder.highlight_row is not None
    assert ladder.highlight_row["title"] == "Recommendation: MTD is L1"


def test_the_timeline_clips_to_the_range_and_rings_dlts():
    today = date(2026, 3, 1)
    subject = charts.TimelineSubject(
        key=1,
        label="101-001",
        sublabel="site 101",
        status="dlt",
        status_label="DLT",
        window_start=date(2026, 2, 1),
        window_end=date(2026, 2, 21),
        today=today,
        doses=(charts.TimelineDose(date(2026, 2, 1), "C1D1", 1.0),),
        events=(
            charts.TimelineEvent(date(2026, 2, 5), None, 3, "Neutropenia", is_dlt=True),
            charts.TimelineEvent(date(2026, 2, 5), date(2026, 2, 8), 1, "Nausea"),
            charts.TimelineEvent(date(2026, 1, 20), None, 2, "Fatigue"),
        ),
    )
    groups = [charts.TimelineGroup("Cohort 1", (subject,))]
    chart = charts.timeline_chart(groups)
    assert chart.start == date(2026, 1, 18) and chart.end == date(2026, 3, 3)
    line = next(x for x in chart.lines if x["kind"] == "subject")
    assert [e["grade"] for e in line["events"]] == [2, 3, 1]
    same_day = [e for e in line["events"] if e["grade"] in (1, 3)]
    assert same_day[0]["x"] != same_day[1]["x"]  # two events on one day do not overlap
    assert [e["is_dlt"] for e in line["events"]] == [False, True, False]
    assert chart.today_line is not None and "2026-03-01" in chart.today_line["label"]
    clipped = charts.timeline_chart(groups, start=date(2026, 2, 1), end=date(2026, 2, 10))
    line = next(x for x in clipped.lines if x["kind"] == "subject")
    assert [e["grade"] for e in line["events"]] == [3, 1]  # the January event is outside
    assert clipped.today_line is None
    assert line["band"]["x"] == clipped.plot_left
    assert charts.timeline_chart([]) is None
    assert all(
        t["label"].split()[1] in ("Feb", "Jan", "Mar") for t in chart.ticks
    )  # weekly ticks: day and month


def test_long_ranges_tick_by_month():
    start = date(2025, 1, 15)
    ticks = charts._ticks(start, start + timedelta(days=700))
    assert ticks[0] == date(2025, 2, 1) and all(t.day == 1 for t in ticks)
    assert len(ticks) <= 13
