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
        "trial.DoseLevel",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="planned dose level",
    )
    planned_dose_per_kg = models.DecimalField(
        "planned dose (per kg)",
        max_digits=8,
        decimal_places=4,
        help_text="The planned dose level when dosed (mg/kg).",
    )
    actual_dose_per_kg = models.DecimalField("dose given (per kg)", max_digits=8, decimal_places=4)
    dose_unit = models.CharField(max_length=20, default="mg/kg")
    body_weight_kg = models.DecimalField("body weight (kg)", max_digits=5, decimal_places=1)
    total_dose_mg = models.DecimalField(
        "total dose (mg)",
        max_digits=10,
        decimal_places=3,
        help_text="Computed: actual mg/kg x body weight.",
    )
    administered_on = models.DateField("date given", help_text="Infusion start date at the site.")
    infusion_start = models.DateTimeField()
    infusion_end = models.DateTimeField()
    interrupted = models.BooleanField(default=False)
    interruption_details = models.TextField(blank=True)
    dose_change_reason = models.TextField(
        "reason the dose differs",
        blank=True,
        help_text="Required when the actual dose differs from the planned dose.",
    )
    outside_visit_window_confirmed = models.BooleanField(
        "outside the visit window (confirmed)",
        default=False,
        help_text="The coordinator confirmed a dose outside its visit window.",
    )
    # Deviations and unusual values recorded as given, each confirmed by the coordinator
    # (docs/dosing.md sections 2-4): never forced into a false value to pass a check.
    overdose_confirmed = models.BooleanField(
        "overdose (confirmed)",
        default=False,
        help_text="A dose above the planned dose by more than the protocol's margin, confirmed "
        "as given: a protocol deviation, reported to the medical monitors.",
    )
    short_interval_confirmed = models.BooleanField(
        "short interval (confirmed)",
        default=False,
        help_text="An infusion closer to the previous one than the regimen's minimum interval, "
        "confirmed as given: a protocol deviation.",
    )
    weight_outside_range_confirmed = models.BooleanField(
        "weight outside the plausible range (confirmed)",
        default=False,
        help_text="A body weight outside the study's plausible range, confirmed as measured.",
    )
    weight_change_confirmed = models.BooleanField(
        "weight change (confirmed)",
        default=False,
        help_text="A body weight differing from the previous dose's by more than the study's "
        "margin, confirmed as measured.",
    )
    deviation_reason = models.TextField(
        "reason for the deviation",
        blank=True,
        help_text="Why the infusion came early, or the weight is outside the plausible range.",
    )
    lot_number = models.CharField(max_length=50)

    scope_study = "subject__study"
    scope_site = "subject__site"

    constraint_fields = {
        "dose_one_per_subject_cycle_day": "day",
        "dose_cycle_day_positive": "cycle",
        "dose_weight_positive": "body_weight_kg",
        "dose_amounts_positive": "actual_dose_per_kg",
        "dose_total_positive": "total_dose_mg",
        "dose_infusion_ends_after_start": "infusion_end",
        "dose_change_has_reason": "dose_change_reason",
        "dose_overdose_has_reason": "dose_change_reason",
        "dose_deviation_has_reason": "deviation_reason",
        "dose_interruption_has_details": "interruption_details",
    }

    class Meta:
        ordering = ["subject", "cycle", "day"]
        constraints = [
            models.UniqueConstraint(
                fields=["subject", "cycle", "day"],
                condition=Q(voided_at__isnull=True),
                name="dose_one_per_subject_cycle_day",
                violation_error_message="This cycle and day is already recorded for the subject.",
            ),
            models.CheckConstraint(
                condition=Q(cycle__gte=1) & Q(day__gte=1),
                name="dose_cycle_day_positive",
                violation_error_message="Cycles and days are numbered from 1.",
            ),
            models.CheckConstraint(
                condition=Q(body_weight_kg__gt=0),
                name="dose_weight_positive",
                violation_error_message="Body weight must be above 0 kg.",
            ),
            models.CheckConstraint(
                condition=Q(actual_dose_per_kg__gt=0) & Q(planned_dose_per_kg__gt=0),
                name="dose_amounts_positive",
                violation_error_message="The dose given must be above 0.",
            ),
            models.CheckConstraint(
                condition=Q(total_dose_mg__gt=0),
                name="dose_total_positive",
                violation_error_message="The total dose must be above 0 mg.",
            ),
            models.CheckConstraint(
                condition=Q(infusion_end__gt=F("infusion_start")),
                name="dose_infusion_ends_after_start",
                violation_error_message="The infusion must end after it starts.",
            ),
            models.CheckConstraint(
                condition=Q(actual_dose_per_kg=F("planned_dose_per_kg"))
                | ~Q(dose_change_reason=""),
                name="dose_change_has_reason",
                violation_error_message="The dose differs from the cohort's dose level: give "
                "the reason.",
            ),
            models.CheckConstraint(
                condition=Q(overdose_confirmed=False) | ~Q(dose_change_reason=""),
                name="dose_overdose_has_reason",
                violation_error_message="An overdose is recorded with its reason.",
            ),
            models.CheckConstraint(
                condition=Q(short_interval_confirmed=False, weight_outside_range_confirmed=False)
                | ~Q(deviation_reason=""),
                name="dose_deviation_has_reason",
                violation_error_message="Give the reason for the deviation.",
            ),
            models.CheckConstraint(
                condition=Q(interrupted=False) | ~Q(interruption_details=""),
                name="dose_interruption_has_details",
                violation_error_message="Describe the interruption.",
            ),
        ]

    def __str__(self):
        return f"{self.subject} C{self.cycle}D{self.day}"

    @property
    def fraction_of_planned(self):
        return self.actual_dose_per_kg / self.planned_dose_per_kg

    @property
    def protocol_deviations(self) -> list[str]:
        """The protocol deviations this dose was recorded with (docs/dosing.md §2-3)."""
        flags = [
            (self.overdose_confirmed, "Overdose"),
            (self.short_interval_confirmed, "Short interval"),
            (self.outside_visit_window_confirmed, "Outside the visit window"),
        ]
        return [label for on, label in flags if on]

    @property
    def confirmed_values(self) -> list[str]:
        """Unusual values the coordinator confirmed as measured (docs/dosing.md §4)."""
        flags = [
            (self.weight_outside_range_confirmed, "Weight outside the plausible range"),
            (self.weight_change_confirmed, "Weight change since the previous dose"),
        ]
        return [label for on, label in flags if on]
