"""A domain with records contributed by another app (docs/standards.md §9.1): one dataset, the
variables in the SDTMIG order, one --SEQ numbering across both apps' records, the sources of
shared variables joined for define.xml, and declarations that disagree refused."""

import pytest

from standards import registry
from standards.build import build_domain
from standards.checks import Submission, validate
from standards.mapping import Contribution, Domain, Qualifier, Variable, identifiers

V = Variable


@pytest.fixture(autouse=True)
def empty_registry(monkeypatch):
    """A registry of this test's own (the apps' registrations are left alone)."""
    monkeypatch.setattr(registry, "_DOMAINS", {})
    monkeypatch.setattr(registry, "_CONTRIBUTIONS", {})
    monkeypatch.setattr(registry, "_SPONSOR_CODELISTS", {})


def local_labs(rows):
    return Domain(
        code="LB",
        label="Laboratory Test Results",
        observation_class="FINDINGS",
        structure="One record per lab test per time point per visit per subject",
        keys=("STUDYID", "USUBJID", "LBTESTCD", "LBDTC", "LBSPID"),
        sort=("USUBJID", "LBTESTCD", "LBDTC", "LBSPID"),
        variables=(
            *identifiers("LB"),
            V("LBSPID", "Sponsor-Defined Identifier", "Char", "Perm", "Assigned", "Lab record"),
            V(
                "LBTESTCD",
                "Lab Test or Examination Short Name",
                "Char",
                "Req",
                "Assigned",
                "LabResult.test",
                "LBTESTCD",
            ),
            V(
                "LBTEST",
                "Lab Test or Examination Name",
                "Char",
                "Req",
                "Assigned",
                "CT name",
                "LBTEST",
            ),
            V(
                "LBORRES",
                "Result or Finding in Original Units",
                "Char",
                "Exp",
                "Collected",
                "LabResult.value",
            ),
            V("LBDTC", "Date/Time of Specimen Collection", "Char", "Exp", "Collected", "Date"),
        ),  # fmt: skip
        rows=lambda ctx: rows,
    )


def biomarkers(rows, **changes):
    orres = V("LBORRES", "Result or Finding in Original Units", "Char", "Exp", "Collected",
              "BiomarkerResult.reported")  # fmt: skip
    return Contribution(
        code="LB",
        by="biomarkers",
        rows=lambda ctx: rows,
        variables=(
            changes.get("orres", orres),
            # LBREFID (6) and LBTPT (56) are not the owner's: placed by the SDTMIG order.
            V("LBTPT", "Planned Time Point Name", "Char", "Perm", "Assigned", "Time point"),
            V("LBREFID", "Specimen ID", "Char", "Perm", "Collected", "Sample.sample_id"),
        ),
        qualifiers=(Qualifier("LBLLOQ", "Lower Limit of Quantitation", "Collected", "LLOQ"),),
    )


def lab(usubjid, testcd, test, when, value, spid, **extra):
    return {"STUDYID": "S", "DOMAIN": "LB", "USUBJID": usubjid, "LBSPID": spid,
            "LBTESTCD": testcd, "LBTEST": test, "LBORRES": value, "LBDTC": when, **extra}  # fmt: skip


def test_one_dataset_one_seq_numbering_across_both_apps():
    registry.register(
        local_labs([
            lab("S-1", "WBC", "Leukocytes", "2025-03-05", "6.1", "12"),
            lab("S-2", "WBC", "Leukocytes", "2025-03-01", "5.0", "13"),
            lab("S-1", "ALT", "Alanine Aminotransferase", "2025-03-01", "30", "11"),
        ])
    )  # fmt: skip
    registry.contribute(
        biomarkers([
            lab("S-1", "INTLK6", "Interleukin 6", "2025-03-01T08:40", "4.2", "BM-R1",
                LBREFID="B-1", LBTPT="PRE-DOSE", SUPP={"LBLLOQ": "1.5"}),
            lab("S-1", "INTLK6", "Interleukin 6", "2025-03-01T15:00", "<1.5", "BM-R2",
                LBREFID="B-2", LBTPT="6 H", SUPP={"LBLLOQ": "1.5"}),
        ])
    )  # fmt: skip
    [lb] = registry.domains()
    names = [v.name for v in lb.variables]
    assert names == [
        "STUDYID", "DOMAIN", "USUBJID", "LBSEQ", "LBREFID", "LBSPID", "LBTESTCD", "LBTEST",
        "LBORRES", "LBDTC", "LBTPT",
    ]  # fmt: skip
    assert lb.variable("LBORRES").source == "LabResult.value; biomarkers: BiomarkerResult.reported"
    assert lb.variable("LBREFID").source == "biomarkers: Sample.sample_id"
    dataset, supp = build_domain(lb, None)
    assert [(r["USUBJID"], r["LBSEQ"], r["LBTESTCD"], r["LBSPID"]) for r in dataset.rows] == [
        ("S-1", 1, "ALT", "11"),
        ("S-1", 2, "INTLK6", "BM-R1"),
        ("S-1", 3, "INTLK6", "BM-R2"),
        ("S-1", 4, "WBC", "12"),
        ("S-2", 1, "WBC", "13"),
    ]
    # The contributed qualifiers point to the contributed records by their LBSEQ.
    assert [(r["IDVARVAL"], r["QNAM"], r["QVAL"]) for r in supp.rows] == [
        ("2", "LBLLOQ", "1.5"), ("3", "LBLLOQ", "1.5"),
    ]  # fmt: skip
    # The local labs' records leave the contributed variables empty.
    assert dataset.rows[0]["LBREFID"] is None and dataset.rows[1]["LBREFID"] == "B-1"
    findings = validate(Submission((dataset, supp), {}))
    unique = [f for f in findings if f.check in ("STD0008", "STD0011", "STD0016")]
    assert unique == []


def test_the_contribution_is_merged_whichever_app_registers_first():
    registry.contribute(biomarkers([]))
    registry.contribute(registry.contributions()["LB"][0])  # the same one again: no change
    registry.register(local_labs([]))
    assert "LBREFID" in [v.name for v in registry.domain("LB").variables]
    assert len(registry.contributions()["LB"]) == 1


@pytest.mark.parametrize(
    ("variable", "words"),
    [
        (V("LBORRES", "Result or Finding in Original Units", "Char", "Exp", "Derived", "x"),
         "origin"),
        (V("LBORRES", "Result", "Char", "Exp", "Collected", "x"), "label"),
        (V("LBORRES", "Result or Finding in Original Units", "Char", "Exp", "Collected", "x",
           "UNIT"), "codelist"),
    ],
)  # fmt: skip
def test_a_shared_variable_declared_otherwise_is_refused(variable, words):
    registry.register(local_labs([]))
    registry.contribute(biomarkers([], orres=variable))
    with pytest.raises(registry.RegistryError, match=f"LB.LBORRES: biomarkers declares {words}"):
        registry.domains()


def test_a_contribution_declares_only_sdtmig_variables_and_contributes_once():
    registry.register(local_labs([]))
    made_up = V("LBCOLOUR", "Colour", "Char", "Perm", "Collected", "x")
    registry.contribute(biomarkers([], orres=made_up))
    with pytest.raises(registry.RegistryError, match="only variables of the SDTMIG table"):
        registry.domain("LB")
    with pytest.raises(registry.RegistryError, match="biomarkers already contributes"):
        registry.contribute(biomarkers([]))
