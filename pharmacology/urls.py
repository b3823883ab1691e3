from django.urls import path

from . import views

app_name = "pharmacology"

urlpatterns = [
    path("doses/<int:pk>/samples/", views.dose_samples, name="dose_samples"),
    path("lab-files/", views.lab_imports, name="lab_imports"),
    path("lab-files/<int:pk>/", views.lab_import_detail, name="lab_import"),
    path("pk/", views.pk_page, name="pk"),
    path("immunogenicity/", views.immunogenicity_page, name="immunogenicity"),
]
