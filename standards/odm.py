"""CDISC ODM 1.3.2 export of the clinical data, with its audit trail (docs/standards.md §10).

A Transactional file: the study's metadata (events, forms, item groups, items, codelists), the
administrative data (users, sites, signature meanings), every subject's records as the audit
history built them (one ItemGroupData per change: Insert, Update with the items that changed,
Remove for a void; each with an AuditRecord naming the user, the site, the UTC time and the
reason), and the committee's signed decisions as reference data with their Signature. Checked
against the ODM 1.3.2 schema (standards/schemas/odm-1.3.2) before it is stored.

The same declarations (FORMS) drive the import (standards/odm_import.py), so what is exported
can be read back.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from lxml import etree

from core.models import Signature
from dosing.models import DoseAdministration
from escalation.models import CommitteeDecision
from safety.models import AdverseEvent
from subjects.models import Subject

ODM_NS = "http://www.cdisc.org/ns/odm/v1.3"
NSMAP = {None: ODM_NS}
SCHEMA = Path(__file__).resolve().parent / "schemas" / "odm-1.3.2" / "ODM1-3-2.xsd"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
SPONSOR_LOCATION = "LOC.SPONSOR"
MDV_OID = "MDV.EDC.1"


def _odm(tag: str) -> str:
    return f"{{{ODM_NS}}}{tag}"


class OdmInvalid(Exception):
    """An ODM document the schema refuses; the message lists the first problems."""


@cache
def odm_schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(SCHEMA)))


def validate_odm(document: bytes) -> None:
    schema = odm_schema()
    tree = etree.fromstring(document)
    if not schema.validate(tree):
        problems = "; ".join(f"line {e.line}: {e.message}" for e in list(schema.error_log)[:5])
        raise OdmInvalid(f"Not valid ODM 1.3.2: {problems}")


# --- the declarations: which fields become which items --------------------------------------


@dataclass(frozen=True)
class Item:
    oid: str
    field: str  # the model's attribute (an *_id for references)
    label: str
    data_type: str  # ODM DataType: text, integer, float, date, datetime, boolean
    codelist: tuple[tuple[str, str], ...] = ()  # (coded value, decode) from the model's choices
    # How a reference is written: cohort / ctcae / subject / dose_level; "list" for a list of
    # coded values (a subject's races), written joined by LIST_SEPARATOR.
    reference: str = ""


LIST_SEPARATOR = "|"


def _choices(field) -> tuple[tuple[str, str], ...]:
    return tuple((str(value), str(label)) for value, label in field.choices)


def _items(model, prefix: str, specs) -> tuple[Item, ...]:
    items = []
    for name, data_type, *rest in specs:
        reference = rest[0] if rest else ""
        field = model._meta.get_field(name)
        attribute = field.attname
        choices = _choices(field) if field.choices and data_type == "text" else ()
        items.append(
            Item(
                oid=f"IT.{prefix}.{name.upper()}",
                field=attribute,
                label=str(field.verbose_name).capitalize(),
                data_type=data_type,
                codelist=choices,
                reference=reference,
            )
        )
    return tuple(items)


@dataclass(frozen=True)
class Form:
    event_oid: str
    event_name: str
    event_repeating: bool
    event_type: str
    form_oid: str
    form_name: str
    group_oid: str
    group_name: str
    model: type
    items: tuple[Item, ...]


SUBJECT_FORM = Form(
    "SE.SCREENING",
    "Screening to end of study",
    False,
    "Scheduled",
    "FO.SUBJECT",
    "Subject",
    "IG.SUBJECT",
    "Subject",
    Subject,
    _items(
        Subject,
        "SUBJECT",
        [
            ("screening_number", "text"),
            ("subject_number", "text"),
            ("sex", "text"),
            ("year_of_birth", "integer"),
            ("screening_date", "date"),
            ("consent_date", "date"),
            ("consent_version", "text"),
            ("eligibility_outcome", "text"),
            ("eligibility_assessed_on", "date"),
            ("screen_failure_reason", "text"),
            ("ethnicity", "text"),
            ("races", "text", "list"),
            ("race_other", "text"),
            ("enrollment_date", "date"),
            ("cohort", "integer", "cohort"),
            ("status", "text"),
            ("replaces", "text", "subject"),
            ("end_of_treatment_date", "date"),
            ("end_of_treatment_reason_code", "text"),
            ("end_of_treatment_reason", "text"),
            ("end_of_study_date", "date"),
            ("end_of_study_reason_code", "text"),
            ("end_of_study_reason", "text"),
            ("death_date", "date"),
        ],
    ),
)
DOSE_FORM = Form(
    "SE.DOSING",
    "Dosing visit",
    True,
    "Scheduled",
    "FO.DOSE",
    "Dose administration",
    "IG.DOSE",
    "Dose administration",
    DoseAdministration,
    _items(
        DoseAdministration,
        "DOSE",
        [
            ("cohort", "integer", "cohort"),
            ("cycle", "integer"),
            ("day", "integer"),
            ("planned_dose_level", "float", "dose_level"),
            ("planned_dose_per_kg", "float"),
            ("actual_dose_per_kg", "float"),
            ("dose_unit", "text"),
            ("body_weight_kg", "float"),
            ("total_dose_mg", "float"),
            ("administered_on", "date"),
            ("infusion_start", "datetime"),
            ("infusion_end", "datetime"),
            ("interrupted", "boolean"),
            ("interruption_details", "text"),
            ("dose_change_reason", "text"),
            ("outside_visit_window_confirmed", "boolean"),
            ("lot_number", "text"),
        ],
    ),
)
AE_FORM = Form(
    "SE.AE",
    "Adverse events",
    False,
    "Common",
    "FO.AE",
    "Adverse event",
    "IG.AE",
    "Adverse event",
    AdverseEvent,
    _items(
        AdverseEvent,
        "AE",
        [
            ("ctcae_term", "integer", "ctcae"),
            ("verbatim_term", "text"),
            ("grade", "integer"),
            ("onset_date", "date"),
            ("resolution_date", "date"),
            ("serious", "boolean"),
            ("serious_death", "boolean"),
            ("serious_life_threatening", "boolean"),
            ("serious_hospitalisation", "boolean"),
            ("serious_disability", "boolean"),
            ("serious_congenital_anomaly", "boolean"),
            ("serious_important_medical_event", "boolean"),
            ("relationship", "text"),
            ("action_taken", "text"),
            ("outcome", "text"),
            ("dlt_investigator", "boolean"),
            ("dlt_adjudicated", "boolean"),
            ("dlt_adjudicated_at", "datetime"),
            ("dlt_adjudication_note", "text"),
        ],
    ),
)
FORMS = (SUBJECT_FORM, DOSE_FORM, AE_FORM)
ELIGIBILITY_GROUP = "IG.ELIGIBILITY"
ELIGIBILITY_ITEMS = (
    Item("IT.ELIGIBILITY.CRITERION", "", "Criterion", "text"),
    Item("IT.ELIGIBILITY.MET", "", "Criterion met (inclusion) or applies (exclusion)", "boolean"),
)
COMMITTEE_GROUP = "IG.COMMITTEE"
COMMITTEE_ITEMS = tuple(
    Item(f"IT.COMMITTEE.{name.upper()}", name, label, data_type)
    for name, label, data_type in (
        ("track", "Escalation track", "text"),
        ("outcome", "Outcome", "text"),
        ("step", "Step", "text"),
        ("dose_level", "Dose level (amount)", "float"),
        ("n_subjects", "Subjects", "integer"),
        ("rationale", "Rationale", "text"),
        ("decided_at", "Decided at (UTC)", "datetime"),
        ("signature_valid", "Signature still valid", "boolean"),
    )
)


# --- values ------------------------------------------------------------------------------


def odm_value(value: Any) -> str | None:
    """A field value as ODM text (None: no value)."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return f"{value.normalize():f}"
    return str(value)


class References:
    """How references are written: by a key that means the same in another database."""

    def __init__(self, study):
        from safety.models import CtcaeTerm
        from trial.models import Cohort, DoseLevel

        self.cohorts = {c.pk: c.number for c in Cohort.objects.filter(study=study)}
        self.levels = {d.pk: d.amount for d in DoseLevel.objects.filter(study=study)}
        self.subjects = {s.pk: s.screening_number for s in Subject.all_objects.filter(study=study)}
        self.ctcae = dict(CtcaeTerm.objects.values_list("pk", "meddra_code"))

    def write(self, item: Item, value: Any) -> str | None:
        if value is None:
            return None
        if item.reference == "cohort":
            return str(self.cohorts[value])
        if item.reference == "dose_level":
            return odm_value(self.levels[value])
        if item.reference == "subject":
            return self.subjects[value]
        if item.reference == "ctcae":
            return str(self.ctcae[value])
        if item.reference == "list":
            return LIST_SEPARATOR.join(value) or None
        return odm_value(value)


# --- the export ------------------------------------------------------------------------------


def _text_element(parent, tag: str, text: str):
    element = etree.SubElement(parent, _odm(tag))
    translated = etree.SubElement(element, _odm("TranslatedText"))
    translated.set(XML_LANG, "en")
    translated.text = text
    return element


def _metadata(study_el, study) -> None:
    mdv = etree.SubElement(study_el, _odm("MetaDataVersion"), OID=MDV_OID)
    mdv.set("Name", f"{study.protocol_number} EDC forms")
    protocol = etree.SubElement(mdv, _odm("Protocol"))
    for order, form in enumerate(FORMS, start=1):
        etree.SubElement(
            protocol,
            _odm("StudyEventRef"),
            StudyEventOID=form.event_oid,
            OrderNumber=str(order),
            Mandatory="Yes" if form is SUBJECT_FORM else "No",
        )
    for form in FORMS:
        event = etree.SubElement(mdv, _odm("StudyEventDef"), OID=form.event_oid)
        event.set("Name", form.event_name)
        event.set("Repeating", "Yes" if form.event_repeating else "No")
        event.set("Type", form.event_type)
        etree.SubElement(event, _odm("FormRef"), FormOID=form.form_oid, Mandatory="Yes")
    for form in FORMS:
        form_def = etree.SubElement(mdv, _odm("FormDef"), OID=form.form_oid)
        form_def.set("Name", form.form_name)
        form_def.set("Repeating", "No")
        etree.SubElement(
            form_def, _odm("ItemGroupRef"), ItemGroupOID=form.group_oid, Mandatory="Yes"
        )
        if form is SUBJECT_FORM:
            etree.SubElement(
                form_def, _odm("ItemGroupRef"), ItemGroupOID=ELIGIBILITY_GROUP, Mandatory="No"
            )
    groups = [(f.group_oid, f.group_name, f is AE_FORM, f.items) for f in FORMS]
    groups += [
        (ELIGIBILITY_GROUP, "Eligibility criteria", True, ELIGIBILITY_ITEMS),
        (COMMITTEE_GROUP, "Safety Review Committee decision", True, COMMITTEE_ITEMS),
    ]
    for oid, name, repeating, items in groups:
        group = etree.SubElement(mdv, _odm("ItemGroupDef"), OID=oid, Name=name)
        group.set("Repeating", "Yes" if repeating else "No")
        for order, item in enumerate(items, start=1):
            etree.SubElement(
                group, _odm("ItemRef"), ItemOID=item.oid, Mandatory="No", OrderNumber=str(order)
            )
    all_items = [i for f in FORMS for i in f.items] + [*ELIGIBILITY_ITEMS, *COMMITTEE_ITEMS]
    for item in all_items:
        item_def = etree.SubElement(mdv, _odm("ItemDef"), OID=item.oid)
        item_def.set("Name", item.oid.removeprefix("IT."))
        item_def.set("DataType", item.data_type)
        _text_element(item_def, "Question", item.label)
        if item.codelist:
            etree.SubElement(item_def, _odm("CodeListRef"), CodeListOID=f"CL.{item.oid}")
    for item in all_items:
        if not item.codelist:
            continue
        codelist = etree.SubElement(mdv, _odm("CodeList"), OID=f"CL.{item.oid}")
        codelist.set("Name", item.label)
        codelist.set("DataType", "text")
        for value, decode in item.codelist:
            entry = etree.SubElement(codelist, _odm("CodeListItem"), CodedValue=value)
            _text_element(entry, "Decode", decode)


def _audit(parent, *, user_id, location: str, when: datetime, reason: str, source: str):
    audit = etree.SubElement(parent, _odm("AuditRecord"))
    etree.SubElement(audit, _odm("UserRef"), UserOID=f"USR.{user_id or 'SYSTEM'}")
    etree.SubElement(audit, _odm("LocationRef"), LocationOID=location)
    etree.SubElement(audit, _odm("DateTimeStamp")).text = odm_value(when)
    if reason:
        etree.SubElement(audit, _odm("ReasonForChange")).text = reason
    etree.SubElement(audit, _odm("SourceID")).text = source


@dataclass
class Version:
    """One state of a record: what a history row (or, for rows without history, the live row)
    says, with who, when and why."""

    values: dict[str, Any]
    voided: bool
    user_id: int | None
    when: datetime
    reason: str
    source: str


def _versions(model, rows: list, history_rows: dict[int, list]) -> dict[int, list[Version]]:
    fields = [f.attname for f in model._meta.concrete_fields]
    result: dict[int, list[Version]] = {}
    for row in rows:
        history = history_rows.get(row.pk)
        if history:
            result[row.pk] = [
                Version(
                    {name: getattr(h, name) for name in fields},
                    h.voided_at is not None,
                    h.history_user_id,
                    h.history_date,
                    h.history_change_reason or "",
                    f"{model._meta.label_lower}:{h.history_id}",
                )
                for h in history
            ]
        else:  # a row without audit history (bulk-loaded): its current state only
            result[row.pk] = [
                Version(
                    {name: getattr(row, name) for name in fields},
                    row.voided_at is not None,
                    row.created_by_id,
                    row.created_at,
                    "Initial entry",
                    f"{model._meta.label_lower}:{row.pk}",
                )
            ]
    return result


def _load(
    model, study, as_of: datetime | None, scope: str
) -> tuple[list, dict[int, list[Version]]]:
    rows = list(model.all_objects.filter(**{scope: study.pk}).order_by("pk"))
    history = model.history.filter(id__in=[r.pk for r in rows])
    if as_of is not None:
        history = history.filter(history_date__lte=as_of)
    by_record: dict[int, list] = defaultdict(list)
    for h in history.order_by("history_date", "history_id"):
        by_record[h.id].append(h)
    if as_of is not None:
        rows = [r for r in rows if by_record.get(r.pk)]
    return rows, _versions(model, rows, by_record)


def _group_data(
    parent,
    form: Form,
    key: str,
    version: Version,
    previous: Version | None,
    location: str,
    refs: References,
) -> None:
    group = etree.SubElement(parent, _odm("ItemGroupData"), ItemGroupOID=form.group_oid)
    group.set("ItemGroupRepeatKey", key)
    if version.voided and (previous is None or not previous.voided):
        group.set("TransactionType", "Remove")
    else:
        group.set("TransactionType", "Insert" if previous is None else "Update")
    _audit(
        group,
        user_id=version.user_id,
        location=location,
        when=version.when,
        reason=version.reason,
        source=version.source,
    )
    if group.get("TransactionType") == "Remove":
        return
    for item in form.items:
        value = refs.write(item, version.values[item.field])
        if previous is not None and value == refs.write(item, previous.values[item.field]):
            continue
        data = etree.SubElement(group, _odm("ItemData"), ItemOID=item.oid)
        if value is None:
            if previous is None:
                group.remove(data)
            else:
                data.set("IsNull", "Yes")
        else:
            data.set("Value", value)


def _eligibility(
    parent,
    criteria: list[tuple[str, str]],
    version: Version,
    previous: Version | None,
    location: str,
) -> None:
    answers = version.values["eligibility_answers"] or {}
    before = (previous.values["eligibility_answers"] or {}) if previous else {}
    for code, text in criteria:
        if text not in answers or answers.get(text) == before.get(text):
            continue
        group = etree.SubElement(parent, _odm("ItemGroupData"), ItemGroupOID=ELIGIBILITY_GROUP)
        group.set("ItemGroupRepeatKey", code)
        group.set("TransactionType", "Insert" if text not in before else "Update")
        _audit(
            group,
            user_id=version.user_id,
            location=location,
            when=version.when,
            reason=version.reason,
            source=version.source,
        )
        etree.SubElement(group, _odm("ItemData"), ItemOID=ELIGIBILITY_ITEMS[0].oid, Value=text)
        etree.SubElement(
            group,
            _odm("ItemData"),
            ItemOID=ELIGIBILITY_ITEMS[1].oid,
            Value=odm_value(bool(answers[text])),
        )


def eligibility_codes(study) -> list[tuple[str, str]]:
    from subjects.sdtm import criteria

    return [(code, text) for code, text, _ in criteria(study)]


def build_odm(
    study,
    *,
    created: datetime,
    as_of: datetime | None = None,
    file_oid: str,
    source_system: tuple[str, str],
    progress: Callable[[float], None] | None = None,
) -> bytes:
    """The study's clinical data as an ODM 1.3.2 Transactional document, checked against the
    ODM 1.3.2 schema. `as_of`: only what the audit history held at that time."""
    from trial.models import Site

    refs = References(study)
    sites = {s.pk: s for s in Site.objects.filter(study=study)}
    subjects, subject_versions = _load(Subject, study, as_of, "study_id")
    doses, dose_versions = _load(DoseAdministration, study, as_of, "subject__study_id")
    events, event_versions = _load(AdverseEvent, study, as_of, "subject__study_id")
    doses_by_subject: dict[int, list] = defaultdict(list)
    for dose in doses:
        doses_by_subject[dose.subject_id].append(dose)
    events_by_subject: dict[int, list] = defaultdict(list)
    for event in events:
        events_by_subject[event.subject_id].append(event)
    criteria = eligibility_codes(study)

    root = etree.Element(_odm("ODM"), nsmap=NSMAP)
    root.set("Description", f"{study.protocol_number}: clinical data with audit trail")
    root.set("FileType", "Transactional")
    root.set("Granularity", "All")
    root.set("FileOID", file_oid)
    root.set("CreationDateTime", odm_value(created))
    if as_of is not None:
        root.set("AsOfDateTime", odm_value(as_of))
    root.set("ODMVersion", "1.3.2")
    root.set("Originator", study.sponsor)
    root.set("SourceSystem", source_system[0])
    root.set("SourceSystemVersion", source_system[1])
    study_oid = f"ST.{study.protocol_number}"
    study_el = etree.SubElement(root, _odm("Study"), OID=study_oid)
    variables = etree.SubElement(study_el, _odm("GlobalVariables"))
    etree.SubElement(variables, _odm("StudyName")).text = study.protocol_number
    etree.SubElement(variables, _odm("StudyDescription")).text = study.title
    etree.SubElement(variables, _odm("ProtocolName")).text = study.protocol_number
    _metadata(study_el, study)

    decisions = list(
        CommitteeDecision.objects.filter(track__study=study)
        .select_related("track", "signature", "dose_level")
        .order_by("decided_at", "pk")
    )
    if as_of is not None:
        decisions = [d for d in decisions if d.decided_at <= as_of]

    user_ids: set[int] = set()
    for versions in (subject_versions, dose_versions, event_versions):
        for record in versions.values():
            user_ids |= {v.user_id for v in record if v.user_id}
    user_ids |= {d.signature.signer_id for d in decisions} | {d.decided_by_id for d in decisions}
    _admin(root, study_oid, sites.values(), user_ids, created)
    if decisions:
        _committee(root, study_oid, decisions, as_of)

    clinical = etree.SubElement(
        root, _odm("ClinicalData"), StudyOID=study_oid, MetaDataVersionOID=MDV_OID
    )
    for index, subject in enumerate(subjects, start=1):
        if progress and index % 25 == 0:
            progress(index / max(len(subjects), 1))
        _subject_data(
            clinical,
            subject,
            location=f"LOC.{sites[subject.site_id].number}",
            versions=subject_versions[subject.pk],
            doses=[(dose, dose_versions[dose.pk]) for dose in doses_by_subject[subject.pk]],
            events=[(event, event_versions[event.pk]) for event in events_by_subject[subject.pk]],
            criteria=criteria,
            refs=refs,
        )
    document = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    validate_odm(document)
    return document


def _subject_data(
    clinical, subject, *, location: str, versions, doses, events, criteria, refs
) -> None:
    """One subject's SubjectData: every version of the subject form (eligibility with it), of
    each dose and of each adverse event, oldest first."""
    subject_el = etree.SubElement(clinical, _odm("SubjectData"))
    subject_el.set("SubjectKey", subject.screening_number)
    subject_el.set("TransactionType", "Upsert")
    etree.SubElement(subject_el, _odm("SiteRef"), LocationOID=location)
    event = etree.SubElement(
        subject_el,
        _odm("StudyEventData"),
        StudyEventOID=SUBJECT_FORM.event_oid,
        TransactionType="Upsert",
    )
    form = etree.SubElement(
        event, _odm("FormData"), FormOID=SUBJECT_FORM.form_oid, TransactionType="Upsert"
    )
    previous = None
    for version in versions:
        _group_data(form, SUBJECT_FORM, "1", version, previous, location, refs)
        _eligibility(form, criteria, version, previous, location)
        previous = version
    for ordinal, (_, dose_versions) in enumerate(doses, start=1):
        event = etree.SubElement(
            subject_el,
            _odm("StudyEventData"),
            StudyEventOID=DOSE_FORM.event_oid,
            StudyEventRepeatKey=str(ordinal),
            TransactionType="Upsert",
        )
        form = etree.SubElement(
            event, _odm("FormData"), FormOID=DOSE_FORM.form_oid, TransactionType="Upsert"
        )
        previous = None
        for version in dose_versions:
            _group_data(form, DOSE_FORM, "1", version, previous, location, refs)
            previous = version
    if events:
        event = etree.SubElement(
            subject_el,
            _odm("StudyEventData"),
            StudyEventOID=AE_FORM.event_oid,
            TransactionType="Upsert",
        )
        form = etree.SubElement(
            event, _odm("FormData"), FormOID=AE_FORM.form_oid, TransactionType="Upsert"
        )
        for ordinal, (_, event_versions) in enumerate(events, start=1):
            previous = None
            for version in event_versions:
                _group_data(form, AE_FORM, str(ordinal), version, previous, location, refs)
                previous = version


def _admin(root, study_oid: str, sites, user_ids: set[int], created: datetime) -> None:
    admin = etree.SubElement(root, _odm("AdminData"), StudyOID=study_oid)
    users = get_user_model().objects.filter(pk__in=user_ids).order_by("pk")
    for user in users:
        user_el = etree.SubElement(admin, _odm("User"), OID=f"USR.{user.pk}")
        etree.SubElement(user_el, _odm("LoginName")).text = user.get_username()
        etree.SubElement(user_el, _odm("DisplayName")).text = str(user)
        if user.first_name:
            etree.SubElement(user_el, _odm("FirstName")).text = user.first_name
        if user.last_name:
            etree.SubElement(user_el, _odm("LastName")).text = user.last_name
    system = etree.SubElement(admin, _odm("User"), OID="USR.SYSTEM")
    etree.SubElement(system, _odm("DisplayName")).text = "The EDC itself"
    locations = [(f"LOC.{s.number}", f"{s.number} {s.name}", "Site") for s in sites]
    locations.append((SPONSOR_LOCATION, "Sponsor (study-wide roles)", "Sponsor"))
    for oid, name, kind in locations:
        location = etree.SubElement(admin, _odm("Location"), OID=oid, Name=name, LocationType=kind)
        etree.SubElement(
            location,
            _odm("MetaDataVersionRef"),
            StudyOID=study_oid,
            MetaDataVersionOID=MDV_OID,
            EffectiveDate=created.date().isoformat(),
        )
    for value, label in Signature.Meaning.choices:
        definition = etree.SubElement(
            admin, _odm("SignatureDef"), OID=f"SD.{value.upper()}", Methodology="Electronic"
        )
        etree.SubElement(definition, _odm("Meaning")).text = str(label)
        etree.SubElement(definition, _odm("LegalReason")).text = (
            "Electronic signature under 21 CFR 11.50: printed name, date-time and meaning, "
            "linked to the signed record's version; signing asks for the password again."
        )


def _committee(root, study_oid: str, decisions, as_of: datetime | None) -> None:
    reference = etree.SubElement(
        root, _odm("ReferenceData"), StudyOID=study_oid, MetaDataVersionOID=MDV_OID
    )
    for decision in decisions:
        signature = decision.signature
        group = etree.SubElement(
            reference,
            _odm("ItemGroupData"),
            ItemGroupOID=COMMITTEE_GROUP,
            ItemGroupRepeatKey=str(decision.pk),
            TransactionType="Insert",
        )
        _audit(
            group,
            user_id=decision.decided_by_id,
            location=SPONSOR_LOCATION,
            when=decision.decided_at,
            reason=decision.rationale or "Confirmed",
            source=f"escalation.committeedecision:{decision.pk}",
        )
        signed = etree.SubElement(group, _odm("Signature"), ID=f"SIG.{signature.pk}")
        etree.SubElement(signed, _odm("UserRef"), UserOID=f"USR.{signature.signer_id}")
        etree.SubElement(signed, _odm("LocationRef"), LocationOID=SPONSOR_LOCATION)
        etree.SubElement(
            signed, _odm("SignatureRef"), SignatureOID=f"SD.{signature.meaning.upper()}"
        )
        etree.SubElement(signed, _odm("DateTimeStamp")).text = odm_value(signature.signed_at)
        invalidated = signature.invalidated_at is not None and (
            as_of is None or signature.invalidated_at <= as_of
        )
        values = {
            "track": decision.track.code,
            "outcome": decision.outcome,
            "step": decision.step,
            "dose_level": decision.dose_level.amount if decision.dose_level else None,
            "n_subjects": decision.n_subjects,
            "rationale": decision.rationale,
            "decided_at": decision.decided_at,
            "signature_valid": not invalidated,
        }
        for item in COMMITTEE_ITEMS:
            value = odm_value(values[item.field])
            if value is not None:
                etree.SubElement(group, _odm("ItemData"), ItemOID=item.oid, Value=value)


# --- reading an ODM file back into values (for the import and the round-trip check) ---------


def clinical_state(document: bytes) -> dict[tuple, dict[str, str]]:
    """The final value of every item of every record an ODM file holds, transactions applied in
    order: {(SubjectKey, StudyEventOID, StudyEventRepeatKey, ItemGroupOID, ItemGroupRepeatKey):
    {ItemOID: value}}; removed records are left out."""
    tree = etree.fromstring(document)
    state: dict[tuple, dict[str, str]] = {}
    for subject in tree.iter(_odm("SubjectData")):
        for event in subject.iter(_odm("StudyEventData")):
            for group in event.iter(_odm("ItemGroupData")):
                key = (
                    subject.get("SubjectKey"),
                    event.get("StudyEventOID"),
                    event.get("StudyEventRepeatKey") or "",
                    group.get("ItemGroupOID"),
                    group.get("ItemGroupRepeatKey") or "",
                )
                if group.get("TransactionType") == "Remove":
                    state.pop(key, None)
                    continue
                values = state.setdefault(key, {})
                for data in group.iter(_odm("ItemData")):
                    if data.get("IsNull") == "Yes":
                        values.pop(data.get("ItemOID"), None)
                    else:
                        values[data.get("ItemOID")] = data.get("Value")
    return state
