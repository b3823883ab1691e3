"""Reads about subjects, scoped to the user through `accounts.scoping`: the subject with what
the pages show beside it, the places each cohort holds and why a cohort takes no one. The pages,
the API and the enrollment service share them, so they count the same way."""

from django.db.models import Count, IntegerField, OuterRef, Prefetch, Subquery, Value
from django.db.models.functions import Coalesce

from accounts.roles import Capability
from accounts.scoping import restrict
from trial.models import Cohort, EscalationTrack

from .models import Subject


def place_holders():
    """Subjects holding a place in their cohort: not voided, and not replaced by a (non-voided)
    replacement, whose place it is now."""
    replaced = Subject.objects.filter(replaces__isnull=False).values("replaces")
    return Subject.objects.exclude(pk__in=replaced)


def occupied_places_annotation():
    """For a Cohort queryset: `.annotate(occupied=occupied_places_annotation())`, one query."""
    counts = (
        place_holders()
        .filter(cohort=OuterRef("pk"))
        .order_by()
        .values("cohort")
        .annotate(n=Count("pk"))
        .values("n")[:1]
    )
    return Coalesce(Subquery(counts, output_field=IntegerField()), Value(0))


def cohort_closed_reason(cohort: Cohort) -> str | None:
    """Why a cohort takes no one now, in words a coordinator can act on; None when it is open."""
    if cohort.track.status == EscalationTrack.Status.PAUSED:
        return f"{cohort.track.name} is paused by the safety monitoring rule."
    if cohort.track.status not in (EscalationTrack.Status.ACTIVE,):
        return f"{cohort.track.name} is not active."
    if cohort.status == Cohort.Status.PLANNED:
        return f"{cohort} is not open yet: waiting for the Safety Review Committee's confirmation."
    if cohort.status == Cohort.Status.FULL:
        return f"{cohort} is full ({places_text(cohort.planned_size)})."
    if cohort.status == Cohort.Status.CLOSED:
        return f"{cohort} is closed."
    return None


def places_text(n: int) -> str:
    return f"{n} place" if n == 1 else f"{n} places"


def occupied_places(cohort: Cohort, *, excluding: Subject | None = None) -> int:
    """Subjects holding a place in the cohort: a replaced (non-evaluable) subject gives theirs up."""
    subjects = place_holders().filter(cohort=cohort)
    if excluding is not None:
        subjects = subjects.exclude(pk=excluding.pk)
    return subjects.count()


def replacements_prefetch() -> Prefetch:
    """The (non-voided) subject who replaced each subject, as `subject.replacements`."""
    return Prefetch(
        "replaced_by",
        queryset=Subject.objects.only(
            "id", "replaces_id", "subject_number", "screening_number", "site_id", "enrollment_date"
        ).order_by("id"),
        to_attr="replacements",
    )


# What the pages show with a subject: its site, study, cohort (dose level, regimen), DLT status and
# the subject it replaces, joined in the subject's own query.
SUBJECT_RELATED = (
    "site",
    "study",
    "cohort__dose_level",
    "cohort__track__regimen",
    "dlt_status",
    "replaces",
)


def cohorts_with_places(queryset):
    """The cohorts with their dose level, track and regimen joined, and `occupied`: the places
    held (`subjects.selectors.occupied_places_annotation`), in the one query."""
    return queryset.select_related("dose_level", "track__regimen").annotate(
        occupied=occupied_places_annotation()
    )


def subject_for(user, pk: int, capability: Capability = Capability.VIEW):
    """The subject, scoped to the user (another site's subject is not found)."""
    return restrict(Subject.objects.select_related(*SUBJECT_RELATED), user, capability).get(pk=pk)
