from django import template

from accounts.roles import Role
from standards.services import EXPORT_ROLES

register = template.Library()


@register.filter
def may_export(user) -> bool:
    """Whether to show the exports link: the user has a role that may export in some study
    (from the memberships the request has loaded already: no extra query)."""
    if not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    return any(Role(m.role) in EXPORT_ROLES for m in user.memberships_cached())
