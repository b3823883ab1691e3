"""The last sign of life of each background process (docs/operations.md §3): the sweep records
one after each run, every Celery worker every `WORKER_HEARTBEAT_SECONDS`. Operational data, not
clinical: one row per process, overwritten, no history."""

from django.db import models
from django.utils import timezone


class Heartbeat(models.Model):
    name = models.CharField(max_length=200, unique=True)  # "sweep", "worker:<hostname>"
    beat_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} at {self.beat_at:%Y-%m-%d %H:%M:%S}"

    @classmethod
    def beat(cls, name: str) -> None:
        cls.objects.update_or_create(name=name, defaults={"beat_at": timezone.now()})
