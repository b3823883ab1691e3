"""ORR and DCR with exact Clopper-Pearson intervals (docs/efficacy.md §11).

The intervals are checked against R 4.2.2 binom.test (reference/binom_reference.R and its output
reference/binom_test.csv), within 1e-10.
"""

from __future__ import annotations

import csv
from datetime import date, timedelta
from fractions import Fraction
from pathlib import Path

import pytest

from efficacy.rules import (
    EfficacyInputError,
    RecistSettings,
    Response,
    TimePointResponse,
    best_overall_response,
    clopper_pearson,
    disease_control_rate,
    objective_response_rate,
)

REFERENCE = Path(__file__).parent / "reference"
FIRST_DOSE = date(2026, 1, 5)


def _binom_rows() -> list[dict[str, str]]:
    with (REFERENCE / "binom_test.csv").open(newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.parametrize(
    "row", _binom_rows(), ids=lambda r: f"{r['x']}of{r['n']}@{r['conf_level']}"
)
def test_clopper_pearson_matches_r_binom_test(row: dict[str, str]) -> None:
    interval = clopper_pearson(int(row["x"]), int(row["n"]), float(row["conf_level"]))
    assert interval.lower == pytest.approx(float(row["lower"]), abs=1e-10)
    assert interval.upper == pytest.approx(float(row["upper"]), abs=1e-10)


def test_reference_grid_covers_the_edges() -> None:
    rows = _binom_rows()
    assert len(rows) >= 100
    assert any(r["x"] == "0" for r in rows) and any(r["x"] == r["n"] for r in rows)


def _bor(*sequence: tuple[int, str], settings: RecistSettings | None = None):
    """A best overall response from (study day, response) pairs."""
    points = [
        TimePointResponse(FIRST_DOSE + timedelta(days=day - 1), Response(response))
        for day, response in sequence
    ]
    return best_overall_response(settings or RecistSettings(), points, first_dose_on=FIRST_DOSE)


# Ten treated subjects with measurable disease (the default denominator of docs/efficacy.md §11).
COHORT = {
    "101-001": _bor((43, "PR"), (85, "PR")),  # confirmed PR
    "101-002": _bor((43, "CR"), (85, "CR")),  # confirmed CR
    "101-003": _bor((43, "PR"), (64, "PD")),  # unconfirmed PR, day 43 >= 42: SD
    "101-004": _bor((43, "SD"), (85, "PD")),  # SD
    "101-005": _bor((22, "SD"), (43, "PD")),  # SD before day 43: PD
    "101-006": _bor(
        (43, "PD"),
    ),
    "101-007": _bor(
        (43, "NE"),
    ),
    "101-008": _bor(),  # no post-baseline assessment: MISSING, still in the denominator
    "101-009": _bor((22, "PR"), (43, "SD"), (85, "PD")),  # PR then SD: SD
    "101-010": _bor(
        (43, "NON-CR/NON-PD"),
    ),
}


def test_cohort_best_responses_are_as_table_3() -> None:
    assert [b.response for b in COHORT.values()] == [
        Response.PR, Response.CR, Response.SD, Response.SD, Response.PD,
        Response.PD, Response.NE, Response.MISSING, Response.SD, Response.NON_CR_NON_PD,
    ]  # fmt: skip


def test_orr_counts_confirmed_cr_and_pr_over_the_named_denominator() -> None:
    rate = objective_response_rate(COHORT, denominator_name="treated, measurable disease")
    assert (rate.numerator, rate.denominator) == (2, 10)
    assert rate.subjects == ("101-001", "101-002")
    assert rate.proportion == Fraction(1, 5)
    # R: binom.test(2, 10)$conf.int = 0.02521073 0.55609546
    assert rate.interval.lower == pytest.approx(0.025210726326833, abs=1e-10)
    assert rate.interval.upper == pytest.approx(0.556095462307641, abs=1e-10)
    text = rate.describe()
    assert "ORR 2/10 (20.0%" in text and "denominator: treated, measurable disease" in text
    assert "confirmed CR or PR" in rate.definition


def test_dcr_counts_sd_meeting_the_minimum_and_optionally_non_cr_non_pd() -> None:
    rate = disease_control_rate(COHORT, denominator_name="treated")
    assert rate.subjects == ("101-001", "101-002", "101-003", "101-004", "101-009")
    assert "at least 42 days after the first dose" in rate.definition
    wider = disease_control_rate(COHORT, denominator_name="treated", include_non_cr_non_pd=True)
    assert wider.numerator == 6 and "101-010" in wider.subjects
    assert "non-CR/non-PD" in wider.definition


def test_unconfirmed_rates_say_so() -> None:
    settings = RecistSettings(confirmation_required=False)
    best = {"101-001": _bor((43, "PR"), (64, "PD"), settings=settings)}
    rate = objective_response_rate(best, denominator_name="treated")
    assert rate.numerator == 1 and rate.definition.startswith("unconfirmed")


def test_mixed_settings_are_refused() -> None:
    best = {
        "101-001": _bor((43, "PR"), (85, "PR")),
        "101-002": _bor((43, "PR"), settings=RecistSettings(confirmation_required=False)),
    }
    with pytest.raises(EfficacyInputError, match="different RECIST settings"):
        objective_response_rate(best, denominator_name="treated")


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: objective_response_rate({}, denominator_name="treated"), "holds no subject"),
        (lambda: objective_response_rate(COHORT, denominator_name=" "), "denominator named"),
        (lambda: clopper_pearson(0, 0), "empty"),
        (lambda: clopper_pearson(4, 3), "4 responders out of 3"),
        (lambda: clopper_pearson(1, 3, confidence=1.5), "confidence"),
    ],
)
def test_bad_rate_inputs_are_refused(call, message: str) -> None:
    with pytest.raises(EfficacyInputError, match=message):
        call()
