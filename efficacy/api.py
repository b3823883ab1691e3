"""/api/v1/ resources of the efficacy app, read-only: tumour assessments, lesions, lesion
observations (with `updated_since`, history and CSV like every clinical record), and each
subject's derived RECIST responses and time-to-event endpoints, computed by `efficacy.rules`
when read (docs/efficacy.md §15)."""

from __future__ import annotations

from django.db.models import Exists, F, OuterRef, Q
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers

from api import filters
from api.serializers import ClinicalRecordFields, FlatRowSerializer, SubjectColumns
from api.views.base import HistoryMixin, ScopedReadViewSet
from subjects.models import Subject

from . import selectors
from .models import Lesion, LesionObservation, TumourAssessment
from .services import settings_for

# ---------------------------------------------------------------------------------------------
# Filters


class TumourAssessmentFilterSet(filters.ClinicalFilterSet):
    study = filters.id_filter("subject__study_id", "Only this study's assessments (id).")
    site = filters.id_filter("subject__site_id", "Only this site's assessments (id).")
    subject = filters.id_filter("subject_id", "Only this subject's assessments (id).")
    kind = filters.filters.ChoiceFilter(choices=TumourAssessment.Kind.choices)

    class Meta:
        model = TumourAssessment
        fields: list[str] = []


class LesionFilterSet(filters.ClinicalFilterSet):
    study = filters.id_filter("subject__study_id", "Only this study's lesions (id).")
    site = filters.id_filter("subject__site_id", "Only this site's lesions (id).")
    subject = filters.id_filter("subject_id", "Only this subject's lesions (id).")
    role = filters.filters.ChoiceFilter(choices=Lesion.Role.choices)

    class Meta:
        model = Lesion
        fields: list[str] = []


class LesionObservationFilterSet(filters.ClinicalFilterSet):
    study = filters.id_filter("assessment__subject__study_id", "Only this study's (id).")
    site = filters.id_filter("assessment__subject__site_id", "Only this site's (id).")
    subject = filters.id_filter("assessment__subject_id", "Only this subject's (id).")
    assessment = filters.id_filter("assessment_id", "Only this assessment's (id).")
    lesion = filters.id_filter("lesion_id", "Only this lesion's (id).")

    class Meta:
        model = LesionObservation
        fields: list[str] = []


class SubjectEfficacyFilterSet(filters.StrictFilterSet):
    study = filters.id_filter("study_id", "Only this study's subjects (id).")
    site = filters.id_filter("site_id", "Only this site's subjects (id).")
    dose_level = filters.id_filter(
        "cohort__dose_level_id", "Only subjects at this dose level (id)."
    )
    updated_since = filters.UtcDateTimeFilter(
        method="changed_since",
        label="Subjects whose derived values may have changed at or after this time (ISO 8601 "
        "with offset): a tumour assessment, lesion or the subject itself created, changed or "
        "voided then.",
    )

    class Meta:
        model = Subject
        fields: list[str] = []

    def changed_since(self, queryset, name, value):
        assessments = TumourAssessment.all_objects.filter(
            subject=OuterRef("pk"), updated_at__gte=value
        )
        observations = LesionObservation.all_objects.filter(
            assessment__subject=OuterRef("pk"), updated_at__gte=value
        )
        return queryset.filter(
            Q(updated_at__gte=value) | Q(Exists(assessments)) | Q(Exists(observations))
        )


# ---------------------------------------------------------------------------------------------
# Serializers


class TumourAssessmentSerializer(ClinicalRecordFields, SubjectColumns, FlatRowSerializer):
    class Meta:
        model = TumourAssessment
        fields = [
            "id", "study", "site", "site_number", "subject", "subject_number", "kind",
            "assessed_on", "method", "slice_thickness_mm", "tumour_markers",
            "investigator_response", "comment", *ClinicalRecordFields.AUDIT_FIELDS,
        ]  # fmt: skip


class LesionSerializer(ClinicalRecordFields, SubjectColumns, FlatRowSerializer):
    class Meta:
        model = Lesion
        fields = [
            "id", "study", "site", "site_number", "subject", "subject_number", "code", "role",
            "organ", "location", "nodal", "measurable_by_nature", "first_seen",
            *ClinicalRecordFields.AUDIT_FIELDS,
        ]  # fmt: skip


class LesionObservationSerializer(ClinicalRecordFields, FlatRowSerializer):
    subject = serializers.IntegerField(source="api_subject", read_only=True)
    subject_number = serializers.CharField(
        source="api_subject_number", read_only=True, allow_null=True
    )
    assessed_on = serializers.DateField(source="api_assessed_on", read_only=True)
    lesion_code = serializers.CharField(source="api_lesion_code", read_only=True)
    lesion_role = serializers.CharField(source="api_lesion_role", read_only=True)
    merged_into_code = serializers.CharField(
        source="api_merged_into_code", read_only=True, allow_null=True
    )
    parts_mm = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = LesionObservation
        fields = [
            "id", "subject", "subject_number", "assessment", "assessed_on", "lesion",
            "lesion_code", "lesion_role", "status", "size_mm", "parts_mm", "merged_into",
            "merged_into_code", *ClinicalRecordFields.AUDIT_FIELDS,
        ]  # fmt: skip


class TimeToEventSerializer(serializers.Serializer):
    days = serializers.IntegerField()
    event = serializers.BooleanField()
    cnsr = serializers.IntegerField(help_text="ADaM CNSR: 0 = event, else the censoring rule.")
    start_on = serializers.DateField()
    end_on = serializers.DateField(help_text="Date of the event or of censoring.")
    description = serializers.CharField(help_text="ADaM EVNTDESC or CNSDTDSC.")
    reason = serializers.CharField()


class TimePointSerializer(serializers.Serializer):
    assessed_on = serializers.DateField()
    response = serializers.CharField(help_text="Computed overall response (RECIST 1.1).")
    rule = serializers.CharField()
    reason = serializers.CharField()
    investigator_response = serializers.CharField(allow_null=True)
    agrees_with_investigator = serializers.BooleanField(allow_null=True)
    sum_mm = serializers.DecimalField(max_digits=7, decimal_places=1, allow_null=True)
    change_from_baseline_pct = serializers.DecimalField(
        max_digits=7, decimal_places=1, allow_null=True
    )
    change_from_nadir_pct = serializers.DecimalField(
        max_digits=7, decimal_places=1, allow_null=True
    )
    adequate = serializers.BooleanField()


def _time_point(point) -> dict:
    target = point.target
    return {
        "assessed_on": point.assessed_on,
        "response": point.response.value,
        "rule": point.rule.value,
        "reason": point.reason,
        "investigator_response": point.investigator_response.value
        if point.investigator_response
        else None,
        "agrees_with_investigator": point.agrees_with_investigator,
        "sum_mm": target.sum_mm if target else None,
        "change_from_baseline_pct": target.change_from_baseline_pct if target else None,
        "change_from_nadir_pct": target.change_from_nadir_pct if target else None,
        "adequate": point.adequate,
    }


def _tte(record) -> dict | None:
    if record is None:
        return None
    return {
        "days": record.days,
        "event": record.event,
        "cnsr": record.cnsr,
        "start_on": record.start_on,
        "end_on": record.end_on,
        "description": record.description,
        "reason": record.reason,
    }


class SubjectEfficacySerializer(serializers.Serializer):
    """Read from `efficacy` attached to each subject of the page by the view."""

    subject = serializers.IntegerField(source="pk")
    subject_number = serializers.CharField(allow_null=True)
    study = serializers.IntegerField(source="study_id")
    site = serializers.IntegerField(source="site_id")
    dose_level = serializers.CharField()
    first_dose_on = serializers.DateField(allow_null=True)
    baseline_sum_mm = serializers.DecimalField(max_digits=7, decimal_places=1, allow_null=True)
    best_overall_response = serializers.CharField(allow_null=True)
    best_overall_response_rule = serializers.CharField(allow_null=True)
    best_overall_response_reason = serializers.CharField(allow_null=True)
    confirmed_on = serializers.DateField(allow_null=True)
    response_started_on = serializers.DateField(allow_null=True)
    best_change_pct = serializers.DecimalField(max_digits=7, decimal_places=1, allow_null=True)
    disagreements = serializers.IntegerField(
        help_text="Time points whose computed response differs from the investigator's."
    )
    time_points = TimePointSerializer(many=True)
    pfs = TimeToEventSerializer(allow_null=True)
    os = TimeToEventSerializer(allow_null=True)
    dor = TimeToEventSerializer(allow_null=True)
    settings = serializers.CharField(help_text="The RECIST and endpoint settings applied.")
    note = serializers.CharField(help_text="Why a value is missing (no baseline, no dose).")
    rules_version = serializers.CharField()

    def to_representation(self, instance):
        item: selectors.SubjectEfficacy = instance.efficacy
        best = item.best
        return {
            "subject": item.subject.pk,
            "subject_number": item.subject.subject_number,
            "study": item.subject.study_id,
            "site": item.subject.site_id,
            "dose_level": item.dose_level,
            "first_dose_on": item.first_dose_on.isoformat() if item.first_dose_on else None,
            "baseline_sum_mm": _decimal(item.baseline_sum),
            "best_overall_response": best.response.value if best else None,
            "best_overall_response_rule": best.rule.value if best else None,
            "best_overall_response_reason": best.reason if best else None,
            "confirmed_on": _date(best.confirmed_on) if best else None,
            "response_started_on": _date(best.response_started_on) if best else None,
            "best_change_pct": _decimal(item.best_change_pct),
            "disagreements": len(item.disagreements),
            "time_points": TimePointSerializer(
                [_time_point(p) for p in item.time_points], many=True
            ).data,
            "pfs": _tte_data(item.pfs),
            "os": _tte_data(item.os),
            "dor": _tte_data(item.dor),
            "settings": f"{item.settings.recist().describe()}; "
            f"{item.settings.endpoints().describe()}",
            "note": item.evaluation.problem,
            "rules_version": best.rules_version if best else _rules_version(),
        }


def _rules_version() -> str:
    from .rules import RULES_VERSION

    return RULES_VERSION


def _date(value):
    return value.isoformat() if value else None


def _decimal(value):
    return None if value is None else f"{value:.1f}"


def _tte_data(record):
    data = _tte(record)
    return None if data is None else TimeToEventSerializer(data).data


# ---------------------------------------------------------------------------------------------
# Views


@extend_schema_view(
    list=extend_schema(summary="Tumour assessments (RECIST 1.1; a site role sees its own sites')"),
    retrieve=extend_schema(summary="A tumour assessment"),
)
class TumourAssessmentViewSet(HistoryMixin, ScopedReadViewSet):
    serializer_class = TumourAssessmentSerializer
    filterset_class = TumourAssessmentFilterSet

    def base_queryset(self):
        return TumourAssessment.all_objects.annotate(**SubjectColumns.ANNOTATIONS)


@extend_schema_view(
    list=extend_schema(summary="Lesions followed across tumour assessments"),
    retrieve=extend_schema(summary="A lesion"),
)
class LesionViewSet(HistoryMixin, ScopedReadViewSet):
    serializer_class = LesionSerializer
    filterset_class = LesionFilterSet

    def base_queryset(self):
        return Lesion.all_objects.annotate(**SubjectColumns.ANNOTATIONS)


@extend_schema_view(
    list=extend_schema(summary="Each lesion at each tumour assessment: size or status"),
    retrieve=extend_schema(summary="A lesion at one assessment"),
)
class LesionObservationViewSet(HistoryMixin, ScopedReadViewSet):
    serializer_class = LesionObservationSerializer
    filterset_class = LesionObservationFilterSet

    def base_queryset(self):
        return LesionObservation.all_objects.annotate(
            api_subject=F("assessment__subject_id"),
            api_subject_number=F("assessment__subject__subject_number"),
            api_assessed_on=F("assessment__assessed_on"),
            api_lesion_code=F("lesion__code"),
            api_lesion_role=F("lesion__role"),
            api_merged_into_code=F("merged_into__code"),
        )


@extend_schema_view(
    list=extend_schema(
        summary="Each enrolled subject's derived RECIST responses and endpoints",
        description="Computed when read from the tumour assessments (docs/efficacy.md): every "
        "time point's computed response with its rule and reason beside the investigator's, "
        "the best overall response, and PFS, OS and duration of response with the event or "
        "censoring date and reason.",
    ),
    retrieve=extend_schema(summary="A subject's derived RECIST responses and endpoints"),
)
class SubjectEfficacyViewSet(ScopedReadViewSet):
    serializer_class = SubjectEfficacySerializer
    filterset_class = SubjectEfficacyFilterSet

    def base_queryset(self):
        return Subject.objects.filter(cohort__isnull=False).select_related(
            "site", "cohort__dose_level"
        )

    def _attach(self, subjects):
        subjects = list(subjects)
        by_study: dict[int, list] = {}
        for subject in subjects:
            by_study.setdefault(subject.study_id, []).append(subject)
        for study_id, group in by_study.items():
            derived = selectors.derive_many(group, settings_for(study_id))
            for subject in group:
                subject.efficacy = derived[subject.pk]
        return subjects

    def paginate_queryset(self, queryset):
        page = super().paginate_queryset(queryset)
        return None if page is None else self._attach(page)

    def get_object(self):
        subject = super().get_object()
        self._attach([subject])
        return subject
