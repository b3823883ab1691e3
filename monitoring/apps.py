from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _recount_after_migrate(sender, using, **kwargs):
    # A deploy runs `migrate`, and may change how the AE table counts: every block is recounted
    # at its study's next AE table request (docs/operations.md §6).
    from monitoring.pages.ae_tables import mark_every_block

    mark_every_block(using)


class MonitoringConfig(AppConfig):
    name = "monitoring"
    verbose_name = "Medical monitor dashboards and committee review"

    def ready(self):
        post_migrate.connect(_recount_after_migrate, sender=self)
