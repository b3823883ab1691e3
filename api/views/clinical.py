"""Subjects, dose administrations and adverse events: read, and written by integrations through
the same services as the web pages (subjects/services.py, dosing/services.py,
safety/services.py), with `by=request.user`."""

from django.db.models import F
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework.decorators import action

from api import filters, inputs
from api.serializers import (
    AdverseEventSerializer,
    DoseAdministrationSerializer,
    SubjectColumns,
    SubjectSerializer,
)
from api.streaming import StreamedPullMixin
from dosing import services as dosing
from dosing.models import DoseAdministration
from safety import services as safety
from safety.models import AdverseEvent
from subjects import services as subjects
from subjects.models import Subject

from .base import VOID_REASON, ClinicalWriteViewSet, HistoryMixin


def _write_schema(summary: str, request, response, *, description: str = "", created=False):
    return extend_schema(
        summary=summary,
        description=description,
        request=request,
        responses={201 if created else 200: response},
    )


def _void_schema(summary: str, response):
    return extend_schema(
        summary=summary,
        description="Voids the record with a reason (nothing is deleted: it stays on record, "
        "leaves every count and rule, and appears in incremental pulls with voided=true). "
        "Needs If-Match.",
        parameters=[VOID_REASON],
        request=None,
        responses={200: response},
    )


def _correct_schema(summary: str, request, response):
    return extend_schema(
        summary=summary,
        description="Changes only the fields sent, with a `reason` kept in the audit history. "
        "Needs If-Match with the ETag of the version edited.",
        request=request,
        responses={200: response},
    )


@extend_schema_view(
    list=extend_schema(summary="Subjects (a site role sees its own sites' only)"),
    retrieve=extend_schema(summary="A subject"),
    create=_write_schema(
        "Register a subject at screening",
        inputs.SubjectScreenInput,
        SubjectSerializer,
        created=True,
        description="Assigns nothing yet: consent, eligibility and enrollment follow.",
    ),
    partial_update=_correct_schema(
        "Correct a subject's data", inputs.SubjectUpdateInput, SubjectSerializer
    ),
    destroy=_void_schema(
        "Void a subject registered in error (one without doses or adverse events)",
        SubjectSerializer,
    ),
)
class SubjectViewSet(StreamedPullMixin, HistoryMixin, ClinicalWriteViewSet):
    serializer_class = SubjectSerializer
    filterset_class = filters.SubjectFilterSet
    create_input = inputs.SubjectScreenInput
    update_input = inputs.SubjectUpdateInput
    detail_route_name = "api:subject-detail"
    record_argument = "subject"
    update_service = staticmethod(subjects.subject_update)
    void_service = staticmethod(subjects.subject_void)

    def base_queryset(self):
        return Subject.all_objects.annotate(
            api_site_number=F("site__number"),
            api_cohort_number=F("cohort__number"),
            api_dose_level=F("cohort__dose_level_id"),
            api_track_code=F("cohort__track__code"),
        )

    def service_create(self, data):
        return subjects.subject_screen(by=self.request.user, **data)

    @_write_schema("Record informed consent", inputs.SubjectConsentInput, SubjectSerializer)
    @action(detail=True, methods=["post"])
    def consent(self, request, pk=None):
        return self.action_on_record(inputs.SubjectConsentInput, subjects.subject_record_consent)

    @_write_schema(
        "Record the eligibility checklist",
        inputs.SubjectEligibilityInput,
        SubjectSerializer,
        description="Every inclusion and exclusion criterion of the study answered; the "
        "outcome (eligible or not) is computed.",
    )
    @action(detail=True, methods=["post"])
    def eligibility(self, request, pk=None):
        return self.action_on_record(
            inputs.SubjectEligibilityInput, subjects.subject_record_eligibility
        )

    @_write_schema(
        "Enroll into an open cohort",
        inputs.SubjectEnrollInput,
        SubjectSerializer,
        description="Assigns the subject number. When two enrollments race for a cohort's last "
        "place, exactly one succeeds; the other is told the cohort is full (400).",
    )
    @action(detail=True, methods=["post"])
    def enroll(self, request, pk=None):
        return self.action_on_record(inputs.SubjectEnrollInput, subjects.subject_enroll)

    @_write_schema("Record a screen failure", inputs.SubjectScreenFailInput, SubjectSerializer)
    @action(detail=True, methods=["post"], url_path="screen-failure")
    def screen_failure(self, request, pk=None):
        return self.action_on_record(inputs.SubjectScreenFailInput, subjects.subject_screen_fail)

    @_write_schema(
        "Record the demographics: ethnicity and races",
        inputs.SubjectDemographicsInput,
        SubjectSerializer,
        description="CDISC CT ETHNIC and RACE values; several races allowed (NOT REPORTED and "
        "UNKNOWN alone, OTHER with race_other). Once recorded, a change needs a reason and a "
        "role that corrects data.",
    )
    @action(detail=True, methods=["post"])
    def demographics(self, request, pk=None):
        return self.action_on_record(
            inputs.SubjectDemographicsInput, subjects.subject_record_demographics
        )

    @_write_schema(
        "Record the end of treatment", inputs.SubjectEndTreatmentInput, SubjectSerializer
    )
    @action(detail=True, methods=["post"], url_path="end-treatment")
    def end_treatment(self, request, pk=None):
        return self.action_on_record(
            inputs.SubjectEndTreatmentInput, subjects.subject_end_treatment
        )

    @_write_schema("Record the end of study", inputs.SubjectEndStudyInput, SubjectSerializer)
    @action(detail=True, methods=["post"], url_path="end-study")
    def end_study(self, request, pk=None):
        return self.action_on_record(inputs.SubjectEndStudyInput, subjects.subject_end_study)

    @_write_schema(
        "Record a death",
        inputs.SubjectDeathInput,
        SubjectSerializer,
        description="An enrolled subject leaves treatment and the study on that date.",
    )
    @action(detail=True, methods=["post"])
    def death(self, request, pk=None):
        return self.action_on_record(inputs.SubjectDeathInput, subjects.subject_record_death)


@extend_schema_view(
    list=extend_schema(summary="Dose administrations"),
    retrieve=extend_schema(summary="A dose administration"),
    create=_write_schema(
        "Record an infusion",
        inputs.DoseCreateInput,
        DoseAdministrationSerializer,
        created=True,
        description="At the subject's cohort dose level; the total mg is computed from the "
        "weight. Times carry their UTC offset.",
    ),
    partial_update=_correct_schema(
        "Correct a dose", inputs.DoseUpdateInput, DoseAdministrationSerializer
    ),
    destroy=_void_schema("Void a dose recorded in error", DoseAdministrationSerializer),
)
class DoseAdministrationViewSet(StreamedPullMixin, HistoryMixin, ClinicalWriteViewSet):
    serializer_class = DoseAdministrationSerializer
    filterset_class = filters.DoseAdministrationFilterSet
    create_input = inputs.DoseCreateInput
    update_input = inputs.DoseUpdateInput
    detail_route_name = "api:dose-administration-detail"
    record_argument = "dose"
    update_service = staticmethod(dosing.dose_update)
    void_service = staticmethod(dosing.dose_void)

    def base_queryset(self):
        return DoseAdministration.all_objects.annotate(
            **SubjectColumns.ANNOTATIONS,
            api_cohort_number=F("cohort__number"),
        )

    def service_create(self, data):
        data["confirm_outside_window"] = data.pop("outside_visit_window_confirmed", False)
        return dosing.dose_record(by=self.request.user, **data)


@extend_schema_view(
    list=extend_schema(
        summary="Adverse events (CTCAE v5.0 term, MedDRA code, SOC, grade, DLT calls)"
    ),
    retrieve=extend_schema(summary="An adverse event"),
    create=_write_schema(
        "Report an adverse event",
        inputs.AdverseEventCreateInput,
        AdverseEventSerializer,
        created=True,
        description="The term by its MedDRA code; the grade must exist for the term. A serious "
        "event names at least one seriousness criterion.",
    ),
    partial_update=_correct_schema(
        "Correct an adverse event", inputs.AdverseEventUpdateInput, AdverseEventSerializer
    ),
    destroy=_void_schema("Void an adverse event entered in error", AdverseEventSerializer),
)
class AdverseEventViewSet(StreamedPullMixin, HistoryMixin, ClinicalWriteViewSet):
    serializer_class = AdverseEventSerializer
    filterset_class = filters.AdverseEventFilterSet
    create_input = inputs.AdverseEventCreateInput
    update_input = inputs.AdverseEventUpdateInput
    detail_route_name = "api:adverse-event-detail"
    record_argument = "adverse_event"
    update_service = staticmethod(safety.adverse_event_update)
    void_service = staticmethod(safety.adverse_event_void)

    def base_queryset(self):
        return AdverseEvent.all_objects.annotate(
            **SubjectColumns.ANNOTATIONS,
            api_cohort=F("subject__cohort_id"),
            api_term=F("ctcae_term__term"),
            api_meddra_code=F("ctcae_term__meddra_code"),
            api_soc=F("ctcae_term__soc"),
            api_ctcae_version=F("ctcae_term__version"),
            api_dlt_attested_by=F("dlt_attested_by__username"),
        )

    @_write_schema(
        "The investigator attests the DLT call",
        inputs.AdverseEventAttestInput,
        AdverseEventSerializer,
        description="A DLT call proposed by a coordinator counts as a DLT but awaits the "
        "investigator's attestation; the committee signs no decision on it until then. "
        "Investigator role only.",
    )
    @action(detail=True, methods=["post"])
    def attest(self, request, pk=None):
        return self.action_on_record(inputs.AdverseEventAttestInput, safety.attest_dlt_call)

    def service_create(self, data):
        seriousness = tuple(name for name in inputs.SERIOUSNESS_FIELDS if data.pop(name, False))
        return safety.adverse_event_report(by=self.request.user, seriousness=seriousness, **data)
