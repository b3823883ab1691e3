"""The export pages and API: the study-wide roles start, follow and download exports; site
roles may not (docs/standards.md §11)."""

import hashlib

import pytest
from django.urls import reverse

from standards.models import Export
from standards.services import run_export


@pytest.fixture(autouse=True)
def export_dir(settings, tmp_path):
    settings.STANDARDS_EXPORT_DIR = tmp_path


def signed_in(client, user):
    client.force_login(user)
    return client


@pytest.mark.parametrize("role", ["sponsor", "data_manager", "monitor"])
def test_study_roles_start_an_export_and_follow_it(role, request, client, study, trial_data):
    user = request.getfixturevalue(role)
    client = signed_in(client, user)
    page = client.get(reverse("standards:exports"))
    assert page.status_code == 200 and b"Start the export" in page.content
    response = client.post(reverse("standards:exports"), {"study": study.pk, "data_cut_at": ""})
    export = Export.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("standards:export", args=[export.pk])
    assert export.requested_by == user and export.status == Export.Status.QUEUED
    # While queued, the progress panel polls itself.
    panel = client.get(reverse("standards:export_progress", args=[export.pk])).content.decode()
    assert 'hx-trigger="every 1s"' in panel and 'value="0"' in panel
    run_export(export.pk)
    panel = client.get(reverse("standards:export_progress", args=[export.pk])).content.decode()
    assert "hx-trigger" not in panel and 'value="100"' in panel
    assert "0 errors" in panel and "STD0003" in panel
    download = client.get(reverse("standards:export_download", args=[export.pk]))
    assert download.status_code == 200 and download["Content-Type"] == "application/zip"
    body = b"".join(download.streaming_content)
    assert hashlib.sha256(body).hexdigest() == Export.objects.get().sha256


def test_a_data_cut_in_the_future_is_refused_on_its_field(client, study, sponsor):
    client = signed_in(client, sponsor)
    response = client.post(
        reverse("standards:exports"), {"study": study.pk, "data_cut_at": "2999-01-01T00:00"}
    )
    assert response.status_code == 400
    assert "A data cut cannot be in the future." in response.content.decode()
    assert not Export.objects.exists()


@pytest.mark.parametrize("role", ["coordinator_a", "investigator_a"])
def test_site_roles_see_no_exports(role, request, client, study, sponsor):
    export = Export.objects.create(
        study=study, requested_by=sponsor, requested_at="2026-01-01T00:00Z"
    )
    client = signed_in(client, request.getfixturevalue(role))
    assert client.get(reverse("standards:exports")).status_code == 403
    assert client.post(reverse("standards:exports"), {"study": study.pk}).status_code == 403
    for name in ("standards:export", "standards:export_progress", "standards:export_download"):
        assert client.get(reverse(name, args=[export.pk])).status_code == 404
    assert b"Data exports" not in client.get(reverse("home")).content


def test_the_navigation_links_the_exports_for_study_roles(client, sponsor):
    client = signed_in(client, sponsor)
    assert reverse("standards:exports").encode() in client.get(reverse("home")).content


def test_api_sponsor_starts_follows_and_downloads(api, study, sponsor, trial_data):
    client = api(sponsor)
    response = client.post("/api/v1/exports/", {"study": study.pk}, format="json")
    assert response.status_code == 201, response.content
    assert response["ETag"].startswith("W/")
    export_id = response.json()["id"]
    assert response["Location"] == f"/api/v1/exports/{export_id}/"
    assert response.json()["status"] == "queued" and response.json()["download_url"] is None
    conflict = client.get(f"/api/v1/exports/{export_id}/download/")
    assert conflict.status_code == 409
    assert conflict.json()["error"]["code"] == "not_completed"
    run_export(export_id)
    status = client.get(f"/api/v1/exports/{export_id}/").json()
    assert (status["status"], status["progress"], status["errors"]) == ("completed", 100, 0)
    assert status["ct_version"] == "2025-03-28" and status["validation"]
    download = client.get(status["download_url"])
    assert download.status_code == 200 and download["Content-Type"] == "application/zip"
    assert hashlib.sha256(b"".join(download.streaming_content)).hexdigest() == status["sha256"]
    listed = client.get("/api/v1/exports/").json()["results"]
    assert [e["id"] for e in listed] == [export_id]


def test_api_site_roles_may_not_export(api, study, coordinator_a, sponsor):
    export = Export.objects.create(
        study=study, requested_by=sponsor, requested_at="2026-01-01T00:00Z"
    )
    client = api(coordinator_a)
    response = client.post("/api/v1/exports/", {"study": study.pk}, format="json")
    assert response.status_code == 400  # no study they may export: the field says so
    assert response.json()["error"]["fields"]["study"]
    assert client.get("/api/v1/exports/").json()["results"] == []
    assert client.get(f"/api/v1/exports/{export.pk}/").status_code == 404
    assert client.get(f"/api/v1/exports/{export.pk}/download/").status_code == 404


def test_api_refuses_a_naive_or_future_cut(api, study, sponsor):
    client = api(sponsor)
    naive = client.post(
        "/api/v1/exports/", {"study": study.pk, "data_cut_at": "2026-01-01T00:00:00"}, format="json"
    )
    assert naive.status_code == 400 and "data_cut_at" in naive.json()["error"]["fields"]
    future = client.post(
        "/api/v1/exports/",
        {"study": study.pk, "data_cut_at": "2999-01-01T00:00:00Z"},
        format="json",
    )
    assert future.status_code == 400 and "data_cut_at" in future.json()["error"]["fields"]
