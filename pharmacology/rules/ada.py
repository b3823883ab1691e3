"""Anti-drug antibodies: tiered sample results to subject status and incidence
(docs/pharmacology.md §4).

Each sample goes through the tiers of Shankar et al. (AAPS J 2014;16:658-673) and the FDA
guidance on immunogenicity assays (2019): a screening assay, a confirmatory assay for screen
positives (confirmed positive = ADA positive), a titer for confirmed positives and a
neutralising (NAb) assay. The subject classes follow Shankar et al. as operationalised by the
pharmaverse admiral ADAB template (baseline positive, treatment-induced, treatment-boosted,
treatment-unaffected, persistent and transient). Times are actual days since the first dose.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from .errors import PharmacologyInputError, as_choice, require_finite

ADA_VERSION = "pharmacology-ada 1"
OVERALL = "Overall"


class Outcome(StrEnum):
    POSITIVE = "positive"
    NEGATIVE = "negative"


class SampleStatus(StrEnum):
    POSITIVE = "positive"  # screen and confirmatory positive
    NEGATIVE = "negative"  # screen negative, or screen positive and not confirmed
    MISSING = "missing"  # no valid result


class BoostComparison(StrEnum):
    FOLD = "fold"  # titer >= fold x baseline titer
    LOG10 = "log10"  # log10(titer) - log10(baseline titer) >= log10 rise (admiral: 0.60)


def _outcome(value: Outcome | str | None, name: str) -> Outcome | None:
    return None if value is None else as_choice(Outcome, value, name)


@dataclass(frozen=True)
class AdaSample:
    """One ADA sample's tier results. `baseline` marks a pre-dose sample (before the first
    dose); `titer` is the reciprocal dilution of a confirmed positive (e.g. 400)."""

    sample_id: str
    day: float
    baseline: bool = False
    screening: Outcome | None = None
    confirmatory: Outcome | None = None
    titer: float | None = None
    neutralising: Outcome | None = None

    def __post_init__(self) -> None:
        label = f"ADA sample {self.sample_id or self.day!r}"
        require_finite(self.day, f"{label}: day")
        for name in ("screening", "confirmatory", "neutralising"):
            object.__setattr__(self, name, _outcome(getattr(self, name), f"{label}: {name}"))
        if self.baseline and self.day > 0:
            raise PharmacologyInputError(f"{label}: a baseline sample is taken before dosing")
        if self.confirmatory is not None and self.screening is not Outcome.POSITIVE:
            raise PharmacologyInputError(
                f"{label}: confirmatory: only screen-positive samples are confirmed"
            )
        confirmed = self.confirmatory is Outcome.POSITIVE
        if self.titer is not None:
            require_finite(self.titer, f"{label}: titer")
            if not confirmed:
                raise PharmacologyInputError(
                    f"{label}: titer: only confirmed positive samples are titered"
                )
            if self.titer <= 0:
                raise PharmacologyInputError(f"{label}: titer must be positive")
        if self.neutralising is not None and not confirmed:
            raise PharmacologyInputError(
                f"{label}: neutralising: only confirmed positive samples are tested for NAb"
            )

    @property
    def status(self) -> SampleStatus:
        if self.screening is Outcome.NEGATIVE:
            return SampleStatus.NEGATIVE
        if self.screening is Outcome.POSITIVE and self.confirmatory is not None:
            return (
                SampleStatus.POSITIVE
                if self.confirmatory is Outcome.POSITIVE
                else SampleStatus.NEGATIVE
            )
        return SampleStatus.MISSING


@dataclass(frozen=True)
class AdaSubject:
    subject: str
    group: str  # cohort or regimen, for incidence tables
    samples: tuple[AdaSample, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "samples", tuple(sorted(self.samples, key=lambda s: s.day)))
        if not self.subject:
            raise PharmacologyInputError("ADA subject: a subject is needed")


@dataclass(frozen=True)
class AdaSettings:
    boost_comparison: BoostComparison = BoostComparison.FOLD
    boost_fold: float = 4.0
    boost_log10_rise: float = 0.60
    missing_baseline_negative: bool = False
    persistence_weeks: float = 16.0

    def __post_init__(self) -> None:
        object.__setattr__(
            self,
            "boost_comparison",
            as_choice(BoostComparison, self.boost_comparison, "boost_comparison"),
        )
        if self.boost_fold <= 1:
            raise PharmacologyInputError("boost_fold: must be above 1")
        if self.boost_log10_rise <= 0:
            raise PharmacologyInputError("boost_log10_rise: must be positive")
        if self.persistence_weeks <= 0:
            raise PharmacologyInputError("persistence_weeks: must be positive")

    def boosted(self, titer: float, baseline_titer: float) -> bool:
        if self.boost_comparison is BoostComparison.FOLD:
            return titer >= self.boost_fold * baseline_titer
        return math.log10(titer) - math.log10(baseline_titer) >= self.boost_log10_rise

    def describe_boost(self) -> str:
        if self.boost_comparison is BoostComparison.FOLD:
            return f"titer >= {self.boost_fold:g} x baseline"
        return f"log10 titer rise >= {self.boost_log10_rise:g}"


class AdaClass(StrEnum):
    NOT_EVALUABLE = "not evaluable"
    NEGATIVE = "negative"  # baseline negative (or missing, per setting), no positive after
    TREATMENT_INDUCED = "treatment-induced"
    TREATMENT_BOOSTED = "treatment-boosted"
    TREATMENT_UNAFFECTED = "treatment-unaffected"


@dataclass(frozen=True)
class AdaStatus:
    """One subject's derived ADA status. `reason` explains the class in words."""

    subject: str
    group: str
    evaluable: bool
    has_baseline: bool
    baseline_positive: bool
    ada_class: AdaClass
    treatment_emergent: bool
    persistent: bool
    transient: bool
    positive_any_time: bool
    nab_positive: bool
    onset_day: float | None
    duration_days: float | None
    max_titer: float | None
    emergent_samples: tuple[str, ...]
    reason: str
    version: str = ADA_VERSION

    @property
    def treatment_induced(self) -> bool:
        return self.ada_class is AdaClass.TREATMENT_INDUCED

    @property
    def treatment_boosted(self) -> bool:
        return self.ada_class is AdaClass.TREATMENT_BOOSTED

    @property
    def treatment_unaffected(self) -> bool:
        return self.ada_class is AdaClass.TREATMENT_UNAFFECTED


def subject_status(subject: AdaSubject, settings: AdaSettings | None = None) -> AdaStatus:
    """Classify one subject (docs/pharmacology.md §4.2)."""
    settings = settings or AdaSettings()
    valid_baselines = [
        s for s in subject.samples if s.baseline and s.status is not SampleStatus.MISSING
    ]
    baseline = valid_baselines[-1] if valid_baselines else None  # the last before dosing
    post = [s for s in subject.samples if not s.baseline and s.status is not SampleStatus.MISSING]
    post = [s for s in post if s.day > 0]
    has_baseline = baseline is not None
    baseline_positive = baseline is not None and baseline.status is SampleStatus.POSITIVE
    baseline_counts = has_baseline or settings.missing_baseline_negative
    positives = [s for s in post if s.status is SampleStatus.POSITIVE]
    positive_any_time = baseline_positive or bool(positives)
    titers = [s.titer for s in positives if s.titer is not None]
    max_titer = max(titers) if titers else None
    nab_positive = any(s.neutralising is Outcome.POSITIVE for s in post)

    def status(ada_class: AdaClass, reason: str, emergent: Sequence[AdaSample] = ()) -> AdaStatus:
        persistent = transient = False
        onset = duration = None
        if emergent:
            first, last = emergent[0].day, emergent[-1].day
            onset, duration = first, last - first
            at_last = emergent[-1] is post[-1]
            long_enough = len(emergent) >= 2 and duration >= settings.persistence_weeks * 7
            persistent = at_last or long_enough
            transient = not persistent
        return AdaStatus(
            subject=subject.subject,
            group=subject.group,
            evaluable=ada_class is not AdaClass.NOT_EVALUABLE,
            has_baseline=has_baseline,
            baseline_positive=baseline_positive,
            ada_class=ada_class,
            treatment_emergent=bool(emergent),
            persistent=persistent,
            transient=transient,
            positive_any_time=positive_any_time,
            nab_positive=nab_positive,
            onset_day=onset,
            duration_days=duration,
            max_titer=max_titer,
            emergent_samples=tuple(s.sample_id for s in emergent),
            reason=reason,
        )

    if not baseline_counts:
        return status(AdaClass.NOT_EVALUABLE, "no valid baseline (pre-dose) result")
    if not post:
        return status(AdaClass.NOT_EVALUABLE, "no valid post-baseline result")
    if not baseline_positive:
        if not positives:
            return status(AdaClass.NEGATIVE, "no positive result after dosing")
        missing = "" if has_baseline else " (missing baseline counted as negative)"
        return status(
            AdaClass.TREATMENT_INDUCED,
            f"baseline negative{missing}, positive after dosing",
            positives,
        )
    assert baseline is not None
    if baseline.titer is None:
        return status(
            AdaClass.TREATMENT_UNAFFECTED,
            "baseline positive without a titer: a boost cannot be shown",
        )
    boosted = [
        s for s in positives if s.titer is not None and settings.boosted(s.titer, baseline.titer)
    ]
    if boosted:
        return status(
            AdaClass.TREATMENT_BOOSTED,
            f"baseline positive (titer {baseline.titer:g}); {settings.describe_boost()}",
            boosted,
        )
    return status(
        AdaClass.TREATMENT_UNAFFECTED,
        f"baseline positive (titer {baseline.titer:g}); no {settings.describe_boost()}",
    )


# --- incidence ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Proportion:
    n: int
    denominator: int
    denominator_name: str
    percent: float | None

    @classmethod
    def of(cls, n: int, denominator: int, name: str) -> Proportion:
        return cls(n, denominator, name, 100 * n / denominator if denominator else None)


@dataclass(frozen=True)
class AdaIncidence:
    """One group's immunogenicity table (docs/pharmacology.md §4.3)."""

    group: str
    n_subjects: int
    n_evaluable: int
    ada_incidence: Proportion  # TE-ADA / evaluable
    baseline_prevalence: Proportion  # baseline positive / with a baseline result
    ada_prevalence: Proportion  # positive at any time / evaluable
    treatment_induced: Proportion
    treatment_boosted: Proportion
    persistent: Proportion  # / TE-ADA
    transient: Proportion  # / TE-ADA
    nab_among_te_ada: Proportion  # NAb positive TE-ADA / TE-ADA
    settings: AdaSettings
    version: str = ADA_VERSION


def incidence(
    statuses: Iterable[AdaStatus], settings: AdaSettings | None = None
) -> tuple[AdaIncidence, ...]:
    """Per group, then overall, with every denominator named."""
    settings = settings or AdaSettings()
    rows = list(statuses)
    names = [s.subject for s in rows]
    if len(set(names)) != len(names):
        raise PharmacologyInputError("ADA incidence: a subject is repeated")
    groups = sorted({s.group for s in rows})
    tables = [_table(group, [s for s in rows if s.group == group], settings) for group in groups]
    tables.append(_table(OVERALL, rows, settings))
    return tuple(tables)


def _table(group: str, rows: list[AdaStatus], settings: AdaSettings) -> AdaIncidence:
    evaluable = [s for s in rows if s.evaluable]
    emergent = [s for s in evaluable if s.treatment_emergent]
    with_baseline = [s for s in rows if s.has_baseline]
    n_eval, n_te = len(evaluable), len(emergent)
    ev, te = "ADA-evaluable subjects", "subjects with treatment-emergent ADA"
    return AdaIncidence(
        group=group,
        n_subjects=len(rows),
        n_evaluable=n_eval,
        ada_incidence=Proportion.of(n_te, n_eval, ev),
        baseline_prevalence=Proportion.of(
            sum(s.baseline_positive for s in with_baseline),
            len(with_baseline),
            "subjects with a baseline result",
        ),
        ada_prevalence=Proportion.of(sum(s.positive_any_time for s in evaluable), n_eval, ev),
        treatment_induced=Proportion.of(sum(s.treatment_induced for s in evaluable), n_eval, ev),
        treatment_boosted=Proportion.of(sum(s.treatment_boosted for s in evaluable), n_eval, ev),
        persistent=Proportion.of(sum(s.persistent for s in emergent), n_te, te),
        transient=Proportion.of(sum(s.transient for s in emergent), n_te, te),
        nab_among_te_ada=Proportion.of(sum(s.nab_positive for s in emergent), n_te, te),
        settings=settings,
    )
