"""Biomarker results, units, change from baseline and BLQ treatment (docs/pharmacology.md §5)."""

from __future__ import annotations

import pytest

from pharmacology.rules.biomarkers import (
    BiomarkerResult,
    BiomarkerSettings,
    BlqTreatment,
    Quantification,
    changes_from_baseline,
    convert,
    summarise_values,
)
from pharmacology.rules.errors import PharmacologyInputError


def il6(timepoint: str, day: float, reported: str, baseline: bool = False, **kw: object):
    fields = {"unit": "pg/mL", "lloq": 1.5, "uloq": 500.0, **kw}
    return BiomarkerResult(
        "101-001",
        "IL-6",
        timepoint,
        day,
        reported,
        baseline=baseline,
        **fields,  # type: ignore[arg-type]
    )


def test_value_as_reported_and_number_empty_below_lloq() -> None:
    blq = il6("C1D1 pre-dose", 0, "<LLOQ", baseline=True)
    assert (blq.reported, blq.number, blq.lloq) == ("<LLOQ", None, 1.5)
    assert blq.quantification is Quantification.BELOW_LLOQ
    above = il6("C1D1 EOI", 0.02, ">ULOQ")
    assert (above.number, above.quantification) == (None, Quantification.ABOVE_ULOQ)
    assert il6("C1D2", 1, "12.5").number == 12.5


def test_units_convert_and_unknown_units_are_refused() -> None:
    assert convert(1.2, "ng/mL", "pg/mL") == pytest.approx(1200)
    assert convert(250, "pg/mL", "ng/mL") == pytest.approx(0.25)
    with pytest.raises(PharmacologyInputError, match="'mg/dL' is not one of pg/mL, ng/mL"):
        convert(1, "mg/dL", "pg/mL")
    with pytest.raises(PharmacologyInputError, match="unit 'IU/mL'"):
        il6("C1D1", 0, "5", unit="IU/mL")


@pytest.mark.parametrize(
    ("reported", "kw", "message"),
    [
        pytest.param("1.0", {}, "below the LLOQ 1.5; report it as '<LLOQ'", id="number-under-lloq"),
        pytest.param("600", {}, "above the ULOQ 500", id="number-over-uloq"),
        pytest.param("high", {}, "neither a number", id="text"),
        pytest.param("", {}, "empty result", id="empty"),
        pytest.param("5", {"lloq": 0.0}, "lloq must be positive", id="zero-lloq"),
    ],
)
def test_inconsistent_results_are_refused(reported: str, kw: dict[str, object], message: str):
    with pytest.raises(PharmacologyInputError, match=message):
        il6("C1D2", 1, reported, **kw)


def test_diluted_reassay_may_exceed_uloq() -> None:
    assert il6("C1D1 EOI", 0.02, "1250", diluted=True).number == 1250


RESULTS = [
    il6("C1D1 pre-dose", 0, "4.0", baseline=True),
    il6("C1D1 EOI", 0.02, "40.0"),
    il6("C1D2", 1, "<LLOQ"),
    BiomarkerResult("101-001", "sCD80", "C1D1 pre-dose", 0, "0.8", "ng/mL", 0.1, baseline=True),
    BiomarkerResult("101-001", "sCD80", "C1D8", 7, "1.6", "ng/mL", 0.1),
]


@pytest.mark.parametrize(
    ("treatment", "blq_value", "blq_change", "blq_fold"),
    [
        pytest.param("exclude", None, None, None, id="exclude"),
        pytest.param("zero", 0.0, -4.0, 0.0, id="zero"),
        pytest.param("half LLOQ", 0.75, -3.25, 0.1875, id="half-lloq"),
    ],
)
def test_change_from_baseline_with_each_blq_treatment(
    treatment: str, blq_value: float | None, blq_change: float | None, blq_fold: float | None
) -> None:
    changes = {
        (c.analyte, c.timepoint): c
        for c in changes_from_baseline(RESULTS, BiomarkerSettings(blq_treatment=treatment))
    }
    eoi = changes["IL-6", "C1D1 EOI"]
    assert (eoi.baseline, eoi.change, eoi.fold_change) == (4.0, 36.0, 10.0)
    blq = changes["IL-6", "C1D2"]
    assert (blq.reported, blq.value, blq.change, blq.fold_change) == (
        "<LLOQ", blq_value, blq_change, blq_fold,
    )  # fmt: skip
    assert blq.blq_treatment is BlqTreatment(treatment)
    cd80 = changes["sCD80", "C1D8"]  # ng/mL results reported in pg/mL
    assert (cd80.value, cd80.baseline, cd80.unit) == (1600.0, 800.0, "pg/mL")
    assert cd80.fold_change == pytest.approx(2.0)


def test_no_baseline_gives_no_change() -> None:
    [change] = changes_from_baseline([il6("C1D2", 1, "8.0")])
    assert change.change is None and "no baseline" in change.note


def test_blq_baseline_treated_as_zero_has_no_fold_change() -> None:
    results = [il6("pre", 0, "<LLOQ", baseline=True), il6("EOI", 0.02, "30")]
    [change] = changes_from_baseline(results, BiomarkerSettings(blq_treatment="zero"))
    assert (change.change, change.fold_change) == (30.0, None)
    assert "no fold change" in change.note


@pytest.mark.parametrize(
    ("treatment", "n", "mean"),
    [("exclude", 2, 6.0), ("zero", 3, 4.0), ("half LLOQ", 3, 4.25)],
)
def test_summary_reports_its_blq_rule(treatment: str, n: int, mean: float) -> None:
    results = [
        BiomarkerResult(s, "IL-6", "C1D2", 1, r, "pg/mL", 1.5)
        for s, r in (("1", "4.0"), ("2", "8.0"), ("3", "<LLOQ"))
    ]
    summary = summarise_values("IL-6", "C1D2", results, BiomarkerSettings(blq_treatment=treatment))
    assert (summary.n_results, summary.n_below_lloq, summary.n) == (3, 1, n)
    assert summary.mean == pytest.approx(mean)
    assert summary.blq_treatment is BlqTreatment(treatment)


def test_summary_refuses_mixed_timepoints() -> None:
    with pytest.raises(PharmacologyInputError, match="got a result of IL-6 at C1D1 EOI"):
        summarise_values("IL-6", "C1D2", [RESULTS[1]])


def test_change_summary_of_one_group() -> None:
    from pharmacology.rules.biomarkers import summarise_changes

    def result(subject: str, day: float, reported: str, baseline: bool = False) -> BiomarkerResult:
        return BiomarkerResult(
            subject=subject, analyte="IL6", timepoint="pre-dose" if baseline else "6 h", day=day,
            reported=reported, unit="pg/mL", lloq=1.5, baseline=baseline,
        )  # fmt: skip

    changes = changes_from_baseline(
        [
            result("A", -0.02, "4", baseline=True), result("A", 0.25, "12"),
            result("B", -0.02, "10", baseline=True), result("B", 0.25, "15"),
            result("C", -0.02, "<LLOQ", baseline=True), result("C", 0.25, "9"),
        ]
    )  # fmt: skip
    summary = summarise_changes("Dose level 1", changes)
    # A: +8 (x3), B: +5 (x1.5), C: no baseline value (BLQ left out): no change.
    assert (summary.n, summary.mean_change, summary.n_fold) == (2, 6.5, 2)
    assert summary.median_fold == 2.25 and (summary.min_fold, summary.max_fold) == (1.5, 3.0)
    assert summary.unit == "pg/mL" and summary.blq_treatment == "exclude"
