"""Personal API tokens: how sponsors' and sites' systems authenticate to the REST API.

Only a SHA-256 of the secret is stored; the secret is shown once, when the token is made. A
token belongs to one user and acts with exactly that user's roles and sites. It always expires
(at most a year after it is made) and can be revoked; a revoked token stays on record, and its
creation and revocation are in the audit history like every other change.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from simple_history.models import HistoricalRecords


class ApiToken(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="api_tokens"
    )
    name = models.CharField(max_length=100, help_text="What the token is for, e.g. 'SAS nightly'.")
    prefix = models.CharField(
        max_length=16,
        unique=True,
        editable=False,
        help_text="The token's public first part, used to find it; shown in lists.",
    )
    secret_hash = models.CharField(max_length=64, editable=False, help_text="SHA-256, hex.")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    # Written with a queryset update (not save), at most once a minute: no history row per call.
    last_used_at = models.DateTimeField(null=True, blank=True)

    history = HistoricalRecords(excluded_fields=["last_used_at"])

    class Meta:
        verbose_name = "API token"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_at__gt=F("created_at")), name="api_token_expires_after_creation"
            ),
            models.CheckConstraint(
                condition=~Q(secret_hash="") & ~Q(prefix=""), name="api_token_has_secret"
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.prefix}…) of {self.user}"

    def is_usable(self, now) -> bool:
        return self.revoked_at is None and self.expires_at > now
