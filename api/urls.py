"""/api/: the versioned REST API, its OpenAPI document and docs, and the token page."""

from csp.decorators import csp_update
from django.urls import include, path, re_path
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerSplitView,
)
from rest_framework.routers import SimpleRouter

from efficacy import api as efficacy_api
from pharmacology.api import (
    AdaResultViewSet,
    AdaStatusViewSet,
    BiomarkerResultViewSet,
    ConcentrationViewSet,
    LabImportViewSet,
    NcaViewSet,
    SampleViewSet,
)
from quality.api import (
    CasebookSignatureViewSet,
    FreezeViewSet,
    QueryViewSet,
    StudyLockViewSet,
    SubjectLockViewSet,
    VerificationViewSet,
)

from .errors import json_error
from .views.clinical import AdverseEventViewSet, DoseAdministrationViewSet, SubjectViewSet
from .views.designs import SimulationViewSet
from .views.escalation import (
    CommitteeDecisionViewSet,
    DltEvaluationViewSet,
    EscalationDecisionViewSet,
)
from .views.standards import ExportViewSet
from .views.study import (
    CohortViewSet,
    DoseLevelViewSet,
    RegimenViewSet,
    SiteViewSet,
    StudyViewSet,
)
from .views.tokens import ApiTokenViewSet, token_page, token_page_revoke
from .views.visits import (
    CancerHistoryViewSet,
    ConcomitantMedicationViewSet,
    EcgViewSet,
    EcogViewSet,
    LabResultViewSet,
    MedicalHistoryViewSet,
    PriorTherapyViewSet,
    SurvivalContactViewSet,
    VisitViewSet,
    VitalSignsViewSet,
)

app_name = "api"

router = SimpleRouter(use_regex_path=False)
router.register("studies", StudyViewSet, basename="study")
router.register("sites", SiteViewSet, basename="site")
router.register("regimens", RegimenViewSet, basename="regimen")
router.register("dose-levels", DoseLevelViewSet, basename="dose-level")
router.register("cohorts", CohortViewSet, basename="cohort")
router.register("subjects", SubjectViewSet, basename="subject")
router.register("dose-administrations", DoseAdministrationViewSet, basename="dose-administration")
router.register("adverse-events", AdverseEventViewSet, basename="adverse-event")
router.register("dlt-evaluations", DltEvaluationViewSet, basename="dlt-evaluation")
router.register("escalation-decisions", EscalationDecisionViewSet, basename="escalation-decision")
router.register("committee-decisions", CommitteeDecisionViewSet, basename="committee-decision")
router.register("tokens", ApiTokenViewSet, basename="token")
router.register("exports", ExportViewSet, basename="export")
router.register(
    "tumour-assessments", efficacy_api.TumourAssessmentViewSet, basename="tumour-assessment"
)
router.register("lesions", efficacy_api.LesionViewSet, basename="lesion")
router.register(
    "lesion-observations", efficacy_api.LesionObservationViewSet, basename="lesion-observation"
)
router.register(
    "subject-efficacy", efficacy_api.SubjectEfficacyViewSet, basename="subject-efficacy"
)
router.register("efficacy-rates", efficacy_api.EfficacyRateViewSet, basename="efficacy-rate")
router.register(
    "efficacy-survival", efficacy_api.EfficacySurvivalViewSet, basename="efficacy-survival"
)
router.register("simulations", SimulationViewSet, basename="simulation")
router.register("visits", VisitViewSet, basename="visit")
router.register("vital-signs", VitalSignsViewSet, basename="vital-signs")
router.register("lab-results", LabResultViewSet, basename="lab-result")
router.register("ecog-assessments", EcogViewSet, basename="ecog")
router.register("ecgs", EcgViewSet, basename="ecg")
router.register("medical-history", MedicalHistoryViewSet, basename="medical-history")
router.register("survival-contacts", SurvivalContactViewSet, basename="survival-contact")
router.register("cancer-history", CancerHistoryViewSet, basename="cancer-history")
router.register("prior-cancer-therapies", PriorTherapyViewSet, basename="prior-cancer-therapy")
router.register(
    "concomitant-medications", ConcomitantMedicationViewSet, basename="concomitant-medication"
)
router.register("pk-samples", SampleViewSet, basename="pharmacology-sample")
router.register("concentrations", ConcentrationViewSet, basename="concentration")
router.register("ada-results", AdaResultViewSet, basename="ada-result")
router.register("biomarker-results", BiomarkerResultViewSet, basename="biomarker-result")
router.register("nca", NcaViewSet, basename="nca")
router.register("lab-imports", LabImportViewSet, basename="lab-import")
router.register("ada-status", AdaStatusViewSet, basename="ada-status")
# Data quality and sign-off (docs/quality.md).
router.register("queries", QueryViewSet, basename="query")
router.register("source-verifications", VerificationViewSet, basename="source-verification")
router.register("casebook-signatures", CasebookSignatureViewSet, basename="casebook-signature")
router.register("freezes", FreezeViewSet, basename="freeze")
router.register("subject-locks", SubjectLockViewSet, basename="subject-lock")
router.register("study-locks", StudyLockViewSet, basename="study-lock")


@csrf_exempt  # answers 404 to any method; there is nothing to protect
def not_found(request, rest=""):
    return json_error(404, "not_found", "No API endpoint at this address: see /api/docs/.")


# The docs pages run the vendored Swagger UI and Redoc bundles (drf-spectacular-sidecar) under
# the site's Content Security Policy: Swagger UI's set-up script is a file of its own (the split
# view), and Redoc, which styles itself with generated <style> elements and searches in a web
# worker made from a blob, gets exactly those two allowances. Nothing is fetched from elsewhere.
swagger = SpectacularSwaggerSplitView.as_view(
    url_name="api:schema", template_name="api/swagger_ui.html"
)
redoc = csp_update({"style-src": ["'unsafe-inline'"], "worker-src": ["blob:"]})(
    SpectacularRedocView.as_view(url_name="api:schema", template_name="api/redoc.html")
)

urlpatterns = [
    path("v1/", include(router.urls)),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", swagger, name="docs"),
    path("redoc/", redoc, name="redoc"),
    path("tokens/", token_page, name="tokens"),
    path("tokens/<int:pk>/revoke/", token_page_revoke, name="token_revoke"),
    re_path(r"^(?P<rest>[\s\S]*)$", not_found),
]
