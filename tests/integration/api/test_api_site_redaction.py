"""A site role reads the escalation's decisions and counts, never another site's subjects: in
escalation decisions (text, data, inputs, JSON and CSV), cohorts (current recommendation and
decision history) and committee decisions. Study roles read everything; the stored
recommendation stays complete (escalation/redaction.py)."""

from datetime import timedelta

import pytest

from accounts.roles import Role
from core.dates import site_today
from escalation.committee import committee_override
from escalation.models import Recommendation
from escalation.redaction import OTHER_EVENT, OTHER_SITE, redact_text
from escalation.services import evaluate_track
from tests.conftest import PASSWORD, make_user
from tests.factories import dosed, enrolled_subject
from tests.integration.escalation.helpers import report_dlt

pytestmark = pytest.mark.django_db

ENDPOINTS = ("escalation-decisions", "cohorts", "committee-decisions")


@pytest.fixture
def dlt_at_site_b(coordinator_a, coordinator_b, site_a, site_b, cohort1, cohort_b, ctcae):
    """Site A's subject evaluable without DLT; site B's subject (102-001) with a DLT, which the
    track's recommendation names: subject, term, grade and onset."""
    subject_a = enrolled_subject(coordinator_a, site_a, "A-1", cohort1, days_ago=32)
    dosed(coordinator_a, subject_a, on=site_today(site_a.timezone) - timedelta(days=30))
    subject_b = enrolled_subject(coordinator_b, site_b, "B-1", cohort_b, days_ago=12)
    dosed(coordinator_b, subject_b, on=site_today(site_b.timezone) - timedelta(days=10))
    # The site's investigator makes the call: attested, so the committee may sign on it.
    investigator_b = make_user("investigator_b", site_b.study, Role.INVESTIGATOR, [site_b])
    event = report_dlt(investigator_b, subject_b)
    recommendation = evaluate_track(cohort1.track_id).recommendation
    secrets = [subject_b.subject_number, event.ctcae_term.term, event.onset_date.isoformat()]
    for secret in secrets:
        assert secret in recommendation.text  # the stored text names them all
    return recommendation, subject_a, subject_b, secrets


def everything(client, recommendation, cohort_ids) -> str:
    """Every escalation read a client can make, JSON and CSV, as one text."""
    parts = [
        client.get(f"/api/v1/escalation-decisions/{recommendation.pk}/").content,
        client.get("/api/v1/escalation-decisions/").content,
        client.get("/api/v1/escalation-decisions/", {"format": "csv"}).content,
        client.get("/api/v1/cohorts/").content,
        client.get("/api/v1/cohorts/", {"format": "csv"}).content,
        client.get("/api/v1/committee-decisions/").content,
        client.get("/api/v1/committee-decisions/", {"format": "csv"}).content,
    ]
    parts += [client.get(f"/api/v1/cohorts/{pk}/").content for pk in cohort_ids]
    return b"\n".join(parts).decode()


@pytest.mark.parametrize("persona", ["coordinator_a", "investigator_a"])
def test_site_roles_read_no_other_sites_subject_anywhere(
    request, api, persona, dlt_at_site_b, cohort1, cohort_b
):
    recommendation, subject_a, _, secrets = dlt_at_site_b
    client = api(request.getfixturevalue(persona))
    text = everything(client, recommendation, [cohort1.pk, cohort_b.pk])
    for secret in secrets:
        assert secret not in text, secret
    assert OTHER_SITE in text and OTHER_EVENT in text
    # Their own subject, the counts, the action and the dose stay.
    detail = client.get(f"/api/v1/escalation-decisions/{recommendation.pk}/").json()
    assert detail["text"] == (
        "enroll 1 more at 0.01 mg/kg Q3W (titration trigger: a DLT or a related grade >= 2 AE, "
        f"at 0.01 mg/kg Q3W: DLT in {OTHER_SITE} at 0.01 mg/kg Q3W: {OTHER_EVENT}; 3 in all "
        "here, then 3+3) (carried out: 5 places open at 0.01 mg/kg Q3W; enroll there)"
    )
    level = detail["data"]["levels"][0]
    assert (level["enrolled"], level["evaluable"], level["dlts"]) == (2, 2, 1)
    numbers = [s["number"] for s in level["subjects"]]
    assert numbers == [subject_a.subject_number, OTHER_SITE]
    other = level["subjects"][1]
    assert other["status"] == "dlt" and other["other_site"] is True
    assert other["window_start"] is None and other["dlt"] is None
    inputs = {s["number"]: s for s in detail["inputs"]["subjects"]}
    assert inputs[subject_a.subject_number]["doses"]  # own subject in full
    assert inputs[OTHER_SITE]["dose_level"] == cohort_b.dose_level_id
    assert inputs[OTHER_SITE]["other_site"] is True
    assert inputs[OTHER_SITE]["doses"] is None and inputs[OTHER_SITE]["adverse_events"] is None
    assert detail["data"]["titration_trigger"]["events"] == [
        {"subject": OTHER_SITE, "kind": "DLT", "event": None, "ae_id": None, "other_site": True}
    ]


@pytest.mark.parametrize("persona", ["sponsor", "monitor", "data_manager"])
def test_study_roles_read_the_full_evidence(request, api, persona, dlt_at_site_b):
    recommendation, *_ = dlt_at_site_b
    client = api(request.getfixturevalue(persona))
    detail = client.get(f"/api/v1/escalation-decisions/{recommendation.pk}/").json()
    assert detail["text"] == recommendation.text
    assert detail["data"] == recommendation.data and detail["inputs"] == recommendation.inputs
    listed = client.get("/api/v1/escalation-decisions/").json()["results"]
    assert listed[0]["text"] == recommendation.text


def test_the_stored_recommendation_is_not_changed_by_reading_it(api, coordinator_a, dlt_at_site_b):
    recommendation, *_ = dlt_at_site_b
    before = (recommendation.text, recommendation.data, recommendation.inputs)
    api(coordinator_a).get(f"/api/v1/escalation-decisions/{recommendation.pk}/")
    api(coordinator_a).get("/api/v1/cohorts/")
    stored = Recommendation.objects.get(pk=recommendation.pk)
    assert (stored.text, stored.data, stored.inputs) == before


def test_a_committee_rationale_naming_another_sites_subject_is_redacted(
    api, coordinator_a, sponsor, monitor, dlt_at_site_b, cohort1
):
    recommendation, _, subject_b, _ = dlt_at_site_b
    rationale = f"Neutropenia of {subject_b.subject_number} reviewed: pause at this dose."
    decision = committee_override(
        by=monitor,
        track=recommendation.track,
        step="pause_track",
        rationale=rationale,
        password=PASSWORD,
    )
    site_view = api(coordinator_a)
    row = site_view.get(f"/api/v1/committee-decisions/{decision.pk}/").json()
    assert row["rationale"] == f"Neutropenia of {OTHER_SITE} reviewed: pause at this dose."
    for listing in (
        site_view.get("/api/v1/committee-decisions/").content,
        site_view.get("/api/v1/committee-decisions/", {"format": "csv"}).content,
        site_view.get("/api/v1/escalation-decisions/").content,
        site_view.get(f"/api/v1/cohorts/{cohort1.pk}/").content,
    ):
        assert subject_b.subject_number.encode() not in listing
    full = api(sponsor).get(f"/api/v1/committee-decisions/{decision.pk}/").json()
    assert full["rationale"] == rationale


def test_a_list_of_decisions_costs_a_site_role_no_query_per_row(api, coordinator_a, dlt_at_site_b):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = api(coordinator_a)
    client.get("/api/v1/escalation-decisions/")
    with CaptureQueriesContext(connection) as one:
        client.get("/api/v1/escalation-decisions/")
    recommendation, *_ = dlt_at_site_b
    for _ in range(3):  # more rows: each a stored recommendation naming site B's subject
        Recommendation.objects.filter(pk=recommendation.pk).update(
            status=Recommendation.Status.SUPERSEDED
        )
        recommendation.pk = None
        recommendation.sequence += 1
        recommendation.status = Recommendation.Status.PENDING
        recommendation.save()
    with CaptureQueriesContext(connection) as four:
        body = client.get("/api/v1/escalation-decisions/").json()
    assert len(body["results"]) == 4
    assert len(four) == len(one)
    assert all("102-001" not in row["text"] for row in body["results"])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "wait: 2 subjects pending until 2026-12-11 (102-001 window ends 2026-12-11, "
            "101-002 window ends 2026-12-02) at 0.03 mg/kg Q3W (0 DLTs in 1 evaluable so far)",
            f"wait: 2 subjects pending until 2026-12-11 ({OTHER_SITE}, 101-002 window ends "
            "2026-12-02) at 0.03 mg/kg Q3W (0 DLTs in 1 evaluable so far)",
        ),
        (
            "replace subjects 102-001, 101-003 at 0.1 mg/kg Q3W (102-001 left the DLT window "
            "early without a DLT; 101-003 under-dosed; 1 DLT in 3 evaluable)",
            f"replace {OTHER_SITE}, 101-003 at 0.1 mg/kg Q3W ({OTHER_SITE}; 101-003 "
            "under-dosed; 1 DLT in 3 evaluable)",
        ),
        (
            "102-001: DLT call on an AE assessed as not related (grade 3 Nausea (onset "
            "2026-11-22)); counted, check the record",
            f"{OTHER_SITE}; counted, check the record",
        ),
        # A number that merely contains the hidden one is another subject.
        ("1 subject awaiting first dose (102-0011)", "1 subject awaiting first dose (102-0011)"),
    ],
)
def test_texts_lose_the_other_sites_subject_and_keep_the_rest(text, expected):
    events = frozenset({"grade 3 Nausea (onset 2026-11-22)"})
    assert redact_text(text, frozenset({"102-001"}), events) == expected
