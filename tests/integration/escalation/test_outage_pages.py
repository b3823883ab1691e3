"""What a user and a load balancer see when the database is down (reliability review D8)."""

import pytest
from django.db import OperationalError
from django.test import Client, override_settings
from django.urls import path

pytestmark = pytest.mark.django_db


def _fails(request):
    raise OperationalError("connection to server failed")


urlpatterns = [path("fails/", _fails)]


@override_settings(ROOT_URLCONF=__name__, DEBUG=False)
def test_a_server_error_page_says_nothing_was_saved():
    client = Client(raise_request_exception=False)
    response = client.get("/fails/")
    assert response.status_code == 500
    page = response.content.decode()
    assert "<h1>The server could not complete your request</h1>" in page
    assert "Nothing was saved" in page
    assert "Server Error (500)" not in page
