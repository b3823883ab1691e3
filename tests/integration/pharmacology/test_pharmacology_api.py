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


def test_a_concentration_is_excluded_and_put_back_through_the_api(
    data_manager, coordinator_a, sponsor, study, subject_a, pk_samples,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    """POST .../exclusion/ with If-Match: the reason is audited, the NCA computed again and its
    every version kept in the NCA's history (docs/pharmacology.md §9, §10)."""
    from pharmacology.models import NcaAnalysis
    from pharmacology.services import lab_import

    with django_capture_on_commit_callbacks(execute=True):
        lab_import(by=data_manager, study=study, kind="pk", file_name="r.csv",
                   content=pk_csv(pk_samples, subject_a))  # fmt: skip
    eoi = Concentration.objects.get(sample=pk_samples["EOI"])
    url = f"/api/v1/concentrations/{eoi.pk}/exclusion/"
    client = api(data_manager)
    read = client.get(f"/api/v1/concentrations/{eoi.pk}/")
    assert read["ETag"] == f'"{eoi.pk}.{eoi.version}"'
    body = {"exclude_reason": "Drawn from the infusion arm", "reason": "PK review"}
    assert client.post(url, body, format="json").status_code == 428
    stale = client.post(url, body, format="json", HTTP_IF_MATCH=f'"{eoi.pk}.{eoi.version + 1}"')
    assert stale.status_code == 412
    both = client.post(
        url, {**body, "exclude_from_lambda_z_reason": "x"}, format="json",
        HTTP_IF_MATCH=read["ETag"],
    )  # fmt: skip
    assert both.status_code == 400
    assert "exclude_from_lambda_z_reason" in both.json()["error"]["fields"]
    no_reason = client.post(url, {"exclude_reason": "x"}, format="json", HTTP_IF_MATCH=read["ETag"])
    assert no_reason.status_code == 400 and "reason" in no_reason.json()["error"]["fields"]
    for who in (coordinator_a, sponsor):
        refused = api(who).post(url, body, format="json", HTTP_IF_MATCH=read["ETag"])
        assert refused.status_code == 403, who
    before = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        excluded = client.post(url, body, format="json", HTTP_IF_MATCH=read["ETag"])
    assert excluded.status_code == 200, excluded.content
    assert excluded.json()["exclude_reason"] == "Drawn from the infusion arm"
    assert excluded["ETag"] == f'"{eoi.pk}.{eoi.version + 1}"'
    nca = NcaAnalysis.objects.get(subject=subject_a)
    assert nca.parameters["cmax"]["value"] == 2.05
    point = next(p for p in nca.points if p["sample_id"] == "PK-EOI")
    assert point["status"] == "excluded" and "infusion arm" in point["reason"]
    changed = client.get("/api/v1/concentrations/", {"updated_since": before.isoformat()})
    assert [r["id"] for r in changed.json()["results"]] == [eoi.pk]
    # Put back: empty reasons, with the reason for the change.
    with django_capture_on_commit_callbacks(execute=True):
        back = client.post(
            url, {"reason": "Re-reviewed: the arm was flushed"}, format="json",
            HTTP_IF_MATCH=excluded["ETag"],
        )  # fmt: skip
    assert back.status_code == 200 and back.json()["exclude_reason"] == ""
    history = client.get(f"/api/v1/concentrations/{eoi.pk}/history/").json()
    assert [h["reason"] for h in history[1:]] == ["PK review", "Re-reviewed: the arm was flushed"]
    assert history[1]["changes"] == [
        {"field": "exclude_reason", "old": "", "new": "Drawn from the infusion arm"}
    ]
    # The NCA resource keeps every version: computed, then again after each change.
    nca = NcaAnalysis.objects.get(subject=subject_a)
    assert nca.parameters["cmax"]["value"] == 2.1
    nca_history = client.get(f"/api/v1/nca/{nca.pk}/history/")
    assert nca_history.status_code == 200
    entries = nca_history.json()
    assert [e["reason"] for e in entries] == [
        "NCA computed", "NCA recomputed: inputs changed", "NCA recomputed: inputs changed",
    ]  # fmt: skip
    parameters = next(c for c in entries[1]["changes"] if c["field"] == "parameters")
    assert parameters["new"]["cmax"]["value"] == 2.05
    assert api(coordinator_a).get(f"/api/v1/nca/{nca.pk}/history/").status_code == 200
    csv_text = client.get("/api/v1/nca/", {"format": "csv"}).content.decode()
    assert csv_text.splitlines()[0].startswith("id,study,subject,subject_number,interval")
    later = (timezone.now() + timedelta(minutes=5)).isoformat()
    assert client.get("/api/v1/nca/", {"updated_since": later}).json()["results"] == []
