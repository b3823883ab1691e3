"""Simulations of dose-finding designs' operating characteristics (docs/designs.md §13): start
one, follow its progress, read the figures side by side, download them as CSV. For the
study-wide roles; site roles see none."""

from django.http import HttpResponse
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from api.errors import ErrorSerializer, error_body
from api.inputs import StrictInput
from core.exports import csv_text
from simulations.models import Simulation
from simulations.selectors import comparison, csv_rows, simulation_study_ids, simulations_for
from simulations.services import MAX_TRIALS, MIN_TRIALS, simulation_request
from trial.models import Study

from .base import ApiViewMixin


class SimulationSerializer(serializers.ModelSerializer):
    study_protocol = serializers.CharField(source="study.protocol_number", read_only=True)
    requested_by = serializers.CharField(source="requested_by.username", read_only=True)
    designs = serializers.ListField(child=serializers.DictField(), read_only=True)
    scenarios = serializers.ListField(child=serializers.DictField(), read_only=True)
    dose_levels = serializers.ListField(child=serializers.CharField(), read_only=True)
    csv_url = serializers.SerializerMethodField()

    class Meta:
        model = Simulation
        fields = [
            "id",
            "study",
            "study_protocol",
            "title",
            "requested_by",
            "requested_at",
            "designs",
            "scenarios",
            "dose_levels",
            "n_trials",
            "seed",
            "chunk",
            "designs_version",
            "status",
            "progress",
            "step",
            "started_at",
            "finished_at",
            "seconds",
            "failure",
            "csv_url",
        ]
        read_only_fields = fields

    def get_csv_url(self, simulation) -> str | None:
        if simulation.status != Simulation.Status.COMPLETED:
            return None
        return reverse("api:simulation-csv", args=[simulation.pk])


class SimulationDetailSerializer(SimulationSerializer):
    results = serializers.DictField(
        read_only=True,
        help_text="cells: one per design and scenario, every figure as [value, Monte-Carlo SE]; "
        "a 3+3's cell also holds its exact closed-form figures.",
    )
    comparison = serializers.SerializerMethodField()

    class Meta(SimulationSerializer.Meta):
        fields = [*SimulationSerializer.Meta.fields, "results", "comparison"]
        read_only_fields = fields

    def get_comparison(self, simulation) -> list[dict]:
        return comparison(simulation) if simulation.status == Simulation.Status.COMPLETED else []


class SimulationInput(StrictInput):
    study = serializers.IntegerField(help_text="The study's id.")
    title = serializers.CharField(required=False, allow_blank=True, max_length=200)
    designs = serializers.ListField(
        child=serializers.DictField(),
        help_text='Each a design as the protocol file names it: {"name": "boin", "target": 0.3, '
        '"max_subjects": 30}, {"name": "3+3", "variant": "expand"} (docs/designs.md §12).',
    )
    scenarios = serializers.ListField(
        child=serializers.DictField(),
        help_text='Each {"name": "...", "true_dlt": [one probability per dose level]}.',
    )
    n_trials = serializers.IntegerField(
        required=False, default=10_000, min_value=MIN_TRIALS, max_value=MAX_TRIALS
    )
    seed = serializers.IntegerField(
        required=False, allow_null=True, min_value=0, help_text="Omitted: a new seed, stored."
    )


@extend_schema_view(
    list=extend_schema(
        summary="Simulations of dose-finding designs",
        description="Newest first: the designs, scenarios, trials, seed, status and progress.",
    ),
    retrieve=extend_schema(summary="A simulation: its progress, figures and comparison"),
    create=extend_schema(
        summary="Start a simulation",
        description="Records the simulation (201, its address in Location) and starts it after "
        "the commit. Follow `progress` until `status` is completed or failed. The same seed and "
        "inputs give the same figures.",
        request=SimulationInput,
        responses={201: SimulationSerializer},
    ),
)
class SimulationViewSet(
    ApiViewMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    lookup_value_converter = "int"
    http_method_names = ["get", "post", "head", "options"]
    queryset = Simulation.objects.none()
    etag_actions = ("create",)

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Simulation.objects.none()
        return simulations_for(self.request.user)

    def get_serializer_class(self):
        return SimulationDetailSerializer if self.action == "retrieve" else SimulationSerializer

    def create(self, request, *args, **kwargs):
        serializer = SimulationInput(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        study = (
            Study.objects.filter(pk__in=simulation_study_ids(request.user))
            .filter(pk=data["study"])
            .first()
        )
        if study is None:
            raise serializers.ValidationError({"study": ["No study you may simulate has this id."]})
        simulation = simulation_request(
            by=request.user,
            study=study,
            designs=data["designs"],
            scenarios=data["scenarios"],
            n_trials=data["n_trials"],
            seed=data.get("seed"),
            title=data.get("title", ""),
        )
        simulation = self.get_queryset().get(pk=simulation.pk)
        response = Response(SimulationSerializer(simulation).data, status=status.HTTP_201_CREATED)
        response["Location"] = reverse("api:simulation-detail", args=[simulation.pk])
        response["ETag"] = f'W/"{simulation.pk}.{simulation.status}.{simulation.progress}"'
        return response

    @extend_schema(
        summary="A completed simulation's figures as CSV",
        description="One row per scenario, design and figure: value, Monte-Carlo SE and, for "
        "the 3+3, the exact value. 409 while the simulation is not completed.",
        responses={
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="The CSV"),
            409: OpenApiResponse(ErrorSerializer, description="Not completed."),
        },
    )
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def csv(self, request, pk=None):
        simulation = self.get_object()
        if simulation.status != Simulation.Status.COMPLETED:
            return Response(
                error_body(
                    409, "not_completed", f"Simulation {simulation.pk} is {simulation.status}."
                ),
                status=status.HTTP_409_CONFLICT,
            )
        rows = csv_rows(simulation)
        response = HttpResponse(csv_text(next(rows), rows), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="simulation-{simulation.pk}.csv"'
        return response
