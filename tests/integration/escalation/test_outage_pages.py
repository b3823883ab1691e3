"""What a user and a load balancer see when the database is down (reliability review D8)."""

from unittest import mock

import pytest
from django.db import OperationalError
from django.test import Client, override_settings
from django.urls import path

pytestmark = pytest.mark.django_db


def test_health_answers_json_ok(client):
    response = client.get("/health/")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


def test_health_answers_503_json_when_the_database_is_down(client):
    with mock.patch(
        "core.views.connection.cursor", side_effect=OperationalError("could not connect")
    ):
        response = client.get("/health/")
    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"status": "unavailable", "database": "unreachable"}


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
