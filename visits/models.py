"""Visits and the standard clinical forms entered at them (docs/visits.md).

- `VisitSchedule`: a regimen's schedule of assessments, loaded from the protocol file with the
  study (configuration, audited like the rest of the study set-up).
- `Visit`: what the site recorded for one visit of a subject's calendar: the date it took place,
  or that it did not (with the reason). The visit is the entry point of the forms below.
- `VitalSigns`, `LabResult`, `EcogAssessment`: forms entered at a visit. Derived values (standard
  units, the CTCAE grade of a lab result) are stored with the rules version that computed them.

Every form is a `ClinicalRecord`: versioned, audited, voided with a reason, never deleted.
"""

from django.db import models
from django.db.models import F, Q
from simple_history.models import HistoricalRecords

from core.models import ClinicalRecord
from visits.rules import (
    ECOG_TEXTS,
    LAB_TESTS,
    METASTATIC_SITES,
    RESPONSES,
    SETTINGS,
    STAGE_CHOICES,
    STOP_REASONS,
    THERAPY_TYPES,
)

LAB_TEST_CHOICES = [(test.code, f"{test.name} ({test.code})") for test in LAB_TESTS]
ECOG_CHOICES = [(status, f"{status}: {text}") for status, text in ECOG_TEXTS.items()]


class VisitSchedule(models.Model):
    """One regimen's schedule (docs/visits.md §2.1), as read from the protocol file."""

    study = models.ForeignKey("trial.Study", on_delete=models.PROTECT, related_name="+")
    regimen = models.OneToOneField(
        "trial.Regimen", on_delete=models.PROTECT, related_name="visit_schedule"
    )
    definition = models.JSONField(
        help_text="The schedule as plain data (visits.rules.protocol.schedule_to_mapping)."
    )
    lab_missing_range = models.CharField(
        "lab result without a normal range",
        max_length=20,
        default="no_grade",
        help_text="no_grade (the protocol rule) or decidable_grades (docs/visits.md §4.3).",
    )
    neutropenia_max_days = models.PositiveSmallIntegerField(
        default=7,
        help_text="Grade 4 neutropenia lasting more than this many days in the DLT window is "
        "flagged as a possible DLT (docs/visits.md §5).",
    )

    history = HistoricalRecords()

    scope_study = "study"

    class Meta:
        ordering = ["study", "regimen"]

    def __str__(self):
        return f"{self.regimen.code} schedule"


class Visit(ClinicalRecord):
    """A visit of the subject's calendar as the site recorded it: done on a date, or not done."""

    subject = models.ForeignKey("subjects.Subject", on_delete=models.PROTECT, related_name="visits")
    code = models.CharField(
        max_length=20, help_text="The calendar's visit code (C1D8, EOT, SFU30, SURV2; UNS1...)."
    )
    visit_date = models.DateField(null=True, blank=True)
    not_done = models.BooleanField(default=False)
    not_done_reason = models.TextField(blank=True)

    scope_study = "subject__study"
    scope_site = "subject__site"

    constraint_fields = {
        "visit_one_per_code": "code",
        "visit_date_or_not_done": "visit_date",
        "visit_not_done_has_reason": "not_done_reason",
    }

    class Meta:
        ordering = ["subject", "visit_date", "id"]
        indexes = [models.Index(fields=["updated_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["subject", "code"],
                condition=Q(voided_at__isnull=True),
                name="visit_one_per_code",
                violation_error_message="This visit is already recorded for the subject: open "
                "it and enter the forms there.",
            ),
            models.CheckConstraint(
                condition=(Q(visit_date__isnull=False) & Q(not_done=False))
                | (Q(visit_date__isnull=True) & Q(not_done=True)),
                name="visit_date_or_not_done",
                violation_error_message="Give the date of the visit, or record that it was not "
                "done (not both).",
            ),
            models.CheckConstraint(
                condition=Q(not_done=False) | ~Q(not_done_reason=""),
                name="visit_not_done_has_reason",
                violation_error_message="Say why the visit was not done.",
            ),
        ]

    def __str__(self):
        return f"{self.subject} {self.code}"


class VisitForm(ClinicalRecord):
    """A form entered at a visit; the subject is the visit's (kept for scoping and listings)."""

    subject = models.ForeignKey("subjects.Subject", on_delete=models.PROTECT, related_name="+")
    visit = models.ForeignKey(Visit, on_delete=models.PROTECT, related_name="+")

    scope_study = "subject__study"
    scope_site = "subject__site"

    class Meta:
        abstract = True


class VitalSigns(VisitForm):
    """Vital signs in their standard units (docs/visits.md §6); temperature and weight also as
    typed, with the unit, when typed in another unit."""

    class Timepoint(models.TextChoices):
        PRE_DOSE = "pre_dose", "Before the infusion"
        END_OF_INFUSION = "end_of_infusion", "At the end of the infusion"
        POST_DOSE = "post_dose", "After the infusion"
        VISIT = "visit", "At the visit (no infusion)"

    measured_on = models.DateField()
    timepoint = models.CharField(max_length=20, choices=Timepoint.choices)
    systolic_bp = models.PositiveSmallIntegerField("systolic BP (mmHg)", null=True, blank=True)
    diastolic_bp = models.PositiveSmallIntegerField("diastolic BP (mmHg)", null=True, blank=True)
    pulse = models.PositiveSmallIntegerField("pulse (beats/min)", null=True, blank=True)
    respiratory_rate = models.PositiveSmallIntegerField(
        "respiratory rate (breaths/min)", null=True, blank=True
    )
    temperature_c = models.DecimalField(
        "temperature (C)", max_digits=5, decimal_places=2, null=True, blank=True
    )
    temperature_reported = models.CharField(
        "temperature as typed", max_length=30, blank=True, help_text="When typed in F."
    )
    spo2 = models.PositiveSmallIntegerField("SpO2 (%)", null=True, blank=True)
    weight_kg = models.DecimalField(
        "weight (kg)", max_digits=7, decimal_places=3, null=True, blank=True
    )
    weight_reported = models.CharField(
        "weight as typed", max_length=30, blank=True, help_text="When typed in lb."
    )
    rules_version = models.CharField(max_length=40, editable=False)

    constraint_fields = {"vitals_bp_pair": "diastolic_bp", "vitals_diastolic_below": "diastolic_bp"}

    class Meta:
        verbose_name = "vital signs"
        verbose_name_plural = "vital signs"
        ordering = ["subject", "measured_on", "id"]
        indexes = [models.Index(fields=["updated_at"]), models.Index(fields=["visit"])]
        constraints = [
            models.CheckConstraint(
                condition=(Q(systolic_bp__isnull=True) & Q(diastolic_bp__isnull=True))
                | (Q(systolic_bp__isnull=False) & Q(diastolic_bp__isnull=False)),
                name="vitals_bp_pair",
                violation_error_message="A blood pressure has both the systolic and the diastolic "
                "value.",
            ),
            models.CheckConstraint(
                condition=Q(systolic_bp__isnull=True) | Q(diastolic_bp__lt=F("systolic_bp")),
                name="vitals_diastolic_below",
                violation_error_message="The diastolic pressure must be below the systolic.",
            ),
        ]

    def __str__(self):
        return f"{self.subject} vital signs {self.measured_on}"


class LabResult(VisitForm):
    """A local lab result as reported, converted to the test's standard unit, with its CTCAE
    grade (docs/visits.md §3-4). The grade fields are derived and never typed."""

    class Flag(models.TextChoices):
        LOW = "L", "Low"
        NORMAL = "N", "Normal"
        HIGH = "H", "High"
        UNKNOWN = "", "No normal range"

    sampled_on = models.DateField("sample date")
    test = models.CharField(max_length=10, choices=LAB_TEST_CHOICES)
    value = models.DecimalField(max_digits=14, decimal_places=4)
    unit = models.CharField(max_length=20, help_text="As reported by the site lab.")
    normal_low = models.DecimalField(
        "lower limit of normal", max_digits=14, decimal_places=4, null=True, blank=True
    )
    normal_high = models.DecimalField(
        "upper limit of normal", max_digits=14, decimal_places=4, null=True, blank=True
    )
    clinically_significant = models.BooleanField(null=True, blank=True)
    symptomatic = models.BooleanField(
        null=True,
        blank=True,
        help_text="Symptoms some CTCAE criteria name (hypokalaemia, hyponatraemia, lipase).",
    )
    # Derived (docs/visits.md §3-4).
    standard_value = models.DecimalField(max_digits=20, decimal_places=6, editable=False)
    standard_unit = models.CharField(max_length=20, editable=False)
    reference_flag = models.CharField(
        max_length=1, choices=Flag.choices, blank=True, editable=False
    )
    ctcae_term = models.CharField("CTCAE term", max_length=100, blank=True, editable=False)
    ctcae_meddra_code = models.PositiveIntegerField(null=True, blank=True, editable=False)
    ctcae_grade = models.PositiveSmallIntegerField(
        "CTCAE grade", null=True, blank=True, editable=False
    )
    ctcae_version = models.CharField(max_length=10, blank=True, editable=False)
    grading_rule = models.TextField(blank=True, editable=False)
    grading_flags = models.JSONField(default=list, blank=True, editable=False)
    grading = models.JSONField(
        default=list, blank=True, editable=False, help_text="Every CTCAE term of the test graded."
    )
    rules_version = models.CharField(max_length=40, editable=False)
    adverse_event = models.OneToOneField(
        "safety.AdverseEvent",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="lab_result",
        help_text="The adverse event the site reported from this result.",
    )

    constraint_fields = {"lab_range_ordered": "normal_high"}

    class Meta:
        ordering = ["subject", "sampled_on", "test", "id"]
        indexes = [
            models.Index(fields=["updated_at"]),
            models.Index(fields=["visit"]),
            models.Index(fields=["subject", "test", "sampled_on"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(normal_low__isnull=True)
                | Q(normal_high__isnull=True)
                | Q(normal_high__gte=F("normal_low")),
                name="lab_range_ordered",
                violation_error_message="The upper limit of normal cannot be below the lower "
                "limit.",
            ),
        ]

    def __str__(self):
        return f"{self.subject} {self.test} {self.sampled_on}"

    @property
    def has_normal_range(self) -> bool:
        return self.normal_low is not None or self.normal_high is not None


class EcogAssessment(VisitForm):
    """ECOG performance status (Oken et al. 1982; docs/visits.md §8)."""

    assessed_on = models.DateField()
    status = models.PositiveSmallIntegerField("ECOG performance status", choices=ECOG_CHOICES)

    constraint_fields = {"ecog_0_to_5": "status"}

    class Meta:
        verbose_name = "ECOG performance status"
        verbose_name_plural = "ECOG performance statuses"
        ordering = ["subject", "assessed_on", "id"]
        indexes = [models.Index(fields=["updated_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__gte=0) & Q(status__lte=5),
                name="ecog_0_to_5",
                violation_error_message="ECOG performance status is 0 to 5.",
            ),
        ]

    def __str__(self):
        return f"{self.subject} ECOG {self.status} {self.assessed_on}"


class EcgAssessment(VisitForm):
    """A 12-lead ECG time point: one tracing or a triplicate (docs/visits.md §7). QTcF is the mean
    of the replicates' Fridericia-corrected QT, graded by CTCAE v5.0 against the baseline (the
    last time point on or before the first dose)."""

    class Interpretation(models.TextChoices):
        NORMAL = "normal", "Normal"
        ABNORMAL_NCS = "abnormal_ncs", "Abnormal, not clinically significant"
        ABNORMAL_CS = "abnormal_cs", "Abnormal, clinically significant"

    recorded_on = models.DateField()
    timepoint = models.CharField(max_length=20, choices=VitalSigns.Timepoint.choices)
    qt_ms_1 = models.PositiveSmallIntegerField("QT, tracing 1 (ms)")
    rr_ms_1 = models.PositiveSmallIntegerField("RR, tracing 1 (ms)", null=True, blank=True)
    heart_rate_1 = models.PositiveSmallIntegerField(
        "heart rate, tracing 1 (beats/min)", null=True, blank=True
    )
    qt_ms_2 = models.PositiveSmallIntegerField("QT, tracing 2 (ms)", null=True, blank=True)
    rr_ms_2 = models.PositiveSmallIntegerField("RR, tracing 2 (ms)", null=True, blank=True)
    heart_rate_2 = models.PositiveSmallIntegerField(
        "heart rate, tracing 2 (beats/min)", null=True, blank=True
    )
    qt_ms_3 = models.PositiveSmallIntegerField("QT, tracing 3 (ms)", null=True, blank=True)
    rr_ms_3 = models.PositiveSmallIntegerField("RR, tracing 3 (ms)", null=True, blank=True)
    heart_rate_3 = models.PositiveSmallIntegerField(
        "heart rate, tracing 3 (beats/min)", null=True, blank=True
    )
    pr_ms = models.PositiveSmallIntegerField("PR (ms)", null=True, blank=True)
    qrs_ms = models.PositiveSmallIntegerField("QRS (ms)", null=True, blank=True)
    interpretation = models.CharField(max_length=20, choices=Interpretation.choices)
    # Derived (docs/visits.md §7).
    qtcf_ms = models.PositiveSmallIntegerField("QTcF, mean (ms)", editable=False)
    qtcf_replicates = models.JSONField(default=list, editable=False)
    baseline_qtcf_ms = models.PositiveSmallIntegerField(null=True, blank=True, editable=False)
    qtc_grade = models.PositiveSmallIntegerField("QTc CTCAE grade", editable=False)
    grading_rule = models.TextField(blank=True, editable=False)
    rules_version = models.CharField(max_length=40, editable=False)

    class Meta:
        verbose_name = "12-lead ECG"
        verbose_name_plural = "12-lead ECGs"
        ordering = ["subject", "recorded_on", "id"]
        indexes = [models.Index(fields=["updated_at"]), models.Index(fields=["visit"])]

    def __str__(self):
        return f"{self.subject} ECG {self.recorded_on}"


CM_ROUTES = [
    ("ORAL", "Oral"),
    ("INTRAVENOUS", "Intravenous"),
    ("SUBCUTANEOUS", "Subcutaneous"),
    ("INTRAMUSCULAR", "Intramuscular"),
    ("TOPICAL", "Topical"),
    ("TRANSDERMAL", "Transdermal"),
    ("RESPIRATORY (INHALATION)", "Inhaled"),
    ("NASAL", "Nasal"),
    ("RECTAL", "Rectal"),
    ("SUBLINGUAL", "Sublingual"),
    ("OPHTHALMIC", "Ophthalmic"),
]
CM_FREQUENCIES = [
    ("ONCE", "Once"),
    ("QD", "Once a day"),
    ("BID", "Twice a day"),
    ("TID", "Three times a day"),
    ("QID", "Four times a day"),
    ("Q4H", "Every 4 hours"),
    ("Q6H", "Every 6 hours"),
    ("Q8H", "Every 8 hours"),
    ("Q12H", "Every 12 hours"),
    ("QOD", "Every other day"),
    ("EVERY WEEK", "Every week"),
    ("PRN", "As needed"),
]
CM_UNITS = [
    (u, u)
    for u in (
        "mg",
        "g",
        "ug",
        "mg/kg",
        "mL",
        "IU",
        "U",
        "mmol",
        "TABLET",
        "CAPSULE",
        "PUFF",
        "DROP",
    )
]


class ConcomitantMedication(ClinicalRecord):
    """A medication other than the study drug (docs/visits.md §10): the name as the site wrote it
    (kept verbatim), the ATC class code when coded (a coding field: the WHODrug dictionary is
    licensed, so coding may come later), indication, dose, route, frequency, dates."""

    subject = models.ForeignKey(
        "subjects.Subject", on_delete=models.PROTECT, related_name="concomitant_medications"
    )
    medication = models.CharField("medication (verbatim)", max_length=200)
    atc_code = models.CharField(
        "ATC code",
        max_length=7,
        blank=True,
        help_text="WHO ATC class, any level (e.g. N02BE for anilides, N02BE01 paracetamol).",
    )
    indication = models.CharField(max_length=200)
    adverse_event = models.ForeignKey(
        "safety.AdverseEvent",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="concomitant_medications",
        help_text="The adverse event it treats, when it does.",
    )
    dose = models.DecimalField(max_digits=12, decimal_places=4, null=True, blank=True)
    dose_unit = models.CharField(max_length=20, choices=CM_UNITS, blank=True)
    frequency = models.CharField(max_length=20, choices=CM_FREQUENCIES, blank=True)
    route = models.CharField(max_length=30, choices=CM_ROUTES)
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True)
    ongoing = models.BooleanField(default=False)

    scope_study = "subject__study"
    scope_site = "subject__site"

    constraint_fields = {
        "cm_end_or_ongoing": "end_date",
        "cm_end_after_start": "end_date",
        "cm_dose_has_unit": "dose_unit",
    }

    class Meta:
        verbose_name = "concomitant medication"
        ordering = ["subject", "start_date", "id"]
        indexes = [models.Index(fields=["updated_at"])]
        constraints = [
            models.CheckConstraint(
                condition=(Q(ongoing=True) & Q(end_date__isnull=True))
                | (Q(ongoing=False) & Q(end_date__isnull=False)),
                name="cm_end_or_ongoing",
                violation_error_message="Give the end date, or mark the medication ongoing.",
            ),
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=F("start_date")),
                name="cm_end_after_start",
                violation_error_message="The end date cannot precede the start date.",
            ),
            models.CheckConstraint(
                condition=Q(dose__isnull=True) | ~Q(dose_unit=""),
                name="cm_dose_has_unit",
                violation_error_message="A dose needs its unit.",
            ),
        ]

    def __str__(self):
        return f"{self.subject} {self.medication}"


class MedicalHistory(ClinicalRecord):
    """A medical history condition (docs/visits.md §10): the term as the site wrote it, coded to
    a CTCAE v5.0 term (a MedDRA lowest level term) when it has one, the start date as far as it
    is known (year; month; day), and whether it is ongoing at the first dose with its CTCAE
    grade: the baseline against which a later adverse event is new or worse (docs/safety.md)."""

    subject = models.ForeignKey(
        "subjects.Subject", on_delete=models.PROTECT, related_name="medical_history"
    )
    term = models.CharField("condition (verbatim)", max_length=200)
    ctcae_term = models.ForeignKey(
        "safety.CtcaeTerm",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="CTCAE term",
    )
    start_year = models.PositiveSmallIntegerField()
    start_month = models.PositiveSmallIntegerField(null=True, blank=True)
    start_day = models.PositiveSmallIntegerField(null=True, blank=True)
    ongoing = models.BooleanField("ongoing at the first dose", default=False)
    end_date = models.DateField(null=True, blank=True)
    baseline_grade = models.PositiveSmallIntegerField(
        "CTCAE grade at the first dose", null=True, blank=True
    )

    scope_study = "subject__study"
    scope_site = "subject__site"

    constraint_fields = {
        "mh_grade_only_when_ongoing": "baseline_grade",
        "mh_no_end_when_ongoing": "end_date",
        "mh_day_needs_month": "start_day",
    }

    class Meta:
        verbose_name = "medical history condition"
        verbose_name_plural = "medical history"
        ordering = ["subject", "start_year", "start_month", "start_day", "id"]
        indexes = [models.Index(fields=["updated_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(baseline_grade__isnull=True) | Q(ongoing=True),
                name="mh_grade_only_when_ongoing",
                violation_error_message="A baseline grade is given only for a condition ongoing "
                "at the first dose.",
            ),
            models.CheckConstraint(
                condition=Q(ongoing=False) | Q(end_date__isnull=True),
                name="mh_no_end_when_ongoing",
                violation_error_message="An ongoing condition has no end date.",
            ),
            models.CheckConstraint(
                condition=Q(start_day__isnull=True) | Q(start_month__isnull=False),
                name="mh_day_needs_month",
                violation_error_message="A start day needs its month.",
            ),
        ]

    def __str__(self):
        return f"{self.subject} {self.term}"

    @property
    def start_text(self) -> str:
        parts = [f"{self.start_year:04d}"]
        if self.start_month:
            parts.append(f"{self.start_month:02d}")
            if self.start_day:
                parts.append(f"{self.start_day:02d}")
        return "-".join(parts)


class SurvivalContact(VisitForm):
    """A survival follow-up contact (docs/visits.md §10): alive or dead, a new anticancer therapy
    since the last contact, and for a death its cause (progression, an adverse event, other,
    unknown). The date of death itself is the subject's, recorded on the casebook."""

    class Status(models.TextChoices):
        ALIVE = "alive", "Alive"
        DEAD = "dead", "Dead"
        UNKNOWN = "unknown", "Unknown (lost to follow-up)"

    class Cause(models.TextChoices):
        PROGRESSION = "progression", "Disease progression"
        ADVERSE_EVENT = "adverse_event", "Adverse event"
        OTHER = "other", "Other"
        UNKNOWN = "unknown", "Unknown"

    contact_date = models.DateField()
    status = models.CharField(max_length=10, choices=Status.choices)
    last_known_alive = models.DateField(null=True, blank=True)
    new_therapy = models.BooleanField("new anticancer therapy", default=False)
    new_therapy_regimen = models.CharField(max_length=200, blank=True)
    new_therapy_start = models.DateField(null=True, blank=True)
    cause_of_death = models.CharField(max_length=20, choices=Cause.choices, blank=True)
    cause_adverse_event = models.ForeignKey(
        "safety.AdverseEvent", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    cause_other = models.CharField(max_length=200, blank=True)

    constraint_fields = {"survival_cause_only_when_dead": "cause_of_death"}

    class Meta:
        ordering = ["subject", "contact_date", "id"]
        indexes = [models.Index(fields=["updated_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="dead") | Q(cause_of_death=""),
                name="survival_cause_only_when_dead",
                violation_error_message="A cause of death is given only for a death.",
            ),
        ]

    def __str__(self):
        return f"{self.subject} survival {self.contact_date}"


PARTIAL_DATE_HELP = "YYYY-MM-DD, YYYY-MM or YYYY: as far as it is known."


class CancerHistory(ClinicalRecord):
    """The subject's cancer (docs/visits.md §11.2), entered at screening: the primary diagnosis
    (site, histology, date), the AJCC stage group at diagnosis and at study entry, the date of
    metastatic or advanced disease and the sites of metastases. One per subject; dates are ISO
    8601 text as far as known (year; month; day)."""

    subject = models.ForeignKey("subjects.Subject", on_delete=models.PROTECT, related_name="+")
    primary_site = models.CharField("primary tumour site", max_length=200)
    histology = models.CharField(max_length=200)
    diagnosis_date = models.CharField(
        "date of initial diagnosis", max_length=10, help_text=PARTIAL_DATE_HELP
    )
    stage_at_diagnosis = models.CharField(
        "AJCC stage at diagnosis", max_length=10, choices=STAGE_CHOICES
    )
    tnm_at_diagnosis = models.CharField(
        "TNM at diagnosis", max_length=60, blank=True, help_text="E.g. pT2a pN1 M0."
    )
    stage_at_entry = models.CharField(
        "AJCC stage at study entry", max_length=10, choices=STAGE_CHOICES
    )
    tnm_at_entry = models.CharField("TNM at study entry", max_length=60, blank=True)
    advanced_disease_date = models.CharField(
        "date of metastatic or advanced disease",
        max_length=10,
        blank=True,
        help_text=PARTIAL_DATE_HELP,
    )
    metastatic_sites = models.JSONField(
        "sites of metastases",
        default=list,
        blank=True,
        help_text=f"Any of {', '.join(code for code, _ in METASTATIC_SITES)}.",
    )
    metastatic_sites_other = models.CharField(
        "other sites of metastases", max_length=200, blank=True
    )
    no_prior_therapy = models.BooleanField(
        "no prior anticancer therapy",
        default=False,
        help_text="Ticked when the subject had no systemic therapy, radiotherapy or surgery for "
        "the cancer before the study.",
    )

    scope_study = "subject__study"
    scope_site = "subject__site"

    constraint_fields = {"cancer_history_one_per_subject": "subject"}

    class Meta:
        verbose_name = "cancer history"
        verbose_name_plural = "cancer histories"
        ordering = ["subject", "id"]
        indexes = [models.Index(fields=["updated_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["subject"],
                condition=Q(voided_at__isnull=True),
                name="cancer_history_one_per_subject",
                violation_error_message="The cancer history is already recorded for this "
                "subject: correct it instead.",
            ),
        ]

    def __str__(self):
        return f"{self.subject} cancer history"

    @property
    def diagnosis(self) -> str:
        return f"{self.histology} of {self.primary_site}"

    @property
    def metastatic_site_labels(self) -> list[str]:
        labels = dict(METASTATIC_SITES)
        shown = [labels.get(code, code) for code in self.metastatic_sites if code != "OTHER"]
        if self.metastatic_sites_other:
            shown.append(self.metastatic_sites_other)
        return shown


class PriorCancerTherapy(ClinicalRecord):
    """An anticancer therapy before the study (docs/visits.md §11.3): systemic therapy,
    radiotherapy or surgery; the regimen or procedure as recorded, its setting, dates (as far as
    known), the line of therapy for advanced disease, the best response and why it stopped."""

    subject = models.ForeignKey("subjects.Subject", on_delete=models.PROTECT, related_name="+")
    therapy_type = models.CharField("type", max_length=20, choices=THERAPY_TYPES)
    treatment = models.CharField(
        "regimen, agents or procedure",
        max_length=200,
        help_text="As recorded, e.g. carboplatin + pemetrexed; SBRT 54 Gy to the right lung; "
        "right upper lobectomy.",
    )
    setting = models.CharField(max_length=20, choices=SETTINGS)
    line = models.PositiveSmallIntegerField(
        "line of therapy",
        null=True,
        blank=True,
        help_text="For systemic therapy of advanced disease: 1 for the first line.",
    )
    start_date = models.CharField(max_length=10, help_text=PARTIAL_DATE_HELP)
    end_date = models.CharField(
        max_length=10, blank=True, help_text="Not for a surgery (one date: its start)."
    )
    best_response = models.CharField(max_length=3, choices=RESPONSES, blank=True)
    stop_reason = models.CharField(
        "reason stopped", max_length=20, choices=STOP_REASONS, blank=True
    )
    stop_reason_other = models.CharField("other reason stopped", max_length=200, blank=True)

    scope_study = "subject__study"
    scope_site = "subject__site"

    class Meta:
        verbose_name = "prior cancer therapy"
        verbose_name_plural = "prior cancer therapies"
        ordering = ["subject", "start_date", "id"]
        indexes = [models.Index(fields=["updated_at"])]

    def __str__(self):
        return f"{self.subject} {self.treatment}"
