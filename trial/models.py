"""Study configuration: the study and its design settings, sites, regimens, dose levels,
escalation tracks and cohorts. Loaded from a protocol file (`manage.py load_study`), edited in
the admin, audited like everything else."""

from decimal import Decimal
from zoneinfo import available_timezones

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from dosing.schedule import Schedule, default_min_days


class Study(models.Model):
    class TitrationTrigger(models.TextChoices):
        # docs/escalation.md §3 (Simon et al., JNCI 1997;89:1138): what ends single-subject cohorts.
        DLT_OR_RELATED_GRADE2 = (
            "dlt_or_related_grade2",
            "A DLT, or an AE of grade >= 2 assessed as related, with onset in the DLT window",
        )
        DLT_ONLY = "dlt_only", "A DLT only"
        SECOND_RELATED_GRADE2 = (
            "second_related_grade2",
            "A DLT, or a second subject with a related AE of grade >= 2 (Simon 1997)",
        )

    class ExceededVariant(models.TextChoices):
        # docs/escalation.md §4.5: what happens below a dose that exceeded the MTD.
        EXPAND_LOWER = (
            "expand_lower",
            "Expand the dose below to 6 before declaring it the MTD (Korn 1994)",
        )
        SIMPLE = "simple", "The dose below is the MTD at once"

    class WindowConvention(models.TextChoices):
        # docs/escalation.md §2.1: protocols differ on what "a 21-day window" means.
        INCLUSIVE = "inclusive", "Day 1 to Day N inclusive (ends on first dose + N - 1 days)"
        AFTER = "after", "N days after the first dose (ends on first dose + N days)"

    class TopDoseRule(models.TextChoices):
        # docs/escalation.md §4.5: when the highest dose level, tolerated, becomes the MAD.
        FILL_TO_6 = (
            "fill_to_6",
            "0/3 at the top dose fills it to 6; at most 1 DLT in 6 declares the MAD",
        )
        DECLARE_AT_3 = "declare_at_3", "0/3 at the top dose declares the MAD"

    class LastWindowDay(models.TextChoices):
        # docs/escalation.md §2.2: ending treatment on the DLT window's last day.
        EVALUABLE = "evaluable", "Completes the window: evaluable (with the minimum exposure)"
        NOT_EVALUABLE = "not_evaluable", "Leaves the window early: not evaluable, replaced"

    protocol_number = models.CharField(max_length=40, unique=True)
    title = models.CharField(max_length=500)
    phase = models.CharField(max_length=10, default="1")
    sponsor = models.CharField(max_length=200)
    investigational_product = models.CharField(max_length=200)
    dose_unit = models.CharField(max_length=20, default="mg/kg")

    titration_levels = models.PositiveSmallIntegerField(
        default=2, help_text="Dose levels run with single-subject cohorts (accelerated titration)."
    )
    titration_trigger = models.CharField(
        max_length=30,
        choices=TitrationTrigger.choices,
        default=TitrationTrigger.DLT_OR_RELATED_GRADE2,
    )
    exceeded_variant = models.CharField(
        max_length=20, choices=ExceededVariant.choices, default=ExceededVariant.EXPAND_LOWER
    )
    dlt_window_convention = models.CharField(
        max_length=20, choices=WindowConvention.choices, default=WindowConvention.INCLUSIVE
    )
    min_exposure_fraction = models.DecimalField(
        max_digits=4,
        decimal_places=3,
        default=Decimal("1.000"),
        validators=[MinValueValidator(Decimal("0.001")), MaxValueValidator(Decimal("1"))],
        help_text="Share of each planned DLT-window infusion a subject must receive to be "
        "evaluable without a DLT (1.0 = 100%).",
    )
    min_infusions_in_window = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        help_text="How many planned DLT-window infusions must reach the minimum exposure; "
        "empty = every planned infusion (1 on Q3W, 2 on Q2W).",
    )

    class LeftWindowOn(models.TextChoices):
        # docs/escalation.md §2.2: a subject who leaves the window early without a DLT is not
        # evaluable. Protocols differ on whether stopping treatment (while staying in safety
        # follow-up) is leaving the window.
        END_OF_TREATMENT = (
            "end_of_treatment",
            "Ending treatment, leaving the study or dying inside the window",
        )
        END_OF_STUDY = "end_of_study", "Only leaving the study or dying inside the window"

    left_window_on = models.CharField(
        max_length=20, choices=LeftWindowOn.choices, default=LeftWindowOn.END_OF_TREATMENT
    )
    expansion_boundaries = models.JSONField(
        default=list,
        blank=True,
        help_text="Expansion safety monitoring rule as rows [fewest evaluated, most evaluated, "
        "DLT-type toxicities that pause]; empty = the BOIN elimination boundary for a 30% target.",
    )
    expansion_counts_escalation_subjects = models.BooleanField(
        default=True,
        help_text="An expansion cohort fills its dose to the expansion size counting the "
        "evaluable subjects treated at that dose and regimen on escalation, and its safety "
        "boundary counts them and their DLTs (synopsis: 'expand to total of 10 subjects').",
    )
    top_dose_rule = models.CharField(
        max_length=20, choices=TopDoseRule.choices, default=TopDoseRule.FILL_TO_6
    )
    end_of_treatment_on_last_window_day = models.CharField(
        max_length=20, choices=LastWindowDay.choices, default=LastWindowDay.EVALUABLE
    )
    cohort_size = models.PositiveSmallIntegerField(default=3)
    expanded_cohort_size = models.PositiveSmallIntegerField(
        default=6, help_text="3+3: a dose is expanded to this many evaluable subjects."
    )
    expansion_cohort_size = models.PositiveSmallIntegerField(default=10)
    min_weight_kg = models.DecimalField(max_digits=5, decimal_places=1, default=Decimal("30"))
    max_weight_kg = models.DecimalField(max_digits=5, decimal_places=1, default=Decimal("250"))
    max_dose_over_planned_percent = models.PositiveSmallIntegerField(
        default=10,
        help_text="A dose above the planned dose by more than this is an overdose: recorded only "
        "with an explicit confirmation and a reason, flagged as a protocol deviation, and the "
        "medical monitors are told.",
    )
    implausible_dose_factor = models.PositiveSmallIntegerField(
        default=10,
        validators=[MinValueValidator(2)],
        help_text="A dose this many times the planned dose or more is refused as a unit error "
        "(a total in mg entered as mg/kg is the dose times the body weight, 30 times or more "
        "for an adult), never recorded as an overdose.",
    )
    max_weight_change_percent = models.PositiveSmallIntegerField(
        default=10,
        help_text="A body weight that differs from the previous dose's by more than this needs "
        "the coordinator's confirmation (a change of dose, or a weight in pounds).",
    )

    class ShortIntervalPolicy(models.TextChoices):
        # docs/dosing.md section 2: protocols differ on an infusion given early.
        CONFIRM = (
            "confirm",
            "Recorded with an explicit confirmation and a reason, as a protocol deviation",
        )
        REFUSE = "refuse", "Refused"

    short_interval_policy = models.CharField(
        max_length=10,
        choices=ShortIntervalPolicy.choices,
        default=ShortIntervalPolicy.CONFIRM,
        help_text="An infusion closer to the previous one than the regimen's minimum interval.",
    )
    min_age_years = models.PositiveSmallIntegerField(
        default=18,
        help_text="The age criterion: the minimum age at informed consent, in years. Checked "
        "against the year of birth at consent and on the eligibility checklist.",
    )
    eligibility_criteria = models.JSONField(
        default=dict,
        blank=True,
        help_text='{"inclusion": ["..."], "exclusion": ["..."]} from the protocol.',
    )
    protocol_file_digest = models.CharField(max_length=64, blank=True, editable=False)

    history = HistoricalRecords()
    scope_study = "pk"

    class Meta:
        verbose_name_plural = "studies"
        constraints = [
            models.CheckConstraint(
                condition=Q(min_exposure_fraction__gt=0) & Q(min_exposure_fraction__lte=1),
                name="study_min_exposure_fraction_range",
                violation_error_message="The minimum exposure is a share above 0 and at most 1 "
                "(1.0 = 100%).",
            ),
            models.CheckConstraint(
                condition=Q(min_weight_kg__gt=0) & Q(max_weight_kg__gt=models.F("min_weight_kg")),
                name="study_weight_range_valid",
                violation_error_message="The plausible weight range needs a minimum above 0 kg "
                "and a maximum above the minimum.",
            ),
            models.CheckConstraint(
                condition=Q(cohort_size__gte=1)
                & Q(expanded_cohort_size__gte=models.F("cohort_size"))
                & Q(expansion_cohort_size__gte=1),
                name="study_cohort_sizes_valid",
                violation_error_message="Cohort sizes: at least 1, and the expanded size at "
                "least the cohort size.",
            ),
        ]

    def __str__(self):
        return self.protocol_number

    def inclusion_criteria(self) -> list[str]:
        return list(self.eligibility_criteria.get("inclusion", []))

    def exclusion_criteria(self) -> list[str]:
        return list(self.eligibility_criteria.get("exclusion", []))

    def age_criterion(self) -> str | None:
        """The inclusion criterion that states the minimum age (`min_age_years`), when the
        protocol file names it: its answer is checked against the year of birth."""
        text = self.eligibility_criteria.get("age_criterion")
        return text if text in self.inclusion_criteria() else None


def validate_timezone(value: str) -> None:
    if value not in available_timezones():
        raise ValidationError(f"'{value}' is not an IANA timezone name (e.g. Europe/Paris).")


class Site(models.Model):
    study = models.ForeignKey(Study, on_delete=models.PROTECT, related_name="sites")
    number = models.CharField(
        max_length=10, help_text="Site number; subject numbers are prefixed with it (101-003)."
    )
    name = models.CharField(max_length=200)
    country = models.CharField(max_length=2, help_text="ISO 3166-1 alpha-2 code, e.g. US.")
    timezone = models.CharField(max_length=64, validators=[validate_timezone])
    principal_investigator = models.CharField(max_length=200)
    is_active = models.BooleanField(default=False)
    activated_on = models.DateField(null=True, blank=True)

    history = HistoricalRecords()
    scope_study = "study"
    scope_site = "pk"

    class Meta:
        ordering = ["study", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["study", "number"],
                name="site_number_unique_in_study",
                violation_error_message="This site number is already used in the study.",
            ),
            models.CheckConstraint(
                condition=~Q(is_active=True) | Q(activated_on__isnull=False),
                name="site_active_has_activation_date",
                violation_error_message="An active site needs its activation date.",
            ),
            models.CheckConstraint(
                condition=Q(number__regex=r"^[0-9A-Za-z]+$"),
                name="site_number_alnum",
                violation_error_message="A site number is letters and digits only (it prefixes "
                "subject numbers).",
            ),
        ]

    def __str__(self):
        return f"{self.number} {self.name}"


class Regimen(models.Model):
    """A dosing schedule. Q3W: a 21-day cycle, infusion on Day 1, 21-day DLT window. Q2W: a
    28-day cycle, infusions on Day 1 and Day 15, 28-day DLT window (MIL97 synopsis)."""

    study = models.ForeignKey(Study, on_delete=models.PROTECT, related_name="regimens")
    code = models.CharField(max_length=10)
    name = models.CharField(max_length=100)
    interval_days = models.PositiveSmallIntegerField(help_text="Days between infusions.")
    cycle_length_days = models.PositiveSmallIntegerField()
    infusion_days = models.JSONField(help_text="Days of each cycle with an infusion, e.g. [1, 15].")
    dlt_window_days = models.PositiveSmallIntegerField()
    visit_window_days = models.PositiveSmallIntegerField(
        default=3,
        help_text="A dose more than this many days from its planned day needs confirmation.",
    )
    min_days_between_infusions = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        help_text="Two infusions closer than this are a protocol deviation (the study's "
        "short-interval policy says whether they are refused or confirmed); empty = the "
        "interval between infusions minus the visit window.",
    )

    history = HistoricalRecords()
    scope_study = "study"

    class Meta:
        ordering = ["study", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["study", "code"],
                name="regimen_code_unique_in_study",
                violation_error_message="This regimen code is already used in the study.",
            ),
            models.CheckConstraint(
                condition=Q(interval_days__gte=1)
                & Q(cycle_length_days__gte=1)
                & Q(dlt_window_days__gte=1),
                name="regimen_positive_lengths",
                violation_error_message="The interval, the cycle length and the DLT window are "
                "at least 1 day.",
            ),
        ]

    def __str__(self):
        return self.code

    def clean(self):
        days = self.infusion_days
        if not isinstance(days, list) or not days or not all(isinstance(d, int) for d in days):
            raise ValidationError(
                {"infusion_days": "A non-empty list of day numbers, e.g. [1, 15]."}
            )
        if sorted(set(days)) != days or days[0] != 1 or days[-1] > (self.cycle_length_days or 0):
            raise ValidationError(
                {"infusion_days": "Ascending day numbers starting at Day 1, within the cycle."}
            )

    @property
    def minimum_interval_days(self) -> int:
        """docs/dosing.md section 2: the protocol's minimum between two infusions."""
        if self.min_days_between_infusions is not None:
            return self.min_days_between_infusions
        return default_min_days(self.interval_days, self.visit_window_days)

    def schedule(self) -> Schedule:
        """The regimen as the pure schedule arithmetic of `dosing.schedule` takes it."""
        return Schedule(
            cycle_length_days=self.cycle_length_days,
            infusion_days=tuple(self.infusion_days),
            window_days=self.visit_window_days,
            min_days_between_infusions=self.minimum_interval_days,
        )

    def study_day(self, cycle: int, day: int) -> int:
        """Cycle 1 Day 1 is study day 1."""
        return (cycle - 1) * self.cycle_length_days + day

    def dlt_window_infusions(self) -> list[tuple[int, int]]:
        """(cycle, day) of the infusions planned inside the DLT window, in order: what a
        subject must receive. Cycles shorter than the window contribute several cycles."""
        slots = []
        cycle = 1
        while self.study_day(cycle, 1) <= self.dlt_window_days:
            slots += [
                (cycle, day)
                for day in self.infusion_days
                if self.study_day(cycle, day) <= self.dlt_window_days
            ]
            cycle += 1
        return slots

    def dlt_window_infusion_days(self) -> list[int]:
        """Study days of the infusions planned inside the DLT window (Q3W [1]; Q2W [1, 15])."""
        return [self.study_day(cycle, day) for cycle, day in self.dlt_window_infusions()]


class DoseLevel(models.Model):
    study = models.ForeignKey(Study, on_delete=models.PROTECT, related_name="dose_levels")
    number = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        help_text="Protocol dose level number; empty for an intermediate dose set by the committee.",
    )
    amount = models.DecimalField(max_digits=8, decimal_places=4)
    unit = models.CharField(max_length=20, default="mg/kg")
    # An intermediate dose belongs to the track whose committee decision created it, so that it
    # never appears as an untested level on another track.
    track = models.ForeignKey(
        "EscalationTrack",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="intermediate_dose_levels",
    )

    history = HistoricalRecords()
    scope_study = "study"

    class Meta:
        ordering = ["study", "amount"]
        constraints = [
            models.UniqueConstraint(
                fields=["study", "number"],
                name="dose_level_number_unique",
                violation_error_message="This dose level number is already used in the study.",
            ),
            models.UniqueConstraint(
                fields=["study", "amount", "unit"],
                condition=Q(track__isnull=True),
                name="dose_level_amount_unique",
                violation_error_message="The study already has a dose level of this amount.",
            ),
            models.UniqueConstraint(
                fields=["track", "amount", "unit"],
                condition=Q(track__isnull=False),
                name="intermediate_dose_amount_unique_in_track",
                violation_error_message="This track already has an intermediate dose of this "
                "amount.",
            ),
            models.CheckConstraint(
                condition=Q(number__isnull=True, track__isnull=False)
                | Q(number__isnull=False, track__isnull=True),
                name="dose_level_protocol_or_intermediate",
                violation_error_message="A dose level is either a protocol level (with a number) "
                "or an intermediate dose of one track (without one).",
            ),
            models.CheckConstraint(
                condition=Q(amount__gt=0),
                name="dose_level_amount_positive",
                violation_error_message="A dose level's amount is above 0.",
            ),
            models.CheckConstraint(
                condition=Q(number__isnull=True) | Q(number__gte=1),
                name="dose_level_number_positive",
                violation_error_message="Dose level numbers start at 1.",
            ),
        ]

    def __str__(self):
        return self.label

    @property
    def label(self) -> str:
        return f"{self.amount.normalize():f} {self.unit}"


class EscalationTrack(models.Model):
    """An independent escalation: its own cohorts, its own 3+3 state, its own DLT counts.

    MIL97: the Q3W escalation (titration for levels 1-2, then 3+3); a Q2W escalation opened by
    committee decision at a level cleared on Q3W (DLTs never pooled with Q3W); and expansion
    cohorts of 10, each watched by the safety monitoring rule.
    """

    class Phase(models.TextChoices):
        ESCALATION = "escalation", "Dose escalation"
        EXPANSION = "expansion", "Dose expansion"

    class Status(models.TextChoices):
        PLANNED = "planned", "Planned (not yet opened)"
        ACTIVE = "active", "Active"
        PAUSED = "paused", "Paused"
        COMPLETED = "completed", "Completed"
        STOPPED = "stopped", "Stopped"

    study = models.ForeignKey(Study, on_delete=models.PROTECT, related_name="tracks")
    code = models.CharField(max_length=30, help_text="Short name, e.g. Q3W-ESC.")
    name = models.CharField(max_length=200)
    regimen = models.ForeignKey(Regimen, on_delete=models.PROTECT, related_name="tracks")
    phase = models.CharField(max_length=20, choices=Phase.choices)
    uses_titration = models.BooleanField(default=False)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PLANNED)
    display_order = models.PositiveSmallIntegerField(default=1)
    # The dose levels this track may use. Empty: all of the study's. A Q2W track is opened by
    # the committee at a level already cleared on Q3W; an expansion track has exactly one level.
    lowest_dose_level = models.ForeignKey(
        "DoseLevel", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    highest_dose_level = models.ForeignKey(
        "DoseLevel", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # The Q2W track escalates only to levels cleared on Q3W at the time of each recommendation
    # (docs/escalation.md §5); set in the protocol file, or by the committee's opening decision.
    reference_track = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="followers",
        help_text="Escalates only to dose levels this other track has cleared (Q2W after Q3W).",
    )
    # The dose-finding design that decides escalation, as the protocol file states it (name and
    # settings, docs/designs.md §12); empty = the 3+3. Checked by the loader.
    design = models.JSONField(
        default=dict,
        blank=True,
        help_text="Dose-finding design and its settings (empty: 3+3), from the protocol file.",
    )

    history = HistoricalRecords()
    scope_study = "study"

    class Meta:
        ordering = ["study", "display_order", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["study", "code"],
                name="track_code_unique_in_study",
                violation_error_message="This track code is already used in the study.",
            ),
            models.CheckConstraint(
                condition=Q(phase="escalation") | Q(uses_titration=False),
                name="track_titration_only_in_escalation",
                violation_error_message="Accelerated titration is used only on an escalation "
                "track.",
            ),
        ]

    def __str__(self):
        return self.name

    def dose_levels(self) -> list["DoseLevel"]:
        """The levels open to this track, lowest first: the protocol's levels and this track's
        own intermediate doses, between its lowest and highest level when those are set."""
        if self.phase == self.Phase.EXPANSION and self.lowest_dose_level_id:
            return [self.lowest_dose_level]
        bounds = [pk for pk in (self.lowest_dose_level_id, self.highest_dose_level_id) if pk]
        levels = self.study.dose_levels.filter(
            Q(track__isnull=True) | Q(track=self) | Q(pk__in=bounds)
        ).order_by("amount")
        if self.lowest_dose_level_id:
            levels = levels.filter(amount__gte=self.lowest_dose_level.amount)
        if self.highest_dose_level_id:
            levels = levels.filter(amount__lte=self.highest_dose_level.amount)
        return list(levels)


class Cohort(models.Model):
    """A group of subjects dosed together at one dose level on one track.

    A cohort opens only by the committee's decision (or as the study's first cohort), fills as
    subjects enroll, and closes when the next step is decided.
    """

    class Status(models.TextChoices):
        PLANNED = "planned", "Planned"
        OPEN = "open", "Open for enrollment"
        FULL = "full", "Full"
        CLOSED = "closed", "Closed"

    study = models.ForeignKey(Study, on_delete=models.PROTECT, related_name="cohorts")
    track = models.ForeignKey(EscalationTrack, on_delete=models.PROTECT, related_name="cohorts")
    number = models.PositiveSmallIntegerField(help_text="Cohort number within the study.")
    dose_level = models.ForeignKey(DoseLevel, on_delete=models.PROTECT, related_name="cohorts")
    planned_size = models.PositiveSmallIntegerField()
    is_titration = models.BooleanField(
        default=False, help_text="A single-subject accelerated-titration cohort."
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PLANNED)
    opened_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    history = HistoricalRecords()
    scope_study = "study"
    # Its printed name names the dose level and regimen: joined when the audit trail labels it.
    history_label_related = ("dose_level", "track__regimen")

    class Meta:
        ordering = ["study", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["study", "number"],
                name="cohort_number_unique_in_study",
                violation_error_message="This cohort number is already used in the study.",
            ),
            models.CheckConstraint(
                condition=Q(planned_size__gte=1),
                name="cohort_planned_size_positive",
                violation_error_message="A cohort takes at least 1 subject.",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["planned", "open", "full", "closed"]),
                name="cohort_status_valid",
                violation_error_message="A cohort is planned, open, full or closed.",
            ),
            models.CheckConstraint(
                condition=Q(status="planned") | Q(opened_at__isnull=False),
                name="cohort_opened_has_opened_at",
                violation_error_message="An opened cohort needs the time it opened.",
            ),
            models.CheckConstraint(
                condition=~Q(status="closed") | Q(closed_at__isnull=False),
                name="cohort_closed_has_closed_at",
                violation_error_message="A closed cohort needs the time it closed.",
            ),
            models.CheckConstraint(
                condition=Q(is_titration=False) | Q(planned_size=1),
                name="cohort_titration_single_subject",
                violation_error_message="An accelerated-titration cohort takes one subject.",
            ),
        ]

    def __str__(self):
        return self.label

    @property
    def phase(self) -> str:
        return self.track.phase

    @property
    def regimen(self) -> Regimen:
        return self.track.regimen

    @property
    def label(self) -> str:
        return f"Cohort {self.number}: {self.dose_level.label} {self.track.regimen.code}"

    def clean(self):
        if self.track_id and self.study_id and self.track.study_id != self.study_id:
            raise ValidationError({"track": "The track belongs to another study."})
        if self.dose_level_id and self.study_id and self.dose_level.study_id != self.study_id:
            raise ValidationError({"dose_level": "The dose level belongs to another study."})
