"""Edit checks run on save and on demand and raise queries; the query workflow, audited
(docs/quality.md §1-2)."""

from datetime import timedelta
from decimal import Decimal

import pytest

from core.errors import PermissionDenied, ValidationError
from dosing.services import dose_update
from quality import services
from quality.models import Query, QueryMessage
from subjects.services import subject_update
from tests.factories import dosed, reported_ae

pytestmark = pytest.mark.django_db


def _queries(subject, **filters):
    return list(Query.objects.filter(subject=subject, **filters).order_by("pk"))


def test_a_weight_outside_the_expected_range_raises_a_query_on_save(
    coordinator_a, subject, dose_day
):
    dose = dosed(coordinator_a, subject, on=dose_day, weight="35")
    [query] = _queries(subject)
    assert (query.form, query.record_id, query.field) == ("dose", dose.pk, "body_weight_kg")
    assert (query.origin, query.check_name, query.check_version) == (
        "edit_check",
        "dose.body_weight_range",
        1,
    )
    assert query.status == "open" and query.opened_by is None
    assert "Body weight 35 kg is outside the expected 40-150 kg" in query.text
    assert query.record_version == dose.version
    # Audited: the history names the check and the user whose save raised it.
    [row] = query.history.all()
    assert row.history_user == coordinator_a
    assert row.history_change_reason == "Raised by edit check dose.body_weight_range v1"
    assert [m.action for m in query.messages.all()] == ["opened"]


def test_a_correction_that_clears_the_finding_resolves_the_query(coordinator_a, subject, dose_day):
    dose = dosed(coordinator_a, subject, on=dose_day, weight="35")
    dose_update(
        by=coordinator_a,
        dose=dose,
        changes={"body_weight_kg": Decimal("70")},
        reason="Typo: 70 kg on the source",
        expected_version=dose.version,
    )
    [query] = _queries(subject)
    assert query.status == "closed" and query.closed_by is None
    assert [m.action for m in query.messages.all()] == ["opened", "resolved"]
    assert query.history.first().history_change_reason.startswith("Resolved by a data change")
    # The finding comes back: a new query (the resolved one does not hide it).
    dose.refresh_from_db()
    dose_update(
        by=coordinator_a,
        dose=dose,
        changes={"body_weight_kg": Decimal("35")},
        reason="The first weight was right",
        expected_version=dose.version,
    )
    assert [q.status for q in _queries(subject)] == ["closed", "open"]


def test_saving_again_does_not_raise_a_second_query(coordinator_a, subject, dose_day):
    dose = dosed(coordinator_a, subject, on=dose_day, weight="35")
    dose_update(
        by=coordinator_a,
        dose=dose,
        changes={"lot_number": "LOT-2"},
        reason="Lot corrected",
        expected_version=dose.version,
    )
    assert len(_queries(subject)) == 1


def test_a_query_closed_by_the_monitor_is_not_raised_again_for_the_same_finding(
    coordinator_a, monitor, subject, dose_day
):
    dose = dosed(coordinator_a, subject, on=dose_day, weight="35")
    [query] = _queries(subject)
    services.query_close(by=monitor, query=query, text="35 kg confirmed on the source")
    dose = dose_update(
        by=coordinator_a,
        dose=dose,
        changes={"lot_number": "LOT-2"},
        reason="Lot corrected",
        expected_version=dose.version,
    )
    assert [q.status for q in _queries(subject)] == ["closed"]
    # A different out-of-range value is a new finding: a new query.
    dose_update(
        by=coordinator_a,
        dose=dose,
        changes={"body_weight_kg": Decimal("36")},
        reason="Weighed again",
        expected_version=dose.version,
    )
    assert [q.status for q in _queries(subject)] == ["closed", "open"]


def test_a_cross_form_check_fires_when_another_form_is_corrected(
    coordinator_a, subject, dose, site_a
):
    # End of treatment recorded, then corrected to a date before the dose: accepted by the
    # subject's service, found by the cross-form check on the dose.
    from subjects.services import subject_end_treatment

    subject = subject_end_treatment(
        by=coordinator_a,
        subject=subject,
        end_date=dose.administered_on + timedelta(days=2),
        reason_code="PROGRESSIVE DISEASE",
        reason="Progression",
        expected_version=subject.version,
    )
    assert _queries(subject) == []
    subject_update(
        by=coordinator_a,
        subject=subject,
        changes={"end_of_treatment_date": dose.administered_on - timedelta(days=1)},
        reason="Date corrected",
        expected_version=subject.version,
    )
    [query] = _queries(subject)
    assert (query.check_name, query.form, query.record_id, query.field) == (
        "dose.after_end_of_treatment",
        "dose",
        dose.pk,
        "administered_on",
    )


def test_required_if_check_on_an_adverse_event(coordinator_a, subject, dose, ctcae):
    event = reported_ae(
        coordinator_a,
        subject,
        "Fatigue",
        verbatim_term="tired",
        grade=2,
        onset_date=dose.administered_on + timedelta(days=1),
        relationship="possible",
        action_taken="withdrawn",
        outcome="not_recovered",
    )
    [query] = _queries(subject)
    assert (query.form, query.record_id, query.field) == ("adverse_event", event.pk, "action_taken")


def test_on_demand_run_needs_a_query_role_and_names_unknown_checks(
    coordinator_a, monitor, subject, dose
):
    with pytest.raises(PermissionDenied):
        services.edit_checks_run(by=coordinator_a, subject=subject)
    with pytest.raises(ValidationError) as error:
        services.edit_checks_run(by=monitor, subject=subject, names=["dose.nope"])
    assert error.value.message_dict == {"checks": ["No such edit check: dose.nope."]}
    assert services.edit_checks_run(by=monitor, subject=subject) == []


def test_query_workflow_open_answer_close_reopen_each_step_audited(
    coordinator_a, monitor, subject, dose
):
    query = services.query_open(
        by=monitor,
        subject=subject,
        form="dose",
        record_id=dose.pk,
        field="lot_number",
        text="The lot on the pharmacy log is LOT-9: please check.",
    )
    assert (query.status, query.origin, query.opened_by) == ("open", "manual", monitor)
    query = services.query_answer(by=coordinator_a, query=query, text="Corrected to LOT-9.")
    assert query.status == "answered" and query.answered_at is not None
    query = services.query_reopen(by=monitor, query=query, text="Still LOT-1 on the form.")
    assert query.status == "open" and query.answered_at is None
    query = services.query_answer(by=coordinator_a, query=query, text="Now corrected.")
    query = services.query_close(by=monitor, query=query)
    assert (query.status, query.closed_by) == ("closed", monitor)
    steps = [(m.action, m.by) for m in QueryMessage.objects.filter(query=query)]
    assert steps == [
        ("opened", monitor),
        ("answered", coordinator_a),
        ("reopened", monitor),
        ("answered", coordinator_a),
        ("closed", monitor),
    ]
    history = [(h.status, h.history_user) for h in query.history.order_by("history_id")]
    assert history == [
        ("open", monitor),
        ("answered", coordinator_a),
        ("open", monitor),
        ("answered", coordinator_a),
        ("closed", monitor),
    ]


def test_query_roles_and_refusals(coordinator_a, coordinator_b, monitor, sponsor, subject, dose):
    with pytest.raises(PermissionDenied):
        services.query_open(
            by=coordinator_a, subject=subject, form="dose", record_id=dose.pk, text="x"
        )
    with pytest.raises(PermissionDenied):
        services.query_open(by=sponsor, subject=subject, form="dose", record_id=dose.pk, text="x")
    with pytest.raises(ValidationError) as error:
        services.query_open(
            by=monitor, subject=subject, form="dose", record_id=dose.pk, field="nope", text="x"
        )
    assert error.value.message_dict == {"field": ["Dose administration has no field 'nope'."]}
    with pytest.raises(ValidationError) as error:
        services.query_open(by=monitor, subject=subject, form="dose", record_id=dose.pk, text="  ")
    assert error.value.message_dict == {"text": ["Write the text."]}
    query = services.query_open(
        by=monitor,
        subject=subject,
        form="subject",
        record_id=subject.pk,
        text="Check the consent version.",
    )
    assert query.field == ""
    # Another site's coordinator cannot answer; the monitor does not answer for the site.
    with pytest.raises(PermissionDenied):
        services.query_answer(by=coordinator_b, query=query, text="x")
    with pytest.raises(PermissionDenied):
        services.query_answer(by=monitor, query=query, text="x")
    with pytest.raises(ValidationError) as error:
        services.query_reopen(by=monitor, query=query, text="again")
    assert error.value.message_dict == {"status": ["This query is already open."]}
