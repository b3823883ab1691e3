from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import Cohort, DoseLevel, EscalationTrack, Regimen, Site, Study


class ConfigurationAdmin(SimpleHistoryAdmin):
    """Configuration is edited and audited, never deleted: subjects and doses refer to it."""

    def has_delete_permission(self, request, obj=None):
        return False


class DoseLevelInline(admin.TabularInline):
    model = DoseLevel
    extra = 0
    can_delete = False


class RegimenInline(admin.TabularInline):
    model = Regimen
    extra = 0
    can_delete = False


@admin.register(Study)
class StudyAdmin(ConfigurationAdmin):
    list_display = [
        "protocol_number",
        "title",
        "phase",
        "titration_trigger",
        "exceeded_variant",
        "dlt_window_convention",
    ]
    inlines = [DoseLevelInline, RegimenInline]
    readonly_fields = ["protocol_file_digest"]


@admin.register(Site)
class SiteAdmin(ConfigurationAdmin):
    list_display = [
        "number",
        "name",
        "study",
        "country",
        "timezone",
        "principal_investigator",
        "is_active",
    ]
    list_filter = ["study", "is_active", "country"]


@admin.register(DoseLevel)
class DoseLevelAdmin(ConfigurationAdmin):
    list_display = ["study", "number", "amount", "unit"]
    list_filter = ["study"]


@admin.register(Regimen)
class RegimenAdmin(ConfigurationAdmin):
    list_display = ["study", "code", "interval_days", "cycle_length_days", "dlt_window_days"]


@admin.register(EscalationTrack)
class EscalationTrackAdmin(ConfigurationAdmin):
    list_display = ["study", "code", "name", "regimen", "phase", "uses_titration", "status"]


@admin.register(Cohort)
class CohortAdmin(ConfigurationAdmin):
    list_display = ["study", "number", "track", "dose_level", "planned_size", "status"]
    list_filter = ["study", "track", "status"]
    # Cohorts open and close through committee decisions, which are signed and audited there.
    readonly_fields = ["status", "opened_at", "closed_at"]
