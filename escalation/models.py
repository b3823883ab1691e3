"""The escalation layer's records: what must be evaluated, each subject's DLT status, the
recommendations the rules core made, the committee's signed decisions, and who was notified."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from core.models import ClinicalDataProtected


class TrackEvaluationState(models.Model):
    """Recorded in the database, in the same transaction as the data change, so an evaluation
    never depends on the broker being up at commit: the periodic sweep finds what is owed."""

    track = models.OneToOneField(
        "trial.EscalationTrack", on_delete=models.PROTECT, related_name="evaluation_state"
    )
    requested_at = models.DateTimeField(
        null=True, blank=True, help_text="Data changed since then; an evaluation is owed."
    )
    evaluated_at = models.DateTimeField(null=True, blank=True)
    next_evaluation_on = models.DateField(
        null=True,
        blank=True,
        help_text="A DLT window closes with time: evaluate again on this day.",
    )
    last_error = models.TextField(blank=True)

    scope_study = "track__study"

    def __str__(self):
        return f"Evaluation state of {self.track}"


class Recommendation(models.Model):
    """A recommendation of the rules core, stored only when it differs from the track's last one."""

    class Status(models.TextChoices):
        PENDING = "pending", "Awaiting the committee"
        INFORMATION = "information", "Current (no decision needed)"
        CONFIRMED = "confirmed", "Confirmed by the committee"
        OVERRIDDEN = "overridden", "Overridden by the committee"
        SUPERSEDED = "superseded", "Superseded by newer data"

    CURRENT = (Status.PENDING, Status.INFORMATION)

    track = models.ForeignKey(
        "trial.EscalationTrack", on_delete=models.PROTECT, related_name="recommendations"
    )
    sequence = models.PositiveIntegerField(help_text="1, 2, 3... within the track.")
    created_at = models.DateTimeField()
    evaluated_on = models.DateField(help_text="'Today' of the evaluation (UTC date).")
    action = models.CharField(max_length=30)
    rule = models.CharField(max_length=200)
    text = models.TextField()
    dose_level = models.ForeignKey(
        "trial.DoseLevel", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    n_subjects = models.PositiveSmallIntegerField(default=0)
    data = models.JSONField(help_text="The whole recommendation as data.")
    inputs = models.JSONField(help_text="The per-subject facts the rules saw.")
    input_digest = models.CharField(max_length=64)
    rules_version = models.CharField(max_length=100)
    status = models.CharField(max_length=20, choices=Status.choices)
    superseded_at = models.DateTimeField(null=True, blank=True)
    # The same decision with newer evidence (a corrected grade, a window closed) is kept current
    # in place, not issued again (docs/escalation.md §7): each refresh is a new version, and the
    # history keeps what every version said. A signature is bound to the version signed.
    version = models.PositiveIntegerField(default=1, editable=False)
    updated_at = models.DateTimeField(
        null=True, blank=True, help_text="When the evidence was last brought up to date."
    )

    history = HistoricalRecords()
    scope_study = "track__study"

    class Meta:
        ordering = ["track", "-sequence"]
        constraints = [
            models.UniqueConstraint(
                fields=["track", "sequence"], name="recommendation_sequence_unique"
            ),
            # One current recommendation per track: a duplicate or concurrent evaluation cannot
            # store a second one.
            models.UniqueConstraint(
                fields=["track"],
                condition=Q(status__in=["pending", "information"]),
                name="recommendation_one_current_per_track",
            ),
        ]

    def __str__(self):
        return f"{self.track.code} #{self.sequence}: {self.text}"

    @property
    def is_current(self) -> bool:
        return self.status in self.CURRENT

    @property
    def needs_decision(self) -> bool:
        return self.status == self.Status.PENDING

    def delete(self, *args, **kwargs):
        raise ClinicalDataProtected("Recommendations stay on record.")


class CommitteeDecision(models.Model):
    """The Safety Review Committee's signed decision on a recommendation (docs/escalation.md §7)."""

    class Outcome(models.TextChoices):
        CONFIRMED = "confirmed", "Confirmed"
        OVERRIDDEN = "overridden", "Overridden (or the committee's own decision), with rationale"

    class Step(models.TextChoices):
        OPEN_COHORT = "open_cohort", "Open a cohort"
        DECLARE_MTD = "declare_mtd", "Declare the MTD"
        DECLARE_MAD = "declare_mad", "Declare the MAD (MTD not reached)"
        STOP_TRACK = "stop_track", "Stop the track"
        PAUSE_TRACK = "pause_track", "Pause the track"
        COMPLETE_TRACK = "complete_track", "Complete the track"
        OPEN_TRACK = "open_track", "Open another track (Q2W or expansion)"

    # Null for a decision the committee takes on its own initiative (e.g. opening the Q2W track
    # or an expansion cohort after the MTD): those always carry a rationale.
    recommendation = models.OneToOneField(
        Recommendation,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="committee_decision",
    )
    track = models.ForeignKey(
        "trial.EscalationTrack", on_delete=models.PROTECT, related_name="committee_decisions"
    )
    outcome = models.CharField(max_length=20, choices=Outcome.choices)
    step = models.CharField(max_length=20, choices=Step.choices)
    target_track = models.ForeignKey(
        "trial.EscalationTrack", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    dose_level = models.ForeignKey(
        "trial.DoseLevel", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    n_subjects = models.PositiveSmallIntegerField(default=0)
    rationale = models.TextField(blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField()
    signature = models.OneToOneField("core.Signature", on_delete=models.PROTECT, related_name="+")
    opened_cohort = models.ForeignKey(
        "trial.Cohort", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    version = models.PositiveIntegerField(default=1, editable=False)

    history = HistoricalRecords()
    scope_study = "track__study"

    class Meta:
        ordering = ["-decided_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(outcome="confirmed") | ~Q(rationale=""),
                name="committee_override_has_rationale",
            ),
            models.CheckConstraint(
                condition=Q(recommendation__isnull=False) | Q(outcome="overridden"),
                name="committee_own_initiative_is_an_override",
            ),
            models.CheckConstraint(
                condition=~Q(step="open_cohort")
                | (Q(dose_level__isnull=False) & Q(n_subjects__gte=1)),
                name="committee_open_cohort_has_level_and_size",
            ),
        ]

    def __str__(self):
        return f"{self.get_outcome_display()}: {self.get_step_display()} on {self.track}"

    def delete(self, *args, **kwargs):
        raise ClinicalDataProtected("Committee decisions stay on record.")


class SubjectDltStatus(models.Model):
    """Each enrolled subject's DLT status as of the track's latest evaluation (derived, refreshed
    by every evaluation; the recommendation's `inputs` keep what each decision saw)."""

    class Status(models.TextChoices):
        NOT_DOSED = "not_dosed", "Awaiting first dose"
        PENDING = "pending", "DLT window open"
        EVALUABLE_NO_DLT = "evaluable_no_dlt", "Evaluable, no DLT"
        DLT = "dlt", "DLT"
        NOT_EVALUABLE = "not_evaluable", "Not evaluable"

    subject = models.OneToOneField(
        "subjects.Subject", on_delete=models.PROTECT, related_name="dlt_status"
    )
    track = models.ForeignKey("trial.EscalationTrack", on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=20, choices=Status.choices)
    window_start = models.DateField(null=True, blank=True)
    window_end = models.DateField(null=True, blank=True)
    reason = models.CharField(max_length=200, blank=True)
    rule = models.CharField(max_length=200, blank=True)
    dlt_adverse_event = models.ForeignKey(
        "safety.AdverseEvent", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    qualifying_infusions = models.PositiveSmallIntegerField(default=0)
    required_infusions = models.PositiveSmallIntegerField(default=0)
    evaluated_at = models.DateTimeField()
    rules_version = models.CharField(max_length=100)

    scope_study = "subject__study"
    scope_site = "subject__site"

    class Meta:
        verbose_name = "subject DLT status"
        verbose_name_plural = "subject DLT statuses"
        indexes = [models.Index(fields=["track", "status"]), models.Index(fields=["evaluated_at"])]

    def __str__(self):
        return f"{self.subject}: {self.get_status_display()}"


class Notification(models.Model):
    """A message to a medical monitor, recorded so it can be shown who was told what, when."""

    class Kind(models.TextChoices):
        NEW_DLT = "new_dlt", "New DLT"
        SAE = "sae", "Serious adverse event"
        RECOMMENDATION = "recommendation", "New recommendation"
        OVERDOSE = "overdose", "Overdose (protocol deviation)"

    kind = models.CharField(max_length=20, choices=Kind.choices)
    key = models.CharField(
        max_length=100, help_text="What it is about, e.g. ae:42 or recommendation:7."
    )
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="notifications"
    )
    study = models.ForeignKey("trial.Study", on_delete=models.PROTECT, related_name="+")
    subject = models.ForeignKey(
        "subjects.Subject", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    title = models.CharField(max_length=300)
    body = models.TextField()
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    scope_study = "study"

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "key", "recipient"], name="notification_once_per_recipient"
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} to {self.recipient}: {self.title}"
