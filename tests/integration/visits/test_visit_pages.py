"""The coordinator's flow: open a visit from the calendar, record it, enter vital signs and a lab
result that is graded, report the graded abnormality as an adverse event; the monitor's
missing-forms report and lab listing; site scoping and query counts."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from core.dates import site_today
from safety.models import AdverseEvent
from tests.factories import dosed, enrolled_subject
from visits.models import LabResult, Visit, VitalSigns
from visits.services import lab_result_record, visit_record


@pytest.fixture
def dosed_subject(coordinator_a, site_a, open_cohort, ctcae):
    today = site_today(site_a.timezone)
    subject = enrolled_subject(coordinator_a, site_a, "P-1", open_cohort, days_ago=12)
    dosed(coordinator_a, subject, on=today - timedelta(days=8))
    return subject, today - timedelta(days=8)


def test_coordinator_records_c1d8_with_vitals_and_a_graded_lab_then_reports_the_ae(
    client, coordinator_a, dosed_subject
):
    subject, c1d1 = dosed_subject
    client.force_login(coordinator_a)
    calendar = client.get(reverse("visits:calendar", args=[subject.pk]))
    assert calendar.status_code == 200
    assert b'data-visit="C1D8" data-status="due"' in calendar.content
    c1d8 = c1d1 + timedelta(days=7)
    page = reverse("visits:visit", args=[subject.pk, "C1D8"])
    response = client.post(page, {"visit_date": c1d8.isoformat()})
    assert response.status_code == 302
    visit = Visit.objects.get(subject=subject, code="C1D8")
    response = client.post(
        reverse("visits:vital_signs_new", args=[visit.pk]),
        {
            "measured_on": c1d8.isoformat(),
            "timepoint": "visit",
            "systolic_bp": "128",
            "diastolic_bp": "82",
            "pulse": "76",
            "temperature": "98.6",
            "temperature_unit": "F",
            "weight": "154",
            "weight_unit": "lb",
        },
    )
    assert response.status_code == 302
    vitals = VitalSigns.objects.get(visit=visit)
    assert vitals.temperature_c == Decimal("37.00") and vitals.temperature_reported == "98.6 F"
    assert vitals.weight_kg == Decimal("69.853")  # 154 x 0.45359237 = 69.85322...
    # ALT 250 U/L with ULN 40: > 5.0 x ULN (200) up to 20 x ULN -> grade 3.
    response = client.post(
        reverse("visits:lab_new", args=[visit.pk]),
        {
            "sampled_on": c1d8.isoformat(),
            "test": "ALT",
            "value": "250",
            "unit": "U/L",
            "normal_high": "40",
        },
    )
    assert response.status_code == 302
    lab = LabResult.objects.get(visit=visit)
    assert (lab.ctcae_term, lab.ctcae_grade) == ("Alanine aminotransferase increased", 3)
    assert lab.reference_flag == "H" and lab.standard_value == Decimal("250")
    shown = client.get(page)
    assert b"Grade 3</strong> Alanine aminotransferase increased" in shown.content
    assert b"Report as adverse event" in shown.content
    # Nothing is reported until the coordinator confirms.
    assert not AdverseEvent.objects.filter(subject=subject).exists()
    form = client.get(reverse("visits:lab_adverse_event", args=[lab.pk]))
    assert form.status_code == 200
    response = client.post(
        reverse("visits:lab_adverse_event", args=[lab.pk]),
        {
            "verbatim_term": "ALT increased",
            "grade": "3",
            "onset_date": c1d8.isoformat(),
            "relationship": "possible",
            "action_taken": "none",
            "outcome": "not_recovered",
            "version": str(lab.version),
        },
    )
    assert response.status_code == 302, response.content
    event = AdverseEvent.objects.get(subject=subject)
    assert (event.ctcae_term.term, event.grade, event.onset_date) == (
        "Alanine aminotransferase increased",
        3,
        c1d8,
    )
    lab.refresh_from_db()
    assert lab.adverse_event == event and event.lab_result == lab
    history = list(
        lab.history.order_by("history_id").values_list("history_change_reason", flat=True)
    )
    assert history == ["Lab result recorded", f"Reported as adverse event {event.pk}"]
    casebook = client.get(reverse("subject_detail", args=[subject.pk]))
    assert b"Alanine aminotransferase increased" in casebook.content
    # Reported once only.
    again = client.get(reverse("visits:lab_adverse_event", args=[lab.pk]))
    assert again.status_code == 302


def test_a_bad_lab_entry_is_refused_by_field_and_nothing_is_saved(
    client, coordinator_a, dosed_subject
):
    subject, c1d1 = dosed_subject
    visit = visit_record(by=coordinator_a, subject=subject, code="C1D1", visit_date=c1d1)
    client.force_login(coordinator_a)
    response = client.post(
        reverse("visits:lab_new", args=[visit.pk]),
        {"sampled_on": c1d1.isoformat(), "test": "NEUT", "value": "45", "unit": "%"},
    )
    assert response.status_code == 200
    assert "unit &#x27;%&#x27; is not accepted" in response.content.decode()
    assert not LabResult.objects.exists()


def test_another_sites_coordinator_gets_404(client, coordinator_b, dosed_subject):
    subject, _ = dosed_subject
    client.force_login(coordinator_b)
    assert client.get(reverse("visits:calendar", args=[subject.pk])).status_code == 404
    assert client.get(reverse("visits:visit", args=[subject.pk, "C1D8"])).status_code == 404


def test_the_sponsor_reads_but_cannot_record_a_visit(client, sponsor, dosed_subject):
    subject, c1d1 = dosed_subject
    client.force_login(sponsor)
    page = reverse("visits:visit", args=[subject.pk, "C1D1"])
    assert client.get(page).status_code == 200
    assert client.post(page, {"visit_date": c1d1.isoformat()}).status_code == 403
    assert not Visit.objects.exists()


def _subjects_with_visits(coordinator, site, cohort, count, start):
    today = site_today(site.timezone)
    for n in range(count):
        subject = enrolled_subject(coordinator, site, f"Q-{start + n}", cohort, days_ago=30)
        c1d1 = today - timedelta(days=26)
        dosed(coordinator, subject, on=c1d1)
        visit = visit_record(by=coordinator, subject=subject, code="C1D1", visit_date=c1d1)
        lab_result_record(
            by=coordinator,
            subject=subject,
            visit=visit,
            sampled_on=c1d1,
            test="PLAT",
            value=Decimal("200"),
            unit="10^9/L",
            normal_low=Decimal("150"),
            normal_high=Decimal("400"),
        )


def test_missing_forms_and_lab_listing_query_counts_are_flat(
    client, monitor, coordinator_a, site_a, open_cohort, django_assert_num_queries
):
    client.force_login(monitor)
    _subjects_with_visits(coordinator_a, site_a, open_cohort, 2, 0)
    pages = [reverse("visits:missing_forms"), reverse("visits:lab_listing")]
    counts = []
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for url in pages:
        with CaptureQueriesContext(connection) as small:
            client.get(url)
        counts.append(len(small))
    # Session, user and memberships, the study, then a fixed set per page: subjects, schedules,
    # doses, visits, each visit form's entries, the cancer histories and prior therapies
    # (missing forms); labs, subjects, first doses, counts, schedules (lab listing with the
    # neutropenia flags).
    assert counts == [19, 13]
    _subjects_with_visits(coordinator_a, site_a, open_cohort, 3, 10)
    for url, expected in zip(pages, counts, strict=True):
        with django_assert_num_queries(expected):
            response = client.get(url)
        assert response.status_code == 200
    report = client.get(pages[0]).content.decode()
    assert report.count("data-missing=") == 5 * 5  # SCR, C1D1, C1D8, C1D15, C2D1 per subject


def test_grade_4_neutropenia_lasting_more_than_7_days_is_flagged_to_the_monitor(
    client, monitor, coordinator_a, site_a, open_cohort
):
    today = site_today(site_a.timezone)
    subject = enrolled_subject(coordinator_a, site_a, "N-1", open_cohort, days_ago=24)
    c1d1 = today - timedelta(days=20)
    dosed(coordinator_a, subject, on=c1d1)
    # Grade 4 (<0.5) on Day 4 and Day 8, grade 2 on Day 13: 9 days from the first grade 4 to
    # the first result that is not (docs/visits.md §5), more than 7 -> a possible DLT.
    for code, day, value in (("UNS1", 3, "0.3"), ("C1D8", 7, "0.4"), ("UNS2", 12, "1.2")):
        visit = visit_record(
            by=coordinator_a, subject=subject, code=code, visit_date=c1d1 + timedelta(days=day)
        )
        lab_result_record(
            by=coordinator_a,
            subject=subject,
            visit=visit,
            sampled_on=visit.visit_date,
            test="NEUT",
            value=Decimal(value),
            unit="10^9/L",
            normal_low=Decimal("1.8"),
            normal_high=Decimal("7.5"),
        )
    client.force_login(monitor)
    page = client.get(reverse("visits:lab_listing")).content.decode()
    assert f'data-neutropenia="{subject.pk}"' in page
    assert "Possible DLT" in page and "9 days" in page
