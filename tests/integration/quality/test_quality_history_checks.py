"""The washout of prior anticancer therapy and the survival contact's new therapy, as edit checks
on the saved casebook (docs/quality.md §1): the protocol file's washout, a query raised by the
first dose or by the therapy's save, resolved by a correction or a void."""

from datetime import timedelta

import pytest

from core.dates import site_today
from dosing.services import dose_update
from quality.models import Query
from quality.services import settings_for
from subjects.services import subject_end_treatment
from tests.factories import dosed, enrolled_subject
from visits.services import (
    prior_therapy_record,
    prior_therapy_update,
    prior_therapy_void,
    survival_contact_record,
    visit_record,
)

pytestmark = pytest.mark.django_db

WASHOUT = "prior_therapy.washout_before_first_dose"


def _therapy(by, subject, end):
    return prior_therapy_record(
        by=by,
        subject=subject,
        therapy_type="systemic",
        treatment="FOLFOX",
        setting="advanced",
        line=1,
        start_date="2024-01",
        end_date=end,
        best_response="PD",
        stop_reason="progression",
    )


def _queries(subject, check):
    return list(Query.objects.filter(subject=subject, check_name=check).order_by("pk"))


def test_the_protocol_file_sets_the_washout(study):
    assert settings_for(study).anticancer_washout_days == 28


def test_the_first_dose_raises_the_washout_query_and_a_correction_resolves_it(
    coordinator_a, site_a, cohort1
):
    today = site_today(site_a.timezone)
    subject = enrolled_subject(coordinator_a, site_a, "WO-1", cohort1, days_ago=20)
    ended = today - timedelta(days=30)  # 12 days before the first dose below
    therapy = _therapy(coordinator_a, subject, ended.isoformat())
    assert _queries(subject, WASHOUT) == []  # no first dose yet
    dose = dosed(coordinator_a, subject, on=today - timedelta(days=18))
    [query] = _queries(subject, WASHOUT)
    assert (query.form, query.record_id, query.field, query.status) == (
        "prior_therapy",
        therapy.pk,
        "end_date",
        "open",
    )
    assert f"ended within the 28-day washout before the first dose ({dose.administered_on}" in (
        query.text
    )
    therapy = prior_therapy_update(
        by=coordinator_a,
        therapy=therapy,
        changes={"end_date": (today - timedelta(days=60)).isoformat()},
        reason="End date misread: two months ago on the source",
        expected_version=therapy.version,
    )
    [query] = _queries(subject, WASHOUT)
    assert query.status == "closed" and query.closed_by is None
    # A correction of the first dose to an earlier day changes nothing; a partial end date in
    # the month of the window asks again, and a void resolves it.
    dose_update(
        by=coordinator_a,
        dose=dose,
        changes={"lot_number": "LOT-9"},
        reason="Lot number corrected",
        expected_version=dose.version,
    )
    therapy = prior_therapy_update(
        by=coordinator_a,
        therapy=therapy,
        changes={"end_date": ended.strftime("%Y-%m")},
        reason="Only the month is on the source",
        expected_version=therapy.version,
    )
    closed, reopened = _queries(subject, WASHOUT)
    assert reopened.status == "open" and "ended" in reopened.text
    prior_therapy_void(
        by=coordinator_a, therapy=therapy, reason="Entered twice", expected_version=therapy.version
    )
    assert [q.status for q in _queries(subject, WASHOUT)] == ["closed", "closed"]


def test_a_new_therapy_started_before_the_first_dose_raises_a_query(coordinator_a, site_a, cohort1):
    today = site_today(site_a.timezone)
    subject = enrolled_subject(coordinator_a, site_a, "SV-9", cohort1, days_ago=200)
    first = today - timedelta(days=190)
    dosed(coordinator_a, subject, on=first)
    subject = subject_end_treatment(
        by=coordinator_a,
        subject=subject,
        end_date=today - timedelta(days=100),
        reason_code="PROGRESSIVE DISEASE",
        expected_version=None,
    )
    visit = visit_record(
        by=coordinator_a, subject=subject, code="SURV1", visit_date=today - timedelta(days=15)
    )
    contact = survival_contact_record(
        by=coordinator_a,
        subject=subject,
        visit=visit,
        contact_date=visit.visit_date,
        status="alive",
        new_therapy=True,
        new_therapy_regimen="Docetaxel",
        new_therapy_start=first - timedelta(days=1),
    )
    [query] = _queries(subject, "survival.new_therapy_before_first_dose")
    assert (query.form, query.record_id, query.field) == (
        "survival",
        contact.pk,
        "new_therapy_start",
    )
    assert f"before the first dose ({first:%Y-%m-%d})" in query.text
