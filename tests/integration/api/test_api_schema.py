"""The OpenAPI document: valid, warning-free, served by the app with its own docs assets (no
CDN), and every operation describes its errors in the one error shape."""

import re

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db

ERROR_REF = "#/components/schemas/Error"


@pytest.fixture(scope="module")
def document(django_db_blocker):
    from drf_spectacular.generators import SchemaGenerator

    with django_db_blocker.unblock():
        return SchemaGenerator().get_schema(request=None, public=True)


def operations(document):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            yield path, method, operation


def test_the_schema_generates_without_warnings_or_errors(tmp_path):
    # --fail-on-warn turns any warning (unresolvable field, enum clash, ...) into a failure.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "s.yml"))
    assert (tmp_path / "s.yml").read_text().startswith("openapi: 3")


def test_the_app_serves_its_schema(client):
    response = client.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    served = response.json()
    assert served["info"]["title"] == "Phase 1 EDC API"
    assert "/api/v1/adverse-events/" in served["paths"]
    assert served["components"]["securitySchemes"]["apiToken"]["scheme"] == "bearer"


def test_every_endpoint_of_the_issue_is_documented(document):
    paths = set(document["paths"])
    for resource in (
        "studies",
        "sites",
        "dose-levels",
        "regimens",
        "cohorts",
        "subjects",
        "dose-administrations",
        "adverse-events",
        "dlt-evaluations",
        "escalation-decisions",
        "committee-decisions",
        "tokens",
    ):
        assert f"/api/v1/{resource}/" in paths
    for resource in ("subjects", "dose-administrations", "adverse-events", "cohorts", "sites"):
        assert f"/api/v1/{resource}/{{id}}/history/" in paths


def test_every_operation_describes_its_errors_in_the_one_shape(document):
    for path, method, operation in operations(document):
        responses = operation["responses"]
        expected = {"400", "401", "403", "406", "429"}
        if "{" in path:
            expected.add("404")
        names = {p["name"] for p in operation.get("parameters", [])}
        if "If-Match" in names:
            expected |= {"412", "428"}
        assert expected <= set(responses), (method, path, set(responses))
        for code in expected:
            content = responses[code]["content"]
            assert list(content) == ["application/json"], (method, path, code)
            assert content["application/json"]["schema"]["$ref"] == ERROR_REF
        assert "Retry-After" in responses["429"]["headers"]
        assert {"apiToken": []} in operation["security"], (method, path)
        assert operation.get("summary") or operation.get("description"), (method, path)


def test_writes_to_existing_records_require_if_match_and_return_an_etag(document):
    for path, method, operation in operations(document):
        if path.startswith("/api/v1/tokens/") or method not in ("patch", "delete", "post"):
            continue
        if "{id}" not in path:
            assert "201" in operation["responses"], (method, path)
            assert "ETag" in operation["responses"]["201"]["headers"]
            continue
        header = next(p for p in operation["parameters"] if p["name"] == "If-Match")
        assert header["in"] == "header" and header["required"] is True
        assert "ETag" in operation["responses"]["200"]["headers"], (method, path)
    delete = document["paths"]["/api/v1/adverse-events/{id}/"]["delete"]
    reason = next(p for p in delete["parameters"] if p["name"] == "reason")
    assert reason["required"] is True


# Not pages of a record list: derived summaries computed whole per study (one row per subject,
# per dose level or per endpoint),
# and the streamed bulk pulls (`.../export/`, every record in one response). They offer CSV but
# no cursor pages.
WHOLE_SUMMARIES = {"/api/v1/ada-status/", "/api/v1/efficacy-rates/", "/api/v1/efficacy-survival/"}


def test_lists_offer_csv_and_cursor_pages(document):
    for path, method, operation in operations(document):
        if method != "get" or "{" in path or path == "/api/v1/tokens/":
            continue
        if path in WHOLE_SUMMARIES or path.endswith("/export/"):
            content = operation["responses"]["200"]["content"]
            assert set(content) == {"application/json", "text/csv"}, path
            continue
        content = operation["responses"]["200"]["content"]
        assert set(content) == {"application/json", "text/csv"}, path
        names = {p["name"] for p in operation["parameters"]}
        assert {"cursor", "page_size", "format"} <= names, path


def test_the_docs_are_served_with_the_apps_own_assets(client):
    for url in ("/api/docs/", "/api/redoc/"):
        page = client.get(url)
        assert page.status_code == 200
        html = page.content.decode()
        assert "cdn." not in html and "unpkg" not in html
        assets = re.findall(r'(?:src|href)="(/static/drf_spectacular_sidecar/[^"]+)"', html)
        assert assets, url
        for asset in assets:
            assert client.get(asset).status_code == 200, asset
