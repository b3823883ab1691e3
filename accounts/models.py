from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from simple_history.models import HistoricalRecords

from .roles import ROLE_LABELS, SITE_OPTIONAL_ROLES, SITE_ROLES, Role


class User(AbstractUser):
    """A person who signs in. Their printed name (for signatures) is first + last name."""

    history = HistoricalRecords(excluded_fields=["password", "last_login"])

    class Meta:
        ordering = ["username"]

    def __str__(self):
        return self.get_full_name() or self.username

    def memberships_cached(self) -> list["Membership"]:
        """This user's study roles, loaded once per request (scoping asks for them often)."""
        cached = self.__dict__.get("_memberships")
        if cached is None:
            cached = list(
                Membership.objects.filter(user=self, is_active=True)
                .select_related("study")
                .prefetch_related("sites")
            )
            self.__dict__["_memberships"] = cached
        return cached


class Membership(models.Model):
    """A user's role in one study; site roles name the sites they work at."""

    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="memberships")
    study = models.ForeignKey("trial.Study", on_delete=models.PROTECT, related_name="memberships")
    role = models.CharField(max_length=30, choices=[(r.value, ROLE_LABELS[r]) for r in Role])
    sites = models.ManyToManyField("trial.Site", blank=True, related_name="memberships")
    is_active = models.BooleanField(default=True)

    history = HistoricalRecords(m2m_fields=[sites])

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "study"], name="membership_one_role_per_study"),
            models.CheckConstraint(
                condition=models.Q(role__in=[r.value for r in Role]), name="membership_role_valid"
            ),
        ]

    def __str__(self):
        return f"{self.user} — {self.get_role_display()} — {self.study}"

    @property
    def role_enum(self) -> Role:
        return Role(self.role)

    @property
    def is_site_role(self) -> bool:
        return self.role_enum in SITE_ROLES or self.role_enum in SITE_OPTIONAL_ROLES

    def site_ids(self) -> set[int]:
        return {site.pk for site in self.sites.all()}

    def clean(self):
        if self.pk and self.is_site_role:
            foreign = [s for s in self.sites.all() if s.study_id != self.study_id]
            if foreign:
                raise ValidationError({"sites": "Sites must belong to the membership's study."})
