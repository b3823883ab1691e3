"""Personal API tokens: made from a signed-in session, shown once, stored as a hash, expiring,
revocable; anything else answers 401. Rate limits answer 429 with Retry-After."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from rest_framework.test import APIClient

from api.models import ApiToken
from api.tokens import hash_secret, token_create

pytestmark = pytest.mark.django_db


def bearer(secret):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


def test_a_signed_in_user_makes_a_token_that_is_shown_once_and_stored_as_a_hash(
    client, coordinator_a
):
    client.force_login(coordinator_a)
    response = client.post(
        "/api/v1/tokens/",
        {"name": "Lab interface", "expires_in_days": 30},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    secret = body["token"]
    assert secret.startswith(f"edc_{body['prefix']}_") and len(secret) > 40
    token = ApiToken.objects.get(pk=body["id"])
    assert token.secret_hash == hash_secret(secret)
    stored = [str(v) for v in ApiToken.objects.filter(pk=token.pk).values().first().values()]
    assert not any(secret in value for value in stored)
    assert timedelta(days=29, hours=23) < token.expires_at - token.created_at <= timedelta(days=30)
    # Never shown again.
    listed = client.get("/api/v1/tokens/").json()["results"]
    assert [t["name"] for t in listed] == ["Lab interface"] and "token" not in listed[0]
    # It works, as its owner.
    own = bearer(secret).get("/api/v1/sites/")
    assert own.status_code == 200 and [s["number"] for s in own.json()["results"]] == ["101"]
    # Its creation is in the audit trail.
    assert [h.history_change_reason for h in token.history.all()] == ["API token created"]


def test_a_token_cannot_make_tokens(api, coordinator_a):
    response = api(coordinator_a).post("/api/v1/tokens/", {"name": "more"}, format="json")
    assert response.status_code == 403
    assert "signed-in session" in response.json()["error"]["message"]


@pytest.mark.parametrize("days", [0, 366, "ninety"])
def test_a_token_lives_one_to_365_days(client, coordinator_a, days):
    client.force_login(coordinator_a)
    response = client.post(
        "/api/v1/tokens/",
        {"name": "x", "expires_in_days": days},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "expires_in_days" in response.json()["error"]["fields"]


def test_default_lifetime_is_90_days(coordinator_a):
    token = token_create(by=coordinator_a, name="default").token
    assert token.expires_at - token.created_at == pytest.approx(
        timedelta(days=90), abs=timedelta(seconds=5)
    )


def test_an_expired_token_answers_401(coordinator_a):
    issued = token_create(by=coordinator_a, name="short", lifetime_days=1)
    client = bearer(issued.secret)
    assert client.get("/api/v1/sites/").status_code == 200
    with time_machine.travel(timezone.now() + timedelta(days=1, seconds=1), tick=False):
        response = client.get("/api/v1/sites/")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


def test_a_revoked_token_answers_401_at_once_and_stays_on_record(coordinator_a):
    issued = token_create(by=coordinator_a, name="to revoke")
    client = bearer(issued.secret)
    revoked = client.delete(f"/api/v1/tokens/{issued.token.pk}/")
    assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"
    assert client.get("/api/v1/sites/").status_code == 401
    token = ApiToken.objects.get(pk=issued.token.pk)
    assert token.revoked_at is not None and token.revoked_by == coordinator_a
    assert [h.history_change_reason for h in token.history.order_by("history_id")] == [
        "API token created",
        "API token revoked",
    ]


def test_a_user_cannot_see_or_revoke_someone_elses_token(api, coordinator_a, coordinator_b):
    theirs = token_create(by=coordinator_b, name="theirs")
    client = api(coordinator_a)
    assert client.delete(f"/api/v1/tokens/{theirs.token.pk}/").status_code == 404
    assert "theirs" not in [t["name"] for t in client.get("/api/v1/tokens/").json()["results"]]
    assert bearer(theirs.secret).get("/api/v1/sites/").status_code == 200


@pytest.mark.parametrize(
    "header",
    [
        "Bearer",
        "Bearer edc_abc",
        "Bearer edc_00000000_not-the-secret",
        "Bearer a b",
        "Bearer édc",
    ],
)
def test_malformed_or_unknown_tokens_answer_401(coordinator_a, header):
    token_create(by=coordinator_a, name="real")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    response = client.get("/api/v1/sites/")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"


def test_a_tampered_secret_with_a_real_prefix_answers_401(coordinator_a):
    issued = token_create(by=coordinator_a, name="real")
    assert bearer(issued.secret[:-2] + "zz").get("/api/v1/sites/").status_code == 401


def test_a_deactivated_users_token_stops_working(coordinator_a):
    issued = token_create(by=coordinator_a, name="leaver")
    coordinator_a.is_active = False
    coordinator_a.save()
    assert bearer(issued.secret).get("/api/v1/sites/").status_code == 401


def test_last_use_is_recorded_without_a_history_row_per_call(coordinator_a):
    issued = token_create(by=coordinator_a, name="used")
    client = bearer(issued.secret)
    for _ in range(3):
        client.get("/api/v1/sites/")
    token = ApiToken.objects.get(pk=issued.token.pk)
    assert token.last_used_at is not None
    assert token.history.count() == 1


def test_rate_limit_answers_429_with_retry_after(settings, coordinator_a):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"user": "3/minute", "anon": "100/minute"},
    }
    client = bearer(token_create(by=coordinator_a, name="busy").secret)
    statuses = [client.get("/api/v1/sites/").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    response = client.get("/api/v1/sites/")
    body = response.json()["error"]
    assert body["code"] == "throttled" and 0 < body["retry_after"] <= 60
    assert int(response["Retry-After"]) == body["retry_after"]


def test_the_rate_limit_is_per_user(settings, coordinator_a, coordinator_b):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"user": "2/minute", "anon": "100/minute"},
    }
    a = bearer(token_create(by=coordinator_a, name="a").secret)
    b = bearer(token_create(by=coordinator_b, name="b").secret)
    assert [a.get("/api/v1/sites/").status_code for _ in range(3)] == [200, 200, 429]
    assert b.get("/api/v1/sites/").status_code == 200


# --- The page ---


def test_the_token_page_needs_sign_in(client):
    response = client.get("/api/tokens/")
    assert response.status_code == 302 and "/accounts/login/" in response.url


def test_the_token_page_makes_lists_and_revokes_tokens(client, coordinator_a):
    client.force_login(coordinator_a)
    made = client.post("/api/tokens/", {"name": "SAS nightly", "expires_in_days": "30"})
    assert made.status_code == 200
    assert made["Cache-Control"] == "no-store"
    token = ApiToken.objects.get(user=coordinator_a)
    page = made.content.decode()
    secret = page.split('value="edc_')[1].split('"')[0]
    assert hash_secret(f"edc_{secret}") == token.secret_hash
    assert "shown this once" in page
    again = client.get("/api/tokens/").content.decode()
    assert "SAS nightly" in again and secret not in again
    revoked = client.post(f"/api/tokens/{token.pk}/revoke/")
    assert revoked.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_the_token_page_keeps_what_was_typed_when_refusing(client, coordinator_a):
    client.force_login(coordinator_a)
    response = client.post("/api/tokens/", {"name": "kept", "expires_in_days": "400"})
    assert response.status_code == 400
    page = response.content.decode()
    assert 'value="kept"' in page and "between 1 and 365 days" in page
    assert not ApiToken.objects.exists()
