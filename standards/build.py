"""From the registered domain mappings to datasets: rows in order, --SEQ, SUPP-- datasets, text
longer than 200 characters split as SDTMIG 3.4 §4.5.3.2 says, and each column's length."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from . import registry
from .mapping import SUPP, Domain, Qualifier, Variable

MAX_TEXT_BYTES = 200  # SAS XPORT v5 character variables (docs/standards.md §7.1)


class ExportRefused(Exception):
    """The data cannot be represented as the standard requires; the message says where."""


@dataclass
class Column:
    variable: Variable
    length: int

    @property
    def name(self) -> str:
        return self.variable.name


@dataclass
class Dataset:
    name: str
    label: str
    observation_class: str
    structure: str
    keys: tuple[str, ...]
    columns: list[Column]
    rows: list[dict[str, Any]]
    domain: Domain | None = None
    parent: str | None = None  # the parent domain of a SUPP-- dataset
    qualifiers: tuple[Qualifier, ...] = field(default=())

    @property
    def filename(self) -> str:
        return self.name.lower()

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


SUPPQUAL_VARIABLES = (
    Variable("STUDYID", "Study Identifier", "Char", "Req", "Assigned", "The parent's STUDYID"),
    Variable(
        "RDOMAIN",
        "Related Domain Abbreviation",
        "Char",
        "Req",
        "Assigned",
        "The parent domain",
        codelist="DOMAIN",
    ),
    Variable("USUBJID", "Unique Subject Identifier", "Char", "Req", "Assigned", "The parent's"),
    Variable("IDVAR", "Identifying Variable", "Char", "Exp", "Assigned", "--SEQ"),
    Variable("IDVARVAL", "Identifying Variable Value", "Char", "Exp", "Assigned", "The --SEQ"),
    Variable("QNAM", "Qualifier Variable Name", "Char", "Req", "Assigned", "Declared qualifier"),
    Variable("QLABEL", "Qualifier Variable Label", "Char", "Req", "Assigned", "Its label"),
    Variable("QVAL", "Data Value", "Char", "Req", "Assigned", "See the qualifier"),
    Variable("QORIG", "Origin", "Char", "Req", "Assigned", "The qualifier's origin"),
    Variable("QEVAL", "Evaluator", "Char", "Exp", "Assigned", "Who judged it", codelist="EVAL"),
)


def _sort_key(names: tuple[str, ...]) -> Callable[[dict[str, Any]], tuple[Any, ...]]:
    def key(row: dict[str, Any]) -> tuple[Any, ...]:
        parts: list[tuple[int, Any]] = []
        for name in names:
            value = row.get(name)
            parts.append((1, 0) if value is None or value == "" else (0, value))
        return tuple(parts)

    return key


def _split_text(value: str) -> list[str]:
    """Pieces of at most 200 bytes, cut between words where a space falls in the last quarter
    of a piece (SDTMIG 3.4 §4.5.3.2). The space at a cut is dropped, since XPT keeps no trailing
    blanks: the pieces join with one space where they were cut at one."""
    pieces = []
    rest = value
    while len(rest.encode("utf-8")) > MAX_TEXT_BYTES:
        cut = MAX_TEXT_BYTES
        while len(rest[:cut].encode("utf-8")) > MAX_TEXT_BYTES:
            cut -= 1
        space = rest.rfind(" ", MAX_TEXT_BYTES * 3 // 4, cut + 1)
        if space > 0:
            pieces.append(rest[:space])
            rest = rest[space + 1 :]
        else:
            pieces.append(rest[:cut])
            rest = rest[cut:]
    pieces.append(rest)
    return pieces


def overflow_qnam(name: str, index: int) -> str:
    """SDTMIG 3.4 §4.5.3.2: the parts past 200 characters go to SUPP-- as <variable>1, 2, ...
    (the name cut to fit 8 characters)."""
    suffix = str(index)
    return name[: 8 - len(suffix)] + suffix


def build_domain(domain: Domain, ctx: Any) -> tuple[Dataset, Dataset | None]:
    rows = _domain_rows(domain, ctx)
    seq: str | None = domain.seq_variable if domain.subject_level else None
    if seq:
        counters: dict[str, int] = defaultdict(int)
        for row in rows:
            counters[row["USUBJID"]] += 1
            row[seq] = counters[row["USUBJID"]]
    qualifiers = _split_long_text(domain, rows, seq)
    supp_rows = _supp_rows(domain, rows, seq, {q.qnam: q for q in qualifiers})
    dataset = Dataset(
        name=domain.code,
        label=domain.label,
        observation_class=domain.observation_class,
        structure=domain.structure,
        keys=domain.keys,
        columns=_columns(domain.variables, rows),
        rows=rows,
        domain=domain,
    )
    supp = None
    if supp_rows:
        supp_rows.sort(key=lambda r: (r["USUBJID"], int(r["IDVARVAL"] or 0), r["QNAM"]))
        supp = Dataset(
            name=f"SUPP{domain.code}",
            label=f"Supplemental Qualifiers for {domain.code}",
            observation_class="RELATIONSHIP",
            structure="One record per supplemental qualifier per related parent domain record",
            keys=("STUDYID", "RDOMAIN", "USUBJID", "IDVAR", "IDVARVAL", "QNAM"),
            columns=_columns(SUPPQUAL_VARIABLES, supp_rows),
            rows=supp_rows,
            parent=domain.code,
            qualifiers=tuple(qualifiers),
        )
    return dataset, supp


def _domain_rows(domain: Domain, ctx: Any) -> list[dict[str, Any]]:
    """The mapping's rows with the declared variables only (empty text as null), sorted."""
    declared = {v.name for v in domain.variables}
    rows: list[dict[str, Any]] = []
    for raw in domain.rows(ctx):
        unknown = set(raw) - declared - {SUPP}
        if unknown:
            raise ExportRefused(f"{domain.code}: the mapping made undeclared variables {unknown}")
        row = {v.name: raw.get(v.name) for v in domain.variables}
        for name, value in row.items():
            if value == "":
                row[name] = None
        row[SUPP] = dict(raw.get(SUPP) or {})
        rows.append(row)
    rows.sort(key=_sort_key(domain.sort or domain.keys))
    return rows


def _split_long_text(domain: Domain, rows: list[dict[str, Any]], seq: str | None) -> list:
    """Text past 200 characters goes to SUPP-- qualifiers (SDTMIG 3.4 §4.5.3.2); returns the
    domain's qualifiers with those added."""
    qualifiers = list(domain.qualifiers)
    known_qnams = {q.qnam for q in qualifiers}
    for variable in domain.variables:
        if variable.type != "Char":
            continue
        for row in rows:
            value = row[variable.name]
            if value is None or len(value.encode("utf-8")) <= MAX_TEXT_BYTES:
                continue
            if not (domain.subject_level and seq):
                raise ExportRefused(
                    f"{domain.code}.{variable.name} is longer than {MAX_TEXT_BYTES} characters "
                    f"({value[:40]}...): a trial design value must fit; shorten it at its source."
                )
            pieces = _split_text(value)
            row[variable.name] = pieces[0]
            for index, piece in enumerate(pieces[1:], start=1):
                qnam = overflow_qnam(variable.name, index)
                row[SUPP][qnam] = piece
                if qnam not in known_qnams:
                    known_qnams.add(qnam)
                    qualifiers.append(
                        Qualifier(
                            qnam,
                            f"{variable.label[:37]} {index}"[:40],
                            variable.origin,
                            f"{variable.name} text past {MAX_TEXT_BYTES * index} characters",
                        )
                    )
    return qualifiers


def _supp_rows(domain: Domain, rows: list[dict[str, Any]], seq: str | None, by_qnam) -> list:
    """The SUPP-- rows of the domain's supplemental qualifiers (taken off the rows)."""
    supp_rows = []
    for row in rows:
        supplements: dict[str, Any] = row.pop(SUPP)
        for qnam, value in supplements.items():
            if value is None or value == "":
                continue
            qualifier = by_qnam.get(qnam)
            if qualifier is None:
                raise ExportRefused(f"{domain.code}: qualifier {qnam} is not declared")
            # SUPPDM and the like: a one-record-per-subject parent is identified by USUBJID
            # alone, with IDVAR and IDVARVAL null (SDTMIG 3.4 §8.4).
            per_subject = domain.keys == ("STUDYID", "USUBJID")
            if seq is None and not per_subject:
                raise ExportRefused(f"{domain.code}: supplemental qualifiers need a --SEQ")
            supp_rows.append(
                {
                    "STUDYID": row["STUDYID"],
                    "RDOMAIN": domain.code,
                    "USUBJID": row["USUBJID"],
                    "IDVAR": seq,
                    "IDVARVAL": str(row[seq]) if seq else None,
                    "QNAM": qnam,
                    "QLABEL": qualifier.qlabel,
                    "QVAL": value,
                    "QORIG": qualifier.origin.upper(),
                    "QEVAL": qualifier.qeval or None,
                }
            )
    return supp_rows


def _columns(variables: tuple[Variable, ...], rows: list[dict[str, Any]]) -> list[Column]:
    columns = []
    for variable in variables:
        if variable.type == "Num":
            length = 8
        else:
            length = max(
                [len(r[variable.name].encode("utf-8")) for r in rows if r.get(variable.name)] or [1]
            )
        columns.append(Column(variable, variable.length or length))
    return columns


def build_datasets(ctx: Any, *, on_domain: Callable[[str], None] | None = None) -> list[Dataset]:
    """Every registered domain with records; empty domains are not produced
    (docs/standards.md §7.1)."""
    datasets = []
    for domain in registry.domains():
        if on_domain:
            on_domain(domain.code)
        dataset, supp = build_domain(domain, ctx)
        if dataset.rows:
            datasets.append(dataset)
        if supp is not None:
            datasets.append(supp)
    return datasets
