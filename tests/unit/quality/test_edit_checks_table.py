"""Each edit check of the registry, by a table of scenarios (docs/quality.md §1).

A row: the casebook, and the (record id, message fragment) pairs the check must fire on; an
empty list means it must stay quiet.
"""

from __future__ import annotations

import ast
from dataclasses import replace
from datetime import date, timedelta
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
    LabResultFacts,
    LesionFacts,
    PriorTherapyFacts,
    SubjectFacts,
    SurvivalContactFacts,
    organ_key,
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


def book(
    subject=SUBJECT, doses=(), events=(), settings=DEFAULT_SETTINGS, labs=(), lesions=()
) -> Casebook:
    return Casebook(subject, tuple(doses), tuple(events), settings, tuple(labs), tuple(lesions))


# C1D8 of a Q3W subject dosed on 2026-03-16: target 2026-03-23, window +/-1 (docs/visits.md §2.1).
C1D8 = (date(2026, 3, 22), date(2026, 3, 24))


def lab(result_id, on, visit="C1D8", window=C1D8, test="NEUT"):
    return LabResultFacts(result_id, test, on, visit, *(window or (None, None)))


def target(lesion_id, organ, nodal=False, code=None):
    return LesionFacts(lesion_id, code or f"T{lesion_id}", "target", organ, nodal)


def non_target(lesion_id, organ):
    return LesionFacts(lesion_id, f"NT{lesion_id}", "non-target", organ)


FIVE_TARGETS = [
    target(1, "liver"),
    target(2, "liver"),
    target(3, "lung"),
    target(4, "lung"),
    target(5, "mediastinal node", nodal=True),
]


def ae(event_id, onset, action="none", term="Nausea"):
    return AdverseEventFacts(event_id, term, onset, action)


def dose(dose_id, on, weight="70"):
    return DoseFacts(dose_id, on, Decimal(weight), f"C1D{dose_id}")


FIRST_DOSE = date(2026, 3, 16)


def therapy(therapy_id, end, kind="systemic"):
    """A prior therapy ending on `end` (as far as known) and the days it may be."""
    parts = [int(p) for p in end.split("-")]
    earliest = date(parts[0], parts[1] if len(parts) > 1 else 1, parts[2] if len(parts) > 2 else 1)
    if len(parts) == 3:
        latest = earliest
    elif len(parts) == 2:
        latest = date(parts[0] + parts[1] // 12, parts[1] % 12 + 1, 1) - timedelta(days=1)
    else:
        latest = date(parts[0], 12, 31)
    return PriorTherapyFacts(therapy_id, "FOLFOX", kind, end, earliest, latest)


def washout_book(*therapies, first=FIRST_DOSE, washout=28) -> Casebook:
    return Casebook(
        replace(SUBJECT, first_dose_date=first),
        settings=CheckSettings(anticancer_washout_days=washout),
        prior_therapies=tuple(therapies),
    )


def survival_book(*contacts, first=FIRST_DOSE) -> Casebook:
    return Casebook(replace(SUBJECT, first_dose_date=first), survival_contacts=tuple(contacts))


def contact(contact_id, start):
    return SurvivalContactFacts(contact_id, date(2026, 10, 1), "docetaxel", start)


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
    "lab_result.date_in_visit_window": [
        ("on the target day", book(labs=[lab(4, date(2026, 3, 23))]), []),
        ("on the first day of the window", book(labs=[lab(4, date(2026, 3, 22))]), []),
        ("on the last day of the window", book(labs=[lab(4, date(2026, 3, 24))]), []),
        (
            "the day before the window",
            book(labs=[lab(4, date(2026, 3, 21))]),
            [
                (
                    4,
                    "The NEUT sample dated 2026-03-21 is outside the window of visit C1D8 "
                    "(2026-03-22 to 2026-03-24)",
                )
            ],
        ),
        (
            "the day after the window, among results inside it",
            book(
                labs=[
                    lab(4, date(2026, 3, 23)),
                    lab(5, date(2026, 3, 25), test="PLAT"),
                    lab(6, date(2026, 3, 24), test="HGB"),
                ]
            ),
            [(5, "The PLAT sample dated 2026-03-25")],
        ),
        (
            "an unscheduled visit has no window",
            book(labs=[lab(4, date(2026, 5, 1), visit="UNS1", window=None)]),
            [],
        ),
    ],
    "lesion.targets_in_total": [
        ("five targets", book(lesions=FIVE_TARGETS), []),
        (
            "five targets and non-target lesions",
            book(lesions=[*FIVE_TARGETS, non_target(6, "bone"), non_target(7, "bone")]),
            [],
        ),
        (
            "six targets: the sixth entered is the extra one",
            book(lesions=[*FIVE_TARGETS, target(6, "kidney")]),
            [(6, "T6 is one of 6 target lesions (T1 (liver), T2 (liver), T3 (lung)")],
        ),
        (
            "seven targets: the sixth and the seventh",
            book(lesions=[*FIVE_TARGETS, target(6, "kidney"), target(7, "spleen")]),
            [(6, "at most 5 in total"), (7, "T7 is one of 7 target lesions")],
        ),
        ("no lesion recorded", book(), []),
    ],
    "lesion.targets_per_organ": [
        ("two per organ", book(lesions=FIVE_TARGETS), []),
        (
            "a third liver target, the name typed differently",
            book(lesions=[target(1, "Liver"), target(2, "liver "), target(3, "LIVER")]),
            [(3, "T3 is one of 3 target lesions in the liver")],
        ),
        (
            "paired organs are one organ: left and right lung",
            book(lesions=[target(1, "left lung"), target(2, "Right lung"), target(3, "lungs")]),
            [(3, "in the lung (T1 (left lung), T2 (Right lung), T3 (lungs))")],
        ),
        (
            "every lymph node is one organ, whatever its site",
            book(
                lesions=[
                    target(1, "mediastinal", nodal=True),
                    target(2, "axillary", nodal=True),
                    target(3, "inguinal", nodal=True),
                ]
            ),
            [(3, "in the lymph nodes")],
        ),
        (
            "a node and two liver lesions",
            book(lesions=[target(1, "liver"), target(2, "liver"), target(3, "liver", nodal=True)]),
            [],
        ),
        (
            "non-target lesions do not count",
            book(lesions=[target(1, "liver"), target(2, "liver"), non_target(3, "liver")]),
            [],
        ),
    ],
    "prior_therapy.washout_before_first_dose": [
        ("ended 28 days before the first dose", washout_book(therapy(1, "2026-02-16")), []),
        (
            "ended 27 days before the first dose",
            washout_book(therapy(1, "2026-02-17")),
            [(1, "'FOLFOX' (ended 2026-02-17) ended within the 28-day washout")],
        ),
        (
            "ended in February: may be within the washout",
            washout_book(therapy(1, "2026-02")),
            [(1, "may have ended within the 28-day washout before the first dose (2026-03-16")],
        ),
        ("ended in January", washout_book(therapy(1, "2026-01")), []),
        (
            "ended on the first dose day: still given",
            washout_book(therapy(1, "2026-03-16")),
            [(1, "was still given at the first dose (2026-03-16)")],
        ),
        (
            "ended in March, the month of the first dose: may still be given",
            washout_book(therapy(1, "2026-03")),
            [(1, "may have been still given at the first dose")],
        ),
        (
            "a radiotherapy counts; a surgery (one date) does not",
            washout_book(
                therapy(1, "2026-03-01", kind="radiotherapy"),
                PriorTherapyFacts(2, "Lobectomy", "surgery"),
            ),
            [(1, "ended within")],
        ),
        ("no dose yet", washout_book(therapy(1, "2026-03-01"), first=None), []),
        ("no washout in the protocol", washout_book(therapy(1, "2026-03-01"), washout=None), []),
    ],
    "survival.new_therapy_before_first_dose": [
        ("starts after the first dose", survival_book(contact(4, date(2026, 9, 1))), []),
        ("starts on the first dose day", survival_book(contact(4, FIRST_DOSE)), []),
        (
            "starts the day before the first dose",
            survival_book(contact(4, date(2026, 9, 1)), contact(5, date(2026, 3, 15))),
            [(5, "starts 2026-03-15, before the first dose (2026-03-16)")],
        ),
        ("no dose recorded", survival_book(contact(5, date(2026, 3, 15)), first=None), []),
    ],
}


@pytest.mark.parametrize(
    ("typed", "nodal", "key"),
    [
        ("Liver", False, "liver"),
        ("  left   lung ", False, "lung"),
        ("Lungs", False, "lung"),
        ("right kidney", False, "kidney"),
        ("Ovaries", False, "ovary"),
        ("L. adrenal", False, "adrenal"),
        ("pancreas", False, "pancreas"),
        ("lobe of the liver, left", False, "lobe of the liver"),
        ("para-aortic", True, "lymph nodes"),
    ],
)
def test_the_organ_as_the_limit_per_organ_counts_it(typed, nodal, key) -> None:
    assert organ_key(typed, nodal) == key


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
