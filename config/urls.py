from django.contrib import admin
from django.urls import include, path

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
