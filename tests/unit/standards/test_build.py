"""From a domain mapping to a dataset: record order, --SEQ, SUPP-- records, and text past 200
characters split into SUPP-- as SDTMIG 3.4 §4.5.3.2 says."""

import pytest

from standards.build import ExportRefused, _split_text, build_domain, overflow_qnam
from standards.mapping import SUPP, Domain, Qualifier, Variable, identifiers

V = Variable


def domain(rows, *, subject_level=True):
    return Domain(
        code="AE",
        label="Adverse Events",
        observation_class="EVENTS",
        structure="",
        keys=("STUDYID", "USUBJID", "AESTDTC"),
        sort=("USUBJID", "AESTDTC"),
        variables=(
            *identifiers("AE"),
            V("AETERM", "Reported Term for the Adverse Event", "Char", "Req", "Collected", ""),
            V("AESTDTC", "Start Date/Time of Adverse Event", "Char", "Exp", "Collected", ""),
        ),
        qualifiers=(Qualifier("AEDLTINV", "DLT (Investigator)", "Collected", "", "NY"),),
        rows=lambda ctx: rows,
        subject_level=subject_level,
    )


def row(usubjid, start, term="Headache", **supp):
    return {
        "STUDYID": "S",
        "DOMAIN": "AE",
        "USUBJID": usubjid,
        "AETERM": term,
        "AESTDTC": start,
        SUPP: supp,
    }


def test_records_are_sorted_and_numbered_per_subject():
    dataset, supp = build_domain(
        domain(
            [
                row("S-2", "2025-03-02"),
                row("S-1", "2025-03-05"),
                row("S-1", "2025-03-01"),
                row("S-1", ""),
            ]
        ),
        None,
    )
    assert [(r["USUBJID"], r["AESTDTC"], r["AESEQ"]) for r in dataset.rows] == [
        ("S-1", "2025-03-01", 1),
        ("S-1", "2025-03-05", 2),
        ("S-1", None, 3),  # no date sorts last, empty text becomes null
        ("S-2", "2025-03-02", 1),
    ]
    assert supp is None


def test_supplemental_qualifiers_point_to_their_parent_record():
    dataset, supp = build_domain(
        domain([row("S-1", "2025-03-05", AEDLTINV="Y"), row("S-1", "2025-03-01", AEDLTINV="")]),
        None,
    )
    assert supp.name == "SUPPAE" and supp.parent == "AE"
    assert supp.rows == [
        {
            "STUDYID": "S",
            "RDOMAIN": "AE",
            "USUBJID": "S-1",
            "IDVAR": "AESEQ",
            "IDVARVAL": "2",
            "QNAM": "AEDLTINV",
            "QLABEL": "DLT (Investigator)",
            "QVAL": "Y",
            "QORIG": "COLLECTED",
            "QEVAL": None,
        }
    ]


def test_text_past_200_characters_goes_to_supp_in_pieces():
    words = " ".join(f"word{i:03d}" for i in range(60))  # 479 characters
    dataset, supp = build_domain(domain([row("S-1", "2025-03-01", term=words)]), None)
    first = dataset.rows[0]["AETERM"]
    pieces = [first] + [r["QVAL"] for r in supp.rows]
    assert " ".join(pieces) == words  # cut between words, at a space
    assert all(len(p) <= 200 and p == p.strip() for p in pieces)
    assert [r["QNAM"] for r in supp.rows] == ["AETERM1", "AETERM2"]
    assert supp.rows[0]["QLABEL"] == "Reported Term for the Adverse Event 1"
    assert {q.qnam for q in supp.qualifiers} >= {"AETERM1", "AETERM2"}


def test_long_text_in_a_trial_design_dataset_is_refused_with_its_place():
    with pytest.raises(ExportRefused, match="AE.AETERM is longer than 200"):
        build_domain(domain([row("S-1", "2025-03-01", term="x" * 201)], subject_level=False), None)


def test_an_undeclared_variable_is_refused():
    bad = row("S-1", "2025-03-01") | {"AESEV": "MILD"}
    with pytest.raises(ExportRefused, match="undeclared variables {'AESEV'}"):
        build_domain(domain([bad]), None)


def test_an_undeclared_qualifier_is_refused():
    with pytest.raises(ExportRefused, match="qualifier AEX is not declared"):
        build_domain(domain([row("S-1", "2025-03-01", AEX="1")]), None)


@pytest.mark.parametrize(
    ("name", "index", "expected"),
    [("AETERM", 1, "AETERM1"), ("AEACNOTH", 1, "AEACNOT1"), ("AEACNOTH", 12, "AEACNO12")],
)
def test_overflow_names_fit_eight_characters(name, index, expected):
    assert overflow_qnam(name, index) == expected


def test_split_never_exceeds_200_bytes_without_spaces():
    pieces = _split_text("é" * 150)  # 300 bytes of UTF-8
    assert all(len(p.encode()) <= 200 for p in pieces) and "".join(pieces) == "é" * 150


def test_lengths_are_the_longest_value():
    dataset, _ = build_domain(
        domain([row("S-1", "2025-03-01", term="Rash"), row("S-1", "2025-03-02", term="Headache")]),
        None,
    )
    assert dataset.column("AETERM").length == 8
    assert dataset.column("AESEQ").length == 8


def test_a_one_record_per_subject_parent_takes_supp_records_without_idvar():
    """SUPPDM for several races: IDVAR and IDVARVAL are null (SDTMIG 3.4 §8.4)."""
    dm = Domain(
        code="DM",
        label="Demographics",
        observation_class="SPECIAL PURPOSE",
        structure="One record per subject",
        keys=("STUDYID", "USUBJID"),
        variables=(
            *identifiers("DM", seq=False),
            V("RACE", "Race", "Char", "Exp", "Collected", "", "RACE"),
        ),
        qualifiers=(
            Qualifier("RACE1", "Race 1", "Collected", ""),
            Qualifier("RACE2", "Race 2", "Collected", ""),
        ),
        rows=lambda ctx: [
            {
                "STUDYID": "S",
                "DOMAIN": "DM",
                "USUBJID": "S-1",
                "RACE": "MULTIPLE",
                SUPP: {"RACE1": "ASIAN", "RACE2": "WHITE"},
            }
        ],
    )
    _, supp = build_domain(dm, None)
    assert [(r["IDVAR"], r["IDVARVAL"], r["QNAM"], r["QVAL"]) for r in supp.rows] == [
        (None, None, "RACE1", "ASIAN"),
        (None, None, "RACE2", "WHITE"),
    ]
