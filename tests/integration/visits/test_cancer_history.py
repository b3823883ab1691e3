"""Cancer history and prior cancer therapy (docs/visits.md §11): refusals by field with nothing
saved, one history per subject, corrections audited, the two forms checked against each other;
the pages, the screening visit's expected forms and the missing-forms report, the API (history,
CSV, updated_since, site scoping) and SDTM (MH with MHCAT CANCER HISTORY, CM and PR)."""

import csv
import io
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from api.tokens import token_create
from core.dates import site_today
from core.errors import ValidationError
from standards import registry
from standards.build import build_datasets
from standards.checks import Submission, validate
from standards.context import ExportContext
from tests.factories import dosed, enrolled_subject
from visits import selectors
from visits.models import CancerHistory, PriorCancerTherapy
from visits.services import (
    cancer_history_record,
    cancer_history_update,
    cancer_history_void,
    prior_therapy_record,
)

HISTORY = {
    "primary_site": "lung, right upper lobe",
    "histology": "Adenocarcinoma",
    "diagnosis_date": "2023-05",
    "stage_at_diagnosis": "IIIA",
    "tnm_at_diagnosis": "pT2a pN2 M0",
    "stage_at_entry": "IVB",
    "tnm_at_entry": "rT2a N2 M1c",
    "advanced_disease_date": "2025-01-14",
    "metastatic_sites": ["BONE", "LIVER"],
}
SYSTEMIC = {
    "therapy_type": "systemic",
    "treatment": "Carboplatin + pemetrexed + pembrolizumab",
    "setting": "advanced",
    "line": 1,
    "start_date": "2025-02",
    "end_date": "2025-09-30",
    "best_response": "PR",
    "stop_reason": "progression",
}


@pytest.fixture
def api():
    """api(user) -> an API client with a fresh token of that user."""

    def client_for(user) -> APIClient:
        client = APIClient()
        secret = token_create(by=user, name="test").secret
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
        return client

    return client_for


@pytest.fixture
def subject(coordinator_a, site_a, open_cohort):
    subject = enrolled_subject(coordinator_a, site_a, "CH-1", open_cohort, days_ago=14)
    dosed(coordinator_a, subject, on=site_today(site_a.timezone) - timedelta(days=10))
    return subject


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"diagnosis_date": "05/2023"}, "diagnosis_date", "is not a date written YYYY-MM-DD"),
        ({"diagnosis_date": "2099"}, "diagnosis_date", "in the future"),
        ({"stage_at_entry": "IIIB"}, "metastatic_sites", None),  # sites need no stage IV
        ({"metastatic_sites": ["LIVER", "MOON"]}, "metastatic_sites", "Not a site of this list"),
        ({"metastatic_sites": []}, "metastatic_sites", "list the sites of metastases"),
        ({"advanced_disease_date": "2022"}, "advanced_disease_date", "before the initial"),
    ],
)
def test_a_bad_history_is_refused_by_field_and_nothing_is_saved(
    coordinator_a, subject, changes, field, message
):
    if message is None:  # a stage III at entry with metastases listed is accepted
        record = cancer_history_record(by=coordinator_a, subject=subject, **HISTORY | changes)
        assert record.stage_at_entry == "IIIB"
        return
    with pytest.raises(ValidationError) as error:
        cancer_history_record(by=coordinator_a, subject=subject, **HISTORY | changes)
    assert any(message in m for m in error.value.message_dict[field]), error.value.message_dict
    assert not CancerHistory.all_objects.exists()


def test_one_history_per_subject_corrected_with_a_reason(coordinator_a, subject):
    record = cancer_history_record(by=coordinator_a, subject=subject, **HISTORY)
    assert record.metastatic_sites == ["LIVER", "BONE"]  # the form's order
    with pytest.raises(ValidationError, match="already recorded"):
        cancer_history_record(by=coordinator_a, subject=subject, **HISTORY)
    corrected = cancer_history_update(
        by=coordinator_a,
        history=record,
        changes={"stage_at_diagnosis": "IIIB"},
        reason="Stage from the pathology report",
        expected_version=record.version,
    )
    assert (corrected.stage_at_diagnosis, corrected.version) == ("IIIB", 2)
    reasons = list(
        record.history.order_by("history_id").values_list("history_change_reason", flat=True)
    )
    assert reasons == ["Cancer history recorded", "Stage from the pathology report"]
    cancer_history_void(
        by=coordinator_a, history=corrected, reason="Wrong subject", expected_version=2
    )
    # Voided: it may be recorded again, and the voided one stays on record.
    cancer_history_record(by=coordinator_a, subject=subject, **HISTORY)
    assert CancerHistory.all_objects.filter(subject=subject).count() == 2


def test_the_history_and_the_prior_therapies_are_checked_against_each_other(coordinator_a, subject):
    history = cancer_history_record(
        by=coordinator_a, subject=subject, **HISTORY | {"no_prior_therapy": True}
    )
    with pytest.raises(ValidationError, match="no prior anticancer therapy"):
        prior_therapy_record(by=coordinator_a, subject=subject, **SYSTEMIC)
    history = cancer_history_update(
        by=coordinator_a,
        history=history,
        changes={"no_prior_therapy": False},
        reason="Prior chemotherapy found in the referral letter",
        expected_version=history.version,
    )
    with pytest.raises(ValidationError) as error:
        prior_therapy_record(
            by=coordinator_a, subject=subject, **SYSTEMIC | {"start_date": "2023-04"}
        )
    assert "before the initial diagnosis" in error.value.message_dict["start_date"][0]
    prior_therapy_record(by=coordinator_a, subject=subject, **SYSTEMIC)
    with pytest.raises(ValidationError) as error:
        cancer_history_update(
            by=coordinator_a,
            history=history,
            changes={"no_prior_therapy": True},
            reason="Typo",
            expected_version=history.version,
        )
    assert "Prior therapy is recorded" in error.value.message_dict["no_prior_therapy"][0]
    # A therapy after informed consent is a concomitant medication, not a prior therapy.
    after = (subject.consent_date + timedelta(days=1)).isoformat()
    with pytest.raises(ValidationError) as error:
        prior_therapy_record(by=coordinator_a, subject=subject, **SYSTEMIC | {"end_date": after})
    assert "concomitant medication" in error.value.message_dict["end_date"][0]
    assert PriorCancerTherapy.objects.filter(subject=subject).count() == 1


def _missing_at_screening(monitor, subject):
    report = selectors.missing_forms(monitor, subject.study_id)
    return next(
        row.missing
        for site in report
        for row in site.rows
        if row.subject.pk == subject.pk and row.code == "SCR"
    )


def test_pages_missing_forms_api_and_sdtm(
    client, api, coordinator_a, coordinator_b, monitor, subject, study
):
    missing = _missing_at_screening(monitor, subject)
    assert {"cancer_history", "prior_therapy"} <= set(missing)
    client.force_login(coordinator_a)
    response = client.post(
        reverse("visits:cancer_history", args=[subject.pk]),
        {**HISTORY, "line": "", "metastatic_sites": ["LIVER", "BONE", "OTHER"]},
    )
    # "Other" ticked without naming it: refused on the field, what was typed kept.
    assert response.status_code == 200
    assert "Name the other site" in response.content.decode()
    assert 'value="pT2a pN2 M0"' in response.content.decode()
    response = client.post(
        reverse("visits:cancer_history", args=[subject.pk]),
        {
            **HISTORY,
            "metastatic_sites": ["LIVER", "BONE", "OTHER"],
            "metastatic_sites_other": "Pericardium",
        },
    )
    assert response.status_code == 302
    for therapy in (
        SYSTEMIC,
        {
            "therapy_type": "surgery",
            "treatment": "Right upper lobectomy",
            "setting": "definitive",
            "start_date": "2023-06-12",
        },
        {
            "therapy_type": "radiotherapy",
            "treatment": "Mediastinal radiotherapy 60 Gy in 30 fractions",
            "setting": "adjuvant",
            "start_date": "2023-08",
            "end_date": "2023-09",
            "best_response": "NA",
            "stop_reason": "completed",
        },
    ):
        response = client.post(reverse("visits:prior_therapy", args=[subject.pk]), therapy)
        assert response.status_code == 302, response.content.decode()
    calendar = client.get(reverse("visits:calendar", args=[subject.pk])).content.decode()
    assert "Adenocarcinoma of lung, right upper lobe, diagnosed 2023-05" in calendar
    assert "Liver, Bone, Pericardium" in calendar
    assert 'data-pt="Right upper lobectomy"' in calendar
    assert not {"cancer_history", "prior_therapy"} & set(_missing_at_screening(monitor, subject))
    client.force_login(coordinator_b)
    assert client.get(reverse("visits:cancer_history", args=[subject.pk])).status_code == 404

    # The API: rows, history, CSV and updated_since; another site sees nothing.
    reader = api(coordinator_a)
    history = reader.get("/api/v1/cancer-history/").json()["results"]
    assert [(h["diagnosis_date"], h["metastatic_sites"]) for h in history] == [
        ("2023-05", ["LIVER", "BONE", "OTHER"])
    ]
    audit = reader.get(f"/api/v1/cancer-history/{history[0]['id']}/history/").json()
    assert [entry["reason"] for entry in audit] == ["Cancer history recorded"]
    since = (timezone.now() - timedelta(minutes=5)).isoformat()
    listed = reader.get("/api/v1/prior-cancer-therapies/", {"updated_since": since}).json()
    assert len(listed["results"]) == 3
    text = reader.get("/api/v1/prior-cancer-therapies/", {"format": "csv"}).content.decode()
    rows = list(csv.DictReader(io.StringIO(text)))
    assert sorted((r["therapy_type"], r["start_date"]) for r in rows) == [
        ("radiotherapy", "2023-08"),
        ("surgery", "2023-06-12"),
        ("systemic", "2025-02"),
    ]
    other = api(coordinator_b)
    assert other.get("/api/v1/cancer-history/").json()["results"] == []
    assert other.get("/api/v1/prior-cancer-therapies/").json()["results"] == []

    # SDTM: MH (cancer history), CM (prior systemic therapy), PR (radiotherapy and surgery).
    datasets = {d.name: d for d in build_datasets(ExportContext(study))}
    mh = [r for r in datasets["MH"].rows if r["MHCAT"] == "CANCER HISTORY"]
    # In the order of MHSTDTC, undated records last (by term).
    assert [(r["MHSCAT"], r["MHTERM"], r["MHSTDTC"], r["MHEVDTYP"]) for r in mh] == [
        ("PRIMARY DIAGNOSIS", "Adenocarcinoma of lung, right upper lobe", "2023-05", "INITIAL DIAGNOSIS"),
        ("ADVANCED DISEASE", "Metastatic disease", "2025-01-14", "DIAGNOSIS"),
        ("METASTATIC SITE", "Bone metastases", None, None),
        ("METASTATIC SITE", "Liver metastases", None, None),
        ("METASTATIC SITE", "Metastases: Pericardium", None, None),
    ]  # fmt: skip
    assert {(r["MHENRTPT"], r["MHENTPT"]) for r in mh} == {("ONGOING", "SCREENING")}
    primary = mh[0]
    supp = {
        r["QNAM"]: r["QVAL"]
        for r in datasets["SUPPMH"].rows
        if r["IDVARVAL"] == str(primary["MHSEQ"])
    }
    assert supp == {
        "MHSTGDX": "IIIA",
        "MHTNMDX": "pT2a pN2 M0",
        "MHSTGEN": "IVB",
        "MHTNMEN": "rT2a N2 M1c",
    }
    cm = [r for r in datasets["CM"].rows if r["CMCAT"] == "PRIOR CANCER THERAPY"]
    assert [(r["CMTRT"], r["CMSTDTC"], r["CMENDTC"], r["CMRSDISC"], r["EPOCH"]) for r in cm] == [
        (SYSTEMIC["treatment"], "2025-02", "2025-09-30", "DISEASE PROGRESSION", None)
    ]
    assert cm[0]["CMSTDY"] is None and cm[0]["CMENDY"] < 0  # a partial date has no study day
    supp_cm = {r["QNAM"]: r["QVAL"] for r in datasets["SUPPCM"].rows}
    assert supp_cm == {"TRTSETNG": "LOCALLY ADVANCED OR METASTATIC DISEASE", "BESTRESP": "PR",
                       "THERLINE": "1"}  # fmt: skip
    pr = datasets["PR"].rows
    assert [(r["PRSCAT"], r["PRTRT"], r["PRSTDTC"], r["PRENDTC"]) for r in pr] == [
        ("SURGERY", "Right upper lobectomy", "2023-06-12", None),
        ("RADIOTHERAPY", "Mediastinal radiotherapy 60 Gy in 30 fractions", "2023-08", "2023-09"),
    ]
    supp_pr = {(r["IDVARVAL"], r["QNAM"]): r["QVAL"] for r in datasets["SUPPPR"].rows}
    assert supp_pr == {
        ("1", "TRTSETNG"): "DEFINITIVE (CURATIVE INTENT)",
        ("2", "TRTSETNG"): "ADJUVANT",
        ("2", "BESTRESP"): "NOT APPLICABLE",
        ("2", "PRRSDISC"): "COMPLETED AS PLANNED",
    }
    findings = validate(Submission(tuple(datasets.values()), registry.sponsor_codelists()))
    assert [f for f in findings if f.severity == "error"] == []


def test_the_api_refuses_a_date_it_cannot_read_by_field(api, coordinator_a, subject):
    response = api(coordinator_a).post(
        "/api/v1/cancer-history/",
        {**HISTORY, "subject": subject.pk, "diagnosis_date": "2023/05"},
        format="json",
    )
    assert response.status_code == 400
    assert "diagnosis_date" in response.json()["error"]["fields"]
    response = api(coordinator_a).post(
        "/api/v1/cancer-history/",
        {**HISTORY, "subject": subject.pk, "diagnosis_date": "2023-02-30"},
        format="json",
    )
    assert response.status_code == 400
    assert "is not a date" in str(response.json()["error"]["fields"]["diagnosis_date"])
    assert not CancerHistory.all_objects.exists()
