"""Kaplan-Meier against R survival (docs/efficacy.md §12).

The reference numbers are R 4.2.2 with survival 3.5-3 (reference/versions.csv), made by
reference/km_reference.R on datasets that package ships (reference/*.csv): veteran (ties; in
trt 2 S is exactly 0.5 on a flat stretch, median 52.5), aml (ties; S reaches 0; the "log" upper
band is not monotone), gbsg (an event and a censoring tied at the median, 1807), ovarian (rx 2:
median not reached), lung, and tail05 (four made-up subjects, S ends exactly at 0.5: print.survfit
says 2 where quantile.survfit says 3). Both conf.type "log" and "log-log".

R prints 17 significant digits; floats are compared within 1e-10, counts and times exactly.
"""

from __future__ import annotations

import csv
from fractions import Fraction
from pathlib import Path

import pytest

from efficacy.rules import ConfType, Observation, kaplan_meier, median_follow_up

REFERENCE = Path(__file__).parent / "reference"
TOLERANCE = 1e-10


def _read(name: str) -> list[dict[str, str]]:
    with (REFERENCE / name).open(newline="") as handle:
        return list(csv.DictReader(handle))


def _number(text: str) -> float | None:
    return None if text in ("NA", "Inf") else float(text)


def _time(text: str) -> Fraction | None:
    return None if text == "NA" else Fraction(text)


def _observations(dataset: str, subset: str) -> list[Observation]:
    rows = _read(f"{dataset}.csv")
    if subset != "all":
        group = subset.removeprefix("group=")
        rows = [row for row in rows if row["group"] == group]
    return [Observation(Fraction(row["time"]), row["status"] == "1") for row in rows]


def _groups() -> list[tuple[str, str, str]]:
    return [(row["dataset"], row["subset"], row["conf_type"]) for row in _read("km_medians.csv")]


def _close(ours: float | None, theirs: float | None) -> bool:
    if theirs is None:
        return ours is None
    return ours is not None and abs(ours - theirs) <= TOLERANCE


def test_reference_versions_are_recorded() -> None:
    versions = {row["item"]: row["version"] for row in _read("versions.csv")}
    assert versions["R"].startswith("R version 4.2.2")
    assert versions["survival"] == "3.5.3"


@pytest.mark.parametrize(("dataset", "subset", "conf_type"), _groups())
def test_every_step_of_the_curve_matches_survfit(dataset: str, subset: str, conf_type: str) -> None:
    curve = kaplan_meier(_observations(dataset, subset), conf_type=conf_type)
    expected = [
        row
        for row in _read("km_rows.csv")
        if (row["dataset"], row["subset"], row["conf_type"]) == (dataset, subset, conf_type)
    ]
    assert len(curve.rows) == len(expected)
    for ours, theirs in zip(curve.rows, expected, strict=True):
        where = f"{dataset} {subset} {conf_type} t={theirs['time']}"
        assert ours.time == Fraction(theirs["time"]), where
        assert (ours.n_risk, ours.n_event, ours.n_censor) == (
            int(theirs["n_risk"]),
            int(theirs["n_event"]),
            int(theirs["n_censor"]),
        ), where
        assert _close(float(ours.survival), _number(theirs["surv"])), where
        # R's std.err is Inf where S = 0; ours is None there.
        assert _close(ours.std_err_log, _number(theirs["std_err"])), where
        assert _close(ours.lower, _number(theirs["lower"])), where
        assert _close(ours.upper, _number(theirs["upper"])), where


@pytest.mark.parametrize(("dataset", "subset", "conf_type"), _groups())
def test_median_and_interval_match_print_survfit(dataset: str, subset: str, conf_type: str) -> None:
    (expected,) = [
        row
        for row in _read("km_medians.csv")
        if (row["dataset"], row["subset"], row["conf_type"]) == (dataset, subset, conf_type)
    ]
    observations = _observations(dataset, subset)
    curve = kaplan_meier(observations, conf_type=conf_type)
    assert (curve.n, curve.events) == (int(expected["n"]), int(expected["events"]))
    assert curve.median.estimate == _time(expected["median"])
    assert curve.median.lower == _time(expected["lcl"])
    assert curve.median.upper == _time(expected["ucl"])
    follow_up = median_follow_up(observations, conf_type=conf_type)
    assert follow_up.estimate == _time(expected["followup_median"])
    assert follow_up.lower == _time(expected["followup_lcl"])
    assert follow_up.upper == _time(expected["followup_ucl"])


@pytest.mark.parametrize(("dataset", "subset", "conf_type"), _groups())
def test_numbers_at_risk_and_survival_at_times_match_summary(
    dataset: str, subset: str, conf_type: str
) -> None:
    curve = kaplan_meier(_observations(dataset, subset), conf_type=conf_type)
    expected = [
        row
        for row in _read("km_at_times.csv")
        if (row["dataset"], row["subset"], row["conf_type"]) == (dataset, subset, conf_type)
    ]
    assert expected
    for theirs in expected:
        ours = curve.at(Fraction(theirs["time"]))
        where = f"{dataset} {subset} {conf_type} t={theirs['time']}"
        assert ours.n_risk == int(theirs["n_risk"]), where
        assert curve.at_risk(Fraction(theirs["time"])) == int(theirs["n_risk"]), where
        assert _close(float(ours.survival), _number(theirs["surv"])), where
        se = None if ours.std_err_log is None else float(ours.survival) * ours.std_err_log
        assert _close(se, _number(theirs["std_err"])), where
        assert _close(ours.lower, _number(theirs["lower"])), where
        assert _close(ours.upper, _number(theirs["upper"])), where


def test_exact_half_takes_the_midpoint_of_the_flat_stretch() -> None:
    # veteran, trt 2: S = 1/2 exactly from day 52 until the next death on day 53 (R: 52.5).
    curve = kaplan_meier(_observations("veteran", "group=2"))
    flat = [row for row in curve.rows if row.survival == Fraction(1, 2)]
    assert [row.time for row in flat] == [52]
    assert curve.median.estimate == Fraction(105, 2)


def test_tie_of_event_and_censoring_at_the_median() -> None:
    # gbsg: at day 1807 one recurrence and one censoring; the censored subject was at risk.
    curve = kaplan_meier(_observations("gbsg", "all"))
    (row,) = [row for row in curve.rows if row.time == 1807]
    assert (row.n_event, row.n_censor) == (1, 1)
    assert curve.median.estimate == 1807


def test_median_interval_follows_print_survfit_where_quantile_survfit_differs() -> None:
    # aml, conf.type "log": the upper band is 0.458 at day 45 and 0.462 at day 48 (it widens as
    # the risk set shrinks). print.survfit takes the first time the band is at or below 0.5
    # (45); quantile.survfit sorts the band values and gives 48. The project follows
    # print.survfit (docs/efficacy.md §12).
    (row,) = [
        r
        for r in _read("km_medians.csv")
        if (r["dataset"], r["subset"], r["conf_type"]) == ("aml", "all", "log")
    ]
    assert (row["ucl"], row["quantile_ucl"]) == ("45", "48")
    curve = kaplan_meier(_observations("aml", "all"), conf_type=ConfType.LOG)
    assert curve.median.upper == 45


def test_not_reached_is_none_and_printed_so() -> None:
    curve = kaplan_meier(_observations("ovarian", "group=2"))
    assert curve.median.estimate is None
    assert curve.median.lower == 475
    assert curve.median.upper is None
    assert "not reached" in curve.median.describe()
    assert "conf.type log" in curve.describe()
