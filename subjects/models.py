"""A subject from screening to end of study: consent, eligibility, demographics, enrollment into
a cohort, replacement, end of treatment, end of study (with their coded reasons), death."""

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Upper

from core.models import ClinicalRecord
from standards.ct import codelist

from . import rules


def _ct_label(name: str, value: str) -> str:
    """How a page shows a CDISC CT value: NCI's preferred term for races and ethnicities
    ("Black or African American"), the submission value in sentence case for the reasons
    ("Lost to follow-up"); OTHER, a sponsor extension, is "Other"."""
    term = codelist(name).terms.get(value)
    if name in ("RACE", "ETHNIC") and term is not None:
        return term.decode.replace("Not Reported", "Not reported")
    return value.capitalize()


RACE_CHOICES = [(v, _ct_label("RACE", v)) for v in rules.RACE_CHOICES]
ETHNICITY_CHOICES = [(v, _ct_label("ETHNIC", v)) for v in rules.ETHNICITIES]
END_OF_TREATMENT_REASON_CHOICES = [
    (v, _ct_label("NCOMPLT", v)) for v in rules.END_OF_TREATMENT_REASONS
]
END_OF_STUDY_REASON_CHOICES = [(v, _ct_label("NCOMPLT", v)) for v in rules.END_OF_STUDY_REASONS]


def validate_races(value) -> None:
    """A list of races of the CDISC list (RACE), as the race form stores them."""
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValidationError("Give the races as a list of CDISC RACE values.", code="invalid")
    unknown = [v for v in value if v not in rules.RACE_CHOICES]
    if unknown:
        raise ValidationError(
            f"Not a race of the CDISC list (RACE): {', '.join(unknown)}.", code="invalid_choice"
        )


class Subject(ClinicalRecord):
    class Sex(models.TextChoices):
        FEMALE = "F", "Female"
        MALE = "M", "Male"
        UNKNOWN = "U", "Unknown"

    class Eligibility(models.TextChoices):
        PENDING = "pending", "Not yet assessed"
        ELIGIBLE = "eligible", "Eligible"
        INELIGIBLE = "ineligible", "Not eligible"

    class Status(models.TextChoices):
        SCREENING = "screening", "Screening"
        SCREEN_FAILED = "screen_failed", "Screen failure"
        ENROLLED = "enrolled", "Enrolled, on treatment"
        OFF_TREATMENT = "off_treatment", "Off treatment, in follow-up"
        OFF_STUDY = "off_study", "Off study"

    study = models.ForeignKey("trial.Study", on_delete=models.PROTECT, related_name="subjects")
    site = models.ForeignKey("trial.Site", on_delete=models.PROTECT, related_name="subjects")
    screening_number = models.CharField(max_length=30)
    # NULL until enrollment, so the unique constraint ignores subjects still in screening.
    subject_number = models.CharField(  # noqa: DJ001
        max_length=30, null=True, blank=True, help_text="Assigned at enrollment: site-prefixed."
    )
    sex = models.CharField(max_length=1, choices=Sex.choices)
    year_of_birth = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1900), MaxValueValidator(2100)]
    )
    screening_date = models.DateField()
    consent_date = models.DateField(null=True, blank=True)
    consent_version = models.CharField("consent form version", max_length=50, blank=True)
    eligibility_outcome = models.CharField(
        max_length=20, choices=Eligibility.choices, default=Eligibility.PENDING
    )
    eligibility_answers = models.JSONField(
        default=dict, blank=True, help_text="Each protocol criterion and whether it is met."
    )
    eligibility_assessed_on = models.DateField(null=True, blank=True)
    screen_failure_reason = models.TextField(blank=True)
    enrollment_date = models.DateField(null=True, blank=True)
    cohort = models.ForeignKey(
        "trial.Cohort", on_delete=models.PROTECT, null=True, blank=True, related_name="subjects"
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.SCREENING)
    # A foreign key with a unique constraint among non-voided subjects (below), so that a
    # replacement entered in error can be voided and another one enrolled.
    replaces = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="replaced_by",
        help_text="The non-evaluable subject whose cohort place this subject takes.",
    )
    # Demographics completed (docs/subjects.md §1): ethnicity, then the races, several allowed.
    ethnicity = models.CharField(
        max_length=30, choices=ETHNICITY_CHOICES, blank=True, help_text="CDISC CT ETHNIC."
    )
    races = models.JSONField(
        default=list,
        blank=True,
        validators=[validate_races],
        help_text="CDISC CT RACE values, in the list's order; several allowed.",
    )
    race_other = models.CharField(
        "other race, specify",
        max_length=200,
        blank=True,
        help_text="The race as the subject gave it, when Other is chosen.",
    )
    # Disposition (docs/subjects.md §2): each end with its date, its coded reason (CDISC CT
    # NCOMPLT) and the reason as the site wrote it (the "specify" detail).
    end_of_treatment_date = models.DateField(null=True, blank=True)
    end_of_treatment_reason_code = models.CharField(
        "reason treatment ended",
        max_length=40,
        choices=END_OF_TREATMENT_REASON_CHOICES,
        blank=True,
    )
    end_of_treatment_reason = models.TextField("reason treatment ended, specify", blank=True)
    end_of_study_date = models.DateField(null=True, blank=True)
    end_of_study_reason_code = models.CharField(
        "reason the study ended",
        max_length=40,
        choices=END_OF_STUDY_REASON_CHOICES,
        blank=True,
    )
    end_of_study_reason = models.TextField("reason the study ended, specify", blank=True)
    death_date = models.DateField(null=True, blank=True)

    scope_study = "study"
    scope_site = "site"

    constraint_fields = {
        "subject_screening_number_unique": "screening_number",
        "subject_number_unique_in_study": "subject_number",
        "subject_enrolled_has_number_cohort_dates": "enrollment_date",
        "subject_not_enrolled_has_no_cohort": "cohort",
        "subject_screen_failure_has_reason": "screen_failure_reason",
        "subject_enrolled_after_consent": "enrollment_date",
        "subject_eot_after_enrollment": "end_of_treatment_date",
        "subject_eos_after_eot": "end_of_study_date",
        "subject_death_after_screening": "death_date",
        "subject_replaced_once": "replaces",
        "subject_does_not_replace_itself": "replaces",
        "subject_ethnicity_coded": "ethnicity",
        "subject_eot_reason_coded": "end_of_treatment_reason_code",
        "subject_eos_reason_coded": "end_of_study_reason_code",
    }

    constraint_messages = {
        "subject_screening_number_unique": "This screening number is already used in this study.",
        "subject_number_unique_in_study": "This subject number is already used in this study.",
        "subject_enrolled_has_number_cohort_dates": "An enrolled subject keeps a date of "
        "informed consent, an enrollment date, a cohort and a subject number.",
        "subject_not_enrolled_has_no_cohort": "A subject who is not enrolled has no enrollment "
        "date or cohort: enrollment records them.",
        "subject_screen_failure_has_reason": "A screen failure keeps its reason.",
        "subject_enrolled_after_consent": "Enrollment cannot precede informed consent.",
        "subject_eot_after_enrollment": "End of treatment cannot precede enrollment.",
        "subject_eos_after_eot": "End of study cannot precede end of treatment.",
        "subject_death_after_screening": "The date of death cannot precede screening.",
        "subject_replaced_once": "This subject has already been replaced.",
        "subject_does_not_replace_itself": "A subject cannot replace themselves.",
        "subject_ethnicity_coded": "The ethnicity is one of the CDISC list (ETHNIC).",
        "subject_eot_reason_coded": "The reason treatment ended is one of its coded reasons, "
        "given with the end of treatment date.",
        "subject_eos_reason_coded": "The reason the study ended is one of its coded reasons, "
        "given with the end of study date.",
    }

    class Meta:
        ordering = ["site__number", "screening_number"]
        indexes = [models.Index(fields=["site", "status"]), models.Index(fields=["cohort"])]
        constraints = [
            # Case-insensitive: "s102-002" and "S102-002" are one screening number
            # (subjects.services.normalise_screening_number makes the rest of the form one).
            models.UniqueConstraint(
                "study",
                Upper("screening_number"),
                name="subject_screening_number_unique",
                violation_error_message="This screening number is already used in the study.",
            ),
            models.UniqueConstraint(
                fields=["study", "subject_number"],
                name="subject_number_unique_in_study",
                violation_error_message="This subject number is already used in the study.",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["screening", "screen_failed"])
                | (
                    Q(subject_number__isnull=False)
                    & Q(cohort__isnull=False)
                    & Q(enrollment_date__isnull=False)
                    & Q(consent_date__isnull=False)
                ),
                name="subject_enrolled_has_number_cohort_dates",
                violation_error_message="An enrolled subject has a subject number, a cohort, "
                "an enrollment date and a consent date.",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["screening", "screen_failed"])
                | (Q(cohort__isnull=True) & Q(enrollment_date__isnull=True)),
                name="subject_not_enrolled_has_no_cohort",
                violation_error_message="A subject in screening (or a screen failure) has no "
                "cohort and no enrollment date.",
            ),
            models.CheckConstraint(
                condition=~Q(status="screen_failed") | ~Q(screen_failure_reason=""),
                name="subject_screen_failure_has_reason",
                violation_error_message="Give the reason for the screen failure.",
            ),
            models.CheckConstraint(
                condition=Q(enrollment_date__isnull=True)
                | Q(enrollment_date__gte=F("consent_date")),
                name="subject_enrolled_after_consent",
                violation_error_message="Enrollment cannot precede informed consent.",
            ),
            models.CheckConstraint(
                condition=Q(end_of_treatment_date__isnull=True)
                | Q(end_of_treatment_date__gte=F("enrollment_date")),
                name="subject_eot_after_enrollment",
                violation_error_message="End of treatment cannot precede enrollment.",
            ),
            models.CheckConstraint(
                condition=Q(end_of_study_date__isnull=True)
                | Q(end_of_treatment_date__isnull=True)
                | Q(end_of_study_date__gte=F("end_of_treatment_date")),
                name="subject_eos_after_eot",
                violation_error_message="End of study cannot precede end of treatment.",
            ),
            models.CheckConstraint(
                condition=Q(death_date__isnull=True) | Q(death_date__gte=F("screening_date")),
                name="subject_death_after_screening",
                violation_error_message="The date of death cannot precede screening.",
            ),
            models.UniqueConstraint(
                fields=["replaces"],
                condition=Q(voided_at__isnull=True, replaces__isnull=False),
                name="subject_replaced_once",
                violation_error_message="This subject has already been replaced.",
            ),
            models.CheckConstraint(
                condition=Q(replaces__isnull=True) | ~Q(replaces=F("id")),
                name="subject_does_not_replace_itself",
                violation_error_message="A subject cannot replace themselves.",
            ),
            models.CheckConstraint(
                condition=Q(ethnicity="") | Q(ethnicity__in=rules.ETHNICITIES),
                name="subject_ethnicity_coded",
                violation_error_message="The ethnicity is one of the CDISC list (ETHNIC).",
            ),
            # A coded reason only with its date, and only one of its event's reasons. A date
            # without its code is refused by the services (subjects/rules.py): rows recorded
            # before reasons were coded carry none in their early history, which an ODM import
            # replays (docs/subjects.md §2).
            models.CheckConstraint(
                condition=Q(end_of_treatment_reason_code="")
                | (
                    Q(end_of_treatment_date__isnull=False)
                    & Q(end_of_treatment_reason_code__in=rules.END_OF_TREATMENT_REASONS)
                ),
                name="subject_eot_reason_coded",
                violation_error_message="The reason treatment ended is one of its coded "
                "reasons, given with the end of treatment date.",
            ),
            models.CheckConstraint(
                condition=Q(end_of_study_reason_code="")
                | (
                    Q(end_of_study_date__isnull=False)
                    & Q(end_of_study_reason_code__in=rules.END_OF_STUDY_REASONS)
                ),
                name="subject_eos_reason_coded",
                violation_error_message="The reason the study ended is one of its coded "
                "reasons, given with the end of study date.",
            ),
        ]

    def __str__(self):
        return self.subject_number or f"Screening {self.screening_number}"

    @property
    def label(self) -> str:
        return str(self)

    def clean(self):
        """Race and ethnicity are recorded together, by the rules of subjects/rules.py."""
        super().clean()
        if not (self.races or self.race_other or self.ethnicity):
            return
        problems = rules.race_problems(self.races or [], self.race_other or "")
        errors = {field: [message] for field, message in problems.items()}
        if not self.ethnicity:
            errors["ethnicity"] = ["Give the ethnicity with the races (Not reported if declined)."]
        if errors:
            raise ValidationError(errors)

    @property
    def demographics_recorded(self) -> bool:
        return bool(self.ethnicity)

    @property
    def race_labels(self) -> list[str]:
        labels = dict(RACE_CHOICES)
        return [labels.get(r, r) for r in self.races or []]

    def reason_text(self, prefix: str) -> str:
        """An end's reason as the pages show it: the coded reason, then the site's words when
        they say more ("Adverse event: grade 3 pneumonitis")."""
        code = getattr(self, f"{prefix}_reason_code")
        text = getattr(self, f"{prefix}_reason").strip()
        label = dict(self._meta.get_field(f"{prefix}_reason_code").choices or ()).get(code)
        if not label:
            return text
        if not text or text.casefold() == label.casefold():
            return label
        return f"{label}: {text}"

    @property
    def end_of_treatment_reason_text(self) -> str:
        return self.reason_text("end_of_treatment")

    @property
    def end_of_study_reason_text(self) -> str:
        return self.reason_text("end_of_study")

    @property
    def disposition(self) -> rules.Disposition:
        """What `subjects.rules.disposition_problems` reads of this subject."""
        return rules.Disposition(
            enrollment_date=self.enrollment_date,
            death_date=self.death_date,
            end_of_treatment=rules.DispositionEvent(
                "end_of_treatment",
                "end of treatment",
                self.end_of_treatment_date,
                self.end_of_treatment_reason_code,
                self.end_of_treatment_reason,
                rules.END_OF_TREATMENT_REASONS,
            ),
            end_of_study=rules.DispositionEvent(
                "end_of_study",
                "end of study",
                self.end_of_study_date,
                self.end_of_study_reason_code,
                self.end_of_study_reason,
                rules.END_OF_STUDY_REASONS,
            ),
        )

    @property
    def is_replaced(self) -> bool:
        """A (non-voided) replacement has taken this subject's cohort place."""
        return any(r.voided_at is None for r in self.replaced_by.all())

    @property
    def is_enrolled(self) -> bool:
        return (
            self.status
            in (
                self.Status.ENROLLED,
                self.Status.OFF_TREATMENT,
                self.Status.OFF_STUDY,
            )
            and self.enrollment_date is not None
        )

    @property
    def rule_state(self) -> rules.SubjectState:
        """What `subjects.rules` reads of this subject."""
        return rules.SubjectState(
            status=self.status,
            consent_recorded=self.consent_date is not None,
            death_recorded=self.death_date is not None,
        )

    @property
    def allowed_steps(self) -> frozenset[rules.Step]:
        """The steps this subject may take now (`subjects.rules`): the casebook's buttons."""
        return rules.allowed_steps(self.rule_state)
