"""`/health/` in JSON (docs/operations.md §3) and request ids in the logs (§4)."""

import json
import logging
from datetime import timedelta
from unittest import mock

import pytest
from django.db import OperationalError
from django.test import override_settings
from django.utils import timezone

from escalation.tasks import sweep
from operations.models import Heartbeat
from operations.requests import RequestIdFilter
from operations.worker import beat_once

pytestmark = pytest.mark.django_db


@override_settings(REDIS_URL="")
def test_in_process_mode_is_ok_once_the_sweep_has_run(client):
    degraded = client.get("/health/").json()
    assert degraded["status"] == "degraded"
    assert degraded["problems"] == ["the sweep has never run"]
    sweep()
    response = client.get("/health/")
    assert response.status_code == 200
    assert response["Cache-Control"].startswith("max-age=0")
    body = response.json()
    assert body["status"] == "ok" and body["problems"] == []
    assert body["database"] == {"status": "ok"}
    assert body["broker"] == {"status": "not used (tasks run in process)"}
    assert body["sweep"]["status"] == "ok" and body["sweep"]["age_seconds"] < 5
    assert body["queues"] is None


def test_a_late_sweep_is_reported(client, settings):
    settings.EVALUATION_SWEEP_SECONDS = 60
    settings.REDIS_URL = ""
    Heartbeat.objects.create(name="sweep", beat_at=timezone.now() - timedelta(seconds=200))
    body = client.get("/health/").json()
    assert body["status"] == "degraded"
    assert body["sweep"]["status"] == "late"
    assert body["problems"][0].startswith("last sweep 200")


@override_settings(REDIS_URL="redis://127.0.0.1:1/0")
def test_an_unreachable_broker_and_no_worker_are_degraded_not_down(client):
    Heartbeat.beat("sweep")
    response = client.get("/health/")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    assert body["broker"] == {"status": "unreachable"}
    assert body["workers"]["status"] == "missing"
    assert body["problems"] == ["broker unreachable", "no worker heartbeat within 45 s"]


def test_queues_and_workers_are_read_from_the_broker(client, settings):
    settings.REDIS_URL = "redis://broker/0"
    settings.HEALTH_QUEUE_WARNING = 5
    Heartbeat.beat("sweep")
    beat_once("worker:celery@a")
    Heartbeat.objects.create(name="worker:celery@gone", beat_at=timezone.now() - timedelta(hours=2))
    fake = mock.MagicMock()
    fake.pipeline.return_value.__enter__.return_value.execute.return_value = [7, 0]
    with mock.patch("redis.Redis.from_url", return_value=fake):
        body = client.get("/health/").json()
    assert body["broker"] == {"status": "ok"}
    assert body["queues"] == {"evaluations": 7, "celery": 0}
    assert body["workers"]["status"] == "ok"
    assert [w["name"] for w in body["workers"]["seen"]] == ["worker:celery@a", "worker:celery@gone"]
    assert body["problems"] == ["queue evaluations holds 7 tasks"]


def test_health_answers_503_json_when_the_database_is_down(client):
    with mock.patch(
        "operations.views.connection.cursor", side_effect=OperationalError("could not connect")
    ):
        response = client.get("/health/")
    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"status": "unavailable", "database": {"status": "unreachable"}}


def test_every_response_carries_a_request_id_and_keeps_a_valid_incoming_one(client):
    made = client.get("/health/")["X-Request-ID"]
    assert len(made) == 32 and made.isalnum()
    assert client.get("/health/", HTTP_X_REQUEST_ID="lb-1234_abc")["X-Request-ID"] == "lb-1234_abc"
    replaced = client.get("/health/", HTTP_X_REQUEST_ID="bad id\nwith newline")["X-Request-ID"]
    assert replaced != "bad id\nwith newline" and len(replaced) == 32


def test_log_lines_are_json_with_the_request_id(client, caplog):
    from django.conf import settings
    from pythonjsonlogger.json import JsonFormatter

    config = settings.LOGGING["formatters"]["json"]
    formatter = JsonFormatter(config["fmt"], rename_fields=config["rename_fields"])
    caplog.handler.addFilter(RequestIdFilter())
    with caplog.at_level(logging.INFO, logger="edc.request"):
        client.get("/health/", HTTP_X_REQUEST_ID="req-42")
    (record,) = [r for r in caplog.records if r.name == "edc.request"]
    line = json.loads(formatter.format(record))
    assert line["request_id"] == "req-42"
    assert line["logger"] == "edc.request" and line["level"] == "INFO"
    assert line["message"] == "GET /health/ 200"
    assert line["method"] == "GET" and line["status"] == 200 and line["duration_ms"] >= 0


def test_the_request_id_travels_with_a_queued_task():
    from operations.requests import request_id
    from operations.worker import _carry_request_id

    token = request_id.set("req-7")
    try:
        headers = {}
        _carry_request_id(headers=headers)
    finally:
        request_id.reset(token)
    assert headers == {"request_id": "req-7"}
