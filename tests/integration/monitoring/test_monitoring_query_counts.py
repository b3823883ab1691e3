"""The dashboards run a stated, fixed number of SQL queries whatever the size of the study.

Each page is measured on 20 subjects with 300 adverse events and on 60 subjects with 1,000
(rows made with bulk_create, see bulk.py), each in its own rolled-back transaction, after one
warm-up request (the session and the user's memberships)."""

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.integration.monitoring import bulk

pytestmark = pytest.mark.django_db

# Every request: 4 queries to know who asks (the session, the user, their memberships and the
# memberships' sites) and 3 to slide the session (savepoint, session save, release: the test runs
# inside a transaction). Every dashboard then reads its scope in 4 (the user's studies, then the
# study's tracks, dose levels and sites): 11 before the page's own reads, listed beside each.
PAGES = [
    # cohorts, subjects, current recommendations, decisions, evaluation states; the alerts'
    # notifications and their adverse events (with the adjudicator from the audit trail)
    ("monitoring:overview", {}, 18),
    # on PostgreSQL whether anything awaits its recount (nothing after the warm-up), the
    # population (subjects with their first dose), the stored counts; on SQLite the population
    # and the adverse events (see AE_TABLE_ON_SQLITE)
    ("monitoring:adverse_events", {}, 14),
    ("monitoring:adverse_events", {"view": "related"}, 14),
    ("monitoring:adverse_events", {"format": "csv", "table": "teae"}, 14),
    # the subjects placed (plain values), the pages' subjects with their doses and events
    # counted (site, cohort, DLT status joined), this page's doses, this page's adverse events
    ("monitoring:timeline", {}, 15),
    ("monitoring:timeline", {"page": "2"}, 15),
    ("monitoring:timeline", {"format": "csv", "table": "windows"}, 15),
    # the listings' sizes, a page of each listing (adjudicator and first dose in subqueries),
    # the dose deviations' count and page
    ("monitoring:listings", {}, 17),
    ("monitoring:listings", {"sae_page": "2", "dlt_page": "2"}, 17),
    # pending recommendations, the signed decisions
    ("monitoring:committee", {}, 13),
    # the overview's reads without the alerts
    ("monitoring:overview", {"format": "csv", "table": "levels"}, 16),
    # the whole listing
    ("monitoring:listings", {"format": "csv", "table": "dlt"}, 12),
    # the count, this page's notifications (the CSV reads all of them once more)
    ("monitoring:notifications", {}, 13),
    ("monitoring:notifications", {"kind": "new_dlt"}, 13),
    ("monitoring:notifications", {"format": "csv", "table": "notifications"}, 14),
    # the pending Q3W recommendation, every subject as evidence: the user's studies, the
    # recommendation, its subjects, their doses and adverse events, its decision (none), then the
    # override form's dose levels, tracks and regimens, the track's decision history, and
    # whether the study database is locked (no decision then)
    ("monitoring:review", {}, 18),
]
# SQLite counts the AE table from the events in one query, with no stored counts to check.
AE_TABLE_ON_SQLITE = 1


def measure(client, user, study, sites, n_subjects, n_events, assert_num_queries=None):
    """{page: SQL queries} on a study of that size; with `assert_num_queries`, each page must run
    exactly its stated number (a failure lists the queries it ran)."""
    counts = {}
    with transaction.atomic():
        data = bulk.build(study, sites, user, n_subjects=n_subjects, n_events=n_events)
        for name, params, expected in PAGES:
            args = [data["pending"][0].pk] if name == "monitoring:review" else []
            url = reverse(name, args=args)
            assert client.get(url, params).status_code == 200  # warm-up
            if name == "monitoring:adverse_events" and connection.vendor != "postgresql":
                expected -= AE_TABLE_ON_SQLITE
            with CaptureQueriesContext(connection) as queries:
                if assert_num_queries is None:
                    response = client.get(url, params)
                else:
                    with assert_num_queries(expected, info=f"{name} {params}"):
                        response = client.get(url, params)
            assert response.status_code == 200
            counts[(name, tuple(params.items()))] = len(queries)
        transaction.set_rollback(True)
    return counts


def test_page_queries_do_not_grow_with_the_data(
    client, study, site_a, site_b, coordinator_a, monitor, ctcae, django_assert_num_queries
):
    client.force_login(monitor)
    small = measure(client, coordinator_a, study, [site_a, site_b], 20, 300)
    large = measure(
        client, coordinator_a, study, [site_a, site_b], 60, 1000, django_assert_num_queries
    )
    assert small == large


def test_the_large_study_is_what_the_count_claims(
    client, study, site_a, site_b, coordinator_a, monitor, ctcae
):
    data = bulk.build(study, [site_a, site_b], coordinator_a, n_subjects=60, n_events=1000)
    assert len(data["subjects"]) == 60 and len(data["events"]) == 1000
    client.force_login(monitor)
    page = client.get(reverse("monitoring:adverse_events")).context["page"]
    assert page.table.denominators[-1] == 60
    counted = page.table.events_counted + page.table.events_not_emergent
    assert counted == 1000
    overview = client.get(reverse("monitoring:overview")).context["page"]
    assert sum(t.subjects for t in overview.tracks) == 60
    assert sum(len(t.decisions) for t in overview.tracks) == len(data["cohorts"]) - 2
    # The notifications page and the overview's alerts run on hundreds of notifications.
    notifications = client.get(reverse("monitoring:notifications")).context["page"]
    assert notifications.total == len(data["notifications"]) > 100
    assert len(notifications.rows) == 50 and notifications.pages > 2
    alerts = client.get(reverse("monitoring:overview")).context["alerts"]
    assert len(alerts) == 8 and all(a.event is not None for a in alerts)
    # Adjudicated calls are among the listed DLTs, with who made them (from the audit trail).
    listings = client.get(reverse("monitoring:listings")).context["page"]
    adjudicated = [r.event for r in listings.dlts if r.event.dlt_adjudicated is not None]
    assert adjudicated and all(e.adjudicator for e in adjudicated)
    review = client.get(reverse("monitoring:review", args=[data["pending"][0].pk]))
    assert len(review.context["review"].subjects) > 30
