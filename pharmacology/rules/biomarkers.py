"""Biomarker results (CD80, CD86, cytokines): values as reported, units, quantification limits,
change from baseline and summaries (docs/pharmacology.md §5).

A result keeps the laboratory's text ("12.5", "<LLOQ", ">ULOQ"); only a quantified result has a
number. How a result below the LLOQ enters a change or a summary (left out, 0, or LLOQ/2) is a
setting that every output repeats, so a table always says which rule made it.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from .errors import PharmacologyInputError, as_choice, require_finite

BIOMARKER_VERSION = "pharmacology-biomarkers 1"

# Units accepted, as the factor to pg/mL. Anything else is refused (no guessing).
UNITS_PG_PER_ML: dict[str, float] = {"pg/mL": 1.0, "ng/mL": 1000.0}


def convert(value: float, from_unit: str, to_unit: str) -> float:
    """A concentration in another accepted unit (pg/mL <-> ng/mL)."""
    for unit in (from_unit, to_unit):
        if unit not in UNITS_PG_PER_ML:
            allowed = ", ".join(UNITS_PG_PER_ML)
            raise PharmacologyInputError(f"unit: {unit!r} is not one of {allowed}")
    return value * UNITS_PG_PER_ML[from_unit] / UNITS_PG_PER_ML[to_unit]


class Quantification(StrEnum):
    QUANTIFIED = "quantified"
    BELOW_LLOQ = "below LLOQ"
    ABOVE_ULOQ = "above ULOQ"


class BlqTreatment(StrEnum):
    EXCLUDE = "exclude"
    ZERO = "zero"
    HALF_LLOQ = "half LLOQ"


@dataclass(frozen=True)
class BiomarkerResult:
    """One reported result.

    - `reported`: the text as the laboratory reported it: a number, or "<..." below the LLOQ
      (e.g. "<LLOQ", "<3.2"), or ">..." above the ULOQ.
    - `lloq`, `uloq`: the run's limits, in `unit`.
    - `diluted`: the sample was re-assayed diluted, so a number above the ULOQ is valid.
    - `baseline`: the pre-dose result that changes are measured from.
    """

    subject: str
    analyte: str
    timepoint: str
    day: float
    reported: str
    unit: str
    lloq: float
    uloq: float | None = None
    run_id: str = ""
    baseline: bool = False
    diluted: bool = False

    def __post_init__(self) -> None:
        label = f"{self.analyte} result of {self.subject} at {self.timepoint}"
        if self.unit not in UNITS_PG_PER_ML:
            allowed = ", ".join(UNITS_PG_PER_ML)
            raise PharmacologyInputError(f"{label}: unit {self.unit!r} is not one of {allowed}")
        require_finite(self.day, f"{label}: day")
        require_finite(self.lloq, f"{label}: lloq")
        if self.lloq <= 0:
            raise PharmacologyInputError(f"{label}: lloq must be positive")
        if self.uloq is not None:
            require_finite(self.uloq, f"{label}: uloq")
            if self.uloq <= self.lloq:
                raise PharmacologyInputError(f"{label}: uloq must be above lloq")
        text = self.reported.strip()
        if not text:
            raise PharmacologyInputError(f"{label}: reported: empty result")
        if text[0] in "<>":
            return
        try:
            number = float(text)
        except ValueError:
            raise PharmacologyInputError(
                f"{label}: reported: {self.reported!r} is neither a number nor '<...' / '>...'"
            ) from None
        require_finite(number, f"{label}: reported")
        if number < self.lloq:
            raise PharmacologyInputError(
                f"{label}: reported: {number:g} is below the LLOQ {self.lloq:g}; "
                "report it as '<LLOQ'"
            )
        if self.uloq is not None and number > self.uloq and not self.diluted:
            raise PharmacologyInputError(
                f"{label}: reported: {number:g} is above the ULOQ {self.uloq:g}; "
                "report '>ULOQ' or re-assay diluted"
            )

    @property
    def quantification(self) -> Quantification:
        text = self.reported.strip()
        if text.startswith("<"):
            return Quantification.BELOW_LLOQ
        if text.startswith(">"):
            return Quantification.ABOVE_ULOQ
        return Quantification.QUANTIFIED

    @property
    def number(self) -> float | None:
        """The numeric value, empty unless quantified (SDTM LBSTRESN)."""
        if self.quantification is Quantification.QUANTIFIED:
            return float(self.reported)
        return None


@dataclass(frozen=True)
class BiomarkerSettings:
    blq_treatment: BlqTreatment = BlqTreatment.EXCLUDE
    unit: str = "pg/mL"  # the unit every derived value is given in

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "blq_treatment", as_choice(BlqTreatment, self.blq_treatment, "blq_treatment")
        )
        if self.unit not in UNITS_PG_PER_ML:
            allowed = ", ".join(UNITS_PG_PER_ML)
            raise PharmacologyInputError(f"unit: {self.unit!r} is not one of {allowed}")


def analysis_value(
    result: BiomarkerResult, settings: BiomarkerSettings
) -> tuple[float | None, str]:
    """The value used in changes and summaries, in the settings' unit, and how it was made."""
    quantification = result.quantification
    if quantification is Quantification.QUANTIFIED:
        assert result.number is not None
        return convert(result.number, result.unit, settings.unit), "as reported"
    if quantification is Quantification.ABOVE_ULOQ:
        return None, "above the ULOQ: no number"
    if settings.blq_treatment is BlqTreatment.ZERO:
        return 0.0, "below the LLOQ: 0"
    if settings.blq_treatment is BlqTreatment.HALF_LLOQ:
        return convert(result.lloq / 2, result.unit, settings.unit), "below the LLOQ: LLOQ/2"
    return None, "below the LLOQ: left out"


@dataclass(frozen=True)
class Change:
    """One post-baseline result against the subject's baseline for the analyte."""

    subject: str
    analyte: str
    timepoint: str
    day: float
    reported: str
    value: float | None
    baseline: float | None
    change: float | None
    fold_change: float | None
    unit: str
    blq_treatment: BlqTreatment
    note: str
    version: str = BIOMARKER_VERSION


def changes_from_baseline(
    results: Iterable[BiomarkerResult], settings: BiomarkerSettings | None = None
) -> tuple[Change, ...]:
    """Change and fold change from baseline per subject and analyte (docs/pharmacology.md §5)."""
    settings = settings or BiomarkerSettings()
    rows = sorted(results, key=lambda r: (r.subject, r.analyte, r.day))
    out: list[Change] = []
    for key in sorted({(r.subject, r.analyte) for r in rows}):
        mine = [r for r in rows if (r.subject, r.analyte) == key]
        baselines = [r for r in mine if r.baseline]
        base_result = baselines[-1] if baselines else None
        base_value, base_note = (
            analysis_value(base_result, settings) if base_result else (None, "no baseline")
        )
        for result in mine:
            if result.baseline:
                continue
            value, note = analysis_value(result, settings)
            change = fold = None
            notes = [note]
            if base_value is None:
                notes.append(f"baseline: {base_note}")
            elif value is not None:
                change = value - base_value
                if base_value > 0:
                    fold = value / base_value
                else:
                    notes.append("baseline is 0: no fold change")
            out.append(
                Change(
                    subject=result.subject,
                    analyte=result.analyte,
                    timepoint=result.timepoint,
                    day=result.day,
                    reported=result.reported,
                    value=value,
                    baseline=base_value,
                    change=change,
                    fold_change=fold,
                    unit=settings.unit,
                    blq_treatment=settings.blq_treatment,
                    note="; ".join(notes),
                )
            )
    return tuple(out)


@dataclass(frozen=True)
class BiomarkerSummary:
    analyte: str
    timepoint: str
    n_results: int
    n_below_lloq: int
    n_above_uloq: int
    n: int  # values used
    mean: float | None
    sd: float | None
    median: float | None
    minimum: float | None
    maximum: float | None
    unit: str
    blq_treatment: BlqTreatment
    version: str = BIOMARKER_VERSION


def summarise_values(
    analyte: str,
    timepoint: str,
    results: Sequence[BiomarkerResult],
    settings: BiomarkerSettings | None = None,
) -> BiomarkerSummary:
    """n, mean (SD), median (min, max) of the analysis values; the BLQ rule is part of the
    output."""
    settings = settings or BiomarkerSettings()
    for result in results:
        if (result.analyte, result.timepoint) != (analyte, timepoint):
            raise PharmacologyInputError(
                f"biomarker summary of {analyte} at {timepoint}: got a result of "
                f"{result.analyte} at {result.timepoint}"
            )
    values = [v for v, _ in (analysis_value(r, settings) for r in results) if v is not None]
    n = len(values)
    return BiomarkerSummary(
        analyte=analyte,
        timepoint=timepoint,
        n_results=len(results),
        n_below_lloq=sum(r.quantification is Quantification.BELOW_LLOQ for r in results),
        n_above_uloq=sum(r.quantification is Quantification.ABOVE_ULOQ for r in results),
        n=n,
        mean=statistics.fmean(values) if values else None,
        sd=statistics.stdev(values) if n > 1 else None,
        median=statistics.median(values) if values else None,
        minimum=min(values) if values else None,
        maximum=max(values) if values else None,
        unit=settings.unit,
        blq_treatment=settings.blq_treatment,
    )


@dataclass(frozen=True)
class ChangeSummary:
    """Changes from baseline of one analyte at one time point in one group: n (changes with a
    value), mean (SD) of the change, median (range) of the fold change."""

    group: str
    analyte: str
    timepoint: str
    n: int
    mean_change: float | None
    sd_change: float | None
    n_fold: int
    median_fold: float | None
    min_fold: float | None
    max_fold: float | None
    unit: str
    blq_treatment: BlqTreatment
    version: str = BIOMARKER_VERSION


def summarise_changes(group: str, changes: Sequence[Change]) -> ChangeSummary:
    """docs/pharmacology.md §5: the changes of one analyte and time point, as computed by
    `changes_from_baseline` (so with one unit and one BLQ rule)."""
    keys = {(c.analyte, c.timepoint, c.unit, c.blq_treatment) for c in changes}
    if len(keys) != 1:
        raise PharmacologyInputError(
            f"change summary of {group}: give the changes of one analyte, time point and rule"
        )
    analyte, timepoint, unit, rule = keys.pop()
    deltas = [c.change for c in changes if c.change is not None]
    folds = [c.fold_change for c in changes if c.fold_change is not None]
    return ChangeSummary(
        group=group,
        analyte=analyte,
        timepoint=timepoint,
        n=len(deltas),
        mean_change=statistics.fmean(deltas) if deltas else None,
        sd_change=statistics.stdev(deltas) if len(deltas) > 1 else None,
        n_fold=len(folds),
        median_fold=statistics.median(folds) if folds else None,
        min_fold=min(folds) if folds else None,
        max_fold=max(folds) if folds else None,
        unit=unit,
        blq_treatment=rule,
    )
