"""The investigator attests the DLT call a coordinator proposed (docs/safety.md §8): until then
the call counts as a DLT (the safe side), the evidence says it awaits the investigator, and the
committee cannot sign a decision on it (docs/escalation.md §7)."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from escalation.committee import committee_confirm
from escalation.models import CommitteeDecision, Recommendation, SubjectDltStatus
from safety.models import AdverseEvent
from safety.services import adverse_event_adjudicate, adverse_event_update, attest_dlt_call
from tests.conftest import PASSWORD
from tests.integration.escalation.helpers import report_dlt

pytestmark = pytest.mark.django_db(transaction=True)

PROPOSED = "proposed, awaiting investigator attestation"


def current(track):
    return Recommendation.objects.get(track=track, status__in=Recommendation.CURRENT)


def test_a_proposed_call_counts_as_a_dlt_and_blocks_signing_until_attested(
    coordinator_a, investigator_a, monitor, l1_subject, cohort1
):
    event = report_dlt(coordinator_a, l1_subject)
    assert event.dlt_awaiting_attestation
    assert (event.dlt_attested_by, event.dlt_attested_at) == (None, None)
    # Counted as a DLT meanwhile, and the stored evidence says the call is only proposed.
    status = SubjectDltStatus.objects.get(subject=l1_subject)
    assert status.dlt_adverse_event_id == event.pk
    recommendation = current(cohort1.track)
    assert recommendation.needs_decision
    (stored,) = recommendation.inputs["subjects"][0]["adverse_events"]
    assert stored["dlt_call"] == PROPOSED and stored["dlt_investigator"] is True

    with pytest.raises(ValidationError) as excinfo:
        committee_confirm(by=monitor, recommendation=recommendation, password=PASSWORD)
    message = " ".join(excinfo.value.message_dict["recommendation"])
    assert PROPOSED in message and "Neutrophil count decreased grade 3" in message
    assert "cannot sign" in message
    assert not CommitteeDecision.objects.exists()

    # A coordinator proposes; only the investigator attests.
    with pytest.raises(PermissionDenied):
        attest_dlt_call(by=coordinator_a, adverse_event=event, expected_version=event.version)
    attested = attest_dlt_call(
        by=investigator_a, adverse_event=event, expected_version=event.version
    )
    assert attested.dlt_attested_by == investigator_a and attested.dlt_attested_at is not None
    assert not attested.dlt_awaiting_attestation
    last = attested.history.order_by("-history_id").first()
    assert last.history_change_reason == "DLT call attested by the investigator"
    assert last.history_user == investigator_a and last.dlt_attested_by_id == investigator_a.pk
    with pytest.raises(ValidationError) as excinfo:
        attest_dlt_call(by=investigator_a, adverse_event=attested, expected_version=None)
    assert "dlt_attested_at" in excinfo.value.message_dict

    # The evidence is brought up to date (same decision), and the committee can now sign.
    recommendation = current(cohort1.track)
    (stored,) = recommendation.inputs["subjects"][0]["adverse_events"]
    assert "dlt_call" not in stored
    decision = committee_confirm(by=monitor, recommendation=recommendation, password=PASSWORD)
    assert decision.outcome == "confirmed"


def test_the_investigators_own_call_is_attested_at_once(
    investigator_a, monitor, l1_subject, cohort1
):
    event = report_dlt(investigator_a, l1_subject)
    assert event.dlt_attested_by == investigator_a and not event.dlt_awaiting_attestation
    decision = committee_confirm(
        by=monitor, recommendation=current(cohort1.track), password=PASSWORD
    )
    assert decision.outcome == "confirmed"


@pytest.mark.parametrize(
    ("changes", "cleared"),
    [
        ({"grade": 4}, True),
        ({"relationship": "definite"}, True),
        ({"onset_date_shift": 1}, True),
        ({"outcome": "recovering"}, False),
        ({"verbatim_term": "neutropenia, febrile work-up negative"}, False),
    ],
)
def test_an_edit_of_a_dlt_relevant_field_clears_the_attestation(
    coordinator_a, investigator_a, l1_subject, changes, cleared
):
    event = report_dlt(investigator_a, l1_subject)
    if "onset_date_shift" in changes:
        changes = {"onset_date": event.onset_date + timedelta(days=changes["onset_date_shift"])}
    edited = adverse_event_update(
        by=coordinator_a,
        adverse_event=event,
        changes=changes,
        reason="Corrected from the source",
        expected_version=event.version,
    )
    assert edited.dlt_awaiting_attestation is cleared
    assert (edited.dlt_attested_at is None) is cleared


def test_an_investigators_edit_attests_again_and_a_withdrawn_call_needs_none(
    coordinator_a, investigator_a, l1_subject
):
    event = report_dlt(coordinator_a, l1_subject)
    edited = adverse_event_update(
        by=investigator_a,
        adverse_event=event,
        changes={"grade": 4},
        reason="Grade from the nadir count",
        expected_version=event.version,
    )
    assert edited.dlt_attested_by == investigator_a and not edited.dlt_awaiting_attestation
    withdrawn = adverse_event_update(
        by=coordinator_a,
        adverse_event=edited,
        changes={"dlt_investigator": False},
        reason="Not a DLT per the protocol definition",
        expected_version=edited.version,
    )
    assert not withdrawn.dlt_awaiting_attestation and withdrawn.dlt_attested_at is None
    with pytest.raises(ValidationError) as excinfo:
        attest_dlt_call(by=investigator_a, adverse_event=withdrawn, expected_version=None)
    assert "no DLT call" in " ".join(excinfo.value.message_dict["dlt_investigator"])


def test_an_adjudicated_event_does_not_wait_for_the_attestation(
    coordinator_a, monitor, l1_subject, cohort1
):
    event = report_dlt(coordinator_a, l1_subject)
    adverse_event_adjudicate(
        by=monitor, adverse_event=event, is_dlt=True, note="DLT per protocol", expected_version=None
    )
    assert AdverseEvent.objects.get(pk=event.pk).dlt_awaiting_attestation  # still unattested
    decision = committee_confirm(
        by=monitor, recommendation=current(cohort1.track), password=PASSWORD
    )
    assert decision.outcome == "confirmed"
