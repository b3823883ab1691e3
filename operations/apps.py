from django.apps import AppConfig


class OperationsConfig(AppConfig):
    name = "operations"
    verbose_name = "Operations: health, heartbeats, request ids in the logs"

    def ready(self):
        from . import worker  # noqa: F401  (connects the Celery signals)
