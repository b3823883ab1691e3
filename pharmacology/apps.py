from django.apps import AppConfig


class PharmacologyConfig(AppConfig):
    name = "pharmacology"
    verbose_name = "Pharmacokinetics, immunogenicity and biomarkers"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from core import events
        from trial.services import study_loaded

        from . import services

        # The protocol file's [pharmacology] section is loaded with the study.
        study_loaded.connect(services.on_study_loaded, dispatch_uid="pharmacology-settings")
        # A corrected or voided infusion moves (or orphans) the samples timed from it.
        events.subscribe(services.on_clinical_data_changed)
        # Concentrations committed: their subjects' NCA is enqueued.
        from .triggers import connect

        connect()
