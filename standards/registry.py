"""The standards registry: every SDTM domain the product can produce, declared by the app that
owns the data in its `sdtm.py` (found at start-up by `StandardsConfig.ready`), and the records
other apps contribute to a domain they do not own (docs/standards.md §9.1)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from itertools import chain
from typing import Any

from .mapping import Contribution, Domain, Qualifier, SponsorCodelist, Variable
from .spec import ig_dataset

_DOMAINS: dict[str, Domain] = {}
_CONTRIBUTIONS: dict[str, list[Contribution]] = {}
_SPONSOR_CODELISTS: dict[str, SponsorCodelist] = {}


class RegistryError(Exception):
    pass


def register(domain: Domain) -> Domain:
    """Add a domain; registering the same code twice with another mapping is an error."""
    existing = _DOMAINS.get(domain.code)
    if existing is not None and existing is not domain:
        raise RegistryError(f"Domain {domain.code} is already registered")
    names = [v.name for v in domain.variables]
    if len(set(names)) != len(names):
        raise RegistryError(f"{domain.code}: a variable is declared twice")
    unknown = set(domain.keys) - set(names)
    if unknown:
        raise RegistryError(f"{domain.code}: key variables not declared: {sorted(unknown)}")
    _DOMAINS[domain.code] = domain
    for codelist in domain.sponsor_codelists:
        register_codelist(codelist)
    return domain


def contribute(contribution: Contribution) -> Contribution:
    """Add records to another app's domain (merged when the domain is read: either app's
    `sdtm.py` may be imported first)."""
    listed = _CONTRIBUTIONS.setdefault(contribution.code, [])
    if any(c is contribution for c in listed):
        return contribution
    if any(c.by == contribution.by for c in listed):
        raise RegistryError(f"{contribution.code}: {contribution.by} already contributes")
    names = [v.name for v in contribution.variables]
    if len(set(names)) != len(names):
        raise RegistryError(f"{contribution.code} ({contribution.by}): a variable is repeated")
    listed.append(contribution)
    for codelist in contribution.sponsor_codelists:
        register_codelist(codelist)
    return contribution


def register_codelist(codelist: SponsorCodelist) -> SponsorCodelist:
    existing = _SPONSOR_CODELISTS.get(codelist.name)
    if existing is not None and existing != codelist:
        raise RegistryError(f"Sponsor codelist {codelist.name} is already registered otherwise")
    _SPONSOR_CODELISTS[codelist.name] = codelist
    return codelist


def domains() -> list[Domain]:
    """Registered domains, with what other apps contribute, in build order (DM first, then the
    rest by code)."""
    merged = (_merged(d) for d in _DOMAINS.values())
    return sorted(merged, key=lambda d: (d.build_order, d.code))


def domain(code: str) -> Domain:
    return _merged(_DOMAINS[code])


def contributions() -> dict[str, list[Contribution]]:
    """Every contribution by the code of the domain it adds to."""
    return {code: list(listed) for code, listed in _CONTRIBUTIONS.items()}


def sponsor_codelists(study_id: int | None = None) -> dict[str, SponsorCodelist]:
    """The sponsor codelists; with `study_id`, an external dictionary's version as the study
    sets it (e.g. its MedDRA version)."""
    return {name: c.for_study(study_id) for name, c in _SPONSOR_CODELISTS.items()}


# --- merging a domain with its contributions --------------------------------------------------

# What a shared variable must declare alike in the owner and a contribution: define.xml has one
# ItemDef per variable.
_SAME = ("label", "type", "core", "origin", "codelist", "data_type", "length")


def _merged(owner: Domain) -> Domain:
    listed = _CONTRIBUTIONS.get(owner.code)
    if not listed:
        return owner
    variables = {v.name: v for v in owner.variables}
    for contribution in listed:
        for variable in contribution.variables:
            variables[variable.name] = _shared(owner.code, variables.get(variable.name),
                                               variable, contribution.by)  # fmt: skip
    return replace(
        owner,
        variables=_in_ig_order(owner, list(variables.values())),
        rows=_chained(owner, listed),
        qualifiers=_qualifiers(owner, listed),
        comment=" ".join(filter(None, [owner.comment, *(c.comment for c in listed)])),
    )


def _shared(code: str, mine: Variable | None, theirs: Variable, by: str) -> Variable:
    if mine is None:
        return replace(theirs, source=f"{by}: {theirs.source}")
    differ = [name for name in _SAME if getattr(mine, name) != getattr(theirs, name)]
    if differ:
        raise RegistryError(f"{code}.{mine.name}: {by} declares {', '.join(differ)} otherwise")
    return replace(mine, source=f"{mine.source}; {by}: {theirs.source}")


def _in_ig_order(owner: Domain, variables: list[Variable]) -> tuple[Variable, ...]:
    """The SDTMIG table's order; a variable the table lacks (a model timing variable the owner
    declares) stays after the one the owner declares before it."""
    spec = ig_dataset(owner.code)
    orders: dict[str, float] = {}
    previous = 0.0
    for index, variable in enumerate(owner.variables):
        listed = spec.variable(variable.name) if spec else None
        previous = float(listed.order) if listed else previous + 1e-3 * (index + 1)
        orders[variable.name] = previous
    for variable in variables:
        if variable.name not in orders:
            listed = spec.variable(variable.name) if spec else None
            if listed is None:
                raise RegistryError(
                    f"{owner.code}.{variable.name}: a contribution declares only variables of "
                    "the SDTMIG table"
                )
            orders[variable.name] = float(listed.order)
    return tuple(sorted(variables, key=lambda v: orders[v.name]))


def _chained(owner: Domain, listed: list[Contribution]):
    def rows(ctx: Any) -> Iterator[dict[str, Any]]:
        return chain(owner.rows(ctx), *(c.rows(ctx) for c in listed))

    return rows


def _qualifiers(owner: Domain, listed: list[Contribution]) -> tuple[Qualifier, ...]:
    by_qnam = {q.qnam: q for q in owner.qualifiers}
    for contribution in listed:
        for qualifier in contribution.qualifiers:
            existing = by_qnam.get(qualifier.qnam)
            if existing is not None and existing != qualifier:
                raise RegistryError(
                    f"SUPP{owner.code}.{qualifier.qnam}: {contribution.by} declares it otherwise"
                )
            by_qnam[qualifier.qnam] = qualifier
    return tuple(by_qnam.values())
