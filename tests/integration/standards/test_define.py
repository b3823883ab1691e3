"""define.xml (Define-XML 2.1) describes every dataset and variable of the export, with the
codelists' NCI C-codes, origins, methods, MedDRA and CTCAE as external dictionaries, and the
standards (SDTMIG 3.4, the pinned CT) in def:Standards (docs/standards.md §7.3)."""

from datetime import UTC, datetime

import pytest
from lxml import etree

from safety.services import on_study_loaded
from standards import registry
from standards.build import build_datasets
from standards.context import ExportContext
from standards.ct import CT_VERSION, terminology
from standards.define import SCHEMA, build_define, schema_problems

NS = {
    "odm": "http://www.cdisc.org/ns/odm/v1.3",
    "def": "http://www.cdisc.org/ns/def/v2.1",
    "xlink": "http://www.w3.org/1999/xlink",
}


@pytest.fixture
def define(trial_data, study):
    datasets = build_datasets(ExportContext(study))
    xml = build_define(
        datasets,
        study=study,
        sponsor_codelists=registry.sponsor_codelists(),
        created=datetime.now(UTC),
        file_oid="TEST.define",
        source_system=("Phase 1 EDC", "test"),
    )
    return datasets, etree.fromstring(xml)


def test_every_dataset_and_variable_is_described(define):
    datasets, root = define
    mdv = root.find(".//odm:MetaDataVersion", NS)
    assert mdv.get(f"{{{NS['def']}}}DefineVersion") == "2.1.0"
    item_defs = {i.get("OID"): i for i in mdv.findall("odm:ItemDef", NS)}
    for dataset in datasets:
        group = mdv.find(f"odm:ItemGroupDef[@OID='IG.{dataset.name}']", NS)
        assert group is not None, dataset.name
        leaf = group.find("def:leaf", NS)
        assert leaf.get(f"{{{NS['xlink']}}}href") == f"{dataset.filename}.xpt"
        refs = group.findall("odm:ItemRef", NS)
        assert [item_defs[r.get("ItemOID")].get("Name") for r in refs] == [
            c.name for c in dataset.columns
        ]
        for ref, column in zip(refs, dataset.columns, strict=True):
            item = item_defs[ref.get("ItemOID")]
            assert item.find("odm:Description/odm:TranslatedText", NS).text == column.variable.label
            assert item.find("def:Origin", NS).get("Type") == column.variable.origin
            assert ref.get("Mandatory") == ("Yes" if column.variable.core == "Req" else "No")
            if column.variable.origin == "Derived":
                method = mdv.find(f"odm:MethodDef[@OID='{ref.get('MethodOID')}']", NS)
                text = method.find("odm:Description/odm:TranslatedText", NS).text
                assert text == column.variable.source
            if column.variable.type == "Char" and item.get("DataType") == "text":
                assert int(item.get("Length")) == column.length
        keys = sorted(
            (r for r in refs if r.get("KeySequence")), key=lambda r: int(r.get("KeySequence"))
        )
        assert [item_defs[r.get("ItemOID")].get("Name") for r in keys] == list(dataset.keys)


def test_codelists_carry_the_nci_codes_of_the_pinned_ct(define):
    _, root = define
    standards = root.findall(".//def:Standard", NS)
    assert {(s.get("Name"), s.get("Version")) for s in standards} == {
        ("SDTMIG", "3.4"),
        ("CDISC/NCI", CT_VERSION),
    }
    ct = terminology()
    sex = root.find(".//odm:CodeList[@OID='CL.SEX']", NS)
    assert sex.find("odm:Alias", NS).get("Name") == "C66731"
    coded = {
        i.get("CodedValue"): i.find("odm:Alias", NS).get("Name")
        for i in sex.findall("odm:EnumeratedItem", NS)
    }
    assert coded == {"F": "C16576"}  # only the values used
    for codelist in root.findall(".//odm:CodeList", NS):
        for item in codelist.findall("odm:EnumeratedItem", NS):
            alias = item.find("odm:Alias", NS)
            if item.get(f"{{{NS['def']}}}ExtendedValue") == "Yes":
                continue
            codes = {
                t.code
                for c in ct.values()
                for t in c.terms.values()
                if t.value == item.get("CodedValue")
            }
            assert alias.get("Name") in codes
    external = {
        c.get("OID"): c.find("odm:ExternalCodeList", NS)
        for c in root.findall(".//odm:CodeList", NS)
        if c.find("odm:ExternalCodeList", NS) is not None
    }
    assert external["CL.MedDRA"].get("Dictionary") == "MedDRA"
    assert external["CL.MedDRA"].get("Version") == "20.1"
    assert external["CL.CTCAE"].get("Version") == "5.0"
    rel = root.find(".//odm:CodeList[@OID='CL.AEREL']", NS)
    assert {i.get("CodedValue") for i in rel.findall("odm:CodeListItem", NS)} == {
        "NOT RELATED",
        "PROBABLY RELATED",
    }


def test_supplemental_values_have_value_level_metadata(define):
    _, root = define
    value_list = root.find(".//def:ValueListDef[@OID='VL.SUPPAE.QVAL']", NS)
    wheres = [
        r.find("def:WhereClauseRef", NS).get("WhereClauseOID")
        for r in value_list.findall("odm:ItemRef", NS)
    ]
    assert "WC.SUPPAE.QNAM.AEDLTADJ" in wheres
    clause = root.find(".//def:WhereClauseDef[@OID='WC.SUPPAE.QNAM.AEDLTADJ']", NS)
    assert clause.find("odm:RangeCheck/odm:CheckValue", NS).text == "AEDLTADJ"


def test_define_validates_against_the_define_xml_2_1_schema(define):
    # CDISC's schema set, committed with the product (standards/schemas/define-2.1/SOURCE.md).
    assert SCHEMA.is_file()
    _, root = define
    assert schema_problems(etree.tostring(root)) == []


def test_the_schema_refuses_a_define_that_breaks_it(define):
    """The check is real: an ItemDef without its DataType, or an origin type Define-XML 2.1
    does not know, is refused with the line and the rule."""
    _, root = define
    item = root.find(".//odm:ItemDef", NS)
    del item.attrib["DataType"]
    root.find(".//def:Origin", NS).set("Type", "Guessed")
    problems = schema_problems(etree.tostring(root))
    assert any("DataType" in p and "required" in p for p in problems), problems
    assert any("Guessed" in p for p in problems), problems


def test_the_meddra_version_is_the_studys_setting(trial_data, study):
    """docs/safety.md §9: the [safety] section's MedDRA version names the external codelist
    AEDECOD references; 20.1 (CTCAE v5.0's) without one."""
    on_study_loaded(None, study=study, data={"safety": {"meddra_version": "23.1"}}, by=None)
    xml = build_define(
        build_datasets(ExportContext(study)),
        study=study,
        sponsor_codelists=registry.sponsor_codelists(study.pk),
        created=datetime.now(UTC),
        file_oid="TEST.define",
        source_system=("Phase 1 EDC", "test"),
    )
    meddra = etree.fromstring(xml).find(
        ".//odm:CodeList[@OID='CL.MedDRA']/odm:ExternalCodeList", NS
    )
    assert (meddra.get("Dictionary"), meddra.get("Version")) == ("MedDRA", "23.1")
    assert registry.sponsor_codelists()["MedDRA"].external == ("MedDRA", "20.1")
