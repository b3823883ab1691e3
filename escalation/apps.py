from django.apps import AppConfig


class EscalationConfig(AppConfig):
    name = "escalation"
    verbose_name = "Escalation: DLT evaluation, recommendations, committee decisions"

    def ready(self):
        from core import events

        from .triggers import on_clinical_data_changed

        events.subscribe(on_clinical_data_changed)
