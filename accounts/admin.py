from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm

from .audited_admin import AuditedAdmin, ReasonForm
from .models import Membership, User


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    filter_horizontal = ["sites"]
    can_delete = False


class UserChangeReasonForm(ReasonForm, UserChangeForm):
    pass


class UserCreationReasonForm(ReasonForm, AdminUserCreationForm):
    pass


# Who may grant administrative powers: only a superuser. A study administrator (staff with
# configuration rights) manages accounts and roles but cannot make anyone, themselves included,
# a superuser or hand out Django permissions.
SUPERUSER_ONLY_FIELDS = ("is_superuser", "groups", "user_permissions")


@admin.register(User)
class UserAdmin(AuditedAdmin, BaseUserAdmin):
    """People who signed or entered data stay on record: deactivate them instead of deleting
    (deactivating ends their sessions and API tokens at once, accounts/access.py)."""

    form = UserChangeReasonForm
    add_form = UserCreationReasonForm
    inlines = [MembershipInline]
    list_display = ["username", "first_name", "last_name", "email", "is_active", "is_staff"]

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            fields += [f for f in SUPERUSER_ONLY_FIELDS if f not in fields]
        return fields


@admin.register(Membership)
class MembershipAdmin(AuditedAdmin):
    list_display = ["user", "study", "role", "is_active"]
    list_filter = ["study", "role", "is_active"]
    filter_horizontal = ["sites"]
