"""ADA subject status and incidence (docs/pharmacology.md §4): one row per class, the titer
rise just below and at 4-fold under both comparisons, persistence, denominators."""

from __future__ import annotations

import pytest

from pharmacology.rules.ada import (
    OVERALL,
    AdaClass,
    AdaSample,
    AdaSettings,
    AdaSubject,
    Outcome,
    SampleStatus,
    incidence,
    subject_status,
)
from pharmacology.rules.errors import PharmacologyInputError

P, N = Outcome.POSITIVE, Outcome.NEGATIVE


def neg(day: float, base: bool = False) -> AdaSample:
    return AdaSample(f"d{day:g}", day, baseline=base, screening=N)


def unconfirmed(day: float) -> AdaSample:
    return AdaSample(f"d{day:g}", day, screening=P, confirmatory=N)


def pos(day: float, titer: float | None = None, nab: Outcome | None = None, base: bool = False):
    return AdaSample(
        f"d{day:g}", day, baseline=base, screening=P, confirmatory=P, titer=titer,
        neutralising=nab,
    )  # fmt: skip


def missing(day: float, base: bool = False) -> AdaSample:
    return AdaSample(f"d{day:g}", day, baseline=base)


FOLD = AdaSettings()
LOG10 = AdaSettings(boost_comparison="log10")
MISSING_NEGATIVE = AdaSettings(missing_baseline_negative=True)

# Days: C1D1 = day 0 (baseline pre-dose), then C2D1 21, C4D1 63, C8D1 147, EOT 170.
SCENARIOS = [
    # id, samples, settings, class, TE, persistent, transient, NAb
    ("negative", [neg(0, True), neg(21), neg(63), unconfirmed(147)], FOLD,
     AdaClass.NEGATIVE, False, False, False, False),
    ("induced-persistent-at-last", [neg(0, True), neg(21), pos(63, 50), pos(147, 100)], FOLD,
     AdaClass.TREATMENT_INDUCED, True, True, False, False),
    ("induced-single-middle-transient", [neg(0, True), pos(21, 50), neg(63), neg(147)], FOLD,
     AdaClass.TREATMENT_INDUCED, True, False, True, False),
    ("induced-two-positives-under-16-weeks-transient",
     [neg(0, True), pos(21, 50), pos(63, 50), neg(147)], FOLD,
     AdaClass.TREATMENT_INDUCED, True, False, True, False),
    ("induced-two-positives-16-weeks-apart-persistent",
     [neg(0, True), pos(21, 50), neg(63), pos(133, 50), neg(170)], FOLD,
     AdaClass.TREATMENT_INDUCED, True, True, False, False),
    ("induced-two-positives-a-day-under-16-weeks",
     [neg(0, True), pos(21, 50), neg(63), pos(132, 50), neg(170)], FOLD,
     AdaClass.TREATMENT_INDUCED, True, False, True, False),
    ("induced-with-nab", [neg(0, True), pos(21, 50, nab=P), pos(63, 100, nab=N)], FOLD,
     AdaClass.TREATMENT_INDUCED, True, True, False, True),
    ("baseline-unaffected", [pos(0, 100, base=True), pos(21, 200), pos(63, 100)], FOLD,
     AdaClass.TREATMENT_UNAFFECTED, False, False, False, False),
    ("baseline-unaffected-goes-negative", [pos(0, 100, base=True), neg(21), neg(63)], FOLD,
     AdaClass.TREATMENT_UNAFFECTED, False, False, False, False),
    ("boosted-4-fold", [pos(0, 100, base=True), pos(21, 400), neg(63)], FOLD,
     AdaClass.TREATMENT_BOOSTED, True, False, True, False),
    ("just-below-4-fold-not-boosted", [pos(0, 100, base=True), pos(21, 399), neg(63)], FOLD,
     AdaClass.TREATMENT_UNAFFECTED, False, False, False, False),
    ("boosted-4-fold-log10", [pos(0, 100, base=True), pos(21, 400), neg(63)], LOG10,
     AdaClass.TREATMENT_BOOSTED, True, False, True, False),
    # log10(3.99) = 0.6010 >= 0.60: admiral's log10 rule is slightly lenient below 4-fold.
    ("3.99-fold-boosted-on-log10", [pos(0, 100, base=True), pos(21, 399), neg(63)], LOG10,
     AdaClass.TREATMENT_BOOSTED, True, False, True, False),
    # log10(3.98) = 0.5999 < 0.60
    ("3.98-fold-not-boosted-on-log10", [pos(0, 100, base=True), pos(21, 398), neg(63)], LOG10,
     AdaClass.TREATMENT_UNAFFECTED, False, False, False, False),
    ("boosted-persistent-at-last", [pos(0, 100, base=True), pos(21, 200), pos(147, 800)], FOLD,
     AdaClass.TREATMENT_BOOSTED, True, True, False, False),
    ("no-baseline-not-evaluable", [missing(0, True), pos(21, 50)], FOLD,
     AdaClass.NOT_EVALUABLE, False, False, False, False),
    ("no-baseline-counted-negative", [missing(0, True), pos(21, 50)], MISSING_NEGATIVE,
     AdaClass.TREATMENT_INDUCED, True, True, False, False),
    ("no-post-baseline-not-evaluable", [neg(0, True), missing(21)], FOLD,
     AdaClass.NOT_EVALUABLE, False, False, False, False),
    ("unconfirmed-screen-is-negative", [neg(0, True), unconfirmed(21)], FOLD,
     AdaClass.NEGATIVE, False, False, False, False),
]  # fmt: skip


@pytest.mark.parametrize(
    ("samples", "settings", "ada_class", "emergent", "persistent", "transient", "nab"),
    [pytest.param(*row[1:], id=row[0]) for row in SCENARIOS],
)
def test_subject_status(
    samples: list[AdaSample],
    settings: AdaSettings,
    ada_class: AdaClass,
    emergent: bool,
    persistent: bool,
    transient: bool,
    nab: bool,
) -> None:
    status = subject_status(AdaSubject("101-001", "0.1 mg/kg Q3W", tuple(samples)), settings)
    assert status.ada_class is ada_class, status.reason
    assert status.evaluable is (ada_class is not AdaClass.NOT_EVALUABLE)
    assert status.treatment_emergent is emergent
    assert (status.persistent, status.transient) == (persistent, transient)
    assert status.nab_positive is nab


def test_every_class_is_covered_by_the_table() -> None:
    assert {row[3] for row in SCENARIOS} == set(AdaClass)


def test_onset_duration_and_titer() -> None:
    samples = (neg(0, True), neg(21), pos(63, 50), pos(147, 200), neg(170))
    status = subject_status(AdaSubject("101-001", "A", samples))
    assert (status.onset_day, status.duration_days, status.max_titer) == (63, 84, 200)
    assert status.emergent_samples == ("d63", "d147")
    assert status.transient  # 84 days < 16 weeks and the last sample is negative


def test_the_last_baseline_sample_counts() -> None:
    samples = (pos(-7, 100, base=True), neg(0, True), pos(21, 50))
    status = subject_status(AdaSubject("101-001", "A", samples))
    assert not status.baseline_positive
    assert status.ada_class is AdaClass.TREATMENT_INDUCED


def test_sample_tiers() -> None:
    assert neg(1).status is SampleStatus.NEGATIVE
    assert unconfirmed(1).status is SampleStatus.NEGATIVE
    assert pos(1).status is SampleStatus.POSITIVE
    assert AdaSample("x", 1, screening=P).status is SampleStatus.MISSING


@pytest.mark.parametrize(
    ("build", "message"),
    [
        pytest.param(lambda: AdaSample("x", 1, screening=N, confirmatory=P),
                     "only screen-positive samples are confirmed", id="confirm-a-negative"),
        pytest.param(lambda: AdaSample("x", 1, screening=P, confirmatory=N, titer=10),
                     "only confirmed positive samples are titered", id="titer-unconfirmed"),
        pytest.param(lambda: AdaSample("x", 1, screening=N, neutralising=P),
                     "tested for NAb", id="nab-on-negative"),
        pytest.param(lambda: AdaSample("x", 1, screening="weak"), "screening: 'weak'",
                     id="unknown-outcome"),
        pytest.param(lambda: AdaSample("x", 5, baseline=True, screening=N),
                     "baseline sample is taken before dosing", id="baseline-after-dosing"),
        pytest.param(lambda: pos(1, titer=0), "titer must be positive", id="zero-titer"),
        pytest.param(lambda: AdaSettings(boost_fold=1), "boost_fold", id="fold-1"),
    ],
)  # fmt: skip
def test_inconsistent_results_are_refused(build, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(PharmacologyInputError, match=message):
        build()


def test_incidence_names_its_denominators() -> None:
    subjects = [
        AdaSubject("1", "A", (neg(0, True), pos(21, 50, nab=P), pos(63, 50))),  # induced, NAb
        AdaSubject("2", "A", (neg(0, True), neg(21))),  # negative
        AdaSubject("3", "A", (pos(0, 100, base=True), pos(21, 100))),  # unaffected
        AdaSubject("4", "A", (missing(0, True), pos(21, 50))),  # not evaluable
        AdaSubject("5", "B", (pos(0, 100, base=True), pos(21, 800), neg(63))),  # boosted
        AdaSubject("6", "B", (neg(0, True), pos(21, 50), neg(63))),  # induced transient
    ]
    tables = {t.group: t for t in incidence(subject_status(s) for s in subjects)}
    a, b, overall = tables["A"], tables["B"], tables[OVERALL]
    assert (a.n_subjects, a.n_evaluable) == (4, 3)
    assert (a.ada_incidence.n, a.ada_incidence.denominator) == (1, 3)
    assert a.ada_incidence.denominator_name == "ADA-evaluable subjects"
    assert a.ada_incidence.percent == pytest.approx(100 / 3)
    assert (a.baseline_prevalence.n, a.baseline_prevalence.denominator) == (1, 3)
    assert a.baseline_prevalence.denominator_name == "subjects with a baseline result"
    assert (a.ada_prevalence.n, a.ada_prevalence.denominator) == (2, 3)
    assert (a.nab_among_te_ada.n, a.nab_among_te_ada.denominator) == (1, 1)
    assert a.nab_among_te_ada.denominator_name == "subjects with treatment-emergent ADA"
    assert (b.ada_incidence.n, b.ada_incidence.denominator) == (2, 2)
    assert (b.treatment_boosted.n, b.treatment_induced.n) == (1, 1)
    assert (b.transient.n, b.transient.denominator) == (2, 2)
    assert (overall.n_subjects, overall.n_evaluable, overall.ada_incidence.n) == (6, 5, 3)
    assert overall.ada_incidence.percent == pytest.approx(60.0)
    assert overall.persistent.n == 1  # subject 1, positive at the last sample


def test_incidence_of_an_empty_group_has_no_percent() -> None:
    subjects = [AdaSubject("4", "A", (missing(0, True), pos(21, 50)))]
    table = incidence(subject_status(s) for s in subjects)[0]
    assert table.ada_incidence.denominator == 0 and table.ada_incidence.percent is None


def test_incidence_refuses_a_repeated_subject() -> None:
    status = subject_status(AdaSubject("1", "A", (neg(0, True), neg(21))))
    with pytest.raises(PharmacologyInputError, match="repeated"):
        incidence([status, status])
