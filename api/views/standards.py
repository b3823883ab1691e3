"""Exports in the sponsor's standards (SDTM, define.xml, ODM): start one, follow its progress,
download its zip. For the study-wide roles that may export (sponsor, data manager, medical
monitor, administrator); site roles see no export and may not start one (docs/standards.md §11)."""

from django.http import FileResponse
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response

from accounts.scoping import export_studies
from api.errors import ErrorSerializer, error_body
from api.inputs import AwareDateTimeField, StrictInput
from standards.models import Export
from standards.services import export_path, export_request, exports_for

from .base import ApiViewMixin


class ZipRenderer(BaseRenderer):
    media_type = "application/zip"
    format = "zip"
    charset = None
    render_style = "binary"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data


class ExportSerializer(serializers.ModelSerializer):
    study_protocol = serializers.CharField(source="study.protocol_number", read_only=True)
    requested_by = serializers.CharField(source="requested_by.username", read_only=True)
    datasets = serializers.ListField(
        child=serializers.ListField(child=serializers.CharField()),
        read_only=True,
        help_text="[dataset name, records] for each dataset in the zip.",
    )
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = Export
        fields = [
            "id",
            "study",
            "study_protocol",
            "requested_by",
            "requested_at",
            "data_cut_at",
            "status",
            "progress",
            "step",
            "started_at",
            "finished_at",
            "snapshot_at",
            "ig_version",
            "ct_version",
            "define_version",
            "odm_version",
            "file_size",
            "sha256",
            "errors",
            "warnings",
            "datasets",
            "failure",
            "download_url",
        ]
        read_only_fields = fields

    def get_download_url(self, export) -> str | None:
        if export.status != Export.Status.COMPLETED:
            return None
        return reverse("api:export-download", args=[export.pk])


class FindingSerializer(serializers.Serializer):
    check = serializers.CharField()
    version = serializers.CharField()
    severity = serializers.ChoiceField(choices=["error", "warning"])
    dataset = serializers.CharField()
    variable = serializers.CharField(allow_blank=True)
    record = serializers.IntegerField(allow_null=True)
    message = serializers.CharField()


class ExportDetailSerializer(ExportSerializer):
    validation = FindingSerializer(many=True, read_only=True)

    class Meta(ExportSerializer.Meta):
        fields = [*ExportSerializer.Meta.fields, "validation"]
        read_only_fields = fields


class ExportInput(StrictInput):
    study = serializers.IntegerField(help_text="The study's id.")
    data_cut_at = AwareDateTimeField(
        required=False,
        allow_null=True,
        help_text="Export the data as they were at this time (from the audit history); "
        "omitted: as they stand when the export runs.",
    )


@extend_schema_view(
    list=extend_schema(
        summary="Exports of the study's data in the sponsor's standards",
        description="Newest first by id: status, progress (percent), the data cut, the "
        "standard versions (SDTMIG, CDISC CT, Define-XML, ODM), the zip's SHA-256 and the "
        "validation counts. Site roles see none.",
    ),
    retrieve=extend_schema(summary="An export: its progress, and its validation findings"),
    create=extend_schema(
        summary="Start an export",
        description="Records the export (201, its address in Location) and starts the export "
        "job after the commit. "
        "Follow `progress` on the export until `status` is completed or failed, then "
        "download the zip. Sponsor, data manager, medical monitor and study administrator "
        "only (403 for site roles).",
        request=ExportInput,
        responses={201: ExportSerializer},
    ),
)
class ExportViewSet(
    ApiViewMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    lookup_value_converter = "int"
    http_method_names = ["get", "post", "head", "options"]
    queryset = Export.objects.none()
    etag_actions = ("create",)

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Export.objects.none()
        return exports_for(self.request.user)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if response.status_code >= 400 and isinstance(
            getattr(response, "accepted_renderer", None), ZipRenderer
        ):
            # Errors are always the JSON error body, whatever the download asked for.
            response.accepted_renderer = JSONRenderer()
            response.accepted_media_type = "application/json"
            response.content_type = None
        return response

    def get_serializer_class(self):
        return ExportDetailSerializer if self.action == "retrieve" else ExportSerializer

    def create(self, request, *args, **kwargs):
        serializer = ExportInput(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        study = export_studies(request.user).filter(pk=serializer.validated_data["study"]).first()
        if study is None:
            raise serializers.ValidationError({"study": ["No study you may export has this id."]})
        export = export_request(
            by=request.user, study=study, data_cut_at=serializer.validated_data.get("data_cut_at")
        )
        export = self.get_queryset().get(pk=export.pk)
        response = Response(ExportSerializer(export).data, status=status.HTTP_201_CREATED)
        response["Location"] = reverse("api:export-detail", args=[export.pk])
        # The export changes as its job runs: a weak tag of its state, not a record version.
        response["ETag"] = f'W/"{export.pk}.{export.status}.{export.progress}"'
        return response

    @extend_schema(
        summary="Download an export's zip",
        description="The zip of a completed export (SDTM datasets as XPT and Dataset-JSON, "
        "define.xml, the ODM file, the validation report, the manifest). Its SHA-256 is the "
        "export's `sha256`. 409 while the export is not completed.",
        responses={
            (200, "application/zip"): OpenApiResponse(OpenApiTypes.BINARY, description="The zip"),
            409: OpenApiResponse(ErrorSerializer, description="The export is not completed."),
        },
    )
    @action(
        detail=True,
        methods=["get"],
        renderer_classes=[ZipRenderer, JSONRenderer],
        pagination_class=None,
        filter_backends=[],
    )
    def download(self, request, pk=None):
        export = self.get_object()
        if export.status != Export.Status.COMPLETED:
            return Response(
                error_body(409, "not_completed", f"Export {export.pk} is {export.status}."),
                status=status.HTTP_409_CONFLICT,
            )
        path = export_path(export)
        return FileResponse(
            path.open("rb"),
            as_attachment=True,
            filename=path.name,
            content_type="application/zip",
        )
