"""ODM 1.3.2: the export validates against CDISC's schema, carries the audit trail (user,
location, UTC time, reason) and the committee's signatures, and a round trip through another
(fresh) database gives the same subjects, forms and values (docs/standards.md §10)."""

from datetime import UTC, datetime

import pytest
from django.db import transaction
from lxml import etree

from accounts.models import User
from safety.models import AdverseEvent
from standards.odm import (
    AE_FORM,
    SUBJECT_FORM,
    OdmInvalid,
    build_odm,
    clinical_state,
    odm_schema,
    validate_odm,
)
from standards.odm_import import OdmImportError, import_odm
from subjects.models import Subject
from subjects.services import subject_void
from tests.conftest import PASSWORD
from tests.factories import screened_subject

NS = {"odm": "http://www.cdisc.org/ns/odm/v1.3"}


def export(study, **kwargs):
    return build_odm(
        study,
        created=datetime.now(UTC),
        file_oid="TEST.odm",
        source_system=("Phase 1 EDC", "test"),
        **kwargs,
    )


class Rollback(Exception):
    pass


def test_the_export_is_valid_odm_1_3_2(trial_data, study):
    document = export(study)
    root = etree.fromstring(document)
    assert odm_schema().validate(root), odm_schema().error_log
    assert root.get("ODMVersion") == "1.3.2" and root.get("FileType") == "Transactional"
    mdv = root.find(".//odm:MetaDataVersion", NS)
    assert {e.get("OID") for e in mdv.findall("odm:StudyEventDef", NS)} == {
        "SE.SCREENING",
        "SE.DOSING",
        "SE.AE",
    }
    assert {f.get("OID") for f in mdv.findall("odm:FormDef", NS)} == {
        "FO.SUBJECT",
        "FO.DOSE",
        "FO.AE",
    }
    sex = mdv.find("odm:CodeList[@OID='CL.IT.SUBJECT.SEX']", NS)
    assert {i.get("CodedValue") for i in sex.findall("odm:CodeListItem", NS)} == {"F", "M", "U"}


def test_a_document_the_schema_refuses_is_refused(trial_data, study):
    document = export(study).replace(b'FileType="Transactional"', b'FileType="Daily"')
    with pytest.raises(OdmInvalid, match="Not valid ODM 1.3.2"):
        validate_odm(document)


def test_every_change_carries_its_audit_record(trial_data, study, investigator_a, monitor):
    root = etree.fromstring(export(study))
    dlt = trial_data["dlt"]
    s1 = root.find(".//odm:SubjectData[@SubjectKey='S-001']", NS)
    assert s1.find("odm:SiteRef", NS).get("LocationOID") == "LOC.101"
    groups = s1.findall(".//odm:ItemGroupData[@ItemGroupOID='IG.AE']", NS)
    dlt_changes = [g for g in groups if g.get("ItemGroupRepeatKey") == "2"]
    assert [g.get("TransactionType") for g in dlt_changes] == ["Insert", "Update", "Update"]
    insert, correction, adjudication = dlt_changes
    audit = correction.find("odm:AuditRecord", NS)
    assert audit.find("odm:ReasonForChange", NS).text == "Resolution reported at the cycle 2 visit"
    assert audit.find("odm:LocationRef", NS).get("LocationOID") == "LOC.101"
    assert audit.find("odm:DateTimeStamp", NS).text.endswith("+00:00")
    changed = {d.get("ItemOID") for d in correction.findall("odm:ItemData", NS)}
    assert changed == {"IT.AE.RESOLUTION_DATE", "IT.AE.OUTCOME"}  # only what changed
    assert adjudication.find("odm:AuditRecord/odm:UserRef", NS).get("UserOID") == (
        f"USR.{monitor.pk}"
    )
    values = {d.get("ItemOID"): d.get("Value") for d in insert.findall("odm:ItemData", NS)}
    assert values["IT.AE.CTCAE_TERM"] == "10016256"
    assert values["IT.AE.VERBATIM_TERM"] == dlt.verbatim_term  # ODM has no 200-character limit
    admin = root.find("odm:AdminData", NS)
    users = {
        u.get("OID"): u.findtext("odm:LoginName", namespaces=NS)
        for u in admin.findall("odm:User", NS)
    }
    assert users[f"USR.{investigator_a.pk}"] == investigator_a.username
    assert {loc.get("OID") for loc in admin.findall("odm:Location", NS)} >= {
        "LOC.101",
        "LOC.102",
        "LOC.SPONSOR",
    }


def test_a_void_is_a_remove_with_its_reason(trial_data, study, coordinator_a, site_a):
    extra = screened_subject(coordinator_a, site_a, "S-009", days_ago=2, eligible=False)
    subject_void(
        by=coordinator_a, subject=extra, reason="Registered twice", expected_version=extra.version
    )
    root = etree.fromstring(export(study))
    groups = root.findall(".//odm:SubjectData[@SubjectKey='S-009']//odm:ItemGroupData", NS)
    assert groups[-1].get("TransactionType") == "Remove"
    assert groups[-1].findtext("odm:AuditRecord/odm:ReasonForChange", namespaces=NS) == (
        "Voided: Registered twice"
    )
    assert not any(k[0] == "S-009" for k in clinical_state(etree.tostring(root)))


def test_signed_committee_decisions_are_exported_with_their_signature(
    trial_data, study, monitor, cohort1
):
    from escalation.committee import committee_confirm
    from escalation.models import Recommendation
    from escalation.services import evaluate_track

    evaluate_track(cohort1.track_id)  # what the after-commit task does
    recommendation = Recommendation.objects.get(
        track=cohort1.track, status=Recommendation.Status.PENDING
    )
    decision = committee_confirm(by=monitor, recommendation=recommendation, password=PASSWORD)
    root = etree.fromstring(export(study))
    assert odm_schema().validate(root), odm_schema().error_log
    group = root.find(
        f".//odm:ReferenceData/odm:ItemGroupData[@ItemGroupRepeatKey='{decision.pk}']", NS
    )
    signature = group.find("odm:Signature", NS)
    assert signature.find("odm:UserRef", NS).get("UserOID") == f"USR.{monitor.pk}"
    assert signature.find("odm:SignatureRef", NS).get("SignatureOID") == "SD.APPROVED"
    values = {d.get("ItemOID"): d.get("Value") for d in group.findall("odm:ItemData", NS)}
    assert values["IT.COMMITTEE.OUTCOME"] == "confirmed"
    assert values["IT.COMMITTEE.SIGNATURE_VALID"] == "true"
    meaning = root.find(".//odm:AdminData/odm:SignatureDef[@OID='SD.APPROVED']", NS)
    assert meaning.findtext("odm:Meaning", namespaces=NS) == "Approved"


def test_round_trip_into_a_fresh_database_gives_the_same_subjects_forms_and_values(
    study, site_a, site_b, cohort1, cohort2, ctcae, request
):
    """The data are entered and exported inside a transaction that is then rolled back, which
    leaves the database as fresh as another one with the same configuration; the file is then
    imported, and exported again."""
    try:
        with transaction.atomic():
            data = request.getfixturevalue("trial_data")
            trial_data_user_ids = {"investigator": data["dlt"].created_by_id}
            first = export(study)
            subjects_before = sorted(Subject.all_objects.values_list("screening_number", "status"))
            raise Rollback
    except Rollback:
        pass
    assert not Subject.all_objects.exists()
    importer = User.objects.create(username="odm-importer")
    result = import_odm(first, study=study, by=importer)
    assert result.created == {"subjects": 6, "dose administrations": 4, "adverse events": 2}
    second = export(study)
    before, after = clinical_state(first), clinical_state(second)
    assert before and after == before
    subjects = {k[0] for k in before}
    assert subjects == {"S-001", "S-002", "S-003", "S-004", "S-005", "S-006"}
    forms = {(k[1], k[3]) for k in before}
    assert forms == {
        ("SE.SCREENING", "IG.SUBJECT"),
        ("SE.SCREENING", "IG.ELIGIBILITY"),
        ("SE.DOSING", "IG.DOSE"),
        ("SE.AE", "IG.AE"),
    }
    assert sorted(Subject.all_objects.values_list("screening_number", "status")) == subjects_before
    # The imported records have an audit trail of their own that names the source.
    subject = Subject.objects.get(screening_number="S-001")
    reasons = [h.history_change_reason for h in subject.history.order_by("history_id")]
    assert all(r.startswith("ODM import TEST.odm (subjects.subject:") for r in reasons)
    event = AdverseEvent.objects.get(subject=subject, ctcae_term__term="Fatigue")
    reasons = [h.history_change_reason for h in event.history.order_by("history_id")]
    assert len(reasons) == 3 and reasons[1].endswith(": Resolution reported at the cycle 2 visit")
    assert f"USR.{trial_data_user_ids['investigator']}" in reasons[0]


def test_import_refuses_another_study_or_subjects_already_there(trial_data, study):
    document = export(study)
    importer = User.objects.create(username="odm-importer")
    with pytest.raises(OdmImportError, match="Subjects already in this study: S-001"):
        import_odm(document, study=study, by=importer)
    other = document.replace(b'StudyOID="ST.MIL97-001"', b'StudyOID="ST.OTHER"')
    with pytest.raises(OdmImportError, match="belong to ST.OTHER"):
        import_odm(other, study=study, by=importer)


def test_subject_and_ae_forms_name_every_model_field_they_carry():
    from safety.models import AdverseEvent

    for form, model in ((SUBJECT_FORM, Subject), (AE_FORM, AdverseEvent)):
        attnames = {f.attname for f in model._meta.concrete_fields}
        assert {i.field for i in form.items} <= attnames
