"""Response rates with exact confidence intervals (docs/efficacy.md §11).

ORR = subjects whose best overall response is a confirmed CR or PR, over the denominator.
DCR = CR + PR + SD (SD only once it met the minimum duration, which the best overall response
already requires), plus non-CR/non-PD when the setting says so, over the same denominator.
The denominator (which subjects count) is chosen by the caller and printed with the rate.

The interval is the exact Clopper-Pearson interval (Clopper & Pearson, Biometrika 1934;26:404-413):
the beta quantiles Beta(a/2; x, n-x+1) and Beta(1-a/2; x+1, n-x), 0 when x = 0 and 1 when x = n,
as R's binom.test computes it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction

from scipy.stats import beta

from .errors import EfficacyInputError
from .recist import BestOverallResponse, RecistSettings, Response
from .version import RULES_VERSION


@dataclass(frozen=True)
class ExactInterval:
    lower: float
    upper: float
    confidence: float
    method: str = "Clopper-Pearson exact"


def clopper_pearson(successes: int, total: int, confidence: float = 0.95) -> ExactInterval:
    """The exact two-sided interval for a binomial proportion (R binom.test's conf.int)."""
    if isinstance(successes, bool) or isinstance(total, bool):
        raise EfficacyInputError("clopper_pearson: counts must be whole numbers")
    if total < 1:
        raise EfficacyInputError("clopper_pearson: the denominator is empty (n = 0)")
    if not 0 <= successes <= total:
        raise EfficacyInputError(f"clopper_pearson: {successes} responders out of {total}")
    if not 0 < confidence < 1:
        raise EfficacyInputError(f"clopper_pearson: confidence {confidence} is not in (0, 1)")
    alpha = 1 - confidence
    lower = 0.0 if successes == 0 else float(beta.ppf(alpha / 2, successes, total - successes + 1))
    upper = (
        1.0
        if successes == total
        else float(beta.ppf(1 - alpha / 2, successes + 1, total - successes))
    )
    return ExactInterval(lower, upper, confidence)


@dataclass(frozen=True)
class Rate:
    """A response rate: who counted, over whom, with its exact interval and the definition."""

    name: str  # "ORR", "DCR"
    definition: str
    numerator: int
    denominator: int
    denominator_name: str
    subjects: tuple[str, ...]  # the subjects in the numerator, sorted
    interval: ExactInterval
    rules_version: str = RULES_VERSION

    @property
    def proportion(self) -> Fraction:
        return Fraction(self.numerator, self.denominator)

    def describe(self) -> str:
        return (
            f"{self.name} {self.numerator}/{self.denominator} "
            f"({float(self.proportion) * 100:.1f}%; "
            f"{self.interval.confidence * 100:g}% CI {self.interval.lower * 100:.1f}-"
            f"{self.interval.upper * 100:.1f}%, {self.interval.method}); "
            f"{self.definition}; denominator: {self.denominator_name}"
        )


def _check(best: Mapping[str, BestOverallResponse], denominator_name: str) -> None:
    if not denominator_name.strip():
        raise EfficacyInputError("a response rate needs its denominator named")
    if not best:
        raise EfficacyInputError(f"the denominator ({denominator_name}) holds no subject")


def _settings(best: Mapping[str, BestOverallResponse]) -> RecistSettings:
    """The one set of RECIST settings every best overall response was derived with."""
    settings = {b.settings for b in best.values()}
    if len(settings) > 1:
        raise EfficacyInputError(
            "the best overall responses were derived with different RECIST settings; "
            "one rate needs one definition"
        )
    return settings.pop()


def objective_response_rate(
    best: Mapping[str, BestOverallResponse],
    *,
    denominator_name: str,
    confidence: float = 0.95,
) -> Rate:
    """ORR: best overall response CR or PR (confirmed when the RECIST settings require it)."""
    _check(best, denominator_name)
    confirmed = _settings(best).confirmation_required
    responders = sorted(s for s, b in best.items() if b.response in (Response.CR, Response.PR))
    return Rate(
        name="ORR",
        definition=("confirmed " if confirmed else "unconfirmed ") + "CR or PR (RECIST 1.1)",
        numerator=len(responders),
        denominator=len(best),
        denominator_name=denominator_name,
        subjects=tuple(responders),
        interval=clopper_pearson(len(responders), len(best), confidence),
    )


def disease_control_rate(
    best: Mapping[str, BestOverallResponse],
    *,
    denominator_name: str,
    include_non_cr_non_pd: bool = False,
    confidence: float = 0.95,
) -> Rate:
    """DCR: CR, PR or SD meeting the minimum duration, and non-CR/non-PD if the setting says so
    (non-target disease only; the MIL97 synopsis names CR, PR and SD)."""
    _check(best, denominator_name)
    settings = _settings(best)
    confirmed = settings.confirmation_required
    kinds = {Response.CR, Response.PR, Response.SD}
    if include_non_cr_non_pd:
        kinds.add(Response.NON_CR_NON_PD)
    controlled = sorted(s for s, b in best.items() if b.response in kinds)
    definition = (
        ("confirmed " if confirmed else "unconfirmed ")
        + "CR or PR, or SD"
        + (" or non-CR/non-PD" if include_non_cr_non_pd else "")
        + f" at least {settings.sd_minimum_days} days after the first dose"
    )
    return Rate(
        name="DCR",
        definition=definition,
        numerator=len(controlled),
        denominator=len(best),
        denominator_name=denominator_name,
        subjects=tuple(controlled),
        interval=clopper_pearson(len(controlled), len(best), confidence),
    )
