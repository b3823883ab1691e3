"""The pharmacology API: samples written through the services, results and NCA read with
scoping, CSV, history and updated_since; laboratory files from integrated systems."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from api.tokens import token_create
from pharmacology.models import Concentration, LabImport
from tests.integration.pharmacology.conftest import pk_csv


@pytest.fixture(autouse=True)
def fast_hashes(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def api(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_create(by=user, name='t').secret}")
    return client


def test_record_a_sample_through_the_api(coordinator_a, coordinator_b, dose_a):
    client = api(coordinator_a)
    late = (dose_a.infusion_start + timedelta(hours=2, minutes=40)).isoformat()
    response = client.post(
        "/api/v1/pk-samples/",
        {
            "dose": dose_a.pk,
            "kind": "pk",
            "timepoint": "2 h",
            "sample_id": "T-1",
            "collected_at": late,
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (
        body["out_of_window"]
        and body["flagged"]
        and body["deviation_hours"] == pytest.approx(2 / 3)
    )
    assert response["Location"] == f"/api/v1/pk-samples/{body['id']}/"
    bad = client.post(
        "/api/v1/pk-samples/",
        {
            "dose": dose_a.pk,
            "kind": "pk",
            "timepoint": "6 h",
            "sample_id": "T-1",
            "collected_at": late,
        },
        format="json",
    )
    assert bad.status_code == 400 and "sample_id" in bad.json()["error"]["fields"]
    naive = client.post(
        "/api/v1/pk-samples/",
        {"dose": dose_a.pk, "kind": "pk", "timepoint": "6 h", "sample_id": "T-2",
         "collected_at": "2026-01-01T10:00:00"},
        format="json",
    )  # fmt: skip
    assert naive.status_code == 400 and "collected_at" in naive.json()["error"]["fields"]
    # Another site's coordinator cannot even name the dose.
    other = api(coordinator_b).post(
        "/api/v1/pk-samples/",
        {
            "dose": dose_a.pk,
            "kind": "pk",
            "timepoint": "6 h",
            "sample_id": "T-3",
            "collected_at": late,
        },
        format="json",
    )
    assert other.status_code == 400 and "dose" in other.json()["error"]["fields"]
    history = client.get(f"/api/v1/pk-samples/{body['id']}/history/")
    assert history.status_code == 200 and len(history.json()) == 1


def test_lists_are_scoped_with_a_fixed_number_of_queries(
    coordinator_b, monitor, data_manager, study, subject_a, pk_samples, django_assert_num_queries,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        from pharmacology.services import lab_import

        lab_import(by=data_manager, study=study, kind="pk", file_name="r.csv",
                   content=pk_csv(pk_samples, subject_a))  # fmt: skip
    client = api(monitor)
    client.get("/api/v1/studies/")  # the token's first use is recorded once
    # The token with its user, the memberships with their sites, the page: 4 whatever the rows.
    with django_assert_num_queries(4):
        samples = client.get("/api/v1/pk-samples/")
    assert len(samples.json()["results"]) == 8
    with django_assert_num_queries(4):
        results = client.get("/api/v1/concentrations/")
    rows = results.json()["results"]
    assert {r["sample_id"] for r in rows} == {s.sample_id for s in pk_samples.values()}
    blq = next(r for r in rows if r["reported"] == "BLQ")
    assert (blq["value"], blq["blq"], blq["lloq"]) == (None, True, 0.05)
    nca = client.get("/api/v1/nca/").json()["results"]
    assert [(n["interval"], n["analyte"]) for n in nca] == [(1, "MIL97")]
    assert nca[0]["parameters"]["cmax"]["value"] == 2.1
    csv_text = client.get("/api/v1/concentrations/?format=csv").content.decode()
    assert csv_text.splitlines()[0].startswith("id,study,subject,subject_number,sample,sample_id")
    since = (timezone.now() + timedelta(minutes=5)).isoformat()
    assert client.get("/api/v1/concentrations/", {"updated_since": since}).json()["results"] == []
    other = api(coordinator_b)
    assert other.get("/api/v1/pk-samples/").json()["results"] == []
    assert other.get("/api/v1/concentrations/").json()["results"] == []
    assert other.get("/api/v1/nca/").json()["results"] == []
    assert other.get("/api/v1/lab-imports/").json()["results"] == []


def test_a_lab_system_sends_a_file(data_manager, coordinator_a, study, subject_a, pk_samples):
    client = api(data_manager)
    good = pk_csv(pk_samples, subject_a).decode()
    bad = good.replace(",2.10,", ",2.10 ,").replace(
        "ug/mL,0.05,50,RUN-1\n", "mg,0.05,50,RUN-1\n", 1
    )
    refused = client.post(
        "/api/v1/lab-imports/",
        {"study": study.pk, "kind": "pk", "file_name": "bad.csv", "content": bad},
        format="json",
    )
    assert refused.status_code == 400
    error = refused.json()["error"]
    assert error["code"] == "file_refused" and error["import"]["status"] == "refused"
    assert error["import"]["report"][0]["column"] == "unit"
    assert not Concentration.objects.exists()
    accepted = client.post(
        "/api/v1/lab-imports/",
        {"study": study.pk, "kind": "pk", "file_name": "good.csv", "content": good},
        format="json",
    )
    assert accepted.status_code == 201 and accepted.json()["saved"] == 8
    assert LabImport.objects.get(pk=accepted.json()["id"]).source == "api"
    assert (
        api(coordinator_a)
        .post(
            "/api/v1/lab-imports/",
            {"study": study.pk, "kind": "pk", "file_name": "good.csv", "content": good},
            format="json",
        )
        .status_code
        == 403
    )
