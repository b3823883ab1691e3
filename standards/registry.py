"""The standards registry: every SDTM domain the product can produce, declared by the app that
owns the data in its `sdtm.py` (found at start-up by `StandardsConfig.ready`)."""

from __future__ import annotations

from .mapping import Domain, SponsorCodelist

_DOMAINS: dict[str, Domain] = {}
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


def register_codelist(codelist: SponsorCodelist) -> SponsorCodelist:
    existing = _SPONSOR_CODELISTS.get(codelist.name)
    if existing is not None and existing != codelist:
        raise RegistryError(f"Sponsor codelist {codelist.name} is already registered otherwise")
    _SPONSOR_CODELISTS[codelist.name] = codelist
    return codelist


def domains() -> list[Domain]:
    """Registered domains in build order (DM first, then the rest by code)."""
    return sorted(_DOMAINS.values(), key=lambda d: (d.build_order, d.code))


def domain(code: str) -> Domain:
    return _DOMAINS[code]


def sponsor_codelists() -> dict[str, SponsorCodelist]:
    return dict(_SPONSOR_CODELISTS)
