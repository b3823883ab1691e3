from django.contrib import admin
from django.urls import include, path

# The 500 page hands back what a failed form post typed (operations/errors.py).
handler500 = "operations.errors.server_error"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("accounts.urls")),
    path("api/", include("api.urls")),
    path("monitoring/", include("monitoring.urls")),
    path("standards/", include("standards.urls")),
    path("efficacy/", include("efficacy.urls")),
    path("designs/", include("simulations.urls")),
    path("", include("operations.urls")),
    path("visits/", include("visits.urls")),
    path("pharmacology/", include("pharmacology.urls")),
    path("quality/", include("quality.urls")),
    path("", include("portal.urls")),
]
