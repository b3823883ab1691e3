"""List filters for pulling data: study, site, cohort, dose level, date ranges, `updated_since`.

Filters narrow what the caller may already see (the queryset is scoped before filtering), so a
filter on another site's id simply returns nothing. Every value is validated: a malformed one is
a 400 that names the parameter, never a database error.

Voided records: left out of lists unless `include_voided=true`, and always included when
`updated_since` is given, because a void is a change an incremental pull must learn of.
"""

import re
from datetime import UTC

import django_filters as filters
from django import forms
from django_filters.fields import IsoDateTimeField
from drf_spectacular.utils import extend_schema_field

from dosing.models import DoseAdministration
from escalation.models import CommitteeDecision, Recommendation, SubjectDltStatus
from safety.models import AdverseEvent
from subjects.models import Subject
from trial.models import Cohort, DoseLevel, Regimen, Site

MAX_ID = 2**63 - 1


class IdField(forms.IntegerField):
    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(**kwargs)


@extend_schema_field({"type": "integer", "minimum": 1, "maximum": MAX_ID})
class IdFilter(filters.Filter):
    field_class = IdField


@extend_schema_field({"type": "integer", "minimum": 1, "maximum": 5})
class GradeFilter(filters.Filter):
    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.extra.update(min_value=1, max_value=5)


UNENCODED_PLUS = re.compile(r"^(\d{4}-\d\d-\d\dT[\d:.]+) (\d\d:?\d\d)$")


class UtcIsoDateTimeField(IsoDateTimeField):
    """ISO 8601, turned into UTC before it reaches the database (PostgreSQL refuses offsets
    beyond +/-15:59 that Python accepts); a time without offset is read as UTC."""

    def to_python(self, value):
        if isinstance(value, str):
            # An unencoded "+01:00" in a query string arrives as " 01:00": read it as meant.
            value = UNENCODED_PLUS.sub(r"\1+\2", value.strip())
        value = super().to_python(value)
        if value is None:
            return None
        try:
            return value.astimezone(UTC)
        except (OverflowError, ValueError):
            raise forms.ValidationError("This time is out of range.", code="invalid") from None


class UtcDateTimeFilter(filters.IsoDateTimeFilter):
    field_class = UtcIsoDateTimeField


def id_filter(field_name: str, help_text: str) -> IdFilter:
    return IdFilter(field_name=field_name, label=help_text)


class StudyConfigFilterSet(filters.FilterSet):
    study = id_filter("study_id", "Only this study's records (id).")


class SiteFilterSet(StudyConfigFilterSet):
    class Meta:
        model = Site
        fields: list[str] = []


class RegimenFilterSet(StudyConfigFilterSet):
    class Meta:
        model = Regimen
        fields: list[str] = []


class DoseLevelFilterSet(StudyConfigFilterSet):
    class Meta:
        model = DoseLevel
        fields: list[str] = []


class CohortFilterSet(StudyConfigFilterSet):
    track = id_filter("track_id", "Only this escalation track's cohorts (id).")
    dose_level = id_filter("dose_level_id", "Only cohorts at this dose level (id).")
    status = filters.ChoiceFilter(choices=Cohort.Status.choices)

    class Meta:
        model = Cohort
        fields: list[str] = []


class ClinicalFilterSet(filters.FilterSet):
    updated_since = UtcDateTimeFilter(
        field_name="updated_at",
        lookup_expr="gte",
        label="Records created, changed or voided at or after this time (ISO 8601 with "
        "offset); voided records are included.",
    )
    include_voided = filters.BooleanFilter(
        method="keep_voided",
        label="Include voided records (always included with updated_since).",
    )

    def keep_voided(self, queryset, name, value: bool):
        return queryset  # applied in filter_queryset, which sees every parameter

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        data = self.form.cleaned_data
        if not data.get("include_voided") and data.get("updated_since") is None:
            queryset = queryset.filter(voided_at__isnull=True)
        return queryset


class SubjectFilterSet(ClinicalFilterSet):
    study = id_filter("study_id", "Only this study's subjects (id).")
    site = id_filter("site_id", "Only this site's subjects (id).")
    cohort = id_filter("cohort_id", "Only this cohort's subjects (id).")
    dose_level = id_filter("cohort__dose_level_id", "Only subjects at this dose level (id).")
    status = filters.ChoiceFilter(choices=Subject.Status.choices)
    subject_number = filters.CharFilter(max_length=30)
    screening_number = filters.CharFilter(max_length=30)
    enrolled_from = filters.DateFilter(
        field_name="enrollment_date", lookup_expr="gte", label="Enrolled on or after this date."
    )
    enrolled_to = filters.DateFilter(
        field_name="enrollment_date", lookup_expr="lte", label="Enrolled on or before this date."
    )

    class Meta:
        model = Subject
        fields: list[str] = []


class DoseAdministrationFilterSet(ClinicalFilterSet):
    study = id_filter("subject__study_id", "Only this study's doses (id).")
    site = id_filter("subject__site_id", "Only this site's doses (id).")
    cohort = id_filter("cohort_id", "Only doses given in this cohort (id).")
    dose_level = id_filter("planned_dose_level_id", "Only doses planned at this dose level (id).")
    subject = id_filter("subject_id", "Only this subject's doses (id).")
    administered_from = filters.DateFilter(
        field_name="administered_on",
        lookup_expr="gte",
        label="Given on or after this date (the site's date).",
    )
    administered_to = filters.DateFilter(
        field_name="administered_on",
        lookup_expr="lte",
        label="Given on or before this date (the site's date).",
    )

    class Meta:
        model = DoseAdministration
        fields: list[str] = []


class AdverseEventFilterSet(ClinicalFilterSet):
    study = id_filter("subject__study_id", "Only this study's adverse events (id).")
    site = id_filter("subject__site_id", "Only this site's adverse events (id).")
    cohort = id_filter("subject__cohort_id", "Only adverse events of this cohort's subjects (id).")
    dose_level = id_filter(
        "subject__cohort__dose_level_id",
        "Only adverse events of subjects at this dose level (id).",
    )
    subject = id_filter("subject_id", "Only this subject's adverse events (id).")
    onset_from = filters.DateFilter(
        field_name="onset_date", lookup_expr="gte", label="Onset on or after this date."
    )
    onset_to = filters.DateFilter(
        field_name="onset_date", lookup_expr="lte", label="Onset on or before this date."
    )
    grade_min = GradeFilter(field_name="grade", lookup_expr="gte", label="Grade at least this.")
    serious = filters.BooleanFilter(label="Serious adverse events only (true) or none (false).")
    meddra_code = IdFilter(field_name="ctcae_term__meddra_code", label="CTCAE term by MedDRA code.")

    class Meta:
        model = AdverseEvent
        fields: list[str] = []


class RecommendationFilterSet(filters.FilterSet):
    study = id_filter("track__study_id", "Only this study's recommendations (id).")
    track = id_filter("track_id", "Only this escalation track's recommendations (id).")
    dose_level = id_filter("dose_level_id", "Only recommendations naming this dose level (id).")
    status = filters.ChoiceFilter(choices=Recommendation.Status.choices)
    created_since = UtcDateTimeFilter(
        field_name="created_at", lookup_expr="gte", label="Made at or after this time."
    )

    class Meta:
        model = Recommendation
        fields: list[str] = []


class CommitteeDecisionFilterSet(filters.FilterSet):
    study = id_filter("track__study_id", "Only this study's decisions (id).")
    track = id_filter("track_id", "Only this escalation track's decisions (id).")
    outcome = filters.ChoiceFilter(choices=CommitteeDecision.Outcome.choices)
    decided_since = UtcDateTimeFilter(
        field_name="decided_at", lookup_expr="gte", label="Decided at or after this time."
    )

    class Meta:
        model = CommitteeDecision
        fields: list[str] = []


class DltEvaluationFilterSet(filters.FilterSet):
    study = id_filter("subject__study_id", "Only this study's subjects (id).")
    site = id_filter("subject__site_id", "Only this site's subjects (id).")
    cohort = id_filter("subject__cohort_id", "Only this cohort's subjects (id).")
    track = id_filter("track_id", "Only this escalation track (id).")
    status = filters.ChoiceFilter(choices=SubjectDltStatus.Status.choices)
    evaluated_since = UtcDateTimeFilter(
        field_name="evaluated_at",
        lookup_expr="gte",
        label="Evaluations whose result changed at or after this time.",
    )

    class Meta:
        model = SubjectDltStatus
        fields: list[str] = []
