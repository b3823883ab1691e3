"""Source data verification, the investigator's casebook signature, freezing and locking
(docs/quality.md §3-5)."""

from datetime import timedelta
from decimal import Decimal

import pytest

from accounts.scoping import restrict
from core.errors import PermissionDenied, RecordLocked, ValidationError
from core.models import Signature
from dosing.services import dose_update, dose_void
from quality import services
from quality.models import Query, Verification
from subjects.models import Subject
from subjects.services import subject_update
from tests.conftest import PASSWORD
from tests.factories import reported_ae, screened_subject

pytestmark = pytest.mark.django_db


# --- SDV --------------------------------------------------------------------------------------


def test_cra_scope_study_wide_or_per_site(cra, cra_b, subject, site_b, coordinator_b, cohort1):
    other = screened_subject(coordinator_b, site_b, "S102-001")
    assert set(restrict(Subject.objects.all(), cra)) == {subject, other}
    assert set(restrict(Subject.objects.all(), cra_b)) == {other}
    with pytest.raises(PermissionDenied):
        services.sdv_verify(by=cra_b, subject=subject, form="subject", record_id=subject.pk)
    verification = services.sdv_verify(by=cra_b, subject=other, form="subject", record_id=other.pk)
    assert verification.verified_by == cra_b


def test_only_a_cra_verifies(monitor, coordinator_a, subject):
    for user in (monitor, coordinator_a):
        with pytest.raises(PermissionDenied):
            services.sdv_verify(by=user, subject=subject, form="subject", record_id=subject.pk)


def test_a_change_after_verification_clears_it_and_says_so(cra, coordinator_a, subject, dose):
    form = services.sdv_verify(by=cra, subject=subject, form="dose", record_id=dose.pk)
    weight = services.sdv_verify(
        by=cra, subject=subject, form="dose", record_id=dose.pk, field="body_weight_kg"
    )
    lot = services.sdv_verify(
        by=cra, subject=subject, form="dose", record_id=dose.pk, field="lot_number"
    )
    with pytest.raises(ValidationError) as error:
        services.sdv_verify(by=cra, subject=subject, form="dose", record_id=dose.pk)
    assert error.value.message_dict == {"form": ["This is already verified."]}
    dose_update(
        by=coordinator_a,
        dose=dose,
        changes={"body_weight_kg": Decimal("71")},
        reason="Scale recalibrated",
        expected_version=dose.version,
    )
    form.refresh_from_db()
    weight.refresh_from_db()
    lot.refresh_from_db()
    assert form.cleared_at is not None and weight.cleared_at is not None
    assert weight.cleared_reason == (
        "Changed after verification: field body_weight_kg is now at version 2 (Scale "
        "recalibrated); verify it again."
    )
    assert form.cleared_reason.startswith(
        "Changed after verification: the form is now at version 2"
    )
    # The lot number did not change: its verification stands.
    assert lot.cleared_at is None
    assert weight.history.first().history_user == coordinator_a
    # Verified again: a new verification, the cleared one kept.
    services.sdv_verify(
        by=cra, subject=subject, form="dose", record_id=dose.pk, field="body_weight_kg"
    )
    assert (
        Verification.objects.filter(form="dose", record_id=dose.pk, field="body_weight_kg").count()
        == 2
    )


def test_a_voided_record_is_not_verified(cra, coordinator_a, subject, dose):
    dose_void(by=coordinator_a, dose=dose, reason="Entered twice", expected_version=dose.version)
    with pytest.raises(ValidationError) as error:
        services.sdv_verify(by=cra, subject=subject, form="dose", record_id=dose.pk)
    assert error.value.message_dict == {"record_id": ["A voided record is not verified."]}


# --- The casebook signature -------------------------------------------------------------------


def test_investigator_signs_with_password_bound_to_the_casebook(investigator_a, subject, dose):
    with pytest.raises(ValidationError) as error:
        services.casebook_sign(by=investigator_a, subject=subject, password="wrong")
    assert error.value.message_dict == {
        "password": ["The password is not correct; nothing was signed."]
    }
    signed = services.casebook_sign(by=investigator_a, subject=subject, password=PASSWORD)
    signature = signed.signature
    assert signature.printed_name == "Investigator_A Tester"
    assert signature.meaning == "approved" and signature.record == subject
    assert signature.record_digest == services.casebook_digest(subject)
    assert signed.statement == services.CASEBOOK_STATEMENT
    with pytest.raises(ValidationError) as error:
        services.casebook_sign(by=investigator_a, subject=subject, password=PASSWORD)
    assert "already signed this casebook" in error.value.message_dict["__all__"][0]


def test_first_signing_in_a_session_asks_for_the_user_name(investigator_a, subject):
    with pytest.raises(ValidationError) as error:
        services.casebook_sign(
            by=investigator_a,
            subject=subject,
            password=PASSWORD,
            username="someone",
            first_in_session=True,
        )
    assert "user name" in error.value.message_dict["username"][0]
    services.casebook_sign(
        by=investigator_a,
        subject=subject,
        password=PASSWORD,
        username="investigator_a",
        first_in_session=True,
    )


def test_only_the_sites_investigator_signs(coordinator_a, monitor, subject):
    for user in (coordinator_a, monitor):
        with pytest.raises(PermissionDenied):
            services.casebook_sign(by=user, subject=subject, password=PASSWORD)


@pytest.mark.parametrize("change", ["dose", "adverse_event", "subject"])
def test_a_later_change_invalidates_the_signature(
    change, investigator_a, coordinator_a, subject, dose, ctcae
):
    signed = services.casebook_sign(by=investigator_a, subject=subject, password=PASSWORD)
    assert services.current_casebook_signature(subject) == signed
    if change == "dose":
        dose_update(
            by=coordinator_a,
            dose=dose,
            changes={"lot_number": "LOT-2"},
            reason="Lot corrected",
            expected_version=dose.version,
        )
    elif change == "adverse_event":
        reported_ae(
            coordinator_a,
            subject,
            "Fatigue",
            verbatim_term="tired",
            grade=1,
            onset_date=dose.administered_on + timedelta(days=1),
            relationship="unlikely",
            action_taken="none",
            outcome="not_recovered",
        )
    else:
        subject_update(
            by=coordinator_a,
            subject=subject,
            changes={"sex": "M"},
            reason="Sex corrected",
            expected_version=subject.version,
        )
    signature = Signature.objects.get(pk=signed.signature_id)
    assert signature.invalidated_at is not None and signature.invalidation_reason
    assert services.current_casebook_signature(subject) is None


# --- Freeze and lock --------------------------------------------------------------------------


def test_a_frozen_form_refuses_edits_until_unfrozen_with_a_reason(
    data_manager, coordinator_a, subject, dose
):
    freeze = services.form_freeze(by=data_manager, subject=subject, form="dose", record_id=dose.pk)
    with pytest.raises(RecordLocked) as error:
        dose_update(
            by=coordinator_a,
            dose=dose,
            changes={"lot_number": "LOT-2"},
            reason="Lot corrected",
            expected_version=dose.version,
        )
    assert "frozen" in error.value.message_dict["__all__"][0]
    dose.refresh_from_db()
    assert dose.lot_number == "LOT-1" and dose.version == 1
    with pytest.raises(ValidationError) as error:
        services.form_unfreeze(by=data_manager, freeze=freeze, reason=" ")
    assert "reason" in error.value.message_dict
    services.form_unfreeze(by=data_manager, freeze=freeze, reason="Query 12 needs a correction")
    dose_update(
        by=coordinator_a,
        dose=dose,
        changes={"lot_number": "LOT-2"},
        reason="Lot corrected",
        expected_version=dose.version,
    )


def test_a_locked_subject_refuses_every_write(data_manager, coordinator_a, monitor, subject, dose):
    lock = services.subject_lock(by=data_manager, subject=subject, reason="Clean")
    with pytest.raises(RecordLocked):
        dose_void(by=coordinator_a, dose=dose, reason="x", expected_version=dose.version)
    with pytest.raises(RecordLocked):
        subject_update(
            by=coordinator_a,
            subject=subject,
            changes={"sex": "M"},
            reason="x",
            expected_version=subject.version,
        )
    with pytest.raises(RecordLocked):
        services.query_open(
            by=monitor, subject=subject, form="subject", record_id=subject.pk, text="x"
        )
    services.subject_unlock(by=data_manager, lock=lock, reason="Late lab result")
    subject_update(
        by=coordinator_a,
        subject=subject,
        changes={"sex": "M"},
        reason="Sex corrected",
        expected_version=subject.version,
    )


def test_locking_a_subject_is_refused_while_queries_are_unresolved(data_manager, monitor, subject):
    services.query_open(by=monitor, subject=subject, form="subject", record_id=subject.pk, text="x")
    with pytest.raises(ValidationError) as error:
        services.subject_lock(by=data_manager, subject=subject)
    assert error.value.message_dict == {
        "__all__": ["101-001 has 1 unresolved query: close them before locking the subject."]
    }
    services.query_close(by=monitor, query=Query.objects.get())
    services.subject_lock(by=data_manager, subject=subject)


def test_study_lock_is_read_only_for_everyone_and_unlocks_with_two_people(
    data_manager, data_manager_2, study_admin, coordinator_a, site_a, subject, study
):
    lock = services.study_lock(by=data_manager, study=study, reason="Database lock for analysis")
    with pytest.raises(RecordLocked) as error:
        screened_subject(coordinator_a, site_a, "S101-009")
    assert "study database is locked" in error.value.message_dict["__all__"][0]
    with pytest.raises(ValidationError) as error:
        services.study_unlock(by=data_manager, lock=lock, reason="Late data")
    assert "two people" in error.value.message_dict["__all__"][0]
    lock = services.study_unlock_request(by=data_manager, lock=lock, reason="Late SAE follow-up")
    with pytest.raises(ValidationError):
        services.study_unlock(by=data_manager, lock=lock, reason="Late data")
    lock = services.study_unlock(
        by=data_manager_2, lock=lock, reason="Confirmed: late SAE follow-up"
    )
    assert lock.unlocked_by == data_manager_2
    screened_subject(coordinator_a, site_a, "S101-009")
    # An administrator alone, with a reason.
    lock = services.study_lock(by=data_manager, study=study, reason="Second lock")
    services.study_unlock(by=study_admin, lock=lock, reason="Lock taken in error")
    with pytest.raises(PermissionDenied):
        services.study_lock(by=coordinator_a, study=study, reason="x")


def test_every_form_of_the_casebook_is_signed_and_locked(
    investigator_a, coordinator_a, data_manager, subject, site_a
):
    """A form of another app (a visit) is part of the casebook: recording one invalidates the
    signature, and a locked subject refuses it."""
    from core.dates import site_today
    from visits.services import visit_record

    signed = services.casebook_sign(by=investigator_a, subject=subject, password=PASSWORD)
    visit_record(
        by=coordinator_a,
        subject=subject,
        code="SCR",
        visit_date=site_today(site_a.timezone) - timedelta(days=20),
    )
    assert Signature.objects.get(pk=signed.signature_id).invalidated_at is not None
    assert "visits.visit" in {m._meta.label_lower for m in services.casebook_models()}
    services.subject_lock(by=data_manager, subject=subject)
    with pytest.raises(RecordLocked):
        visit_record(
            by=coordinator_a,
            subject=subject,
            code="C1D1",
            visit_date=site_today(site_a.timezone) - timedelta(days=18),
        )
