from django.urls import path

from . import views

app_name = "simulations"

urlpatterns = [
    path("simulations/", views.simulations, name="simulations"),
    path("simulations/<int:pk>/", views.simulation_detail, name="simulation"),
    path("simulations/<int:pk>/progress/", views.simulation_progress, name="simulation_progress"),
    path("simulations/<int:pk>/csv/", views.simulation_csv, name="simulation_csv"),
]
