from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = "REST API v1"

    def ready(self):
        # Registers the token scheme with drf-spectacular.
        from . import schema  # noqa: F401
