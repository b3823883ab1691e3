from django.apps import AppConfig


class SimulationsConfig(AppConfig):
    """Operating characteristics of dose-finding designs, simulated as jobs (docs/designs.md §13)."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "simulations"
    verbose_name = "Dose-finding designs"

    def ready(self):
        from .triggers import connect

        connect()
