"""What the API accepts is what its OpenAPI document says, and anything else is a client error in
the one error body: oversized or deeply nested bodies (413, 400 parse_error, never 500), strict
booleans, dates and digits, server-made cursors only, empty parameters refused, 405 before
anything else."""

import re
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from rest_framework.test import APIClient

from api.pagination import CURSOR_PATTERN
from core.dates import site_today
from safety.models import AdverseEvent, CtcaeTerm
from tests.factories import screened_subject
from tests.integration.api.test_api_schemathesis import served_document

pytestmark = pytest.mark.django_db


def error_of(response, status):
    assert response.status_code == status, response.content[:500]
    body = response.json()["error"]
    assert body["status"] == status
    return body


def ae_body(of, **changes):
    body = {
        "subject": of.pk,
        "meddra_code": CtcaeTerm.objects.get(term="Nausea").meddra_code,
        "verbatim_term": "nausea",
        "grade": 2,
        "onset_date": (site_today(of.site.timezone) - timedelta(days=2)).isoformat(),
        "relationship": "possible",
        "action_taken": "none",
        "outcome": "not_recovered",
    }
    body.update(changes)
    return body


# --- Bodies: too large, too deep ---


def test_a_body_over_the_size_limit_is_413_in_the_error_body(api, coordinator_a, records):
    size = django_settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1
    response = api(coordinator_a).generic(
        "POST", "/api/v1/adverse-events/", b" " * size, content_type="application/json"
    )
    body = error_of(response, 413)
    assert body["code"] == "payload_too_large"
    assert AdverseEvent.objects.count() == 2


@pytest.mark.parametrize("depth", [40, 1000, 100_000])
def test_deeply_nested_json_is_a_parse_error_not_a_server_error(api, coordinator_a, records, depth):
    response = api(coordinator_a).generic(
        "POST",
        "/api/v1/adverse-events/",
        "[" * depth + "]" * depth,
        content_type="application/json",
    )
    assert error_of(response, 400)["code"] == "parse_error"


def test_ordinary_nesting_is_still_read(api, coordinator_a, records):
    # The deepest body an endpoint takes: an object of answers inside the request object.
    subject = records["screened_a"]
    response = api(coordinator_a).post(
        f"/api/v1/subjects/{subject.pk}/eligibility/",
        {"answers": {"x": True}, "assessed_on": "2026-01-01"},
        format="json",
        HTTP_IF_MATCH=f'"{subject.pk}.{subject.version}"',
    )
    assert response.json()["error"]["code"] == "invalid"  # read, then refused on its merits


# --- Query parameters: booleans, empties, cursors ---


@pytest.mark.parametrize(
    "params",
    [
        {"serious": "yes"},
        {"serious": "banana"},
        {"serious": "1"},
        {"serious": "True"},
        {"include_voided": "1"},
        {"include_voided": "yes"},
        {"include_voided": "on"},
    ],
)
def test_booleans_are_true_or_false_and_nothing_else(api, sponsor, records, params):
    response = api(sponsor).get("/api/v1/adverse-events/", params)
    body = error_of(response, 400)
    assert list(body["fields"]) == list(params)


def test_serious_true_and_false_filter(api, sponsor, coordinator_a, records):
    from tests.factories import reported_ae

    serious = reported_ae(
        coordinator_a,
        records["subject_a"],
        serious=True,
        seriousness=("serious_hospitalisation",),
    )
    client = api(sponsor)
    ids = lambda **p: {r["id"] for r in client.get("/api/v1/adverse-events/", p).json()["results"]}  # noqa: E731
    assert ids(serious="true") == {serious.pk}
    assert serious.pk not in ids(serious="false") and len(ids(serious="false")) == 2


@pytest.mark.parametrize(
    ("path", "parameter"),
    [
        ("adverse-events", "updated_since"),
        ("subjects", "updated_since"),
        ("escalation-decisions", "created_since"),
        ("committee-decisions", "decided_since"),
        ("dlt-evaluations", "evaluated_since"),
        ("adverse-events", "serious"),
        ("adverse-events", "site"),
        ("adverse-events", "onset_from"),
        ("subjects", "status"),
        ("cohorts", "status"),
        ("adverse-events", "format"),
        ("adverse-events", "cursor"),
    ],
)
def test_a_parameter_sent_empty_is_refused_naming_it(api, sponsor, records, path, parameter):
    response = api(sponsor).get(f"/api/v1/{path}/", {parameter: ""})
    assert parameter in error_of(response, 400)["fields"]


@pytest.mark.parametrize("cursor", ["%%%", "====", "////", "cD0x", "r", "1.2", "5.0", "١٢", "-5"])
def test_a_cursor_the_server_did_not_make_is_refused(api, sponsor, records, cursor):
    response = api(sponsor).get("/api/v1/adverse-events/", {"cursor": cursor})
    assert "cursor" in error_of(response, 400)["fields"]


def test_server_made_cursors_match_the_documented_pattern_and_walk_the_list(
    api, sponsor, coordinator_a, records
):
    from tests.factories import reported_ae

    for _ in range(4):
        reported_ae(coordinator_a, records["subject_a"])
    client = api(sponsor)
    seen, url, cursors = [], "/api/v1/adverse-events/?page_size=2", []
    while url:
        body = client.get(url).json()
        seen += [row["id"] for row in body["results"]]
        for link in (body["next"], body["previous"]):
            if link:
                cursors.append(re.search(r"cursor=([^&]+)", link).group(1))
        url = body["next"]
    assert seen == sorted(AdverseEvent.objects.values_list("pk", flat=True))
    assert cursors and all(re.fullmatch(CURSOR_PATTERN.strip("^$"), c) for c in cursors)
    # Far past every id (even beyond the largest id possible): an empty page, not an error.
    assert client.get("/api/v1/adverse-events/", {"cursor": "9" * 19}).json()["results"] == []


# --- Dates and digits ---


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("onset_date", "20261123"),
        ("onset_date", "2026-W47-1"),
        ("onset_date", "2026-327"),
        ("onset_date", "11/23/2026"),
        ("onset_date", "２０２６-１１-２３"),
        ("grade", "٣"),
        ("grade", "３"),
        ("meddra_code", "١٠٠٢٨٨١٣"),
        ("subject", "٣"),
    ],
)
def test_dates_and_numbers_are_read_as_the_document_states_them(
    api, coordinator_a, records, field, value
):
    body = ae_body(records["subject_a"], **{field: value})
    response = api(coordinator_a).post("/api/v1/adverse-events/", body, format="json")
    assert field in error_of(response, 400)["fields"]
    assert AdverseEvent.objects.count() == 2


def test_extended_iso_dates_and_ascii_digits_are_accepted(api, coordinator_a, records):
    body = ae_body(records["subject_a"], grade="2")
    response = api(coordinator_a).post("/api/v1/adverse-events/", body, format="json")
    assert response.status_code == 201, response.content


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("infusion_start", "20261123T093000+0100"),
        ("infusion_start", "2026-W47-1T09:30:00+01:00"),
        ("actual_dose_per_kg", "٠٫٠١"),
        ("actual_dose_per_kg", " 0.01"),
        ("body_weight_kg", "-"),
        ("body_weight_kg", ""),
    ],
)
def test_dose_times_and_decimals_are_strict(api, coordinator_a, records, field, value):
    subject = records["subject_a"]
    body = {
        "subject": subject.pk,
        "cycle": 2,
        "day": 1,
        "actual_dose_per_kg": "0.01",
        "body_weight_kg": "70.0",
        "infusion_start": "2026-01-02T09:00:00+00:00",
        "infusion_end": "2026-01-02T10:00:00+00:00",
        "lot_number": "L1",
        field: value,
    }
    response = api(coordinator_a).post("/api/v1/dose-administrations/", body, format="json")
    assert field in error_of(response, 400)["fields"]


@pytest.mark.parametrize(
    "params",
    [
        {"onset_from": "20261123"},
        {"onset_to": "2026-W47-1"},
        {"updated_since": "20261120T000000Z"},
        {"site": "١"},
        {"grade_min": "٣"},
        {"page_size": "١٠"},
    ],
)
def test_list_parameters_are_strict_too(api, sponsor, records, params):
    response = api(sponsor).get("/api/v1/adverse-events/", params)
    assert list(params)[0] in error_of(response, 400)["fields"]


# --- 405 before anything else ---


def test_an_unoffered_method_is_405_before_format_or_permissions(api, sponsor, records):
    client = api(sponsor)
    trace = client.generic("TRACE", "/api/v1/cohorts/?format=csv")
    assert error_of(trace, 405)["code"] == "method_not_allowed"
    assert "GET" in trace["Allow"]
    put = client.put(f"/api/v1/subjects/{records['subject_a'].pk}/", {}, format="json")
    assert error_of(put, 405)["code"] == "method_not_allowed"
    anonymous = APIClient().generic("TRACE", "/api/v1/subjects/")
    assert anonymous.status_code == 405


# --- The document states exactly what the server takes ---


def test_the_document_patterns_match_the_server():
    document = served_document()
    decimals = []

    def walk(node):
        if isinstance(node, dict):
            if node.get("format") == "decimal":
                decimals.append(node["pattern"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(document)
    assert decimals
    for pattern in decimals:  # no decimal pattern admits an empty string or a lone sign
        assert not re.search(pattern, "") and not re.search(pattern, "-"), pattern
    amount = document["components"]["schemas"]["DoseLevel"]["properties"]["amount"]["pattern"]
    for value in ("", "-", "."):
        assert not re.search(amount, value), value
    for value in ("0.01", "1", "12.5", ".5", "-0.03"):
        assert re.search(amount, value), value
    patch = document["paths"]["/api/v1/subjects/{id}/"]["patch"]
    if_match = next(p for p in patch["parameters"] if p["name"] == "If-Match")["schema"]
    assert not re.search(if_match["pattern"], "")
    assert re.search(if_match["pattern"], '"12.3"') and re.search(
        if_match["pattern"], '"1.2", "3.4"'
    )
    listing = document["paths"]["/api/v1/adverse-events/"]["get"]["parameters"]
    cursor = next(p for p in listing if p["name"] == "cursor")["schema"]
    assert cursor["pattern"] == CURSOR_PATTERN
    assert "413" in document["paths"]["/api/v1/adverse-events/"]["post"]["responses"]


def test_an_empty_if_match_is_428(api, coordinator_a, records):
    subject = screened_subject(coordinator_a, records["subject_a"].site, "A-9")
    response = api(coordinator_a).patch(
        f"/api/v1/subjects/{subject.pk}/",
        {"year_of_birth": 1961, "reason": "typo"},
        format="json",
        HTTP_IF_MATCH="",
    )
    assert error_of(response, 428)["code"] == "precondition_required"


def test_an_invalid_body_is_refused_as_such_whatever_if_match_says(api, coordinator_a, records):
    """RFC 9110 13.2.1: preconditions apply to a request that would otherwise succeed."""
    ae = records["ae_a"]
    for header in ('"1.99"', None):
        extra = {"HTTP_IF_MATCH": header} if header else {}
        response = api(coordinator_a).patch(
            f"/api/v1/adverse-events/{ae.pk}/", {"grade": 9, "reason": "x"}, format="json", **extra
        )
        assert "grade" in error_of(response, 400)["fields"]
