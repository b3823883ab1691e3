"""Demographics and the coded disposition reasons in the API (docs/subjects.md §1-§2): recorded
through the subject's actions by the same services as the pages, read in the subject resource
with updated_since, its history and CSV."""

import csv
import io
import re
from datetime import timedelta

import pytest
from django.utils import timezone

from core.dates import site_today
from subjects.models import Subject

pytestmark = pytest.mark.django_db


def etag(record):
    return f'"{record.pk}.{record.version}"'


def fields_of(response):
    assert response.status_code == 400, response.content
    return response.json()["error"]["fields"]


@pytest.fixture
def coord(api, coordinator_a):
    return api(coordinator_a)


def url(subject, action=""):
    return f"/api/v1/subjects/{subject.pk}/{action + '/' if action else ''}"


def test_demographics_are_recorded_and_read_back(coord, api, sponsor, records):
    subject = records["subject_a"]
    checkpoint = timezone.now()
    response = coord.post(
        url(subject, "demographics"),
        {"ethnicity": "HISPANIC OR LATINO", "races": ["WHITE", "ASIAN"]},
        format="json",
        HTTP_IF_MATCH=etag(subject),
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["ethnicity"], body["races"], body["race_other"]) == (
        "HISPANIC OR LATINO",
        ["ASIAN", "WHITE"],
        "",
    )
    reader = api(sponsor)
    # updated_since finds it; the other subjects did not change.
    changed = reader.get("/api/v1/subjects/", {"updated_since": checkpoint.isoformat()}).json()
    assert [r["id"] for r in changed["results"]] == [subject.pk]
    history = reader.get(f"{url(subject)}history/").json()
    assert history[-1]["reason"] == "Demographics recorded"
    assert history[-1]["user"] == "coord_a"
    table = reader.get("/api/v1/subjects/", {"format": "csv", "site": subject.site_id})
    rows = {r["id"]: r for r in csv.DictReader(io.StringIO(table.content.decode()))}
    assert rows[str(subject.pk)]["races"] == '["ASIAN", "WHITE"]'
    assert rows[str(subject.pk)]["ethnicity"] == "HISPANIC OR LATINO"
    assert rows[str(records["screened_a"].pk)]["races"] == "[]"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"ethnicity": "LATINO", "races": ["WHITE"]}, "ethnicity"),
        ({"ethnicity": "UNKNOWN", "races": ["MIXED"]}, "races"),
        ({"ethnicity": "UNKNOWN", "races": []}, "races"),
        ({"ethnicity": "UNKNOWN", "races": ["UNKNOWN", "WHITE"]}, "races"),
        ({"ethnicity": "UNKNOWN", "races": ["OTHER"]}, "race_other"),
        ({"ethnicity": "UNKNOWN", "races": ["WHITE"], "race_other": "Sami"}, "race_other"),
        ({"ethnicity": "UNKNOWN", "races": ["WHITE"], "colour": "x"}, "colour"),
    ],
)
def test_demographics_refused_by_field(coord, records, body, field):
    subject = records["subject_a"]
    response = coord.post(
        url(subject, "demographics"), body, format="json", HTTP_IF_MATCH=etag(subject)
    )
    # A value outside the list is named with its place ("races[0]"), as the services name a
    # list's items.
    assert any(re.split(r"[.\[]", name)[0] == field for name in fields_of(response)), (
        response.json()
    )
    assert Subject.objects.get(pk=subject.pk).version == subject.version


def test_a_correction_of_demographics_needs_a_reason(coord, records):
    subject = records["subject_a"]
    body = {"ethnicity": "NOT REPORTED", "races": ["NOT REPORTED"]}
    first = coord.post(
        url(subject, "demographics"), body, format="json", HTTP_IF_MATCH=etag(subject)
    )
    again = {"ethnicity": "NOT HISPANIC OR LATINO", "races": ["BLACK OR AFRICAN AMERICAN"]}
    response = coord.post(
        url(subject, "demographics"), again, format="json", HTTP_IF_MATCH=first["ETag"]
    )
    assert "A reason for the change is required" in fields_of(response)["reason"][0]
    response = coord.post(
        url(subject, "demographics"),
        again | {"reason": "Subject answered at the next visit"},
        format="json",
        HTTP_IF_MATCH=first["ETag"],
    )
    assert response.status_code == 200
    assert response.json()["races"] == ["BLACK OR AFRICAN AMERICAN"]


def test_another_sites_subject_is_not_found_and_the_sponsor_may_not_write(
    api, coordinator_b, sponsor, records
):
    subject = records["subject_a"]
    body = {"ethnicity": "UNKNOWN", "races": ["UNKNOWN"]}
    other = api(coordinator_b).post(
        url(subject, "demographics"), body, format="json", HTTP_IF_MATCH=etag(subject)
    )
    assert other.status_code == 404
    assert (
        api(sponsor)
        .post(url(subject, "demographics"), body, format="json", HTTP_IF_MATCH=etag(subject))
        .status_code
        == 403
    )


def test_end_of_treatment_and_study_take_a_coded_reason(coord, records):
    subject = records["subject_a"]
    day = site_today(subject.site.timezone) - timedelta(days=2)
    missing = coord.post(
        url(subject, "end-treatment"),
        {"end_date": day.isoformat(), "reason": "Progression"},
        format="json",
        HTTP_IF_MATCH=etag(subject),
    )
    assert "reason_code" in fields_of(missing)
    other = coord.post(
        url(subject, "end-treatment"),
        {"end_date": day.isoformat(), "reason_code": "OTHER"},
        format="json",
        HTTP_IF_MATCH=etag(subject),
    )
    assert "say what the reason was" in fields_of(other)["end_of_treatment_reason"][0]
    ended = coord.post(
        url(subject, "end-treatment"),
        {"end_date": day.isoformat(), "reason_code": "PROGRESSIVE DISEASE", "reason": "CT scan"},
        format="json",
        HTTP_IF_MATCH=etag(subject),
    )
    assert ended.status_code == 200, ended.content
    body = ended.json()
    assert (body["end_of_treatment_reason_code"], body["end_of_treatment_reason"]) == (
        "PROGRESSIVE DISEASE",
        "CT scan",
    )
    # An end-of-treatment reason that is no end-of-study reason is refused by the input.
    study = coord.post(
        url(subject, "end-study"),
        {"end_date": day.isoformat(), "reason_code": "PREGNANCY"},
        format="json",
        HTTP_IF_MATCH=ended["ETag"],
    )
    assert "reason_code" in fields_of(study)
    study = coord.post(
        url(subject, "end-study"),
        {"end_date": day.isoformat(), "reason_code": "LOST TO FOLLOW-UP"},
        format="json",
        HTTP_IF_MATCH=ended["ETag"],
    )
    assert study.status_code == 200
    assert study.json()["end_of_study_reason_code"] == "LOST TO FOLLOW-UP"


def test_a_reason_code_is_corrected_through_the_subject(coord, api, investigator_a, records):
    subject = records["subject_a"]
    day = site_today(subject.site.timezone) - timedelta(days=2)
    ended = coord.post(
        url(subject, "end-treatment"),
        {"end_date": day.isoformat(), "reason_code": "ADVERSE EVENT"},
        format="json",
        HTTP_IF_MATCH=etag(subject),
    )
    corrected = api(investigator_a).patch(
        url(subject),
        {"end_of_treatment_reason_code": "PHYSICIAN DECISION", "reason": "Source: PI's note"},
        format="json",
        HTTP_IF_MATCH=ended["ETag"],
    )
    assert corrected.status_code == 200, corrected.content
    assert corrected.json()["end_of_treatment_reason_code"] == "PHYSICIAN DECISION"
