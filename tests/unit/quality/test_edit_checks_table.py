"""Each edit check of the registry, by a table of scenarios (docs/quality.md §1).

A row: the casebook, and the (record id, message fragment) pairs the check must fire on; an
empty list means it must stay quiet.
"""

from __future__ import annotations

import ast
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

import quality.rules as rules
from quality.rules import (
    REGISTRY,
    AdverseEventFacts,
    Casebook,
    CheckSettings,
    DoseFacts,
    Form,
    Kind,
    SubjectFacts,
    run_checks,
)

CONSENT = date(2026, 3, 10)
SUBJECT = SubjectFacts(
    subject_id=1,
    year_of_birth=1960,
    consent_date=CONSENT,
    min_age_years=18,
    age_criterion_answer=True,
    enrolled=True,
)


DEFAULT_SETTINGS = CheckSettings()


def book(subject=SUBJECT, doses=(), events=(), settings=DEFAULT_SETTINGS) -> Casebook:
    return Casebook(subject, tuple(doses), tuple(events), settings)


def ae(event_id, onset, action="none", term="Nausea"):
    return AdverseEventFacts(event_id, term, onset, action)


def dose(dose_id, on, weight="70"):
    return DoseFacts(dose_id, on, Decimal(weight), f"C1D{dose_id}")


TABLE = {
    "subject.age_vs_criterion": [
        ("answered yes, certainly 18 or older", book(), []),
        (
            "answered yes, born 2009: 16 or 17 at consent",
            book(replace(SUBJECT, year_of_birth=2009)),
            [(1, "answered yes, but born in 2009, the subject was 16 or 17")],
        ),
        (
            "answered yes, birthday decides (17 or 18): left to the consent confirmation",
            book(replace(SUBJECT, year_of_birth=2008)),
            [],
        ),
        (
            "answered no, certainly 18 or older",
            book(replace(SUBJECT, age_criterion_answer=False)),
            [(1, "answered no, but born in 1960, the subject was 65 or 66")],
        ),
        (
            "answered no, birthday decides",
            book(replace(SUBJECT, year_of_birth=2008, age_criterion_answer=False)),
            [],
        ),
        ("not answered", book(replace(SUBJECT, age_criterion_answer=None)), []),
        ("no consent yet", book(replace(SUBJECT, consent_date=None)), []),
        ("no minimum age in the protocol", book(replace(SUBJECT, min_age_years=None)), []),
    ],
    "adverse_event.onset_before_consent": [
        ("onset on the consent day", book(events=[ae(7, CONSENT)]), []),
        (
            "onset the day before consent",
            book(events=[ae(7, date(2026, 3, 9))]),
            [(7, "Onset 2026-03-09 of 'Nausea' is before informed consent (2026-03-10)")],
        ),
        (
            "two events, one before",
            book(events=[ae(7, date(2026, 3, 12)), ae(8, date(2026, 1, 2), term="Fatigue")]),
            [(8, "'Fatigue'")],
        ),
        (
            "no consent recorded",
            book(replace(SUBJECT, consent_date=None), events=[ae(7, CONSENT)]),
            [],
        ),
    ],
    "dose.after_end_of_treatment": [
        ("no end of treatment", book(doses=[dose(3, date(2026, 4, 1))]), []),
        (
            "dose on the end-of-treatment day",
            book(
                replace(SUBJECT, end_of_treatment_date=date(2026, 4, 1)),
                [dose(3, date(2026, 4, 1))],
            ),
            [],
        ),
        (
            "dose the day after end of treatment",
            book(
                replace(SUBJECT, end_of_treatment_date=date(2026, 4, 1)),
                [dose(2, date(2026, 3, 20)), dose(3, date(2026, 4, 2))],
            ),
            [(3, "Dose C1D3 is dated 2026-04-02, after end of treatment (2026-04-01)")],
        ),
    ],
    "dose.body_weight_range": [
        ("inside", book(doses=[dose(1, CONSENT, "70")]), []),
        ("at the lower limit", book(doses=[dose(1, CONSENT, "40")]), []),
        ("at the upper limit", book(doses=[dose(1, CONSENT, "150")]), []),
        (
            "below",
            book(doses=[dose(1, CONSENT, "39.9")]),
            [(1, "Body weight 39.9 kg is outside the expected 40-150 kg")],
        ),
        ("above", book(doses=[dose(2, CONSENT, "151")]), [(2, "151 kg")]),
        (
            "the study's own range",
            book(
                doses=[dose(1, CONSENT, "70")],
                settings=CheckSettings(Decimal("75"), Decimal("120")),
            ),
            [(1, "outside the expected 75-120 kg")],
        ),
    ],
    "adverse_event.withdrawn_requires_end_of_treatment": [
        ("drug not withdrawn", book(events=[ae(5, CONSENT, "interrupted")]), []),
        (
            "withdrawn, on treatment",
            book(events=[ae(5, CONSENT, "withdrawn")]),
            [(5, "The drug was withdrawn for 'Nausea', but no end of treatment is recorded")],
        ),
        (
            "withdrawn, end of treatment recorded",
            book(
                replace(SUBJECT, end_of_treatment_date=date(2026, 4, 1)),
                events=[ae(5, CONSENT, "withdrawn")],
            ),
            [],
        ),
        (
            "withdrawn during screening (not enrolled)",
            book(replace(SUBJECT, enrolled=False), events=[ae(5, CONSENT, "withdrawn")]),
            [],
        ),
    ],
}


def test_every_registered_check_has_a_table() -> None:
    assert set(TABLE) == set(REGISTRY)


def test_each_table_makes_its_check_fire_and_stay_quiet() -> None:
    for name, rows in TABLE.items():
        assert any(expected for _, _, expected in rows), name
        assert any(not expected for _, _, expected in rows), name


ROWS = [(name, *row) for name, rows in TABLE.items() for row in rows]


@pytest.mark.parametrize(
    ("name", "scenario", "casebook", "expected"), ROWS, ids=[f"{r[0]}: {r[1]}" for r in ROWS]
)
def test_edit_check(name, scenario, casebook, expected) -> None:
    check = REGISTRY[name]
    findings = run_checks(casebook, [name])
    assert [f.record_id for f in findings] == [record_id for record_id, _ in expected]
    for finding, (_, fragment) in zip(findings, expected, strict=True):
        assert fragment in finding.message
        assert (finding.check, finding.version, finding.form, finding.field) == (
            name,
            check.version,
            check.form,
            check.field,
        )


def test_registry_entries_are_named_versioned_and_described() -> None:
    for name, check in REGISTRY.items():
        assert name == check.name and name.split(".")[0] == check.form.value
        assert check.version >= 1 and check.description and check.field
        assert isinstance(check.kind, Kind) and isinstance(check.form, Form)
    kinds = {check.kind for check in REGISTRY.values()}
    assert kinds == {Kind.RANGE, Kind.REQUIRED_IF, Kind.CROSS_FORM}


def test_a_name_is_registered_once() -> None:
    with pytest.raises(ValueError, match="registered twice"):
        rules.checks.edit_check(
            name="dose.body_weight_range",
            version=2,
            form=Form.DOSE,
            field="body_weight_kg",
            kind=Kind.RANGE,
            description="again",
        )(lambda book: [])


def test_rules_core_imports_no_django() -> None:
    for path in Path(rules.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            assert not any(n == "django" or n.startswith("django.") for n in names), path
