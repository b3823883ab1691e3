"""What the API returns: one flat row per record (so the CSV of a list is the JSON of it), with
the ids of related records and, beside them, what a person reads (site number, subject number,
CTCAE term, dose level)."""

import json
from datetime import UTC

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import F
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import ISO_8601, serializers
from rest_framework.settings import api_settings

from dosing.models import DoseAdministration
from escalation.models import CommitteeDecision, Recommendation, SubjectDltStatus
from escalation.redaction import EscalationRedaction
from escalation.selectors import cohort_opened_by, cohort_recommendations
from safety.models import AdverseEvent
from subjects.models import RACE_CHOICES, Subject
from trial.models import Cohort, DoseLevel, Regimen, Site, Study


class FlatRowSerializer(serializers.ModelSerializer):
    """Writes a row with accessors worked out once per list rather than once per field per row.

    DRF resolves each field's source and runs its checks for every row; for a page of 1,000
    adverse events that is most of the request's time. The output is the same as DRF's (a test
    compares them field by field); fields that need DRF's own handling (dotted sources, JSON,
    method fields) still get it.
    """

    _row_plans: dict = {}

    def _plan(self):
        # Worked out once per serializer class: the fields of these read-only row serializers
        # depend on nothing of the request, and building them costs more than a page of rows.
        plan = self._row_plans.get(type(self))
        if plan is None:
            plan = []
            for field in self._readable_fields:
                simple = len(field.source_attrs) == 1 and not isinstance(
                    field,
                    serializers.SerializerMethodField
                    | serializers.JSONField
                    | serializers.DictField
                    | serializers.ListField
                    | serializers.BaseSerializer,
                )
                if not simple:
                    plan.append((field.field_name, None, field))
                elif isinstance(field, serializers.PrimaryKeyRelatedField):
                    attname = self.Meta.model._meta.get_field(field.source).attname
                    plan.append((field.field_name, attname, None))
                elif isinstance(field, serializers.DateTimeField) and _utc_output(field):
                    plan.append((field.field_name, field.source, _utc_isoformat))
                elif isinstance(field, serializers.DateTimeField | serializers.DecimalField):
                    plan.append((field.field_name, field.source, field.to_representation))
                elif isinstance(field, serializers.DateField):
                    plan.append((field.field_name, field.source, _isoformat))
                elif isinstance(field, serializers.TimeField):
                    plan.append((field.field_name, field.source, _minutes))
                elif isinstance(field, serializers.RelatedField | serializers.ModelField):
                    plan.append((field.field_name, None, field))
                else:
                    plan.append((field.field_name, field.source, None))
            self._row_plans[type(self)] = plan
        return plan

    def to_representation(self, instance):
        row = {}
        for name, attribute, convert in self._plan():
            if attribute is None:  # DRF's own way
                try:
                    value = convert.get_attribute(instance)
                except serializers.SkipField:
                    continue
                row[name] = None if value is None else convert.to_representation(value)
                continue
            value = getattr(instance, attribute)
            row[name] = value if value is None or convert is None else convert(value)
        return row


def _isoformat(value):
    return value.isoformat()


def _minutes(value):
    """A local time of day as HH:MM (api/pg_copy.py writes the same in SQL)."""
    return value.strftime("%H:%M")


def _utc_output(field) -> bool:
    """DRF writes this field as ISO 8601 in UTC (the product's setting): a shortcut is exact."""
    return (
        settings.USE_TZ
        and timezone.get_current_timezone_name() == "UTC"
        and getattr(field, "timezone", None) is None
        and getattr(field, "format", api_settings.DATETIME_FORMAT) == ISO_8601
    )


def _utc_isoformat(value):
    text = value.astimezone(UTC).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


class StudySerializer(serializers.ModelSerializer):
    class Meta:
        model = Study
        fields = [
            "id",
            "protocol_number",
            "title",
            "phase",
            "sponsor",
            "investigational_product",
            "dose_unit",
            "titration_levels",
            "titration_trigger",
            "exceeded_variant",
            "dlt_window_convention",
            "min_exposure_fraction",
            "cohort_size",
            "expanded_cohort_size",
            "expansion_cohort_size",
            "min_weight_kg",
            "max_weight_kg",
            "max_dose_over_planned_percent",
            "eligibility_criteria",
        ]


class SiteSerializer(serializers.ModelSerializer):
    class Meta:
        model = Site
        fields = [
            "id",
            "study",
            "number",
            "name",
            "country",
            "timezone",
            "principal_investigator",
            "is_active",
            "activated_on",
        ]


class RegimenSerializer(serializers.ModelSerializer):
    infusion_days = serializers.ListField(child=serializers.IntegerField(), read_only=True)

    class Meta:
        model = Regimen
        fields = [
            "id",
            "study",
            "code",
            "name",
            "interval_days",
            "cycle_length_days",
            "infusion_days",
            "dlt_window_days",
            "visit_window_days",
        ]


class DoseLevelSerializer(serializers.ModelSerializer):
    label = serializers.CharField(read_only=True)

    class Meta:
        model = DoseLevel
        fields = ["id", "study", "number", "amount", "unit", "label"]


class CohortSerializer(serializers.ModelSerializer):
    track_code = serializers.CharField(source="track.code", read_only=True)
    track_name = serializers.CharField(source="track.name", read_only=True)
    phase = serializers.CharField(source="track.phase", read_only=True)
    regimen = serializers.IntegerField(source="track.regimen_id", read_only=True)
    regimen_code = serializers.CharField(source="track.regimen.code", read_only=True)
    dose_level_number = serializers.IntegerField(
        source="dose_level.number", read_only=True, allow_null=True
    )
    dose_level_amount = serializers.DecimalField(
        source="dose_level.amount", max_digits=8, decimal_places=4, read_only=True
    )
    dose_unit = serializers.CharField(source="dose_level.unit", read_only=True)
    subjects_enrolled = serializers.IntegerField(
        read_only=True,
        help_text="Subjects holding a place in the cohort (as enrollment counts them: a subject "
        "replaced by a non-voided replacement gives up theirs).",
    )

    class Meta:
        model = Cohort
        fields = [
            "id",
            "study",
            "number",
            "track",
            "track_code",
            "track_name",
            "phase",
            "regimen",
            "regimen_code",
            "dose_level",
            "dose_level_number",
            "dose_level_amount",
            "dose_unit",
            "planned_size",
            "is_titration",
            "status",
            "opened_at",
            "closed_at",
            "subjects_enrolled",
        ]


class ClinicalRecordFields(serializers.Serializer):
    """The audit columns every clinical record carries."""

    version = serializers.IntegerField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)
    voided = serializers.BooleanField(source="is_voided", read_only=True)
    voided_at = serializers.DateTimeField(read_only=True, allow_null=True)
    void_reason = serializers.CharField(read_only=True)

    AUDIT_FIELDS = ["version", "created_at", "updated_at", "voided", "voided_at", "void_reason"]


class SubjectColumns(serializers.Serializer):
    """A dose's or adverse event's subject, as columns of its row: read from the annotations
    `ANNOTATIONS` (the view's queryset adds them), so a row needs no related object."""

    study = serializers.IntegerField(source="api_study", read_only=True)
    site = serializers.IntegerField(source="api_site", read_only=True)
    site_number = serializers.CharField(source="api_site_number", read_only=True)
    subject_number = serializers.CharField(
        source="api_subject_number", read_only=True, allow_null=True
    )

    ANNOTATIONS = {
        "api_study": F("subject__study_id"),
        "api_site": F("subject__site_id"),
        "api_site_number": F("subject__site__number"),
        "api_subject_number": F("subject__subject_number"),
    }


class SubjectSerializer(ClinicalRecordFields, FlatRowSerializer):
    """Reads `api_*` values annotated by the view's queryset (one query, no related objects)."""

    site_number = serializers.CharField(source="api_site_number", read_only=True)
    cohort_number = serializers.IntegerField(
        source="api_cohort_number", read_only=True, allow_null=True
    )
    dose_level = serializers.IntegerField(source="api_dose_level", read_only=True, allow_null=True)
    track_code = serializers.CharField(source="api_track_code", read_only=True, allow_null=True)
    eligibility_answers = serializers.DictField(child=serializers.BooleanField(), read_only=True)
    races = serializers.ListField(
        child=serializers.ChoiceField(choices=RACE_CHOICES),
        read_only=True,
        help_text="CDISC CT RACE values, several allowed; empty until recorded.",
    )

    class Meta:
        model = Subject
        fields = [
            "id",
            "study",
            "site",
            "site_number",
            "screening_number",
            "subject_number",
            "sex",
            "year_of_birth",
            "screening_date",
            "consent_date",
            "consent_version",
            "eligibility_outcome",
            "eligibility_assessed_on",
            "eligibility_answers",
            "screen_failure_reason",
            "ethnicity",
            "races",
            "race_other",
            "status",
            "enrollment_date",
            "cohort",
            "cohort_number",
            "dose_level",
            "track_code",
            "replaces",
            "end_of_treatment_date",
            "end_of_treatment_reason_code",
            "end_of_treatment_reason",
            "end_of_study_date",
            "end_of_study_reason_code",
            "end_of_study_reason",
            "death_date",
            *ClinicalRecordFields.AUDIT_FIELDS,
        ]


class DoseAdministrationSerializer(ClinicalRecordFields, SubjectColumns, FlatRowSerializer):
    """Reads `api_*` values annotated by the view's queryset (one query, no related objects)."""

    cohort_number = serializers.IntegerField(source="api_cohort_number", read_only=True)

    class Meta:
        model = DoseAdministration
        fields = [
            "id",
            "study",
            "site",
            "site_number",
            "subject",
            "subject_number",
            "cohort",
            "cohort_number",
            "cycle",
            "day",
            "planned_dose_level",
            "planned_dose_per_kg",
            "actual_dose_per_kg",
            "dose_unit",
            "body_weight_kg",
            "total_dose_mg",
            "administered_on",
            "infusion_start",
            "infusion_end",
            "interrupted",
            "interruption_details",
            "dose_change_reason",
            "outside_visit_window_confirmed",
            "overdose_confirmed",
            "short_interval_confirmed",
            "weight_outside_range_confirmed",
            "weight_change_confirmed",
            "deviation_reason",
            "lot_number",
            *ClinicalRecordFields.AUDIT_FIELDS,
        ]


class AdverseEventSerializer(ClinicalRecordFields, SubjectColumns, FlatRowSerializer):
    """Reads `api_*` values annotated by the view's queryset (one query, no related objects)."""

    cohort = serializers.IntegerField(source="api_cohort", read_only=True, allow_null=True)
    ctcae_term = serializers.CharField(
        source="api_term", read_only=True, help_text="CTCAE v5.0 term."
    )
    meddra_code = serializers.IntegerField(source="api_meddra_code", read_only=True)
    soc = serializers.CharField(
        source="api_soc", read_only=True, help_text="CTCAE v5.0 system organ class."
    )
    ctcae_version = serializers.CharField(source="api_ctcae_version", read_only=True)
    onset_time = serializers.TimeField(
        read_only=True,
        allow_null=True,
        format="%H:%M",
        help_text="Site local time of onset (HH:MM); null when not known.",
    )
    sae_reported_late = serializers.BooleanField(
        read_only=True,
        help_text="Serious, and entered more than 24 hours after the site became aware "
        "(docs/safety.md §4).",
    )
    dlt_attested_by = serializers.CharField(
        source="api_dlt_attested_by",
        read_only=True,
        allow_null=True,
        help_text="The investigator who attested the DLT call (username); null until attested.",
    )
    dlt_awaiting_attestation = serializers.BooleanField(
        read_only=True,
        help_text="A DLT call proposed, awaiting investigator attestation (docs/safety.md §8).",
    )

    class Meta:
        model = AdverseEvent
        fields = [
            "id",
            "study",
            "site",
            "site_number",
            "subject",
            "subject_number",
            "cohort",
            "ctcae_term",
            "meddra_code",
            "soc",
            "ctcae_version",
            "meddra_version",
            "verbatim_term",
            "grade",
            "onset_date",
            "onset_time",
            "baseline_grade",
            "resolution_date",
            "serious",
            "serious_death",
            "serious_life_threatening",
            "serious_hospitalisation",
            "serious_disability",
            "serious_congenital_anomaly",
            "serious_important_medical_event",
            "sae_awareness_at",
            "sae_reported_at",
            "sae_reported_late",
            "relationship",
            "action_taken",
            "outcome",
            "dlt_investigator",
            "dlt_attested_by",
            "dlt_attested_at",
            "dlt_awaiting_attestation",
            "dlt_adjudicated",
            "dlt_adjudicated_at",
            "dlt_adjudication_note",
            *ClinicalRecordFields.AUDIT_FIELDS,
        ]


class FieldValue(serializers.JSONField):
    """A stored value as JSON, exactly: decimals as strings (no float rounding), dates ISO 8601."""

    def to_representation(self, value):
        return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


class HistoryChangeSerializer(serializers.Serializer):
    field = serializers.CharField()
    old = FieldValue(allow_null=True)
    new = FieldValue(allow_null=True)


class HistoryEntrySerializer(serializers.Serializer):
    """One change of a record: who, when (UTC), what (old -> new), why."""

    record_id = serializers.IntegerField()
    version = serializers.IntegerField(allow_null=True)
    type = serializers.ChoiceField(choices=["created", "changed", "deleted"])
    at = serializers.DateTimeField()
    user = serializers.CharField(source="user.username", allow_null=True, default=None)
    user_name = serializers.SerializerMethodField()
    reason = serializers.CharField(allow_blank=True)
    changes = HistoryChangeSerializer(many=True)

    def get_user_name(self, entry) -> str | None:
        user = entry["user"]
        if user is None:
            return None
        return user.get_full_name().strip() or user.get_username()


# --- Escalation: recommendations, committee decisions, DLT evaluations (read-only) ---


def redaction_of(context) -> EscalationRedaction | None:
    """The caller's view of escalation records (escalation/redaction.py), one per request."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None:
        return None
    redaction = getattr(request, "_escalation_redaction", None)
    if redaction is None or redaction.user is not user:
        redaction = EscalationRedaction(user)
        request._escalation_redaction = redaction
    return redaction


def _study_of(context, instance) -> int:
    return context.get("study_id") or instance.track.study_id


REDACTION_NOTE = (
    " For a coordinator or investigator, another site's subjects read 'a subject at another "
    "site' and their adverse events 'an adverse event'; counts are unchanged."
)


class CommitteeDecisionSerializer(serializers.ModelSerializer):
    study = serializers.IntegerField(source="track.study_id", read_only=True)
    track_code = serializers.CharField(source="track.code", read_only=True)
    decided_by = serializers.CharField(source="decided_by.username", read_only=True)
    decided_by_name = serializers.CharField(source="signature.printed_name", read_only=True)
    signature_meaning = serializers.CharField(source="signature.meaning", read_only=True)
    signature_valid = serializers.BooleanField(source="signature.is_valid", read_only=True)

    class Meta:
        model = CommitteeDecision
        fields = [
            "id",
            "study",
            "track",
            "track_code",
            "recommendation",
            "outcome",
            "step",
            "target_track",
            "dose_level",
            "n_subjects",
            "rationale",
            "decided_by",
            "decided_by_name",
            "decided_at",
            "signature_meaning",
            "signature_valid",
            "opened_cohort",
            "version",
        ]

    def to_representation(self, instance):
        row = super().to_representation(instance)
        redaction = redaction_of(self.context)
        if redaction is not None and row.get("rationale"):
            row["rationale"] = redaction.free_text(
                row["rationale"], _study_of(self.context, instance)
            )
        return row


class RecommendationSummarySerializer(serializers.ModelSerializer):
    """A recommendation of the rules core, in short. A site role reads other sites' subjects out
    of the text, data and inputs (escalation/redaction.py); the stored record is complete."""

    text = serializers.CharField(
        read_only=True, help_text="What happens next, in words." + REDACTION_NOTE
    )

    def to_representation(self, instance):
        row = super().to_representation(instance)
        redaction = redaction_of(self.context)
        if redaction is None:
            return row
        study_id = _study_of(self.context, instance)
        if not redaction.hidden_numbers(study_id):
            return row
        row["text"] = redaction.text(instance, study_id)
        if "data" in row:
            row["data"] = redaction.data(instance, study_id)
        if "inputs" in row:
            row["inputs"] = redaction.inputs(instance, study_id)
        if row.get("decision_rationale"):
            row["decision_rationale"] = redaction.free_text(row["decision_rationale"], study_id)
        return row

    dose_level_label = serializers.CharField(
        source="dose_level.label", read_only=True, allow_null=True
    )
    needs_decision = serializers.BooleanField(read_only=True)

    class Meta:
        model = Recommendation
        fields = [
            "id",
            "track",
            "sequence",
            "created_at",
            "evaluated_on",
            "action",
            "rule",
            "text",
            "dose_level",
            "dose_level_label",
            "n_subjects",
            "status",
            "needs_decision",
        ]


def _of_decision(field_class, attribute: str):
    """A column from the committee's decision on a recommendation: null until there is one."""
    return field_class(source=f"committee_decision.{attribute}", read_only=True, allow_null=True)


class RecommendationSerializer(RecommendationSummarySerializer):
    """A recommendation with the committee's decision on it, if there is one yet."""

    study = serializers.IntegerField(source="track.study_id", read_only=True)
    track_code = serializers.CharField(source="track.code", read_only=True)
    decision = _of_decision(serializers.IntegerField, "id")
    decision_outcome = _of_decision(serializers.CharField, "outcome")
    decision_step = _of_decision(serializers.CharField, "step")
    decision_dose_level = _of_decision(serializers.IntegerField, "dose_level_id")
    decision_n_subjects = _of_decision(serializers.IntegerField, "n_subjects")
    decision_rationale = _of_decision(serializers.CharField, "rationale")
    decided_by_name = _of_decision(serializers.CharField, "signature.printed_name")
    decided_at = _of_decision(serializers.DateTimeField, "decided_at")
    opened_cohort = _of_decision(serializers.IntegerField, "opened_cohort_id")

    class Meta(RecommendationSummarySerializer.Meta):
        fields = [
            "id",
            "study",
            "track",
            "track_code",
            *RecommendationSummarySerializer.Meta.fields[2:],
            "superseded_at",
            "rules_version",
            "input_digest",
            "decision",
            "decision_outcome",
            "decision_step",
            "decision_dose_level",
            "decision_n_subjects",
            "decision_rationale",
            "decided_by_name",
            "decided_at",
            "opened_cohort",
        ]


class RecommendationDetailSerializer(RecommendationSerializer):
    data = serializers.JSONField(
        read_only=True, help_text="The whole recommendation as data." + REDACTION_NOTE
    )
    inputs = serializers.JSONField(
        read_only=True, help_text="The per-subject facts it saw." + REDACTION_NOTE
    )

    class Meta(RecommendationSerializer.Meta):
        fields = [*RecommendationSerializer.Meta.fields, "data", "inputs"]


class DltEvaluationSerializer(serializers.ModelSerializer):
    study = serializers.IntegerField(source="subject.study_id", read_only=True)
    site = serializers.IntegerField(source="subject.site_id", read_only=True)
    site_number = serializers.CharField(source="subject.site.number", read_only=True)
    subject_number = serializers.CharField(
        source="subject.subject_number", read_only=True, allow_null=True
    )
    cohort = serializers.IntegerField(source="subject.cohort_id", read_only=True, allow_null=True)
    track_code = serializers.CharField(source="track.code", read_only=True)

    class Meta:
        model = SubjectDltStatus
        fields = [
            "id",
            "study",
            "site",
            "site_number",
            "subject",
            "subject_number",
            "cohort",
            "track",
            "track_code",
            "status",
            "window_start",
            "window_end",
            "reason",
            "rule",
            "dlt_adverse_event",
            "qualifying_infusions",
            "required_infusions",
            "evaluated_at",
            "rules_version",
        ]


class CohortListSerializer(CohortSerializer):
    current_recommendation = serializers.SerializerMethodField(
        help_text="The track's current recommendation, on a cohort that is not closed."
    )

    class Meta(CohortSerializer.Meta):
        fields = [*CohortSerializer.Meta.fields, "current_recommendation"]

    @extend_schema_field(RecommendationSummarySerializer(allow_null=True))
    def get_current_recommendation(self, cohort):
        if cohort.status == Cohort.Status.CLOSED:
            return None
        current = getattr(cohort.track, "current", None)
        if current is None:
            current = list(cohort.track.recommendations.filter(status__in=Recommendation.CURRENT))
        if not current:
            return None
        context = {**self.context, "study_id": cohort.study_id}
        return RecommendationSummarySerializer(current[0], context=context).data


class CohortDetailSerializer(CohortListSerializer):
    opened_by_decision = serializers.SerializerMethodField(
        help_text="The committee decision that opened this cohort (none for the first)."
    )
    decision_history = serializers.SerializerMethodField(
        help_text="The track's recommendations made while this cohort was its latest, oldest "
        "first, each with the committee's decision on it."
    )

    class Meta(CohortListSerializer.Meta):
        fields = [*CohortListSerializer.Meta.fields, "opened_by_decision", "decision_history"]

    @extend_schema_field(CommitteeDecisionSerializer(allow_null=True))
    def get_opened_by_decision(self, cohort):
        decision = cohort_opened_by(cohort)
        if decision is None:
            return None
        context = {**self.context, "study_id": cohort.study_id}
        return CommitteeDecisionSerializer(decision, context=context).data

    @extend_schema_field(RecommendationSerializer(many=True))
    def get_decision_history(self, cohort):
        rows = cohort_recommendations(cohort)
        context = {**self.context, "study_id": cohort.study_id}
        return RecommendationSerializer(rows, many=True, context=context).data
