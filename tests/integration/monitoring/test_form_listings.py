"""The monitor's listing per casebook form (docs/visits.md §12): every form's records of the
selection with their CSV, the site filter, pagination, site roles kept out, and a stated, fixed
number of SQL queries whatever the number of records."""

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from core.dates import site_today
from monitoring.pages import listings
from subjects.services import subject_end_study, subject_end_treatment, subject_record_demographics
from tests.factories import dosed, enrolled_subject
from trial.models import Cohort, DoseLevel, EscalationTrack
from visits.services import (
    cancer_history_record,
    concomitant_medication_record,
    ecg_record,
    ecog_record,
    lab_result_record,
    medical_history_record,
    prior_therapy_record,
    survival_contact_record,
    visit_record,
    vital_signs_record,
)

pytestmark = pytest.mark.django_db

FORMS = [
    "demographics",
    "disposition",
    "vital_signs",
    "labs",
    "ecog",
    "ecg",
    "concomitant_medications",
    "medical_history",
    "cancer_history",
    "prior_therapy",
    "survival",
]


@pytest.fixture
def cohort(study):
    q3w = EscalationTrack.objects.get(study=study, code="Q3W-ESC")
    track = EscalationTrack.objects.create(
        study=study,
        code="LISTINGS",
        name="Listings test track",
        regimen=q3w.regimen,
        phase=EscalationTrack.Phase.ESCALATION,
        status=EscalationTrack.Status.ACTIVE,
        display_order=9,
    )
    return Cohort.objects.create(
        study=study,
        track=track,
        number=93,
        dose_level=DoseLevel.objects.get(study=study, number=1),
        planned_size=50,
        status=Cohort.Status.OPEN,
        opened_at=timezone.now(),
    )


def casebook(by, site, cohort, number: str):
    """A subject with one record of every casebook form: dosed 190 days ago, treatment ended
    100 days ago, the first survival contact 15 days ago."""
    today = site_today(site.timezone)
    subject = enrolled_subject(by, site, number, cohort, days_ago=200)
    c1d1 = today - timedelta(days=190)
    dosed(by, subject, on=c1d1)
    visit = visit_record(by=by, subject=subject, code="C1D1", visit_date=c1d1)
    vital_signs_record(
        by=by, subject=subject, visit=visit, measured_on=c1d1, timepoint="pre_dose", pulse=72
    )
    lab_result_record(
        by=by,
        subject=subject,
        visit=visit,
        sampled_on=c1d1,
        test="ALT",
        value=Decimal("250"),
        unit="U/L",
        normal_high=Decimal("40"),
    )
    ecog_record(by=by, subject=subject, visit=visit, assessed_on=c1d1, status=1)
    ecg_record(
        by=by,
        subject=subject,
        visit=visit,
        recorded_on=c1d1,
        timepoint="pre_dose",
        qt_ms_1=400,
        rr_ms_1=1000,
        interpretation="normal",
    )
    concomitant_medication_record(
        by=by,
        subject=subject,
        medication="Paracetamol",
        indication="Pain",
        route="ORAL",
        start_date=c1d1,
        ongoing=True,
    )
    medical_history_record(by=by, subject=subject, term="Hypertension", start_year=2015)
    cancer_history_record(
        by=by,
        subject=subject,
        primary_site="Colon",
        histology="Adenocarcinoma",
        diagnosis_date="2022-04",
        stage_at_diagnosis="IIIB",
        stage_at_entry="IVA",
        advanced_disease_date="2024-01",
        metastatic_sites=["LIVER"],
    )
    prior_therapy_record(
        by=by,
        subject=subject,
        therapy_type="systemic",
        treatment="FOLFOX",
        setting="adjuvant",
        start_date="2022-06",
        end_date="2022-12",
        best_response="NA",
        stop_reason="completed",
    )
    subject = subject_end_treatment(
        by=by,
        subject=subject,
        end_date=today - timedelta(days=100),
        reason_code="PROGRESSIVE DISEASE",
        reason="Progressive disease",
        expected_version=None,
    )
    surv = visit_record(by=by, subject=subject, code="SURV1", visit_date=today - timedelta(days=15))
    survival_contact_record(
        by=by, subject=subject, visit=surv, contact_date=surv.visit_date, status="alive"
    )
    return subject


def _url(form):
    return reverse("monitoring:form_listing", args=[form])


def test_every_form_is_listed_with_its_csv_and_the_site_filter(
    client, monitor, coordinator_a, coordinator_b, site_a, site_b, cohort, study
):
    a = casebook(coordinator_a, site_a, cohort, "L-A1")
    b = casebook(coordinator_b, site_b, cohort, "L-B1")
    client.force_login(monitor)
    for form in FORMS:
        response = client.get(_url(form))
        assert response.status_code == 200, form
        page = response.context["page"]
        assert page.total == 2, form
        assert {subject_id for _, subject_id, _ in page.rows} == {a.pk, b.pk}, form
        text = client.get(_url(form), {"format": "csv", "table": form}).content.decode()
        rows = list(csv.reader(io.StringIO(text)))
        assert rows[0] == list(listings.FORM_LISTINGS[form].header), form
        assert len(rows) == 3, form
    labs = client.get(_url("labs")).content.decode()
    # ALT 250 U/L with ULN 40: > 5.0 x ULN -> grade 3, shown beside the value.
    assert "Alanine aminotransferase increased</td><td>3</td>" in labs
    history = client.get(_url("cancer_history"), {"format": "csv", "table": "cancer_history"})
    row = list(csv.DictReader(io.StringIO(history.content.decode())))[0]
    assert (row["Primary site"], row["AJCC stage at entry"], row["Sites of metastases"]) == (
        "Colon",
        "IVA",
        "Liver",
    )
    # The site filter; the listings page links each form's listing.
    only_b = client.get(_url("vital_signs"), {"site": site_b.pk}).context["page"]
    assert [subject_id for _, subject_id, _ in only_b.rows] == [b.pk]
    main = client.get(reverse("monitoring:listings")).content.decode()
    assert all(f'data-form-listing="{form}"' in main for form in FORMS)
    assert client.get(_url("x-rays")).status_code == 404
    assert client.get(_url("labs"), {"format": "csv", "table": "ecg"}).status_code == 404
    # Site roles have their own pages: the monitor's listings are not theirs.
    client.force_login(coordinator_a)
    assert client.get(_url("labs")).status_code == 403


def test_demographics_and_disposition_list_race_ethnicity_and_the_coded_reasons(
    client, monitor, coordinator_a, site_a, cohort
):
    subject = casebook(coordinator_a, site_a, cohort, "L-D1")
    subject = subject_record_demographics(
        by=coordinator_a,
        subject=subject,
        ethnicity="NOT HISPANIC OR LATINO",
        races=["ASIAN", "WHITE"],
        expected_version=subject.version,
    )
    subject_end_study(
        by=coordinator_a,
        subject=subject,
        end_date=site_today(site_a.timezone) - timedelta(days=5),
        reason_code="LOST TO FOLLOW-UP",
        reason="No answer to three calls and a letter",
        expected_version=subject.version,
    )
    client.force_login(monitor)
    text = client.get(_url("demographics"), {"format": "csv", "table": "demographics"})
    [row] = list(csv.DictReader(io.StringIO(text.content.decode())))
    assert (row["Ethnicity"], row["Race"]) == ("Not Hispanic or Latino", "Asian; White")
    page = client.get(_url("demographics")).content.decode()
    assert '<th scope="col">Ethnicity</th>' in page and "Asian; White" in page
    text = client.get(_url("disposition"), {"format": "csv", "table": "disposition"})
    [row] = list(csv.DictReader(io.StringIO(text.content.decode())))
    assert (
        row["Reason treatment ended (NCOMPLT)"],
        row["Reason treatment ended, specify"],
        row["Reason the study ended (NCOMPLT)"],
        row["Reason the study ended, specify"],
    ) == (
        "PROGRESSIVE DISEASE",
        "Progressive disease",
        "LOST TO FOLLOW-UP",
        "No answer to three calls and a letter",
    )
    assert "LOST TO FOLLOW-UP" in client.get(_url("disposition")).content.decode()


def test_pages_of_a_listing(client, monitor, coordinator_a, site_a, cohort, monkeypatch):
    monkeypatch.setattr(listings, "FORM_LISTING_PAGE_SIZE", 2)
    for n in range(3):
        casebook(coordinator_a, site_a, cohort, f"L-P{n}")
    client.force_login(monitor)
    first = client.get(_url("ecog")).context["page"]
    assert (first.total, first.pages, len(first.rows), first.has_next) == (3, 2, 2, True)
    last = client.get(_url("ecog"), {"page": "2"}).context["page"]
    assert (last.number, len(last.rows), last.has_previous) == (2, 1, True)
    beyond = client.get(_url("ecog"), {"page": "9"}).context["page"]
    assert beyond.number == 2
    text = client.get(_url("ecog"), {"format": "csv", "table": "ecog"}).content.decode()
    assert len(list(csv.reader(io.StringIO(text)))) == 1 + 3  # every record of the selection


# Every request: 4 queries to know who asks and 3 to slide the session (the test runs inside a
# transaction); the dashboards' scope 4 (the user's studies, then the study's tracks, dose
# levels and sites). Then the listing: the count and the page (13); the CSV reads every record
# of the selection once more (14).
PAGE_QUERIES = 13
CSV_QUERIES = 14


def _counts(client):
    counts = {}
    for form in FORMS:
        for params in ({}, {"format": "csv", "table": form}):
            client.get(_url(form), params)  # warm-up
            with CaptureQueriesContext(connection) as queries:
                assert client.get(_url(form), params).status_code == 200
            counts[(form, bool(params))] = len(queries)
    return counts


def test_listing_queries_do_not_grow_with_the_records(
    client, monitor, coordinator_a, coordinator_b, site_a, site_b, cohort, django_assert_num_queries
):
    casebook(coordinator_a, site_a, cohort, "L-Q1")
    client.force_login(monitor)
    small = _counts(client)
    assert set(small.values()) == {PAGE_QUERIES, CSV_QUERIES}, small
    for n in range(2):
        casebook(coordinator_a, site_a, cohort, f"L-Q{n + 2}")
        casebook(coordinator_b, site_b, cohort, f"L-R{n + 2}")
    for form in FORMS:
        for params, expected in (
            ({}, PAGE_QUERIES),
            ({"format": "csv", "table": form}, CSV_QUERIES),
        ):
            with django_assert_num_queries(expected, info=f"{form} {params}"):
                response = client.get(_url(form), params)
            assert response.status_code == 200
        assert client.get(_url(form)).context["page"].total == 5
