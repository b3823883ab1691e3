from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = "REST API v1"

    def ready(self):
        # Registers the token scheme with drf-spectacular.
        from accounts.access import access_ended

        from . import schema  # noqa: F401
        from .tokens import revoke_all

        # A locked-out or deactivated account's tokens stop working with its sessions.
        access_ended.connect(revoke_all, dispatch_uid="api_revoke_tokens")
