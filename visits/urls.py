from django.urls import path

from . import views

app_name = "visits"

urlpatterns = [
    path("subjects/<int:pk>/", views.subject_calendar, name="calendar"),
    path("subjects/<int:pk>/visits/<str:code>/", views.visit_page, name="visit"),
    path("visit/<int:pk>/vital-signs/new/", views.vital_signs_new, name="vital_signs_new"),
    path("visit/<int:pk>/labs/new/", views.lab_new, name="lab_new"),
    path("visit/<int:pk>/ecog/new/", views.ecog_new, name="ecog_new"),
    path("visit/<int:pk>/ecg/new/", views.ecg_new, name="ecg_new"),
    path("visit/<int:pk>/survival/new/", views.survival_new, name="survival_new"),
    path("labs/<int:pk>/adverse-event/", views.lab_adverse_event, name="lab_adverse_event"),
    path("subjects/<int:pk>/medications/", views.medications, name="medications"),
    path("subjects/<int:pk>/medical-history/", views.medical_history, name="medical_history"),
    path("subjects/<int:pk>/cancer-history/", views.cancer_history, name="cancer_history"),
    path("subjects/<int:pk>/prior-therapy/", views.prior_therapy, name="prior_therapy"),
    path("cancer-history/<int:pk>/edit/", views.cancer_history_edit, name="cancer_history_edit"),
    path("cancer-history/<int:pk>/void/", views.cancer_history_void, name="cancer_history_void"),
    path("prior-therapy/<int:pk>/edit/", views.prior_therapy_edit, name="prior_therapy_edit"),
    path("prior-therapy/<int:pk>/void/", views.prior_therapy_void, name="prior_therapy_void"),
    path("missing-forms/", views.missing_forms, name="missing_forms"),
    path("labs/", views.lab_listing, name="lab_listing"),
]
