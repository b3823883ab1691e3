from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from simple_history.admin import SimpleHistoryAdmin

from .models import Membership, User


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    filter_horizontal = ["sites"]
    can_delete = False


@admin.register(User)
class UserAdmin(SimpleHistoryAdmin, BaseUserAdmin):
    inlines = [MembershipInline]
    list_display = ["username", "first_name", "last_name", "email", "is_active", "is_staff"]

    def has_delete_permission(self, request, obj=None):
        # People who signed or entered data stay on record; deactivate them instead.
        return False


@admin.register(Membership)
class MembershipAdmin(SimpleHistoryAdmin):
    list_display = ["user", "study", "role", "is_active"]
    list_filter = ["study", "role", "is_active"]
    filter_horizontal = ["sites"]

    def has_delete_permission(self, request, obj=None):
        return False
