"""The production shape is hardened: `check --deploy` has nothing to say, every page carries a
Content-Security-Policy without inline scripts, pages and API responses with clinical data are
not cached, rate limits and lockout records take the client address only from trusted proxies,
and the API docs ask nothing of other hosts."""

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from django.test import RequestFactory
from django.urls import reverse
from rest_framework.test import APIClient

from api.tokens import token_create
from config.client_ip import client_address
from tests.factories import screened_subject

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "ALLOWED_HOSTS": "edc.example.org",
    "SECURE_COOKIES": "1",
    "SECURE_SSL_REDIRECT": "1",
    "SECURE_HSTS_SECONDS": "31536000",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": "1",
    "SECURE_PROXY_SSL_HEADER": "HTTP_X_FORWARDED_PROTO,https",
    "NUM_PROXIES": "1",
}


def deploy_check(env: dict) -> subprocess.CompletedProcess:
    # The test run's own settings stay out (the browser tests set DJANGO_ALLOW_ASYNC_UNSAFE).
    environment = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(
            ("SECURE_", "DEBUG", "SECRET_KEY", "NUM_PROXIES", "DJANGO_ALLOW_ASYNC_UNSAFE")
        )
    }
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env={**environment, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_in_the_production_shape():
    result = deploy_check(PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_still_warns_without_the_https_settings():
    bare = {k: v for k, v in PRODUCTION.items() if not k.startswith("SECURE_")}
    result = deploy_check(bare)
    assert result.returncode != 0
    for warning in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert warning in result.stdout + result.stderr


def test_docker_compose_runs_the_production_shape():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    app = compose["x-app"]["environment"]
    for name in ("SECURE_COOKIES", "SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS", "NUM_PROXIES"):
        assert name in app, name
    assert app["DATABASE_URL"].startswith("postgres://edc_app:")  # the runtime role
    assert "MIGRATION_DATABASE_URL" in compose["services"]["migrate"]["environment"]
    assert "grant_runtime_role" in compose["services"]["migrate"]["command"]


# --- Content Security Policy ---


def policy(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    directives = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            directives[words[0]] = words[1:]
    return directives


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I)
INLINE_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.I)


@pytest.fixture
def pages(client, coordinator_a, monitor, site_a, cohort1, ctcae):
    subject = screened_subject(coordinator_a, site_a, "S-1")
    return subject


@pytest.mark.parametrize(
    ("who", "url"),
    [
        (None, "/accounts/login/"),
        ("coordinator_a", "/"),
        ("coordinator_a", "casebook"),
        ("coordinator_a", "/api/tokens/"),
        ("monitor", "/monitoring/"),
        (None, "/api/docs/"),
        (None, "/admin/login/"),
    ],
)
def test_every_page_has_a_strict_policy_and_no_inline_script(request, client, pages, who, url):
    if who:
        client.force_login(request.getfixturevalue(who))
    if url == "casebook":
        url = reverse("subject_detail", args=[pages.pk])
    response = client.get(url, follow=True)
    assert response.status_code == 200
    directives = policy(response)
    assert directives["script-src"] == ["'self'"]
    assert directives["default-src"] == ["'self'"]
    assert directives["object-src"] == ["'none'"] and directives["frame-ancestors"] == ["'none'"]
    assert "'unsafe-inline'" not in directives["style-src"]
    html = response.content.decode()
    assert not INLINE_SCRIPT.search(html), INLINE_SCRIPT.search(html).group(0)
    assert not INLINE_HANDLER.search(html), INLINE_HANDLER.search(html).group(0)


def test_redoc_uses_only_the_apps_own_files(client):
    response = client.get("/api/redoc/")
    assert response.status_code == 200
    html = response.content.decode()
    assert not re.search(r"(https?:)?//[^\s\"'<>]", html.replace("://", "§")), html
    for host in ("fonts.googleapis.com", "fonts.gstatic.com", "cdn.redoc.ly", "cdn.jsdelivr"):
        assert host not in html
    assert not INLINE_SCRIPT.search(html)
    directives = policy(response)
    assert directives["script-src"] == ["'self'"] and directives["img-src"] == ["'self'", "data:"]
    assert directives["worker-src"] == ["blob:"]  # Redoc's search; its own images stay blocked
    assert "'unsafe-inline'" in directives["style-src"]  # Redoc's generated styles, this page only


def test_swagger_ui_loads_its_set_up_as_a_file(client):
    html = client.get("/api/docs/").content.decode()
    script = re.search(r'<script src="([^"]*\?script=?)"', html)
    assert script, html
    setup = client.get(script.group(1))
    assert setup.status_code == 200 and "SwaggerUIBundle" in setup.content.decode()
    assert '"validatorUrl": null' in setup.content.decode().replace("'", '"')


# --- Not cached ---


def test_signed_in_pages_and_api_responses_are_not_stored(client, api_client_of, pages):
    user = pages.created_by
    client.force_login(user)
    for url in ("/", reverse("subject_detail", args=[pages.pk]), "/api/tokens/"):
        assert "no-store" in client.get(url)["Cache-Control"], url
    api = api_client_of(user)
    for url in ("/api/v1/subjects/", f"/api/v1/subjects/{pages.pk}/", "/api/v1/nothing/"):
        response = api.get(url)
        if response.status_code != 404:
            assert "no-store" in response["Cache-Control"], url
    assert "no-store" in APIClient().get("/api/v1/subjects/")["Cache-Control"]


@pytest.fixture
def api_client_of():
    def make(user):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_create(by=user, name='t').secret}")
        return client

    return make


# --- The client address, from trusted proxies only ---


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (0, "10.1.0.7", "192.0.2.1"),  # not behind a proxy: the header is the client's own text
        (0, None, "192.0.2.1"),
        (1, "10.1.0.7", "10.1.0.7"),
        (1, "6.6.6.6, 10.1.0.7", "10.1.0.7"),  # the client's own entry is not believed
        (2, "6.6.6.6, 10.1.0.7, 10.0.0.2", "10.1.0.7"),
    ],
)
def test_the_client_address_is_taken_from_trusted_proxies_only(
    settings, proxies, forwarded, expected
):
    settings.NUM_PROXIES = proxies
    extra = {"REMOTE_ADDR": "192.0.2.1"}
    if forwarded:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    assert client_address(RequestFactory().get("/", **extra)) == expected


def tight_limits(settings, anon="3/minute"):
    import uuid

    # NUM_PROXIES as the project sets it (0 by default): not overridden here.
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"user": "1000/minute", "anon": anon},
    }
    settings.CACHES = {
        **settings.CACHES,
        "api_throttle": {**settings.CACHES["api_throttle"], "KEY_PREFIX": uuid.uuid4().hex},
    }


def test_a_forged_forwarded_for_header_gets_no_fresh_allowance(settings):
    tight_limits(settings)
    statuses = [
        APIClient().get("/api/schema/", HTTP_X_FORWARDED_FOR=f"10.1.0.{i}").status_code
        for i in range(5)
    ]
    assert statuses[:3] == [200, 200, 200] and statuses[3:] == [429, 429]


@pytest.mark.parametrize(
    "header", [None, "Bearer edc_0f96bb6a_guess", "Bearer nonsense", "Basic dXNlcjpwYXNz"]
)
def test_refused_credentials_are_rate_limited_too(settings, coordinator_a, header):
    tight_limits(settings)
    client = APIClient()
    if header:
        client.credentials(HTTP_AUTHORIZATION=header)
    statuses = [client.get("/api/v1/subjects/").status_code for _ in range(5)]
    assert statuses[:3] == [401, 401, 401] and statuses[3:] == [429, 429], statuses
    body = client.get("/api/v1/subjects/").json()["error"]
    assert body["code"] == "throttled" and body["retry_after"] > 0
    # A valid token is a user: counted per user, not refused with the address's failures.
    good = APIClient()
    good.credentials(HTTP_AUTHORIZATION=f"Bearer {token_create(by=coordinator_a, name='t').secret}")
    assert good.get("/api/v1/subjects/").status_code == 200
