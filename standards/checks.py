"""The product's conformance checks of an SDTM submission: a registry of named, versioned checks
(docs/standards.md §8).

The CDISC open rules engine (CORE) needs its rules cache from the CDISC Library (an API key and
network); this product does not have them, so it runs its own checks of the rules that matter
most, each citing where the rule comes from. Plain Python (no Django): datasets in, findings
out; each check is tested from a table of cases (tests/unit/standards/test_checks.py).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from typing import Any, Literal

from .build import MAX_TEXT_BYTES, Dataset
from .ct import Codelist, terminology
from .formats import MAX_LABEL, NAME
from .mapping import IG_PRESCRIBED_VALUES, SponsorCodelist
from .spec import ig_dataset
from .timing import complete_date, is_iso8601, is_iso8601_duration, study_day

Severity = Literal["error", "warning"]
# Variables of the SDTM v2.0 model that any subject domain may carry although its SDTMIG table
# does not list them (SDTMIG 3.4 §4.1.3, additional timing variables).
MODEL_TIMING = {
    "VISITNUM": ("Visit Number", "Num"),
    "VISIT": ("Visit Name", "Char"),
    "VISITDY": ("Planned Study Day of Visit", "Num"),
    "EPOCH": ("Epoch", "Char"),
    "TAETORD": ("Planned Order of Element within Arm", "Num"),
}


@dataclass(frozen=True)
class Finding:
    check: str
    version: str
    severity: Severity
    dataset: str
    variable: str
    record: int | None
    message: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Submission:
    datasets: tuple[Dataset, ...]
    sponsor_codelists: dict[str, SponsorCodelist]

    def dataset(self, name: str) -> Dataset | None:
        return next((d for d in self.datasets if d.name == name), None)


CheckFunction = Callable[[Submission], Iterator[tuple[str, str, int | None, str]]]


@dataclass(frozen=True)
class Check:
    id: str
    name: str
    version: str
    severity: Severity
    source: str
    function: CheckFunction

    def run(self, submission: Submission) -> list[Finding]:
        return [
            Finding(self.id, self.version, self.severity, dataset, variable, record, message)
            for dataset, variable, record, message in self.function(submission)
        ]


CHECKS: dict[str, Check] = {}


def check(
    id: str, name: str, *, version: str = "1", severity: Severity = "error", source: str
) -> Callable[[CheckFunction], CheckFunction]:
    def register(function: CheckFunction) -> CheckFunction:
        if id in CHECKS:
            raise ValueError(f"check {id} registered twice")
        CHECKS[id] = Check(id, name, version, severity, source, function)
        return function

    return register


def run_checks(submission: Submission) -> list[Finding]:
    findings: list[Finding] = []
    for registered in CHECKS.values():
        findings.extend(registered.run(submission))
    return findings


def _records(dataset: Dataset) -> Iterator[tuple[int, dict[str, Any]]]:
    return enumerate(dataset.rows, start=1)


def _names(dataset: Dataset) -> list[str]:
    return [c.name for c in dataset.columns]


# --- structure -------------------------------------------------------------------------------


@check(
    "STD0001",
    "Required variables present",
    source="SDTMIG 3.4 §4.1.5 (Req variables must be included)",
)
def required_present(submission: Submission) -> Iterator[tuple[str, str, int | None, str]]:
    for dataset in submission.datasets:
        spec = ig_dataset(dataset.name)
        if spec is None:
            continue
        names = set(_names(dataset))
        for variable in spec.variables:
            name = variable.name
            if variable.core == "Req" and name not in names:
                yield dataset.name, name, None, f"Required variable {name} is missing"


@check(
    "STD0002",
    "Required variables not null",
    source="SDTMIG 3.4 §4.1.5 (Req variables cannot be null)",
)
def required_not_null(submission: Submission) -> Iterator[tuple[str, str, int | None, str]]:
    for dataset in submission.datasets:
        for column in dataset.columns:
            if column.variable.core != "Req":
                continue
            for index, row in _records(dataset):
                if row.get(column.name) is None:
                    yield dataset.name, column.name, index, f"{column.name} is null"


@check(
    "STD0003",
    "Expected variables present and populated",
    severity="warning",
    source="SDTMIG 3.4 §4.1.5 (Exp variables included; null when not collected)",
)
def expected_present(submission: Submission) -> Iterator[tuple[str, str, int | None, str]]:
    for dataset in submission.datasets:
        spec = ig_dataset(dataset.name)
        if spec is None:
            continue
        names = set(_names(dataset))
        for variable in spec.variables:
            name = variable.name
            if variable.core != "Exp":
                continue
            if name not in names:
                yield dataset.name, name, None, f"Expected variable {name} is not included"
            elif dataset.rows and all(r.get(name) is None for r in dataset.rows):
                yield dataset.name, name, None, f"Expected variable {name} has no values"


@check(
    "STD0004",
    "Names fit SAS XPORT v5",
    source="FDA Study Data TCG (SAS XPORT v5); SAS TS-140: names of 1-8 letters, digits, _",
)
def names_v5(submission: Submission) -> Iterator[tuple[str, str, int | None, str]]:
    for dataset in submission.datasets:
        if not NAME.match(dataset.name):
            yield dataset.name, "", None, "Dataset name is not 1-8 letters, digits, underscores"
        for name in _names(dataset):
            if not NAME.match(name):
                yield dataset.name, name, None, "Variable name is not 1-8 letters/digits/_"
        if dataset.parent:
            for index, row in _records(dataset):
                qnam = row.get("QNAM") or ""
                if not NAME.match(qnam):
                    yield dataset.name, "QNAM", index, f"QNAM {qnam!r} is not a v5 name"


@check(
    "STD0005",
    "Labels of at most 40 characters",
    source="FDA Study Data TCG (SAS XPORT v5); SDTMIG 3.4 §8.4 (QLABEL <= 40)",
)
def labels_v5(submission: Submission) -> Iterator[tuple[str, str, int | None, str]]:
    for dataset in submission.datasets:
        if len(dataset.label) > MAX_LABEL:
            yield dataset.name, "", None, f"Dataset label over {MAX_LABEL} characters"
        for column in dataset.columns:
            if len(column.variable.label) > MAX_LABEL:
                yield dataset.name, column.name, None, f"Label over {MAX_LABEL} characters"
        if dataset.parent:
            for index, row in _records(dataset):
                if len(row.get("QLABEL") or "") > MAX_LABEL:
                    yield dataset.name, "QLABEL", index, f"QLABEL over {MAX_LABEL} characters"


@check(
    "STD0006",
    "Character values ASCII, at most 200 bytes",
    source="FDA Study Data TCG (SAS XPORT v5); SDTMIG 3.4 §4.5.3.2 (longer text split)",
)
def text_v5(submission: Submission) -> Iterator[tuple[str, str, int | None, str]]:
    for dataset in submission.datasets:
        for column in dataset.columns:
            if column.variable.type != "Char":
                continue
            for index, row in _records(dataset):
                value = row.get(column.name)
                if value is None:
                    continue
                if not value.isascii():
                    yield dataset.name, column.name, index, f"Not ASCII: {value[:40]!r}"
                elif len(value) > MAX_TEXT_BYTES:
                    yield dataset.name, column.name, index, f"{len(value)} characters, over 200"


@check(
    "STD0007",
    "Values match the variable type",
    source="SDTMIG 3.4 variable tables (Char/Num); Define-XML 2.1 ItemDef DataType",
)
def types(submission: Submission) -> Iterator[tuple[str, str, int | None, str]]:
    for dataset in submission.datasets:
        for column in dataset.columns:
            numeric = column.variable.type == "Num"
            for index, row in _records(dataset):
                value = row.get(column.name)
                if value is None:
                    continue
                if numeric and (isinstance(value, bool) or not isinstance(value, int | float)):
                    yield dataset.name, column.name, index, f"Num variable holds {value!r}"
                elif not numeric and not isinstance(value, str):
                    yield dataset.name, column.name, index, f"Char variable holds {value!r}"


@check(
    "STD0008",
    "Variables, labels, types and order as in the SDTMIG",
    source="SDTMIG 3.4 §4.1.4 (variable order) and its domain tables (standards/spec/)",
)
def ig_structure(submission: Submission) -> Iterator[tuple[str, str, int | None, str]]:
    for dataset in submission.datasets:
        spec = ig_dataset(dataset.name)
        if spec is None:
            yield dataset.name, "", None, "Not an SDTMIG 3.4 dataset"
            continue
        order = []
        for column in dataset.columns:
            name = column.name
            variable = spec.variable(name)
            if variable is None:
                timing = MODEL_TIMING.get(name)
                if timing is None:
                    yield dataset.name, name, None, "Not a variable of this SDTMIG domain"
                elif (column.variable.label, column.variable.type) != timing:
                    yield dataset.name, name, None, f"Label/type differ from {timing}"
                continue
            label = variable.label
            if column.variable.label != label:
                yield dataset.name, name, None, f"Label {column.variable.label!r} != {label!r}"
            if column.variable.type != variable.type:
                yield dataset.name, name, None, f"Type {column.variable.type} != {variable.type}"
            order.append((variable.order, name))
        if order != sorted(order):
            yield dataset.name, "", None, "Variables are not in the SDTMIG order"


# --- values ----------------------------------------------------------------------------------


def _codelists(name: str) -> list[Codelist]:
    ct = terminology()
    return [ct[part] for part in name.split("|") if part in ct]


def _coded_values(submission: Submission) -> Iterator[tuple[str, str, int, str, str | None]]:
    """(dataset, variable, record, value, codelist) of every value that has a codelist."""
    for dataset in submission.datasets:
        listed = {c.name: c.variable.codelist for c in dataset.columns if c.variable.codelist}
        qualifiers = {q.qnam: q.codelist for q in dataset.qualifiers if q.codelist}
        for index, row in _records(dataset):
            for name, codelist_name in listed.items():
                if row.get(name) is not None:
                    yield dataset.name, name, index, str(row[name]), codelist_name
            if dataset.parent and row.get("QNAM") in qualifiers:
                yield dataset.name, "QVAL", index, str(row.get("QVAL")), qualifiers[row["QNAM"]]


def _codelist_verdict(
    value: str, codelist_name: str, sponsor: dict[str, SponsorCodelist]
) -> tuple[str, str] | None:
    """None when the value is in its codelist; else ("error" | "extension", message)."""
    listed = sponsor.get(codelist_name)
    if listed is not None:
        if listed.external or value in {v for v, _ in listed.terms}:
            return None
        return "error", f"{value!r} is not in the sponsor codelist {codelist_name}"
    lists = _codelists(codelist_name)
    if not lists or any(value in c.terms for c in lists):
        return None
    if any(value in IG_PRESCRIBED_VALUES.get(c.name, {}) for c in lists):
        return None  # prescribed by the SDTMIG itself (standards/mapping.py)
    names = "/".join(c.name for c in lists)
    if all(not c.extensible for c in lists):
        return "error", f"{value!r} is not in the non-extensible codelist {names}"
    return "extension", f"{value!r} extends the extensible codelist {names}"


@check(
    "STD0009",
    "Values in their codelist",
    source="SDTMIG 3.4 §4.3 (controlled terminology); CDISC CT (pinned release)",
)
def codelist_values(submission: Submission) -> Iterator[tuple[str, str, int | None, str]]:
    for dataset, name, index, value, listed in _coded_values(submission):
        verdict = _codelist_verdict(value, listed or "", submission.sponsor_codelists)
        if verdict and verdict[0] == "error":
            yield dataset, name, index, verdict[1]


@check(
    "STD0010",
    "Sponsor extensions of extensible codelists",
    severity="warning",
    source="CDISC CT: extensible codelists may take sponsor terms (listed in define.xml)",
)
def codelist_extensions(submission: Submission) -> Iterator[tuple[str, str, int | None, str]]:
    for dataset, name, index, value, listed in _coded_values(submission):
        verdict = _codelist_verdict(value, listed or "", submission.sponsor_codelists)
        if verdict and verdict[0] == "extension":
            yield dataset, name, index, verdict[1]


@check(
    "STD0011",
    "Unique keys: USUBJID and --SEQ",
    source="SDTMIG 3.4 §4.1.9 (--SEQ unique within USUBJID and domain)",
)
def unique_keys(submission: Submission) -> Iterator[tuple[str, str, int | None, str]]:
    for dataset in submission.datasets:
        seq = dataset.domain.seq_variable if dataset.domain else None
        if seq and dataset.domain is not None and dataset.domain.subject_level:
            seen = Counter((r.get("USUBJID"), r.get(seq)) for r in dataset.rows)
            for (usubjid, number), count in seen.items():
                if count > 1:
                    yield dataset.name, seq, None, f"{usubjid} {seq}={number} appears {count}x"
        keys = dataset.keys
        if keys:
            seen_keys = Counter(tuple(r.get(k) for k in keys) for r in dataset.rows)
            for key, count in seen_keys.items():
                if count > 1:
                    yield dataset.name, ",".join(keys), None, f"Key {key} appears {count} times"


@check(
    "STD0012",
    "Dates and durations in ISO 8601",
    source="SDTMIG 3.4 §4.4.1 (--DTC), §4.4.3 (--DUR)",
)
def iso8601(submission: Submission) -> Iterator[tuple[str, str, int | None, str]]:
    for dataset in submission.datasets:
        for column in dataset.columns:
            is_dtc = column.name.endswith("DTC")
            is_dur = column.name.endswith("DUR")
            if not (is_dtc or is_dur):
                continue
            valid = is_iso8601 if is_dtc else is_iso8601_duration
            for index, row in _records(dataset):
                value = row.get(column.name)
                if value is not None and not valid(value):
                    yield dataset.name, column.name, index, f"{value!r} is not ISO 8601"
        if dataset.name == "TS":
            for index, row in _records(dataset):
                value = row.get("TSVAL")
                if row.get("TSVCDREF") == "ISO 8601" and value and not is_iso8601(value):
                    yield dataset.name, "TSVAL", index, f"{value!r} is not ISO 8601"


def _reference_starts(submission: Submission) -> dict[str, str]:
    dm = submission.dataset("DM")
    if dm is None:
        return {}
    return {r["USUBJID"]: r.get("RFSTDTC") or "" for r in dm.rows}


@check(
    "STD0013",
    "Study days: no day 0, consistent with --DTC and RFSTDTC",
    source="SDTMIG 3.4 §4.4.4",
)
def study_days(submission: Submission) -> Iterator[tuple[str, str, int | None, str]]:
    starts = _reference_starts(submission)
    for dataset in submission.datasets:
        for column in dataset.columns:
            name = column.name
            if not name.endswith("DY") or name == "VISITDY":
                continue
            source = name[:-2] + "DTC"
            if source not in _names(dataset):
                continue
            for index, row in _records(dataset):
                value = row.get(name)
                if value == 0:
                    yield dataset.name, name, index, "Study day 0 does not exist"
                reference = starts.get(str(row.get("USUBJID")), "")
                expected = study_day(row.get(source) or "", reference)
                if value != expected:
                    yield dataset.name, name, index, f"{value} but {source} gives {expected}"


@check(
    "STD0014",
    "Reference dates consistent with exposure",
    source="SDTMIG 3.4 DM assumptions (RFSTDTC, RFXSTDTC, RFXENDTC and EX)",
)
def reference_dates(submission: Submission) -> Iterator[tuple[str, str, int | None, str]]:
    dm, ex = submission.dataset("DM"), submission.dataset("EX")
    if dm is None:
        return
    starts: dict[str, list[str]] = defaultdict(list)
    ends: dict[str, list[str]] = defaultdict(list)
    for row in ex.rows if ex else []:
        starts[row["USUBJID"]].append(row.get("EXSTDTC") or "")
        ends[row["USUBJID"]].append(row.get("EXENDTC") or row.get("EXSTDTC") or "")
    for index, row in _records(dm):
        usubjid = row["USUBJID"]
        first = min(starts[usubjid]) if starts.get(usubjid) else None
        last = max(ends[usubjid]) if ends.get(usubjid) else None
        for name, expected in (("RFXSTDTC", first), ("RFSTDTC", first), ("RFXENDTC", last)):
            if (row.get(name) or None) != expected:
                yield (
                    "DM",
                    name,
                    index,
                    f"{usubjid}: {row.get(name)!r}, exposure gives {expected!r}",
                )
        consent, start = row.get("RFICDTC"), row.get("RFSTDTC")
        if consent and start:
            consent_day, start_day = complete_date(consent), complete_date(start)
            if consent_day and start_day and consent_day > start_day:
                yield "DM", "RFICDTC", index, f"{usubjid}: consent after the first dose"


@check(
    "STD0015",
    "Every subject record belongs to a subject in DM",
    source="SDTMIG 3.4 §5.2 (DM: one record per subject; all others link to it)",
)
def subjects_in_dm(submission: Submission) -> Iterator[tuple[str, str, int | None, str]]:
    dm = submission.dataset("DM")
    known = {r["USUBJID"] for r in dm.rows} if dm else set()
    for dataset in submission.datasets:
        if dataset.name == "DM" or "USUBJID" not in _names(dataset):
            continue
        for index, row in _records(dataset):
            if row.get("USUBJID") not in known:
                yield dataset.name, "USUBJID", index, f"{row.get('USUBJID')} is not in DM"


@check(
    "STD0016",
    "SUPP-- records point to a parent record",
    source="SDTMIG 3.4 §8.4 (SUPPQUAL: RDOMAIN, USUBJID, IDVAR, IDVARVAL)",
)
def supp_integrity(submission: Submission) -> Iterator[tuple[str, str, int | None, str]]:
    for dataset in submission.datasets:
        if not dataset.parent:
            continue
        parent = submission.dataset(dataset.parent)
        parents: set[tuple[Any, ...]] = set()
        if parent is not None:
            for row in parent.rows:
                parents.add((row.get("USUBJID"), None, None))  # IDVAR null: the subject's record
                for column in parent.columns:
                    value = row.get(column.name)
                    if value is not None:
                        parents.add((row.get("USUBJID"), column.name, str(value)))
        seen: Counter[tuple[Any, ...]] = Counter()
        for index, row in _records(dataset):
            if row.get("RDOMAIN") != dataset.parent:
                yield dataset.name, "RDOMAIN", index, f"RDOMAIN {row.get('RDOMAIN')!r}"
            key = (row.get("USUBJID"), row.get("IDVAR"), row.get("IDVARVAL"))
            if key not in parents:
                yield dataset.name, "IDVARVAL", index, f"No {dataset.parent} record {key}"
            seen[(*key, row.get("QNAM"))] += 1
        for key, count in seen.items():
            if count > 1:
                yield dataset.name, "QNAM", None, f"{key} appears {count} times"


@check(
    "STD0017",
    "Arms and epochs as in the trial design",
    source="SDTMIG 3.4 §7.2.1 (TA: ARMCD <= 20 characters); DM, EPOCH values from TA",
)
def trial_design(submission: Submission) -> Iterator[tuple[str, str, int | None, str]]:
    ta = submission.dataset("TA")
    arms = {r["ARMCD"] for r in ta.rows} if ta else set()
    epochs = {r["EPOCH"] for r in ta.rows} if ta else set()
    for dataset in submission.datasets:
        names = _names(dataset)
        for index, row in _records(dataset):
            for name in ("ARMCD", "ACTARMCD"):
                value = row.get(name) if name in names else None
                if value is None:
                    continue
                if len(value) > 20:
                    yield dataset.name, name, index, f"{value!r} is longer than 20 characters"
                if dataset.name != "TA" and ta is not None and value not in arms:
                    yield dataset.name, name, index, f"{value!r} is not an arm of TA"
            epoch = row.get("EPOCH") if "EPOCH" in names else None
            if epoch and ta is not None and dataset.name != "TA" and epoch not in epochs:
                yield dataset.name, "EPOCH", index, f"{epoch!r} is not an epoch of TA"


# DSDECOD's codelist follows DSCAT (SDTMIG 3.4 DS: NCOMPLT for disposition events, PROTMLST for
# protocol milestones; other events take a sponsor's term or NCOMPLT's DEATH, docs/standards.md
# §5.2).
DSDECOD_BY_CATEGORY = {"DISPOSITION EVENT": "NCOMPLT", "PROTOCOL MILESTONE": "PROTMLST"}


@check(
    "STD0018",
    "DSDECOD from the codelist of its DSCAT",
    source="SDTMIG 3.4 DS (DSDECOD: NCOMPLT for disposition events, PROTMLST for milestones)",
)
def ds_decode_by_category(submission: Submission) -> Iterator[tuple[str, str, int | None, str]]:
    ds = submission.dataset("DS")
    if ds is None:
        return
    ct = terminology()
    for index, row in _records(ds):
        category, value = row.get("DSCAT") or "", row.get("DSDECOD")
        name = DSDECOD_BY_CATEGORY.get(category)
        if name is None or value is None or value in ct[name].terms:
            continue
        other = next(
            (n for n in DSDECOD_BY_CATEGORY.values() if n != name and value in ct[n].terms), None
        )
        if other is not None:
            yield "DS", "DSDECOD", index, f"{value!r} is a {other} term, not {name} ({category})"
        elif not ct[name].extensible:
            yield "DS", "DSDECOD", index, f"{value!r} is not in {name} ({category})"


@check(
    "STD0019",
    "Deaths agree between DM and DS",
    source="SDTMIG 3.4 DM (DTHDTC, DTHFL) and DS (a death is a disposition record, DEATH)",
)
def deaths_in_dm_and_ds(submission: Submission) -> Iterator[tuple[str, str, int | None, str]]:
    dm, ds = submission.dataset("DM"), submission.dataset("DS")
    if dm is None:
        return
    deaths: dict[str, set[str]] = defaultdict(set)
    for row in ds.rows if ds else []:
        if row.get("DSDECOD") == "DEATH":
            deaths[row["USUBJID"]].add(row.get("DSSTDTC") or "")
    for index, row in _records(dm):
        usubjid, died = row["USUBJID"], row.get("DTHDTC")
        if (row.get("DTHFL") == "Y") != bool(died):
            yield "DM", "DTHFL", index, f"{usubjid}: DTHFL {row.get('DTHFL')!r}, DTHDTC {died!r}"
        if died and died not in deaths.get(usubjid, set()):
            yield "DS", "DSDECOD", None, f"{usubjid} died on {died}: no DS record DEATH that day"
        for day in deaths.get(usubjid, set()):
            if day != died:
                yield "DS", "DSSTDTC", None, f"{usubjid}: DEATH on {day!r}, DM DTHDTC {died!r}"


def validate(submission: Submission) -> list[Finding]:
    return run_checks(submission)
