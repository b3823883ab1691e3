"""The data quality API: queries with If-Match, the status lists, 423 for locked data
(docs/quality.md)."""

from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from api.tokens import token_create
from quality import services
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fast_hashes(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def api(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_create(by=user, name='t').secret}")
    return client


def test_query_lifecycle_over_the_api(monitor, coordinator_a, coordinator_b, subject, dose):
    body = {
        "subject": subject.pk,
        "form": "dose",
        "record_id": dose.pk,
        "field": "lot_number",
        "text": "Lot?",
    }
    assert api(coordinator_a).post("/api/v1/queries/", body, format="json").status_code == 403
    created = api(monitor).post("/api/v1/queries/", body, format="json")
    assert created.status_code == 201, created.content
    query = created.json()
    assert (query["status"], query["field"], query["origin"]) == ("open", "lot_number", "manual")
    etag = created["ETag"]
    url = f"/api/v1/queries/{query['id']}/"
    # Another site does not see it; the site answers with If-Match.
    assert api(coordinator_b).get(url).status_code == 404
    site = api(coordinator_a)
    assert site.post(url + "answer/", {"text": "Fixed"}, format="json").status_code == 428
    answered = site.post(url + "answer/", {"text": "Fixed"}, format="json", HTTP_IF_MATCH=etag)
    assert answered.status_code == 200 and answered.json()["status"] == "answered"
    # The old ETag is stale now.
    stale = api(monitor).post(url + "close/", {}, format="json", HTTP_IF_MATCH=etag)
    assert stale.status_code == 412
    closed = api(monitor).post(url + "close/", {}, format="json", HTTP_IF_MATCH=answered["ETag"])
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    history = api(monitor).get(url + "history/").json()
    assert [h["version"] for h in history] == [1, 2, 3]
    listed = api(coordinator_a).get("/api/v1/queries/").json()["results"]
    assert [q["id"] for q in listed] == [query["id"]]


def test_status_lists(cra, investigator_a, data_manager, subject, dose):
    services.sdv_verify(by=cra, subject=subject, form="dose", record_id=dose.pk)
    services.casebook_sign(by=investigator_a, subject=subject, password=PASSWORD)
    services.form_freeze(by=data_manager, subject=subject, form="dose", record_id=dose.pk)
    client = api(investigator_a)
    [verification] = client.get("/api/v1/source-verifications/").json()["results"]
    assert (verification["form"], verification["record_id"]) == ("dose", dose.pk)
    [signature] = client.get("/api/v1/casebook-signatures/").json()["results"]
    assert signature["valid"] is True and signature["meaning"] == "approved"
    assert signature["content_digest"] == services.casebook_digest(subject)
    [freeze] = client.get("/api/v1/freezes/").json()["results"]
    assert freeze["unfrozen_at"] is None
    assert client.get("/api/v1/subject-locks/").json()["results"] == []


def test_writes_to_locked_data_answer_423_and_change_nothing(
    coordinator_a, data_manager, subject, dose, study
):
    client = api(coordinator_a)
    got = client.get(f"/api/v1/dose-administrations/{dose.pk}/")
    services.subject_lock(by=data_manager, subject=subject, reason="Clean")
    response = client.patch(
        f"/api/v1/dose-administrations/{dose.pk}/",
        {"body_weight_kg": "71", "reason": "Reweighed"},
        format="json",
        HTTP_IF_MATCH=got["ETag"],
    )
    assert response.status_code == 423, response.content
    error = response.json()["error"]
    assert error["code"] == "locked" and "is locked" in error["message"]
    dose.refresh_from_db()
    assert dose.body_weight_kg == Decimal("70.0") and dose.version == 1
    # The study database lock refuses a new subject too.
    services.study_lock(by=data_manager, study=study, reason="Analysis")
    created = client.post(
        "/api/v1/subjects/",
        {
            "site": subject.site_id,
            "screening_number": "S101-077",
            "sex": "F",
            "year_of_birth": 1970,
            "screening_date": subject.screening_date.isoformat(),
        },
        format="json",
    )
    assert created.status_code == 423, created.content
    assert "study database is locked" in created.json()["error"]["message"]
