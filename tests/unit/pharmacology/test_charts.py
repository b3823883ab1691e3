"""The server-drawn SVG plots: BLQ off log axes, scatter without lines, log-log axes."""

from __future__ import annotations

from types import SimpleNamespace

from pharmacology.charts import Point, Series, line_chart
from pharmacology.rules import DoseExposure, dose_proportionality


def test_blq_points_are_open_on_linear_and_left_off_log_axes() -> None:
    series = [Series("101-001", (Point(0, None, "pre-dose: BLQ"), Point(2, 2.0, "2 h"),
                                 Point(24, 1.0, "24 h")))]  # fmt: skip
    linear = line_chart(series, title="t", x_label="h", y_label="c")
    assert linear.count("<circle") == 3 and 'fill="#fff"' in linear and "<polyline" in linear
    log = line_chart(series, title="t", x_label="h", y_label="c", log_y=True)
    assert log.count("<circle") == 2 and "1 BLQ point(s) not drawn on the log axis" in log
    assert "(log scale)" in log


def test_titles_are_escaped_and_scatter_has_no_line() -> None:
    svg = line_chart(
        [Series("<b>", (Point(0.01, 5, "a & b"), Point(0.1, 4, "c")), connect=False)],
        title="x<y", x_label="dose", y_label="v", log_x=True, log_y=True,
    )  # fmt: skip
    assert "<polyline" not in svg and "&lt;b&gt;" in svg and "a &amp; b" in svg
    assert ">0.01<" in svg and ">0.1<" in svg  # decades on the log x axis
    assert line_chart([], title="t", x_label="x", y_label="y").count("No data") == 1


def test_dose_normalised_chart_of_the_pk_page() -> None:
    from pharmacology.views import _proportionality_charts

    def analysis(subject: str, dose: float, cmax: float) -> SimpleNamespace:
        return SimpleNamespace(
            subject=subject, dose_per_kg=dose, parameters={"cmax": {"value": cmax}}
        )

    rows = [analysis("A", 0.01, 0.2), analysis("B", 0.1, 2.5), analysis("C", 0.45, 12.0)]
    fit = dose_proportionality(
        "cmax",
        [DoseExposure(r.subject, r.dose_per_kg, r.parameters["cmax"]["value"]) for r in rows],
    )
    data = {"proportionality": [fit], "levels": [SimpleNamespace(nca=rows)]}
    [(title, svg)] = _proportionality_charts(data)
    assert title.startswith("cmax/dose against dose (log-log), slope b = ")
    assert svg.count("<circle") == 6  # 3 subjects + 3 points of the power line
    assert svg.count("<polyline") == 1


def test_excluded_points_are_open_squares_off_the_line() -> None:
    series = [Series("101-001", (Point(0.5, 2.1, "EOI (excluded from the NCA: arm)", excluded=True),
                                 Point(2, 2.0, "2 h"), Point(24, 1.0, "24 h")))]  # fmt: skip
    svg = line_chart(series, title="t", x_label="h", y_label="c")
    assert svg.count('class="excluded"') == 1 and svg.count("<circle") == 2
    assert "excluded from the NCA: arm" in svg
    assert "1 point(s) excluded from the NCA (open squares)" in svg
    # The line joins the points used only: two of them.
    line = svg.split('<polyline points="')[1].split('"')[0]
    assert len(line.split()) == 2


def test_bars_carry_their_counts() -> None:
    from pharmacology.charts import Bar, bar_chart

    svg = bar_chart(
        [Bar("Dose level 1", 50.0, "1/2 (50.0%)"), Bar("Overall", None, "0/0")],
        title="ADA <incidence>", y_label="%", y_max=100,
    )  # fmt: skip
    assert svg.count('class="bar"') == 2 and "1/2 (50.0%)" in svg and "&lt;incidence&gt;" in svg
    assert ">100<" in svg  # the axis goes to 100%
    assert "No data" in bar_chart([], title="t", y_label="%")
