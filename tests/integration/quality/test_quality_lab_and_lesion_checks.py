"""The edit checks on lab results and tumour lesions: run on save and on demand, each raising a
query on its field with its message (docs/quality.md §1); lab results and lesions are casebook
forms like the others (queries, verification, freezes)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from core.errors import RecordLocked
from dosing.services import dose_update
from efficacy.services import tumour_assessment_record, tumour_assessment_void
from quality import services
from quality.models import Query
from tests.factories import infusion
from visits.services import lab_result_record, lab_result_update, visit_record

pytestmark = pytest.mark.django_db

LAB_CHECK = "lab_result.date_in_visit_window"
ORGAN_CHECK = "lesion.targets_per_organ"


def _queries(subject, **filters):
    return list(Query.objects.filter(subject=subject, **filters).order_by("pk"))


def _neutrophils(by, subject, visit, on):
    return lab_result_record(
        by=by,
        subject=subject,
        visit=visit,
        sampled_on=on,
        test="NEUT",
        value=Decimal("2.1"),
        unit="10^9/L",
        normal_low=Decimal("1.8"),
        normal_high=Decimal("7.5"),
    )


@pytest.fixture
def c1d8(coordinator_a, subject, dose, dose_day):
    """The Cycle 1 Day 8 visit: target the first dose + 7 days, window +/-1 (mil97.toml Q3W)."""
    return visit_record(
        by=coordinator_a, subject=subject, code="C1D8", visit_date=dose_day + timedelta(days=7)
    )


def test_a_lab_sample_outside_its_visit_window_raises_a_query_on_save(
    coordinator_a, subject, dose_day, c1d8
):
    inside = _neutrophils(coordinator_a, subject, c1d8, dose_day + timedelta(days=8))
    assert _queries(subject) == []
    late = dose_day + timedelta(days=9)
    outside = _neutrophils(coordinator_a, subject, c1d8, late)
    [query] = _queries(subject)
    assert (query.form, query.record_id, query.field) == ("lab_result", outside.pk, "sampled_on")
    assert (query.origin, query.check_name, query.check_version) == ("edit_check", LAB_CHECK, 1)
    window = f"{dose_day + timedelta(days=6)} to {dose_day + timedelta(days=8)}"
    assert query.text.startswith(
        f"The NEUT sample dated {late} is outside the window of visit C1D8 ({window})"
    )
    assert query.history.get().history_user == coordinator_a
    assert inside.pk != outside.pk

    # The site corrects the sample date: the data resolve the query.
    lab_result_update(
        by=coordinator_a,
        lab_result=outside,
        changes={"sampled_on": dose_day + timedelta(days=7)},
        reason="Sample date as on the lab report",
        expected_version=outside.version,
    )
    [query] = _queries(subject)
    assert query.status == "closed" and query.closed_by is None
    assert [m.action for m in query.messages.all()] == ["opened", "resolved"]


def test_a_dose_correction_that_moves_the_window_raises_the_lab_query(
    coordinator_a, subject, dose, dose_day, c1d8
):
    lab = _neutrophils(coordinator_a, subject, c1d8, dose_day + timedelta(days=7))
    assert _queries(subject) == []
    # Cycle 1 Day 1 was 3 days later than entered: C1D8 is now due on the first dose + 10 days.
    start, end = infusion(subject.site, dose_day + timedelta(days=3))
    dose_update(
        by=coordinator_a,
        dose=dose,
        changes={"infusion_start": start, "infusion_end": end},
        reason="Infusion date as on the pharmacy log",
        expected_version=dose.version,
    )
    [query] = _queries(subject)
    assert (query.form, query.record_id, query.check_name) == ("lab_result", lab.pk, LAB_CHECK)


def test_a_lab_at_an_unscheduled_visit_has_no_window(coordinator_a, subject, dose_day, dose):
    unscheduled = visit_record(
        by=coordinator_a, subject=subject, code="UNS1", visit_date=dose_day + timedelta(days=12)
    )
    _neutrophils(coordinator_a, subject, unscheduled, dose_day + timedelta(days=12))
    assert _queries(subject) == []


def test_the_lab_check_runs_on_demand(coordinator_a, monitor, subject, dose_day, c1d8):
    lab = _neutrophils(coordinator_a, subject, c1d8, dose_day + timedelta(days=10))
    [query] = _queries(subject)
    services.query_close(by=monitor, query=query, text="Sample taken late, as on the source")
    # Closed by a person: running the check again does not raise it a second time.
    assert services.edit_checks_run(by=monitor, subject=subject, names=[LAB_CHECK]) == []
    assert [q.status for q in _queries(subject)] == ["closed"]
    assert query.record_id == lab.pk


def _baseline(by, subject, on, lesions):
    return tumour_assessment_record(
        by=by, subject=subject, kind="baseline", assessed_on=on, method="CT", lesions=lesions
    )


THREE_IN_THE_LUNGS = [
    {"code": "T1", "role": "target", "organ": "left lung", "size_mm": "22"},
    {"code": "T2", "role": "target", "organ": "right lung", "size_mm": "18"},
    {"code": "T3", "role": "target", "organ": "lungs", "size_mm": "15"},
    {"code": "T4", "role": "target", "organ": "liver", "size_mm": "40"},
    {"code": "NT1", "role": "non-target", "organ": "bone", "measurable_by_nature": False},
]


def test_a_third_target_in_a_paired_organ_raises_a_query_on_the_lesion(
    coordinator_a, subject, dose_day, client
):
    # The entry accepts the organs as typed ("left lung", "right lung", "lungs"); the check
    # reads them as one organ, as RECIST 1.1 counts paired organs.
    baseline = _baseline(coordinator_a, subject, dose_day - timedelta(days=7), THREE_IN_THE_LUNGS)
    [query] = _queries(subject)
    lesion = baseline.lesions_first_seen.get(code="T3")
    assert (query.form, query.record_id, query.field) == ("lesion", lesion.pk, "organ")
    assert (query.check_name, query.check_version) == (ORGAN_CHECK, 1)
    assert query.text.startswith(
        "T3 is one of 3 target lesions in the lung (T1 (left lung), T2 (right lung), "
        "T3 (lungs)): RECIST 1.1 allows at most 2 per organ"
    )
    # Shown on the lesion's organ on the subject's quality page.
    client.force_login(coordinator_a)
    html = client.get(reverse("quality:subject", args=[subject.pk])).content.decode()
    assert f'id="lesion-{lesion.pk}"' in html and "Lesion T3 (target, lungs)" in html
    assert "T3 is one of 3 target lesions in the lung" in html

    # The baseline voided (entered in error): the data resolve the query.
    tumour_assessment_void(
        by=coordinator_a,
        assessment=baseline,
        reason="Entered for the wrong subject",
        expected_version=baseline.version,
    )
    [query] = _queries(subject)
    assert query.status == "closed" and query.messages.last().action == "resolved"


def test_lab_results_and_lesions_take_queries_verification_and_freezes(
    coordinator_a, monitor, cra, data_manager, subject, dose_day, c1d8
):
    lab = _neutrophils(coordinator_a, subject, c1d8, dose_day + timedelta(days=7))
    query = services.query_open(
        by=monitor,
        subject=subject,
        form="lab_result",
        record_id=lab.pk,
        field="value",
        text="The lab report says 2.4.",
    )
    assert query.form_label == "Lab result"
    verified = services.sdv_verify(by=cra, subject=subject, form="lab_result", record_id=lab.pk)
    lab = lab_result_update(
        by=coordinator_a,
        lab_result=lab,
        changes={"value": Decimal("2.4")},
        reason="Value as on the lab report",
        expected_version=lab.version,
    )
    verified.refresh_from_db()
    assert verified.cleared_at is not None and "is now at version 2" in verified.cleared_reason
    services.form_freeze(by=data_manager, subject=subject, form="lab_result", record_id=lab.pk)
    with pytest.raises(RecordLocked, match="This lab result is frozen"):
        lab_result_update(
            by=coordinator_a,
            lab_result=lab,
            changes={"value": Decimal("2.5")},
            reason="Again",
            expected_version=lab.version,
        )
    lab.refresh_from_db()
    assert lab.value == Decimal("2.4") and lab.version == 2
