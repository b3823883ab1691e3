"""Writes for integrations: the services' validation, the audit trail, a reason on every
correction, and optimistic concurrency with ETag / If-Match (428 without, 412 when stale)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from core.dates import site_today
from safety.models import AdverseEvent
from subjects.models import Subject
from tests.factories import eligible_answers

pytestmark = pytest.mark.django_db


def etag(record):
    return f'"{record.pk}.{record.version}"'


def error(response):
    body = response.json()
    assert set(body) == {"error"}, body
    assert body["error"]["status"] == response.status_code
    return body["error"]


@pytest.fixture
def coord(api, coordinator_a):
    return api(coordinator_a)


@pytest.fixture
def ae_url(records):
    return f"/api/v1/adverse-events/{records['ae_a'].pk}/"


# --- ETag and If-Match ---


def test_get_returns_a_strong_etag_made_of_id_and_version(coord, records, ae_url):
    response = coord.get(ae_url)
    assert response.status_code == 200
    assert response["ETag"] == f'"{records["ae_a"].pk}.1"'
    assert response.json()["version"] == 1


def test_an_edit_without_if_match_answers_428_and_changes_nothing(coord, records, ae_url):
    response = coord.patch(ae_url, {"grade": 2, "reason": "Re-graded"}, format="json")
    assert response.status_code == 428
    assert error(response)["code"] == "precondition_required"
    assert AdverseEvent.objects.get(pk=records["ae_a"].pk).grade == 1


def test_if_match_star_is_not_accepted(coord, records, ae_url):
    response = coord.patch(ae_url, {"grade": 2, "reason": "x"}, format="json", HTTP_IF_MATCH="*")
    assert response.status_code == 428
    assert "If-Match: *" in error(response)["message"]
    assert AdverseEvent.objects.get(pk=records["ae_a"].pk).grade == 1


@pytest.mark.parametrize(
    "header",
    ['W/"{pk}.1"', '"{pk}.0"', '"999999.1"', "garbage", '"{pk}.1x"'],
)
def test_an_if_match_that_does_not_name_the_current_version_answers_412(
    coord, records, ae_url, header
):
    ae = records["ae_a"]
    response = coord.patch(
        ae_url,
        {"grade": 2, "reason": "Re-graded"},
        format="json",
        HTTP_IF_MATCH=header.format(pk=ae.pk),
    )
    assert response.status_code == 412
    assert error(response)["code"] in ("precondition_failed", "stale_record")
    assert response["ETag"] == etag(ae)
    ae.refresh_from_db()
    assert (ae.grade, ae.version) == (1, 1)


def test_two_editors_of_the_same_version_one_wins_the_other_sees_what_changed(
    api, coordinator_a, investigator_a, records, ae_url
):
    first, second = api(coordinator_a), api(investigator_a)
    seen = first.get(ae_url)["ETag"]
    assert second.get(ae_url)["ETag"] == seen
    won = first.patch(
        ae_url, {"grade": 2, "reason": "Lab value"}, format="json", HTTP_IF_MATCH=seen
    )
    assert won.status_code == 200
    assert won["ETag"] == f'"{records["ae_a"].pk}.2"' and won.json()["version"] == 2

    lost = second.patch(
        ae_url, {"outcome": "recovering", "reason": "Better"}, format="json", HTTP_IF_MATCH=seen
    )
    assert lost.status_code == 412
    body = error(lost)
    assert body["code"] == "stale_record"
    assert body["current_version"] == 2
    assert {"field": "grade", "old": 1, "new": 2} in body["changes"]
    assert lost["ETag"] == won["ETag"]
    assert AdverseEvent.objects.get(pk=records["ae_a"].pk).outcome == "not_recovered"


def test_a_void_needs_the_current_version_too(coord, records, ae_url):
    assert coord.delete(f"{ae_url}?reason=Duplicate").status_code == 428
    response = coord.delete(f"{ae_url}?reason=Duplicate", HTTP_IF_MATCH='"1.99"')
    assert response.status_code == 412
    assert AdverseEvent.objects.filter(pk=records["ae_a"].pk).exists()


# --- Reasons and validation ---


def test_a_correction_needs_a_reason(coord, records, ae_url):
    for body in ({"grade": 2}, {"grade": 2, "reason": "   "}):
        response = coord.patch(ae_url, body, format="json", HTTP_IF_MATCH=etag(records["ae_a"]))
        assert response.status_code == 400
        assert "reason" in error(response)["fields"]
    assert AdverseEvent.objects.get(pk=records["ae_a"].pk).version == 1


def test_a_void_needs_a_reason_in_the_query_or_the_body(coord, records, ae_url):
    ae = records["ae_a"]
    missing = coord.delete(ae_url, HTTP_IF_MATCH=etag(ae))
    assert missing.status_code == 400 and "reason" in error(missing)["fields"]
    voided = coord.delete(
        ae_url, {"reason": "Entered for the wrong subject"}, format="json", HTTP_IF_MATCH=etag(ae)
    )
    assert voided.status_code == 200, voided.content
    body = voided.json()
    assert body["voided"] is True and body["void_reason"] == "Entered for the wrong subject"
    assert body["voided_at"] is not None and body["version"] == 2
    # Nothing is deleted: the record is still there, with its history.
    assert AdverseEvent.all_objects.filter(pk=ae.pk).exists()
    assert coord.get(ae_url).json()["voided"] is True
    again = coord.delete(f"{ae_url}?reason=Twice", HTTP_IF_MATCH=voided["ETag"])
    assert again.status_code == 400


def test_a_grade_the_term_does_not_define_is_refused_by_field(coord, records, ae_url):
    response = coord.patch(
        ae_url,
        {"grade": 4, "reason": "Worse"},  # Nausea has grades 1-3 only
        format="json",
        HTTP_IF_MATCH=etag(records["ae_a"]),
    )
    assert response.status_code == 400
    body = error(response)
    assert body["code"] == "invalid"
    assert "grade" in body["fields"] and "Nausea" in body["fields"]["grade"][0]
    assert body["message"].startswith("grade: ")


def test_an_unknown_field_is_refused_by_name_not_silently_dropped(coord, records, ae_url):
    response = coord.patch(
        ae_url,
        {"grdae": 2, "reason": "Typo"},
        format="json",
        HTTP_IF_MATCH=etag(records["ae_a"]),
    )
    assert response.status_code == 400
    assert "grdae" in error(response)["fields"]


def report(coord, for_subject, **changes):
    today = site_today(for_subject.site.timezone)
    body = {
        "subject": for_subject.pk,
        "meddra_code": 10028813,
        "verbatim_term": "nausea",
        "grade": 2,
        "onset_date": (today - timedelta(days=2)).isoformat(),
        "relationship": "possible",
        "action_taken": "none",
        "outcome": "not_recovered",
        **changes,
    }
    return coord.post("/api/v1/adverse-events/", body, format="json")


def test_reporting_an_adverse_event_through_the_api_is_audited_like_the_page(
    coord, records, coordinator_a
):
    subject = records["subject_a"]
    aware = (timezone.now() - timedelta(hours=3)).replace(microsecond=0)
    response = report(
        coord,
        subject,
        serious=True,
        serious_hospitalisation=True,
        sae_awareness_at=aware.isoformat(),
        onset_time="08:15",
        dlt_investigator=True,
        grade=3,
        verbatim_term="severe nausea",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    event = AdverseEvent.objects.get(pk=body["id"])
    assert response["Location"] == f"/api/v1/adverse-events/{event.pk}/"
    assert response["ETag"] == f'"{event.pk}.1"'
    assert (event.ctcae_term.term, event.grade, event.serious_hospitalisation) == (
        "Nausea",
        3,
        True,
    )
    assert body["meddra_code"] == 10028813 and body["soc"] == event.ctcae_term.soc
    # The SAE clock, the coding's MedDRA version and the proposed DLT call (docs/safety.md).
    assert body["sae_awareness_at"] == aware.replace(second=0).isoformat().replace("+00:00", "Z")
    assert body["sae_reported_at"] and body["sae_reported_late"] is False
    assert body["onset_time"] == "08:15" and body["meddra_version"] == "20.1"
    assert body["dlt_awaiting_attestation"] is True and body["dlt_attested_by"] is None
    assert event.created_by == coordinator_a
    history = coord.get(f"/api/v1/adverse-events/{event.pk}/history/").json()
    assert [(h["type"], h["user"], h["reason"]) for h in history] == [
        ("created", "coord_a", "Adverse event reported")
    ]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"onset_date": "2000-01-01"}, "onset_date"),  # before consent
        ({"onset_date": "2999-01-01"}, "onset_date"),  # in the future
        ({"grade": 5, "outcome": "fatal"}, "grade"),  # no death recorded
        ({"meddra_code": 99999999}, "meddra_code"),
        ({"serious": True}, "serious"),  # no criterion
        ({"serious": True, "serious_hospitalisation": True}, "sae_awareness_at"),
        ({"onset_time": "25:00"}, "onset_time"),
        ({"baseline_grade": 3}, "baseline_grade"),  # above the grade (2)
        ({"relationship": "maybe"}, "relationship"),
        ({"verbatim_term": "x" * 301}, "verbatim_term"),
        ({"verbatim_term": "nul\x00byte"}, "verbatim_term"),
        ({"grade": "3; DROP TABLE"}, "grade"),
        ({"subject": 10**30}, "subject"),
    ],
)
def test_bad_input_is_refused_with_the_field_named_and_nothing_saved(
    coord, records, changes, field
):
    before = AdverseEvent.all_objects.count()
    response = report(coord, records["subject_a"], **changes)
    assert response.status_code == 400, response.content
    assert field in error(response)["fields"], response.json()
    assert AdverseEvent.all_objects.count() == before


def test_malformed_json_and_other_media_types_get_the_same_error_body(coord):
    broken = coord.generic(
        "POST", "/api/v1/adverse-events/", "{not json", content_type="application/json"
    )
    assert broken.status_code == 400 and error(broken)["code"] == "parse_error"
    form = coord.post("/api/v1/adverse-events/", {"grade": "1"})  # multipart
    assert form.status_code == 415 and error(form)["code"] == "unsupported_media_type"
    listing = coord.post("/api/v1/adverse-events/", [1, 2], format="json")
    assert listing.status_code == 400 and "non_field_errors" in error(listing)["fields"]


def test_put_is_not_offered_and_unknown_paths_answer_in_the_same_shape(coord, ae_url):
    put = coord.put(ae_url, {}, format="json")
    assert put.status_code == 405 and error(put)["code"] == "method_not_allowed"
    missing = coord.get("/api/v1/no-such-thing/")
    assert missing.status_code == 404 and error(missing)["code"] == "not_found"
    not_a_number = coord.get("/api/v1/adverse-events/abc/")
    assert not_a_number.status_code == 404 and error(not_a_number)["code"] == "not_found"


# --- Subjects, doses: the whole path an integration (IWRS) would take ---


def test_screen_consent_eligibility_enroll_through_the_api(coord, site_a, cohort_b, records):
    today = site_today(site_a.timezone)
    created = coord.post(
        "/api/v1/subjects/",
        {
            "site": site_a.pk,
            "screening_number": "A-50",
            "sex": "F",
            "year_of_birth": 1958,
            "screening_date": (today - timedelta(days=3)).isoformat(),
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    url = created["Location"]
    consent = coord.post(
        f"{url}consent/",
        {"consent_date": (today - timedelta(days=3)).isoformat(), "consent_version": "v2.0"},
        format="json",
        HTTP_IF_MATCH=created["ETag"],
    )
    assert consent.status_code == 200, consent.content
    eligibility = coord.post(
        f"{url}eligibility/",
        {
            "answers": eligible_answers(site_a.study),
            "assessed_on": (today - timedelta(days=2)).isoformat(),
        },
        format="json",
        HTTP_IF_MATCH=consent["ETag"],
    )
    assert eligibility.status_code == 200, eligibility.content
    assert eligibility.json()["eligibility_outcome"] == "eligible"
    stale = coord.post(
        f"{url}enroll/",
        {"cohort": cohort_b.pk, "enrollment_date": today.isoformat()},
        format="json",
        HTTP_IF_MATCH=consent["ETag"],
    )
    assert stale.status_code == 412
    enrolled = coord.post(
        f"{url}enroll/",
        {"cohort": cohort_b.pk, "enrollment_date": today.isoformat()},
        format="json",
        HTTP_IF_MATCH=eligibility["ETag"],
    )
    assert enrolled.status_code == 200, enrolled.content
    body = enrolled.json()
    assert (body["status"], body["subject_number"], body["cohort"]) == (
        "enrolled",
        "101-002",
        cohort_b.pk,
    )
    history = coord.get(f"{url}history/").json()
    assert [h["reason"] for h in history][-1].startswith("Enrolled in Cohort 2")


def test_enrolling_into_a_full_cohort_is_refused_on_the_cohort_field(
    coord, site_a, cohort1, records
):
    subject = Subject.objects.get(screening_number="A-2")  # consented, not eligible
    response = coord.post(
        f"/api/v1/subjects/{subject.pk}/enroll/",
        {"cohort": cohort1.pk, "enrollment_date": site_today(site_a.timezone).isoformat()},
        format="json",
        HTTP_IF_MATCH=etag(subject),
    )
    assert response.status_code == 400
    assert set(error(response)["fields"]) & {"cohort", "eligibility_outcome"}


def test_a_dose_time_without_its_utc_offset_is_refused(coord, records):
    dose = records["dose_a"]
    response = coord.patch(
        f"/api/v1/dose-administrations/{dose.pk}/",
        {"infusion_end": "2026-01-01T10:00:00", "reason": "Clock"},
        format="json",
        HTTP_IF_MATCH=etag(dose),
    )
    assert response.status_code == 400
    assert "offset" in error(response)["fields"]["infusion_end"][0]


def test_correcting_a_dose_recomputes_the_total_and_keeps_the_old_value_in_history(coord, records):
    dose = records["dose_a"]
    response = coord.patch(
        f"/api/v1/dose-administrations/{dose.pk}/",
        {"body_weight_kg": "80.0", "reason": "Weight re-measured"},
        format="json",
        HTTP_IF_MATCH=etag(dose),
    )
    assert response.status_code == 200, response.content
    assert response.json()["total_dose_mg"] == "0.800"
    last = coord.get(f"/api/v1/dose-administrations/{dose.pk}/history/").json()[-1]
    assert last["reason"] == "Weight re-measured" and last["user"] == "coord_a"
    changes = {c["field"]: (c["old"], c["new"]) for c in last["changes"]}
    assert changes["body_weight_kg"] == ("70.0", "80.0")
    assert changes["total_dose_mg"] == ("0.700", "0.800")


def test_the_investigator_attests_a_proposed_dlt_call_through_the_api(
    coord, api, investigator_a, records
):
    response = report(coord, records["subject_a"], dlt_investigator=True, grade=3)
    assert response.status_code == 201, response.content
    event = AdverseEvent.objects.get(pk=response.json()["id"])
    url = f"/api/v1/adverse-events/{event.pk}/attest/"
    assert coord.post(url, {}, format="json", HTTP_IF_MATCH=etag(event)).status_code == 403
    investigator = api(investigator_a)
    attested = investigator.post(url, {}, format="json", HTTP_IF_MATCH=etag(event))
    assert attested.status_code == 200, attested.content
    body = attested.json()
    assert body["dlt_awaiting_attestation"] is False
    assert body["dlt_attested_by"] == "investigator_a" and body["dlt_attested_at"]
    history = coord.get(f"/api/v1/adverse-events/{event.pk}/history/").json()
    assert history[-1]["reason"] == "DLT call attested by the investigator"
    assert history[-1]["user"] == "investigator_a"
