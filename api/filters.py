"""List filters for pulling data: study, site, cohort, dose level, date ranges, `updated_since`.

Filters narrow what the caller may already see (the queryset is scoped before filtering), so a
filter on another site's id simply returns nothing. Every value is validated: a malformed one is
a 400 that names the parameter, never a database error.

Voided records: left out of lists unless `include_voided=true`, and always included when
`updated_since` is given, because a void is a change an incremental pull must learn of.

Values are read strictly, as the OpenAPI document states them: booleans are `true` or `false`,
dates ISO 8601 extended (YYYY-MM-DD), times ISO 8601 / RFC 3339, ids ASCII digits. A parameter
given empty is refused (give a value or leave it out) rather than read as "no filter": a pull
written `?serious=yes` or `?updated_since=` must hear that it filters nothing.
"""

import re
import unicodedata
from datetime import UTC, date

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
ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)
# RFC 3339 / ISO 8601 extended: date, "T" (or a space), hh:mm[:ss[.fraction]], optional offset.
ISO_DATE_TIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,9})?)?"
    r"(?:[Zz]|[+-][0-9]{2}:?[0-9]{2})?",
    re.ASCII,
)
EMPTY = "Give a value, or leave the parameter out."


class AsciiIntegerField(forms.IntegerField):
    """Digits 0-9 only (int() also reads other scripts' digits, e.g. Arabic-Indic)."""

    def to_python(self, value):
        if isinstance(value, str) and value.strip() and not value.strip().isascii():
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return super().to_python(value)


class IdField(AsciiIntegerField):
    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(**kwargs)


@extend_schema_field({"type": "integer", "minimum": 1, "maximum": MAX_ID})
class IdFilter(filters.Filter):
    field_class = IdField


@extend_schema_field({"type": "integer", "minimum": 1, "maximum": 5})
class GradeFilter(filters.Filter):
    field_class = AsciiIntegerField

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
            if value and not ISO_DATE_TIME.fullmatch(value):
                raise forms.ValidationError(
                    "Give an ISO 8601 time, e.g. 2026-11-20T09:30:00Z.", code="invalid"
                )
        value = super().to_python(value)
        if value is None:
            return None
        try:
            return value.astimezone(UTC)
        except (OverflowError, ValueError):
            raise forms.ValidationError("This time is out of range.", code="invalid") from None


class UtcDateTimeFilter(filters.IsoDateTimeFilter):
    field_class = UtcIsoDateTimeField


class IsoDateField(forms.DateField):
    """YYYY-MM-DD only: not the locale formats Django's DateField also reads (11/23/2026), not
    ISO 8601's basic (20261123) or week (2026-W47-1) forms."""

    def to_python(self, value):
        if isinstance(value, str):
            value = value.strip()
            if not value:
                return None
            if not ISO_DATE.fullmatch(value):
                raise forms.ValidationError("Give the date as YYYY-MM-DD.", code="invalid")
            try:
                return date.fromisoformat(value)
            except ValueError:
                raise forms.ValidationError("Not a date of the calendar.", code="invalid") from None
        return super().to_python(value)


class DateFilter(filters.DateFilter):
    field_class = IsoDateField


class StrictBooleanField(forms.Field):
    def to_python(self, value):
        if value in (None, ""):
            return None
        if value in ("true", "false"):
            return value == "true"
        raise forms.ValidationError("Give true or false.", code="invalid")


@extend_schema_field({"type": "boolean"})
class BooleanFilter(filters.BooleanFilter):
    """true or false, and nothing else (django-filter's own reads any other value, "yes"
    included, as "no filter")."""

    field_class = StrictBooleanField


class ScreeningNumberFilter(filters.CharFilter):
    """Matches as registration compares: Unicode NFKC, case ignored."""

    def filter(self, qs, value):
        if value in (None, ""):
            return qs
        return qs.filter(screening_number__iexact=unicodedata.normalize("NFKC", value).strip())


class StrictFilterForm(forms.Form):
    """Every filter form: a parameter sent empty is refused, except free-text ones."""

    def clean(self):
        cleaned = super().clean()
        for name, field in self.fields.items():
            if isinstance(field, forms.CharField):
                continue
            if name in self.data and self.data.get(name) == "":
                self.add_error(name, forms.ValidationError(EMPTY, code="empty"))
        return cleaned


class StrictFilterSet(filters.FilterSet):
    def get_form_class(self):
        fields = {name: filter_.field for name, filter_ in self.filters.items()}
        return type(f"{type(self).__name__}Form", (StrictFilterForm,), fields)


def id_filter(field_name: str, help_text: str) -> IdFilter:
    return IdFilter(field_name=field_name, label=help_text)


class StudyConfigFilterSet(StrictFilterSet):
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


class ClinicalFilterSet(StrictFilterSet):
    updated_since = UtcDateTimeFilter(
        field_name="updated_at",
        lookup_expr="gte",
        label="Records created, changed or voided at or after this time (ISO 8601 with "
        "offset); voided records are included.",
    )
    include_voided = BooleanFilter(
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
    screening_number = ScreeningNumberFilter(max_length=30)
    enrolled_from = DateFilter(
        field_name="enrollment_date", lookup_expr="gte", label="Enrolled on or after this date."
    )
    enrolled_to = DateFilter(
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
    administered_from = DateFilter(
        field_name="administered_on",
        lookup_expr="gte",
        label="Given on or after this date (the site's date).",
    )
    administered_to = DateFilter(
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
    onset_from = DateFilter(
        field_name="onset_date", lookup_expr="gte", label="Onset on or after this date."
    )
    onset_to = DateFilter(
        field_name="onset_date", lookup_expr="lte", label="Onset on or before this date."
    )
    grade_min = GradeFilter(field_name="grade", lookup_expr="gte", label="Grade at least this.")
    serious = BooleanFilter(label="Serious adverse events only (true) or none (false).")
    meddra_code = IdFilter(field_name="ctcae_term__meddra_code", label="CTCAE term by MedDRA code.")

    class Meta:
        model = AdverseEvent
        fields: list[str] = []


class RecommendationFilterSet(StrictFilterSet):
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


class CommitteeDecisionFilterSet(StrictFilterSet):
    study = id_filter("track__study_id", "Only this study's decisions (id).")
    track = id_filter("track_id", "Only this escalation track's decisions (id).")
    outcome = filters.ChoiceFilter(choices=CommitteeDecision.Outcome.choices)
    decided_since = UtcDateTimeFilter(
        field_name="decided_at", lookup_expr="gte", label="Decided at or after this time."
    )

    class Meta:
        model = CommitteeDecision
        fields: list[str] = []


class DltEvaluationFilterSet(StrictFilterSet):
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
