"""Concomitant medications: verbatim name, ATC code checked when given and codable later with
a reason, an end date or ongoing; the page, the API with history and CSV, and SDTM CM."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from core.dates import site_today
from core.errors import ValidationError
from standards import registry
from standards.build import build_datasets
from standards.checks import Submission, validate
from standards.context import ExportContext
from tests.factories import dosed, enrolled_subject
from visits.models import ConcomitantMedication
from visits.services import concomitant_medication_record, concomitant_medication_update


@pytest.fixture
def subject(coordinator_a, site_a, open_cohort):
    subject = enrolled_subject(coordinator_a, site_a, "CM-1", open_cohort, days_ago=14)
    dosed(coordinator_a, subject, on=site_today(site_a.timezone) - timedelta(days=10))
    return subject


def _record(by, subject, **extra):
    today = site_today(subject.site.timezone)
    values = dict(
        medication="Paracetamol 500 mg tablets",
        indication="Headache",
        dose=Decimal("1000"),
        dose_unit="mg",
        frequency="PRN",
        route="ORAL",
        start_date=today - timedelta(days=30),
        ongoing=True,
    )
    values.update(extra)
    return concomitant_medication_record(by=by, subject=subject, **values)


@pytest.mark.parametrize(
    ("extra", "field", "message"),
    [
        ({"atc_code": "N2BE"}, "atc_code", "is not a WHO ATC code"),
        ({"ongoing": False}, "end_date", "mark the medication ongoing"),
        ({"ongoing": True, "end_date": "2020-01-01"}, "end_date", "no end date"),
        ({"dose_unit": ""}, "dose_unit", "needs its unit"),
        ({"medication": "  "}, "medication", "Enter the medication"),
    ],
)
def test_bad_entries_are_refused_by_field(coordinator_a, subject, extra, field, message):
    if extra.get("end_date"):
        from datetime import date

        extra["end_date"] = date.fromisoformat(extra["end_date"])
    with pytest.raises(ValidationError) as error:
        _record(coordinator_a, subject, **extra)
    assert any(message in m for m in error.value.message_dict[field])
    assert not ConcomitantMedication.all_objects.exists()


def test_coded_later_with_a_reason_and_audited(coordinator_a, subject):
    cm = _record(coordinator_a, subject)
    assert cm.atc_code == ""
    cm = concomitant_medication_update(
        by=coordinator_a,
        medication=cm,
        changes={"atc_code": "n02be01"},
        reason="Coded to ATC",
        expected_version=cm.version,
    )
    assert cm.atc_code == "N02BE01" and cm.medication == "Paracetamol 500 mg tablets"
    assert [h.history_change_reason for h in cm.history.order_by("history_id")] == [
        "Concomitant medication recorded",
        "Coded to ATC",
    ]


def test_page_api_and_sdtm_cm(client, coordinator_a, coordinator_b, subject, study):
    client.force_login(coordinator_a)
    today = site_today(subject.site.timezone)
    response = client.post(
        reverse("visits:medications", args=[subject.pk]),
        {
            "medication": "Ondansetron",
            "atc_code": "A04AA01",
            "indication": "Nausea",
            "dose": "8",
            "dose_unit": "mg",
            "frequency": "BID",
            "route": "ORAL",
            "start_date": (today - timedelta(days=5)).isoformat(),
            "end_date": (today - timedelta(days=2)).isoformat(),
        },
    )
    assert response.status_code == 302
    page = client.get(reverse("visits:medications", args=[subject.pk])).content.decode()
    assert 'data-cm="Ondansetron"' in page and "A04AA01" in page
    rows = client.get("/api/v1/concomitant-medications/").json()["results"]
    assert [(r["medication"], r["atc_code"], r["ongoing"]) for r in rows] == [
        ("Ondansetron", "A04AA01", False)
    ]
    assert client.get("/api/v1/concomitant-medications/", {"format": "csv"}).status_code == 200
    client.force_login(coordinator_b)
    assert client.get(reverse("visits:medications", args=[subject.pk])).status_code == 404
    datasets = {d.name: d for d in build_datasets(ExportContext(study))}
    cm = datasets["CM"].rows[0]
    assert (cm["CMTRT"], cm["CMCLASCD"], cm["CMINDC"], cm["CMDOSE"], cm["CMDOSU"]) == (
        "Ondansetron",
        "A04AA01",
        "Nausea",
        8.0,
        "mg",
    )
    assert (cm["CMDOSFRQ"], cm["CMROUTE"]) == ("BID", "ORAL")
    findings = validate(Submission(tuple(datasets.values()), registry.sponsor_codelists()))
    assert [f for f in findings if f.severity == "error"] == []
    assert [f for f in findings if f.dataset == "CM" and "codelist" in f.message] == []
