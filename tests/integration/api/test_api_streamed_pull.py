"""The whole resource in one streamed response (docs/operations.md §5): exactly the records and
cells of the paginated list, scoped and filtered the same, in one query (on PostgreSQL written
by the database, else read as tuples)."""

import csv
import io
import json
from unittest import mock

import pytest
from django.db import connection
from django.http import StreamingHttpResponse
from django.test.utils import CaptureQueriesContext

from api import streaming
from safety.models import AdverseEvent
from safety.services import adverse_event_update
from tests.factories import reported_ae

pytestmark = pytest.mark.django_db

RESOURCES = ["subjects", "dose-administrations", "adverse-events"]


def body(response) -> bytes:
    assert response.status_code == 200
    assert isinstance(response, StreamingHttpResponse)
    return b"".join(response.streaming_content)


def whole_list(client, resource, suffix="", fmt="json"):
    """Every page of the paginated list, in the list's own format."""
    url = f"/api/v1/{resource}/?page_size=2&format={fmt}{suffix}"
    rows, header = [], None
    while url:
        response = client.get(url)
        assert response.status_code == 200
        if fmt == "json":
            rows += response.json()["results"]
            url = response.json()["next"]
        else:
            page = list(csv.reader(io.StringIO(response.content.decode())))
            header, rows = page[0], rows + page[1:]
            link = response.headers.get("Link", "")
            url = link.split(";")[0].strip("<>") if 'rel="next"' in link else None
    return (header, rows) if fmt == "csv" else rows


@pytest.mark.parametrize("resource", RESOURCES)
def test_the_streamed_json_is_the_whole_list(api, sponsor, records, resource):
    client = api(sponsor)
    streamed = json.loads(body(client.get(f"/api/v1/{resource}/export/")))
    assert streamed == whole_list(client, resource)
    assert len(streamed) >= 2


@pytest.mark.parametrize("resource", RESOURCES)
def test_the_streamed_csv_is_the_whole_list(api, sponsor, records, resource):
    client = api(sponsor)
    response = client.get(f"/api/v1/{resource}/export/?format=csv")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Cache-Control"] == "no-store"
    streamed = list(csv.reader(io.StringIO(body(response).decode())))
    header, rows = whole_list(client, resource, fmt="csv")
    assert streamed[0] == header
    assert streamed[1:] == rows


def test_formula_looking_text_is_neutralised_as_in_the_list(api, sponsor, coordinator_a, records):
    adverse_event_update(
        by=coordinator_a,
        adverse_event=records["ae_a"],
        changes={"verbatim_term": "=HYPERLINK(1)"},
        reason="Formula-looking text",
        expected_version=records["ae_a"].version,
    )
    client = api(sponsor)
    streamed = list(
        csv.reader(
            io.StringIO(body(client.get("/api/v1/adverse-events/export/?format=csv")).decode())
        )
    )
    header, rows = whole_list(client, "adverse-events", fmt="csv")
    assert streamed == [header, *rows]
    position = 1 + [r[0] for r in rows].index(str(records["ae_a"].pk))
    row = dict(zip(header, streamed[position], strict=True))
    assert row["verbatim_term"] == "'=HYPERLINK(1)"
    assert row["voided"] == "false" and row["serious"] in ("true", "false")


def test_scoping_and_filters_apply(api, coordinator_a, sponsor, records):
    site_a_only = json.loads(body(api(coordinator_a).get("/api/v1/adverse-events/export/")))
    assert {row["site"] for row in site_a_only} == {records["ae_a"].subject.site_id}
    everyone = json.loads(body(api(sponsor).get("/api/v1/adverse-events/export/")))
    assert len(everyone) > len(site_a_only)
    # grade_min, the list's filter: grade 2 and above, the grade-1 events left out.
    worse = reported_ae(coordinator_a, records["subject_a"], "Fatigue", grade=2)
    assert {records["ae_a"].grade, records["ae_b"].grade} == {1}
    graded = json.loads(body(api(sponsor).get("/api/v1/adverse-events/export/?grade_min=2")))
    assert [(row["id"], row["grade"]) for row in graded] == [(worse.pk, 2)]
    assert len(everyone) == 2  # read before the grade-2 event was reported
    listed = api(sponsor).get("/api/v1/adverse-events/?grade_min=2").json()["results"]
    assert [row["id"] for row in listed] == [worse.pk]


def test_a_bad_format_is_a_400_naming_the_parameter(api, sponsor):
    response = api(sponsor).get("/api/v1/adverse-events/export/?format=xml")
    assert response.status_code == 400
    assert "format" in json.dumps(response.json())


@pytest.fixture
def python_path(monkeypatch):
    """The export as SQLite writes it (on PostgreSQL the database writes it:
    test_api_copy_export.py)."""
    monkeypatch.setattr(streaming, "copied", lambda *args: None)


def test_the_rows_are_read_as_tuples_in_one_query(api, sponsor, records, python_path):
    client = api(sponsor)
    with mock.patch.object(streaming, "_as_lists", side_effect=AssertionError("slow path")):
        response = client.get("/api/v1/adverse-events/export/?format=csv")
        with CaptureQueriesContext(connection) as queries:
            rows = body(response).decode().splitlines()
    assert len(rows) == 1 + AdverseEvent.all_objects.count()
    assert len(queries) == 1  # one SELECT (on PostgreSQL through a server-side cursor)


def test_the_stream_reads_the_rows_in_chunks(api, sponsor, records, monkeypatch, python_path):
    monkeypatch.setattr(streaming, "CHUNK_SIZE", 1)
    monkeypatch.setattr(streaming, "FLUSH_ROWS", 1)
    response = api(sponsor).get("/api/v1/adverse-events/export/?format=csv")
    chunks = list(response.streaming_content)
    assert len(chunks) == 1 + AdverseEvent.all_objects.count()  # one flush per row, then the rest
