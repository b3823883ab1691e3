from django.apps import AppConfig


class EfficacyConfig(AppConfig):
    name = "efficacy"
    verbose_name = "Efficacy: RECIST 1.1 tumour assessments and endpoints"

    def ready(self) -> None:
        # The study loader announces each load; the [efficacy] section is read here
        # (docs/efficacy.md §15).
        from trial.services import study_loaded

        from .services import load_settings_from_protocol

        study_loaded.connect(load_settings_from_protocol, dispatch_uid="efficacy-settings")
