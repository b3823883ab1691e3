"""Adverse-event tables as plain Python: rows in, a table out (no database, no Django).

Whether an event is treatment-emergent (TEAE) is the one rule of docs/safety.md §3,
`safety.rules.treatment_emergence`, applied event by event: onset on or after the start of the
subject's first infusion (on the day of the first dose, an onset time before the infusion's start
time, both site local, is before treatment; an unknown time on either side counts), and, for an
event with a baseline grade, a grade above it.

For each (system organ class, CTCAE term) and each column group (a dose level on a regimen, and
the total) the table counts subjects, not events: a subject with the same term twice counts once,
at the worst grade. Percentages are of the subjects dosed in the group (at least one dose).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, time
from decimal import ROUND_HALF_UP, Decimal

from safety.rules import treatment_emergence

GRADES = (1, 2, 3, 4, 5)
TENTH = Decimal("0.1")


def one_decimal(value: Decimal) -> Decimal:
    """Rounded to one decimal half away from zero, as SAS ROUND and the w.d formats of PUT
    round (SAS 9.4 Functions and CALL Routines, ROUND function), so the tables reconcile with the
    sponsor's TFLs: 1 of 16 = 6.25% is 6.3, not the 6.2 of Python's round-half-to-even on
    floats. Percentages of subjects are exact in decimal whenever their last digit is a 5 (the
    denominator then divides a power of ten), so no binary error tips the rounding."""
    return value.quantize(TENTH, rounding=ROUND_HALF_UP)


@dataclass(frozen=True, order=True)
class Group:
    """A column group: the subjects of one dose level on one regimen (or the total)."""

    order: tuple
    key: str
    label: str

    @property
    def is_total(self) -> bool:
        return self.key == TOTAL.key


TOTAL = Group(order=(10**9,), key="total", label="Total")


def dose_group(
    *, regimen: str, regimen_order: int, amount, unit: str, dose_label: str | None = None
) -> Group:
    """The column group of a dose level on a regimen, ordered by regimen then dose."""
    shown = f"{amount.normalize():f}" if hasattr(amount, "normalize") else str(amount)
    label = f"{dose_label or shown} {unit} {regimen}".replace("  ", " ").strip()
    return Group(order=(regimen_order, regimen, amount), key=f"{regimen}:{shown}", label=label)


@dataclass(frozen=True)
class Exposure:
    """A subject of the table's population and the group they belong to."""

    subject_id: int
    group: Group
    first_dose: date | None  # None: never dosed, in no denominator and no count
    # The minute the first infusion started, site local time (None: not known).
    first_dose_time: time | None = None


@dataclass(frozen=True)
class Event:
    subject_id: int
    soc: str
    term: str
    grade: int
    onset: date
    related: bool = False
    onset_time: time | None = None  # site local time, when known
    baseline_grade: int | None = None  # a pre-existing condition's grade before the first dose


@dataclass
class Cell:
    """Subjects with the event in one group, by their worst grade."""

    denominator: int
    by_grade: dict[int, int] = field(default_factory=lambda: dict.fromkeys(GRADES, 0))

    @property
    def any(self) -> int:
        return sum(self.by_grade.values())

    @property
    def grade3_or_more(self) -> int:
        return sum(n for grade, n in self.by_grade.items() if grade >= 3)

    def count(self, column: str) -> int:
        """`column` is "any", "1".."5" or "ge3"."""
        if column == "any":
            return self.any
        if column == "ge3":
            return self.grade3_or_more
        return self.by_grade[int(column)]

    def percent(self, column: str) -> Decimal | None:
        """n / N in %, rounded half up to one decimal (`one_decimal`)."""
        if not self.denominator:
            return None
        return one_decimal(Decimal(100 * self.count(column)) / Decimal(self.denominator))


COLUMNS = (
    ("any", "Any grade"),
    ("1", "Grade 1"),
    ("2", "Grade 2"),
    ("3", "Grade 3"),
    ("4", "Grade 4"),
    ("5", "Grade 5"),
    ("ge3", "Grade \u2265 3"),
)


@dataclass
class Row:
    level: str  # "any" (any TEAE), "soc" or "term"
    soc: str
    term: str
    cells: list[Cell]  # one per group of the table, the total last

    @property
    def label(self) -> str:
        if self.level == "any":
            return "Any treatment-emergent adverse event"
        return self.term if self.level == "term" else self.soc


@dataclass
class AeTable:
    groups: list[Group]  # the column groups, the total last
    rows: list[Row]
    related_only: bool
    events_counted: int  # adverse events that met the table's definition
    # Reported events of dosed subjects left out as not treatment-emergent: onset before the
    # first infusion, or not worse than the baseline grade (docs/safety.md §3).
    events_not_emergent: int
    events_undosed: int  # events of subjects never dosed

    @property
    def denominators(self) -> list[int]:
        return [cell.denominator for cell in self.rows[0].cells] if self.rows else []

    @property
    def headed_groups(self) -> list[tuple[Group, int]]:
        return list(zip(self.groups, self.denominators, strict=True))

    def cell(self, level: str, group_key: str, soc: str = "", term: str = "") -> Cell:
        """The cell of a row ("any", "soc" or "term") and a group key ("total" for the total)."""
        column = next(i for i, g in enumerate(self.groups) if g.key == group_key)
        row = next(
            r
            for r in self.rows
            if (r.level, r.soc, r.term) == (level, soc if level != "any" else "", term)
        )
        return row.cells[column]


def display_rows(table: AeTable, columns: list[str]) -> list[tuple[Row, list[tuple]]]:
    """Each row with its cells ready to print: (column id, count, percentage text or "")."""
    out = []
    for row in table.rows:
        cells = []
        for g, cell in enumerate(row.cells):
            for key in columns:
                n, percent = cell.count(key), cell.percent(key)
                text = "" if percent is None or n == 0 else f"{percent}"
                cells.append((f"{g}:{key}", key, n, text, percent is None))
        out.append((row, cells))
    return out


def format_cell(n: int, percent: Decimal | None) -> str:
    if percent is None:
        return "\u2014"
    if n == 0:
        return "0"
    return f"{n} ({percent}%)"


@dataclass(frozen=True)
class WorstGrade:
    """How many subjects of a column group have `grade` as their worst on a row of the table
    (`level` "any", "soc" or "term"; `soc` and `term` empty where the level has none)."""

    level: str
    soc: str
    term: str
    group: Group
    grade: int
    subjects: int


def build_ae_table(
    population: Iterable[Exposure],
    events: Iterable[Event],
    *,
    related_only: bool = False,
    onset_from: date | None = None,
    onset_to: date | None = None,
) -> AeTable:
    """Subjects with each treatment-emergent event, by worst grade, per group and in total.

    Rows: any TEAE first, then each system organ class (subjects with any event in it, at their
    worst grade across its terms) followed by its terms; classes and terms by descending total
    count, ties alphabetical. `onset_from`/`onset_to` narrow the events counted (the denominators
    stay the dosed subjects of each group).

    This is the table's definition, event by event; the page has the database count the same
    worst grades (monitoring/pages/ae_tables.py) and assembles them with `ae_table_of`.
    """
    population = list(population)
    exposed = {p.subject_id: p for p in population if p.first_dose is not None}
    worst_term: dict[tuple[str, str], dict[int, int]] = defaultdict(dict)
    worst_soc: dict[str, dict[int, int]] = defaultdict(dict)
    worst_any: dict[int, int] = {}
    counted = not_emergent = undosed = 0
    for event in events:
        if onset_from is not None and event.onset < onset_from:
            continue
        if onset_to is not None and event.onset > onset_to:
            continue
        if related_only and not event.related:
            continue
        subject = exposed.get(event.subject_id)
        if subject is None:
            undosed += 1
            continue
        emergence = treatment_emergence(
            onset_date=event.onset,
            onset_time=event.onset_time,
            first_dose_date=subject.first_dose,
            first_dose_time=subject.first_dose_time,
            grade=event.grade,
            baseline_grade=event.baseline_grade,
        )
        if not emergence.emergent:
            not_emergent += 1
            continue
        counted += 1
        for worst, key in (
            (worst_term[(event.soc, event.term)], event.subject_id),
            (worst_soc[event.soc], event.subject_id),
            (worst_any, event.subject_id),
        ):
            if event.grade > worst.get(key, 0):
                worst[key] = event.grade

    counts: Counter[tuple[str, str, str, Group, int]] = Counter()
    for level, soc, term, worst in (
        *(("term", soc, term, w) for (soc, term), w in worst_term.items()),
        *(("soc", soc, "", w) for soc, w in worst_soc.items()),
        ("any", "", "", worst_any),
    ):
        for subject_id, grade in worst.items():
            counts[(level, soc, term, exposed[subject_id].group, grade)] += 1
    return ae_table_of(
        population,
        [WorstGrade(*key, subjects=n) for key, n in counts.items()],
        related_only=related_only,
        events_counted=counted,
        events_not_emergent=not_emergent,
        events_undosed=undosed,
    )


def ae_table_of(
    population: Iterable[Exposure],
    worst_grades: Iterable[WorstGrade],
    *,
    related_only: bool,
    events_counted: int,
    events_not_emergent: int,
    events_undosed: int,
) -> AeTable:
    """The table from the subjects counted at their worst grade on each row and group (see
    `build_ae_table` for what is counted and how rows are ordered). A subject belongs to one
    group, so the total column is the sum of the groups."""
    exposed = [p for p in population if p.first_dose is not None]
    columns = [*sorted({p.group for p in exposed}), TOTAL]
    denominators = Counter(p.group for p in exposed)
    denominators[TOTAL] = len(exposed)

    def blank() -> dict[Group, Cell]:
        return {group: Cell(denominators[group]) for group in columns}

    cells: dict[tuple[str, str, str], dict[Group, Cell]] = defaultdict(blank)
    for worst in worst_grades:
        row = cells[(worst.level, worst.soc, worst.term)]
        row[worst.group].by_grade[worst.grade] += worst.subjects
        row[TOTAL].by_grade[worst.grade] += worst.subjects

    def ranked(keys, name: int):
        # By descending total of subjects, ties alphabetical (case-insensitive, then as written).
        return sorted(keys, key=lambda k: (-cells[k][TOTAL].any, k[name].casefold(), k[name]))

    rows = [Row("any", "", "", [cells[("any", "", "")][g] for g in columns])]
    for soc_key in ranked([k for k in list(cells) if k[0] == "soc"], 1):
        soc = soc_key[1]
        rows.append(Row("soc", soc, "", [cells[soc_key][g] for g in columns]))
        for term_key in ranked([k for k in list(cells) if k[0] == "term" and k[1] == soc], 2):
            rows.append(Row("term", soc, term_key[2], [cells[term_key][g] for g in columns]))
    return AeTable(
        groups=columns,
        rows=rows,
        related_only=related_only,
        events_counted=events_counted,
        events_not_emergent=events_not_emergent,
        events_undosed=events_undosed,
    )


def ae_table_csv(table: AeTable) -> tuple[list[str], list[list]]:
    """The table as CSV header and rows: per group, a count and a percentage per grade column."""
    header = ["Row", "System organ class", "CTCAE term"]
    for group, denominator in zip(table.groups, table.denominators, strict=True):
        for _key, label in COLUMNS:
            header.append(f"{group.label} (N={denominator}) {label} n")
            header.append(f"{group.label} (N={denominator}) {label} %")
    rows = []
    for row in table.rows:
        line: list = [row.level, row.soc, row.term]
        for cell in row.cells:
            for key, _label in COLUMNS:
                percent = cell.percent(key)
                line.append(cell.count(key))
                line.append("" if percent is None else percent)
        rows.append(line)
    return header, rows
