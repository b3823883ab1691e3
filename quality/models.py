"""Data quality and sign-off records (docs/quality.md): queries, source data verification, the
investigator's casebook signature, frozen forms and locks, and the study's settings for them.

None of these is deleted: a query is closed, a verification cleared, a signature invalidated, a
freeze or lock released, each with who, when (UTC) and why, and simple-history keeps every step
(21 CFR 11.10(e)).
"""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from core.models import ClinicalDataProtected

FORM_CHOICES = [
    ("subject", "Subject"),
    ("dose", "Dose administration"),
    ("adverse_event", "Adverse event"),
    ("lab_result", "Lab result"),
    ("lesion", "Tumour lesion"),
    ("prior_therapy", "Prior cancer therapy"),
    ("survival", "Survival follow-up contact"),
]
FORM_LABELS = dict(FORM_CHOICES)


class KeptOnRecord(models.Model):
    """Refuses deletion: these records are closed, cleared or released, never removed."""

    class Meta:
        abstract = True

    def delete(self, *args, **kwargs):
        raise ClinicalDataProtected(f"{self._meta.verbose_name} records are kept, never deleted.")


class OnRecordOfSubject(KeptOnRecord):
    """A quality record about one form (or one field of it) of one subject's casebook."""

    study = models.ForeignKey("trial.Study", on_delete=models.PROTECT, related_name="+")
    site = models.ForeignKey("trial.Site", on_delete=models.PROTECT, related_name="+")
    subject = models.ForeignKey("subjects.Subject", on_delete=models.PROTECT, related_name="+")
    form = models.CharField(max_length=30, choices=FORM_CHOICES)
    record_id = models.PositiveBigIntegerField()
    field = models.CharField(max_length=80, blank=True, help_text="Blank: the whole form.")

    scope_study = "study"
    scope_site = "site"

    class Meta:
        abstract = True

    @property
    def form_label(self) -> str:
        return FORM_LABELS.get(self.form, self.form)


class Query(OnRecordOfSubject):
    """A data clarification request on a field or a form (docs/quality.md §2)."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        ANSWERED = "answered", "Answered"
        CLOSED = "closed", "Closed"

    class Origin(models.TextChoices):
        EDIT_CHECK = "edit_check", "Edit check"
        MANUAL = "manual", "Manual"

    origin = models.CharField(max_length=20, choices=Origin.choices)
    check_name = models.CharField(max_length=80, blank=True)
    check_version = models.PositiveSmallIntegerField(null=True, blank=True)
    text = models.TextField()
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.OPEN)
    record_version = models.PositiveIntegerField(help_text="The record's version when opened.")
    version = models.PositiveIntegerField(
        default=1, editable=False, help_text="Raised by one on every step (the API's ETag)."
    )
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Blank for a query an edit check raised.",
    )
    opened_at = models.DateTimeField()
    answered_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name_plural = "queries"
        ordering = ["opened_at", "pk"]
        indexes = [
            models.Index(fields=["study", "status"]),
            models.Index(fields=["subject", "status"]),
            models.Index(fields=["form", "record_id"]),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["check_name", "form", "record_id", "field"],
                condition=Q(origin="edit_check") & ~Q(status="closed"),
                name="query_one_unresolved_per_check_and_field",
                violation_error_message="This check already has an unresolved query here.",
            ),
            models.CheckConstraint(
                condition=Q(origin="manual") | ~Q(check_name=""),
                name="query_edit_check_named",
                violation_error_message="A query raised by an edit check names the check.",
            ),
            models.CheckConstraint(
                condition=~Q(status="closed") | Q(closed_at__isnull=False),
                name="query_closed_has_time",
                violation_error_message="A closed query records when it was closed.",
            ),
        ]

    def __str__(self):
        return f"Query {self.pk} on {self.form_label} {self.record_id} {self.field}".strip()

    @property
    def is_unresolved(self) -> bool:
        return self.status != self.Status.CLOSED


class QueryMessage(KeptOnRecord):
    """One step of a query's thread: opened, answered, closed, re-opened, resolved by the data."""

    class Action(models.TextChoices):
        OPENED = "opened", "Opened"
        ANSWERED = "answered", "Answered"
        CLOSED = "closed", "Closed"
        REOPENED = "reopened", "Re-opened"
        RESOLVED = "resolved", "Resolved by a data change"

    query = models.ForeignKey(Query, on_delete=models.PROTECT, related_name="messages")
    action = models.CharField(max_length=20, choices=Action.choices)
    text = models.TextField(blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    at = models.DateTimeField()

    history = HistoricalRecords()

    scope_study = "query__study"
    scope_site = "query__site"

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self):
        return f"{self.get_action_display()} at {self.at:%Y-%m-%d %H:%M} UTC"


class Verification(OnRecordOfSubject):
    """Source data verification of a form (blank field) or one field (docs/quality.md §3).

    `value_digest` is the SHA-256 of what was verified (the form's record, or the field's value):
    a change after verification clears it, with the change named in `cleared_reason`."""

    record_version = models.PositiveIntegerField()
    value_digest = models.CharField(max_length=64)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    verified_at = models.DateTimeField()
    cleared_at = models.DateTimeField(null=True, blank=True)
    cleared_reason = models.TextField(blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["verified_at", "pk"]
        indexes = [models.Index(fields=["form", "record_id"])]
        constraints = [
            models.UniqueConstraint(
                fields=["form", "record_id", "field"],
                condition=Q(cleared_at__isnull=True),
                name="verification_one_current",
                violation_error_message="This is already verified.",
            ),
            models.CheckConstraint(
                condition=Q(cleared_at__isnull=True) | ~Q(cleared_reason=""),
                name="verification_cleared_has_reason",
                violation_error_message="A cleared verification says why.",
            ),
        ]

    def __str__(self):
        return f"Verified {self.form_label} {self.record_id} {self.field}".strip()

    @property
    def is_current(self) -> bool:
        return self.cleared_at is None


class CasebookSignature(KeptOnRecord):
    """The investigator's signature of a subject's casebook (docs/quality.md §4): a core
    Signature on the subject (printed name, meaning, UTC time), bound to the digest of every
    record of the casebook. A later change to any of them invalidates it."""

    study = models.ForeignKey("trial.Study", on_delete=models.PROTECT, related_name="+")
    site = models.ForeignKey("trial.Site", on_delete=models.PROTECT, related_name="+")
    subject = models.ForeignKey(
        "subjects.Subject", on_delete=models.PROTECT, related_name="casebook_signatures"
    )
    signature = models.OneToOneField("core.Signature", on_delete=models.PROTECT, related_name="+")
    statement = models.TextField()

    history = HistoricalRecords()

    scope_study = "study"
    scope_site = "site"

    class Meta:
        ordering = ["pk"]

    def __str__(self):
        return f"Casebook of {self.subject}: {self.signature}"


class Freeze(OnRecordOfSubject):
    """A form frozen by the data manager: no edit until it is unfrozen with a reason."""

    frozen_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    frozen_at = models.DateTimeField()
    reason = models.TextField(blank=True)
    unfrozen_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    unfrozen_at = models.DateTimeField(null=True, blank=True)
    unfreeze_reason = models.TextField(blank=True)

    history = HistoricalRecords()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["form", "record_id"],
                condition=Q(unfrozen_at__isnull=True),
                name="freeze_one_current",
                violation_error_message="This form is already frozen.",
            ),
            models.CheckConstraint(
                condition=Q(unfrozen_at__isnull=True) | ~Q(unfreeze_reason=""),
                name="freeze_unfrozen_has_reason",
                violation_error_message="Unfreezing a form needs a reason.",
            ),
        ]

    def __str__(self):
        return f"Frozen {self.form_label} {self.record_id}"


class SubjectLock(KeptOnRecord):
    """A subject's casebook locked by the data manager: read-only until unlocked with a reason."""

    study = models.ForeignKey("trial.Study", on_delete=models.PROTECT, related_name="+")
    site = models.ForeignKey("trial.Site", on_delete=models.PROTECT, related_name="+")
    subject = models.ForeignKey("subjects.Subject", on_delete=models.PROTECT, related_name="+")
    locked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    locked_at = models.DateTimeField()
    reason = models.TextField(blank=True)
    unlocked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    unlocked_at = models.DateTimeField(null=True, blank=True)
    unlock_reason = models.TextField(blank=True)

    history = HistoricalRecords()

    scope_study = "study"
    scope_site = "site"

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["subject"],
                condition=Q(unlocked_at__isnull=True),
                name="subject_lock_one_current",
                violation_error_message="This subject is already locked.",
            ),
            models.CheckConstraint(
                condition=Q(unlocked_at__isnull=True) | ~Q(unlock_reason=""),
                name="subject_lock_unlock_has_reason",
                violation_error_message="Unlocking a subject needs a reason.",
            ),
        ]

    def __str__(self):
        return f"Lock of {self.subject}"


class StudyLock(KeptOnRecord):
    """The study database locked: read-only for everyone. Unlocking takes two people (one asks,
    another confirms) or an administrator with a reason (docs/quality.md §5)."""

    study = models.ForeignKey("trial.Study", on_delete=models.PROTECT, related_name="+")
    locked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    locked_at = models.DateTimeField()
    reason = models.TextField()
    unlock_requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    unlock_requested_at = models.DateTimeField(null=True, blank=True)
    unlock_request_reason = models.TextField(blank=True)
    unlocked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    unlocked_at = models.DateTimeField(null=True, blank=True)
    unlock_reason = models.TextField(blank=True)

    history = HistoricalRecords()

    scope_study = "study"

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["study"],
                condition=Q(unlocked_at__isnull=True),
                name="study_lock_one_current",
                violation_error_message="The study database is already locked.",
            ),
            models.CheckConstraint(
                condition=Q(unlocked_at__isnull=True) | ~Q(unlock_reason=""),
                name="study_lock_unlock_has_reason",
                violation_error_message="Unlocking the study database needs a reason.",
            ),
        ]

    def __str__(self):
        return f"Lock of the study database ({self.locked_at:%Y-%m-%d %H:%M} UTC)"


class QualitySettings(KeptOnRecord):
    """A study's data quality settings, loaded from the protocol file's [quality] section."""

    study = models.OneToOneField(
        "trial.Study", on_delete=models.PROTECT, related_name="quality_settings"
    )
    sdv_forms = models.JSONField(
        default=list,
        blank=True,
        help_text="The forms that need source data verification (targeted SDV, ICH E6(R3) "
        "risk-based monitoring): subject, dose, adverse_event.",
    )
    weight_expected_min_kg = models.DecimalField(
        max_digits=5, decimal_places=1, default=Decimal("40")
    )
    weight_expected_max_kg = models.DecimalField(
        max_digits=5, decimal_places=1, default=Decimal("150")
    )
    anticancer_washout_days = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        help_text="The protocol's washout of prior anticancer therapy before the first dose, in "
        "days (the prior_therapy.washout_before_first_dose edit check); empty: not checked.",
    )
    two_factor_roles = models.JSONField(
        default=list,
        blank=True,
        help_text="The roles that sign in with a second factor (TOTP): e.g. investigator, "
        "medical_monitor, data_manager (docs/quality.md §7).",
    )

    history = HistoricalRecords()

    scope_study = "study"

    class Meta:
        verbose_name_plural = "quality settings"

    def __str__(self):
        return f"Quality settings of {self.study}"


class DigestSent(KeptOnRecord):
    """One e-mail digest of open queries sent to one person for one day: the task sends each
    at most once (idempotent)."""

    study = models.ForeignKey("trial.Study", on_delete=models.PROTECT, related_name="+")
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    day = models.DateField()
    query_count = models.PositiveIntegerField()
    sent_at = models.DateTimeField()

    scope_study = "study"

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["study", "recipient", "day"], name="digest_once_per_day"
            )
        ]

    def __str__(self):
        return f"Digest to {self.recipient} for {self.day}"
