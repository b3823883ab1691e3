"""A simulation of dose-finding designs' operating characteristics (docs/designs.md §13).

The run keeps what makes it reproducible: the designs with their settings, the scenarios of true
DLT probabilities, the number of trials, the seed, the chunk size and the designs core's
version. The same inputs give the same figures. Runs are never deleted.
"""

from django.conf import settings
from django.db import models
from simple_history.models import HistoricalRecords

from core.models import ClinicalDataProtected


class SimulationQuerySet(models.QuerySet):
    def delete(self):
        raise ClinicalDataProtected("Every simulation is kept; simulations are never deleted.")

    delete.queryset_only = True


class Simulation(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        COMPLETED = "completed", "Completed"
        FAILED = "failed", "Failed"

    FINISHED = (Status.COMPLETED, Status.FAILED)

    study = models.ForeignKey("trial.Study", on_delete=models.PROTECT, related_name="+")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField()
    title = models.CharField(max_length=200, blank=True)
    designs = models.JSONField(help_text="The designs compared, each {name, settings...}.")
    scenarios = models.JSONField(help_text="Each {name, true_dlt: one probability per level}.")
    dose_levels = models.JSONField(help_text="The study's dose levels' labels, lowest first.")
    n_trials = models.PositiveIntegerField()
    seed = models.PositiveBigIntegerField()
    chunk = models.PositiveIntegerField(help_text="Trials per batch (part of what the seed gives).")
    designs_version = models.CharField(max_length=100)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0, help_text="Percent done.")
    step = models.CharField(max_length=200, blank=True, help_text="What the job is doing.")
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    seconds = models.FloatField(null=True, blank=True, help_text="Time the simulation took.")
    results = models.JSONField(default=dict, blank=True)
    failure = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)

    history = HistoricalRecords(excluded_fields=["progress", "step"])
    objects = SimulationQuerySet.as_manager()
    scope_study = "study"

    class Meta:
        ordering = ["-requested_at", "-pk"]

    def __str__(self):
        return f"Simulation {self.pk} ({self.get_status_display()})"

    @property
    def is_finished(self) -> bool:
        return self.status in self.FINISHED

    def delete(self, *args, **kwargs):
        raise ClinicalDataProtected("Every simulation is kept; simulations are never deleted.")
