from django import template

from accounts.scoping import shows_exports

register = template.Library()


@register.filter
def may_export(user) -> bool:
    """Whether to show the exports link: the user has a role that may export in some study
    (from the memberships the request has loaded already: no extra query)."""
    return shows_exports(user)
