"""The shapes of a CTCAE lab criterion, as data (docs/visits.md §4).

A term (e.g. "Neutrophil count decreased") has one `GradeCriteria` per grade, highest first. A
grade holds the workbook's text and the computable clauses read from it: each clause compares the
value with a bound (an absolute cut-off, a multiple of the LLN, ULN or baseline, or the ULN plus
an amount). In CTCAE v5.0 a semicolon separates alternatives ("A semi-colon indicates 'or' within
the description of the grade"), so a grade matches when any of its clauses does. The parts of a
grade that only the investigator can judge ("life-threatening consequences", "transfusion
indicated") are kept as text in `clinical` and never computed.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum


class Direction(StrEnum):
    LOW = "low"  # a decrease term: grades go up as the value goes down
    HIGH = "high"


class Op(StrEnum):
    LT = "<"
    LE = "<="
    GT = ">"
    GE = ">="

    def holds(self, value: Decimal, bound: Decimal) -> bool:
        if self is Op.LT:
            return value < bound
        if self is Op.LE:
            return value <= bound
        if self is Op.GT:
            return value > bound
        return value >= bound


class Limit(StrEnum):
    LLN = "LLN"
    ULN = "ULN"


class BaselineStatus(StrEnum):
    """Whether the subject's baseline was within the normal range ("baseline was normal") or above
    the ULN ("baseline was abnormal"), the two variants of the liver terms."""

    NORMAL = "normal"
    ABNORMAL = "abnormal"


@dataclass(frozen=True)
class Cutoff:
    """An absolute cut-off as the workbook states it, in each unit it states it in.

    The workbook gives several units for some terms and its conventional and SI numbers are
    rounded separately (Hypoglycemia grade 4: "<30 mg/dL; <1.7 mmol/L", and 30 mg/dL is 1.665
    mmol/L). A value is therefore compared in the reported unit when the workbook states the
    cut-off in that unit, and otherwise in the test's standard unit after conversion.
    """

    values: tuple[tuple[str, Decimal], ...]

    @property
    def units(self) -> frozenset[str]:
        return frozenset(unit for unit, _ in self.values)

    def in_unit(self, unit: str) -> Decimal:
        for candidate, value in self.values:
            if candidate == unit:
                return value
        raise KeyError(unit)


@dataclass(frozen=True)
class TimesLimit:
    limit: Limit
    factor: Decimal = Decimal(1)


@dataclass(frozen=True)
class TimesBaseline:
    factor: Decimal = Decimal(1)


@dataclass(frozen=True)
class LimitPlus:
    """The normal limit plus an amount (Hemoglobin increased: "Increase in >2 - 4 g/dL")."""

    limit: Limit
    amount: Cutoff


Bound = Cutoff | TimesLimit | TimesBaseline | LimitPlus


@dataclass(frozen=True)
class Clause:
    """One computable alternative of a grade: `value op bound`, under its conditions."""

    text: str  # the words of the workbook cell this clause implements
    op: Op
    bound: Bound
    baseline: BaselineStatus | None = None  # "if baseline was normal / abnormal"
    symptomatic: bool | None = None  # True "symptomatic", False "asymptomatic"
    anticoagulated: bool | None = None  # True "if on anticoagulation"


@dataclass(frozen=True)
class GradeCriteria:
    grade: int
    text: str  # the workbook cell, verbatim
    clauses: tuple[Clause, ...] = ()
    clinical: str = ""  # what only the investigator can judge; not computed

    @property
    def clinical_only(self) -> bool:
        return not self.clauses


@dataclass(frozen=True)
class TermCriteria:
    term: str  # the CTCAE term
    meddra_code: int
    test: str  # the lab test code graded by it (visits.rules.units)
    direction: Direction
    grades: tuple[GradeCriteria, ...]  # highest grade first
    reading: str = ""  # how the project reads the criterion where it needs reading

    @property
    def uses_baseline_status(self) -> bool:
        return any(clause.baseline is not None for grade in self.grades for clause in grade.clauses)

    @property
    def uses_limits(self) -> bool:
        """Whether any criterion of the term needs the LLN or ULN."""
        return any(
            isinstance(clause.bound, TimesLimit | LimitPlus)
            for grade in self.grades
            for clause in grade.clauses
        )

    def cutoff_units(self) -> frozenset[str] | None:
        """The units every absolute cut-off of the term is stated in (None: no absolute one)."""
        units: frozenset[str] | None = None
        for grade in self.grades:
            for clause in grade.clauses:
                bound = clause.bound
                cutoff = bound.amount if isinstance(bound, LimitPlus) else bound
                if isinstance(cutoff, Cutoff):
                    units = cutoff.units if units is None else units & cutoff.units
        return units
