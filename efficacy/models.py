"""Tumour assessments as the site records them (RECIST 1.1), and the study's efficacy settings.

What is stored is what the radiologist and the investigator said: each lesion's identity, its
size or status at each assessment, the method, the investigator's time-point response. Every
derived value (sums, nadir, the computed response, the best overall response, the endpoints) is
computed from these by `efficacy.rules` when read, with its rule, reason and rules version
(docs/efficacy.md §15), so a correction or a settings change can never leave a stale result.
"""

from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from core.models import ClinicalRecord

from .rules import (
    EndpointSettings,
    MeasurementStatus,
    Method,
    NewLesionCertainty,
    NonTargetStatus,
    RecistSettings,
    Response,
)


def _choices(enum, labels: dict | None = None) -> list[tuple[str, str]]:
    labels = labels or {}
    return [(member.value, labels.get(member, member.value)) for member in enum]


METHOD_CHOICES = _choices(Method)
RESPONSE_CHOICES = [
    (r.value, r.value) for r in Response if r not in (Response.MISSING,)
]  # the investigator's time-point response (RECIST 1.1 Tables 1-2)


class EfficacySettings(models.Model):
    """The protocol's tumour assessment schedule and response settings (the [efficacy] section
    of the protocol file; docs/efficacy.md §7, §10, §12, §15)."""

    class ConfType(models.TextChoices):
        LOG = "log", "log (R survival survfit default)"
        LOG_LOG = "log-log", "log-log (SAS PROC LIFETEST default)"

    study = models.OneToOneField(
        "trial.Study", on_delete=models.PROTECT, related_name="efficacy_settings"
    )
    baseline_window_days = models.PositiveSmallIntegerField(
        default=28, help_text="Baseline scans at most this many days before the first dose."
    )
    assessment_every_weeks = models.PositiveSmallIntegerField(
        default=6,
        validators=[MinValueValidator(1)],
        help_text="Tumour assessments every N weeks from the first dose.",
    )
    assessment_window_days = models.PositiveSmallIntegerField(
        default=7, help_text="Allowed distance of a scan from its target day."
    )
    confirmation_days = models.PositiveSmallIntegerField(
        default=28,
        validators=[MinValueValidator(28)],
        help_text="A CR or PR is confirmed by an assessment at least this many days later "
        "(RECIST 1.1 §4.6.1: no less than 4 weeks).",
    )
    sd_minimum_days = models.PositiveSmallIntegerField(
        default=42,
        help_text="SD counts for the best overall response only from this many days after the "
        "first dose.",
    )
    max_ne_between = models.PositiveSmallIntegerField(default=1, validators=[MaxValueValidator(10)])
    accept_sd_between = models.BooleanField(default=False)
    continue_confirmed_pr = models.BooleanField(default=True)
    missed_assessments = models.PositiveSmallIntegerField(
        default=2,
        validators=[MinValueValidator(1)],
        help_text="Progression or death after this many missed assessments is censored.",
    )
    km_conf_type = models.CharField(
        "Kaplan-Meier confidence transform",
        max_length=10,
        choices=ConfType.choices,
        default=ConfType.LOG,
    )
    dcr_includes_non_cr_non_pd = models.BooleanField(default=False)

    history = HistoricalRecords()

    scope_study = "study"

    class Meta:
        verbose_name = "efficacy settings"
        verbose_name_plural = "efficacy settings"

    def __str__(self) -> str:
        return f"Efficacy settings of {self.study_id}"

    @property
    def assessment_interval_days(self) -> int:
        return 7 * self.assessment_every_weeks

    def recist(self) -> RecistSettings:
        return RecistSettings(
            confirmation_days=self.confirmation_days,
            sd_minimum_days=self.sd_minimum_days,
            max_ne_between=self.max_ne_between,
            accept_sd_between=self.accept_sd_between,
            baseline_window_days=self.baseline_window_days,
            continue_confirmed_pr=self.continue_confirmed_pr,
        )

    def endpoints(self) -> EndpointSettings:
        return EndpointSettings(
            assessment_interval_days=self.assessment_interval_days,
            assessment_window_days=self.assessment_window_days,
            missed_assessments=self.missed_assessments,
        )


class TumourAssessment(ClinicalRecord):
    """One tumour assessment (a time point): the baseline, or a follow-up scan."""

    class Kind(models.TextChoices):
        BASELINE = "baseline", "Baseline"
        FOLLOW_UP = "follow_up", "Follow-up"

    class Markers(models.TextChoices):
        NOT_APPLICABLE = "", "No tumour marker in the protocol"
        NORMAL = "normal", "Tumour markers normal"
        ABOVE_NORMAL = "above_normal", "Tumour markers above normal"

    subject = models.ForeignKey(
        "subjects.Subject", on_delete=models.PROTECT, related_name="tumour_assessments"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    assessed_on = models.DateField("date of the scan")
    method = models.CharField(max_length=20, choices=METHOD_CHOICES)
    slice_thickness_mm = models.DecimalField(
        "slice thickness (mm)",
        max_digits=4,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0.1"))],
        help_text="CT/MRI reconstruction interval; empty = 5 mm or less.",
    )
    tumour_markers = models.CharField(
        max_length=15, choices=Markers.choices, blank=True, default=Markers.NOT_APPLICABLE
    )
    investigator_response = models.CharField(
        "investigator's overall response",
        max_length=15,
        choices=RESPONSE_CHOICES,
        blank=True,
        help_text="RECIST 1.1 overall response at this time point, as the investigator read it "
        "(follow-up assessments).",
    )
    comment = models.TextField(blank=True)

    scope_study = "subject__study"
    scope_site = "subject__site"

    constraint_fields = {
        "tumour_assessment_one_per_date": "assessed_on",
        "tumour_assessment_one_baseline": "kind",
        "tumour_assessment_baseline_has_no_response": "investigator_response",
        "tumour_assessment_follow_up_has_response": "investigator_response",
    }
    constraint_messages = {
        "tumour_assessment_one_per_date": "This subject already has a tumour assessment on this "
        "date (one time point per date).",
        "tumour_assessment_one_baseline": "This subject already has a baseline tumour "
        "assessment: void it first to enter another.",
        "tumour_assessment_baseline_has_no_response": "A baseline assessment has no response.",
        "tumour_assessment_follow_up_has_response": "Give the investigator's overall response "
        "(RECIST 1.1).",
    }

    class Meta:
        ordering = ["subject", "assessed_on"]
        constraints = [
            models.UniqueConstraint(
                fields=["subject", "assessed_on"],
                condition=Q(voided_at__isnull=True),
                name="tumour_assessment_one_per_date",
                violation_error_message="One tumour assessment per subject and date.",
            ),
            models.UniqueConstraint(
                fields=["subject"],
                condition=Q(voided_at__isnull=True, kind="baseline"),
                name="tumour_assessment_one_baseline",
                violation_error_message="One baseline tumour assessment per subject.",
            ),
            models.CheckConstraint(
                condition=~Q(kind="baseline") | Q(investigator_response=""),
                name="tumour_assessment_baseline_has_no_response",
                violation_error_message="A baseline assessment has no response.",
            ),
            models.CheckConstraint(
                condition=~Q(kind="follow_up") | ~Q(investigator_response=""),
                name="tumour_assessment_follow_up_has_response",
                violation_error_message="A follow-up assessment has the investigator's response.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} tumour assessment of {self.assessed_on}"

    @property
    def is_baseline(self) -> bool:
        return self.kind == self.Kind.BASELINE

    @property
    def markers_normal(self) -> bool | None:
        if self.tumour_markers == self.Markers.NORMAL:
            return True
        if self.tumour_markers == self.Markers.ABOVE_NORMAL:
            return False
        return None


class Lesion(ClinicalRecord):
    """A lesion followed across assessments by its code (T1, NT1, NEW1): chosen as target or
    non-target at baseline, or found new at a follow-up assessment (RECIST 1.1 §4.2, §4.3.5)."""

    class Role(models.TextChoices):
        TARGET = "target", "Target"
        NON_TARGET = "non-target", "Non-target"
        NEW = "new", "New lesion"

    subject = models.ForeignKey(
        "subjects.Subject", on_delete=models.PROTECT, related_name="lesions"
    )
    code = models.CharField(max_length=10, help_text="Stable id, e.g. T1, NT2, NEW1.")
    role = models.CharField(max_length=12, choices=Role.choices)
    organ = models.CharField(
        max_length=60, help_text="For the two-targets-per-organ limit; all nodes are one organ."
    )
    location = models.CharField(max_length=200, blank=True)
    nodal = models.BooleanField("lymph node", default=False)
    measurable_by_nature = models.BooleanField(
        default=True,
        help_text="Unticked for lesions RECIST never measures (bone without soft tissue, "
        "effusions, ascites, leptomeningeal disease, lymphangitis).",
    )
    first_seen = models.ForeignKey(
        TumourAssessment, on_delete=models.PROTECT, related_name="lesions_first_seen"
    )

    scope_study = "subject__study"
    scope_site = "subject__site"

    constraint_fields = {"lesion_code_unique": "code"}
    constraint_messages = {
        "lesion_code_unique": "This subject already has a lesion with this code.",
    }

    class Meta:
        ordering = ["subject", "role", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["subject", "code"],
                condition=Q(voided_at__isnull=True),
                name="lesion_code_unique",
                violation_error_message="Lesion codes are unique per subject.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} ({self.organ})"


STATUS_CHOICES = (
    _choices(MeasurementStatus)
    + [
        (s.value, s.value)
        for s in NonTargetStatus
        if s.value not in {m.value for m in MeasurementStatus}
    ]
    + _choices(NewLesionCertainty)
)


class LesionObservation(ClinicalRecord):
    """One lesion at one assessment: its size (target), status (non-target), or certainty (new
    lesion). Statuses follow RECIST 1.1 §4.3 (docs/efficacy.md §3-§4)."""

    assessment = models.ForeignKey(
        TumourAssessment, on_delete=models.PROTECT, related_name="observations"
    )
    lesion = models.ForeignKey(Lesion, on_delete=models.PROTECT, related_name="observations")
    status = models.CharField(max_length=30, choices=STATUS_CHOICES)
    size_mm = models.DecimalField(
        "size (mm)",
        max_digits=5,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
        help_text="Longest diameter, or short axis for a lymph node.",
    )
    parts_mm = models.JSONField(
        "parts of a split lesion (mm)", default=list, blank=True
    )  # decimal strings, e.g. ["12", "8.5"]
    merged_into = models.ForeignKey(
        Lesion, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    scope_study = "assessment__subject__study"
    scope_site = "assessment__subject__site"

    constraint_fields = {"lesion_observation_once": "lesion"}
    constraint_messages = {
        "lesion_observation_once": "This lesion is already recorded at this assessment.",
    }

    class Meta:
        ordering = ["assessment", "lesion__code"]
        constraints = [
            models.UniqueConstraint(
                fields=["assessment", "lesion"],
                condition=Q(voided_at__isnull=True),
                name="lesion_observation_once",
                violation_error_message="A lesion is recorded once per assessment.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.lesion.code}: {self.status}"
