"""The escalation as the rules core and the committee left it, read-only: recommendations with
the committee's decisions, every signed committee decision, each subject's DLT evaluation."""

from drf_spectacular.utils import extend_schema, extend_schema_view

from api import filters
from api.serializers import (
    CommitteeDecisionSerializer,
    DltEvaluationSerializer,
    RecommendationDetailSerializer,
    RecommendationSerializer,
    redaction_of,
)
from escalation.models import CommitteeDecision, Recommendation, SubjectDltStatus

from .base import HistoryMixin, ScopedReadViewSet


@extend_schema_view(
    list=extend_schema(
        summary="Escalation decisions: each recommendation with the committee's decision",
        description="Every recommendation the escalation rules made, newest data included, with "
        "the Safety Review Committee's signed decision on it once there is one. The detail "
        "adds the recommendation as data and the per-subject facts it saw.",
    ),
    retrieve=extend_schema(summary="An escalation decision, with its data and inputs"),
)
class EscalationDecisionViewSet(ScopedReadViewSet):
    filterset_class = filters.RecommendationFilterSet

    def get_serializer_class(self):
        return (
            RecommendationDetailSerializer
            if self.action == "retrieve"
            else RecommendationSerializer
        )

    def base_queryset(self):
        queryset = Recommendation.objects.select_related(
            "track", "dose_level", "committee_decision__signature"
        )
        if self.action != "retrieve":
            # Lists leave the large JSON columns out; a site role's texts are redacted with the
            # help of the inputs (escalation/redaction.py), so those are read for them.
            redaction = redaction_of({"request": self.request})
            needs_inputs = redaction is not None and redaction.needed_for()
            queryset = queryset.defer("data") if needs_inputs else queryset.defer("data", "inputs")
        return queryset


@extend_schema_view(
    list=extend_schema(
        summary="Committee decisions, signed",
        description="Every decision of the Safety Review Committee: confirmations, overrides "
        "(with rationale) and decisions on its own initiative (opening the Q2W track or an "
        "expansion cohort), with the signature's printed name and meaning.",
    ),
    retrieve=extend_schema(summary="A committee decision"),
)
class CommitteeDecisionViewSet(HistoryMixin, ScopedReadViewSet):
    serializer_class = CommitteeDecisionSerializer
    filterset_class = filters.CommitteeDecisionFilterSet
    queryset = CommitteeDecision.objects.select_related("track", "decided_by", "signature")


@extend_schema_view(
    list=extend_schema(
        summary="DLT evaluations: each enrolled subject's DLT status",
        description="As of the track's latest evaluation: window, evaluable or not and why, the "
        "DLT if any, infusions received against those required. A site role sees its own "
        "sites' subjects only.",
    ),
    retrieve=extend_schema(summary="A subject's DLT evaluation"),
)
class DltEvaluationViewSet(ScopedReadViewSet):
    serializer_class = DltEvaluationSerializer
    filterset_class = filters.DltEvaluationFilterSet
    queryset = SubjectDltStatus.objects.select_related("subject__site", "track")
