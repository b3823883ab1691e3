"""/api/v1/ resources of the efficacy app: tumour assessments, lesions, lesion observations
(with `updated_since`, history and CSV like every clinical record; written through the same
services as the pages, efficacy/services.py), and each subject's derived RECIST responses and
time-to-event endpoints, computed by `efficacy.rules` when read (docs/efficacy.md §15)."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import Exists, F, OuterRef, Q
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers, viewsets
from rest_framework.response import Response

from accounts.scoping import member_study_ids
from api import filters
from api.inputs import (
    AsciiDecimalField,
    CorrectionInput,
    ScopedPrimaryKey,
    StrictInput,
    day_field,
)
from api.serializers import ClinicalRecordFields, FlatRowSerializer, SubjectColumns
from api.views.base import (
    VOID_REASON,
    ApiViewMixin,
    ClinicalWriteViewSet,
    HistoryMixin,
    ScopedReadViewSet,
)
from dosing.models import DoseAdministration
from subjects.models import Subject
from visits.models import SurvivalContact, Visit

from . import selectors, services
from .models import (
    METHOD_CHOICES,
    RESPONSE_CHOICES,
    STATUS_CHOICES,
    Lesion,
    LesionObservation,
    TumourAssessment,
)
from .services import settings_for

# ---------------------------------------------------------------------------------------------
# Filters


class TumourAssessmentFilterSet(filters.ClinicalFilterSet):
    study = filters.id_filter("subject__study_id", "Only this study's assessments (id).")
    site = filters.id_filter("subject__site_id", "Only this site's assessments (id).")
    subject = filters.id_filter("subject_id", "Only this subject's assessments (id).")
    kind = filters.filters.ChoiceFilter(choices=TumourAssessment.Kind.choices)

    class Meta:
        model = TumourAssessment
        fields: list[str] = []


class LesionFilterSet(filters.ClinicalFilterSet):
    study = filters.id_filter("subject__study_id", "Only this study's lesions (id).")
    site = filters.id_filter("subject__site_id", "Only this site's lesions (id).")
    subject = filters.id_filter("subject_id", "Only this subject's lesions (id).")
    role = filters.filters.ChoiceFilter(choices=Lesion.Role.choices)

    class Meta:
        model = Lesion
        fields: list[str] = []


class LesionObservationFilterSet(filters.ClinicalFilterSet):
    study = filters.id_filter("assessment__subject__study_id", "Only this study's (id).")
    site = filters.id_filter("assessment__subject__site_id", "Only this site's (id).")
    subject = filters.id_filter("assessment__subject_id", "Only this subject's (id).")
    assessment = filters.id_filter("assessment_id", "Only this assessment's (id).")
    lesion = filters.id_filter("lesion_id", "Only this lesion's (id).")

    class Meta:
        model = LesionObservation
        fields: list[str] = []


class SubjectEfficacyFilterSet(filters.StrictFilterSet):
    study = filters.id_filter("study_id", "Only this study's subjects (id).")
    site = filters.id_filter("site_id", "Only this site's subjects (id).")
    dose_level = filters.id_filter(
        "cohort__dose_level_id", "Only subjects at this dose level (id)."
    )
    updated_since = filters.UtcDateTimeFilter(
        method="changed_since",
        label="Subjects whose derived values may have changed at or after this time (ISO 8601 "
        "with offset): a tumour assessment, lesion observation, dose, visit, survival contact "
        "or the subject itself created, changed or voided then.",
    )

    class Meta:
        model = Subject
        fields: list[str] = []

    def changed_since(self, queryset, name, value):
        assessments = TumourAssessment.all_objects.filter(
            subject=OuterRef("pk"), updated_at__gte=value
        )
        observations = LesionObservation.all_objects.filter(
            assessment__subject=OuterRef("pk"), updated_at__gte=value
        )
        # The first and last dose, the visits done and the survival contacts (new anticancer
        # therapy, last known alive) move the endpoints too (docs/efficacy.md §15).
        others = [
            model.all_objects.filter(subject=OuterRef("pk"), updated_at__gte=value)
            for model in (DoseAdministration, Visit, SurvivalContact)
        ]
        changed = Q(updated_at__gte=value) | Q(Exists(assessments)) | Q(Exists(observations))
        for rows in others:
            changed |= Q(Exists(rows))
        return queryset.filter(changed)


# ---------------------------------------------------------------------------------------------
# Serializers


class TumourAssessmentSerializer(ClinicalRecordFields, SubjectColumns, FlatRowSerializer):
    class Meta:
        model = TumourAssessment
        fields = [
            "id", "study", "site", "site_number", "subject", "subject_number", "kind",
            "assessed_on", "method", "slice_thickness_mm", "tumour_markers",
            "investigator_response", "comment", *ClinicalRecordFields.AUDIT_FIELDS,
        ]  # fmt: skip


class LesionSerializer(ClinicalRecordFields, SubjectColumns, FlatRowSerializer):
    class Meta:
        model = Lesion
        fields = [
            "id", "study", "site", "site_number", "subject", "subject_number", "code", "role",
            "organ", "location", "nodal", "measurable_by_nature", "first_seen",
            *ClinicalRecordFields.AUDIT_FIELDS,
        ]  # fmt: skip


class LesionObservationSerializer(ClinicalRecordFields, FlatRowSerializer):
    subject = serializers.IntegerField(source="api_subject", read_only=True)
    subject_number = serializers.CharField(
        source="api_subject_number", read_only=True, allow_null=True
    )
    assessed_on = serializers.DateField(source="api_assessed_on", read_only=True)
    lesion_code = serializers.CharField(source="api_lesion_code", read_only=True)
    lesion_role = serializers.CharField(source="api_lesion_role", read_only=True)
    merged_into_code = serializers.CharField(
        source="api_merged_into_code", read_only=True, allow_null=True
    )
    parts_mm = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = LesionObservation
        fields = [
            "id", "subject", "subject_number", "assessment", "assessed_on", "lesion",
            "lesion_code", "lesion_role", "status", "size_mm", "parts_mm", "merged_into",
            "merged_into_code", *ClinicalRecordFields.AUDIT_FIELDS,
        ]  # fmt: skip


class TimeToEventSerializer(serializers.Serializer):
    days = serializers.IntegerField()
    event = serializers.BooleanField()
    cnsr = serializers.IntegerField(help_text="ADaM CNSR: 0 = event, else the censoring rule.")
    start_on = serializers.DateField()
    end_on = serializers.DateField(help_text="Date of the event or of censoring.")
    description = serializers.CharField(help_text="ADaM EVNTDESC or CNSDTDSC.")
    reason = serializers.CharField()


class TimePointSerializer(serializers.Serializer):
    assessed_on = serializers.DateField()
    response = serializers.CharField(help_text="Computed overall response (RECIST 1.1).")
    rule = serializers.CharField()
    reason = serializers.CharField()
    investigator_response = serializers.CharField(allow_null=True)
    agrees_with_investigator = serializers.BooleanField(allow_null=True)
    sum_mm = serializers.DecimalField(max_digits=7, decimal_places=1, allow_null=True)
    change_from_baseline_pct = serializers.DecimalField(
        max_digits=7, decimal_places=1, allow_null=True
    )
    change_from_nadir_pct = serializers.DecimalField(
        max_digits=7, decimal_places=1, allow_null=True
    )
    adequate = serializers.BooleanField()


def _time_point(point) -> dict:
    target = point.target
    return {
        "assessed_on": point.assessed_on,
        "response": point.response.value,
        "rule": point.rule.value,
        "reason": point.reason,
        "investigator_response": point.investigator_response.value
        if point.investigator_response
        else None,
        "agrees_with_investigator": point.agrees_with_investigator,
        "sum_mm": target.sum_mm if target else None,
        "change_from_baseline_pct": target.change_from_baseline_pct if target else None,
        "change_from_nadir_pct": target.change_from_nadir_pct if target else None,
        "adequate": point.adequate,
    }


def _tte(record) -> dict | None:
    if record is None:
        return None
    return {
        "days": record.days,
        "event": record.event,
        "cnsr": record.cnsr,
        "start_on": record.start_on,
        "end_on": record.end_on,
        "description": record.description,
        "reason": record.reason,
    }


class SubjectEfficacySerializer(serializers.Serializer):
    """Read from `efficacy` attached to each subject of the page by the view."""

    subject = serializers.IntegerField(source="pk")
    subject_number = serializers.CharField(allow_null=True)
    study = serializers.IntegerField(source="study_id")
    site = serializers.IntegerField(source="site_id")
    dose_level = serializers.CharField()
    first_dose_on = serializers.DateField(allow_null=True)
    new_therapy_on = serializers.DateField(
        allow_null=True,
        help_text="Start of the earliest new anticancer therapy a survival contact reported "
        "(on or after the first dose): BOR counting stops there, PFS and DoR are censored.",
    )
    last_known_alive_on = serializers.DateField(
        allow_null=True,
        help_text="Latest of the survival contacts, visits done, doses and tumour assessments "
        "(null after a death): OS is censored there.",
    )
    baseline_sum_mm = serializers.DecimalField(max_digits=7, decimal_places=1, allow_null=True)
    best_overall_response = serializers.CharField(allow_null=True)
    best_overall_response_rule = serializers.CharField(allow_null=True)
    best_overall_response_reason = serializers.CharField(allow_null=True)
    confirmed_on = serializers.DateField(allow_null=True)
    response_started_on = serializers.DateField(allow_null=True)
    best_change_pct = serializers.DecimalField(max_digits=7, decimal_places=1, allow_null=True)
    disagreements = serializers.IntegerField(
        help_text="Time points whose computed response differs from the investigator's."
    )
    time_points = TimePointSerializer(many=True)
    pfs = TimeToEventSerializer(allow_null=True)
    os = TimeToEventSerializer(allow_null=True)
    dor = TimeToEventSerializer(allow_null=True)
    settings = serializers.CharField(help_text="The RECIST and endpoint settings applied.")
    note = serializers.CharField(help_text="Why a value is missing (no baseline, no dose).")
    rules_version = serializers.CharField()

    def to_representation(self, instance):
        item: selectors.SubjectEfficacy = instance.efficacy
        best = item.best
        return {
            "subject": item.subject.pk,
            "subject_number": item.subject.subject_number,
            "study": item.subject.study_id,
            "site": item.subject.site_id,
            "dose_level": item.dose_level,
            "first_dose_on": _date(item.first_dose_on),
            "new_therapy_on": _date(item.new_therapy_on),
            "last_known_alive_on": _date(item.last_known_alive_on),
            "baseline_sum_mm": _decimal(item.baseline_sum),
            "best_overall_response": best.response.value if best else None,
            "best_overall_response_rule": best.rule.value if best else None,
            "best_overall_response_reason": best.reason if best else None,
            "confirmed_on": _date(best.confirmed_on) if best else None,
            "response_started_on": _date(best.response_started_on) if best else None,
            "best_change_pct": _decimal(item.best_change_pct),
            "disagreements": len(item.disagreements),
            "time_points": TimePointSerializer(
                [_time_point(p) for p in item.time_points], many=True
            ).data,
            "pfs": _tte_data(item.pfs),
            "os": _tte_data(item.os),
            "dor": _tte_data(item.dor),
            "settings": f"{item.settings.recist().describe()}; "
            f"{item.settings.endpoints().describe()}",
            "note": "; ".join(n for n in (item.evaluation.problem, *item.notes) if n),
            "rules_version": best.rules_version if best else _rules_version(),
        }


def _rules_version() -> str:
    from .rules import RULES_VERSION

    return RULES_VERSION


def _date(value):
    return value.isoformat() if value else None


def _decimal(value):
    return None if value is None else f"{value:.1f}"


def _tte_data(record):
    data = _tte(record)
    return None if data is None else TimeToEventSerializer(data).data


# ---------------------------------------------------------------------------------------------
# Inputs (parsing only: every RECIST rule is the service's)


def _mm(**kwargs):
    return AsciiDecimalField(
        max_digits=4, decimal_places=1, min_value=Decimal("0"), allow_null=True, **kwargs
    )


class LesionRowInput(StrictInput):
    """One lesion of an assessment. At baseline: code, role, organ (location, nodal,
    measurable_by_nature) and, for a target, size_mm. At follow-up: each baseline lesion by its
    code with its status (size_mm for a measured target, parts_mm for a split, merged_into for
    a merged one), and each new lesion with role "new", its organ and status."""

    code = serializers.CharField(max_length=10, help_text="The lesion's stable code: T1, NT2.")
    role = serializers.ChoiceField(
        choices=Lesion.Role.choices,
        required=False,
        help_text="Baseline: target or non-target. Follow-up: only a lesion first seen now "
        '("new").',
    )
    organ = serializers.CharField(max_length=60, required=False, allow_blank=True)
    location = serializers.CharField(max_length=200, required=False, allow_blank=True)
    nodal = serializers.BooleanField(required=False, help_text="A lymph node (short axis).")
    measurable_by_nature = serializers.BooleanField(
        required=False,
        help_text="false for lesions RECIST never measures (bone without soft tissue, "
        "effusions...). Default true.",
    )
    size_mm = _mm(
        required=False,
        help_text="mm, to 0.1: longest diameter, short axis for a lymph node.",
    )
    status = serializers.ChoiceField(
        choices=STATUS_CHOICES,
        required=False,
        help_text="Follow-up: a target's measured, too small, gone, split, merged or not "
        "evaluated; a non-target's present, absent, unequivocal progression or not evaluated; "
        "a new lesion's unequivocal or equivocal.",
    )
    parts_mm = serializers.ListField(
        child=_mm(), required=False, max_length=10, help_text="A split target's parts (mm)."
    )
    merged_into = serializers.CharField(
        max_length=10,
        required=False,
        allow_blank=True,
        help_text="A merged target: the code of the target that now holds the mass.",
    )


class TumourAssessmentFields(StrictInput):
    assessed_on = day_field(help_text="The date of the scan.")
    method = serializers.ChoiceField(choices=METHOD_CHOICES)
    slice_thickness_mm = AsciiDecimalField(
        max_digits=4,
        decimal_places=1,
        min_value=Decimal("0.1"),
        required=False,
        allow_null=True,
        help_text="CT/MRI reconstruction interval; empty = 5 mm or less.",
    )
    tumour_markers = serializers.ChoiceField(
        choices=TumourAssessment.Markers.choices, required=False, allow_blank=True
    )
    investigator_response = serializers.ChoiceField(
        choices=RESPONSE_CHOICES,
        required=False,
        allow_blank=True,
        help_text="The investigator's overall response (RECIST 1.1), for a follow-up.",
    )
    comment = serializers.CharField(max_length=4000, required=False, allow_blank=True)


class TumourAssessmentCreateInput(TumourAssessmentFields):
    subject = ScopedPrimaryKey(Subject)
    kind = serializers.ChoiceField(choices=TumourAssessment.Kind.choices)
    lesions = LesionRowInput(many=True, help_text="Every lesion at this assessment.")


class TumourAssessmentUpdateInput(CorrectionInput, TumourAssessmentFields):
    editable_fields = tuple(sorted(services.ASSESSMENT_FIELDS))


class LesionUpdateInput(CorrectionInput):
    editable_fields = services.LESION_FIELDS
    organ = serializers.CharField(max_length=60)
    location = serializers.CharField(max_length=200, allow_blank=True)
    nodal = serializers.BooleanField()
    measurable_by_nature = serializers.BooleanField()


class LesionObservationUpdateInput(CorrectionInput):
    editable_fields = tuple(sorted(services.OBSERVATION_FIELDS))
    status = serializers.ChoiceField(choices=STATUS_CHOICES)
    size_mm = _mm(help_text="mm, to 0.1 (null: not measured).")
    parts_mm = serializers.ListField(
        child=_mm(), max_length=10, help_text="A split target's parts (mm)."
    )
    merged_into = ScopedPrimaryKey(
        Lesion, allow_null=True, help_text="A merged target: the target (id) holding the mass."
    )


def _correct(summary, request, response):
    return extend_schema(
        summary=summary,
        description="Changes only the fields sent, with a `reason` kept in the audit history; "
        "the subject's whole RECIST record is checked again. Needs If-Match with the ETag of "
        "the version edited.",
        request=request,
        responses={200: response},
    )


# ---------------------------------------------------------------------------------------------
# Views


@extend_schema_view(
    list=extend_schema(summary="Tumour assessments (RECIST 1.1; a site role sees its own sites')"),
    retrieve=extend_schema(summary="A tumour assessment"),
    create=extend_schema(
        summary="Record a baseline or follow-up tumour assessment with every lesion",
        description="The whole assessment or nothing: each lesion is checked (measurability, "
        "at most 5 targets and 2 per organ, every baseline lesion at each follow-up, ...), then "
        "the subject's whole record with it by the RECIST 1.1 rules core; a refusal names the "
        "field (`lesions[i].size_mm`) and the rule. A follow-up needs the baseline, a first "
        "dose and the investigator's response.",
        request=TumourAssessmentCreateInput,
        responses={201: TumourAssessmentSerializer},
    ),
    partial_update=_correct(
        "Correct a tumour assessment's date, method, markers, response or comment",
        TumourAssessmentUpdateInput,
        TumourAssessmentSerializer,
    ),
    destroy=extend_schema(
        summary="Void a tumour assessment entered in error",
        description="With its observations and the lesions first seen there (they stay on "
        "record, voided). A baseline is voided only once no follow-up depends on it. Needs "
        "If-Match.",
        parameters=[VOID_REASON],
        request=None,
        responses={200: TumourAssessmentSerializer},
    ),
)
class TumourAssessmentViewSet(HistoryMixin, ClinicalWriteViewSet):
    serializer_class = TumourAssessmentSerializer
    filterset_class = TumourAssessmentFilterSet
    create_input = TumourAssessmentCreateInput
    update_input = TumourAssessmentUpdateInput
    detail_route_name = "api:tumour-assessment-detail"
    record_argument = "assessment"
    update_service = staticmethod(services.tumour_assessment_update)
    void_service = staticmethod(services.tumour_assessment_void)

    def base_queryset(self):
        return TumourAssessment.all_objects.annotate(**SubjectColumns.ANNOTATIONS)

    def service_create(self, data):
        data["lesions"] = [dict(row) for row in data["lesions"]]
        return services.tumour_assessment_record(by=self.request.user, **data)


@extend_schema_view(
    list=extend_schema(summary="Lesions followed across tumour assessments"),
    retrieve=extend_schema(summary="A lesion"),
    partial_update=_correct(
        "Correct a lesion's organ, location, lymph-node flag or measurability by nature",
        LesionUpdateInput,
        LesionSerializer,
    ),
)
class LesionViewSet(HistoryMixin, ClinicalWriteViewSet):
    """Lesions are recorded with their assessment (POST tumour-assessments) and leave with it
    (its void); here only their description is corrected."""

    http_method_names = ["get", "patch", "head", "options"]
    serializer_class = LesionSerializer
    filterset_class = LesionFilterSet
    update_input = LesionUpdateInput
    record_argument = "lesion"
    update_service = staticmethod(services.lesion_update)

    def base_queryset(self):
        return Lesion.all_objects.annotate(**SubjectColumns.ANNOTATIONS)


@extend_schema_view(
    list=extend_schema(summary="Each lesion at each tumour assessment: size or status"),
    retrieve=extend_schema(summary="A lesion at one assessment"),
    partial_update=_correct(
        "Correct one lesion at one assessment: status, size, split parts or merge",
        LesionObservationUpdateInput,
        LesionObservationSerializer,
    ),
)
class LesionObservationViewSet(HistoryMixin, ClinicalWriteViewSet):
    """Recorded with their assessment (POST tumour-assessments) and voided with it."""

    http_method_names = ["get", "patch", "head", "options"]
    serializer_class = LesionObservationSerializer
    filterset_class = LesionObservationFilterSet
    update_input = LesionObservationUpdateInput
    record_argument = "observation"
    update_service = staticmethod(services.lesion_observation_update)

    def base_queryset(self):
        return LesionObservation.all_objects.annotate(
            api_subject=F("assessment__subject_id"),
            api_subject_number=F("assessment__subject__subject_number"),
            api_assessed_on=F("assessment__assessed_on"),
            api_lesion_code=F("lesion__code"),
            api_lesion_role=F("lesion__role"),
            api_merged_into_code=F("merged_into__code"),
        )


@extend_schema_view(
    list=extend_schema(
        summary="Each enrolled subject's derived RECIST responses and endpoints",
        description="Computed when read from the tumour assessments (docs/efficacy.md): every "
        "time point's computed response with its rule and reason beside the investigator's, "
        "the best overall response, and PFS, OS and duration of response with the event or "
        "censoring date and reason.",
    ),
    retrieve=extend_schema(summary="A subject's derived RECIST responses and endpoints"),
)
class SubjectEfficacyViewSet(ScopedReadViewSet):
    serializer_class = SubjectEfficacySerializer
    filterset_class = SubjectEfficacyFilterSet

    def base_queryset(self):
        return Subject.objects.filter(cohort__isnull=False).select_related(
            "site", "cohort__dose_level"
        )

    def _attach(self, subjects):
        subjects = list(subjects)
        by_study: dict[int, list] = {}
        for subject in subjects:
            by_study.setdefault(subject.study_id, []).append(subject)
        for study_id, group in by_study.items():
            derived = selectors.derive_many(group, settings_for(study_id))
            for subject in group:
                subject.efficacy = derived[subject.pk]
        return subjects

    def paginate_queryset(self, queryset):
        page = super().paginate_queryset(queryset)
        return None if page is None else self._attach(page)

    def get_object(self):
        subject = super().get_object()
        self._attach([subject])
        return subject


# --- Study-level endpoints: response rates and survival medians ------------------------------


class EfficacyRateSerializer(serializers.Serializer):
    study = serializers.IntegerField()
    group = serializers.CharField(help_text='A dose level, or "All dose levels".')
    n = serializers.IntegerField(help_text="Treated subjects with measurable disease at baseline.")
    orr_responders = serializers.IntegerField(allow_null=True)
    orr_denominator = serializers.IntegerField(allow_null=True)
    orr_percent = serializers.FloatField(allow_null=True)
    orr_ci_lower_percent = serializers.FloatField(allow_null=True)
    orr_ci_upper_percent = serializers.FloatField(allow_null=True)
    dcr_controlled = serializers.IntegerField(allow_null=True)
    dcr_denominator = serializers.IntegerField(allow_null=True)
    dcr_percent = serializers.FloatField(allow_null=True)
    dcr_ci_lower_percent = serializers.FloatField(allow_null=True)
    dcr_ci_upper_percent = serializers.FloatField(allow_null=True)
    method = serializers.CharField(help_text="The interval's method (Clopper-Pearson exact).")
    denominator = serializers.CharField(help_text="Who the denominators count.")


class EfficacySurvivalSerializer(serializers.Serializer):
    study = serializers.IntegerField()
    endpoint = serializers.CharField()
    n = serializers.IntegerField()
    events = serializers.IntegerField()
    median_days = serializers.FloatField(allow_null=True, help_text="Null: not reached.")
    median_ci_lower_days = serializers.FloatField(allow_null=True)
    median_ci_upper_days = serializers.FloatField(allow_null=True, help_text="Null: not reached.")
    confidence = serializers.FloatField()
    transform = serializers.CharField(help_text="The confidence band's transform (a setting).")
    method = serializers.CharField()


class StudyEndpointsQuery(StrictInput):
    study = serializers.IntegerField(min_value=1, max_value=2**63 - 1, required=False)
    format = serializers.ChoiceField(choices=["json", "csv"], required=False)


def _percent(value) -> float | None:
    return None if value is None else round(float(value) * 100, 1)


def _rate_row(study_id: int, row: selectors.RateRow) -> dict:
    named = row.orr or row.dcr
    body: dict = {"study": study_id, "group": row.label, "n": row.n}
    for prefix, count, rate in (("orr", "responders", row.orr), ("dcr", "controlled", row.dcr)):
        body[f"{prefix}_{count}"] = None if rate is None else rate.numerator
        body[f"{prefix}_denominator"] = None if rate is None else rate.denominator
        body[f"{prefix}_percent"] = None if rate is None else _percent(rate.proportion)
        body[f"{prefix}_ci_lower_percent"] = None if rate is None else _percent(rate.interval.lower)
        body[f"{prefix}_ci_upper_percent"] = None if rate is None else _percent(rate.interval.upper)
    body["method"] = named.interval.method if named else ""
    body["denominator"] = "; ".join(
        sorted({r.denominator_name for r in (row.orr, row.dcr) if r is not None})
    )
    return body


def _days(value) -> float | None:
    return None if value is None else float(value)


def _survival_row(study_id: int, curve: selectors.Curve, conf_type: str) -> dict:
    km = curve.km
    return {
        "study": study_id,
        "endpoint": curve.name,
        "n": 0 if km is None else km.n,
        "events": 0 if km is None else km.events,
        "median_days": None if km is None else _days(km.median.estimate),
        "median_ci_lower_days": None if km is None else _days(km.median.lower),
        "median_ci_upper_days": None if km is None else _days(km.median.upper),
        "confidence": 0.95 if km is None else km.confidence,
        "transform": conf_type if km is None else km.conf_type.value,
        "method": "" if km is None else km.median.method,
    }


class _StudyEndpointsViewSet(ApiViewMixin, viewsets.GenericViewSet):
    """Computed when read from the tumour assessments, over the subjects the caller may see
    (the endpoints page's figures, docs/efficacy.md §11-§13)."""

    pagination_class = None
    filter_backends: list = []
    queryset = Subject.objects.none()

    def rows_for(self, study_id: int) -> list[dict]:
        raise NotImplementedError

    def list(self, request, *args, **kwargs):
        query = StudyEndpointsQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        studies = sorted(member_study_ids(request.user))
        wanted = query.validated_data.get("study")
        if wanted is not None:
            studies = [s for s in studies if s == wanted]
        rows = [row for study_id in studies for row in self.rows_for(study_id)]
        return Response(self.get_serializer(rows, many=True).data)


@extend_schema_view(
    list=extend_schema(
        summary="ORR and DCR per dose level and overall, with exact 95% intervals",
        description="RECIST 1.1 objective response rate (CR + PR) and disease control rate "
        "(CR + PR + SD), each with its Clopper-Pearson interval, per dose level and over all "
        "dose levels; the denominators are named.",
        parameters=[StudyEndpointsQuery],
    )
)
class EfficacyRateViewSet(_StudyEndpointsViewSet):
    serializer_class = EfficacyRateSerializer

    def rows_for(self, study_id: int) -> list[dict]:
        page = selectors.study_efficacy(self.request.user, study_id)
        return [_rate_row(study_id, row) for row in page.rates]


@extend_schema_view(
    list=extend_schema(
        summary="PFS, OS and duration of response: Kaplan-Meier medians with 95% intervals",
        description="Per study: subjects, events, the Kaplan-Meier median (null when not "
        "reached) and its Brookmeyer-Crowley interval under the study's transform setting.",
        parameters=[StudyEndpointsQuery],
    )
)
class EfficacySurvivalViewSet(_StudyEndpointsViewSet):
    serializer_class = EfficacySurvivalSerializer

    def rows_for(self, study_id: int) -> list[dict]:
        page = selectors.study_efficacy(self.request.user, study_id)
        conf_type = str(page.settings.km_conf_type)
        return [_survival_row(study_id, curve, conf_type) for curve in page.curves]
