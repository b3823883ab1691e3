"""What every page's navigation needs to know about the safety dashboards."""

from accounts.scoping import has_study_role


def safety_dashboards(request):
    """`show_safety_dashboards`: the user holds a study-wide role (medical monitor, data manager,
    sponsor, administrator). Evaluated only when a template asks, from the memberships loaded
    once per request."""
    user = getattr(request, "user", None)
    return {"show_safety_dashboards": lambda: has_study_role(user)}
