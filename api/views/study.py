"""Study configuration, read-only: studies, sites, regimens, dose levels, cohorts."""

from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema, extend_schema_view

from api import filters
from api.serializers import (
    CohortDetailSerializer,
    CohortListSerializer,
    DoseLevelSerializer,
    RegimenSerializer,
    SiteSerializer,
    StudySerializer,
)
from escalation.models import Recommendation
from subjects.selectors import occupied_places_annotation
from trial.models import Cohort, DoseLevel, Regimen, Site, Study

from .base import HistoryMixin, ScopedReadViewSet


@extend_schema_view(
    list=extend_schema(summary="Studies you are a member of"),
    retrieve=extend_schema(summary="A study and its design settings"),
)
class StudyViewSet(HistoryMixin, ScopedReadViewSet):
    serializer_class = StudySerializer
    filter_backends: list = []
    queryset = Study.objects.all()


@extend_schema_view(
    list=extend_schema(summary="Sites (a site role sees only its own)"),
    retrieve=extend_schema(summary="A site"),
)
class SiteViewSet(HistoryMixin, ScopedReadViewSet):
    serializer_class = SiteSerializer
    filterset_class = filters.SiteFilterSet
    queryset = Site.objects.all()


@extend_schema_view(
    list=extend_schema(summary="Regimens (dosing schedules and DLT windows)"),
    retrieve=extend_schema(summary="A regimen"),
)
class RegimenViewSet(HistoryMixin, ScopedReadViewSet):
    serializer_class = RegimenSerializer
    filterset_class = filters.RegimenFilterSet
    queryset = Regimen.objects.all()


@extend_schema_view(
    list=extend_schema(summary="Dose levels"),
    retrieve=extend_schema(summary="A dose level"),
)
class DoseLevelViewSet(HistoryMixin, ScopedReadViewSet):
    serializer_class = DoseLevelSerializer
    filterset_class = filters.DoseLevelFilterSet
    queryset = DoseLevel.objects.all()


@extend_schema_view(
    list=extend_schema(
        summary="Cohorts, each with its track's current escalation recommendation",
    ),
    retrieve=extend_schema(
        summary="A cohort, with the current recommendation and the decision history",
    ),
)
class CohortViewSet(HistoryMixin, ScopedReadViewSet):
    filterset_class = filters.CohortFilterSet

    def get_serializer_class(self):
        if self.action == "retrieve":
            return CohortDetailSerializer
        if self.action == "history":
            return super().get_serializer_class()
        return CohortListSerializer

    def base_queryset(self):
        current = Recommendation.objects.filter(status__in=Recommendation.CURRENT).select_related(
            "dose_level", "committee_decision"
        )
        return (
            Cohort.objects.select_related("track__regimen", "dose_level")
            .prefetch_related(
                Prefetch("track__recommendations", queryset=current, to_attr="current")
            )
            .annotate(subjects_enrolled=occupied_places_annotation())
        )
