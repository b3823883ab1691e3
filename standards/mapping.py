"""How an SDTM domain is declared: one readable mapping per domain.

An app that owns data declares its domains in its own `sdtm.py` (docs/standards.md §9):

    register(Domain(
        code="AE", label="Adverse Events", ...,
        variables=(
            Variable("AETERM", "Reported Term for the Adverse Event", "Char", core="Req",
                     origin="Collected", source="AdverseEvent.verbatim_term"),
            ...
        ),
        rows=ae_rows,          # (ExportContext) -> iterable of {variable: value}
    ))

Each Variable carries what define.xml says about it (label, type, origin, source, codelist);
labels, types, order and core status are checked against the SDTMIG 3.4 variable table
(standards/spec/) by the tests and by the export's own conformance checks. A row may carry
`SUPP` = {QNAM: value} for the supplemental qualifiers declared in `qualifiers`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any, Literal

Origin = Literal["Collected", "Derived", "Assigned", "Protocol", "Predecessor"]
Core = Literal["Req", "Exp", "Perm"]
VarType = Literal["Char", "Num"]
SUPP = "SUPP"  # the row key that carries supplemental qualifier values

# Values the SDTMIG itself prescribes although the codelist does not hold them: DM RACE is
# MULTIPLE when several races are collected, each then in SUPPDM (SDTMIG 3.4 DM, RACE), while
# the CT RACE codelist (C74457, non-extensible) has no such term. The checks accept them; define.xml
# lists them without a C-code and says why on the codelist (docs/standards.md §5.1).
IG_PRESCRIBED_VALUES: dict[str, dict[str, str]] = {
    "RACE": {
        "MULTIPLE": "MULTIPLE is the value SDTMIG 3.4 DM prescribes for RACE when more than one "
        "race is collected (each race is then in SUPPDM as RACE1, RACE2, ...); it is not a term "
        "of the CDISC CT RACE codelist, which is not extensible."
    }
}


@dataclass(frozen=True)
class Variable:
    name: str
    label: str
    type: VarType
    core: Core
    origin: Origin
    source: str  # what the value is made from, in words define.xml shows
    codelist: str | None = None  # CT short name ("NY"), a sponsor list, or a dictionary
    data_type: str | None = None  # define.xml DataType; default: text / integer / float
    length: int | None = None  # fixed length; default: the longest value (docs/standards.md §7.1)
    significant_digits: int | None = None

    @property
    def is_timing(self) -> bool:
        return self.name.endswith("DTC")

    def define_data_type(self, values: Iterable[Any] = ()) -> str:
        if self.data_type:
            return self.data_type
        if self.type == "Char":
            return "datetime" if self.is_timing else "text"
        return "integer" if all(v is None or float(v).is_integer() for v in values) else "float"


@dataclass(frozen=True)
class Qualifier:
    """A supplemental qualifier (SUPP--, SDTMIG 3.4 §8.4): QNAM <= 8, QLABEL <= 40."""

    qnam: str
    qlabel: str
    origin: Origin
    source: str
    codelist: str | None = None
    qeval: str = ""  # who evaluated it, for judgements (e.g. "INVESTIGATOR")


@dataclass(frozen=True)
class SponsorCodelist:
    """A codelist the sponsor defines (no CDISC codelist exists, or an extensible one is
    extended); `external` names a dictionary instead (MedDRA, CTCAE) with its version."""

    name: str
    label: str
    terms: tuple[tuple[str, str], ...] = ()  # (submitted value, decode)
    external: tuple[str, str] | None = None  # (dictionary, version)
    # The version a study sets for the dictionary (e.g. MedDRA, docs/safety.md §9), by study id:
    # define.xml's ExternalCodeList then names it instead of `external`'s.
    version_of: Callable[[int], str] | None = field(default=None, compare=False)

    def for_study(self, study_id: int | None) -> SponsorCodelist:
        if study_id is None or self.version_of is None or self.external is None:
            return self
        return replace(self, external=(self.external[0], self.version_of(study_id)))


@dataclass(frozen=True)
class Domain:
    code: str
    label: str
    observation_class: str  # SDTM class as define.xml names it, e.g. "EVENTS"
    structure: str
    keys: tuple[str, ...]  # define.xml key variables, in order
    variables: tuple[Variable, ...]
    rows: Callable[[Any], Iterable[dict[str, Any]]]
    sort: tuple[str, ...] = ()  # order of records before --SEQ is assigned
    qualifiers: tuple[Qualifier, ...] = ()
    build_order: int = 50  # DM first (others need RFSTDTC), trial design next
    subject_level: bool = True
    comment: str = ""
    sponsor_codelists: tuple[SponsorCodelist, ...] = field(default=())

    @property
    def seq_variable(self) -> str | None:
        name = f"{self.code}SEQ"
        return name if any(v.name == name for v in self.variables) else None

    def variable(self, name: str) -> Variable:
        for variable in self.variables:
            if variable.name == name:
                return variable
        raise KeyError(f"{self.code} declares no variable {name}")


@dataclass(frozen=True)
class Contribution:
    """Records an app adds to a domain another app owns (docs/standards.md §9.1): biomarker
    results in the laboratory app's LB, say. `variables` are those its rows fill, declared as
    the SDTMIG table has them; one the owner also declares must agree with the owner's
    declaration but for its source, which define.xml then gives for both (`by` names whose
    records the source describes). The owner's and every contribution's rows are sorted
    together by the owner's sort keys and numbered once (--SEQ)."""

    code: str
    by: str
    rows: Callable[[Any], Iterable[dict[str, Any]]]
    variables: tuple[Variable, ...]
    qualifiers: tuple[Qualifier, ...] = ()
    comment: str = ""
    sponsor_codelists: tuple[SponsorCodelist, ...] = field(default=())


def identifiers(code: str, *, seq: bool = True, subject: bool = True) -> tuple[Variable, ...]:
    """STUDYID, DOMAIN, USUBJID and --SEQ: the identifiers every subject domain starts with."""
    variables = [
        Variable("STUDYID", "Study Identifier", "Char", "Req", "Protocol", "Study.protocol_number"),
        Variable("DOMAIN", "Domain Abbreviation", "Char", "Req", "Assigned", f'"{code}"', "DOMAIN"),
    ]
    if subject:
        variables.append(
            Variable(
                "USUBJID",
                "Unique Subject Identifier",
                "Char",
                "Req",
                "Derived",
                "STUDYID-SITEID-SUBJID",
            )
        )
    if seq:
        variables.append(
            Variable(
                f"{code}SEQ",
                "Sequence Number",
                "Num",
                "Req",
                "Derived",
                f"1, 2, ... per USUBJID in the order of {code}'s sort keys",
            )
        )
    return tuple(variables)


def epoch_variable() -> Variable:
    return Variable(
        "EPOCH",
        "Epoch",
        "Char",
        "Perm",
        "Derived",
        "SCREENING before the first dose, TREATMENT to the end of treatment, FOLLOW-UP after",
        "EPOCH",
    )
