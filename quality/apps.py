from django.apps import AppConfig


class QualityConfig(AppConfig):
    name = "quality"
    verbose_name = "Data quality and sign-off"

    def ready(self):
        from core import events

        from . import services

        # After every clinical write (inside its transaction): clearing source data
        # verification and invalidating the casebook signature the change touches, whichever
        # form; the edit checks of a lab result, a visit or a lesion (_checks_on_write), and all of
        # them when a subject's, dose's or adverse event's service announces a change.
        events.after_write(services.on_record_written)
        events.subscribe(services.on_clinical_data_changed)
        # Before every clinical write: frozen forms, locked subjects, a locked study database.
        events.guard_writes(services.refuse_locked_write)
        # Before the study's other writes (committee decisions, stored recommendations): a
        # locked study database (docs/quality.md §5).
        events.guard_study_writes(services.refuse_study_write)
        # The protocol file's [quality] section, loaded with the study.
        from trial.services import study_loaded

        study_loaded.connect(services.on_study_loaded, dispatch_uid="quality-settings")
        # Whether this sign-in needs a second factor (docs/quality.md §7).
        from django.contrib.auth.signals import user_logged_in

        from .two_factor import on_logged_in

        user_logged_in.connect(on_logged_in, dispatch_uid="quality-two-factor")
