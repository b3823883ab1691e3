"""The production shape without Docker (docs/operations.md §7): the web server, the Celery worker
and the sweeper started with docker-compose.yml's own commands, against PostgreSQL and Redis; a
DLT recorded over HTTP through the API becomes the new recommendation, seen over HTTP, and
/health/ reports the worker's heartbeat and the sweep."""

import http.client
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from django.conf import settings
from django.db import connection

from api.tokens import token_create
from escalation.models import Recommendation
from safety.models import CtcaeTerm
from tests.conftest import needs_postgresql
from tests.integration.escalation.test_worker import require_redis

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.services]

ROOT = Path(__file__).resolve().parents[3]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
BIN = Path(sys.executable).parent


def interpolate(word: str, env: dict) -> str:
    """`${NAME:-default}` filled from the environment, as Docker Compose does."""
    return re.sub(r"\$\{(\w+)(?::-([^}]*))?\}", lambda m: env.get(m[1]) or m[2] or "", word)


def compose_command(service: str, *, port: int, env: dict) -> list[str]:
    """The service's command as docker-compose runs it, with this machine's port and programs."""
    command = []
    for word in COMPOSE["services"][service]["command"]:
        word = interpolate(word, env).replace("0.0.0.0:8000", f"127.0.0.1:{port}")
        command.append(word)
    program = shutil.which(command[0], path=str(BIN))
    return [sys.executable if command[0] == "python" else program, *command[1:]]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def request(port, method, path, token=None, body=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Host": "127.0.0.1", "Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    try:
        conn.request(method, path, body=json.dumps(body) if body else None, headers=headers)
        response = conn.getresponse()
        return response.status, response.read(), dict(response.getheaders())
    finally:
        conn.close()


def test_the_docker_image_and_compose_run_the_same_web_command():
    dockerfile = (ROOT / "Dockerfile").read_text()
    cmd = next(line for line in dockerfile.splitlines() if line.startswith("CMD "))
    assert json.loads(cmd[4:]) == COMPOSE["services"]["web"]["command"]


def test_compose_runs_a_worker_process_that_takes_only_evaluations():
    env = {"EVALUATION_QUEUE": "evaluations-x"}
    worker = compose_command("worker", port=1, env=env)
    evaluator = compose_command("evaluator", port=1, env=env)
    # The general worker takes every queue declared (evaluations first); the evaluator only the
    # evaluation queue, the one the app routes evaluations to from the same variable.
    assert "-Q" not in worker
    assert evaluator[evaluator.index("-Q") + 1] == "evaluations-x"
    assert compose_command("evaluator", port=1, env={})[-1] == "evaluations"
    assert COMPOSE["x-app"]["environment"]["EVALUATION_QUEUE"] == "${EVALUATION_QUEUE:-evaluations}"
    # Two workers on one host need names of their own (heartbeats, remote control).
    assert worker[worker.index("-n") + 1] != evaluator[evaluator.index("-n") + 1]


def test_gunicorn_worker_and_sweeper_turn_a_dlt_over_http_into_a_recommendation(
    coordinator_a, monitor, l1_subject, cohort1, tmp_path
):
    needs_postgresql()
    require_redis()
    before = Recommendation.objects.get(track=cohort1.track, status__in=Recommendation.CURRENT)
    assert before.action == "escalate"
    db = connection.settings_dict
    queue = uuid.uuid4().hex[:10]
    port = free_port()
    env = {
        **os.environ,
        # docker-compose's app environment, pointed at this test's database and Redis; queues of
        # this test's own so that no other process's worker takes its tasks.
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        "REDIS_URL": settings.REDIS_URL,
        "DB_CONN_MAX_AGE": "60",
        "SECRET_KEY": "production-shape-test-" + uuid.uuid4().hex,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend",
        "SECURE_COOKIES": "0",
        "SECURE_SSL_REDIRECT": "0",
        "SECURE_HSTS_SECONDS": "0",
        "NUM_PROXIES": "0",
        "EVALUATION_SWEEP_SECONDS": "3",
        "WORKER_HEARTBEAT_SECONDS": "2",
        "EVALUATION_QUEUE": f"evaluations-{queue}",
        "CELERY_TASK_DEFAULT_QUEUE": f"celery-{queue}",
        "DEBUG": "0",
    }
    processes = {}
    try:
        for service in ("web", "worker", "evaluator", "sweeper"):
            log = (tmp_path / f"{service}.log").open("w")
            processes[service] = subprocess.Popen(
                compose_command(service, port=port, env=env),
                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip

        def logs():
            return "\n".join(
                f"--- {name}\n{(tmp_path / f'{name}.log').read_text()[-3000:]}"
                for name in processes
            )

        deadline = time.monotonic() + 90
        health = {}
        while time.monotonic() < deadline:
            assert all(p.poll() is None for p in processes.values()), logs()
            try:
                status, body, _ = request(port, "GET", "/health/")
                health = json.loads(body)
                if status == 200 and health["status"] == "ok":
                    break
            except OSError:
                pass
            time.sleep(0.5)
        assert health.get("status") == "ok", (health, logs())
        assert health["workers"]["status"] == "ok" and health["sweep"]["status"] == "ok"
        while time.monotonic() < deadline and len(health["workers"]["seen"]) < 2:
            time.sleep(0.5)  # the second worker's first heartbeat
            health = json.loads(request(port, "GET", "/health/")[1])
        names = {w["name"].split("@")[0] for w in health["workers"]["seen"]}
        assert names == {"worker:worker", "worker:evaluator"}, (health, logs())
        assert health["broker"] == {"status": "ok"}

        token = token_create(by=coordinator_a, name="production shape").secret
        first = l1_subject.dose_administrations.order_by("administered_on").first()
        status, body, headers = request(
            port,
            "POST",
            "/api/v1/adverse-events/",
            token,
            {
                "subject": l1_subject.pk,
                "meddra_code": CtcaeTerm.objects.get(term="Neutrophil count decreased").meddra_code,
                "verbatim_term": "neutropenia",
                "grade": 3,
                "onset_date": str(first.administered_on + timedelta(days=5)),
                "relationship": "probable",
                "action_taken": "delayed",
                "outcome": "not_recovered",
                "dlt_investigator": True,
            },
        )
        assert status == 201, (body, logs())
        assert len(headers["X-Request-ID"]) == 32
        committed = time.monotonic()
        monitor_token = token_create(by=monitor, name="production shape").secret
        seen = None
        while time.monotonic() < committed + 60:
            status, body, _ = request(
                port,
                "GET",
                f"/api/v1/escalation-decisions/?track={cohort1.track_id}",
                monitor_token,
            )
            assert status == 200, body
            # Only what the DLT produced: the setup's own earlier (superseded) steps are listed too.
            current = [r for r in json.loads(body)["results"] if r["id"] > before.pk]
            if current:
                seen = max(current, key=lambda r: r["id"])
                break
            time.sleep(0.2)
        assert seen is not None, "no new recommendation within 60 s\n" + logs()
        print(f"commit to recommendation over HTTP: {time.monotonic() - committed:.2f} s")
        assert seen["action"] == "enroll" and seen["n_subjects"] == 2
    finally:
        for process in processes.values():
            process.terminate()
        for process in processes.values():
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
