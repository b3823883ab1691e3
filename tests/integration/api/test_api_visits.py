"""The visits resources of the API: visits, vital signs, lab results (with the adverse event
reported from a graded result) and ECOG, with updated_since, history, CSV and site scoping."""

import csv
import io
from datetime import timedelta

import pytest
from django.utils import timezone

from core.dates import site_today
from safety.models import AdverseEvent
from tests.factories import dosed, enrolled_subject
from trial.models import Cohort, DoseLevel, EscalationTrack
from visits.models import LabResult


@pytest.fixture
def subject(study, coordinator_a, site_a, ctcae):
    q3w = EscalationTrack.objects.get(study=study, code="Q3W-ESC")
    track = EscalationTrack.objects.create(
        study=study,
        code="APIV",
        name="API visits",
        regimen=q3w.regimen,
        phase=EscalationTrack.Phase.ESCALATION,
        status=EscalationTrack.Status.ACTIVE,
        display_order=9,
    )
    cohort = Cohort.objects.create(
        study=study,
        track=track,
        number=92,
        dose_level=DoseLevel.objects.get(study=study, number=1),
        planned_size=10,
        status=Cohort.Status.OPEN,
        opened_at=timezone.now(),
    )
    subject = enrolled_subject(coordinator_a, site_a, "API-V1", cohort, days_ago=12)
    dosed(coordinator_a, subject, on=site_today(site_a.timezone) - timedelta(days=8))
    return subject


def test_visit_vitals_lab_and_ae_through_the_api(api, coordinator_a, coordinator_b, subject):
    client = api(coordinator_a)
    c1d8 = site_today(subject.site.timezone) - timedelta(days=1)
    response = client.post(
        "/api/v1/visits/",
        {"subject": subject.pk, "code": "C1D8", "visit_date": c1d8.isoformat()},
        format="json",
    )
    assert response.status_code == 201, response.json()
    visit_id = response.json()["id"]
    assert response["Location"].endswith(f"/api/v1/visits/{visit_id}/")
    response = client.post(
        "/api/v1/vital-signs/",
        {
            "visit": visit_id,
            "measured_on": c1d8.isoformat(),
            "timepoint": "visit",
            "systolic_bp": 120,
            "diastolic_bp": 130,
        },
        format="json",
    )
    assert response.status_code == 400
    assert "diastolic" in str(response.json()).lower()
    response = client.post(
        "/api/v1/vital-signs/",
        {
            "visit": visit_id,
            "measured_on": c1d8.isoformat(),
            "timepoint": "visit",
            "systolic_bp": 120,
            "diastolic_bp": 80,
            "weight": "70.5",
            "weight_unit": "kg",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    # A lab result in conventional units: bilirubin 3.0 mg/dL = 51.3 umol/L; ULN 1.2 mg/dL:
    # 2.5 x ULN -> grade 2 (>1.5 - 3.0 x ULN).
    response = client.post(
        "/api/v1/lab-results/",
        {
            "visit": visit_id,
            "sampled_on": c1d8.isoformat(),
            "test": "BILI",
            "value": "3.0",
            "unit": "mg/dL",
            "normal_high": "1.2",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    lab = response.json()
    assert (lab["standard_value"], lab["standard_unit"]) == ("51.300000", "umol/L")
    assert (lab["ctcae_term"], lab["ctcae_grade"], lab["reference_flag"]) == (
        "Blood bilirubin increased",
        2,
        "H",
    )
    # A unit the test does not accept is refused by field.
    refused = client.post(
        "/api/v1/lab-results/",
        {
            "visit": visit_id,
            "sampled_on": c1d8.isoformat(),
            "test": "CREAT",
            "value": "10",
            "unit": "mg/L",
        },
        format="json",
    )
    assert refused.status_code == 400 and "unit" in refused.json()["error"]["fields"]
    # Another site sees nothing.
    other = api(coordinator_b)
    assert other.get(f"/api/v1/lab-results/{lab['id']}/").status_code == 404
    assert other.get("/api/v1/lab-results/").json()["results"] == []
    # The adverse event from the graded result, confirmed by the site, linked to it.
    detail = client.get(f"/api/v1/lab-results/{lab['id']}/")
    response = client.post(
        f"/api/v1/lab-results/{lab['id']}/adverse-event/",
        {"relationship": "possible", "action_taken": "none", "outcome": "not_recovered"},
        format="json",
        HTTP_IF_MATCH=detail["ETag"],
    )
    assert response.status_code == 200, response.json()
    event = AdverseEvent.objects.get(pk=response.json()["id"])
    assert (event.ctcae_term.term, event.grade) == ("Blood bilirubin increased", 2)
    assert LabResult.objects.get(pk=lab["id"]).adverse_event_id == event.pk
    # History, updated_since and CSV.
    history = client.get(f"/api/v1/lab-results/{lab['id']}/history/").json()
    assert [entry["reason"] for entry in history] == [
        "Lab result recorded",
        f"Reported as adverse event {event.pk}",
    ]
    since = (timezone.now() - timedelta(minutes=5)).isoformat()
    listed = client.get("/api/v1/lab-results/", {"updated_since": since}).json()
    assert [row["id"] for row in listed["results"]] == [lab["id"]]
    text = client.get("/api/v1/lab-results/", {"format": "csv"}).content.decode()
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [(r["test"], r["ctcae_grade"]) for r in rows] == [("BILI", "2")]
    assert client.get("/api/v1/vital-signs/", {"format": "csv"}).status_code == 200


def test_a_lab_correction_regrades_with_a_reason(api, coordinator_a, subject):
    client = api(coordinator_a)
    c1d8 = site_today(subject.site.timezone) - timedelta(days=1)
    visit = client.post(
        "/api/v1/visits/",
        {"subject": subject.pk, "code": "C1D8", "visit_date": c1d8.isoformat()},
        format="json",
    ).json()
    created = client.post(
        "/api/v1/lab-results/",
        {
            "visit": visit["id"],
            "sampled_on": c1d8.isoformat(),
            "test": "PLAT",
            "value": "60",
            "unit": "10^9/L",
        },
        format="json",
    )
    lab = created.json()
    assert lab["ctcae_grade"] is None and lab["grading_flags"] == ["no_normal_range"]
    response = client.patch(
        f"/api/v1/lab-results/{lab['id']}/",
        {"normal_low": "150", "normal_high": "400", "reason": "Range from the lab report"},
        format="json",
        HTTP_IF_MATCH=created["ETag"],
    )
    assert response.status_code == 200, response.json()
    assert response.json()["ctcae_grade"] == 2  # <75 - 50
