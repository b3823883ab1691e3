"""The dashboards' filters: the study the page is about and the track, dose level, site and
dates chosen, parsed against what the user may see; the subjects under them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from django.db.models import Prefetch
from django.urls import reverse
from django.utils.http import urlencode

from accounts.roles import Capability
from accounts.scoping import can, monitoring_studies, restrict
from core.errors import PermissionDenied
from dosing.models import DoseAdministration
from monitoring.forms import FilterForm
from subjects.models import Subject
from trial.models import DoseLevel, EscalationTrack, Site, Study


def can_sign(user, study_id: int) -> bool:
    return can(user, Capability.SIGN_COMMITTEE_DECISION, study_id=study_id)


def can_adjudicate(user, study_id: int) -> bool:
    return can(user, Capability.ADJUDICATE_DLT, study_id=study_id)


@dataclass
class Scope:
    """The study the page is about, the filter choices and the filters applied."""

    study: Study
    studies: list[Study]
    tracks: list[EscalationTrack]
    levels: list[DoseLevel]
    sites: list[Site]
    form: FilterForm
    track: EscalationTrack | None = None
    dose_level: DoseLevel | None = None
    site: Site | None = None
    date_from: date | None = None
    date_to: date | None = None
    params: dict = field(default_factory=dict)

    @property
    def valid(self) -> bool:
        return self.form.is_valid()

    @property
    def is_filtered(self) -> bool:
        return any((self.track, self.dose_level, self.site, self.date_from, self.date_to))

    def query(self, **extra) -> str:
        """The page's filters as a query string, with `extra` added (e.g. a CSV download)."""
        values = {k: v for k, v in self.params.items() if v not in (None, "")}
        values.update({k: v for k, v in extra.items() if v is not None})
        return urlencode(values)

    def describe(self) -> str:
        parts = [self.study.protocol_number]
        if self.track:
            parts.append(self.track.name)
        if self.dose_level:
            parts.append(self.dose_level.label)
        if self.site:
            parts.append(f"site {self.site.number}")
        if self.date_from or self.date_to:
            parts.append(f"{self.date_from or '…'} to {self.date_to or '…'}")
        return " · ".join(parts)

    def overlaps(self, start: date | None, end: date | None) -> bool:
        """Does [start, end] meet the date range? (True without a range.)"""
        if not (self.date_from or self.date_to):
            return True
        if start is None:
            return False
        end = end or start
        if self.date_from and end < self.date_from:
            return False
        return not (self.date_to and start > self.date_to)


FILTER_KEYS = ("study", "track", "dose_level", "site", "date_from", "date_to")


def load_scope(user, params, *, date_help: str = "") -> Scope:
    """Parse the filters against what the user may see. PermissionDenied without a study role."""
    studies = monitoring_studies(user)
    if not studies:
        raise PermissionDenied(
            "The safety dashboards are for the study team (medical monitor, data manager, "
            "sponsor): your role does not include them."
        )
    raw_study = params.get("study")
    study = next((s for s in studies if str(s.pk) == raw_study), studies[0])
    tracks = list(
        restrict(
            EscalationTrack.objects.filter(study=study).select_related(
                "regimen", "lowest_dose_level", "highest_dose_level"
            ),
            user,
        ).order_by("display_order", "code")
    )
    levels = list(restrict(DoseLevel.objects.filter(study=study), user).order_by("amount"))
    sites = list(restrict(Site.objects.filter(study=study), user).order_by("number"))
    data = {key: params.get(key, "") for key in FILTER_KEYS}
    data["study"] = data["study"] or str(study.pk)
    form = FilterForm(
        data, studies=studies, tracks=tracks, levels=levels, sites=sites, date_help=date_help
    )
    scope = Scope(
        study=study,
        studies=studies,
        tracks=tracks,
        levels=levels,
        sites=sites,
        form=form,
        params={k: v for k, v in data.items() if v},
    )
    if form.is_valid():
        cleaned = form.cleaned_data
        scope.track = next((t for t in tracks if t.pk == cleaned["track"]), None)
        scope.dose_level = next((lv for lv in levels if lv.pk == cleaned["dose_level"]), None)
        scope.site = next((s for s in sites if s.pk == cleaned["site"]), None)
        scope.date_from = cleaned["date_from"]
        scope.date_to = cleaned["date_to"]
    return scope


def scoped_subjects(user, scope: Scope):
    """Enrolled subjects (a cohort assigned) of the study under the filters, voided left out."""
    subjects = restrict(
        Subject.objects.filter(study=scope.study, cohort__isnull=False), user
    ).select_related("site", "cohort__dose_level", "cohort__track__regimen", "dlt_status")
    if scope.site:
        subjects = subjects.filter(site=scope.site)
    if scope.track:
        subjects = subjects.filter(cohort__track=scope.track)
    if scope.dose_level:
        subjects = subjects.filter(cohort__dose_level=scope.dose_level)
    return subjects.order_by("cohort__number", "enrollment_date", "subject_number")


def subject_url(subject_id: int) -> str:
    return reverse("subject_detail", args=[subject_id])


def loaded_doses() -> Prefetch:
    """Each subject's doses as `loaded_doses`, in the order given."""
    return Prefetch(
        "dose_administrations",
        queryset=DoseAdministration.objects.order_by("administered_on", "cycle", "day"),
        to_attr="loaded_doses",
    )


def loaded_events(queryset) -> Prefetch:
    """Each subject's adverse events of `queryset` as `loaded_events`, by onset."""
    return Prefetch(
        "adverse_events", queryset=queryset.order_by("onset_date", "id"), to_attr="loaded_events"
    )


def regimen_order(tracks: list[EscalationTrack]) -> dict[int, int]:
    """Regimens in the order of the study's tracks (Q3W escalation first for MIL97)."""
    order: dict[int, int] = {}
    for track in tracks:
        order.setdefault(track.regimen_id, len(order))
    return order
