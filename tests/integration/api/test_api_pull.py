"""Pulling data: incremental pulls with updated_since, stable cursor pages, filters, CSV, and a
stated number of SQL queries per list that does not grow with the page size."""

import csv
import io
from datetime import timedelta
from urllib.parse import parse_qs, urlparse

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core.dates import site_today
from core.records import sign_record
from dosing.services import dose_void
from escalation.models import CommitteeDecision, Recommendation, SubjectDltStatus
from safety.models import AdverseEvent
from safety.services import adverse_event_update
from subjects.services import subject_update
from tests.conftest import PASSWORD
from tests.factories import dosed, enrolled_subject, reported_ae, screened_subject
from trial.models import EscalationTrack

pytestmark = pytest.mark.django_db


def ids(response):
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


# --- Incremental pulls ---


def test_updated_since_returns_exactly_the_records_changed_since_then(
    api, sponsor, records, coordinator_a, coordinator_b
):
    client = api(sponsor)
    start = timezone.now()
    checkpoint = start + timedelta(minutes=10)
    with time_machine.travel(checkpoint, tick=False):
        # A change at the very instant of the checkpoint is included (>=).
        ae_a = adverse_event_update(
            by=coordinator_a,
            adverse_event=records["ae_a"],
            changes={"grade": 2},
            reason="Re-graded",
            expected_version=1,
        )
    with time_machine.travel(checkpoint + timedelta(minutes=5), tick=False):
        dose_b = dose_void(
            by=coordinator_b, dose=records["dose_b"], reason="Wrong subject", expected_version=1
        )
        new_ae = reported_ae(coordinator_b, records["subject_b"], term="Fatigue")
        subject = subject_update(
            by=coordinator_a,
            subject=records["screened_a"],
            changes={"year_of_birth": 1961},
            reason="Typo in year of birth",
            expected_version=records["screened_a"].version,
        )
    since = {"updated_since": checkpoint.isoformat()}
    with time_machine.travel(checkpoint + timedelta(minutes=30), tick=False):
        assert ids(client.get("/api/v1/adverse-events/", since)) == {ae_a.pk, new_ae.pk}
        doses = client.get("/api/v1/dose-administrations/", since).json()["results"]
        assert [(d["id"], d["voided"], d["void_reason"]) for d in doses] == [
            (dose_b.pk, True, "Wrong subject")
        ]
        assert ids(client.get("/api/v1/subjects/", since)) == {subject.pk}
        # Everything changed since the start: every record touched after the fixture ran.
        later = {"updated_since": (checkpoint + timedelta(minutes=5)).isoformat()}
        assert ids(client.get("/api/v1/adverse-events/", later)) == {new_ae.pk}
        # Without updated_since, a voided record leaves the list unless asked for.
        assert dose_b.pk not in ids(client.get("/api/v1/dose-administrations/"))
        assert dose_b.pk in ids(
            client.get("/api/v1/dose-administrations/", {"include_voided": "true"})
        )
    assert start < checkpoint


def test_updated_since_needs_a_valid_time(api, sponsor, records):
    response = api(sponsor).get("/api/v1/adverse-events/", {"updated_since": "yesterday"})
    assert response.status_code == 400
    assert "updated_since" in response.json()["error"]["fields"]


# --- Cursor pages ---


@pytest.fixture
def many(records, coordinator_a, coordinator_b, site_a, cohort_b):
    """12+ subjects, doses and adverse events, all made through the services."""
    for n in range(10):
        screened_subject(coordinator_a, site_a, f"A-{10 + n}", eligible=False)
    long_ago = enrolled_subject(coordinator_a, site_a, "A-99", cohort_b, days_ago=300)
    first = site_today(site_a.timezone) - timedelta(days=290)
    for cycle in range(1, 13):
        dosed(coordinator_a, long_ago, on=first + timedelta(days=21 * (cycle - 1)), cycle=cycle)
    terms = ["Nausea", "Fatigue", "Fever", "Chills", "Anemia", "Vomiting"]
    for n in range(12):
        reported_ae(coordinator_a, long_ago, term=terms[n % 6], days_ago=280 - 20 * n)
    return long_ago


def test_following_next_sees_every_record_exactly_once_in_id_order(api, sponsor, many):
    client = api(sponsor)
    expected = sorted(AdverseEvent.objects.values_list("pk", flat=True))
    seen, url, pages = [], "/api/v1/adverse-events/?page_size=5", 0
    while url:
        response = client.get(url)
        body = response.json()
        seen += [row["id"] for row in body["results"]]
        if body["next"]:
            assert response["Link"].startswith(f'<{body["next"]}>; rel="next"')
        url, pages = body["next"], pages + 1
    assert seen == expected and pages == 3


def test_records_added_while_paging_appear_at_the_end_and_nothing_repeats(
    api, sponsor, coordinator_a, many
):
    client = api(sponsor)
    first = client.get("/api/v1/adverse-events/", {"page_size": 4}).json()
    reported_ae(coordinator_a, many, term="Fatigue", days_ago=1)
    rest, url = [], first["next"]
    while url:
        body = client.get(url).json()
        rest += [row["id"] for row in body["results"]]
        url = body["next"]
    everything = [row["id"] for row in first["results"]] + rest
    assert everything == sorted(AdverseEvent.objects.values_list("pk", flat=True))


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"page_size": 0}, "page_size"),
        ({"page_size": 1001}, "page_size"),
        ({"page_size": "ten"}, "page_size"),
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"cursor": "cD1hYmM="}, "cursor"),  # base64 of "p=abc"
        ({"site": "abc"}, "site"),
        ({"site": 0}, "site"),
        ({"cohort": 2**64}, "cohort"),
        ({"onset_from": "31/12/2025"}, "onset_from"),
        ({"grade_min": 9}, "grade_min"),
        ({"meddra_code": "x"}, "meddra_code"),
    ],
)
def test_malformed_list_parameters_answer_400_naming_the_parameter(api, sponsor, params, field):
    response = api(sponsor).get("/api/v1/adverse-events/", params)
    assert response.status_code == 400, response.content
    assert field in response.json()["error"]["fields"]


# --- Filters ---


def test_filters_by_study_site_cohort_dose_level_and_dates(
    api, sponsor, records, site_a, site_b, cohort1, cohort_b, study
):
    client = api(sponsor)
    ae_a, ae_b = records["ae_a"].pk, records["ae_b"].pk
    get = lambda path, **params: ids(client.get(f"/api/v1/{path}/", params))  # noqa: E731
    assert get("adverse-events", study=study.pk) == {ae_a, ae_b}
    assert get("adverse-events", study=study.pk + 1) == set()
    assert get("adverse-events", site=site_b.pk) == {ae_b}
    assert get("adverse-events", cohort=cohort1.pk) == {ae_a}
    assert get("adverse-events", dose_level=cohort1.dose_level_id) == {ae_a, ae_b}
    assert get("adverse-events", meddra_code=10028813, serious="false") == {ae_a, ae_b}
    onset = records["ae_a"].onset_date
    assert get("adverse-events", onset_from=onset.isoformat(), site=site_a.pk) == {ae_a}
    assert get("adverse-events", onset_to=(onset - timedelta(days=30)).isoformat()) == set()
    dose_day = records["dose_a"].administered_on
    assert get(
        "dose-administrations",
        administered_from=dose_day.isoformat(),
        administered_to=dose_day.isoformat(),
        site=site_a.pk,
    ) == {records["dose_a"].pk}
    assert get("subjects", cohort=cohort_b.pk) == {records["subject_b"].pk}
    assert get("subjects", status="screening", site=site_a.pk) == {records["screened_a"].pk}
    assert get("cohorts", dose_level=cohort1.dose_level_id) == {cohort1.pk, cohort_b.pk}
    assert get("sites", study=study.pk) == {site_a.pk, site_b.pk}


def test_a_site_role_filtering_on_another_site_gets_nothing(api, coordinator_a, records, site_b):
    response = api(coordinator_a).get("/api/v1/adverse-events/", {"site": site_b.pk})
    assert ids(response) == set()


# --- CSV ---


def test_csv_has_flat_columns_and_neutralises_formulas(api, sponsor, coordinator_a, records):
    hostile = [
        '=HYPERLINK("http://evil.example","x")',
        "@SUM(A1:A9)",
        "+cmd|' /C calc'!A0",
        "-2+3",
    ]
    for text in hostile:
        reported_ae(coordinator_a, records["subject_a"], verbatim_term=text)
    response = api(sponsor).get("/api/v1/adverse-events/", {"format": "csv", "page_size": 50})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    header = next(csv.reader(io.StringIO(response.content.decode())))
    assert header[:4] == ["id", "study", "site", "site_number"]
    assert {"meddra_code", "soc", "grade", "serious", "dlt_investigator", "voided"} <= set(header)
    verbatims = {row["verbatim_term"] for row in rows}
    for text in hostile:
        assert "'" + text in verbatims
    assert not any(v.startswith(("=", "+", "-", "@", "\t")) for v in verbatims)
    assert {row["serious"] for row in rows} == {"false"}
    assert {row["meddra_code"] for row in rows} >= {"10028813"}


def test_csv_by_accept_header_and_errors_stay_json(api, sponsor, records):
    client = api(sponsor)
    by_header = client.get("/api/v1/subjects/", HTTP_ACCEPT="text/csv")
    assert by_header.status_code == 200 and by_header["Content-Type"].startswith("text/csv")
    empty = client.get("/api/v1/subjects/", {"format": "csv", "site": 10**6})
    assert empty.content.decode().splitlines()[0].startswith("id,study,site,site_number")
    refused = client.get("/api/v1/subjects/", {"format": "csv", "site": "x"})
    assert refused.status_code == 400
    assert refused["Content-Type"] == "application/json"
    assert refused.json()["error"]["fields"]["site"]


def test_history_as_csv(api, sponsor, records):
    response = api(sponsor).get(
        f"/api/v1/adverse-events/{records['ae_a'].pk}/history/", {"format": "csv"}
    )
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [(r["type"], r["user"], r["reason"]) for r in rows] == [
        ("created", "coord_a", "Adverse event reported")
    ]


# --- Query counts ---


@pytest.fixture
def escalation_rows(many, monitor, study):
    """Enough escalation rows to page through: DLT statuses for 12 subjects, 12 recommendations,
    3 signed committee decisions. Derived, read-only rows made with the ORM (the evaluation
    service is exercised in test_api_escalation.py); signatures through core.records."""
    track = EscalationTrack.objects.get(study=study, code="Q3W-ESC")
    now = timezone.now()
    from subjects.models import Subject

    for subject in Subject.objects.all()[:12]:
        SubjectDltStatus.objects.create(
            subject=subject,
            track=track,
            status="pending",
            evaluated_at=now,
            rules_version="test",
        )
    recommendations = []
    for n in range(1, 13):
        recommendations.append(
            Recommendation.objects.create(
                track=track,
                sequence=n,
                created_at=now,
                evaluated_on=now.date(),
                action="wait",
                rule="test",
                text=f"Recommendation {n}",
                data={},
                inputs={},
                input_digest="0" * 64,
                rules_version="test",
                status="superseded" if n < 12 else "pending",
            )
        )
    for recommendation in recommendations[:3]:
        signature = sign_record(recommendation, by=monitor, password=PASSWORD, meaning="approved")
        CommitteeDecision.objects.create(
            recommendation=recommendation,
            track=track,
            outcome="overridden",
            step="pause_track",
            rationale="Test",
            decided_by=monitor,
            decided_at=now,
            signature=signature,
        )


# Every list: 3 queries to know who asks (the token with its user, their memberships and the
# memberships' sites), then the page of rows (related rows joined, no count: cursor pages).
# Beyond that: a cohort's track's current recommendation (prefetched); for a site role, the
# subject numbers of other sites, taken out of the recommendations' texts (escalation/redaction.py).
# The token list reads the token, then the user's tokens.
LISTS = {
    "studies": {"sponsor": 4, "coordinator_a": 4},
    "sites": {"sponsor": 4, "coordinator_a": 4},
    "regimens": {"sponsor": 4, "coordinator_a": 4},
    "dose-levels": {"sponsor": 4, "coordinator_a": 4},
    "cohorts": {"sponsor": 5, "coordinator_a": 6},
    "subjects": {"sponsor": 4, "coordinator_a": 4},
    "dose-administrations": {"sponsor": 4, "coordinator_a": 4},
    "adverse-events": {"sponsor": 4, "coordinator_a": 4},
    "dlt-evaluations": {"sponsor": 4, "coordinator_a": 4},
    "escalation-decisions": {"sponsor": 4, "coordinator_a": 5},
    "committee-decisions": {"sponsor": 4, "coordinator_a": 5},
    "tokens": {"sponsor": 2, "coordinator_a": 2},
}


@pytest.mark.parametrize("persona", ["sponsor", "coordinator_a"])
@pytest.mark.parametrize("path", LISTS)
def test_list_queries_do_not_grow_with_the_page_size(
    request, api, escalation_rows, persona, path, django_assert_num_queries
):
    client = api(request.getfixturevalue(persona))
    counts, sizes = {}, {}
    for page_size in (1, 10):
        client.get(f"/api/v1/{path}/?page_size=1")  # warm up: content types, first use
        # Exactly the stated queries (a failure lists them), whatever the page size.
        with django_assert_num_queries(LISTS[path][persona], info=path) as queries:
            response = client.get(f"/api/v1/{path}/", {"page_size": page_size})
        assert response.status_code == 200
        counts[page_size], sizes[page_size] = len(queries), len(response.json()["results"])
    if path not in ("studies", "tokens") and (path, persona) != ("sites", "coordinator_a"):
        assert sizes[10] > sizes[1], (path, sizes)
    assert counts[1] == counts[10], (path, counts)
    print(f"{path} as {persona}: {counts[10]} queries for 1 or 10 rows")  # shown with -s


def test_cursor_continues_with_the_same_query_count(api, sponsor, many):
    client = api(sponsor)
    first = client.get("/api/v1/adverse-events/", {"page_size": 5}).json()
    cursor = parse_qs(urlparse(first["next"]).query)["cursor"][0]
    with CaptureQueriesContext(connection) as queries:
        client.get("/api/v1/adverse-events/", {"page_size": 5, "cursor": cursor})
    with CaptureQueriesContext(connection) as first_page:
        client.get("/api/v1/adverse-events/", {"page_size": 5})
    assert len(queries) == len(first_page)


def test_an_unencoded_plus_in_updated_since_is_read_as_meant(api, sponsor, records):
    client = api(sponsor)
    since = (timezone.now() - timedelta(hours=1)).astimezone(timezone.get_fixed_timezone(60))
    text = since.isoformat(timespec="seconds")
    assert "+01:00" in text
    encoded = client.get("/api/v1/adverse-events/", {"updated_since": text})
    raw = client.get(f"/api/v1/adverse-events/?updated_since={text}")  # "+" becomes " "
    assert raw.status_code == 200, raw.content
    assert ids(raw) == ids(encoded) == {records["ae_a"].pk, records["ae_b"].pk}


def test_adverse_event_pages_of_10_and_100_run_the_same_queries(
    api, sponsor, coordinator_a, records
):
    subject = records["subject_a"]
    terms = ["Nausea", "Fatigue", "Fever", "Chills", "Anemia", "Vomiting"]
    for n in range(110):
        reported_ae(coordinator_a, subject, term=terms[n % 6], days_ago=1 + n % 15)
    client = api(sponsor)
    client.get("/api/v1/adverse-events/", {"page_size": 1})
    counts = {}
    for page_size in (10, 100):
        with CaptureQueriesContext(connection) as queries:
            response = client.get("/api/v1/adverse-events/", {"page_size": page_size})
        assert len(response.json()["results"]) == page_size
        counts[page_size] = len(queries)
    assert counts[10] == counts[100] == 4, counts
