"""The data quality API (/api/v1/): queries (read; answer for site roles; open, close and re-open
for monitor roles), source data verifications, casebook signatures, freezes and locks (read).
Writes call the same services as the pages; frozen or locked data answer 423 (docs/quality.md
§5)."""

from django.urls import reverse
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from api.concurrency import etag_for, expected_version
from api.inputs import ScopedPrimaryKey, StrictInput
from api.views.base import HistoryMixin, ScopedReadViewSet
from subjects.models import Subject

from . import services
from .models import (
    FORM_CHOICES,
    CasebookSignature,
    Freeze,
    Query,
    StudyLock,
    SubjectLock,
    Verification,
)

# --- Serializers ------------------------------------------------------------------------------


class QuerySerializer(serializers.ModelSerializer):
    subject_label = serializers.CharField(source="subject.__str__", read_only=True)
    site_number = serializers.CharField(source="site.number", read_only=True)

    class Meta:
        model = Query
        fields = [
            "id",
            "version",
            "study",
            "site",
            "site_number",
            "subject",
            "subject_label",
            "form",
            "record_id",
            "field",
            "origin",
            "check_name",
            "check_version",
            "text",
            "status",
            "record_version",
            "opened_by",
            "opened_at",
            "answered_at",
            "closed_by",
            "closed_at",
        ]


class VerificationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Verification
        fields = [
            "id",
            "study",
            "site",
            "subject",
            "form",
            "record_id",
            "field",
            "record_version",
            "verified_by",
            "verified_at",
            "cleared_at",
            "cleared_reason",
        ]


class CasebookSignatureSerializer(serializers.ModelSerializer):
    printed_name = serializers.CharField(source="signature.printed_name", read_only=True)
    meaning = serializers.CharField(source="signature.meaning", read_only=True)
    signed_at = serializers.DateTimeField(source="signature.signed_at", read_only=True)
    content_digest = serializers.CharField(source="signature.record_digest", read_only=True)
    invalidated_at = serializers.DateTimeField(source="signature.invalidated_at", read_only=True)
    invalidation_reason = serializers.CharField(
        source="signature.invalidation_reason", read_only=True
    )
    valid = serializers.BooleanField(source="signature.is_valid", read_only=True)

    class Meta:
        model = CasebookSignature
        fields = [
            "id",
            "study",
            "site",
            "subject",
            "printed_name",
            "meaning",
            "statement",
            "signed_at",
            "content_digest",
            "valid",
            "invalidated_at",
            "invalidation_reason",
        ]


class FreezeSerializer(serializers.ModelSerializer):
    class Meta:
        model = Freeze
        fields = [
            "id",
            "subject",
            "site",
            "form",
            "record_id",
            "frozen_by",
            "frozen_at",
            "reason",
            "unfrozen_by",
            "unfrozen_at",
            "unfreeze_reason",
        ]


class SubjectLockSerializer(serializers.ModelSerializer):
    class Meta:
        model = SubjectLock
        fields = [
            "id",
            "subject",
            "site",
            "locked_by",
            "locked_at",
            "reason",
            "unlocked_by",
            "unlocked_at",
            "unlock_reason",
        ]


class StudyLockSerializer(serializers.ModelSerializer):
    class Meta:
        model = StudyLock
        fields = [
            "id",
            "study",
            "locked_by",
            "locked_at",
            "reason",
            "unlock_requested_by",
            "unlock_requested_at",
            "unlock_request_reason",
            "unlocked_by",
            "unlocked_at",
            "unlock_reason",
        ]


class QueryOpenInput(StrictInput):
    subject = ScopedPrimaryKey(Subject)
    form = serializers.ChoiceField(choices=FORM_CHOICES)
    record_id = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
    field = serializers.CharField(max_length=80, required=False, allow_blank=True, default="")
    text = serializers.CharField(max_length=2000)


class QueryTextInput(StrictInput):
    text = serializers.CharField(max_length=2000)


class QueryCloseInput(StrictInput):
    text = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


# --- Views ------------------------------------------------------------------------------------


def _step_schema(summary: str, request):
    return extend_schema(
        summary=summary,
        description="Needs If-Match with the query's ETag; each step is kept in the query's "
        "thread and audit history. 423 when the subject or the study database is locked.",
        request=request,
        responses={200: QuerySerializer},
    )


@extend_schema_view(
    list=extend_schema(
        summary="Queries (a site role sees its own sites' only)",
        description="Queries on fields and forms of the casebooks, raised by edit checks or "
        "opened by monitors, with their status.",
    ),
    retrieve=extend_schema(summary="A query"),
    create=extend_schema(
        summary="Open a query on a field (or a whole form)",
        description="For the medical monitor, data manager and clinical research associate.",
        request=QueryOpenInput,
        responses={201: QuerySerializer},
    ),
)
class QueryViewSet(HistoryMixin, ScopedReadViewSet):
    http_method_names = ["get", "post", "head", "options"]
    serializer_class = QuerySerializer
    etag_actions = ("retrieve", "create")
    if_match_actions = ("answer", "close", "reopen")

    def base_queryset(self):
        return Query.objects.select_related("subject", "site")

    def _parse(self, input_class):
        serializer = input_class(data=self.request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    def _respond(self, query, status_code=status.HTTP_200_OK):
        fresh = self.base_queryset().get(pk=query.pk)
        response = Response(self.get_serializer(fresh).data, status=status_code)
        response["ETag"] = etag_for(fresh)
        if status_code == status.HTTP_201_CREATED:
            response["Location"] = reverse("api:query-detail", args=[fresh.pk])
        return response

    def create(self, request, *args, **kwargs):
        data = self._parse(QueryOpenInput)
        query = services.query_open(by=request.user, **data)
        return self._respond(query, status.HTTP_201_CREATED)

    def _step(self, input_class, service):
        query = self.get_object()
        data = self._parse(input_class)
        version = expected_version(self.request, query)
        return self._respond(
            service(by=self.request.user, query=query, expected_version=version, **data)
        )

    @_step_schema("Answer an open query (site roles)", QueryTextInput)
    @action(detail=True, methods=["post"])
    def answer(self, request, pk=None):
        return self._step(QueryTextInput, services.query_answer)

    @_step_schema("Close a query (monitor roles)", QueryCloseInput)
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        return self._step(QueryCloseInput, services.query_close)

    @_step_schema("Re-open a query, saying what is still wrong (monitor roles)", QueryTextInput)
    @action(detail=True, methods=["post"])
    def reopen(self, request, pk=None):
        return self._step(QueryTextInput, services.query_reopen)


@extend_schema_view(
    list=extend_schema(
        summary="Source data verifications",
        description="Each form or field marked verified, with who and when; a cleared one says "
        "what changed after verification.",
    ),
    retrieve=extend_schema(summary="A source data verification"),
)
class VerificationViewSet(ScopedReadViewSet):
    serializer_class = VerificationSerializer
    queryset = Verification.objects.all()


@extend_schema_view(
    list=extend_schema(
        summary="Investigators' casebook signatures",
        description="Printed name, meaning, UTC time and the digest of the casebook signed; "
        "`valid` is false once a later change invalidated it.",
    ),
    retrieve=extend_schema(summary="A casebook signature"),
)
class CasebookSignatureViewSet(ScopedReadViewSet):
    serializer_class = CasebookSignatureSerializer
    queryset = CasebookSignature.objects.select_related("signature")


@extend_schema_view(
    list=extend_schema(summary="Frozen forms (current and released)"),
    retrieve=extend_schema(summary="A form's freeze"),
)
class FreezeViewSet(ScopedReadViewSet):
    serializer_class = FreezeSerializer
    queryset = Freeze.objects.all()


@extend_schema_view(
    list=extend_schema(summary="Subject locks (current and released)"),
    retrieve=extend_schema(summary="A subject lock"),
)
class SubjectLockViewSet(ScopedReadViewSet):
    serializer_class = SubjectLockSerializer
    queryset = SubjectLock.objects.all()


@extend_schema_view(
    list=extend_schema(summary="Study database locks (current and released)"),
    retrieve=extend_schema(summary="A study database lock"),
)
class StudyLockViewSet(ScopedReadViewSet):
    serializer_class = StudyLockSerializer
    queryset = StudyLock.objects.all()
