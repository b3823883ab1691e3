from django import template

from standards.views import export_studies

register = template.Library()


@register.filter
def may_export(user) -> bool:
    """Whether to show the exports link: the user has a role that may export somewhere."""
    return bool(user.is_authenticated and export_studies(user).exists())
