"""define.xml (CDISC Define-XML 2.1): the metadata of the SDTM datasets an export holds.

One ItemGroupDef per dataset (with its def:leaf, the .xpt file), one ItemDef per variable (data
type, length, def:Origin, and the mapping's source as a method or comment), the codelists with
the NCI C-code of every term used (def:Standards names the SDTMIG and the pinned CT),
ExternalCodeList for MedDRA, CTCAE and ISO 3166, and value-level metadata for each SUPP--
dataset's QVAL (one WhereClauseDef per QNAM), as Define-XML 2.1 §4 and §5 describe.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from functools import cache
from pathlib import Path

from lxml import etree

from .build import Dataset
from .ct import CT_VERSION, Codelist, terminology
from .formats import group_oid, item_oid
from .mapping import IG_PRESCRIBED_VALUES, SponsorCodelist, Variable
from .spec import IG_NAME, IG_VERSION

ODM_NS = "http://www.cdisc.org/ns/odm/v1.3"
DEF_NS = "http://www.cdisc.org/ns/def/v2.1"
XLINK_NS = "http://www.w3.org/1999/xlink"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
NSMAP = {None: ODM_NS, "def": DEF_NS, "xlink": XLINK_NS}
DEFINE_VERSION = "2.1.0"
STD_IG, STD_CT = "STD.SDTMIG", "STD.CT"
EXTERNAL = {"ISO 3166": ("ISO 3166-1 alpha-3", "2020")}
# CDISC's Define-XML 2.1 schema set, committed (standards/schemas/define-2.1/SOURCE.md).
SCHEMA = Path(__file__).resolve().parent / "schemas/define-2.1/cdisc-define-2.1/define2-1-0.xsd"


@cache
def define_schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(SCHEMA)))


def schema_problems(document: bytes) -> list[str]:
    """What the Define-XML 2.1 schema refuses in `document` (empty when it is valid), each
    with its line (docs/standards.md §7.3)."""
    schema = define_schema()
    if schema.validate(etree.fromstring(document)):
        return []
    return [f"line {e.line}: {e.message}" for e in schema.error_log]


def _odm(tag: str) -> str:
    return f"{{{ODM_NS}}}{tag}"


def _def(tag: str) -> str:
    return f"{{{DEF_NS}}}{tag}"


def _text(parent, tag: str, text: str) -> etree._Element:
    element = etree.SubElement(parent, tag)
    translated = etree.SubElement(element, _odm("TranslatedText"))
    translated.set(XML_LANG, "en")
    translated.text = text
    return element


def _origin_source(variable_origin: str) -> str | None:
    return {"Collected": "Investigator", "Derived": "Sponsor", "Assigned": "Sponsor"}.get(
        variable_origin
    )


def _codelist_oid(name: str) -> str:
    return "CL." + name.replace("|", ".").replace(" ", "_")


class _Codelists:
    """Codelists referenced by the datasets, with the values actually used."""

    def __init__(self, sponsor: dict[str, SponsorCodelist]):
        self.sponsor = sponsor
        self.used: dict[str, set[str]] = defaultdict(set)

    def note(self, name: str | None, values) -> str | None:
        if not name:
            return None
        values = {str(v) for v in values if v is not None}
        external = name in EXTERNAL or (name in self.sponsor and self.sponsor[name].external)
        if not values and not external:
            return None
        self.used[name] |= values
        return _codelist_oid(name)

    def write(self, mdv, comments: dict[str, str]) -> None:
        ct = terminology()
        for name in sorted(self.used):
            values = self.used[name]
            sponsor = self.sponsor.get(name)
            codelist = etree.SubElement(mdv, _odm("CodeList"))
            codelist.set("OID", _codelist_oid(name))
            if sponsor is not None and sponsor.external:
                codelist.set("Name", sponsor.label)
                codelist.set("DataType", "text")
                dictionary, version = sponsor.external
                external = etree.SubElement(codelist, _odm("ExternalCodeList"))
                external.set("Dictionary", dictionary)
                external.set("Version", version)
                continue
            if name in EXTERNAL:
                codelist.set("Name", name)
                codelist.set("DataType", "text")
                external = etree.SubElement(codelist, _odm("ExternalCodeList"))
                external.set("Dictionary", EXTERNAL[name][0])
                external.set("Version", EXTERNAL[name][1])
                continue
            if sponsor is not None:
                codelist.set("Name", sponsor.label)
                codelist.set("DataType", "text")
                for value, decode in sponsor.terms:
                    if value not in values:
                        continue
                    item = etree.SubElement(codelist, _odm("CodeListItem"))
                    item.set("CodedValue", value)
                    _text(item, _odm("Decode"), decode)
                continue
            lists: list[Codelist] = [ct[part] for part in name.split("|")]
            codelist.set("Name", ", ".join(f"{c.label} ({c.name})" for c in lists))
            codelist.set("DataType", "text")
            codelist.set(_def("StandardOID"), STD_CT)
            prescribed = {
                value: why
                for c in lists
                for value, why in IG_PRESCRIBED_VALUES.get(c.name, {}).items()
                if value in values
            }
            if prescribed:
                # A value the SDTMIG prescribes outside the (non-extensible) codelist: listed
                # without a C-code, not as an extension, with the reason on the codelist.
                comments[f"COM.{_codelist_oid(name)}"] = " ".join(prescribed.values())
                codelist.set(_def("CommentOID"), f"COM.{_codelist_oid(name)}")
            for value in sorted(values):
                item = etree.SubElement(codelist, _odm("EnumeratedItem"))
                item.set("CodedValue", value)
                term = next((c.terms[value] for c in lists if value in c.terms), None)
                if value in prescribed:
                    continue
                if term is None:
                    item.set(_def("ExtendedValue"), "Yes")
                else:
                    alias = etree.SubElement(item, _odm("Alias"))
                    alias.set("Context", "nci:ExtCodeID")
                    alias.set("Name", term.code)
            if len(lists) == 1:
                alias = etree.SubElement(codelist, _odm("Alias"))
                alias.set("Context", "nci:ExtCodeID")
                alias.set("Name", lists[0].code)


def build_define(
    datasets: list[Dataset],
    *,
    study,
    sponsor_codelists: dict[str, SponsorCodelist],
    created: datetime,
    file_oid: str,
    source_system: tuple[str, str],
) -> bytes:
    root, mdv = _define_root(study, created=created, file_oid=file_oid, source_system=source_system)
    codelists = _Codelists(sponsor_codelists)
    methods: dict[str, str] = {}
    comments: dict[str, str] = {}
    item_defs, value_lists, where_clauses = _collect_items(datasets, codelists)
    _write_value_lists(mdv, value_lists, where_clauses, methods)
    for dataset in datasets:
        _write_item_group(mdv, dataset, methods, comments)
    for item_def in item_defs:
        _write_item_def(mdv, *item_def, comments=comments)
    codelists.write(mdv, comments)
    for oid, description in sorted(methods.items()):
        method = etree.SubElement(mdv, _odm("MethodDef"), OID=oid, Type="Computation")
        method.set("Name", f"Derivation of {oid.removeprefix('MT.IT.')}")
        _text(method, _odm("Description"), description)
    for oid, description in sorted(comments.items()):
        comment = etree.SubElement(mdv, _def("CommentDef"), OID=oid)
        _text(comment, _odm("Description"), description)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _define_root(study, *, created: datetime, file_oid: str, source_system: tuple[str, str]):
    """The ODM root, the study's global variables and the MetaDataVersion with its standards."""
    root = etree.Element(_odm("ODM"), nsmap=NSMAP)
    root.set("ODMVersion", "1.3.2")
    root.set("FileOID", file_oid)
    root.set("FileType", "Snapshot")
    root.set("CreationDateTime", created.isoformat(timespec="seconds"))
    root.set("Originator", study.sponsor)
    root.set("SourceSystem", source_system[0])
    root.set("SourceSystemVersion", source_system[1])
    root.set(_def("Context"), "Submission")
    study_el = etree.SubElement(root, _odm("Study"), OID=f"STDY.{study.protocol_number}")
    variables = etree.SubElement(study_el, _odm("GlobalVariables"))
    etree.SubElement(variables, _odm("StudyName")).text = study.protocol_number
    etree.SubElement(variables, _odm("StudyDescription")).text = study.title
    etree.SubElement(variables, _odm("ProtocolName")).text = study.protocol_number
    mdv = etree.SubElement(study_el, _odm("MetaDataVersion"))
    mdv.set("OID", f"MDV.{study.protocol_number}.SDTMIG.{IG_VERSION}")
    mdv.set("Name", f"{study.protocol_number} SDTM datasets")
    mdv.set("Description", f"SDTM tabulation datasets ({IG_NAME} {IG_VERSION}, {CT_VERSION} CT)")
    mdv.set(_def("DefineVersion"), DEFINE_VERSION)

    standards = etree.SubElement(mdv, _def("Standards"))
    etree.SubElement(
        standards,
        _def("Standard"),
        OID=STD_IG,
        Name=IG_NAME,
        Type="IG",
        Version=IG_VERSION,
        Status="Final",
    )
    etree.SubElement(
        standards,
        _def("Standard"),
        OID=STD_CT,
        Name="CDISC/NCI",
        Type="CT",
        PublishingSet="SDTM",
        Version=CT_VERSION,
        Status="Final",
    )
    return root, mdv


def _collect_items(datasets: list[Dataset], codelists: _Codelists):
    """Every column's ItemDef, and the value-level ItemDefs of the SUPP-- datasets' QVAL with
    their value lists and where clauses.

    Returns (item defs, value lists, where clauses): item defs as (oid, variable, length,
    codelist oid, value list oid, values), value lists as (oid, [(item oid, where clause oid,
    qualifier)]), where clauses as (oid, item oid of QNAM, qnam)."""
    item_defs: list[tuple] = []
    value_lists: list[tuple] = []
    where_clauses: list[tuple] = []
    for dataset in datasets:
        for column in dataset.columns:
            values = [row.get(column.name) for row in dataset.rows]
            codelist_oid = codelists.note(column.variable.codelist, values)
            value_list = None
            if dataset.parent and column.name == "QVAL":
                value_list = f"VL.{dataset.name}.QVAL"
                entries = _qualifier_items(dataset, codelists, item_defs, where_clauses)
                value_lists.append((value_list, entries))
            item_defs.append(
                (
                    item_oid(dataset, column.name),
                    column.variable,
                    column.length,
                    codelist_oid,
                    value_list,
                    values,
                )
            )
    return item_defs, value_lists, where_clauses


def _qualifier_items(dataset: Dataset, codelists: _Codelists, item_defs, where_clauses) -> list:
    """One value-level ItemDef per qualifier (QNAM) the SUPP-- dataset holds, with its where
    clause; returns the value list's entries."""
    entries = []
    for qualifier in dataset.qualifiers:
        qvals = [r["QVAL"] for r in dataset.rows if r["QNAM"] == qualifier.qnam]
        if not qvals:
            continue
        oid = f"IT.{dataset.name}.QVAL.{qualifier.qnam}"
        where = f"WC.{dataset.name}.QNAM.{qualifier.qnam}"
        where_clauses.append((where, item_oid(dataset, "QNAM"), qualifier.qnam))
        entries.append((oid, where, qualifier))
        variable = Variable(
            qualifier.qnam,
            qualifier.qlabel,
            "Char",
            "Perm",
            qualifier.origin,
            qualifier.source,
            qualifier.codelist,
        )
        length = max(len(v.encode("utf-8")) for v in qvals)
        item_defs.append(
            (oid, variable, length, codelists.note(qualifier.codelist, qvals), None, [])
        )
    return entries


def _write_value_lists(mdv, value_lists, where_clauses, methods: dict[str, str]) -> None:
    for oid, entries in value_lists:
        if not entries:
            continue
        value_list = etree.SubElement(mdv, _def("ValueListDef"), OID=oid)
        for order, (item, where, qualifier) in enumerate(entries, start=1):
            ref = etree.SubElement(
                value_list, _odm("ItemRef"), ItemOID=item, OrderNumber=str(order), Mandatory="No"
            )
            if qualifier.origin == "Derived":
                ref.set("MethodOID", f"MT.{item}")
                methods[f"MT.{item}"] = qualifier.source
            etree.SubElement(ref, _def("WhereClauseRef"), WhereClauseOID=where)
    for oid, qnam_item, qnam in where_clauses:
        where = etree.SubElement(mdv, _def("WhereClauseDef"), OID=oid)
        check = etree.SubElement(where, _odm("RangeCheck"), SoftHard="Soft", Comparator="EQ")
        check.set(_def("ItemOID"), qnam_item)
        etree.SubElement(check, _odm("CheckValue")).text = qnam


def _write_item_group(mdv, dataset: Dataset, methods: dict[str, str], comments: dict[str, str]):
    """The dataset's ItemGroupDef: its columns in order, keys, derivations and its file."""
    group = etree.SubElement(mdv, _odm("ItemGroupDef"))
    group.set("OID", group_oid(dataset))
    group.set("Domain", dataset.parent or dataset.name)
    group.set("Name", dataset.name)
    group.set("Repeating", "No" if dataset.name == "DM" else "Yes")
    group.set("IsReferenceData", "Yes" if dataset.observation_class == "TRIAL DESIGN" else "No")
    group.set("SASDatasetName", dataset.name)
    group.set("Purpose", "Tabulation")
    group.set(_def("Structure"), dataset.structure)
    group.set(_def("StandardOID"), STD_IG)
    group.set(_def("ArchiveLocationID"), f"LF.{dataset.name}")
    if dataset.domain is not None and dataset.domain.comment:
        comments[f"COM.{dataset.name}"] = dataset.domain.comment
        group.set(_def("CommentOID"), f"COM.{dataset.name}")
    _text(group, _odm("Description"), dataset.label)
    keys = {name: i for i, name in enumerate(dataset.keys, start=1)}
    for order, column in enumerate(dataset.columns, start=1):
        ref = etree.SubElement(group, _odm("ItemRef"))
        ref.set("ItemOID", item_oid(dataset, column.name))
        ref.set("OrderNumber", str(order))
        ref.set("Mandatory", "Yes" if column.variable.core == "Req" else "No")
        if column.name in keys:
            ref.set("KeySequence", str(keys[column.name]))
        if column.variable.origin == "Derived":
            method = f"MT.{item_oid(dataset, column.name)}"
            methods[method] = column.variable.source
            ref.set("MethodOID", method)
    etree.SubElement(group, _def("Class"), Name=dataset.observation_class)
    leaf = etree.SubElement(group, _def("leaf"), ID=f"LF.{dataset.name}")
    leaf.set(f"{{{XLINK_NS}}}href", f"{dataset.filename}.xpt")
    etree.SubElement(leaf, _def("title")).text = f"{dataset.filename}.xpt"


def _write_item_def(
    mdv, oid, variable, length, codelist_oid, value_list, values, *, comments: dict[str, str]
) -> None:
    item = etree.SubElement(mdv, _odm("ItemDef"))
    item.set("OID", oid)
    item.set("Name", variable.name)
    data_type = variable.define_data_type(values)
    item.set("DataType", data_type)
    if data_type in ("text", "integer", "float"):
        item.set("Length", str(length if variable.type == "Char" else 8))
    if data_type == "float":
        item.set("SignificantDigits", str(variable.significant_digits or _digits(values)))
    item.set("SASFieldName", variable.name)
    if variable.origin not in ("Derived",):
        comments[f"COM.{oid}"] = variable.source
        item.set(_def("CommentOID"), f"COM.{oid}")
    _text(item, _odm("Description"), variable.label)
    if codelist_oid:
        etree.SubElement(item, _odm("CodeListRef"), CodeListOID=codelist_oid)
    origin = etree.SubElement(item, _def("Origin"), Type=variable.origin)
    source = _origin_source(variable.origin)
    if source:
        origin.set("Source", source)
    if value_list:
        etree.SubElement(item, _def("ValueListRef"), ValueListOID=value_list)


def _digits(values) -> int:
    decimals = [len(str(v).split(".")[1]) for v in values if v is not None and "." in str(v)]
    return max(decimals or [1])
