from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("accounts.urls")),
    path("api/", include("api.urls")),
    path("monitoring/", include("monitoring.urls")),
    path("standards/", include("standards.urls")),
    path("quality/", include("quality.urls")),
    path("", include("core.urls")),
    path("", include("portal.urls")),
]
