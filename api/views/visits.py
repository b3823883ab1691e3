"""Visits and the forms entered at them (vital signs, local lab results, ECOG, ECG, survival),
and the subject's medications, medical and cancer history and prior cancer therapy: read with
`updated_since`, history and CSV like every clinical resource, and written by integrations
through the same services as the pages (visits/services.py), with `by=request.user`."""

from typing import Any

from django.db.models import F
from django_filters import ChoiceFilter
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.decorators import action

from api.concurrency import expected_version
from api.filters import ClinicalFilterSet, DateFilter, id_filter
from api.inputs import (
    AsciiDecimalField,
    AsciiIntegerField,
    CorrectionInput,
    MeddraCodeField,
    ScopedPrimaryKey,
    StrictInput,
    day_field,
)
from api.serializers import AdverseEventSerializer, ClinicalRecordFields, SubjectColumns
from safety.models import AdverseEvent
from subjects.models import Subject
from visits import services
from visits.models import (
    CM_FREQUENCIES,
    CM_ROUTES,
    CM_UNITS,
    LAB_TEST_CHOICES,
    PARTIAL_DATE_HELP,
    CancerHistory,
    ConcomitantMedication,
    EcgAssessment,
    EcogAssessment,
    LabResult,
    MedicalHistory,
    PriorCancerTherapy,
    SurvivalContact,
    Visit,
    VitalSigns,
)
from visits.rules import (
    METASTATIC_SITES,
    RESPONSES,
    SETTINGS,
    STAGE_CHOICES,
    STOP_REASONS,
    THERAPY_TYPES,
)

from .base import VOID_REASON, ClinicalWriteViewSet, HistoryMixin


def _write(summary, request, response, *, created=False, description=""):
    return extend_schema(
        summary=summary,
        description=description,
        request=request,
        responses={201 if created else 200: response},
    )


def _correct(summary, request, response):
    return extend_schema(
        summary=summary,
        description="Changes only the fields sent, with a `reason` kept in the audit history. "
        "Needs If-Match with the ETag of the version edited.",
        request=request,
        responses={200: response},
    )


def _void(summary, response):
    return extend_schema(
        summary=summary,
        description="Voids the record with a reason (it stays on record and appears in "
        "incremental pulls with voided=true). Needs If-Match.",
        parameters=[VOID_REASON],
        request=None,
        responses={200: response},
    )


# --- Serializers (rows) ---

# The columns every row starts with: the record, its study, site and subject; a form entered
# at a visit adds the visit. Each serializer lists only its own columns after them: the fields
# entered (the service's `*_FIELDS`, which its correction input takes too), then what is derived.
SUBJECT_ROW = ("id", "study", "site", "site_number", "subject", "subject_number")
VISIT_ROW = (*SUBJECT_ROW, "visit", "visit_code")


class VisitColumns(serializers.Serializer):
    visit_code = serializers.CharField(source="api_visit_code", read_only=True)


VISIT_ANNOTATIONS = {**SubjectColumns.ANNOTATIONS, "api_visit_code": F("visit__code")}


class VisitSerializer(ClinicalRecordFields, SubjectColumns, serializers.ModelSerializer):
    class Meta:
        model = Visit
        fields = [
            *SUBJECT_ROW,
            "code",
            *services.VISIT_FIELDS,
            *ClinicalRecordFields.AUDIT_FIELDS,
        ]


class VitalSignsSerializer(
    ClinicalRecordFields, SubjectColumns, VisitColumns, serializers.ModelSerializer
):
    class Meta:
        model = VitalSigns
        fields = [
            *VISIT_ROW,
            "measured_on",
            "timepoint",
            "systolic_bp",
            "diastolic_bp",
            "pulse",
            "respiratory_rate",
            "temperature_c",
            "temperature_reported",
            "spo2",
            "weight_kg",
            "weight_reported",
            "rules_version",
            *ClinicalRecordFields.AUDIT_FIELDS,
        ]


class LabResultSerializer(
    ClinicalRecordFields, SubjectColumns, VisitColumns, serializers.ModelSerializer
):
    grading_flags = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = LabResult
        fields = [
            *VISIT_ROW,
            *services.LAB_FIELDS,
            "standard_value",
            "standard_unit",
            "reference_flag",
            "ctcae_term",
            "ctcae_meddra_code",
            "ctcae_grade",
            "ctcae_version",
            "grading_rule",
            "grading_flags",
            "rules_version",
            "adverse_event",
            *ClinicalRecordFields.AUDIT_FIELDS,
        ]


class EcogSerializer(
    ClinicalRecordFields, SubjectColumns, VisitColumns, serializers.ModelSerializer
):
    class Meta:
        model = EcogAssessment
        fields = [
            *VISIT_ROW,
            "assessed_on",
            "status",
            *ClinicalRecordFields.AUDIT_FIELDS,
        ]


class EcgSerializer(
    ClinicalRecordFields, SubjectColumns, VisitColumns, serializers.ModelSerializer
):
    qtcf_replicates = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = EcgAssessment
        fields = [
            *VISIT_ROW,
            *services.ECG_FIELDS,
            "qtcf_ms",
            "qtcf_replicates",
            "baseline_qtcf_ms",
            "qtc_grade",
            "grading_rule",
            "rules_version",
            *ClinicalRecordFields.AUDIT_FIELDS,
        ]


# --- Filters ---


class VisitFormFilterSet(ClinicalFilterSet):
    study = id_filter("subject__study_id", "Only this study's records (id).")
    site = id_filter("subject__site_id", "Only this site's records (id).")
    subject = id_filter("subject_id", "Only this subject's records (id).")


class VisitFilterSet(VisitFormFilterSet):
    class Meta:
        model = Visit
        fields: list[str] = []


class AtVisitFilterSet(VisitFormFilterSet):
    """A form entered at a visit: also filtered by its visit."""

    visit = id_filter("visit_id", "Only this visit's records (id).")


class VitalSignsFilterSet(AtVisitFilterSet):
    class Meta:
        model = VitalSigns
        fields: list[str] = []


class LabResultFilterSet(AtVisitFilterSet):
    test = ChoiceFilter(choices=LAB_TEST_CHOICES)
    sampled_from = DateFilter(
        field_name="sampled_on", lookup_expr="gte", label="Sampled on or after this date."
    )
    sampled_to = DateFilter(
        field_name="sampled_on", lookup_expr="lte", label="Sampled on or before this date."
    )

    class Meta:
        model = LabResult
        fields: list[str] = []


class EcogFilterSet(AtVisitFilterSet):
    class Meta:
        model = EcogAssessment
        fields: list[str] = []


class EcgFilterSet(AtVisitFilterSet):
    class Meta:
        model = EcgAssessment
        fields: list[str] = []


# --- Inputs ---


class VisitCreateInput(StrictInput):
    subject = ScopedPrimaryKey(Subject)
    code = serializers.CharField(
        max_length=20, help_text="The calendar's visit code (C1D8, EOT...), or UNS1, UNS2..."
    )
    visit_date = day_field(required=False, allow_null=True)
    not_done = serializers.BooleanField(required=False)
    not_done_reason = serializers.CharField(max_length=2000, required=False, allow_blank=True)


class VisitUpdateInput(CorrectionInput):
    editable_fields = services.VISIT_FIELDS
    visit_date = day_field(allow_null=True)
    not_done = serializers.BooleanField()
    not_done_reason = serializers.CharField(max_length=2000, allow_blank=True)


def _small(**kwargs):
    return AsciiIntegerField(min_value=0, max_value=32767, allow_null=True, **kwargs)


class VitalSignsFields(StrictInput):
    measured_on = day_field()
    timepoint = serializers.ChoiceField(choices=VitalSigns.Timepoint.choices)
    systolic_bp = _small(required=False, help_text="mmHg")
    diastolic_bp = _small(required=False, help_text="mmHg")
    pulse = _small(required=False, help_text="beats/min")
    respiratory_rate = _small(required=False, help_text="breaths/min")
    temperature = AsciiDecimalField(max_digits=6, decimal_places=2, required=False, allow_null=True)
    temperature_unit = serializers.ChoiceField(choices=["C", "F"], required=False)
    spo2 = _small(required=False, help_text="%")
    weight = AsciiDecimalField(max_digits=8, decimal_places=3, required=False, allow_null=True)
    weight_unit = serializers.ChoiceField(choices=["kg", "lb"], required=False)


class VitalSignsCreateInput(VitalSignsFields):
    visit = ScopedPrimaryKey(Visit)


class VitalSignsUpdateInput(CorrectionInput, VitalSignsFields):
    editable_fields = services.VITALS_FIELDS


class LabFields(StrictInput):
    sampled_on = day_field()
    test = serializers.ChoiceField(choices=LAB_TEST_CHOICES)
    value = AsciiDecimalField(max_digits=14, decimal_places=4)
    unit = serializers.CharField(max_length=20, allow_blank=True)
    normal_low = AsciiDecimalField(max_digits=14, decimal_places=4, required=False, allow_null=True)
    normal_high = AsciiDecimalField(
        max_digits=14, decimal_places=4, required=False, allow_null=True
    )
    clinically_significant = serializers.BooleanField(required=False, allow_null=True)
    symptomatic = serializers.BooleanField(required=False, allow_null=True)


class LabCreateInput(LabFields):
    visit = ScopedPrimaryKey(Visit)


class LabUpdateInput(CorrectionInput, LabFields):
    editable_fields = services.LAB_FIELDS


class LabAdverseEventInput(StrictInput):
    relationship = serializers.ChoiceField(choices=AdverseEvent.Relationship.choices)
    action_taken = serializers.ChoiceField(choices=AdverseEvent.ActionTaken.choices)
    outcome = serializers.ChoiceField(choices=AdverseEvent.Outcome.choices)
    verbatim_term = serializers.CharField(max_length=300, required=False)
    grade = AsciiIntegerField(min_value=1, max_value=5, required=False)
    onset_date = day_field(required=False)
    resolution_date = day_field(required=False, allow_null=True)


class EcogFields(StrictInput):
    assessed_on = day_field()
    status = AsciiIntegerField(min_value=0, max_value=5)


class EcogCreateInput(EcogFields):
    visit = ScopedPrimaryKey(Visit)


class EcogUpdateInput(CorrectionInput, EcogFields):
    editable_fields = services.ECOG_FIELDS


def _ms_input(**kwargs):
    return AsciiIntegerField(
        min_value=0, max_value=32767, required=False, allow_null=True, **kwargs
    )


class EcgFields(StrictInput):
    recorded_on = day_field()
    timepoint = serializers.ChoiceField(choices=VitalSigns.Timepoint.choices)
    qt_ms_1 = AsciiIntegerField(min_value=0, max_value=32767, help_text="ms")
    rr_ms_1 = _ms_input(help_text="ms; or the heart rate")
    heart_rate_1 = _ms_input(help_text="beats/min")
    qt_ms_2 = _ms_input(help_text="ms (triplicate)")
    rr_ms_2 = _ms_input()
    heart_rate_2 = _ms_input()
    qt_ms_3 = _ms_input(help_text="ms (triplicate)")
    rr_ms_3 = _ms_input()
    heart_rate_3 = _ms_input()
    pr_ms = _ms_input()
    qrs_ms = _ms_input()
    interpretation = serializers.ChoiceField(choices=EcgAssessment.Interpretation.choices)


class EcgCreateInput(EcgFields):
    visit = ScopedPrimaryKey(Visit)


class EcgUpdateInput(CorrectionInput, EcgFields):
    editable_fields = services.ECG_FIELDS


# --- Views ---


# A record of the subject's: each resource names its model, serializer, inputs and services;
# rows are annotated with the subject's columns and created by `create_service(by=user, **input)`.
# (Comments, not docstrings: the OpenAPI document takes a view's docstring as its description.)
class SubjectRecordViewSet(HistoryMixin, ClinicalWriteViewSet):
    record_model: Any = None
    annotations: dict[str, Any] = SubjectColumns.ANNOTATIONS
    create_service: Any = None  # staticmethod(services.<record>_record)

    def base_queryset(self):
        return self.record_model.all_objects.annotate(**self.annotations)

    def service_create(self, data):
        return self.create_service(by=self.request.user, **data)


@extend_schema_view(
    list=extend_schema(summary="Visits recorded (done on a date, or not done)"),
    retrieve=extend_schema(summary="A visit"),
    create=_write(
        "Record a visit of the subject's calendar",
        VisitCreateInput,
        VisitSerializer,
        created=True,
        description="Done on a date, or not done with the reason. The code must be a visit of "
        "the subject's calendar, or UNS1, UNS2... for an unscheduled visit.",
    ),
    partial_update=_correct("Correct a visit", VisitUpdateInput, VisitSerializer),
    destroy=_void("Void a visit recorded in error (its forms first)", VisitSerializer),
)
class VisitViewSet(SubjectRecordViewSet):
    record_model = Visit
    serializer_class = VisitSerializer
    filterset_class = VisitFilterSet
    create_input = VisitCreateInput
    update_input = VisitUpdateInput
    detail_route_name = "api:visit-detail"
    record_argument = "visit"
    update_service = staticmethod(services.visit_update)
    void_service = staticmethod(services.visit_void)
    create_service = staticmethod(services.visit_record)


# A form entered at a visit: rows carry the visit's code too, and the input names the visit
# (the subject is the visit's).
class VisitFormViewSet(SubjectRecordViewSet):
    annotations = VISIT_ANNOTATIONS

    def service_create(self, data):
        visit = data.pop("visit")
        return self.create_service(by=self.request.user, subject=visit.subject, visit=visit, **data)


@extend_schema_view(
    list=extend_schema(summary="Vital signs (standard units; as typed when converted)"),
    retrieve=extend_schema(summary="Vital signs"),
    create=_write(
        "Record vital signs at a visit",
        VitalSignsCreateInput,
        VitalSignsSerializer,
        created=True,
        description="Temperature in C or F and weight in kg or lb are stored in C and kg; every "
        "sign is checked against the study's plausible range.",
    ),
    partial_update=_correct("Correct vital signs", VitalSignsUpdateInput, VitalSignsSerializer),
    destroy=_void("Void vital signs entered in error", VitalSignsSerializer),
)
class VitalSignsViewSet(VisitFormViewSet):
    record_model = VitalSigns
    serializer_class = VitalSignsSerializer
    filterset_class = VitalSignsFilterSet
    create_input = VitalSignsCreateInput
    update_input = VitalSignsUpdateInput
    detail_route_name = "api:vital-signs-detail"
    record_argument = "vital_signs"
    update_service = staticmethod(services.vital_signs_update)
    void_service = staticmethod(services.vital_signs_void)
    create_service = staticmethod(services.vital_signs_record)


@extend_schema_view(
    list=extend_schema(summary="Local lab results with their standard value and CTCAE v5.0 grade"),
    retrieve=extend_schema(summary="A lab result"),
    create=_write(
        "Record a local lab result",
        LabCreateInput,
        LabResultSerializer,
        created=True,
        description="Value and unit as reported, and the site lab's normal range in the same "
        "unit; the standard value and the CTCAE grade are derived. A unit the test does not "
        "accept is refused; no normal range gives no grade.",
    ),
    partial_update=_correct("Correct a lab result", LabUpdateInput, LabResultSerializer),
    destroy=_void("Void a lab result entered in error", LabResultSerializer),
)
class LabResultViewSet(VisitFormViewSet):
    record_model = LabResult
    serializer_class = LabResultSerializer
    filterset_class = LabResultFilterSet
    create_input = LabCreateInput
    update_input = LabUpdateInput
    detail_route_name = "api:lab-result-detail"
    record_argument = "lab_result"
    update_service = staticmethod(services.lab_result_update)
    void_service = staticmethod(services.lab_result_void)
    create_service = staticmethod(services.lab_result_record)

    @_write(
        "Report the graded abnormality as an adverse event",
        LabAdverseEventInput,
        AdverseEventSerializer,
        description="The CTCAE term, grade and onset default to the result's; the adverse event "
        "is linked to the result (its `lab_result`, the result's `adverse_event`). Answers the "
        "adverse event with its ETag. Needs If-Match with the result's ETag.",
    )
    @action(detail=True, methods=["post"], url_path="adverse-event")
    def adverse_event(self, request, pk=None):
        from .clinical import AdverseEventViewSet

        record = self.get_object()
        data = self.parse(LabAdverseEventInput)
        version = expected_version(request, record)
        event = services.lab_result_report_adverse_event(
            by=request.user, lab_result=record, expected_version=version, **data
        )
        view = AdverseEventViewSet(request=request, format_kwarg=None, action="retrieve")
        return view.record_response(event, status.HTTP_200_OK)


@extend_schema_view(
    list=extend_schema(summary="ECOG performance status assessments"),
    retrieve=extend_schema(summary="An ECOG assessment"),
    create=_write("Record ECOG performance status", EcogCreateInput, EcogSerializer, created=True),
    partial_update=_correct("Correct an ECOG assessment", EcogUpdateInput, EcogSerializer),
    destroy=_void("Void an ECOG assessment entered in error", EcogSerializer),
)
class EcogViewSet(VisitFormViewSet):
    record_model = EcogAssessment
    serializer_class = EcogSerializer
    filterset_class = EcogFilterSet
    create_input = EcogCreateInput
    update_input = EcogUpdateInput
    detail_route_name = "api:ecog-detail"
    record_argument = "ecog"
    update_service = staticmethod(services.ecog_update)
    void_service = staticmethod(services.ecog_void)
    create_service = staticmethod(services.ecog_record)


@extend_schema_view(
    list=extend_schema(summary="12-lead ECGs with QTcF (Fridericia) and its CTCAE v5.0 grade"),
    retrieve=extend_schema(summary="A 12-lead ECG time point"),
    create=_write(
        "Record a 12-lead ECG time point (one tracing or a triplicate)",
        EcgCreateInput,
        EcgSerializer,
        created=True,
        description="QT with RR or heart rate per tracing; QTcF = QT / RR^(1/3) per tracing, "
        "their mean rounded to the ms, graded against the pre-dose baseline.",
    ),
    partial_update=_correct("Correct an ECG", EcgUpdateInput, EcgSerializer),
    destroy=_void("Void an ECG entered in error", EcgSerializer),
)
class EcgViewSet(VisitFormViewSet):
    record_model = EcgAssessment
    serializer_class = EcgSerializer
    filterset_class = EcgFilterSet
    create_input = EcgCreateInput
    update_input = EcgUpdateInput
    detail_route_name = "api:ecg-detail"
    record_argument = "ecg"
    update_service = staticmethod(services.ecg_update)
    void_service = staticmethod(services.ecg_void)
    create_service = staticmethod(services.ecg_record)


class ConcomitantMedicationSerializer(
    ClinicalRecordFields, SubjectColumns, serializers.ModelSerializer
):
    class Meta:
        model = ConcomitantMedication
        fields = [
            *SUBJECT_ROW,
            *services.CM_FIELDS,
            *ClinicalRecordFields.AUDIT_FIELDS,
        ]


class ConcomitantMedicationFilterSet(VisitFormFilterSet):
    class Meta:
        model = ConcomitantMedication
        fields: list[str] = []


class ConcomitantMedicationFields(StrictInput):
    medication = serializers.CharField(max_length=200)
    atc_code = serializers.CharField(
        max_length=7, required=False, allow_blank=True, help_text="WHO ATC code, any level."
    )
    indication = serializers.CharField(max_length=200)
    adverse_event = ScopedPrimaryKey(AdverseEvent, required=False, allow_null=True)
    dose = AsciiDecimalField(max_digits=12, decimal_places=4, required=False, allow_null=True)
    dose_unit = serializers.ChoiceField(choices=CM_UNITS, required=False, allow_blank=True)
    frequency = serializers.ChoiceField(choices=CM_FREQUENCIES, required=False, allow_blank=True)
    route = serializers.ChoiceField(choices=CM_ROUTES)
    start_date = day_field()
    end_date = day_field(required=False, allow_null=True)
    ongoing = serializers.BooleanField(required=False)


class ConcomitantMedicationCreateInput(ConcomitantMedicationFields):
    subject = ScopedPrimaryKey(Subject)


class ConcomitantMedicationUpdateInput(CorrectionInput, ConcomitantMedicationFields):
    editable_fields = services.CM_FIELDS


@extend_schema_view(
    list=extend_schema(summary="Concomitant medications (verbatim, with the ATC code when coded)"),
    retrieve=extend_schema(summary="A concomitant medication"),
    create=_write(
        "Record a concomitant medication",
        ConcomitantMedicationCreateInput,
        ConcomitantMedicationSerializer,
        created=True,
        description="The name as recorded; the ATC code when known (coding later is a "
        "correction). An end date, or ongoing.",
    ),
    partial_update=_correct(
        "Correct (or code) a concomitant medication",
        ConcomitantMedicationUpdateInput,
        ConcomitantMedicationSerializer,
    ),
    destroy=_void("Void a medication entered in error", ConcomitantMedicationSerializer),
)
class ConcomitantMedicationViewSet(SubjectRecordViewSet):
    record_model = ConcomitantMedication
    serializer_class = ConcomitantMedicationSerializer
    filterset_class = ConcomitantMedicationFilterSet
    create_input = ConcomitantMedicationCreateInput
    update_input = ConcomitantMedicationUpdateInput
    detail_route_name = "api:concomitant-medication-detail"
    record_argument = "medication"
    update_service = staticmethod(services.concomitant_medication_update)
    void_service = staticmethod(services.concomitant_medication_void)
    create_service = staticmethod(services.concomitant_medication_record)


class MedicalHistorySerializer(ClinicalRecordFields, SubjectColumns, serializers.ModelSerializer):
    meddra_code = serializers.IntegerField(
        source="api_meddra_code", read_only=True, allow_null=True
    )
    ctcae_term = serializers.CharField(source="api_term", read_only=True, allow_null=True)

    class Meta:
        model = MedicalHistory
        fields = [
            *SUBJECT_ROW,
            "term",
            "ctcae_term",
            "meddra_code",
            "start_year",
            "start_month",
            "start_day",
            "ongoing",
            "end_date",
            "baseline_grade",
            *ClinicalRecordFields.AUDIT_FIELDS,
        ]


class MedicalHistoryFilterSet(VisitFormFilterSet):
    class Meta:
        model = MedicalHistory
        fields: list[str] = []


class MedicalHistoryFields(StrictInput):
    term = serializers.CharField(max_length=200)
    meddra_code = MeddraCodeField(
        source="ctcae_term",
        required=False,
        allow_null=True,
        help_text="The CTCAE v5.0 term (MedDRA LLT) by its MedDRA code.",
    )
    start_year = AsciiIntegerField(min_value=1900, max_value=2100)
    start_month = AsciiIntegerField(min_value=1, max_value=12, required=False, allow_null=True)
    start_day = AsciiIntegerField(min_value=1, max_value=31, required=False, allow_null=True)
    ongoing = serializers.BooleanField(required=False, help_text="Ongoing at the first dose.")
    end_date = day_field(required=False, allow_null=True)
    baseline_grade = AsciiIntegerField(
        min_value=1,
        max_value=4,
        required=False,
        allow_null=True,
        help_text="CTCAE grade at the first dose, for an ongoing condition.",
    )


class MedicalHistoryCreateInput(MedicalHistoryFields):
    subject = ScopedPrimaryKey(Subject)


class MedicalHistoryUpdateInput(CorrectionInput, MedicalHistoryFields):
    editable_fields = services.MH_FIELDS


@extend_schema_view(
    list=extend_schema(summary="Medical history (with the CTCAE grade at the first dose)"),
    retrieve=extend_schema(summary="A medical history condition"),
    create=_write(
        "Record a medical history condition",
        MedicalHistoryCreateInput,
        MedicalHistorySerializer,
        created=True,
        description="Start as far as known (year; month; day); ongoing at the first dose with "
        "its CTCAE grade, the baseline for later adverse events.",
    ),
    partial_update=_correct(
        "Correct a medical history condition", MedicalHistoryUpdateInput, MedicalHistorySerializer
    ),
    destroy=_void("Void a condition entered in error", MedicalHistorySerializer),
)
class MedicalHistoryViewSet(SubjectRecordViewSet):
    record_model = MedicalHistory
    annotations = {
        **SubjectColumns.ANNOTATIONS,
        "api_term": F("ctcae_term__term"),
        "api_meddra_code": F("ctcae_term__meddra_code"),
    }
    serializer_class = MedicalHistorySerializer
    filterset_class = MedicalHistoryFilterSet
    create_input = MedicalHistoryCreateInput
    update_input = MedicalHistoryUpdateInput
    detail_route_name = "api:medical-history-detail"
    record_argument = "condition"
    update_service = staticmethod(services.medical_history_update)
    void_service = staticmethod(services.medical_history_void)
    create_service = staticmethod(services.medical_history_record)


class SurvivalContactSerializer(
    ClinicalRecordFields, SubjectColumns, VisitColumns, serializers.ModelSerializer
):
    class Meta:
        model = SurvivalContact
        fields = [
            *VISIT_ROW,
            *services.SURVIVAL_FIELDS,
            *ClinicalRecordFields.AUDIT_FIELDS,
        ]


class SurvivalContactFilterSet(AtVisitFilterSet):
    class Meta:
        model = SurvivalContact
        fields: list[str] = []


class SurvivalContactFields(StrictInput):
    contact_date = day_field()
    status = serializers.ChoiceField(choices=SurvivalContact.Status.choices)
    last_known_alive = day_field(required=False, allow_null=True)
    new_therapy = serializers.BooleanField(required=False)
    new_therapy_regimen = serializers.CharField(max_length=200, required=False, allow_blank=True)
    new_therapy_start = day_field(required=False, allow_null=True)
    cause_of_death = serializers.ChoiceField(
        choices=SurvivalContact.Cause.choices, required=False, allow_blank=True
    )
    cause_adverse_event = ScopedPrimaryKey(AdverseEvent, required=False, allow_null=True)
    cause_other = serializers.CharField(max_length=200, required=False, allow_blank=True)


class SurvivalContactCreateInput(SurvivalContactFields):
    visit = ScopedPrimaryKey(Visit)


class SurvivalContactUpdateInput(CorrectionInput, SurvivalContactFields):
    editable_fields = services.SURVIVAL_FIELDS


@extend_schema_view(
    list=extend_schema(summary="Survival follow-up contacts"),
    retrieve=extend_schema(summary="A survival follow-up contact"),
    create=_write(
        "Record a survival follow-up contact at its visit",
        SurvivalContactCreateInput,
        SurvivalContactSerializer,
        created=True,
        description="Alive, dead (the death recorded on the subject first; the cause here) or "
        "unknown; a new anticancer therapy with its start.",
    ),
    partial_update=_correct(
        "Correct a survival contact", SurvivalContactUpdateInput, SurvivalContactSerializer
    ),
    destroy=_void("Void a survival contact entered in error", SurvivalContactSerializer),
)
class SurvivalContactViewSet(VisitFormViewSet):
    record_model = SurvivalContact
    serializer_class = SurvivalContactSerializer
    filterset_class = SurvivalContactFilterSet
    create_input = SurvivalContactCreateInput
    update_input = SurvivalContactUpdateInput
    detail_route_name = "api:survival-contact-detail"
    record_argument = "contact"
    update_service = staticmethod(services.survival_contact_update)
    void_service = staticmethod(services.survival_contact_void)
    create_service = staticmethod(services.survival_contact_record)


# --- Cancer history and prior anticancer therapy (docs/visits.md §11) ---

# A date as far as it is known: YYYY, YYYY-MM or YYYY-MM-DD (ASCII digits).
PARTIAL_DATE = r"^[0-9]{4}(-[0-9]{2}(-[0-9]{2})?)?$"


def _partial_date(**kwargs):
    return serializers.RegexField(
        PARTIAL_DATE, max_length=10, help_text=PARTIAL_DATE_HELP, **kwargs
    )


class CancerHistorySerializer(ClinicalRecordFields, SubjectColumns, serializers.ModelSerializer):
    metastatic_sites = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = CancerHistory
        fields = [
            *SUBJECT_ROW,
            *services.CANCER_HISTORY_FIELDS,
            *ClinicalRecordFields.AUDIT_FIELDS,
        ]


class CancerHistoryFilterSet(VisitFormFilterSet):
    class Meta:
        model = CancerHistory
        fields: list[str] = []


class CancerHistoryFields(StrictInput):
    primary_site = serializers.CharField(max_length=200)
    histology = serializers.CharField(max_length=200)
    diagnosis_date = _partial_date()
    stage_at_diagnosis = serializers.ChoiceField(choices=STAGE_CHOICES)
    tnm_at_diagnosis = serializers.CharField(max_length=60, required=False, allow_blank=True)
    stage_at_entry = serializers.ChoiceField(choices=STAGE_CHOICES)
    tnm_at_entry = serializers.CharField(max_length=60, required=False, allow_blank=True)
    advanced_disease_date = _partial_date(required=False, allow_blank=True)
    metastatic_sites = serializers.ListField(
        child=serializers.ChoiceField(choices=METASTATIC_SITES),
        required=False,
        max_length=len(METASTATIC_SITES),
    )
    metastatic_sites_other = serializers.CharField(max_length=200, required=False, allow_blank=True)
    no_prior_therapy = serializers.BooleanField(required=False)


class CancerHistoryCreateInput(CancerHistoryFields):
    subject = ScopedPrimaryKey(Subject)


class CancerHistoryUpdateInput(CorrectionInput, CancerHistoryFields):
    editable_fields = services.CANCER_HISTORY_FIELDS


@extend_schema_view(
    list=extend_schema(summary="Cancer histories (primary diagnosis, stages, metastases)"),
    retrieve=extend_schema(summary="A subject's cancer history"),
    create=_write(
        "Record a subject's cancer history",
        CancerHistoryCreateInput,
        CancerHistorySerializer,
        created=True,
        description="Once per subject, at screening: primary site and histology, the date of "
        "initial diagnosis, the AJCC 8th edition stage group at diagnosis and at study entry, "
        "the date of metastatic or advanced disease and the sites of metastases. Dates as far "
        "as known (YYYY, YYYY-MM or YYYY-MM-DD), none after informed consent.",
    ),
    partial_update=_correct(
        "Correct a cancer history", CancerHistoryUpdateInput, CancerHistorySerializer
    ),
    destroy=_void("Void a cancer history entered in error", CancerHistorySerializer),
)
class CancerHistoryViewSet(SubjectRecordViewSet):
    record_model = CancerHistory
    serializer_class = CancerHistorySerializer
    filterset_class = CancerHistoryFilterSet
    create_input = CancerHistoryCreateInput
    update_input = CancerHistoryUpdateInput
    detail_route_name = "api:cancer-history-detail"
    record_argument = "history"
    update_service = staticmethod(services.cancer_history_update)
    void_service = staticmethod(services.cancer_history_void)
    create_service = staticmethod(services.cancer_history_record)


class PriorTherapySerializer(ClinicalRecordFields, SubjectColumns, serializers.ModelSerializer):
    class Meta:
        model = PriorCancerTherapy
        fields = [
            *SUBJECT_ROW,
            *services.PRIOR_THERAPY_FIELDS,
            *ClinicalRecordFields.AUDIT_FIELDS,
        ]


class PriorTherapyFilterSet(VisitFormFilterSet):
    therapy_type = ChoiceFilter(choices=THERAPY_TYPES)

    class Meta:
        model = PriorCancerTherapy
        fields: list[str] = []


class PriorTherapyFields(StrictInput):
    therapy_type = serializers.ChoiceField(choices=THERAPY_TYPES)
    treatment = serializers.CharField(max_length=200)
    setting = serializers.ChoiceField(choices=SETTINGS)
    line = AsciiIntegerField(
        min_value=1,
        max_value=30,
        required=False,
        allow_null=True,
        help_text="Systemic therapy of advanced disease: 1 for the first line.",
    )
    start_date = _partial_date()
    end_date = _partial_date(required=False, allow_blank=True)
    best_response = serializers.ChoiceField(choices=RESPONSES, required=False, allow_blank=True)
    stop_reason = serializers.ChoiceField(choices=STOP_REASONS, required=False, allow_blank=True)
    stop_reason_other = serializers.CharField(max_length=200, required=False, allow_blank=True)


class PriorTherapyCreateInput(PriorTherapyFields):
    subject = ScopedPrimaryKey(Subject)


class PriorTherapyUpdateInput(CorrectionInput, PriorTherapyFields):
    editable_fields = services.PRIOR_THERAPY_FIELDS


@extend_schema_view(
    list=extend_schema(summary="Prior cancer therapies (systemic, radiotherapy, surgery)"),
    retrieve=extend_schema(summary="A prior cancer therapy"),
    create=_write(
        "Record a prior cancer therapy",
        PriorTherapyCreateInput,
        PriorTherapySerializer,
        created=True,
        description="Systemic therapy, radiotherapy or surgery before the study: the regimen "
        "or procedure as recorded, its setting, dates as far as known (ended before informed "
        "consent; a surgery has its start only), the line for advanced disease, the best "
        "response and the reason stopped (not for a surgery).",
    ),
    partial_update=_correct(
        "Correct a prior cancer therapy", PriorTherapyUpdateInput, PriorTherapySerializer
    ),
    destroy=_void("Void a prior therapy entered in error", PriorTherapySerializer),
)
class PriorTherapyViewSet(SubjectRecordViewSet):
    record_model = PriorCancerTherapy
    serializer_class = PriorTherapySerializer
    filterset_class = PriorTherapyFilterSet
    create_input = PriorTherapyCreateInput
    update_input = PriorTherapyUpdateInput
    detail_route_name = "api:prior-cancer-therapy-detail"
    record_argument = "therapy"
    update_service = staticmethod(services.prior_therapy_update)
    void_service = staticmethod(services.prior_therapy_void)
    create_service = staticmethod(services.prior_therapy_record)
