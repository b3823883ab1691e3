"""Reads about subjects that several pages and the API share, so they count the same way."""

from django.db.models import Count, IntegerField, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce

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
