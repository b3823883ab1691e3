"""Study configuration in the Django admin: audited with a reason, never deleted, and locked where
the escalation is concerned once the study is under way.

Once a study has its first subject, its dose levels, regimens, escalation tracks, cohorts and
design settings change only through the protocol file (`load_study`, an amendment) or a signed
Safety Review Committee decision, which carry their own audit and signature; the admin shows
them read-only. A track's and a cohort's status are never edited here: the committee opens,
pauses, completes and stops tracks and cohorts. Sites, and the study's descriptive fields, stay
editable, each change with its reason in the history.
"""

from django.contrib import admin
from django.core.exceptions import PermissionDenied

from accounts.audited_admin import AuditedAdmin
from subjects.models import Subject

from .models import Cohort, DoseLevel, EscalationTrack, Regimen, Site, Study
from .services import DESIGN_FIELDS

# What the escalation rules, dosing and eligibility read: fixed once the study is under way.
LOCKED_STUDY_FIELDS = (*DESIGN_FIELDS, "protocol_number", "dose_unit", "eligibility_criteria")
UNDER_WAY = (
    "The study is under way (it has subjects): dose levels, regimens, tracks, cohorts and design "
    "settings change by a protocol amendment (load_study) or a signed committee decision."
)


def in_progress(study_id) -> bool:
    """Has the study registered its first subject (screening started)?"""
    return study_id is not None and Subject.all_objects.filter(study_id=study_id).exists()


class ConfigurationAdmin(AuditedAdmin):
    """Configuration is edited with a reason and audited, never deleted: subjects and doses
    refer to it."""


class EscalationConfigurationAdmin(ConfigurationAdmin):
    """Dose levels, regimens, tracks, cohorts: read-only once their study is under way."""

    def has_change_permission(self, request, obj=None):
        if obj is not None and in_progress(obj.study_id):
            return False
        return super().has_change_permission(request, obj)

    def has_add_permission(self, request):
        # Adding a dose level or a cohort mid-study is the committee's decision (an intermediate
        # dose, an expansion cohort), made and signed on its pages. Before that, studies not yet
        # under way can still be set up here.
        if not Study.objects.exclude(subjects__isnull=False).exists():
            return False
        return super().has_add_permission(request)

    def save_model(self, request, obj, form, change):
        # A page opened before the first subject and saved after it (or a new row for a study
        # under way) is refused rather than changing the escalation of a study in progress.
        if in_progress(obj.study_id):
            raise PermissionDenied(UNDER_WAY)
        super().save_model(request, obj, form, change)


class LockedInline(admin.TabularInline):
    """Escalation configuration edited on the study's page: read-only once it is under way."""

    extra = 0
    can_delete = False

    def has_change_permission(self, request, obj=None):
        if obj is not None and in_progress(obj.pk):
            return False
        return super().has_change_permission(request, obj)

    def has_add_permission(self, request, obj=None):
        if obj is not None and in_progress(obj.pk):
            return False
        return super().has_add_permission(request, obj)


class DoseLevelInline(LockedInline):
    model = DoseLevel


class RegimenInline(LockedInline):
    model = Regimen


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

    def get_readonly_fields(self, request, obj=None):
        fields = ["protocol_file_digest"]
        if obj is not None and in_progress(obj.pk):
            fields += list(LOCKED_STUDY_FIELDS)
        return fields

    def save_formset(self, request, form, formset, change):
        if in_progress(form.instance.pk) and formset.has_changed():
            raise PermissionDenied(UNDER_WAY)
        super().save_formset(request, form, formset, change)


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
class DoseLevelAdmin(EscalationConfigurationAdmin):
    list_display = ["study", "number", "amount", "unit"]
    list_filter = ["study"]


@admin.register(Regimen)
class RegimenAdmin(EscalationConfigurationAdmin):
    list_display = ["study", "code", "interval_days", "cycle_length_days", "dlt_window_days"]


@admin.register(EscalationTrack)
class EscalationTrackAdmin(EscalationConfigurationAdmin):
    list_display = ["study", "code", "name", "regimen", "phase", "uses_titration", "status"]
    # Tracks open, pause, complete and stop by signed committee decisions, audited there.
    readonly_fields = ["status"]


@admin.register(Cohort)
class CohortAdmin(EscalationConfigurationAdmin):
    list_display = ["study", "number", "track", "dose_level", "planned_size", "status"]
    list_filter = ["study", "track", "status"]
    # Cohorts open and close through committee decisions, which are signed and audited there.
    readonly_fields = ["status", "opened_at", "closed_at"]
