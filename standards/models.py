"""An export of the study's data in the sponsor's standards, kept for good (docs/standards.md §11)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from core.models import ClinicalDataProtected


class ExportQuerySet(models.QuerySet):
    def delete(self):
        raise ClinicalDataProtected("Every export is kept; exports are never deleted.")

    delete.queryset_only = True


class Export(models.Model):
    """Who asked for which data (now, or as of a data cut), under which standard versions, and
    the zip it produced with its SHA-256. Progress is written as the job runs."""

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
    data_cut_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Export the data as they were at this time (from the audit history); "
        "empty: as they are when the export runs.",
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0, help_text="Percent done.")
    step = models.CharField(max_length=200, blank=True, help_text="What the job is doing.")
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    snapshot_at = models.DateTimeField(
        null=True, blank=True, help_text="The data cut the files show (the cut, or the run time)."
    )
    ig_version = models.CharField(max_length=20, blank=True)
    ct_version = models.CharField(max_length=20, blank=True)
    define_version = models.CharField(max_length=20, blank=True)
    odm_version = models.CharField(max_length=20, blank=True)
    file_name = models.CharField(max_length=200, blank=True)
    file_size = models.PositiveBigIntegerField(null=True, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    errors = models.PositiveIntegerField(default=0, help_text="Validation errors.")
    warnings = models.PositiveIntegerField(default=0, help_text="Validation warnings.")
    validation = models.JSONField(default=list, blank=True, help_text="Every finding.")
    datasets = models.JSONField(default=list, blank=True, help_text="[name, records] per dataset.")
    failure = models.TextField(blank=True, help_text="Why the job failed.")
    attempts = models.PositiveSmallIntegerField(default=0)

    history = HistoricalRecords(excluded_fields=["progress", "step"])
    objects = ExportQuerySet.as_manager()
    scope_study = "study"

    class Meta:
        ordering = ["-requested_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(progress__lte=100), name="export_progress_percent"),
            models.CheckConstraint(
                condition=~Q(status="completed") | (~Q(sha256="") & ~Q(file_name="")),
                name="export_completed_has_file",
            ),
        ]

    def __str__(self):
        return f"Export {self.pk} of {self.study} ({self.get_status_display()})"

    @property
    def is_finished(self) -> bool:
        return self.status in self.FINISHED

    def delete(self, *args, **kwargs):
        raise ClinicalDataProtected("Every export is kept; exports are never deleted.")
