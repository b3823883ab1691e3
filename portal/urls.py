from django.templatetags.static import static
from django.urls import path
from django.views.generic import RedirectView

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    # Browsers and tools ask for /favicon.ico whatever the page says: the app's own icon.
    path("favicon.ico", RedirectView.as_view(url=static("favicon.svg"), permanent=True)),
    path("session/keepalive/", views.keepalive, name="keepalive"),
    # Screening to enrollment
    path("subjects/new/", views.subject_new, name="subject_new"),
    path("subjects/<int:pk>/", views.subject_detail, name="subject_detail"),
    path("subjects/<int:pk>/screening/", views.screening, name="screening"),
    path("subjects/<int:pk>/consent/", views.consent, name="consent"),
    path("subjects/<int:pk>/eligibility/", views.eligibility, name="eligibility"),
    path("subjects/<int:pk>/screen-failure/", views.screen_fail, name="screen_fail"),
    path("subjects/<int:pk>/enroll/", views.enroll, name="enroll"),
    path("subjects/<int:pk>/edit/", views.subject_edit, name="subject_edit"),
    path("subjects/<int:pk>/demographics/", views.demographics, name="demographics"),
    # End of participation
    path("subjects/<int:pk>/end-of-treatment/", views.end_treatment, name="end_treatment"),
    path("subjects/<int:pk>/end-of-study/", views.end_study, name="end_study"),
    path("subjects/<int:pk>/death/", views.record_death, name="record_death"),
    # Dosing
    path("subjects/<int:pk>/doses/new/", views.dose_new, name="dose_new"),
    path("subjects/<int:pk>/doses/total/", views.dose_total, name="dose_total"),
    path("doses/<int:pk>/edit/", views.dose_edit, name="dose_edit"),
    path("doses/<int:pk>/void/", views.dose_void_view, name="dose_void"),
    # Adverse events
    path("subjects/<int:pk>/adverse-events/new/", views.adverse_event_new, name="ae_new"),
    path("adverse-events/<int:pk>/edit/", views.adverse_event_edit, name="ae_edit"),
    path("adverse-events/<int:pk>/attest/", views.adverse_event_attest, name="ae_attest"),
    path("adverse-events/<int:pk>/void/", views.adverse_event_void_view, name="ae_void"),
    path("ctcae/search/", views.ctcae_search, name="ctcae_search"),
    path("ctcae/grades/", views.ctcae_grades, name="ctcae_grades"),
]
