from django.urls import path

from . import views

app_name = "quality"

urlpatterns = [
    path("two-factor/", views.two_factor_page, name="two_factor"),
    path("queries/", views.query_report, name="queries"),
    path("sdv/", views.sdv_report, name="sdv"),
    path("signatures/", views.signatures, name="signatures"),
    path("lock/", views.study_lock, name="study_lock"),
    path("audit/", views.audit_report, name="audit"),
    path("subjects/<int:pk>/", views.subject_page, name="subject"),
    path("subjects/<int:pk>/queries/new/", views.query_open, name="query_open"),
    path("subjects/<int:pk>/checks/run/", views.run_checks, name="run_checks"),
    path("subjects/<int:pk>/verify/", views.verify, name="verify"),
    path("subjects/<int:pk>/freeze/", views.freeze, name="freeze"),
    path("subjects/<int:pk>/lock/", views.lock_subject, name="lock_subject"),
    path("subjects/<int:pk>/unlock/", views.unlock_subject, name="unlock_subject"),
    path("subjects/<int:pk>/sign/", views.sign, name="sign"),
    path("queries/<int:pk>/<str:step>/", views.query_step, name="query_step"),
    path("freezes/<int:pk>/unfreeze/", views.unfreeze, name="unfreeze"),
]
