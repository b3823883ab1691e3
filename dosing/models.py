"""Dose administrations: one row per infusion, weight-based (mg/kg x body weight = total mg)."""

from django.db import models
from django.db.models import F, Q

from core.models import ClinicalRecord


class DoseAdministration(ClinicalRecord):
    subject = models.ForeignKey(
        "subjects.Subject", on_delete=models.PROTECT, related_name="dose_administrations"
    )
    cohort = models.ForeignKey(
        "trial.Cohort",
        on_delete=models.PROTECT,
        related_name="dose_administrations",
        help_text="The subject's cohort when dosed.",
    )
    cycle = models.PositiveSmallIntegerField()
    day = models.PositiveSmallIntegerField()
    planned_dose_level = models.ForeignKey(
        "trial.DoseLevel", on_delete=models.PROTECT, related_name="+"
    )
    planned_dose_per_kg = models.DecimalField(
        max_digits=8, decimal_places=4, help_text="The planned dose level when dosed (mg/kg)."
    )
    actual_dose_per_kg = models.DecimalField(max_digits=8, decimal_places=4)
    dose_unit = models.CharField(max_length=20, default="mg/kg")
    body_weight_kg = models.DecimalField(max_digits=5, decimal_places=1)
    total_dose_mg = models.DecimalField(
        max_digits=10, decimal_places=3, help_text="Computed: actual mg/kg x body weight."
    )
    administered_on = models.DateField(help_text="Infusion start date at the site.")
    infusion_start = models.DateTimeField()
    infusion_end = models.DateTimeField()
    interrupted = models.BooleanField(default=False)
    interruption_details = models.TextField(blank=True)
    dose_change_reason = models.TextField(
        blank=True, help_text="Required when the actual dose differs from the planned dose."
    )
    outside_visit_window_confirmed = models.BooleanField(
        default=False, help_text="The coordinator confirmed a dose outside its visit window."
    )
    lot_number = models.CharField(max_length=50)

    scope_study = "subject__study"
    scope_site = "subject__site"

    class Meta:
        ordering = ["subject", "cycle", "day"]
        constraints = [
            models.UniqueConstraint(
                fields=["subject", "cycle", "day"],
                condition=Q(voided_at__isnull=True),
                name="dose_one_per_subject_cycle_day",
            ),
            models.CheckConstraint(
                condition=Q(cycle__gte=1) & Q(day__gte=1), name="dose_cycle_day_positive"
            ),
            models.CheckConstraint(condition=Q(body_weight_kg__gt=0), name="dose_weight_positive"),
            models.CheckConstraint(
                condition=Q(actual_dose_per_kg__gt=0) & Q(planned_dose_per_kg__gt=0),
                name="dose_amounts_positive",
            ),
            models.CheckConstraint(condition=Q(total_dose_mg__gt=0), name="dose_total_positive"),
            models.CheckConstraint(
                condition=Q(infusion_end__gt=F("infusion_start")),
                name="dose_infusion_ends_after_start",
            ),
            models.CheckConstraint(
                condition=Q(actual_dose_per_kg=F("planned_dose_per_kg"))
                | ~Q(dose_change_reason=""),
                name="dose_change_has_reason",
            ),
            models.CheckConstraint(
                condition=Q(interrupted=False) | ~Q(interruption_details=""),
                name="dose_interruption_has_details",
            ),
        ]

    def __str__(self):
        return f"{self.subject} C{self.cycle}D{self.day}"

    @property
    def fraction_of_planned(self):
        return self.actual_dose_per_kg / self.planned_dose_per_kg
