"""The efficacy API: tumour assessments, lesions and observations as clinical records (scoped,
updated_since, history, CSV), and each subject's derived responses and endpoints."""

import csv
import io
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from api.tokens import token_create
from efficacy.models import LesionObservation
from efficacy.services import lesion_observation_update
from tests.integration.efficacy.helpers import day, follow_up, record_follow_up

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def api(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_create(by=user, name='t').secret}")
    return client


@pytest.fixture
def responder(coordinator_a, with_baseline, first_dose_on):
    record_follow_up(
        coordinator_a, with_baseline, day(first_dose_on, 43), follow_up(35, 21, 14), "PR"
    )
    record_follow_up(
        coordinator_a, with_baseline, day(first_dose_on, 85), follow_up(30, 20, 12), "SD"
    )
    return with_baseline


def test_assessments_lesions_and_observations(coordinator_a, coordinator_b, responder):
    client = api(coordinator_a)
    rows = client.get("/api/v1/tumour-assessments/").json()["results"]
    assert [(r["kind"], r["investigator_response"]) for r in rows] == [
        ("baseline", ""), ("follow_up", "PR"), ("follow_up", "SD")
    ]  # fmt: skip
    assert rows[0]["subject_number"] == "101-001"
    lesions = client.get("/api/v1/lesions/", {"role": "target"}).json()["results"]
    assert sorted(r["code"] for r in lesions) == ["N1", "T1", "T2"]
    observations = client.get("/api/v1/lesion-observations/", {"assessment": rows[1]["id"]}).json()[
        "results"
    ]
    assert {(o["lesion_code"], o["status"], o["size_mm"]) for o in observations} == {
        ("T1", "measured", "35.0"), ("T2", "measured", "21.0"), ("N1", "measured", "14.0"),
        ("NT1", "present", None),
    }  # fmt: skip
    # another site's coordinator sees none of it
    assert api(coordinator_b).get("/api/v1/tumour-assessments/").json()["results"] == []


def test_history_updated_since_and_csv(coordinator_a, responder):
    client = api(coordinator_a)
    since = timezone.now()
    observation = LesionObservation.objects.get(
        lesion__code="T1", assessment__investigator_response="SD"
    )
    lesion_observation_update(
        by=coordinator_a, observation=observation, changes={"size_mm": "31"},
        reason="Radiology re-read", expected_version=1,
    )  # fmt: skip
    changed = client.get(
        "/api/v1/lesion-observations/", {"updated_since": since.isoformat()}
    ).json()["results"]
    assert [(o["lesion_code"], o["size_mm"], o["version"]) for o in changed] == [("T1", "31.0", 2)]
    history = client.get(f"/api/v1/lesion-observations/{observation.pk}/history/").json()
    assert history[-1]["reason"] == "Radiology re-read"
    derived = client.get("/api/v1/subject-efficacy/", {"updated_since": since.isoformat()})
    assert [r["subject_number"] for r in derived.json()["results"]] == ["101-001"]
    later = (timezone.now() + timedelta(seconds=1)).isoformat()
    assert client.get("/api/v1/subject-efficacy/", {"updated_since": later}).json()["results"] == []
    response = client.get("/api/v1/tumour-assessments/", {"format": "csv"})
    table = list(csv.reader(io.StringIO(response.content.decode())))
    assert table[0][:3] == ["id", "study", "site"] and len(table) == 4


def test_derived_responses_and_endpoints(coordinator_a, sponsor, responder, first_dose_on):
    (row,) = api(sponsor).get("/api/v1/subject-efficacy/").json()["results"]
    assert row["best_overall_response"] == "PR"
    assert row["confirmed_on"] == day(first_dose_on, 85).isoformat()
    assert row["disagreements"] == 1  # the investigator read day 85 as SD; computed PR
    assert [p["response"] for p in row["time_points"]] == ["PR", "PR"]
    assert row["time_points"][0]["change_from_baseline_pct"] == "-30.0"
    assert row["pfs"]["cnsr"] == 1 and row["pfs"]["end_on"] == day(first_dose_on, 85).isoformat()
    assert row["dor"]["start_on"] == day(first_dose_on, 43).isoformat()
    assert row["os"]["event"] is False
    assert "confirmation >= 28 days" in row["settings"]
    detail = api(sponsor).get(f"/api/v1/subject-efficacy/{row['subject']}/").json()
    assert detail == row
    response = api(sponsor).get("/api/v1/subject-efficacy/", {"format": "csv"})
    header, line = list(csv.reader(io.StringIO(response.content.decode())))
    assert line[header.index("best_overall_response")] == "PR"
    assert '"response": "PR"' in line[header.index("time_points")]  # nested values as JSON


def test_derived_list_query_count(coordinator_a, responder, django_assert_num_queries):
    client = api(coordinator_a)
    # the token and its last use (2), memberships with their sites (2), the page (1), the
    # settings (1), doses (1), assessments and observations (2), survival contacts and visits
    # done (2: docs/efficacy.md §15)
    with django_assert_num_queries(11):
        assert client.get("/api/v1/subject-efficacy/").status_code == 200


def test_derived_values_are_scoped_like_the_subject(coordinator_b, responder):
    assert api(coordinator_b).get("/api/v1/subject-efficacy/").json()["results"] == []
    response = api(coordinator_b).get(f"/api/v1/subject-efficacy/{responder.pk}/")
    assert response.status_code == 404


def test_study_rates_and_survival_medians_as_the_endpoints_page_gives_them(
    coordinator_a, coordinator_b, monitor, responder
):
    """Sums 100 -> 70 (week 6) -> 62 mm (week 12): PR (-30%) confirmed at least 4 weeks later
    (-38%; the investigator's SD is a disagreement), so ORR 1/1 and DCR 1/1, each with the exact
    (Clopper-Pearson) 95% interval of 1/1: 2.5% (0.025 ** 1) to 100%."""
    study = responder.study_id
    rows = api(monitor).get("/api/v1/efficacy-rates/", {"study": study}).json()
    overall = rows[-1]
    assert overall["group"] == "All dose levels" and overall["n"] == 1
    assert (overall["orr_responders"], overall["orr_denominator"]) == (1, 1)
    assert (overall["orr_ci_lower_percent"], overall["orr_ci_upper_percent"]) == (2.5, 100.0)
    assert (overall["dcr_controlled"], overall["dcr_denominator"], overall["dcr_percent"]) == (
        1, 1, 100.0
    )  # fmt: skip
    assert (overall["dcr_ci_lower_percent"], overall["dcr_ci_upper_percent"]) == (2.5, 100.0)
    assert "Clopper-Pearson" in overall["method"]
    assert [r["group"] for r in rows[:-1]] == ["DL1 0.01 mg/kg"]

    survival = api(monitor).get("/api/v1/efficacy-survival/", {"study": study}).json()
    assert [r["endpoint"] for r in survival] == [
        "Progression-free survival", "Overall survival", "Duration of response"
    ]  # fmt: skip
    pfs = survival[0]
    # One subject, no progression and no death: censored, so the median is not reached.
    assert (pfs["n"], pfs["events"], pfs["median_days"]) == (1, 0, None)
    assert pfs["transform"] in {"log", "log-log"}
    dor = survival[2]
    assert (dor["n"], dor["events"], dor["median_days"]) == (1, 0, None)  # ongoing response

    csv_body = api(monitor).get("/api/v1/efficacy-rates/", {"study": study, "format": "csv"})
    table = list(csv.DictReader(io.StringIO(csv_body.content.decode())))
    assert table[-1]["group"] == "All dose levels" and table[-1]["dcr_controlled"] == "1"

    # another site's coordinator counts none of site A's subjects
    theirs = api(coordinator_b).get("/api/v1/efficacy-rates/", {"study": study}).json()
    assert theirs[-1]["n"] == 0 and theirs[-1]["dcr_controlled"] is None
    refused = api(monitor).get("/api/v1/efficacy-rates/", {"study": "x"})
    assert refused.status_code == 400 and "study" in refused.content.decode()
