"""Medical history: the verbatim term coded to a CTCAE (MedDRA LLT) term, a partial start date,
ongoing at the first dose with its CTCAE grade (only grades the term defines); the page, the API
and SDTM MH with the grade in SUPPMH."""

from datetime import timedelta

import pytest
from django.urls import reverse

from core.dates import site_today
from core.errors import ValidationError
from safety.models import CtcaeTerm
from standards import registry
from standards.build import build_datasets
from standards.checks import Submission, validate
from standards.context import ExportContext
from tests.factories import dosed, enrolled_subject
from visits.models import MedicalHistory
from visits.services import medical_history_record


@pytest.fixture
def subject(coordinator_a, site_a, open_cohort, ctcae):
    subject = enrolled_subject(coordinator_a, site_a, "MH-1", open_cohort, days_ago=14)
    dosed(coordinator_a, subject, on=site_today(site_a.timezone) - timedelta(days=10))
    return subject


@pytest.mark.parametrize(
    ("extra", "field", "message"),
    [
        ({"baseline_grade": 2, "ongoing": False}, "baseline_grade", "only for a condition ongoing"),
        ({"baseline_grade": 5, "ongoing": True}, "baseline_grade", "Grade 5 is death"),
        ({"start_month": None, "start_day": 4}, "start_day", "needs its month"),
        ({"start_month": 2, "start_day": 30}, "start_day", "is not a date"),
        ({"start_year": 2999}, "start_year", "in the future"),
    ],
)
def test_bad_entries_are_refused_by_field(coordinator_a, subject, extra, field, message):
    values = {
        "term": "High blood pressure",
        "ctcae_term": CtcaeTerm.objects.get(term="Hypertension"),
        "start_year": 2019,
        "start_month": 3,
        **extra,
    }
    with pytest.raises(ValidationError) as error:
        medical_history_record(by=coordinator_a, subject=subject, **values)
    assert any(message in m for m in error.value.message_dict[field]), error.value.message_dict
    assert not MedicalHistory.all_objects.exists()


def test_page_api_and_sdtm_mh(client, coordinator_a, coordinator_b, subject, study):
    hypertension = CtcaeTerm.objects.get(term="Hypertension")
    client.force_login(coordinator_a)
    response = client.post(
        reverse("visits:medical_history", args=[subject.pk]),
        {
            "term": "High blood pressure",
            "ctcae_term": hypertension.pk,
            "start_year": "2019",
            "start_month": "3",
            "ongoing": "on",
            "baseline_grade": "2",
        },
    )
    assert response.status_code == 302
    page = client.get(reverse("visits:medical_history", args=[subject.pk])).content.decode()
    assert 'data-mh="High blood pressure"' in page and "Ongoing, grade 2" in page
    rows = client.get("/api/v1/medical-history/").json()["results"]
    assert [(r["term"], r["ctcae_term"], r["baseline_grade"], r["start_month"]) for r in rows] == [
        ("High blood pressure", "Hypertension", 2, 3)
    ]
    client.force_login(coordinator_b)
    assert client.get(reverse("visits:medical_history", args=[subject.pk])).status_code == 404
    datasets = {d.name: d for d in build_datasets(ExportContext(study))}
    mh = datasets["MH"].rows[0]
    assert (mh["MHTERM"], mh["MHDECOD"], mh["MHSTDTC"], mh["MHENRTPT"]) == (
        "High blood pressure",
        "Hypertension",
        "2019-03",
        "ONGOING",
    )
    supp = {r["QNAM"]: r["QVAL"] for r in datasets["SUPPMH"].rows}
    assert supp == {"MHTOXGR": "2"}
    findings = validate(Submission(tuple(datasets.values()), registry.sponsor_codelists()))
    assert [f for f in findings if f.severity == "error"] == []
