"""API tokens: list, make and revoke your own, over the API and on a small page."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.authentication import SessionAuthentication
from rest_framework.response import Response

from api.inputs import TokenCreateInput
from api.models import ApiToken
from api.tokens import DEFAULT_LIFETIME_DAYS, MAX_LIFETIME_DAYS, token_create, token_revoke
from core.errors import ValidationError

from .base import ApiPolicyMixin


class ApiTokenSerializer(serializers.ModelSerializer):
    status = serializers.SerializerMethodField()

    class Meta:
        model = ApiToken
        fields = [
            "id",
            "name",
            "prefix",
            "created_at",
            "expires_at",
            "revoked_at",
            "last_used_at",
            "status",
        ]

    def get_status(self, token) -> str:
        from django.utils import timezone

        if token.revoked_at is not None:
            return "revoked"
        return "active" if token.expires_at > timezone.now() else "expired"


class IssuedTokenSerializer(ApiTokenSerializer):
    token = serializers.CharField(
        read_only=True, help_text="The secret: shown this once, never again. Keep it safe."
    )

    class Meta(ApiTokenSerializer.Meta):
        fields = [*ApiTokenSerializer.Meta.fields, "token"]


class SignedInSession(permissions.BasePermission):
    """Making a token needs a signed-in person, not a token: a leaked token cannot renew itself."""

    message = (
        "Make API tokens from a signed-in session (the /api/tokens/ page): a token cannot "
        "make tokens."
    )

    def has_permission(self, request, view):
        if view.action != "create":
            return True
        return isinstance(request.successful_authenticator, SessionAuthentication)


@extend_schema_view(
    list=extend_schema(summary="Your API tokens (secrets are never shown again)"),
    create=extend_schema(
        summary="Make an API token (from a signed-in session)",
        description="The response carries the token once. It acts with your roles and sites "
        f"and expires after `expires_in_days` ({DEFAULT_LIFETIME_DAYS} by default, at most "
        f"{MAX_LIFETIME_DAYS}). A request authenticated with a token is refused (403).",
        request=TokenCreateInput,
        responses={201: IssuedTokenSerializer},
    ),
    destroy=extend_schema(
        summary="Revoke one of your tokens",
        description="It stops working at once; the token stays on record as revoked.",
        responses={200: ApiTokenSerializer},
    ),
)
class ApiTokenViewSet(
    ApiPolicyMixin,
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = ApiTokenSerializer
    permission_classes = [permissions.IsAuthenticated, SignedInSession]
    lookup_value_converter = "int"
    filter_backends: list = []

    def get_queryset(self):
        return ApiToken.objects.filter(user=self.request.user)

    def create(self, request, *args, **kwargs):
        data = TokenCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        issued = token_create(
            by=request.user,
            name=data.validated_data["name"],
            lifetime_days=data.validated_data["expires_in_days"],
        )
        body = IssuedTokenSerializer(issued.token).data
        body["token"] = issued.secret
        return Response(body, status=status.HTTP_201_CREATED, headers={"Cache-Control": "no-store"})

    def destroy(self, request, *args, **kwargs):
        token = token_revoke(by=request.user, token=self.get_object())
        return Response(ApiTokenSerializer(token).data)


# --- The page: /api/tokens/ ---


@login_required
@require_http_methods(["GET", "POST"])
def token_page(request):
    issued = None
    errors: dict = {}
    form = {"name": "", "expires_in_days": str(DEFAULT_LIFETIME_DAYS)}
    if request.method == "POST":
        form = {
            "name": request.POST.get("name", ""),
            "expires_in_days": request.POST.get("expires_in_days", ""),
        }
        try:
            days = int(form["expires_in_days"])
        except ValueError:
            days = 0
        try:
            issued = token_create(by=request.user, name=form["name"], lifetime_days=days)
            form = {"name": "", "expires_in_days": str(DEFAULT_LIFETIME_DAYS)}
        except ValidationError as error:
            errors = error.message_dict
    tokens = ApiToken.objects.filter(user=request.user)
    response = render(
        request,
        "api/tokens.html",
        {
            "tokens": ApiTokenSerializer(tokens, many=True).data,
            "issued": issued,
            "errors": errors,
            "form": form,
            "max_days": MAX_LIFETIME_DAYS,
        },
        status=400 if errors else 200,
    )
    response["Cache-Control"] = "no-store"  # the page may carry a secret
    return response


@login_required
@require_POST
def token_page_revoke(request, pk: int):
    token = get_object_or_404(ApiToken, pk=pk, user=request.user)
    token_revoke(by=request.user, token=token)
    return redirect("api:tokens")
