from django.urls import path

from . import views

app_name = "pharmacology"

urlpatterns = [
    path("doses/<int:pk>/samples/", views.dose_samples, name="dose_samples"),
]
