"""The pharmacology API (docs/pharmacology.md §10): samples (read, recorded, corrected, voided
through the same services as the site page), concentrations, ADA and biomarker results, NCA
parameters, ADA status, and laboratory files sent by integrated laboratory systems. Reads are
scoped through accounts/scoping.py; lists take `updated_since`, give CSV, and records their
history."""

from __future__ import annotations

import django_filters as filters
from django.db.models import F
from django.urls import reverse
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.scoping import member_study_ids
from api.concurrency import etag_for, expected_version
from api.filters import ClinicalFilterSet, StrictFilterSet, UtcDateTimeFilter, id_filter
from api.inputs import (
    AwareDateTimeField,
    CorrectionInput,
    ScopedPrimaryKey,
    StrictInput,
    reason_field,
)
from api.serializers import ClinicalRecordFields
from api.views.base import (
    ApiViewMixin,
    ClinicalWriteViewSet,
    HistoryMixin,
    MayWriteClinicalData,
    ScopedReadViewSet,
)
from dosing.models import DoseAdministration
from trial.models import Study

from . import selectors, services
from .models import (
    AdaResult,
    BiomarkerResult,
    Concentration,
    LabImport,
    NcaAnalysis,
    Sample,
    SampleKind,
)

SUBJECT_COLUMNS = {
    "api_site": F("subject__site_id"),
    "api_site_number": F("subject__site__number"),
    "api_subject_number": F("subject__subject_number"),
}
RESULT_SUBJECT_COLUMNS = {
    "api_study": F("sample__study_id"),
    "api_subject": F("sample__subject_id"),
    "api_subject_number": F("sample__subject__subject_number"),
    "api_sample_id": F("sample__sample_id"),
    "api_interval": F("sample__interval"),
    "api_timepoint": F("sample__timepoint"),
}


# --- serializers ---------------------------------------------------------------------------


class SampleSerializer(ClinicalRecordFields, serializers.ModelSerializer):
    site = serializers.IntegerField(source="api_site", read_only=True)
    site_number = serializers.CharField(source="api_site_number", read_only=True)
    subject_number = serializers.CharField(
        source="api_subject_number", read_only=True, allow_null=True
    )
    flagged = serializers.BooleanField(read_only=True)

    class Meta:
        model = Sample
        fields = [
            "id", "study", "site", "site_number", "subject", "subject_number", "dose", "kind",
            "interval", "timepoint", "role", "specimen", "status", "sample_id", "nominal_at",
            "window_start", "window_end", "collected_at", "not_collected_reason", "nrrlt_hours",
            "nfrlt_hours", "arrlt_hours", "afrlt_hours", "deviation_hours", "out_of_window",
            "deviation_flagged", "flagged", "deviation_comment", *ClinicalRecordFields.AUDIT_FIELDS,
        ]  # fmt: skip
        read_only_fields = fields


class _ResultColumns(ClinicalRecordFields, serializers.Serializer):
    study = serializers.IntegerField(source="api_study", read_only=True)
    subject = serializers.IntegerField(source="api_subject", read_only=True)
    subject_number = serializers.CharField(
        source="api_subject_number", read_only=True, allow_null=True
    )
    sample_id = serializers.CharField(source="api_sample_id", read_only=True)
    interval = serializers.IntegerField(source="api_interval", read_only=True)
    timepoint = serializers.CharField(source="api_timepoint", read_only=True)

    COLUMNS = ["id", "study", "subject", "subject_number", "sample", "sample_id", "interval",
               "timepoint"]  # fmt: skip


class ConcentrationSerializer(_ResultColumns, serializers.ModelSerializer):
    class Meta:
        model = Concentration
        fields = [
            *_ResultColumns.COLUMNS, "analyte", "reported", "value", "blq", "unit", "lloq",
            "uloq", "run_id", "lab_import", "exclude_reason", "exclude_from_lambda_z_reason",
            *ClinicalRecordFields.AUDIT_FIELDS,
        ]  # fmt: skip
        read_only_fields = fields


class AdaResultSerializer(_ResultColumns, serializers.ModelSerializer):
    class Meta:
        model = AdaResult
        fields = [
            *_ResultColumns.COLUMNS, "screening", "confirmatory", "titer", "neutralising",
            "run_id", "lab_import", *ClinicalRecordFields.AUDIT_FIELDS,
        ]  # fmt: skip
        read_only_fields = fields


class BiomarkerResultSerializer(_ResultColumns, serializers.ModelSerializer):
    class Meta:
        model = BiomarkerResult
        fields = [
            *_ResultColumns.COLUMNS, "analyte", "reported", "value", "quantification", "unit",
            "lloq", "uloq", "run_id", "lab_import", *ClinicalRecordFields.AUDIT_FIELDS,
        ]  # fmt: skip
        read_only_fields = fields


class NcaSerializer(serializers.ModelSerializer):
    subject_number = serializers.CharField(
        source="subject.subject_number", read_only=True, allow_null=True
    )
    parameters = serializers.JSONField(
        read_only=True,
        help_text="Each parameter: value (empty with the reason when it cannot be derived), "
        "method, the times of the points used, flags.",
    )
    points = serializers.JSONField(
        read_only=True, help_text="How each sample was used, or why not."
    )
    fit = serializers.JSONField(read_only=True, help_text="The lambda_z regression, or null.")
    flags = serializers.JSONField(read_only=True)
    settings = serializers.JSONField(read_only=True)

    class Meta:
        model = NcaAnalysis
        fields = [
            "id", "study", "subject", "subject_number", "interval", "analyte", "unit", "dose_mg",
            "dose_per_kg", "parameters", "points", "fit", "flags", "settings", "error",
            "version", "computed_at",
        ]  # fmt: skip
        read_only_fields = fields


class LabImportSerializer(serializers.ModelSerializer):
    imported_by = serializers.CharField(source="imported_by.username", read_only=True)
    report = serializers.JSONField(
        read_only=True, help_text="Per-row errors: line, column, message, sample_id."
    )
    unreported = serializers.JSONField(
        read_only=True, help_text="Collected samples of this kind still without a result."
    )

    class Meta:
        model = LabImport
        fields = [
            "id", "study", "kind", "source", "file_name", "sha256", "status", "rows", "saved",
            "report", "unreported", "imported_by", "imported_at",
        ]  # fmt: skip
        read_only_fields = fields


# --- filters -------------------------------------------------------------------------------


class SampleFilterSet(ClinicalFilterSet):
    study = id_filter("study_id", "Only this study's samples (id).")
    subject = id_filter("subject_id", "Only this subject's samples (id).")
    kind = filters.ChoiceFilter(choices=SampleKind.choices)

    class Meta:
        model = Sample
        fields: list[str] = []


def _result_filterset(model_class):
    class ResultFilterSet(ClinicalFilterSet):
        study = id_filter("sample__study_id", "Only this study's results (id).")
        subject = id_filter("sample__subject_id", "Only this subject's results (id).")

        class Meta:
            model = model_class
            fields: list[str] = []

    ResultFilterSet.__name__ = f"{model_class.__name__}FilterSet"
    return ResultFilterSet


class NcaFilterSet(StrictFilterSet):
    study = id_filter("study_id", "Only this study's analyses (id).")
    subject = id_filter("subject_id", "Only this subject's analyses (id).")
    updated_since = UtcDateTimeFilter(
        field_name="computed_at", lookup_expr="gte", label="Computed at or after this time."
    )

    class Meta:
        model = NcaAnalysis
        fields: list[str] = []


# --- inputs --------------------------------------------------------------------------------


class SampleInput(StrictInput):
    dose = ScopedPrimaryKey(DoseAdministration, help_text="The reference infusion (id).")
    kind = serializers.ChoiceField(choices=SampleKind.choices)
    timepoint = serializers.CharField(max_length=40, help_text="As the schedule names it.")
    collected = serializers.BooleanField(default=True)
    sample_id = serializers.CharField(max_length=60, required=False, allow_blank=True)
    collected_at = AwareDateTimeField(required=False, allow_null=True)
    not_collected_reason = serializers.CharField(max_length=500, required=False, allow_blank=True)
    deviation_comment = serializers.CharField(max_length=500, required=False, allow_blank=True)


class SampleUpdateInput(CorrectionInput):
    status = serializers.ChoiceField(choices=Sample.Status.choices)
    sample_id = serializers.CharField(max_length=60, allow_blank=True)
    collected_at = AwareDateTimeField(allow_null=True)
    not_collected_reason = serializers.CharField(max_length=500, allow_blank=True)
    deviation_comment = serializers.CharField(max_length=500, allow_blank=True)


class ExclusionInput(StrictInput):
    exclude_reason = serializers.CharField(
        max_length=2000,
        required=False,
        allow_blank=True,
        default="",
        help_text="Why the result is left out of every NCA parameter; empty: it is used.",
    )
    exclude_from_lambda_z_reason = serializers.CharField(
        max_length=2000,
        required=False,
        allow_blank=True,
        default="",
        help_text="Why the result is left out of the terminal slope only; empty: it may be "
        "used for lambda_z.",
    )
    reason = reason_field()


class LabImportInput(StrictInput):
    study = serializers.IntegerField(min_value=1, help_text="The study's id.")
    kind = serializers.ChoiceField(choices=LabImport.Kind.choices)
    file_name = serializers.CharField(max_length=255)
    content = serializers.CharField(
        max_length=20_000_000,
        trim_whitespace=False,
        help_text="The CSV file's text (docs/pharmacology.md §8.1 gives the columns).",
    )


# --- views ---------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary="PK, ADA and biomarker samples (a site role sees its sites')"),
    retrieve=extend_schema(summary="A sample"),
    create=extend_schema(
        summary="Record a scheduled sample",
        description="Collected (barcode and actual time with its UTC offset) or not collected "
        "(with a reason). The nominal time, ARRLT, deviation and window flag are derived.",
        request=SampleInput,
        responses={201: SampleSerializer},
    ),
    partial_update=extend_schema(
        summary="Correct a sample", request=SampleUpdateInput, responses={200: SampleSerializer}
    ),
    destroy=extend_schema(
        summary="Void a sample recorded in error", responses={200: SampleSerializer}
    ),
)
class SampleViewSet(HistoryMixin, ClinicalWriteViewSet):
    serializer_class = SampleSerializer
    filterset_class = SampleFilterSet
    create_input = SampleInput
    update_input = SampleUpdateInput
    detail_route_name = "api:pharmacology-sample-detail"
    record_argument = "sample"
    update_service = staticmethod(services.sample_update)
    void_service = staticmethod(services.sample_void)

    def base_queryset(self):
        return Sample.all_objects.annotate(**SUBJECT_COLUMNS)

    def service_create(self, data):
        dose = data.pop("dose")
        return services.sample_record(by=self.request.user, subject=dose.subject, dose=dose, **data)


class _ResultViewSet(HistoryMixin, ScopedReadViewSet):
    model: type = Concentration

    def base_queryset(self):
        return self.model.all_objects.annotate(**RESULT_SUBJECT_COLUMNS)


@extend_schema_view(
    list=extend_schema(
        summary="PK concentrations as reported (BLQ with the run's LLOQ, value empty)"
    ),
    retrieve=extend_schema(summary="A concentration"),
)
class ConcentrationViewSet(_ResultViewSet):
    model = Concentration
    serializer_class = ConcentrationSerializer
    filterset_class = _result_filterset(Concentration)
    http_method_names = ["get", "post", "head", "options"]
    permission_classes = [permissions.IsAuthenticated, MayWriteClinicalData]
    etag_actions = ("retrieve",)
    if_match_actions = ("exclusion",)

    @extend_schema(
        summary="Leave a concentration out of the NCA, or put it back",
        description="Sets both exclusion reasons at once: `exclude_reason` leaves the result "
        "out of every NCA parameter, `exclude_from_lambda_z_reason` out of the terminal slope "
        "only (not both); empty reasons put it back. `reason` is the change's reason, kept in "
        "the result's history. Needs If-Match with the result's ETag. The subject's NCA is "
        "computed again after the change and lists the excluded sample with its reason "
        "(docs/pharmacology.md §9). Roles that correct data only (data manager).",
        request=ExclusionInput,
        responses={200: ConcentrationSerializer},
    )
    @action(detail=True, methods=["post"])
    def exclusion(self, request, pk=None):
        result = self.get_object()
        serializer = ExclusionInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        version = expected_version(request, result)
        updated = services.concentration_exclude(
            by=request.user, concentration=result, expected_version=version, **data
        )
        fresh = self.base_queryset().get(pk=updated.pk)
        response = Response(self.get_serializer(fresh).data)
        response["ETag"] = etag_for(fresh)
        return response


@extend_schema_view(
    list=extend_schema(summary="ADA results by tier (screening, confirmatory, titer, NAb)"),
    retrieve=extend_schema(summary="An ADA result"),
)
class AdaResultViewSet(_ResultViewSet):
    model = AdaResult
    serializer_class = AdaResultSerializer
    filterset_class = _result_filterset(AdaResult)


@extend_schema_view(
    list=extend_schema(summary="Biomarker results as reported (CD80, CD86, cytokines)"),
    retrieve=extend_schema(summary="A biomarker result"),
)
class BiomarkerResultViewSet(_ResultViewSet):
    model = BiomarkerResult
    serializer_class = BiomarkerResultSerializer
    filterset_class = _result_filterset(BiomarkerResult)


@extend_schema_view(
    list=extend_schema(
        summary="NCA parameters per subject, dosing interval and analyte",
        description="Each parameter with its method and the times of the points it used; "
        "`points` says how every sample was used or why it was left out.",
    ),
    retrieve=extend_schema(summary="One subject's NCA of one interval and analyte"),
)
class NcaViewSet(HistoryMixin, ScopedReadViewSet):
    serializer_class = NcaSerializer
    filterset_class = NcaFilterSet
    queryset = NcaAnalysis.objects.select_related("subject")

    def get_queryset(self):
        return selectors.nca_for(self.request.user)


@extend_schema_view(
    list=extend_schema(
        summary="Laboratory files received, accepted or refused, with their per-row reports",
        description="Study-wide roles only (the files name every site's subjects).",
    ),
    retrieve=extend_schema(summary="A laboratory file's import"),
    create=extend_schema(
        summary="Send a laboratory file (CSV text)",
        description="Every row is checked; the file is kept either way. 201 with status "
        "accepted when every result was saved (in one transaction); 400 with the per-row "
        "report (line, column, message) and the import's id when the file was refused, "
        "nothing saved. Data managers only.",
        request=LabImportInput,
        responses={201: LabImportSerializer},
    ),
)
class LabImportViewSet(
    ApiViewMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    lookup_value_converter = "int"
    http_method_names = ["get", "post", "head", "options"]
    serializer_class = LabImportSerializer
    permission_classes = [permissions.IsAuthenticated, MayWriteClinicalData]
    queryset = LabImport.objects.none()
    etag_actions = ("create",)

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return LabImport.objects.none()
        return selectors.lab_imports_for(self.request.user).order_by("-pk")

    def create(self, request, *args, **kwargs):
        serializer = LabImportInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        study = Study.objects.filter(pk=data["study"]).first()
        if study is None:
            raise serializers.ValidationError({"study": ["No such study."]})
        imported = services.lab_import(
            by=request.user,
            study=study,
            kind=data["kind"],
            file_name=data["file_name"],
            content=data["content"].encode("utf-8"),
            source=LabImport.Source.API,
        )
        body = LabImportSerializer(imported).data
        if imported.status == LabImport.Status.REFUSED:
            return Response(
                {
                    "error": {
                        "status": 400,
                        "code": "file_refused",
                        "message": f"The file was refused: {len(imported.report)} problem(s); "
                        "nothing was saved. The file is kept as import "
                        f"{imported.pk}.",
                        "import": body,
                    }
                },
                status=status.HTTP_400_BAD_REQUEST,
            )
        response = Response(body, status=status.HTTP_201_CREATED)
        # A weak ETag of the import's outcome (an import never changes afterwards).
        response["ETag"] = f'W/"{imported.pk}.{imported.status}"'
        response["Location"] = reverse("api:lab-import-detail", args=[imported.pk])
        return response


class AdaStatusSerializer(serializers.Serializer):
    subject = serializers.CharField()
    group = serializers.CharField(help_text="The dose level.")
    evaluable = serializers.BooleanField()
    has_baseline = serializers.BooleanField()
    baseline_positive = serializers.BooleanField()
    ada_class = serializers.CharField()
    treatment_emergent = serializers.BooleanField()
    persistent = serializers.BooleanField()
    transient = serializers.BooleanField()
    nab_positive = serializers.BooleanField()
    onset_day = serializers.FloatField(allow_null=True)
    duration_days = serializers.FloatField(allow_null=True)
    max_titer = serializers.FloatField(allow_null=True)
    reason = serializers.CharField()
    version = serializers.CharField()


class AdaStatusQuery(StrictInput):
    study = serializers.IntegerField(min_value=1, max_value=2**63 - 1, required=False)
    format = serializers.ChoiceField(choices=["json", "csv"], required=False)


@extend_schema_view(
    list=extend_schema(
        summary="Each subject's ADA status (Shankar et al. 2014), derived from the results",
        description="Baseline positive, treatment-induced, treatment-boosted (the protocol's "
        "fold rule), treatment-unaffected; TE-ADA, persistent or transient, NAb; with the "
        "reason in words. Scoped like the results it comes from.",
        parameters=[AdaStatusQuery],
    )
)
class AdaStatusViewSet(ApiViewMixin, viewsets.GenericViewSet):
    serializer_class = AdaStatusSerializer
    pagination_class = None
    filter_backends: list = []
    queryset = AdaResult.objects.none()

    def list(self, request, *args, **kwargs):
        query = AdaStatusQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        studies = sorted(member_study_ids(request.user))
        wanted = query.validated_data.get("study")
        if wanted is not None:
            studies = [s for s in studies if s == wanted]
        rows = []
        for study_id in studies:
            rows.extend(selectors.ada_overview(request.user, study_id)["statuses"])
        return Response(AdaStatusSerializer(rows, many=True).data)
