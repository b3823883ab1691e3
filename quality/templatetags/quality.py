"""The casebook's data quality line and the navigation link (docs/quality.md)."""

from django import template

from accounts.roles import Capability
from accounts.scoping import has_any_capability

register = template.Library()

QUALITY_CAPABILITIES = frozenset(
    {
        Capability.MANAGE_QUERIES,
        Capability.ANSWER_QUERIES,
        Capability.VERIFY_SOURCE,
        Capability.SIGN_CASEBOOK,
        Capability.LOCK_DATA,
    }
)


@register.filter
def works_on_quality(user) -> bool:
    """Does the user hold a role that works with queries, SDV, signatures or locks?"""
    if not getattr(user, "is_authenticated", False):
        return False
    return has_any_capability(user, QUALITY_CAPABILITIES)


@register.inclusion_tag("quality/_casebook_line.html", takes_context=True)
def quality_summary(context, subject):
    from quality.selectors import subject_summary

    request = context.get("request")
    user = getattr(request, "user", None)
    return {"subject": subject, "summary": subject_summary(user, subject)}
