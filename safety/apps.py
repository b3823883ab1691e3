from django.apps import AppConfig


class SafetyConfig(AppConfig):
    name = "safety"
    verbose_name = "Safety: CTCAE and adverse events"

    def ready(self):
        # The protocol file's [safety] section (docs/safety.md §9).
        from trial.services import study_loaded

        from . import services

        study_loaded.connect(services.on_study_loaded, dispatch_uid="safety-settings")
