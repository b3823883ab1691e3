"""The app's URLs plus /bench/bare/: a trivial DRF endpoint with the same authentication,
permission, throttling and middleware as the API, returning a constant list. Registered only
in the benchmark's own urlconf (bench/api_settings.py), never in the product."""

from django.urls import path
from rest_framework.response import Response
from rest_framework.views import APIView

from config.urls import urlpatterns as app_urlpatterns

CONSTANT = {"next": None, "previous": None, "results": [{"id": n} for n in range(100)]}


class BareView(APIView):
    def get(self, request):
        return Response(CONSTANT)


urlpatterns = [path("bench/bare/", BareView.as_view()), *app_urlpatterns]
