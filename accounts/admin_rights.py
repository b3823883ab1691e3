"""What a study administrator may do in the Django admin: configuration, not clinical data.

The study administrator role (accounts/roles.py: view and configure) is a staff account in the
group made here, not a superuser: superusers get no clinical powers either (accounts/scoping.py),
but a superuser can also grant any permission, which configuring a study does not need.
"""

from django.contrib.auth.models import Group, Permission

CONFIGURATION_GROUP = "Study configuration"

# app label -> model -> actions. Nothing is deleted but lockout records (unlocking an account).
CONFIGURATION_PERMISSIONS: dict[str, dict[str, tuple[str, ...]]] = {
    "trial": {
        model: ("view", "add", "change")
        for model in ("study", "site", "regimen", "doselevel", "escalationtrack", "cohort")
    },
    "accounts": {"user": ("view", "add", "change"), "membership": ("view", "add", "change")},
    "axes": {"accessattempt": ("view", "delete"), "accessfailurelog": ("view",)},
}


def configuration_group() -> Group:
    """The group with the configuration rights above (made or brought up to date)."""
    group, _ = Group.objects.get_or_create(name=CONFIGURATION_GROUP)
    wanted = [
        (app, f"{action}_{model}")
        for app, models in CONFIGURATION_PERMISSIONS.items()
        for model, actions in models.items()
        for action in actions
    ]
    permissions = [
        p
        for p in Permission.objects.filter(
            content_type__app_label__in=CONFIGURATION_PERMISSIONS
        ).select_related("content_type")
        if (p.content_type.app_label, p.codename) in wanted
    ]
    group.permissions.set(permissions)
    return group
