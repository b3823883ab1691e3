"""What every API view shares: scoping through accounts.scoping, JSON or CSV, history, and the
write pattern (parse -> If-Match -> one service call -> the record and its new ETag)."""

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from accounts.scoping import restrict, writes_clinical_data
from api.concurrency import etag_for, expected_version
from api.inputs import ReasonInput
from api.renderers import CsvRenderer
from api.serializers import HistoryEntrySerializer
from api.throttling import AnonRateThrottle
from core.records import history_entries


class MayWriteClinicalData(permissions.BasePermission):
    """Reads for every member; writes only for roles that enter or correct data.

    A first, coarse gate so that a read-only role (sponsor, medical monitor) gets 403 for any
    write whatever it sends; the service then checks the exact capability at the exact site.
    """

    message = "Your role reads the study's data; it cannot change it through the API."

    def has_permission(self, request, view):
        if request.method in permissions.SAFE_METHODS:
            return True
        return writes_clinical_data(request.user)


class ApiPolicyMixin:
    """What every /api/v1/ endpoint does before and after its own work.

    - A method the endpoint does not offer is 405 (with Allow) before anything else: not a 400
      about ?format=, not a 403 for a role that could not have used it anyway (RFC 9110 15.5.6).
    - A request refused for its credentials (none, or a bad token) counts against the caller's
      address like any anonymous call, so guessing and hammering are throttled too (429).
    - Responses are never stored by browsers or proxies: they carry clinical data
      (Cache-Control: no-store, RFC 9111 5.2.2.5).
    """

    def initial(self, request, *args, **kwargs):
        method = request.method.lower()
        if method not in self.http_method_names or not hasattr(self, method):
            raise exceptions.MethodNotAllowed(request.method)
        try:
            super().initial(request, *args, **kwargs)
        except (exceptions.NotAuthenticated, exceptions.AuthenticationFailed):
            throttle = AnonRateThrottle()
            if not throttle.allow_request(request, self):
                self.throttled(request, throttle.wait())
            raise

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        response["Cache-Control"] = "no-store"
        return response


class ApiViewMixin(ApiPolicyMixin):
    renderer_classes = [JSONRenderer, CsvRenderer]

    def get_renderers(self):
        # CSV is for reading; a write answers in JSON.
        request = getattr(self, "request", None)
        if request is not None and request.method not in ("GET", "HEAD"):
            return [JSONRenderer()]
        return super().get_renderers()

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if response.status_code >= 400 and isinstance(
            getattr(response, "accepted_renderer", None), CsvRenderer
        ):
            # Errors are always the JSON error body, whatever format the list was asked in.
            response.accepted_renderer = JSONRenderer()
            response.accepted_media_type = "application/json"
            response.content_type = None
        return response


class ScopedReadViewSet(ApiViewMixin, viewsets.ReadOnlyModelViewSet):
    """A read-only resource whose rows are narrowed to the caller's scope in one place."""

    lookup_value_converter = "int"
    etag_actions: tuple[str, ...] = ()
    if_match_actions: tuple[str, ...] = ()

    def base_queryset(self):
        """The rows before scoping: the view's `queryset`, or what a view builds per request."""
        return self.queryset.all()

    def get_queryset(self):
        return restrict(self.base_queryset(), self.request.user)

    def filter_queryset(self, queryset):
        # Filters describe lists; a record's own URL finds it whatever the list filters say.
        if self.action != "list":
            return queryset
        return super().filter_queryset(queryset)

    def retrieve(self, request, *args, **kwargs):
        response = super().retrieve(request, *args, **kwargs)
        if self.action in self.etag_actions:
            response["ETag"] = etag_for(self._object)
        return response

    def get_object(self):
        self._object = super().get_object()
        return self._object


class HistoryMixin:
    """GET .../{id}/history/: the record's audit trail, oldest first."""

    def get_serializer_class(self):
        if getattr(self, "action", None) == "history":
            return HistoryEntrySerializer
        return super().get_serializer_class()

    @extend_schema(
        summary="The record's change history",
        description="Every create, change and void of the record, oldest first: who, when "
        "(UTC), the reason, and each changed field's old and new value.",
        responses=HistoryEntrySerializer(many=True),
    )
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def history(self, request, pk=None):
        record = self.get_object()
        return Response(HistoryEntrySerializer(history_entries(record), many=True).data)


VOID_REASON = OpenApiParameter(
    "reason",
    type=OpenApiTypes.STR,
    location=OpenApiParameter.QUERY,
    required=True,
    description="Why the record is voided (kept in its audit history). May also be sent as "
    '{"reason": "..."} in a JSON body.',
)


class ClinicalWriteViewSet(ScopedReadViewSet):
    """A clinical record that integrations may create, correct (PATCH) and void (DELETE).

    Subclasses name their input serializers and their app's services, and call the create
    service in `service_create`; nothing here saves a model. Every service on an existing record
    is called the same way: `service(by=user, <record_argument>=record, expected_version=...,
    **what the input parsed)`.
    """

    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    permission_classes = [permissions.IsAuthenticated, MayWriteClinicalData]
    etag_actions = ("retrieve", "create")
    create_input = None
    update_input = None
    detail_route_name = ""

    # --- what subclasses provide ---

    record_argument = ""  # the keyword the app's services take the record by: "dose", ...
    update_service = None  # staticmethod(app.services.<record>_update)
    void_service = None  # staticmethod(app.services.<record>_void)

    def service_create(self, data: dict):
        raise NotImplementedError

    # --- the pattern ---

    @property
    def if_match_actions(self) -> tuple[str, ...]:
        """Every write to an existing record: PATCH, DELETE and each POST action on one."""
        posts = (a.__name__ for a in self.get_extra_actions() if a.detail and "post" in a.mapping)
        return ("partial_update", "destroy", *posts)

    def call_service(self, service, record, version: int, **data):
        """One service call on an existing record, by the caller, at the version they saw."""
        return service(
            by=self.request.user,
            **{self.record_argument: record},
            expected_version=version,
            **data,
        )

    def parse(self, input_class, data=None):
        serializer = input_class(
            data=self.request.data if data is None else data,
            context=self.get_serializer_context(),
        )
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    def record_response(self, record, status_code=status.HTTP_200_OK):
        fresh = self.base_queryset().get(pk=record.pk)
        response = Response(self.get_serializer(fresh).data, status=status_code)
        response["ETag"] = etag_for(fresh)
        if status_code == status.HTTP_201_CREATED and self.detail_route_name:
            response["Location"] = reverse(self.detail_route_name, args=[fresh.pk])
        return response

    def create(self, request, *args, **kwargs):
        data = self.parse(self.create_input)
        record = self.service_create(data)
        return self.record_response(record, status.HTTP_201_CREATED)

    # The body is read before If-Match: a request that would fail anyway answers its own error,
    # not 412/428 (RFC 9110 section 13.2.1: preconditions are evaluated only for a request that
    # would otherwise succeed).

    def partial_update(self, request, *args, **kwargs):
        record = self.get_object()
        changes = self.parse(self.update_input)
        version = expected_version(request, record)
        reason = changes.pop("reason")
        record = self.call_service(
            self.update_service, record, version, changes=changes, reason=reason
        )
        return self.record_response(record)

    def update(self, request, *args, **kwargs):  # PUT is not offered: send only what changes
        return self.http_method_not_allowed(request, *args, **kwargs)

    def destroy(self, request, *args, **kwargs):
        record = self.get_object()
        body = request.data if hasattr(request.data, "get") else {}
        reason = body.get("reason")
        if reason is None:
            reason = request.query_params.get("reason")
        data = self.parse(ReasonInput, {"reason": reason} if reason is not None else {})
        version = expected_version(request, record)
        record = self.call_service(self.void_service, record, version, reason=data["reason"])
        return self.record_response(record)

    def action_on_record(self, input_class, service):
        """A detail action (consent, enroll, ...): If-Match, parse, one service call."""
        record = self.get_object()
        data = self.parse(input_class)
        version = expected_version(self.request, record)
        return self.record_response(self.call_service(service, record, version, **data))
