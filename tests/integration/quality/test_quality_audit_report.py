"""The audit trail report: per subject or study, filtered by user, form and date, as a page and
a CSV export, with a query count flat in the number of entries (docs/quality.md §8)."""

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from dosing.services import dose_update
from quality import services

pytestmark = pytest.mark.django_db


def _csv(client, **params):
    response = client.get(reverse("quality:audit"), {**params, "format": "csv"})
    assert response.status_code == 200 and response["Content-Type"] == "text/csv"
    return list(csv.DictReader(io.StringIO(response.content.decode())))


def test_audit_trail_filters_and_csv(client, data_manager, monitor, coordinator_a, subject, dose):
    dose = dose_update(
        by=coordinator_a,
        dose=dose,
        changes={"body_weight_kg": Decimal("72")},
        reason="=HYPERLINK(evil)",
        expected_version=dose.version,
    )
    services.query_open(by=monitor, subject=subject, form="dose", record_id=dose.pk, text="Why?")
    client.force_login(data_manager)
    rows = _csv(client, subject=subject.pk)
    change = next(
        r for r in rows if r["form"] == "Dose administration" and r["action"] == "changed"
    )
    assert change["user"] == "coord_a"
    assert change["changes"] == "Body weight (kg): 70 -> 72; Total dose (mg): 0.7 -> 0.72"
    assert change["reason"] == "'=HYPERLINK(evil)"  # neutralised for spreadsheets
    assert {r["form"] for r in rows} >= {"Subject", "Dose administration", "Query"}
    assert {r["user"] for r in _csv(client, user="monitor")} == {"monitor"}
    assert {r["form"] for r in _csv(client, form="query")} == {"Query"}
    tomorrow = (timezone.now() + timedelta(days=1)).date().isoformat()
    assert _csv(client, **{"from": tomorrow}) == []
    page = client.get(reverse("quality:audit"), {"subject": subject.pk}).content.decode()
    assert "Body weight (kg): 70 → 72" in page


def test_a_site_role_sees_its_sites_only_and_the_query_count_is_flat(
    client, coordinator_b, coordinator_a, subject, dose
):
    client.force_login(coordinator_b)
    assert _csv(client) == []
    client.force_login(coordinator_a)
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("quality:audit"))
    for weight in ("71", "72", "73"):
        dose.refresh_from_db()
        dose_update(
            by=coordinator_a,
            dose=dose,
            changes={"body_weight_kg": Decimal(weight)},
            reason="Reweighed",
            expected_version=dose.version,
        )
    with CaptureQueriesContext(connection) as many:
        client.get(reverse("quality:audit"))
    assert len(many) == len(few)


def test_every_form_of_the_casebook_is_in_the_trail(
    client, data_manager, coordinator_a, subject, dose, dose_day
):
    from efficacy.services import tumour_assessment_record
    from visits.services import lab_result_record, lab_result_update, visit_record

    visit = visit_record(
        by=coordinator_a, subject=subject, code="C1D8", visit_date=dose_day + timedelta(days=7)
    )
    lab = lab_result_record(
        by=coordinator_a,
        subject=subject,
        visit=visit,
        sampled_on=visit.visit_date,
        test="ALT",
        value=Decimal("30"),
        unit="U/L",
    )
    lab_result_update(
        by=coordinator_a,
        lab_result=lab,
        changes={"value": Decimal("32")},
        reason="Value as on the lab report",
        expected_version=lab.version,
    )
    tumour_assessment_record(
        by=coordinator_a,
        subject=subject,
        kind="baseline",
        assessed_on=dose_day - timedelta(days=7),
        method="CT",
        lesions=[{"code": "T1", "role": "target", "organ": "liver", "size_mm": "40"}],
    )
    client.force_login(data_manager)
    rows = _csv(client, subject=subject.pk)
    forms = {r["form"] for r in rows}
    assert {"Visit", "Lab result", "Tumour assessment", "Tumour lesion"} <= forms
    # A record below another (an observation below its assessment) names its subject too.
    [observation] = [r for r in rows if r["form"] == "Lesion observation"]
    assert observation["subject"] == subject.subject_number
    [change] = _csv(client, form="lab_result", user="coord_a", subject=subject.pk)[:1]
    assert change["action"] == "changed" and change["changes"].startswith("Value: 30 -> 32")
    assert change["reason"] == "Value as on the lab report"
