"""The CTCAE v5.0 dictionary and adverse events (docs/safety.md §1-§2)."""

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from simple_history.models import HistoricalRecords

from core.models import ClinicalDataProtected, ClinicalRecord

GRADES = (1, 2, 3, 4, 5)

# The MedDRA version CTCAE v5.0 is built on (NCI CTCAE v5.0, November 27, 2017): the version an
# event's coding is stamped with unless the protocol file's [safety] section names another
# (docs/safety.md §9).
DEFAULT_MEDDRA_VERSION = "20.1"

# An SAE reaches the sponsor's medical monitor within 24 hours of the site's awareness
# (docs/safety.md §4).
SAE_REPORTING_CLOCK = timedelta(hours=24)

# The adverse events the monitor's listings show: serious, or called a DLT by the investigator
# or by the committee. A partial index on them keeps the listings' reads proportional to the
# events listed, not to every event of the study (docs/operations.md §6).
LISTED = Q(serious=True) | Q(dlt_investigator=True) | Q(dlt_adjudicated=True)
# AdverseEvent.dlt_awaiting_attestation as a query condition (docs/safety.md §8).
PROPOSED_DLT = Q(dlt_investigator=True, dlt_attested_at__isnull=True)

# The refusal when the relationship of an adjudicated DLT is corrected below "possibly related":
# the committee's call stands until it adjudicates again.
ADJUDICATED_DLT_RELATED = (
    "The Safety Review Committee adjudicated this event as a DLT, and a DLT is at least possibly "
    "related to the study drug: the relationship cannot be set below 'possibly related' while "
    "that call stands. Ask the committee (the medical monitor) to re-adjudicate the DLT call "
    "first, then correct the relationship."
)


class CtcaeTerm(models.Model):
    """One CTCAE v5.0 term (NCI, 2017), imported from the official workbook.

    A grade the term does not define is stored as NULL (the workbook's " -" cell).
    """

    meddra_code = models.PositiveIntegerField(unique=True)
    term = models.CharField(max_length=200)
    soc = models.CharField("system organ class", max_length=200)
    grade_1 = models.TextField(null=True, blank=True)  # noqa: DJ001 NULL: no such grade
    grade_2 = models.TextField(null=True, blank=True)  # noqa: DJ001 NULL: no such grade
    grade_3 = models.TextField(null=True, blank=True)  # noqa: DJ001 NULL: no such grade
    grade_4 = models.TextField(null=True, blank=True)  # noqa: DJ001 NULL: no such grade
    grade_5 = models.TextField(null=True, blank=True)  # noqa: DJ001 NULL: no such grade
    definition = models.TextField(blank=True)
    navigational_note = models.TextField(blank=True)
    version = models.CharField(max_length=10, default="5.0")

    history = HistoricalRecords()

    class Meta:
        ordering = ["soc", "term"]
        indexes = [models.Index(fields=["term"])]
        constraints = [
            models.UniqueConstraint(
                fields=["version", "term"],
                name="ctcae_term_unique_per_version",
                violation_error_message="This CTCAE version already has a term of this name.",
            ),
            models.CheckConstraint(
                condition=Q(grade_1__isnull=False)
                | Q(grade_2__isnull=False)
                | Q(grade_3__isnull=False)
                | Q(grade_4__isnull=False)
                | Q(grade_5__isnull=False),
                name="ctcae_term_has_a_grade",
                violation_error_message="A CTCAE term defines at least one grade.",
            ),
        ]

    def __str__(self):
        return f"{self.term} ({self.meddra_code})"

    def grade_text(self, grade: int) -> str | None:
        return getattr(self, f"grade_{grade}") if grade in GRADES else None

    @property
    def grades(self) -> list[int]:
        return [g for g in GRADES if self.grade_text(g) is not None]

    @property
    def is_other_specify(self) -> bool:
        """A system organ class's "<SOC> - Other, specify" term: for an event no CTCAE term
        names, reported with the event in the verbatim term (NCI CTCAE v5.0)."""
        return self.term.casefold().endswith("- other, specify")


class SafetySettings(models.Model):
    """A study's safety settings, loaded from the protocol file's [safety] section
    (docs/safety.md §9)."""

    study = models.OneToOneField(
        "trial.Study", on_delete=models.PROTECT, related_name="safety_settings"
    )
    meddra_version = models.CharField(
        "MedDRA version",
        max_length=10,
        default=DEFAULT_MEDDRA_VERSION,
        help_text="The MedDRA version adverse events are coded with (CTCAE v5.0: 20.1).",
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name_plural = "safety settings"

    def __str__(self):
        return f"Safety settings of {self.study}"

    def delete(self, *args, **kwargs):
        raise ClinicalDataProtected("Safety settings are kept, never deleted.")


class AdverseEvent(ClinicalRecord):
    class Relationship(models.TextChoices):
        NOT_RELATED = "not_related", "Not related"
        UNLIKELY = "unlikely", "Unlikely related"
        POSSIBLE = "possible", "Possibly related"
        PROBABLE = "probable", "Probably related"
        DEFINITE = "definite", "Definitely related"

    RELATED = (Relationship.POSSIBLE, Relationship.PROBABLE, Relationship.DEFINITE)

    class ActionTaken(models.TextChoices):
        NONE = "none", "Dose not changed"
        INTERRUPTED = "interrupted", "Drug interrupted"
        REDUCED = "reduced", "Dose reduced"
        DELAYED = "delayed", "Dose delayed"
        WITHDRAWN = "withdrawn", "Drug withdrawn"

    class Outcome(models.TextChoices):
        RECOVERED = "recovered", "Recovered/resolved"
        RECOVERING = "recovering", "Recovering/resolving"
        NOT_RECOVERED = "not_recovered", "Not recovered/not resolved"
        SEQUELAE = "sequelae", "Recovered/resolved with sequelae"
        FATAL = "fatal", "Fatal"
        UNKNOWN = "unknown", "Unknown"

    # Seriousness criteria (ICH E2A).
    SERIOUSNESS_CRITERIA = (
        ("serious_death", "Results in death"),
        ("serious_life_threatening", "Is life-threatening"),
        ("serious_hospitalisation", "Requires or prolongs hospitalisation"),
        ("serious_disability", "Results in persistent or significant disability/incapacity"),
        ("serious_congenital_anomaly", "Is a congenital anomaly/birth defect"),
        ("serious_important_medical_event", "Is another important medical event"),
    )

    subject = models.ForeignKey(
        "subjects.Subject", on_delete=models.PROTECT, related_name="adverse_events"
    )
    ctcae_term = models.ForeignKey(
        CtcaeTerm, on_delete=models.PROTECT, related_name="+", verbose_name="CTCAE term"
    )
    verbatim_term = models.CharField(max_length=300)
    meddra_version = models.CharField(
        "MedDRA version",
        max_length=10,
        default=DEFAULT_MEDDRA_VERSION,
        editable=False,
        help_text="The MedDRA version of the coding, stamped from the study's setting when the "
        "term is chosen (docs/safety.md §9).",
    )
    grade = models.PositiveSmallIntegerField(choices=[(g, f"Grade {g}") for g in GRADES])
    onset_date = models.DateField()
    onset_time = models.TimeField(
        "onset time",
        null=True,
        blank=True,
        help_text="Site local time, when known: on the day of the first dose it tells whether the "
        "event began before the infusion (docs/safety.md §3).",
    )
    baseline_grade = models.PositiveSmallIntegerField(
        "baseline grade",
        null=True,
        blank=True,
        choices=[(g, f"Grade {g}") for g in GRADES[:4]],
        help_text="For a pre-existing condition: its grade before the first dose. The event is "
        "treatment-emergent only if its grade is above it (docs/safety.md §3).",
    )
    resolution_date = models.DateField(null=True, blank=True)
    serious = models.BooleanField("serious (SAE)", default=False)
    serious_death = models.BooleanField("seriousness: results in death", default=False)
    serious_life_threatening = models.BooleanField("seriousness: life-threatening", default=False)
    serious_hospitalisation = models.BooleanField("seriousness: hospitalisation", default=False)
    serious_disability = models.BooleanField("seriousness: disability", default=False)
    serious_congenital_anomaly = models.BooleanField(
        "seriousness: congenital anomaly", default=False
    )
    serious_important_medical_event = models.BooleanField(
        "seriousness: important medical event", default=False
    )
    # ICH E2A / E6(R3): the clock of an expedited report starts when the site becomes aware of
    # the SAE (docs/safety.md §4). Reported at: when the record first said "serious" (system).
    sae_awareness_at = models.DateTimeField(
        "SAE awareness",
        null=True,
        blank=True,
        help_text="When the site became aware of the serious adverse event (site local time).",
    )
    sae_reported_at = models.DateTimeField(
        "SAE reported at",
        null=True,
        blank=True,
        editable=False,
        help_text="When the event was first saved as serious: the end of the 24-hour clock.",
    )
    relationship = models.CharField(
        "relationship to study drug", max_length=20, choices=Relationship.choices
    )
    action_taken = models.CharField(
        "action taken with study drug", max_length=20, choices=ActionTaken.choices
    )
    outcome = models.CharField(max_length=20, choices=Outcome.choices)
    dlt_investigator = models.BooleanField(
        "DLT (investigator)", default=False, help_text="The investigator classes this AE as a DLT."
    )
    # The investigator attests the DLT call a coordinator proposed (docs/safety.md §8); empty
    # while the call awaits attestation, cleared when a DLT-relevant field changes.
    dlt_attested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="DLT call attested by",
    )
    dlt_attested_at = models.DateTimeField("DLT call attested at", null=True, blank=True)
    dlt_adjudicated = models.BooleanField(
        "DLT (adjudicated)",
        null=True,
        blank=True,
        help_text="The Safety Review Committee's call; empty until adjudicated.",
    )
    dlt_adjudicated_at = models.DateTimeField("DLT adjudicated at", null=True, blank=True)
    dlt_adjudication_note = models.TextField("DLT adjudication note", blank=True)

    scope_study = "subject__study"
    scope_site = "subject__site"

    constraint_fields = {
        "ae_grade_1_to_5": "grade",
        "ae_resolution_after_onset": "resolution_date",
        "ae_serious_has_criterion": "serious",
        "ae_criteria_only_when_serious": "serious",
        "ae_grade5_iff_fatal": "outcome",
        "ae_grade5_is_serious_death": "serious_death",
        "ae_investigator_dlt_is_related": "dlt_investigator",
        "ae_adjudicated_dlt_is_related": "relationship",
        "ae_relationship_valid": "relationship",
        "ae_attestation_of_a_dlt_call": "dlt_investigator",
        "ae_baseline_not_above_grade": "baseline_grade",
    }

    class Meta:
        ordering = ["subject", "onset_date", "id"]
        indexes = [
            models.Index(fields=["subject", "onset_date"]),
            models.Index(fields=["updated_at"]),
            models.Index(fields=["onset_date", "id"], condition=LISTED, name="ae_listed_onset_idx"),
            # The AE table's read (monitoring/pages/ae_tables.py): each subject's active events by
            # term with every column the table counts (the onset time and the baseline grade too,
            # for treatment emergence), so PostgreSQL reads a subject's events from the index
            # alone (an index-only scan) in term order (docs/operations.md §6).
            # Key columns rather than INCLUDE, so SQLite builds the same index.
            models.Index(
                fields=[
                    "subject",
                    "ctcae_term",
                    "grade",
                    "onset_date",
                    "relationship",
                    "onset_time",
                    "baseline_grade",
                ],
                condition=Q(voided_at__isnull=True),
                name="ae_table_subject_term_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(grade__gte=1) & Q(grade__lte=5),
                name="ae_grade_1_to_5",
                violation_error_message="CTCAE grades are 1 to 5.",
            ),
            models.CheckConstraint(
                condition=Q(resolution_date__isnull=True) | Q(resolution_date__gte=F("onset_date")),
                name="ae_resolution_after_onset",
                violation_error_message="Resolution cannot precede onset.",
            ),
            models.CheckConstraint(
                condition=Q(serious=False)
                | Q(serious_death=True)
                | Q(serious_life_threatening=True)
                | Q(serious_hospitalisation=True)
                | Q(serious_disability=True)
                | Q(serious_congenital_anomaly=True)
                | Q(serious_important_medical_event=True),
                name="ae_serious_has_criterion",
                violation_error_message="A serious adverse event needs at least one "
                "seriousness criterion.",
            ),
            models.CheckConstraint(
                condition=Q(serious=True)
                | (
                    Q(serious_death=False)
                    & Q(serious_life_threatening=False)
                    & Q(serious_hospitalisation=False)
                    & Q(serious_disability=False)
                    & Q(serious_congenital_anomaly=False)
                    & Q(serious_important_medical_event=False)
                ),
                name="ae_criteria_only_when_serious",
                violation_error_message="Seriousness criteria are given: mark the event serious.",
            ),
            # CTCAE v5.0: grade 5 is death related to the AE.
            models.CheckConstraint(
                condition=(Q(grade=5) & Q(outcome="fatal")) | (~Q(grade=5) & ~Q(outcome="fatal")),
                name="ae_grade5_iff_fatal",
                violation_error_message="Grade 5 is death related to the event: grade 5 and a "
                "fatal outcome go together.",
            ),
            models.CheckConstraint(
                condition=~Q(grade=5) | (Q(serious=True) & Q(serious_death=True)),
                name="ae_grade5_is_serious_death",
                violation_error_message="A grade 5 event is serious, with the criterion "
                "'results in death'.",
            ),
            # docs/escalation.md §2.3: a DLT is at least possibly related to the study drug.
            models.CheckConstraint(
                condition=Q(dlt_investigator=False)
                | Q(relationship__in=["possible", "probable", "definite"]),
                name="ae_investigator_dlt_is_related",
                violation_error_message="A DLT must be at least possibly related to the study "
                "drug.",
            ),
            models.CheckConstraint(
                condition=~Q(dlt_adjudicated=True)
                | Q(relationship__in=["possible", "probable", "definite"]),
                name="ae_adjudicated_dlt_is_related",
                violation_error_message=ADJUDICATED_DLT_RELATED,
            ),
            models.CheckConstraint(
                condition=Q(
                    relationship__in=["not_related", "unlikely", "possible", "probable", "definite"]
                ),
                name="ae_relationship_valid",
                violation_error_message="Choose the relationship to the study drug.",
            ),
            # docs/safety.md §3: a baseline grade is 1-4 and not above the event's grade.
            models.CheckConstraint(
                condition=Q(baseline_grade__isnull=True)
                | (
                    Q(baseline_grade__gte=1)
                    & Q(baseline_grade__lte=4)
                    & Q(baseline_grade__lte=F("grade"))
                ),
                name="ae_baseline_not_above_grade",
                violation_error_message="The baseline grade is 1 to 4 and not above the event's "
                "grade.",
            ),
            # docs/safety.md §8: only a DLT call is attested, by someone at a time.
            models.CheckConstraint(
                condition=(Q(dlt_attested_at__isnull=True) & Q(dlt_attested_by__isnull=True))
                | (
                    Q(dlt_investigator=True)
                    & Q(dlt_attested_at__isnull=False)
                    & Q(dlt_attested_by__isnull=False)
                ),
                name="ae_attestation_of_a_dlt_call",
                violation_error_message="Only an investigator's DLT call is attested, with who "
                "attested it and when.",
            ),
        ]

    def __str__(self):
        return f"{self.subject} {self.ctcae_term.term} G{self.grade}"

    @property
    def dlt_awaiting_attestation(self) -> bool:
        """A DLT call proposed (by a coordinator) that the investigator has not attested yet
        (docs/safety.md §8). It counts as a DLT meanwhile: the safe side."""
        return self.dlt_investigator and self.dlt_attested_at is None

    @property
    def is_related(self) -> bool:
        return self.relationship in self.RELATED

    @property
    def is_dlt(self) -> bool:
        """The adjudicated call when there is one, else the investigator's (docs/escalation.md §2.3)."""
        return self.dlt_adjudicated if self.dlt_adjudicated is not None else self.dlt_investigator

    @property
    def sae_report_delay(self) -> timedelta | None:
        """From the site's awareness to the SAE's entry in the EDC (docs/safety.md §4)."""
        if not self.serious or self.sae_awareness_at is None or self.sae_reported_at is None:
            return None
        return max(self.sae_reported_at - self.sae_awareness_at, timedelta(0))

    @property
    def sae_reported_late(self) -> bool:
        """Reported more than 24 hours after the site became aware (ICH E2A)."""
        delay = self.sae_report_delay
        return delay is not None and delay > SAE_REPORTING_CLOCK

    @property
    def sae_clock_text(self) -> str:
        """The 24-hour clock in words, e.g. "entered 3 h 20 min after the site became aware"."""
        delay = self.sae_report_delay
        if delay is None:
            return ""
        minutes = int(delay.total_seconds() // 60)
        text = f"entered {minutes // 60} h {minutes % 60:02d} min after the site became aware"
        return f"late: {text} (more than 24 hours)" if self.sae_reported_late else text

    def seriousness_criteria(self) -> list[str]:
        return [label for field, label in self.SERIOUSNESS_CRITERIA if getattr(self, field)]
