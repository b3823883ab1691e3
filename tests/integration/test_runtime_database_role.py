"""The app's runtime database role (core/db.py, `grant_runtime_role`) owns nothing: it cannot
truncate, disable the audit-history triggers, switch to replica mode, rewrite or delete history,
or delete clinical rows. And it has every right the app needs: a real session of the app run as
that role (sign-in, pages, the API, a lockout, a membership change) goes through.

PostgreSQL only; the test makes its own role (roles are cluster-wide: a unique name, dropped
afterwards) and commits, so it runs outside the usual test transaction."""

import os
import secrets
import subprocess
import sys
import textwrap
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection

from safety.models import AdverseEvent
from subjects.models import Subject
from tests.conftest import needs_postgresql

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def runtime_role(monkeypatch):
    needs_postgresql()
    import psycopg2

    role = f"edc_test_runtime_{secrets.token_hex(4)}"
    password = secrets.token_urlsafe(18)
    monkeypatch.setenv("RUNTIME_DB_PASSWORD", password)
    out = StringIO()
    call_command("grant_runtime_role", role, "--database", "default", stdout=out)
    assert f"Created role {role}" in out.getvalue()
    settings = connection.settings_dict
    params = {
        "dbname": settings["NAME"],
        "user": role,
        "password": password,
        "host": settings["HOST"] or "127.0.0.1",
        "port": settings["PORT"] or 5432,
    }
    connections = []

    def connect():
        conn = psycopg2.connect(**params)
        conn.autocommit = True
        connections.append(conn)
        return conn

    try:
        yield role, params, connect
    finally:
        for conn in connections:
            conn.close()
        with connection.cursor() as cursor:
            cursor.execute(f'DROP OWNED BY "{role}"')
            cursor.execute(f'DROP ROLE "{role}"')


def refused(cursor, statement) -> str:
    import psycopg2

    with pytest.raises(psycopg2.Error) as excinfo:
        cursor.execute(statement)
    return str(excinfo.value)


def test_the_runtime_role_cannot_touch_the_audit_trail(runtime_role):
    role, _, connect = runtime_role
    cursor = connect().cursor()
    history = AdverseEvent.history.model._meta.db_table
    clinical = AdverseEvent._meta.db_table
    assert "permission denied" in refused(cursor, f"TRUNCATE {history}")
    assert "must be owner" in refused(
        cursor, f"ALTER TABLE {history} DISABLE TRIGGER history_append_only"
    )
    assert "must be owner" in refused(cursor, f"ALTER TABLE {history} DISABLE TRIGGER ALL")
    assert "permission denied" in refused(cursor, "SET session_replication_role = replica")
    assert "permission denied" in refused(cursor, f"UPDATE {history} SET grade = 5")
    assert "permission denied" in refused(cursor, f"DELETE FROM {history}")
    assert "permission denied" in refused(cursor, f"DELETE FROM {clinical}")
    assert "permission denied" in refused(cursor, f"TRUNCATE {clinical}")
    assert "permission denied" in refused(cursor, "CREATE TABLE rogue (id int)")
    assert "must be owner" in refused(cursor, f"DROP TABLE {history}")
    cursor.execute(f"SELECT count(*) FROM {history}")  # reading is allowed
    cursor.execute("SELECT rolsuper, rolcreaterole FROM pg_roles WHERE rolname = %s", [role])
    assert cursor.fetchone() == (False, False)


def test_grants_are_idempotent_and_refuse_a_powerful_role(runtime_role):
    role, _, _ = runtime_role
    call_command("grant_runtime_role", role, "--database", "default", stdout=StringIO())
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="superuser"):
        call_command("grant_runtime_role", "postgres", "--database", "default", stdout=StringIO())


APP_SESSION = textwrap.dedent(
    """
    from django.core.management import call_command
    from django.test import Client
    from rest_framework.test import APIClient

    from accounts.models import Membership
    from api.tokens import token_create
    from accounts.models import User
    from subjects.models import Subject

    call_command("load_study", "mil97")
    call_command("import_ctcae")
    call_command("load_demo")
    call_command("sweep")

    coordinator = Client()
    login = {"username": "coordinator_a", "password": "phase1-demo"}
    assert coordinator.post("/accounts/login/", login).status_code == 302
    assert coordinator.get("/").status_code == 200
    subject = Subject.objects.get(screening_number="S101-001")
    assert coordinator.get(f"/subjects/{subject.pk}/").status_code == 200

    monitor = Client()
    monitor.post("/accounts/login/", {"username": "monitor", "password": "wrong"})
    assert monitor.post("/accounts/login/", {"username": "monitor", "password": "phase1-demo"}).status_code == 302
    assert monitor.get("/monitoring/").status_code == 200

    api = APIClient()
    user = User.objects.get(username="coordinator_a")
    api.credentials(HTTP_AUTHORIZATION="Bearer " + token_create(by=user, name="feed").secret)
    response = api.patch(
        f"/api/v1/subjects/{subject.pk}/",
        {"year_of_birth": 1962, "reason": "per source"},
        format="json",
        HTTP_IF_MATCH=f'"{subject.pk}.{subject.version}"',
    )
    assert response.status_code == 200, response.content

    membership = Membership.objects.get(user__username="coordinator_b")
    membership._change_reason = "moved"
    membership.sites.set([])

    for _ in range(5):
        Client().post("/accounts/login/", {"username": "coordinator_a", "password": "bad"})
    assert coordinator.get("/").status_code == 302
    assert api.get("/api/v1/sites/").status_code == 401
    assert monitor.post("/accounts/logout/").status_code == 302
    print("RUNTIME-ROLE-SESSION-OK")
    """
)


def test_the_app_runs_as_the_runtime_role(runtime_role):
    _, params, _ = runtime_role
    url = (
        f"postgres://{params['user']}:{params['password']}@{params['host']}:{params['port']}"
        f"/{params['dbname']}"
    )
    environment = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL",)}
    environment.update(DATABASE_URL=url, CTCAE_WORKBOOK="", EDC_REQUIRE_SERVICES="0")
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", APP_SESSION],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert "RUNTIME-ROLE-SESSION-OK" in result.stdout, result.stdout[-3000:] + result.stderr[-6000:]
    assert Subject.objects.filter(screening_number="S101-001").exists()
