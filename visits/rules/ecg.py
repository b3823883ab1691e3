"""12-lead ECG: corrected QT and its CTCAE v5.0 grade (docs/visits.md §7).

QTcF = QT / RR^(1/3) with RR in seconds (Fridericia LS. Die Systolendauer im Elektrokardiogramm bei
normalen Menschen und bei Herzkranken. Acta Med Scand 1920;53:469-486); QTcB = QT / RR^(1/2)
(Bazett HC. Heart 1920;7:353-370), optional. When only the heart rate is given, RR = 60 / HR.
A triplicate is summarised by the mean of its replicates' corrected QT, and that mean, rounded to
the whole millisecond the criteria are written in, is graded with "Electrocardiogram QT corrected
interval prolonged" (NCI CTCAE v5.0, MedDRA 10014383).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from .errors import Number, VisitsInputError, as_choice, as_decimal
from .units import format_number
from .version import RULES_VERSION

CTCAE_VERSION = "5.0"
QTC_TERM = "Electrocardiogram QT corrected interval prolonged"
QTC_MEDDRA_CODE = 10014383

# Plausible ranges (settings of the form; they catch typing errors, not abnormal ECGs).
QT_RANGE_MS = (Decimal(200), Decimal(700))
RR_RANGE_MS = (Decimal(240), Decimal(3000))
HR_RANGE_BPM = (Decimal(20), Decimal(250))

_THIRD = Decimal(1) / Decimal(3)
_HALF = Decimal("0.5")


class QtCorrection(StrEnum):
    FRIDERICIA = "QTcF"
    BAZETT = "QTcB"


@dataclass(frozen=True)
class EcgReading:
    """One replicate: QT in ms, and RR in ms or the heart rate in beats/min (RR wins if both)."""

    qt_ms: Number
    rr_ms: Number | None = None
    heart_rate_bpm: Number | None = None

    def __post_init__(self) -> None:
        qt = _within(as_decimal(self.qt_ms, "QT"), QT_RANGE_MS, "QT", "ms")
        object.__setattr__(self, "qt_ms", qt)
        if self.rr_ms is None and self.heart_rate_bpm is None:
            raise VisitsInputError("ECG: RR or heart rate is required to correct the QT")
        if self.rr_ms is not None:
            rr = _within(as_decimal(self.rr_ms, "RR"), RR_RANGE_MS, "RR", "ms")
            object.__setattr__(self, "rr_ms", rr)
        if self.heart_rate_bpm is not None:
            hr = _within(
                as_decimal(self.heart_rate_bpm, "heart rate"),
                HR_RANGE_BPM,
                "heart rate",
                "beats/min",
            )
            object.__setattr__(self, "heart_rate_bpm", hr)

    @property
    def rr_seconds(self) -> Decimal:
        if self.rr_ms is not None:
            return as_decimal(self.rr_ms, "RR") / 1000
        return Decimal(60) / as_decimal(self.heart_rate_bpm, "heart rate")

    def corrected(self, correction: QtCorrection = QtCorrection.FRIDERICIA) -> Decimal:
        qt = as_decimal(self.qt_ms, "QT")
        if correction is QtCorrection.BAZETT:
            return qt / self.rr_seconds.sqrt()
        return qt / self.rr_seconds**_THIRD


def _within(value: Decimal, bounds: tuple[Decimal, Decimal], name: str, unit: str) -> Decimal:
    low, high = bounds
    if not low <= value <= high:
        raise VisitsInputError(
            f"ECG {name}: {value} {unit} is outside the plausible range {low}-{high} {unit}"
        )
    return value


def qtcf(
    qt_ms: Number, rr_ms: Number | None = None, heart_rate_bpm: Number | None = None
) -> Decimal:
    """Fridericia's corrected QT, in ms."""
    return EcgReading(qt_ms, rr_ms, heart_rate_bpm).corrected(QtCorrection.FRIDERICIA)


def qtcb(
    qt_ms: Number, rr_ms: Number | None = None, heart_rate_bpm: Number | None = None
) -> Decimal:
    """Bazett's corrected QT, in ms."""
    return EcgReading(qt_ms, rr_ms, heart_rate_bpm).corrected(QtCorrection.BAZETT)


@dataclass(frozen=True)
class CorrectedQt:
    correction: QtCorrection
    replicates: tuple[Decimal, ...]  # each replicate's corrected QT, ms
    mean_ms: Decimal  # their mean
    graded_ms: int  # the mean rounded half up to the whole ms

    def describe(self) -> str:
        values = ", ".join(
            format_number(value.quantize(Decimal("0.1"))) for value in self.replicates
        )
        return (
            f"mean {self.correction.value} {self.graded_ms} ms "
            f"({len(self.replicates)} replicate(s): {values})"
        )


def corrected_qt(
    readings: Sequence[EcgReading], correction: QtCorrection | str = QtCorrection.FRIDERICIA
) -> CorrectedQt:
    """The mean corrected QT of one ECG time point (a single tracing or a triplicate)."""
    correction = as_choice(QtCorrection, correction, "QT correction")
    if not readings:
        raise VisitsInputError("ECG: at least one reading is required")
    values = tuple(reading.corrected(correction) for reading in readings)
    mean = sum(values, Decimal(0)) / len(values)
    return CorrectedQt(correction, values, mean, _whole_ms(mean))


def _whole_ms(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


# NCI CTCAE v5.0, "Electrocardiogram QT corrected interval prolonged", workbook cells verbatim.
QTC_CRITERIA: dict[int, str] = {
    1: "Average QTc 450 - 480 ms",
    2: "Average QTc 481 - 500 ms",
    3: "Average QTc >= 501 ms; >60 ms change from baseline",
    4: "Torsade de pointes; polymorphic ventricular tachycardia; signs/symptoms of serious "
    "arrhythmia",
}


@dataclass(frozen=True)
class QtcGrade:
    grade: int
    criterion: str  # the workbook text of the grade ("" for grade 0)
    matched: str
    rule: str
    qtc_ms: int  # the average QTc graded
    baseline_ms: int | None
    change_ms: int | None
    ctcae_version: str = CTCAE_VERSION
    rules_version: str = RULES_VERSION
    not_computed: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


def grade_qtc(qtc: CorrectedQt | int, baseline: CorrectedQt | int | None = None) -> QtcGrade:
    """The CTCAE v5.0 grade of an average QTc (whole ms), with the baseline when known."""
    qtc_ms = qtc.graded_ms if isinstance(qtc, CorrectedQt) else int(qtc)
    baseline_ms = baseline.graded_ms if isinstance(baseline, CorrectedQt) else baseline
    change = None if baseline_ms is None else qtc_ms - baseline_ms
    notes: tuple[str, ...] = ()
    if baseline_ms is None:
        notes = ("baseline QTc missing: the '>60 ms change from baseline' criterion not applied",)
    name = f"CTCAE v{CTCAE_VERSION} {QTC_TERM}"
    grade, matched, comparison = 0, "", f"{qtc_ms} ms is below 450 ms"
    if qtc_ms >= 501:
        grade, matched, comparison = 3, "Average QTc >= 501 ms", f"{qtc_ms} ms >= 501 ms"
    elif change is not None and change > 60:
        grade, matched = 3, ">60 ms change from baseline"
        comparison = f"{qtc_ms} ms is {change} ms over the baseline {baseline_ms} ms (> 60)"
    elif qtc_ms >= 481:
        grade, matched, comparison = 2, "Average QTc 481 - 500 ms", f"481 <= {qtc_ms} <= 500 ms"
    elif qtc_ms >= 450:
        grade, matched, comparison = 1, "Average QTc 450 - 480 ms", f"450 <= {qtc_ms} <= 480 ms"
    not_computed = (f"grade 4: {QTC_CRITERIA[4]}",) if grade >= 1 else ()
    return QtcGrade(
        grade=grade,
        criterion=QTC_CRITERIA.get(grade, ""),
        matched=matched,
        rule=f"{name}: grade {grade}, {comparison}",
        qtc_ms=qtc_ms,
        baseline_ms=baseline_ms,
        change_ms=change,
        not_computed=not_computed,
        notes=notes,
    )
