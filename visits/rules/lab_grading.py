"""CTCAE grades of local lab results, and the grade 4 neutropenia duration flag (docs/visits.md §4-5).

Input: a `LabResult` (test code, value and unit as reported, the site lab's normal range valid on
the sample date, the subject's baseline result where a criterion needs it, and the few clinical
facts some criteria name). Output: a `LabGrading` with one `LabGrade` per CTCAE term of the test
(potassium: Hypokalemia and Hyperkalemia), each naming the grade, the workbook text that matched,
the values compared (converted), the CTCAE version, and what was not computed and why.

The rules (docs/visits.md §4.1): grades are tested from the highest down and the first match wins;
no match is grade 0; a criterion that needs a normal limit which is not on file cannot be decided,
so when the value matches no grade that can be decided the result has no grade and is flagged
("no normal range on file"), and when it matches a grade while a higher one could not be decided
it is flagged too. Clinical parts are never computed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum

from . import ctcae_v5
from .criteria import (
    BaselineStatus,
    Clause,
    Cutoff,
    GradeCriteria,
    Limit,
    LimitPlus,
    TermCriteria,
    TimesBaseline,
    TimesLimit,
)
from .errors import Number, VisitsInputError, as_choice, as_decimal
from .units import LabTest, Measurement, lab_test
from .version import RULES_VERSION

# The criteria each supported CTCAE version grades with. The version is a study setting.
CRITERIA: dict[str, tuple[TermCriteria, ...]] = {ctcae_v5.VERSION: ctcae_v5.TERMS}


class MissingRangePolicy(StrEnum):
    """What a result with no normal range on file is graded with (docs/visits.md §4.3)."""

    NO_GRADE = "no_grade"  # the protocol rule: no range, no grade, flagged for the site
    DECIDABLE_GRADES = "decidable_grades"  # grade on the cut-offs that need no limit (admiral)


@dataclass(frozen=True)
class LabGradingSettings:
    ctcae_version: str = ctcae_v5.VERSION
    missing_range: MissingRangePolicy = MissingRangePolicy.NO_GRADE

    def __post_init__(self) -> None:
        if self.ctcae_version not in CRITERIA:
            raise VisitsInputError(
                f"ctcae_version: no lab criteria for CTCAE version {self.ctcae_version!r}; "
                f"available: {', '.join(sorted(CRITERIA))}"
            )
        object.__setattr__(
            self,
            "missing_range",
            as_choice(MissingRangePolicy, self.missing_range, "missing_range"),
        )

    @property
    def terms(self) -> tuple[TermCriteria, ...]:
        return CRITERIA[self.ctcae_version]


@dataclass(frozen=True)
class NormalRange:
    """The site lab's normal range for the test, valid on the sample date; either end may be
    missing (a lab that prints only an upper limit)."""

    low: Number | None
    high: Number | None
    unit: str

    def __post_init__(self) -> None:
        low = None if self.low is None else as_decimal(self.low, "normal range low")
        high = None if self.high is None else as_decimal(self.high, "normal range high")
        if low is not None and high is not None and low > high:
            raise VisitsInputError(
                f"normal range: the low limit {low} is above the high limit {high}"
            )
        object.__setattr__(self, "low", low)
        object.__setattr__(self, "high", high)


@dataclass(frozen=True)
class Baseline:
    """The subject's baseline result of the same test (the last one before the first dose), with
    its own normal range when known: "baseline abnormal" means above that range's ULN."""

    value: Number
    unit: str
    normal_range: NormalRange | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "value", as_decimal(self.value, "baseline value"))


@dataclass(frozen=True)
class LabResult:
    """One local lab result as the site reported it.

    `symptomatic` and `on_anticoagulation` are the clinical facts some criteria name (Hypokalemia
    grade 2, Hyponatremia, lipase and amylase; INR); None when not recorded.
    """

    test: str
    value: Number
    unit: str
    normal_range: NormalRange | None = None
    baseline: Baseline | None = None
    sampled_on: date | None = None
    symptomatic: bool | None = None
    on_anticoagulation: bool | None = None
    reference: str = ""  # the caller's id for the result, echoed back in flags

    def __post_init__(self) -> None:
        test = lab_test(self.test)
        object.__setattr__(self, "test", test.code)
        object.__setattr__(self, "value", as_decimal(self.value, f"{test.name} value"))
        test.conversion(self.unit)  # refuses a unit the test does not accept
        if self.normal_range is not None:
            test.conversion(self.normal_range.unit)
        if self.baseline is not None:
            test.conversion(self.baseline.unit)
            if self.baseline.normal_range is not None:
                test.conversion(self.baseline.normal_range.unit)
        if test.code != "PH" and self.decimal_value < 0:
            raise VisitsInputError(f"{test.name} value: {self.value} cannot be negative")

    @property
    def decimal_value(self) -> Decimal:
        return as_decimal(self.value, "value")


class LabFlag(StrEnum):
    NO_NORMAL_RANGE = "no_normal_range"  # a criterion needed a limit that is not on file
    HIGHER_GRADE_UNDECIDED = "higher_grade_undecided"  # a higher grade needed a missing limit
    BASELINE_MISSING = "baseline_missing"  # a criterion needed the baseline
    CLINICAL_NOT_COMPUTED = "clinical_not_computed"  # a higher grade is the investigator's


@dataclass(frozen=True)
class LabGrade:
    """The CTCAE grade of one term for one result. `grade` is None when it cannot be decided."""

    term: str
    meddra_code: int
    grade: int | None
    criterion: str  # the workbook text of the grade that matched ("" for grade 0 / no grade)
    matched: str  # the clause of it that matched
    rule: str  # one line: the comparison that decided, or why nothing could be decided
    value: Decimal  # the value compared, in `unit`
    unit: str  # the unit the comparison was made in (docs/visits.md §4.2)
    lower_limit: Decimal | None
    upper_limit: Decimal | None
    baseline: Decimal | None
    baseline_status: BaselineStatus | None
    threshold: Decimal | None  # the bound the value was compared with
    ctcae_version: str
    flags: tuple[LabFlag, ...] = ()
    not_computed: tuple[str, ...] = ()  # higher grades that only the investigator can give
    notes: tuple[str, ...] = ()

    @property
    def graded(self) -> bool:
        return self.grade is not None


@dataclass(frozen=True)
class LabGrading:
    """Every CTCAE term of one result. `standard` is the value in the test's standard unit."""

    test: str
    reported: Measurement
    standard: Measurement
    grades: tuple[LabGrade, ...]
    ctcae_version: str
    reference: str = ""
    rules_version: str = RULES_VERSION

    @property
    def worst(self) -> LabGrade | None:
        """The term with the highest grade (None when no term could be graded)."""
        graded = [grade for grade in self.grades if grade.grade is not None]
        if not graded:
            return None
        return max(graded, key=lambda grade: grade.grade or 0)

    def term(self, name: str) -> LabGrade:
        for grade in self.grades:
            if grade.term == name:
                return grade
        raise KeyError(name)


def terms_for(test: str, settings: LabGradingSettings | None = None) -> tuple[TermCriteria, ...]:
    settings = settings or LabGradingSettings()
    code = lab_test(test).code
    return tuple(term for term in settings.terms if term.test == code)


def grade_lab_result(result: LabResult, settings: LabGradingSettings | None = None) -> LabGrading:
    """The CTCAE grade of every term of the result's test (none for a test CTCAE does not grade)."""
    settings = settings or LabGradingSettings()
    test = lab_test(result.test)
    value = result.decimal_value
    return LabGrading(
        test=test.code,
        reported=Measurement(value, test.conversion(result.unit).unit),
        standard=test.to_standard(value, result.unit),
        grades=tuple(grade_term(term, result, settings) for term in terms_for(test.code, settings)),
        ctcae_version=settings.ctcae_version,
        reference=result.reference,
    )


@dataclass
class _Context:
    """The values of one result in the unit the term is graded in."""

    test: LabTest
    unit: str
    value: Decimal
    lln: Decimal | None
    uln: Decimal | None
    baseline: Decimal | None
    baseline_status: BaselineStatus | None
    symptomatic: bool | None
    on_anticoagulation: bool | None
    notes: list[str] = field(default_factory=list)
    flags: list[LabFlag] = field(default_factory=list)

    def note(self, text: str, flag: LabFlag | None = None) -> None:
        if text not in self.notes:
            self.notes.append(text)
        if flag is not None and flag not in self.flags:
            self.flags.append(flag)


def grading_unit(term: TermCriteria, test: LabTest, reported_unit: str) -> str:
    """The reported unit when the workbook states every absolute cut-off of the term in it (or
    the term has none), else the test's standard unit (docs/visits.md §4.2)."""
    reported = test.conversion(reported_unit).unit
    units = term.cutoff_units()
    if units is None or reported in units:
        return reported
    return test.standard_unit


def _context(term: TermCriteria, result: LabResult, test: LabTest) -> _Context:
    unit = grading_unit(term, test, result.unit)

    def to_unit(number: object, from_unit: str) -> Decimal | None:
        if number is None:
            return None
        return test.convert(as_decimal(number, "value"), from_unit, unit)

    normal = result.normal_range
    lln = to_unit(normal.low, normal.unit) if normal else None
    uln = to_unit(normal.high, normal.unit) if normal else None
    baseline = result.baseline
    baseline_value = to_unit(baseline.value, baseline.unit) if baseline else None
    context = _Context(
        test=test,
        unit=unit,
        value=test.convert(result.decimal_value, result.unit, unit),
        lln=lln,
        uln=uln,
        baseline=baseline_value,
        baseline_status=None,
        symptomatic=result.symptomatic,
        on_anticoagulation=result.on_anticoagulation,
    )
    if term.uses_baseline_status:
        context.baseline_status = _baseline_status(result, context)
    if normal is None and term.uses_limits:
        context.note("no normal range on file for this result", LabFlag.NO_NORMAL_RANGE)
    return context


def _baseline_status(result: LabResult, context: _Context) -> BaselineStatus:
    """Abnormal when the baseline is above its own range's ULN (else the result's ULN); without a
    baseline the baseline-normal criteria apply, as admiral does, and the result says so."""
    baseline = result.baseline
    if baseline is None or context.baseline is None:
        context.note(
            "baseline missing: graded with the criteria for a normal baseline",
            LabFlag.BASELINE_MISSING,
        )
        return BaselineStatus.NORMAL
    uln = context.uln
    if baseline.normal_range is not None and baseline.normal_range.high is not None:
        uln = context.test.convert(
            as_decimal(baseline.normal_range.high, "baseline ULN"),
            baseline.normal_range.unit,
            context.unit,
        )
    if uln is None:
        context.note(
            "no ULN for the baseline: graded with the criteria for a normal baseline",
            LabFlag.NO_NORMAL_RANGE,
        )
        return BaselineStatus.NORMAL
    return BaselineStatus.ABNORMAL if context.baseline > uln else BaselineStatus.NORMAL


class _Outcome(StrEnum):
    MATCH = "match"
    NO_MATCH = "no_match"
    UNDECIDED = "undecided"  # needs a normal limit that is not on file
    SKIPPED = "skipped"  # the clause does not apply to this subject


def _evaluate(clause: Clause, grade: int, context: _Context) -> tuple[_Outcome, Decimal | None]:
    if clause.baseline is not None and clause.baseline is not context.baseline_status:
        return _Outcome.SKIPPED, None
    # Not on anticoagulation, or not recorded and no baseline to compare with: nothing to say.
    not_anticoagulated = context.on_anticoagulation is False or (
        context.on_anticoagulation is None and context.baseline is None
    )
    if clause.anticoagulated is not None and not_anticoagulated:
        return _Outcome.SKIPPED, None
    symptoms_known = context.symptomatic is not None
    if symptoms_known and clause.symptomatic not in (None, context.symptomatic):
        return _Outcome.SKIPPED, None
    threshold = _threshold(clause, context)
    if threshold is None:
        return (_Outcome.UNDECIDED if _needs_limit(clause) else _Outcome.SKIPPED), None
    matches = clause.op.holds(context.value, threshold)
    # Clinical facts not recorded: symptoms are read as absent and anticoagulation as not given;
    # when that reading changes the grade, the result says so.
    if clause.symptomatic and not symptoms_known:
        if matches:
            context.note(
                f"symptoms not recorded, graded as asymptomatic: grade {grade} if "
                f"symptomatic ({clause.text})"
            )
        return _Outcome.SKIPPED, None
    if clause.anticoagulated is not None and context.on_anticoagulation is None:
        if matches:
            context.note(
                f"anticoagulation not recorded: grade {grade} if on anticoagulation ({clause.text})"
            )
        return _Outcome.SKIPPED, None
    return (_Outcome.MATCH if matches else _Outcome.NO_MATCH), threshold


def _needs_limit(clause: Clause) -> bool:
    return isinstance(clause.bound, TimesLimit | LimitPlus)


def _limit(limit: Limit, context: _Context) -> Decimal | None:
    value = context.lln if limit is Limit.LLN else context.uln
    if value is None:
        context.note(f"no {limit.value} on file for this result", LabFlag.NO_NORMAL_RANGE)
    return value


def _threshold(clause: Clause, context: _Context) -> Decimal | None:
    bound = clause.bound
    if isinstance(bound, Cutoff):
        return bound.in_unit(context.unit)
    if isinstance(bound, TimesLimit):
        limit = _limit(bound.limit, context)
        return None if limit is None else limit * bound.factor
    if isinstance(bound, LimitPlus):
        limit = _limit(bound.limit, context)
        return None if limit is None else limit + bound.amount.in_unit(context.unit)
    assert isinstance(bound, TimesBaseline)
    if context.baseline is None:
        context.note(f"baseline missing: '{clause.text}' not applied", LabFlag.BASELINE_MISSING)
        return None
    return context.baseline * bound.factor


def grade_term(
    term: TermCriteria, result: LabResult, settings: LabGradingSettings | None = None
) -> LabGrade:
    """The grade of one term for one result (docs/visits.md §4.1)."""
    settings = settings or LabGradingSettings()
    test = lab_test(result.test)
    if term.test != test.code:
        raise VisitsInputError(f"{term.term} grades {term.test} results, not {test.code}")
    context = _context(term, result, test)
    if (
        result.normal_range is None
        and term.uses_limits
        and settings.missing_range is MissingRangePolicy.NO_GRADE
    ):
        # The protocol rule: a result without the site lab's normal range is not graded, even
        # where an absolute cut-off would match; the site is asked for the range (§4.3).
        context.flags = [LabFlag.NO_NORMAL_RANGE]
        context.notes = ["no normal range on file for this result"]
        return _result(
            term,
            context,
            settings,
            grade=None,
            rule=f"{_name(term, settings)}: no grade, no normal range on file for this result "
            f"({_shown(context.value, context.unit)}); enter the site lab's normal range",
        )
    undecided: list[GradeCriteria] = []
    for criteria in term.grades:
        for clause in criteria.clauses:
            outcome, threshold = _evaluate(clause, criteria.grade, context)
            if outcome is _Outcome.UNDECIDED:
                if criteria not in undecided:
                    undecided.append(criteria)
            elif outcome is _Outcome.MATCH:
                assert threshold is not None
                return _graded(term, criteria, clause, threshold, context, undecided, settings)
    if undecided:
        grades = ", ".join(str(criteria.grade) for criteria in undecided)
        return _result(
            term,
            context,
            settings,
            grade=None,
            rule=f"{_name(term, settings)}: no grade, grade(s) {grades} need a normal limit that "
            f"is not on file ({_shown(context.value, context.unit)})",
        )
    return _result(
        term,
        context,
        settings,
        grade=0,
        rule=f"{_name(term, settings)}: grade 0, {_shown(context.value, context.unit)} meets no "
        "grade's criterion",
    )


def _graded(
    term: TermCriteria,
    criteria: GradeCriteria,
    clause: Clause,
    threshold: Decimal,
    context: _Context,
    undecided: list[GradeCriteria],
    settings: LabGradingSettings,
) -> LabGrade:
    if undecided:
        grades = ", ".join(str(higher.grade) for higher in undecided)
        context.note(
            f"grade(s) {grades} could not be decided without the missing normal limit",
            LabFlag.HIGHER_GRADE_UNDECIDED,
        )
    not_computed = tuple(
        f"grade {higher.grade}: {higher.clinical}"
        for higher in term.grades
        if higher.grade > criteria.grade and higher.clinical_only
    )
    if not_computed:
        context.note("a higher grade rests on clinical criteria", LabFlag.CLINICAL_NOT_COMPUTED)
    comparison = (
        f"{_shown(context.value, context.unit)} {clause.op.value} {_shown(threshold, context.unit)}"
    )
    return _result(
        term,
        context,
        settings,
        grade=criteria.grade,
        criterion=criteria.text,
        matched=clause.text,
        threshold=threshold,
        not_computed=not_computed,
        rule=f"{_name(term, settings)}: grade {criteria.grade}, {comparison} ({clause.text})",
    )


def _result(
    term: TermCriteria,
    context: _Context,
    settings: LabGradingSettings,
    *,
    grade: int | None,
    rule: str,
    criterion: str = "",
    matched: str = "",
    threshold: Decimal | None = None,
    not_computed: tuple[str, ...] = (),
) -> LabGrade:
    return LabGrade(
        term=term.term,
        meddra_code=term.meddra_code,
        grade=grade,
        criterion=criterion,
        matched=matched,
        rule=rule,
        value=context.value,
        unit=context.unit,
        lower_limit=context.lln,
        upper_limit=context.uln,
        baseline=context.baseline,
        baseline_status=context.baseline_status,
        threshold=threshold,
        ctcae_version=settings.ctcae_version,
        flags=tuple(context.flags),
        not_computed=not_computed,
        notes=tuple(context.notes),
    )


def _name(term: TermCriteria, settings: LabGradingSettings) -> str:
    return f"CTCAE v{settings.ctcae_version} {term.term}"


def _shown(value: Decimal, unit: str) -> str:
    return Measurement(value, "" if unit in ("ratio", "pH") else unit).describe()


# --- Grade 4 neutropenia lasting more than N days (docs/visits.md §5) ---------------------------


class GapPolicy(StrEnum):
    """How the time between two samples counts towards a grade 4 episode."""

    # Grade 4 lasts from the first grade 4 result until the first result that is not grade 4,
    # whatever the time between samples (the protocol's words, read literally).
    UNTIL_NEXT_RESULT = "until_next_result"
    # Grade 4 is counted only up to the last grade 4 result: the duration proven by samples.
    LAST_GRADE4_RESULT = "last_grade4_result"


class DurationOutcome(StrEnum):
    POSSIBLE_DLT = "possible_dlt"  # an episode starting in the window lasted more than N days
    UNRESOLVED = "unresolved"  # grade 4 not yet followed by a recovery result, N not reached
    NOT_MET = "not_met"  # every episode recovered within N days
    NO_GRADE_4 = "no_grade_4"


@dataclass(frozen=True)
class NeutropeniaDurationSettings:
    """Protocol settings: `max_days` (grade 4 lasting more than this is a possible DLT; often 7),
    how gaps between samples count, and the gap above which the duration is flagged uncertain."""

    max_days: int = 7
    gap_policy: GapPolicy = GapPolicy.UNTIL_NEXT_RESULT
    max_gap_days: int = 3
    grading: LabGradingSettings = LabGradingSettings()

    def __post_init__(self) -> None:
        object.__setattr__(self, "gap_policy", as_choice(GapPolicy, self.gap_policy, "gap_policy"))
        if self.max_days < 1:
            raise VisitsInputError("max_days: at least 1 day")
        if self.max_gap_days < 1:
            raise VisitsInputError("max_gap_days: at least 1 day")


@dataclass(frozen=True)
class Grade4Episode:
    start: date  # the first grade 4 result
    last_grade4_on: date
    recovered_on: date | None  # the first result that is not grade 4 (None: not yet)
    days: int  # duration counted under the gap policy
    exceeds: bool
    results: tuple[str, ...]  # the results used: "reference (date, value unit, grade g)"
    long_gaps: tuple[tuple[date, date], ...]  # consecutive samples further apart than allowed


@dataclass(frozen=True)
class NeutropeniaDurationFlag:
    outcome: DurationOutcome
    text: str
    episodes: tuple[Grade4Episode, ...]
    max_days: int
    gap_policy: GapPolicy
    window_start: date
    window_end: date
    rules_version: str = RULES_VERSION

    @property
    def possible_dlt(self) -> bool:
        return self.outcome is DurationOutcome.POSSIBLE_DLT


def grade4_neutropenia_duration(
    results: Sequence[LabResult],
    *,
    window_start: date,
    window_end: date,
    settings: NeutropeniaDurationSettings | None = None,
) -> NeutropeniaDurationFlag:
    """Flag grade 4 neutropenia starting inside the DLT window and lasting more than
    `settings.max_days` days as a possible DLT (docs/visits.md §5).

    An episode starts at a grade 4 result dated inside the window and lasts until the first later
    result that is not grade 4 (results after the window still measure it). Results on one date
    keep the order given.
    """
    settings = settings or NeutropeniaDurationSettings()
    if window_end < window_start:
        raise VisitsInputError("DLT window: the end is before the start")
    term = ctcae_v5.NEUTROPHIL_COUNT_DECREASED
    dated: list[tuple[date, int, LabResult, LabGrade]] = []
    for index, result in enumerate(results):
        if result.test != term.test:
            raise VisitsInputError(
                f"neutropenia duration: {result.test} is not a {term.test} result"
            )
        if result.sampled_on is None:
            raise VisitsInputError(
                f"neutropenia duration: result {result.reference or index + 1} has no sample date"
            )
        dated.append((result.sampled_on, index, result, grade_term(term, result, settings.grading)))
    dated.sort(key=lambda item: (item[0], item[1]))

    episodes: list[Grade4Episode] = []
    position = 0
    while position < len(dated):
        sampled_on, _, _, grade = dated[position]
        if grade.grade != 4 or not window_start <= sampled_on <= window_end:
            position += 1
            continue
        episode, position = _episode(dated, position, settings)
        episodes.append(episode)

    return _duration_flag(episodes, settings, window_start, window_end)


def _episode(
    dated: list[tuple[date, int, LabResult, LabGrade]],
    start_position: int,
    settings: NeutropeniaDurationSettings,
) -> tuple[Grade4Episode, int]:
    start = dated[start_position][0]
    used: list[str] = []
    long_gaps: list[tuple[date, date]] = []
    last_grade4_on = start
    recovered_on: date | None = None
    previous: date | None = None
    position = start_position
    while position < len(dated):
        sampled_on, index, result, grade = dated[position]
        if previous is not None and (sampled_on - previous).days > settings.max_gap_days:
            long_gaps.append((previous, sampled_on))
        previous = sampled_on
        used.append(
            f"{result.reference or f'result {index + 1}'} ({sampled_on.isoformat()}, "
            f"{_shown(grade.value, grade.unit)}, grade {grade.grade})"
        )
        position += 1
        if grade.grade == 4:
            last_grade4_on = sampled_on
        else:
            recovered_on = sampled_on
            break
    if settings.gap_policy is GapPolicy.UNTIL_NEXT_RESULT and recovered_on is not None:
        days = (recovered_on - start).days
    else:
        days = (last_grade4_on - start).days
    return (
        Grade4Episode(
            start=start,
            last_grade4_on=last_grade4_on,
            recovered_on=recovered_on,
            days=days,
            exceeds=days > settings.max_days,
            results=tuple(used),
            long_gaps=tuple(long_gaps),
        ),
        position,
    )


def _duration_flag(
    episodes: list[Grade4Episode],
    settings: NeutropeniaDurationSettings,
    window_start: date,
    window_end: date,
) -> NeutropeniaDurationFlag:
    n = settings.max_days
    window = f"{window_start.isoformat()} to {window_end.isoformat()}"
    if any(episode.exceeds for episode in episodes):
        outcome = DurationOutcome.POSSIBLE_DLT
        episode = next(episode for episode in episodes if episode.exceeds)
        text = (
            f"possible DLT: grade 4 neutropenia from {episode.start.isoformat()} lasted "
            f"{episode.days} days (more than {n}); results used: {'; '.join(episode.results)}"
        )
    elif any(episode.recovered_on is None for episode in episodes):
        outcome = DurationOutcome.UNRESOLVED
        episode = next(episode for episode in episodes if episode.recovered_on is None)
        text = (
            f"grade 4 neutropenia from {episode.start.isoformat()} not yet followed by a result "
            f"that is not grade 4 ({episode.days} days so far, a DLT if more than {n}); "
            f"results used: {'; '.join(episode.results)}"
        )
    elif episodes:
        outcome = DurationOutcome.NOT_MET
        text = (
            f"grade 4 neutropenia in the DLT window ({window}) lasted at most "
            f"{max(episode.days for episode in episodes)} days (not more than {n})"
        )
    else:
        outcome = DurationOutcome.NO_GRADE_4
        text = f"no grade 4 neutrophil count in the DLT window ({window})"
    if any(episode.long_gaps for episode in episodes):
        text += (
            f"; duration uncertain: samples more than {settings.max_gap_days} days apart "
            f"(counted under '{settings.gap_policy.value}')"
        )
    return NeutropeniaDurationFlag(
        outcome=outcome,
        text=text,
        episodes=tuple(episodes),
        max_days=n,
        gap_policy=settings.gap_policy,
        window_start=window_start,
        window_end=window_end,
    )
