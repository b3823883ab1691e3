from django.apps import AppConfig


class VisitsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "visits"
    verbose_name = "Visits and clinical forms"

    def ready(self):
        # The schedule of assessments loads with the study from its protocol file.
        from trial.services import study_loaded

        from . import schedules

        study_loaded.connect(schedules.load_from_protocol, dispatch_uid="visits.schedules")
