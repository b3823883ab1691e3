"""The one place that decides which rows a user may see and touch.

Every page, endpoint, task acting for a user and service checks access here. A model opts in by
naming the path from itself to its study and (for site-level data) to its site:

    class Subject(ClinicalRecord):
        scope_study = "study"
        scope_site = "site"

Study-level configuration (dose levels, cohorts) has no `scope_site`: every member of the study
sees it. A row outside the user's scope is simply absent from the queryset, so detail views
answer 404 for another site's record rather than revealing that it exists.

Access to clinical data comes from study roles only. A Django superuser (or staff member) has
configuration rights in the admin, not clinical powers: without a membership they see and do
nothing here, so entering, correcting, adjudicating and signing stay with the people whose role
allows it (segregation of duties, 21 CFR 11.10(d) and (g)).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Q, QuerySet

from core.errors import PermissionDenied

from .roles import (
    CAPABILITIES,
    EXPORT_ROLES,
    SITE_OPTIONAL_ROLES,
    SITE_ROLES,
    STUDY_ROLES,
    Capability,
    Role,
)

if TYPE_CHECKING:
    from trial.models import Study


def site_limited(membership) -> bool:
    """Is this membership limited to the sites it names? Site roles always are; a clinical
    research associate is when sites are named, and study-wide otherwise (docs/quality.md §3)."""
    role = Role(membership.role)
    return role in SITE_ROLES or (role in SITE_OPTIONAL_ROLES and bool(membership.site_ids()))


def _id_lookup(path: str) -> str:
    """'pk' -> 'pk'; 'study' -> 'study_id'; 'subject__site' -> 'subject__site_id'."""
    return "pk" if path in ("", "pk") else f"{path}_id"


def restrict(queryset: QuerySet, user, capability: Capability = Capability.VIEW) -> QuerySet:
    """`queryset` narrowed to what `user` may do `capability` on."""
    if user is None or not user.is_authenticated or not user.is_active:
        return queryset.none()
    model = queryset.model
    study_path = getattr(model, "scope_study", None)
    if study_path is None:
        raise TypeError(f"{model.__name__} declares no scope_study; it cannot be scoped")
    site_path = getattr(model, "scope_site", None)
    condition = Q(pk__in=[])
    for membership in user.memberships_cached():
        role = Role(membership.role)
        if capability not in CAPABILITIES[role]:
            continue
        allowed = Q(**{_id_lookup(study_path): membership.study_id})
        if site_limited(membership) and site_path is not None:
            allowed &= Q(**{f"{_id_lookup(site_path)}__in": membership.site_ids()})
        condition |= allowed
    return queryset.filter(condition)


def _memberships(user) -> list:
    """The user's active memberships, loaded once per request; none for an anonymous or
    deactivated user."""
    if user is None or not user.is_authenticated or not user.is_active:
        return []
    return user.memberships_cached()


def studies_with_role(user, roles: frozenset[Role]) -> set[int]:
    """The studies where the user holds one of `roles`."""
    return {m.study_id for m in _memberships(user) if Role(m.role) in roles}


def member_study_ids(user) -> set[int]:
    """The studies where the user holds any role."""
    return {m.study_id for m in _memberships(user)}


def beyond_site_study_ids(user) -> set[int]:
    """The studies where the user holds a role other than a site role (coordinator,
    investigator): the study-wide roles and the clinical research associate."""
    return {m.study_id for m in _memberships(user) if Role(m.role) not in SITE_ROLES}


def held_roles(user) -> set[tuple[int, Role]]:
    """(study, role) of each role the user holds."""
    return {(m.study_id, Role(m.role)) for m in _memberships(user)}


def has_any_capability(user, capabilities: frozenset[Capability]) -> bool:
    """Does any of the user's roles, in any study, carry one of `capabilities`?"""
    return any(CAPABILITIES[Role(m.role)] & capabilities for m in _memberships(user))


def role_carries(role: str, capability: Capability) -> bool:
    """Does this role carry `capability` (accounts/roles.py), whoever holds it?"""
    return capability in CAPABILITIES[Role(role)]


def active_memberships():
    """Every active membership of an active user, with its user and study (for tasks that act
    for each member, such as the query digest)."""
    from .models import Membership

    return Membership.objects.filter(is_active=True, user__is_active=True).select_related(
        "user", "study"
    )


def roles_in_study(user, study_id: int) -> set[Role]:
    return {Role(m.role) for m in _memberships(user) if m.study_id == study_id}


def can(user, capability: Capability, *, study_id: int, site_id: int | None = None) -> bool:
    """May `user` do `capability` in this study (at this site, for site-level data)?"""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    for membership in user.memberships_cached():
        if membership.study_id != study_id:
            continue
        role = Role(membership.role)
        if capability not in CAPABILITIES[role]:
            continue
        limited = site_limited(membership)
        if limited and site_id is not None and site_id not in membership.site_ids():
            continue
        if limited and site_id is None and capability != Capability.VIEW:
            # A site role acts only on its own sites' data.
            continue
        return True
    return False


def spans_study(user, study_id: int) -> bool:
    """Does the user hold a study-wide role (medical monitor, data manager, sponsor,
    administrator) in this study, so that they read every site's subjects?"""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    return any(m.study_id == study_id and not site_limited(m) for m in user.memberships_cached())


def visible_site_ids(user, study_id: int) -> set[int]:
    """The sites of this study whose subjects a site role of the user sees."""
    if user is None or not user.is_authenticated or not user.is_active:
        return set()
    ids: set[int] = set()
    for membership in user.memberships_cached():
        if membership.study_id == study_id and site_limited(membership):
            ids |= membership.site_ids()
    return ids


def require(user, capability: Capability, *, study_id: int, site_id: int | None = None) -> None:
    if not can(user, capability, study_id=study_id, site_id=site_id):
        raise PermissionDenied(
            f"Your role does not allow '{capability.value.replace('_', ' ')}' here."
        )


def visible_sites(user, study_id: int | None = None):
    """The sites whose subjects the user sees (for site pickers and home pages)."""
    from trial.models import Site

    sites = restrict(Site.objects.all(), user)
    if study_id is not None:
        sites = sites.filter(study_id=study_id)
    return sites


def monitoring_studies(user) -> list[Study]:
    """The studies whose dashboards the user may see: those where their role spans the study
    (medical monitor, data manager, sponsor, administrator). Site roles have their own pages."""
    ids = studies_with_role(user, STUDY_ROLES)
    if not ids:
        return []
    from trial.models import Study

    return list(restrict(Study.objects.order_by("protocol_number"), user).filter(pk__in=ids))


def has_study_role(user) -> bool:
    """Does the user hold a study-wide role anywhere (so the safety dashboards are theirs)?
    Uses the memberships already loaded for the request."""
    return bool(studies_with_role(user, STUDY_ROLES))


def only_study_roles(user) -> bool:
    """Are all the user's roles study-wide (no site work to start from)?"""
    if user is None or not user.is_authenticated:
        return False
    roles = {Role(m.role) for m in user.memberships_cached()}
    return bool(roles) and roles <= STUDY_ROLES


def enters_data_at_a_site(user) -> bool:
    """Does the user enter data at some site (so the Screen a subject link is worth showing)?"""
    return any(
        Role(m.role) in SITE_ROLES and Capability.ENTER_DATA in CAPABILITIES[Role(m.role)]
        for m in _memberships(user)
    )


# What the API's write methods need, coarsely: a role that enters or corrects data somewhere.
WRITE_CAPABILITIES = frozenset({Capability.ENTER_DATA, Capability.EDIT_DATA})


def writes_clinical_data(user) -> bool:
    """Does any of the user's roles enter or correct clinical data? A first, coarse gate (the
    API answers 403 to any write of a read-only role); the service checks the exact capability
    at the exact site."""
    return has_any_capability(user, WRITE_CAPABILITIES)


def may_export(user, study_id: int) -> bool:
    """May the user export this study's data (docs/standards.md §11)?"""
    return study_id in studies_with_role(user, EXPORT_ROLES)


def export_studies(user):
    """The studies offered on the export form: those where the user may export. A superuser is
    offered every study (configuration rights), and `may_export` still refuses the export
    itself without an exporting role."""
    from trial.models import Study

    if user.is_superuser:
        return Study.objects.all()
    return Study.objects.filter(pk__in=studies_with_role(user, EXPORT_ROLES))


def exportable(queryset: QuerySet, user) -> QuerySet:
    """`queryset` (rows of a study) narrowed to the studies the user may export; a superuser is
    not narrowed further than `restrict` (as `export_studies`)."""
    queryset = restrict(queryset, user)
    if user.is_superuser:
        return queryset
    return queryset.filter(study_id__in=studies_with_role(user, EXPORT_ROLES))


def shows_exports(user) -> bool:
    """Whether the navigation shows the exports link: a role that may export in some study, or
    a superuser (as `export_studies`)."""
    if not user.is_authenticated:
        return False
    return user.is_superuser or bool(studies_with_role(user, EXPORT_ROLES))
