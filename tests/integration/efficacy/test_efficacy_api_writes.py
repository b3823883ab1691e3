"""Writing tumour assessments and lesions through the API (docs/efficacy.md §15): the same
services as the pages (each refusal naming its field and the RECIST rule, nothing saved in
part), audited, site-scoped, and If-Match on every change of an existing record (428 without,
412 when stale)."""

import pytest
from rest_framework.test import APIClient

from api.tokens import token_create
from efficacy.models import Lesion, LesionObservation, TumourAssessment
from efficacy.selectors import subject_efficacy
from tests.integration.efficacy.helpers import BASELINE, day, follow_up

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def api(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_create(by=user, name='t').secret}")
    return client


def etag(record) -> str:
    return f'"{record.pk}.{record.version}"'


def fields(response) -> dict:
    assert response.status_code == 400, response.json()
    return response.json()["error"]["fields"]


def _baseline_body(subject, on):
    return {
        "subject": subject.pk,
        "kind": "baseline",
        "assessed_on": on.isoformat(),
        "method": "CT",
        "lesions": BASELINE,
    }


def _follow_up_body(subject, on, lesions, response="PR"):
    return {
        "subject": subject.pk,
        "kind": "follow_up",
        "assessed_on": on.isoformat(),
        "method": "CT",
        "investigator_response": response,
        "lesions": lesions,
    }


def test_baseline_and_follow_up_recorded_through_the_api(coordinator_a, treated, first_dose_on):
    client = api(coordinator_a)
    created = client.post(
        "/api/v1/tumour-assessments/",
        _baseline_body(treated, day(first_dose_on, -4)),
        format="json",
    )
    assert created.status_code == 201, created.json()
    baseline = TumourAssessment.objects.get(pk=created.json()["id"])
    assert created["Location"].endswith(f"/api/v1/tumour-assessments/{baseline.pk}/")
    assert created["ETag"] == etag(baseline)
    assert sorted(Lesion.objects.filter(subject=treated).values_list("code", flat=True)) == [
        "N1", "NT1", "T1", "T2"
    ]  # fmt: skip
    history = client.get(f"/api/v1/tumour-assessments/{baseline.pk}/history/").json()
    assert history[0]["reason"] == "Baseline tumour assessment entered"
    # RECIST 1.1 §4.3.1: 35 + 21 + 14 = 70, exactly 30% below 100: PR.
    response = client.post(
        "/api/v1/tumour-assessments/",
        _follow_up_body(treated, day(first_dose_on, 43), follow_up("35.0", 21, 14), "SD"),
        format="json",
    )
    assert response.status_code == 201, response.json()
    record = subject_efficacy(coordinator_a, treated)
    (point,) = record.time_points
    assert (point.response, point.investigator_response) == ("PR", "SD")


@pytest.mark.parametrize(
    ("rows", "field", "words"),
    [
        # a node keeps its short axis, never "gone" (RECIST 1.1 §4.3.2)
        (follow_up(35, 21, 14)[:2] + [{"code": "N1", "status": "gone"}, {"code": "NT1",
         "status": "present"}], "lesions[2].status", "lymph node"),
        # every baseline lesion at each assessment
        (follow_up(35, 21, 14)[:3], "lesions", "missing NT1"),
        # a split target needs its parts (RECIST 1.1 §4.3.2)
        ([{"code": "T1", "status": "split", "parts_mm": ["12"]}] + follow_up(35, 21, 14)[1:],
         "lesions[0].parts_mm", "2 or more parts"),
        # parsed before the service: lengths to 0.1 mm
        ([{**follow_up(35, 21, 14)[0], "size_mm": "35.25"}] + follow_up(35, 21, 14)[1:],
         "lesions[0].size_mm", "decimal place"),
        # a field the endpoint does not know is refused by name
        ([{**follow_up(35, 21, 14)[0], "diameter": "35"}] + follow_up(35, 21, 14)[1:],
         "lesions[0].diameter", "Unknown field"),
    ],
)  # fmt: skip
def test_a_bad_follow_up_is_refused_by_field_and_nothing_is_saved(
    coordinator_a, with_baseline, first_dose_on, rows, field, words
):
    response = api(coordinator_a).post(
        "/api/v1/tumour-assessments/",
        _follow_up_body(with_baseline, day(first_dose_on, 43), rows),
        format="json",
    )
    errors = fields(response)
    assert words in " ".join(errors[field]), errors
    assert TumourAssessment.objects.filter(subject=with_baseline).count() == 1
    assert LesionObservation.objects.filter(assessment__subject=with_baseline).count() == 4


@pytest.fixture
def followed_up(coordinator_a, with_baseline, first_dose_on):
    response = api(coordinator_a).post(
        "/api/v1/tumour-assessments/",
        _follow_up_body(with_baseline, day(first_dose_on, 43), follow_up(35, 21, 14)),
        format="json",
    )
    assert response.status_code == 201, response.json()
    return TumourAssessment.objects.get(pk=response.json()["id"])


def test_correcting_an_observation_needs_if_match_and_a_reason(
    coordinator_a, investigator_a, followed_up
):
    client = api(coordinator_a)
    observation = LesionObservation.objects.get(assessment=followed_up, lesion__code="T1")
    url = f"/api/v1/lesion-observations/{observation.pk}/"
    body = {"size_mm": "36", "reason": "Radiology re-read"}
    assert client.patch(url, body, format="json").status_code == 428
    assert "reason" in fields(
        client.patch(url, {"size_mm": "36"}, format="json", HTTP_IF_MATCH=etag(observation))
    )
    saved = client.patch(url, body, format="json", HTTP_IF_MATCH=etag(observation))
    assert saved.status_code == 200, saved.json()
    assert (saved.json()["size_mm"], saved.json()["version"]) == ("36.0", 2)
    assert saved["ETag"] == f'"{observation.pk}.2"'
    # 36 + 21 + 14 = 71: 29% below the baseline: SD now
    assert subject_efficacy(coordinator_a, followed_up.subject).time_points[0].response == "SD"
    # another editor still holding version 1: 412 with what changed, nothing saved
    stale = api(investigator_a).patch(
        url, {"size_mm": "34", "reason": "typo"}, format="json", HTTP_IF_MATCH=etag(observation)
    )
    assert stale.status_code == 412
    observation.refresh_from_db()
    assert observation.size_mm == 36
    history = client.get(f"{url}history/").json()
    assert history[-1]["reason"] == "Radiology re-read"


def test_split_and_merged_targets_are_corrected_with_their_parts_and_mass(
    coordinator_a, followed_up
):
    client = api(coordinator_a)
    t1 = LesionObservation.objects.get(assessment=followed_up, lesion__code="T1")
    t2 = LesionObservation.objects.get(assessment=followed_up, lesion__code="T2")
    url = f"/api/v1/lesion-observations/{t1.pk}/"
    refused = client.patch(
        url, {"status": "split", "size_mm": None, "reason": "re-read"}, format="json",
        HTTP_IF_MATCH=etag(t1),
    )  # fmt: skip
    assert "2 or more parts" in fields(refused)["parts_mm"][0]
    split = client.patch(
        url, {"status": "split", "size_mm": None, "parts_mm": ["20", "15.5"], "reason": "re-read"},
        format="json", HTTP_IF_MATCH=etag(t1),
    )  # fmt: skip
    assert split.status_code == 200, split.json()
    assert split.json()["parts_mm"] == ["20.0", "15.5"]
    # RECIST 1.1 §4.3.2: the parts are added: 35.5 + 21 + 14 = 70.5 mm
    point = subject_efficacy(coordinator_a, followed_up.subject).time_points[0]
    assert point.target.sum_mm == 70.5
    lesion_t1 = Lesion.objects.get(subject=followed_up.subject, code="T1")
    wrong = client.patch(
        f"/api/v1/lesion-observations/{t2.pk}/",
        {"status": "merged", "size_mm": None, "merged_into": t2.lesion_id, "reason": "re-read"},
        format="json", HTTP_IF_MATCH=etag(t2),
    )  # fmt: skip
    assert "other target lesion" in fields(wrong)["merged_into"][0]
    merged = client.patch(
        f"/api/v1/lesion-observations/{t2.pk}/",
        {"status": "merged", "size_mm": None, "merged_into": lesion_t1.pk, "reason": "re-read"},
        format="json", HTTP_IF_MATCH=etag(t2),
    )  # fmt: skip
    assert merged.status_code == 200, merged.json()
    assert merged.json()["merged_into_code"] == "T1"


def test_correcting_an_assessment_and_a_lesion(coordinator_a, followed_up, first_dose_on):
    client = api(coordinator_a)
    url = f"/api/v1/tumour-assessments/{followed_up.pk}/"
    future = client.patch(
        url, {"assessed_on": day(first_dose_on, 400).isoformat(), "reason": "date"},
        format="json", HTTP_IF_MATCH=etag(followed_up),
    )  # fmt: skip
    assert "in the future" in fields(future)["assessed_on"][0]
    saved = client.patch(
        url, {"investigator_response": "PR", "comment": "Re-read", "reason": "Investigator"},
        format="json", HTTP_IF_MATCH=etag(followed_up),
    )  # fmt: skip
    assert saved.status_code == 200 and saved.json()["comment"] == "Re-read"
    assert "kind" in fields(
        client.patch(url, {"kind": "baseline", "reason": "x"}, format="json",
                     HTTP_IF_MATCH=saved["ETag"])
    )  # fmt: skip
    # A lesion's organ and measurability, checked again by the rules core (RECIST 1.1 §4.2,
    # §3.1.2), each refusal on the field corrected
    subject = followed_up.subject
    t1 = Lesion.objects.get(subject=subject, code="T1")
    moved = client.patch(
        f"/api/v1/lesions/{t1.pk}/", {"organ": "Lung ", "reason": "Radiology report"},
        format="json", HTTP_IF_MATCH=etag(t1),
    )  # fmt: skip
    assert moved.status_code == 200 and moved.json()["organ"] == "Lung"
    t1.refresh_from_db()
    bone = client.patch(
        f"/api/v1/lesions/{t1.pk}/", {"measurable_by_nature": False, "reason": "x"},
        format="json", HTTP_IF_MATCH=etag(t1),
    )  # fmt: skip
    assert "non-measurable by nature" in " ".join(fields(bone)["measurable_by_nature"])
    n1 = Lesion.objects.get(subject=subject, code="N1")
    assert client.patch(
        f"/api/v1/lesions/{n1.pk}/", {"nodal": False, "reason": "Not a node"}, format="json",
        HTTP_IF_MATCH=etag(n1),
    ).status_code == 200  # fmt: skip
    n1.refresh_from_db()
    third = client.patch(
        f"/api/v1/lesions/{n1.pk}/", {"organ": "lung", "reason": "x"}, format="json",
        HTTP_IF_MATCH=etag(n1),
    )  # fmt: skip
    assert "at most 2" in " ".join(fields(third)["organ"])
    located = client.patch(
        f"/api/v1/lesions/{n1.pk}/", {"location": "subcarinal", "reason": "Radiology report"},
        format="json", HTTP_IF_MATCH=etag(n1),
    )  # fmt: skip
    assert located.status_code == 200 and located.json()["location"] == "subcarinal"
    assert "code" in fields(
        client.patch(f"/api/v1/lesions/{n1.pk}/", {"code": "T9", "reason": "x"}, format="json",
                     HTTP_IF_MATCH=located["ETag"])
    )  # fmt: skip
    # lesions and observations are created and voided with their assessment only
    assert client.post("/api/v1/lesions/", {}, format="json").status_code == 405
    assert client.delete(f"/api/v1/lesions/{n1.pk}/?reason=x").status_code == 405


def test_void_through_the_api(coordinator_a, followed_up):
    client = api(coordinator_a)
    url = f"/api/v1/tumour-assessments/{followed_up.pk}/"
    assert client.delete(f"{url}?reason=Wrong%20date").status_code == 428
    voided = client.delete(f"{url}?reason=Wrong%20date", HTTP_IF_MATCH=etag(followed_up))
    assert voided.status_code == 200 and voided.json()["voided"] is True
    assert not LesionObservation.objects.filter(assessment=followed_up).exists()


def test_sites_and_roles(coordinator_b, sponsor, followed_up, first_dose_on):
    observation = LesionObservation.objects.filter(assessment=followed_up).first()
    other_site = api(coordinator_b)
    assert other_site.patch(
        f"/api/v1/lesion-observations/{observation.pk}/", {"size_mm": "1", "reason": "x"},
        format="json", HTTP_IF_MATCH=etag(observation),
    ).status_code == 404  # fmt: skip
    body = _follow_up_body(followed_up.subject, day(first_dose_on, 85), follow_up(30, 20, 12))
    assert "subject" in fields(other_site.post("/api/v1/tumour-assessments/", body, format="json"))
    assert api(sponsor).post("/api/v1/tumour-assessments/", body, format="json").status_code == 403
    assert TumourAssessment.objects.filter(subject=followed_up.subject).count() == 2
