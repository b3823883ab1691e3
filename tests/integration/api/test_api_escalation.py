"""The escalation through the API, with rows made by the evaluation service and the committee:
cohorts with their current recommendation and decision history, escalation decisions,
committee decisions and DLT evaluations."""

from datetime import timedelta

import pytest

from core.dates import site_today
from escalation.committee import committee_confirm
from escalation.models import Recommendation
from escalation.services import evaluate_track
from tests.conftest import PASSWORD
from tests.factories import dosed, enrolled_subject

pytestmark = pytest.mark.django_db


@pytest.fixture
def evaluated(coordinator_a, site_a, cohort1, ctcae):
    """Cohort 1's titration subject, dosed 30 days ago (window over, no DLT), evaluated."""
    subject = enrolled_subject(coordinator_a, site_a, "S-1", cohort1, days_ago=32)
    dosed(coordinator_a, subject, on=site_today(site_a.timezone) - timedelta(days=30))
    result = evaluate_track(cohort1.track_id)
    assert result.recommendation.action == "escalate"
    return subject, result.recommendation


def test_a_cohort_shows_its_tracks_current_recommendation(api, sponsor, cohort1, evaluated):
    _, recommendation = evaluated
    body = api(sponsor).get(f"/api/v1/cohorts/{cohort1.pk}/").json()
    current = body["current_recommendation"]
    assert current["id"] == recommendation.pk
    assert (current["action"], current["status"], current["needs_decision"]) == (
        "escalate",
        "pending",
        True,
    )
    assert [r["id"] for r in body["decision_history"]] == [recommendation.pk]
    assert body["decision_history"][0]["decision"] is None
    assert body["opened_by_decision"] is None  # the study's first cohort
    listed = api(sponsor).get("/api/v1/cohorts/").json()["results"]
    assert listed[0]["current_recommendation"]["id"] == recommendation.pk
    assert listed[0]["subjects_enrolled"] == 1


def test_the_committee_decision_is_on_the_recommendation_and_the_cohorts(
    api, sponsor, coordinator_a, monitor, cohort1, evaluated
):
    _, recommendation = evaluated
    decision = committee_confirm(by=monitor, recommendation=recommendation, password=PASSWORD)
    cohort2 = decision.opened_cohort
    client = api(sponsor)

    row = client.get(f"/api/v1/escalation-decisions/{recommendation.pk}/").json()
    assert (row["status"], row["decision"], row["decision_outcome"], row["decision_step"]) == (
        "confirmed",
        decision.pk,
        "confirmed",
        "open_cohort",
    )
    assert row["decided_by_name"] == "Monitor Tester" and row["opened_cohort"] == cohort2.pk
    assert row["data"]["action"] == "escalate" and "levels" in row["data"]
    assert row["inputs"] == recommendation.inputs

    listed = client.get("/api/v1/escalation-decisions/").json()["results"]
    assert [r["id"] for r in listed] == [recommendation.pk] and "data" not in listed[0]

    decisions = client.get("/api/v1/committee-decisions/").json()["results"]
    assert [(d["id"], d["signature_meaning"], d["signature_valid"]) for d in decisions] == [
        (decision.pk, "approved", True)
    ]
    history = client.get(f"/api/v1/committee-decisions/{decision.pk}/history/").json()
    assert [h["type"] for h in history] == ["created"]

    closed = client.get(f"/api/v1/cohorts/{cohort1.pk}/").json()
    assert closed["status"] == "closed" and closed["current_recommendation"] is None
    assert closed["decision_history"][0]["decision"] == decision.pk

    opened = client.get(f"/api/v1/cohorts/{cohort2.pk}/").json()
    assert opened["opened_by_decision"]["id"] == decision.pk
    assert opened["decision_history"] == []
    # The next evaluation's recommendation belongs to the new cohort.
    evaluate_track(cohort1.track_id)
    current = Recommendation.objects.get(track=cohort1.track, status__in=Recommendation.CURRENT)
    opened = client.get(f"/api/v1/cohorts/{cohort2.pk}/").json()
    assert opened["current_recommendation"]["id"] == current.pk
    assert [r["id"] for r in opened["decision_history"]] == [current.pk]


def test_dlt_evaluations_are_scoped_to_sites(api, coordinator_a, coordinator_b, sponsor, evaluated):
    subject, _ = evaluated
    for persona, visible in ((sponsor, True), (coordinator_a, True), (coordinator_b, False)):
        rows = api(persona).get("/api/v1/dlt-evaluations/").json()["results"]
        assert [r["subject"] for r in rows] == ([subject.pk] if visible else [])
    row = api(sponsor).get("/api/v1/dlt-evaluations/").json()["results"][0]
    assert (row["status"], row["subject_number"], row["track_code"]) == (
        "evaluable_no_dlt",
        "101-001",
        "Q3W-ESC",
    )
    assert row["qualifying_infusions"] == row["required_infusions"] == 1
    assert api(coordinator_b).get(f"/api/v1/dlt-evaluations/{row['id']}/").status_code == 404


def test_escalation_resources_are_read_only(api, data_manager, evaluated):
    _, recommendation = evaluated
    client = api(data_manager)
    assert client.post("/api/v1/escalation-decisions/", {}, format="json").status_code == 405
    assert client.delete(f"/api/v1/escalation-decisions/{recommendation.pk}/").status_code == 405
