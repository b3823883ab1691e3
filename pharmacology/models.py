"""Samples, laboratory results and what is derived from them (docs/pharmacology.md §7-§9).

- `StudyPharmacology`: the protocol file's [pharmacology] section as loaded (schedules and
  settings), one per study.
- `Sample`: one PK, ADA or biomarker sample of a subject at a nominal time point of a dosing
  interval, recorded by the site (barcode, actual time) or as not collected with a reason.
- `LabImport`: one file from the bioanalytical laboratory, kept whole, accepted or refused,
  with its per-row report.
- `Concentration`, `AdaResult`, `BiomarkerResult`: one result per sample (and analyte),
  as the laboratory reported it.
- `NcaAnalysis`: the NCA of one subject, interval and analyte, with the points it used.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from core.models import ClinicalRecord


class StudyPharmacology(models.Model):
    study = models.OneToOneField("trial.Study", on_delete=models.PROTECT, related_name="+")
    section = models.JSONField(help_text="The protocol file's [pharmacology] section.")
    loaded_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    scope_study = "study"

    class Meta:
        verbose_name = "study pharmacology settings"
        verbose_name_plural = "study pharmacology settings"

    def __str__(self):
        return f"Pharmacology settings of {self.study_id}"


class SampleKind(models.TextChoices):
    PK = "pk", "PK"
    ADA = "ada", "ADA"
    BIOMARKER = "biomarker", "Biomarker"


class Sample(ClinicalRecord):
    """docs/pharmacology.md §7.2: the nominal time comes from the actual infusion; the actual
    time gives ARRLT/AFRLT, the deviation and the window flag, stored as derived."""

    class Status(models.TextChoices):
        COLLECTED = "collected", "Collected"
        NOT_COLLECTED = "not_collected", "Not collected"

    study = models.ForeignKey("trial.Study", on_delete=models.PROTECT, related_name="+")
    subject = models.ForeignKey(
        "subjects.Subject", on_delete=models.PROTECT, related_name="pk_samples"
    )
    dose = models.ForeignKey(
        "dosing.DoseAdministration",
        on_delete=models.PROTECT,
        related_name="samples",
        help_text="The reference infusion (this interval's dose).",
    )
    kind = models.CharField(max_length=10, choices=SampleKind.choices)
    interval = models.PositiveSmallIntegerField(
        help_text="Dosing interval: the cycle on Q3W; one per infusion on Q2W."
    )
    timepoint = models.CharField(max_length=40)
    role = models.CharField(max_length=20)
    specimen = models.CharField(max_length=20)
    nominal_at = models.DateTimeField()
    window_start = models.DateTimeField()
    window_end = models.DateTimeField()
    nrrlt_hours = models.FloatField("NRRLT (h)")
    nfrlt_hours = models.FloatField("NFRLT (h)")
    status = models.CharField(max_length=20, choices=Status.choices)
    sample_id = models.CharField(
        "sample ID (barcode)", max_length=60, blank=True, help_text="The tube's barcode."
    )
    collected_at = models.DateTimeField("actual date-time", null=True, blank=True)
    not_collected_reason = models.TextField(blank=True)
    arrlt_hours = models.FloatField("ARRLT (h)", null=True, blank=True)
    afrlt_hours = models.FloatField("AFRLT (h)", null=True, blank=True)
    deviation_hours = models.FloatField("deviation (h)", null=True, blank=True)
    out_of_window = models.BooleanField(default=False)
    deviation_flagged = models.BooleanField(default=False)
    deviation_comment = models.TextField(blank=True)

    scope_study = "study"
    scope_site = "subject__site"

    class Meta:
        ordering = ["subject_id", "nominal_at", "kind", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["study", "sample_id"],
                condition=Q(voided_at__isnull=True) & ~Q(sample_id=""),
                name="pharm_sample_id_unique",
                violation_error_message="This sample ID (barcode) is already recorded in the "
                "study: each tube has its own.",
            ),
            models.UniqueConstraint(
                fields=["dose", "kind", "timepoint"],
                condition=Q(voided_at__isnull=True),
                name="pharm_sample_once_per_timepoint",
                violation_error_message="This time point of this infusion is already recorded.",
            ),
            models.CheckConstraint(
                condition=(
                    Q(status="collected", collected_at__isnull=False, not_collected_reason="")
                    & ~Q(sample_id="")
                )
                | Q(status="not_collected", collected_at__isnull=True, sample_id="")
                & ~Q(not_collected_reason=""),
                name="pharm_sample_status_fields",
                violation_error_message="A collected sample has its barcode and actual time; a "
                "sample not collected has a reason and neither.",
            ),
        ]

    constraint_fields = {
        "pharm_sample_id_unique": "sample_id",
        "pharm_sample_once_per_timepoint": "timepoint",
        "pharm_sample_status_fields": "status",
    }

    def __str__(self):
        return f"{self.get_kind_display()} {self.timepoint}, interval {self.interval}"

    @property
    def flagged(self) -> bool:
        return self.out_of_window or self.deviation_flagged


class LabImport(models.Model):
    """One file received from the laboratory, kept whole whether accepted or refused
    (docs/pharmacology.md §8)."""

    class Kind(models.TextChoices):
        PK = "pk", "PK concentrations"
        ADA = "ada", "ADA results"
        BIOMARKER = "biomarker", "Biomarker results"

    class Status(models.TextChoices):
        ACCEPTED = "accepted", "Accepted"
        REFUSED = "refused", "Refused"

    class Source(models.TextChoices):
        PAGE = "page", "Uploaded on the page"
        API = "api", "Sent through the API"

    study = models.ForeignKey("trial.Study", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    source = models.CharField(max_length=10, choices=Source.choices)
    file_name = models.CharField(max_length=255)
    content = models.TextField(help_text="The file as received (UTF-8).")
    sha256 = models.CharField(max_length=64)
    status = models.CharField(max_length=10, choices=Status.choices)
    rows = models.PositiveIntegerField(default=0)
    saved = models.PositiveIntegerField(default=0)
    report = models.JSONField(default=list, blank=True, help_text="Per-row errors.")
    unreported = models.JSONField(
        default=list, blank=True, help_text="Collected samples of the kind with no result yet."
    )
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    imported_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    scope_study = "study"

    class Meta:
        ordering = ["-imported_at", "-pk"]

    def __str__(self):
        return f"{self.get_kind_display()} file {self.file_name} ({self.get_status_display()})"

    def delete(self, *args, **kwargs):
        from core.models import ClinicalDataProtected

        raise ClinicalDataProtected("Laboratory files stay on record.")


class _LabResult(ClinicalRecord):
    sample = models.ForeignKey(Sample, on_delete=models.PROTECT, related_name="+")
    lab_import = models.ForeignKey(LabImport, on_delete=models.PROTECT, related_name="+")
    run_id = models.CharField("run ID", max_length=60, blank=True)

    scope_study = "sample__study"
    scope_site = "sample__subject__site"

    class Meta:
        abstract = True


class Concentration(_LabResult):
    """A PK result as reported: `reported` keeps the text (a number or BLQ), `value` is empty
    for BLQ, `lloq` is the run's limit (docs/pharmacology.md §8.3)."""

    sample = models.ForeignKey(Sample, on_delete=models.PROTECT, related_name="concentrations")
    analyte = models.CharField(max_length=40)
    reported = models.CharField(max_length=40)
    value = models.FloatField(null=True, blank=True)
    blq = models.BooleanField("below the LLOQ", default=False)
    unit = models.CharField(max_length=20)
    lloq = models.FloatField("LLOQ")
    uloq = models.FloatField("ULOQ", null=True, blank=True)
    exclude_reason = models.TextField(blank=True, help_text="Left out of every NCA parameter.")
    exclude_from_lambda_z_reason = models.TextField(
        blank=True, help_text="Left out of the terminal slope only."
    )

    class Meta:
        ordering = ["sample_id", "analyte"]
        constraints = [
            models.UniqueConstraint(
                fields=["sample", "analyte"],
                condition=Q(voided_at__isnull=True),
                name="pharm_conc_once_per_sample",
                violation_error_message="This sample already has a result for this analyte.",
            ),
            models.CheckConstraint(
                condition=Q(blq=True, value__isnull=True) | Q(blq=False, value__isnull=False),
                name="pharm_conc_blq_has_no_value",
                violation_error_message="A BLQ result has no number; any other result has one.",
            ),
        ]

    constraint_fields = {
        "pharm_conc_once_per_sample": "analyte",
        "pharm_conc_blq_has_no_value": "value",
    }


class AdaResult(_LabResult):
    """Tiered ADA results of one sample (docs/pharmacology.md §4.1)."""

    class Outcome(models.TextChoices):
        POSITIVE = "positive", "Positive"
        NEGATIVE = "negative", "Negative"

    sample = models.ForeignKey(Sample, on_delete=models.PROTECT, related_name="ada_results")
    screening = models.CharField(max_length=10, choices=Outcome.choices)
    confirmatory = models.CharField(max_length=10, choices=Outcome.choices, blank=True)
    titer = models.FloatField(null=True, blank=True, help_text="Reciprocal dilution.")
    neutralising = models.CharField(max_length=10, choices=Outcome.choices, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["sample"],
                condition=Q(voided_at__isnull=True),
                name="pharm_ada_once_per_sample",
                violation_error_message="This sample already has an ADA result.",
            ),
        ]

    constraint_fields = {"pharm_ada_once_per_sample": "sample"}


class BiomarkerResult(_LabResult):
    """A biomarker result as reported (docs/pharmacology.md §5)."""

    sample = models.ForeignKey(Sample, on_delete=models.PROTECT, related_name="biomarker_results")
    analyte = models.CharField(max_length=40)
    reported = models.CharField(max_length=40)
    value = models.FloatField(null=True, blank=True)
    quantification = models.CharField(max_length=20)
    unit = models.CharField(max_length=20)
    lloq = models.FloatField("LLOQ")
    uloq = models.FloatField("ULOQ", null=True, blank=True)

    class Meta:
        ordering = ["sample_id", "analyte"]
        constraints = [
            models.UniqueConstraint(
                fields=["sample", "analyte"],
                condition=Q(voided_at__isnull=True),
                name="pharm_biomarker_once_per_sample",
                violation_error_message="This sample already has a result for this analyte.",
            ),
        ]

    constraint_fields = {"pharm_biomarker_once_per_sample": "analyte"}


class NcaAnalysis(models.Model):
    """The NCA of one subject, dosing interval and analyte (docs/pharmacology.md §9).

    Derived: recomputed when its inputs change (`inputs_digest`), every version kept in the
    history. `parameters` holds each parameter's value, method, the times used and why it is
    empty; `points` how each sample was used.
    """

    study = models.ForeignKey("trial.Study", on_delete=models.PROTECT, related_name="+")
    subject = models.ForeignKey("subjects.Subject", on_delete=models.PROTECT, related_name="+")
    interval = models.PositiveSmallIntegerField()
    analyte = models.CharField(max_length=40)
    unit = models.CharField(max_length=20)
    dose_mg = models.FloatField(null=True, blank=True)
    dose_per_kg = models.FloatField(null=True, blank=True)
    parameters = models.JSONField(default=dict)
    points = models.JSONField(default=list)
    fit = models.JSONField(null=True, blank=True)
    flags = models.JSONField(default=list)
    settings = models.JSONField(default=dict)
    error = models.TextField(blank=True)
    version = models.CharField(max_length=80)
    inputs_digest = models.CharField(max_length=64)
    computed_at = models.DateTimeField()

    history = HistoricalRecords()

    scope_study = "study"
    scope_site = "subject__site"

    class Meta:
        ordering = ["subject_id", "analyte", "interval"]
        constraints = [
            models.UniqueConstraint(
                fields=["subject", "interval", "analyte"], name="pharm_nca_once_per_profile"
            )
        ]

    def __str__(self):
        return f"NCA {self.analyte} interval {self.interval} of subject {self.subject_id}"
