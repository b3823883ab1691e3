from django.apps import AppConfig


class DesignsConfig(AppConfig):
    """Operating characteristics of dose-finding designs, simulated as jobs (docs/designs.md §13)."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "designs"
    verbose_name = "Dose-finding designs"
