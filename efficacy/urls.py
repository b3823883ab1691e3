from django.urls import path

from . import views

app_name = "efficacy"

urlpatterns = [
    path("", views.endpoints, name="endpoints"),
    path("subjects/<int:pk>/", views.subject_page, name="subject"),
    path(
        "subjects/<int:pk>/assessments/new/<str:kind>/",
        views.assessment_new,
        name="assessment_new",
    ),
    path("assessments/<int:pk>/void/", views.assessment_void, name="assessment_void"),
    path("observations/<int:pk>/edit/", views.observation_edit, name="observation_edit"),
]
