"""The data quality pages: the subject's forms with queries on their fields, the query report
(query count flat in the number of queries), SDV status, signing, and locks refusing page
writes (docs/quality.md)."""

from datetime import timedelta

import pytest
from django.urls import reverse

from quality import services
from quality.models import Query
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def _open(monitor, subject, dose, n):
    for i in range(n):
        services.query_open(
            by=monitor,
            subject=subject,
            form="dose",
            record_id=dose.pk,
            field="lot_number",
            text=f"Q{i}",
        )


def test_subject_page_shows_queries_on_their_field(client, monitor, coordinator_a, subject, dose):
    services.query_open(
        by=monitor, subject=subject, form="dose", record_id=dose.pk, field="lot_number", text="Lot?"
    )
    client.force_login(coordinator_a)
    page = client.get(reverse("quality:subject", args=[subject.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-field="lot_number"' in html and "Lot?" in html
    assert "data-answer-form" in html and "data-close-form" not in html
    casebook = client.get(reverse("subject_detail", args=[subject.pk])).content.decode()
    assert "1 unresolved query" in casebook and "awaiting the investigator" in casebook


def test_answer_close_through_the_pages(client, monitor, coordinator_a, subject, dose):
    query = services.query_open(
        by=monitor, subject=subject, form="dose", record_id=dose.pk, text="?"
    )
    client.force_login(coordinator_a)
    client.post(reverse("quality:query_step", args=[query.pk, "answer"]), {"text": "Checked."})
    query.refresh_from_db()
    assert query.status == "answered"
    # The coordinator cannot close.
    response = client.post(reverse("quality:query_step", args=[query.pk, "close"]), {"text": ""})
    assert response.status_code == 403
    client.force_login(monitor)
    client.post(reverse("quality:query_step", args=[query.pk, "close"]), {"text": "Fine"})
    query.refresh_from_db()
    assert query.status == "closed"


def test_another_sites_query_is_not_found(client, monitor, coordinator_b, subject, dose):
    query = services.query_open(
        by=monitor, subject=subject, form="dose", record_id=dose.pk, text="?"
    )
    client.force_login(coordinator_b)
    assert client.get(reverse("quality:subject", args=[subject.pk])).status_code == 404
    response = client.post(reverse("quality:query_step", args=[query.pk, "answer"]), {"text": "x"})
    assert response.status_code == 404


# The query report (docs/quality.md §2): the same number of SQL queries whatever the number of
# data queries (the unresolved ones are read once, with their subjects and sites).
QUERY_REPORT_QUERIES = 10


def test_query_report_by_site_and_age_with_a_flat_query_count(
    client, monitor, subject, dose, time_machine, django_assert_num_queries
):
    client.force_login(monitor)
    url = reverse("quality:queries")
    _open(monitor, subject, dose, 1)
    assert client.get(url).status_code == 200  # warm-up
    with django_assert_num_queries(QUERY_REPORT_QUERIES):
        assert client.get(url).status_code == 200
    _open(monitor, subject, dose, 6)
    with django_assert_num_queries(QUERY_REPORT_QUERIES):
        assert client.get(url).status_code == 200
    # Ten days later the queries are in the 8-14 days column.
    time_machine.move_to(Query.objects.first().opened_at + timedelta(days=10))
    client.force_login(monitor)  # the idle session ended meanwhile
    page = client.get(url).content.decode()
    assert '<tr data-site="101"><th scope="row">101 · Site A</th><td>0</td><td>7</td>' in page


def test_sdv_report_and_signature_list(client, cra, investigator_a, subject, dose):
    services.sdv_verify(by=cra, subject=subject, form="dose", record_id=dose.pk)
    client.force_login(cra)
    page = client.get(reverse("quality:sdv")).content.decode()
    assert "1 of 2" in page  # the subject form and the dose; the dose is verified
    client.force_login(investigator_a)
    waiting = client.get(reverse("quality:signatures")).content.decode()
    assert f'data-subject="{subject.pk}"' in waiting and "Not signed yet" in waiting


def test_signing_asks_the_user_name_first_then_the_password_only(
    client, investigator_a, coordinator_a, subject, dose
):
    client.force_login(investigator_a)
    url = reverse("quality:sign", args=[subject.pk])
    form = client.get(url).content.decode()
    assert 'name="username"' in form and "Meaning: approved." in form
    response = client.post(url, {"username": "investigator_a", "password": "wrong"})
    assert response.status_code == 400
    assert "The password is not correct; nothing was signed." in response.content.decode()
    response = client.post(url, {"username": "investigator_a", "password": PASSWORD})
    assert response.status_code == 302
    # A later change invalidates; the next signing in this session asks the password only.
    from dosing.services import dose_update

    dose_update(
        by=coordinator_a,
        dose=dose,
        changes={"lot_number": "LOT-3"},
        reason="Lot corrected",
        expected_version=dose.version,
    )
    assert 'name="username"' not in client.get(url).content.decode()
    assert client.post(url, {"password": PASSWORD}).status_code == 302
    assert services.current_casebook_signature(subject) is not None


def test_a_locked_subject_refuses_a_page_correction(client, data_manager, coordinator_a, subject):
    client.force_login(data_manager)
    client.post(reverse("quality:lock_subject", args=[subject.pk]), {"reason": "Clean"})
    client.force_login(coordinator_a)
    response = client.post(
        reverse("subject_edit", args=[subject.pk]),
        {
            "sex": "M",
            "year_of_birth": subject.year_of_birth,
            "screening_date": subject.screening_date.isoformat(),
            "consent_date": subject.consent_date.isoformat(),
            "consent_version": subject.consent_version,
            "enrollment_date": subject.enrollment_date.isoformat(),
            "reason": "Sex corrected",
            "version": subject.version,
        },
    )
    assert "is locked" in response.content.decode()
    subject.refresh_from_db()
    assert subject.sex == "F"


def test_the_cra_pages(client, cra, cra_b, subject, dose):
    for user, sees in ((cra, True), (cra_b, False)):
        client.force_login(user)
        assert client.get("/").status_code == 200
        assert client.get(reverse("quality:queries")).status_code == 200
        page = client.get(reverse("quality:subject", args=[subject.pk]))
        assert page.status_code == (200 if sees else 404)
    client.force_login(cra)
    html = client.get(reverse("quality:subject", args=[subject.pk])).content.decode()
    assert "Mark the form verified" in html and "data-lock-form" not in html


# The subject's quality page: one read per form (subject, doses, adverse events, lab results with
# their visits, lesions), the queries and their messages, the verifications, freezes, signature
# and locks, whatever the number of records and queries.
SUBJECT_PAGE_QUERIES = 24


def test_the_subject_page_runs_a_fixed_number_of_queries(
    client, monitor, coordinator_a, subject, dose, dose_day, django_assert_num_queries
):
    from decimal import Decimal

    from efficacy.services import tumour_assessment_record
    from visits.services import lab_result_record, visit_record

    c1d8 = visit_record(
        by=coordinator_a, subject=subject, code="C1D8", visit_date=dose_day + timedelta(days=7)
    )

    def lab(test, unit, value):
        return lab_result_record(
            by=coordinator_a,
            subject=subject,
            visit=c1d8,
            sampled_on=c1d8.visit_date,
            test=test,
            value=Decimal(value),
            unit=unit,
        )

    first = lab("ALT", "U/L", "30")
    services.query_open(
        by=monitor, subject=subject, form="lab_result", record_id=first.pk, text="Range?"
    )
    client.force_login(monitor)
    url = reverse("quality:subject", args=[subject.pk])
    assert client.get(url).status_code == 200  # warm-up
    with django_assert_num_queries(SUBJECT_PAGE_QUERIES):
        assert client.get(url).status_code == 200
    for test, unit, value in (("AST", "U/L", "28"), ("CREAT", "umol/L", "80")):
        services.query_open(
            by=monitor,
            subject=subject,
            form="lab_result",
            record_id=lab(test, unit, value).pk,
            field="value",
            text="Source?",
        )
    tumour_assessment_record(
        by=coordinator_a,
        subject=subject,
        kind="baseline",
        assessed_on=dose_day - timedelta(days=7),
        method="CT",
        lesions=[
            {"code": "T1", "role": "target", "organ": "liver", "size_mm": "40"},
            {"code": "NT1", "role": "non-target", "organ": "bone", "measurable_by_nature": False},
        ],
    )
    _open(monitor, subject, dose, 3)
    with django_assert_num_queries(SUBJECT_PAGE_QUERIES):
        page = client.get(url)
    assert page.status_code == 200
    assert page.content.decode().count('data-form="lab_result"') == 3
    assert page.content.decode().count('data-form="lesion"') == 2
