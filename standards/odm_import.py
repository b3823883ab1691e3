"""Import the clinical data of an ODM 1.3.2 file made by `standards.odm.build_odm` (another
database of this product, or another EDC writing the same forms): subjects, doses and adverse
events with their history replayed in order (docs/standards.md §10.3).

Each transaction goes through the audited write path (`core.records`: create, update with the
original reason, void), so the imported database has an audit trail of its own that cites the
source file and the source audit record (user, time, reason). The business services are not
called: they judge an entry against today's state of the study (an open cohort, today's date),
and a historical record was already judged when it was entered; the model validation and the
database constraints still apply. Everything is imported or nothing (one transaction). The
study's configuration (sites, cohorts, dose levels) and the CTCAE dictionary must already be
in the target database; references to them are matched by site number, cohort number, dose
amount and MedDRA code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from django.db import transaction
from lxml import etree

from core.errors import ValidationError
from core.records import create_record, update_record, void_record
from safety.models import CtcaeTerm
from subjects.models import Subject
from trial.models import Cohort, DoseLevel, Site

from .odm import (
    AE_FORM,
    DOSE_FORM,
    ELIGIBILITY_GROUP,
    ELIGIBILITY_ITEMS,
    LIST_SEPARATOR,
    SUBJECT_FORM,
    Form,
    Item,
    _odm,
    validate_odm,
)

FORMS_BY_GROUP = {f.group_oid: f for f in (SUBJECT_FORM, DOSE_FORM, AE_FORM)}


class OdmImportError(Exception):
    pass


@dataclass
class ImportResult:
    created: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)
    voided: dict[str, int] = field(default_factory=dict)

    def count(self, kind: str, model) -> None:
        counts = getattr(self, kind)
        name = model._meta.verbose_name_plural
        counts[name] = counts.get(name, 0) + 1


def _parse(item: Item, text: str | None, lookup, *, nullable: bool) -> object:
    if item.reference == "list":
        return text.split(LIST_SEPARATOR) if text else []
    if text is None:
        return None if nullable or item.data_type != "text" or item.reference else ""
    if item.reference:
        return lookup(item, text)
    if item.data_type == "integer":
        return int(text)
    if item.data_type == "float":
        return Decimal(text)
    if item.data_type == "boolean":
        return text == "true"
    if item.data_type == "date":
        return date.fromisoformat(text)
    if item.data_type == "datetime":
        return datetime.fromisoformat(text)
    return text


class _Importer:
    def __init__(self, study, by, file_oid: str):
        self.study = study
        self.by = by
        self.file_oid = file_oid
        self.result = ImportResult()
        self.sites = {s.number: s for s in Site.objects.filter(study=study)}
        self.cohorts = {c.number: c for c in Cohort.objects.filter(study=study)}
        self.subjects: dict[str, Subject] = {}
        self.records: dict[tuple, object] = {}

    def lookup(self, item: Item, text: str):
        try:
            if item.reference == "cohort":
                return self.cohorts[int(text)].pk
            if item.reference == "dose_level":
                return DoseLevel.objects.filter(study=self.study, amount=Decimal(text))[0].pk
            if item.reference == "ctcae":
                return CtcaeTerm.objects.get(meddra_code=int(text)).pk
            if item.reference == "subject":
                return self.subjects[text].pk
        except (KeyError, IndexError, CtcaeTerm.DoesNotExist):
            raise OdmImportError(
                f"{item.oid} = {text}: no such {item.reference.replace('_', ' ')} in this "
                "study's configuration; load the same protocol file and dictionary first."
            ) from None
        raise OdmImportError(f"{item.oid}: unknown reference {item.reference}")

    def reason(self, group, default: str) -> str:
        audit = group.find(_odm("AuditRecord"))
        if audit is None:
            return f"ODM import {self.file_oid}: {default}"
        user = audit.find(f"{_odm('UserRef')}").get("UserOID")
        when = audit.findtext(_odm("DateTimeStamp"))
        why = audit.findtext(_odm("ReasonForChange")) or default
        source = audit.findtext(_odm("SourceID")) or ""
        return f"ODM import {self.file_oid} ({source}, {user} at {when}): {why}"

    def values(self, form: Form, group) -> dict:
        by_oid = {i.oid: i for i in form.items}
        values = {}
        for data in group.iter(_odm("ItemData")):
            item = by_oid.get(data.get("ItemOID"))
            if item is None:
                raise OdmImportError(f"{form.group_oid}: unknown item {data.get('ItemOID')}")
            text = None if data.get("IsNull") == "Yes" else data.get("Value")
            nullable = form.model._meta.get_field(item.field).null
            values[item.field] = _parse(item, text, self.lookup, nullable=nullable)
        return values

    def apply(self, form: Form, key: tuple, group, parent: dict, eligibility: dict | None):
        kind = group.get("TransactionType") or "Insert"
        values = self.values(form, group)
        if eligibility is not None:
            values["eligibility_answers"] = eligibility
        record = self.records.get(key)
        try:
            if kind == "Insert":
                if record is not None:
                    raise OdmImportError(f"{key}: inserted twice")
                record = form.model(**parent, **values)
                create_record(record, by=self.by, reason=self.reason(group, "Initial entry"))
                self.result.count("created", form.model)
            elif kind in ("Update", "Upsert"):
                if record is None:
                    raise OdmImportError(f"{key}: updated before it was inserted")
                record = update_record(
                    record,
                    by=self.by,
                    changes=values,
                    reason=self.reason(group, "Change"),
                    expected_version=None,
                )
                self.result.count("updated", form.model)
            elif kind == "Remove":
                if record is None:
                    raise OdmImportError(f"{key}: removed before it was inserted")
                record = void_record(record, by=self.by, reason=self.reason(group, "Voided"))
                self.result.count("voided", form.model)
            else:
                raise OdmImportError(f"{key}: TransactionType {kind} is not imported")
        except ValidationError as error:
            raise OdmImportError(f"{key}: {error.messages}") from error
        self.records[key] = record
        return record

    def subject(self, subject_el) -> None:
        key = subject_el.get("SubjectKey")
        site_ref = subject_el.find(_odm("SiteRef"))
        number = (site_ref.get("LocationOID") if site_ref is not None else "").removeprefix("LOC.")
        site = self.sites.get(number)
        if site is None:
            raise OdmImportError(f"Subject {key}: site {number!r} is not a site of this study")
        for event in subject_el.iter(_odm("StudyEventData")):
            event_key = event.get("StudyEventRepeatKey") or ""
            for form_el in event.iter(_odm("FormData")):
                groups = list(form_el.iter(_odm("ItemGroupData")))
                index = 0
                while index < len(groups):
                    group = groups[index]
                    oid = group.get("ItemGroupOID")
                    form = FORMS_BY_GROUP.get(oid)
                    if form is None:
                        raise OdmImportError(f"Subject {key}: unknown item group {oid}")
                    eligibility = None
                    following = []
                    while (
                        index + 1 < len(groups)
                        and groups[index + 1].get("ItemGroupOID") == ELIGIBILITY_GROUP
                    ):
                        following.append(groups[index + 1])
                        index += 1
                    if following:
                        current = self.subjects.get(key)
                        eligibility = dict(current.eligibility_answers) if current else {}
                        for answer in following:
                            found = {
                                d.get("ItemOID"): d.get("Value")
                                for d in answer.iter(_odm("ItemData"))
                            }
                            text = found[ELIGIBILITY_ITEMS[0].oid]
                            eligibility[text] = found[ELIGIBILITY_ITEMS[1].oid] == "true"
                    record_key = (
                        key,
                        event.get("StudyEventOID"),
                        event_key,
                        oid,
                        group.get("ItemGroupRepeatKey") or "",
                    )
                    if form is SUBJECT_FORM:
                        parent = {"study": self.study, "site": site}
                    else:
                        if key not in self.subjects:
                            raise OdmImportError(f"{record_key}: the subject comes first")
                        parent = {"subject": self.subjects[key]}
                    record = self.apply(form, record_key, group, parent, eligibility)
                    if form is SUBJECT_FORM:
                        self.subjects[key] = record
                    index += 1


def import_odm(document: bytes, *, study, by) -> ImportResult:
    """Import an ODM file's clinical data into `study`: all of it, or nothing."""
    validate_odm(document)
    tree = etree.fromstring(document)
    clinical = tree.find(_odm("ClinicalData"))
    if clinical is None:
        raise OdmImportError("The file has no ClinicalData.")
    expected = f"ST.{study.protocol_number}"
    if clinical.get("StudyOID") != expected:
        raise OdmImportError(
            f"The file's clinical data belong to {clinical.get('StudyOID')}, not {expected}."
        )
    existing = Subject.all_objects.filter(
        study=study,
        screening_number__in=[s.get("SubjectKey") for s in clinical.iter(_odm("SubjectData"))],
    ).values_list("screening_number", flat=True)
    if existing:
        raise OdmImportError(
            f"Subjects already in this study: {', '.join(sorted(existing)[:10])}; an import "
            "adds new subjects only."
        )
    importer = _Importer(study, by, tree.get("FileOID"))
    with transaction.atomic():
        for subject in clinical.iter(_odm("SubjectData")):
            importer.subject(subject)
    return importer.result
