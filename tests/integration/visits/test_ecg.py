"""12-lead ECG time points: QTcF per tracing (Fridericia), the triplicate mean rounded to the
ms and its CTCAE v5.0 grade, including the change from the pre-dose baseline (docs/visits.md
§7); the refusal of an implausible tracing; the page and the API."""

from datetime import timedelta

import pytest
from django.urls import reverse

from core.dates import site_today
from core.errors import ValidationError
from tests.factories import dosed, enrolled_subject
from visits.models import EcgAssessment
from visits.services import ecg_record, visit_record


@pytest.fixture
def dosed_subject(coordinator_a, site_a, open_cohort):
    today = site_today(site_a.timezone)
    subject = enrolled_subject(coordinator_a, site_a, "E-1", open_cohort, days_ago=14)
    c1d1 = today - timedelta(days=10)
    screening = visit_record(
        by=coordinator_a, subject=subject, code="SCR", visit_date=today - timedelta(days=14)
    )
    dosed(coordinator_a, subject, on=c1d1)
    return subject, screening, c1d1


def test_triplicate_mean_qtcf_by_hand(coordinator_a, dosed_subject):
    subject, screening, _ = dosed_subject
    ecg = ecg_record(
        by=coordinator_a,
        subject=subject,
        visit=screening,
        recorded_on=screening.visit_date,
        timepoint="visit",
        # 400 / 1.0^(1/3) = 400; 420 / 0.8^(1/3) = 452.43 (HR 75 -> RR 0.8 s);
        # 410 / 0.9^(1/3) = 424.65. Mean 425.69 -> 426 ms: below 450, grade 0.
        qt_ms_1=400,
        rr_ms_1=1000,
        qt_ms_2=420,
        heart_rate_2=75,
        qt_ms_3=410,
        rr_ms_3=900,
        interpretation="normal",
    )
    assert ecg.qtcf_replicates == ["400.0", "452.4", "424.7"]
    assert (ecg.qtcf_ms, ecg.qtc_grade, ecg.baseline_qtcf_ms) == (426, 0, None)


def test_more_than_60_ms_over_the_baseline_is_grade_3(coordinator_a, dosed_subject):
    subject, screening, c1d1 = dosed_subject
    ecg_record(
        by=coordinator_a,
        subject=subject,
        visit=screening,
        recorded_on=screening.visit_date,
        timepoint="visit",
        qt_ms_1=400,
        rr_ms_1=1000,
        interpretation="normal",
    )
    c1d8 = visit_record(
        by=coordinator_a, subject=subject, code="C1D8", visit_date=c1d1 + timedelta(7)
    )
    # 470 ms: grade 1 by value (450 - 480), but 70 ms over the baseline 400 (> 60): grade 3.
    ecg = ecg_record(
        by=coordinator_a,
        subject=subject,
        visit=c1d8,
        recorded_on=c1d8.visit_date,
        timepoint="visit",
        qt_ms_1=470,
        rr_ms_1=1000,
        interpretation="abnormal_cs",
    )
    assert (ecg.qtcf_ms, ecg.baseline_qtcf_ms, ecg.qtc_grade) == (470, 400, 3)
    assert "70 ms over the baseline 400 ms" in ecg.grading_rule


def test_an_implausible_tracing_is_refused_by_field(coordinator_a, dosed_subject):
    subject, screening, _ = dosed_subject
    with pytest.raises(ValidationError) as error:
        ecg_record(
            by=coordinator_a,
            subject=subject,
            visit=screening,
            recorded_on=screening.visit_date,
            timepoint="visit",
            qt_ms_1=4000,
            rr_ms_1=1000,
            interpretation="normal",
        )
    assert "plausible range" in error.value.message_dict["qt_ms_1"][0]
    with pytest.raises(ValidationError) as error:
        ecg_record(
            by=coordinator_a,
            subject=subject,
            visit=screening,
            recorded_on=screening.visit_date,
            timepoint="visit",
            qt_ms_1=400,
            interpretation="normal",
        )
    assert "RR or heart rate" in error.value.message_dict["qt_ms_1"][0]
    assert not EcgAssessment.all_objects.exists()


def test_the_page_and_the_api(client, coordinator_a, dosed_subject):
    subject, screening, _ = dosed_subject
    client.force_login(coordinator_a)
    response = client.post(
        reverse("visits:ecg_new", args=[screening.pk]),
        {
            "recorded_on": screening.visit_date.isoformat(),
            "timepoint": "visit",
            "qt_ms_1": "480",
            "heart_rate_1": "60",
            "interpretation": "abnormal_ncs",
        },
    )
    assert response.status_code == 302
    page = client.get(reverse("visits:visit", args=[subject.pk, "SCR"])).content.decode()
    assert "QTcF 480 ms</strong>, grade 1" in page
    rows = client.get("/api/v1/ecgs/").json()["results"]
    assert [(r["qtcf_ms"], r["qtc_grade"], r["visit_code"]) for r in rows] == [(480, 1, "SCR")]
    history = client.get(f"/api/v1/ecgs/{rows[0]['id']}/history/").json()
    assert [entry["reason"] for entry in history] == ["ECG recorded"]
