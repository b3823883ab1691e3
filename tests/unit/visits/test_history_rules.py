"""Cancer history and prior therapy rules (docs/visits.md §11): partial dates compared by the
days they may stand for, and each check of the two forms from a table of cases."""

from dataclasses import replace
from datetime import date

import pytest

from visits.rules import (
    CancerHistoryFacts,
    PartialDay,
    PriorTherapyFacts,
    VisitsInputError,
    check_cancer_history,
    check_prior_therapy,
    partial_day,
)

CONSENT = date(2026, 3, 10)
TODAY = date(2026, 3, 20)


@pytest.mark.parametrize(
    ("text", "earliest", "latest"),
    [
        ("2019", date(2019, 1, 1), date(2019, 12, 31)),
        ("2019-02", date(2019, 2, 1), date(2019, 2, 28)),
        ("2020-02", date(2020, 2, 1), date(2020, 2, 29)),  # leap year
        ("2019-03-14", date(2019, 3, 14), date(2019, 3, 14)),
        (" 2019-03 ", date(2019, 3, 1), date(2019, 3, 31)),
    ],
)
def test_a_partial_date_stands_for_a_range_of_days(text, earliest, latest):
    day = partial_day(text, "diagnosis_date")
    assert (day.earliest, day.latest, day.text) == (earliest, latest, text.strip())


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("14/03/2019", "is not a date written YYYY-MM-DD"),
        ("2019-3", "is not a date written"),
        ("2019-13", "month 13 is not 1 to 12"),
        ("2019-02-30", "2019-02-30 is not a date"),
        ("1899", "1899 is not a plausible year"),
        ("２０１９", "is not a date written"),  # full-width digits are not ASCII
    ],
)
def test_a_date_that_cannot_be_read_is_refused_by_name(text, message):
    with pytest.raises(VisitsInputError, match="diagnosis_date") as error:
        partial_day(text, "diagnosis_date")
    assert message in str(error.value)


@pytest.mark.parametrize(
    ("a", "b", "after", "before"),
    [
        # Only a date every day of which lies after the other is "after" it.
        ("2026-03", date(2026, 3, 10), False, False),
        ("2026-04", date(2026, 3, 31), True, False),
        ("2026", date(2025, 12, 31), True, False),
        ("2026-03-11", date(2026, 3, 10), True, False),
        ("2026-03-10", date(2026, 3, 10), False, False),
        ("2019", PartialDay(2019, 6), False, False),
        ("2019-05", PartialDay(2019, 6), False, True),
        ("2018", PartialDay(2019), False, True),
    ],
)
def test_partial_dates_are_compared_without_imputing(a, b, after, before):
    day = partial_day(a, "x")
    assert (day.surely_after(b), day.surely_before(b)) == (after, before)


HISTORY = CancerHistoryFacts(
    primary_site="Lung, right upper lobe",
    histology="Adenocarcinoma",
    diagnosis_date="2023-05",
    stage_at_diagnosis="IIIA",
    stage_at_entry="IVB",
    advanced_disease_date="2025-01-14",
    metastatic_sites=("LIVER", "BONE"),
    consented_on=CONSENT,
    today=TODAY,
)


def test_a_complete_history_passes():
    assert check_cancer_history(HISTORY) == []


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"primary_site": " "}, "primary_site", "Enter the primary tumour site"),
        ({"histology": ""}, "histology", "Enter the histology"),
        ({"diagnosis_date": ""}, "diagnosis_date", "Enter the date of initial diagnosis"),
        ({"diagnosis_date": "2026-04"}, "diagnosis_date", "in the future"),
        ({"diagnosis_date": "2026-03-11"}, "diagnosis_date", "after informed consent"),
        ({"consented_on": None}, "diagnosis_date", "Informed consent is not recorded"),
        ({"stage_at_entry": ""}, "stage_at_entry", "Choose the AJCC stage group"),
        ({"stage_at_diagnosis": "V"}, "stage_at_diagnosis", "not an AJCC 8th edition stage"),
        ({"advanced_disease_date": "2023-04"}, "advanced_disease_date", "before the initial"),
        ({"advanced_disease_date": "2026-03-12"}, "advanced_disease_date", "after informed"),
        (
            {"advanced_disease_date": "", "stage_at_entry": "IIIB"},
            "advanced_disease_date",
            "Sites of metastases are listed",
        ),
        (
            {"advanced_disease_date": "", "metastatic_sites": ()},
            "advanced_disease_date",
            "Stage IVB at entry is metastatic disease",
        ),
        ({"metastatic_sites": ()}, "metastatic_sites", "list the sites of metastases"),
        ({"metastatic_sites": ("LIVER", "LIVER")}, "metastatic_sites", "listed twice"),
        ({"metastatic_sites": ("SPLEEN",)}, "metastatic_sites", "Not a site of this list"),
        ({"metastatic_sites": ("OTHER",)}, "metastatic_sites_other", "Name the other site"),
        ({"metastatic_sites_other": "Spleen"}, "metastatic_sites_other", "Tick 'Other'"),
        (
            {"prior_therapies": (("Carboplatin + pemetrexed", "2023-03"),)},
            "diagnosis_date",
            "Carboplatin + pemetrexed started 2023-03, before this diagnosis date",
        ),
        (
            {"no_prior_therapy": True, "prior_therapies": (("Lobectomy", "2023-06"),)},
            "no_prior_therapy",
            "Prior therapy is recorded (Lobectomy)",
        ),
    ],
)
def test_each_history_rule_names_its_field(changes, field, message):
    problems = check_cancer_history(replace(HISTORY, **changes))
    assert any(f == field and message in m for f, m in problems), problems


def test_a_therapy_in_the_month_of_diagnosis_is_not_refused():
    # The diagnosis is known to the month only: a therapy in that month may follow it.
    facts = replace(HISTORY, prior_therapies=(("Lobectomy", "2023-05-02"),))
    assert check_cancer_history(facts) == []


def test_locally_advanced_disease_needs_no_sites():
    facts = replace(HISTORY, stage_at_entry="IIIC", metastatic_sites=())
    assert check_cancer_history(facts) == []


THERAPY = PriorTherapyFacts(
    therapy_type="systemic",
    treatment="Carboplatin + pemetrexed",
    setting="advanced",
    line=1,
    start_date="2025-02",
    end_date="2025-07-30",
    best_response="PR",
    stop_reason="progression",
    consented_on=CONSENT,
    today=TODAY,
    diagnosis_date="2023-05",
)


def test_a_complete_therapy_passes():
    assert check_prior_therapy(THERAPY) == []


def test_a_surgery_has_one_date_and_no_response():
    surgery = replace(
        THERAPY,
        therapy_type="surgery",
        treatment="Right upper lobectomy",
        setting="definitive",
        line=None,
        start_date="2023-06-12",
        end_date="",
        best_response="",
        stop_reason="",
    )
    assert check_prior_therapy(surgery) == []


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"therapy_type": ""}, "therapy_type", "Choose the type"),
        ({"therapy_type": "hormonal"}, "therapy_type", "is not a type"),
        ({"setting": "salvage"}, "setting", "is not a setting"),
        ({"treatment": " "}, "treatment", "Name the regimen or agents"),
        ({"start_date": ""}, "start_date", "Enter the start date"),
        ({"start_date": "2025-13"}, "start_date", "month 13"),
        ({"end_date": ""}, "end_date", "one still given is a concomitant medication"),
        ({"end_date": "2026-03-15"}, "end_date", "a concomitant medication"),
        ({"end_date": "2025-01"}, "end_date", "is before the start"),
        ({"start_date": "2023-04"}, "start_date", "before the initial diagnosis"),
        ({"line": 0}, "line", "1 to 30"),
        ({"setting": "adjuvant", "best_response": "NA"}, "line", "advanced or maintenance"),
        ({"therapy_type": "radiotherapy"}, "line", "systemic therapy only"),
        ({"best_response": ""}, "best_response", "Choose the best response"),
        ({"best_response": "MR"}, "best_response", "is not a best response"),
        ({"stop_reason": ""}, "stop_reason", "Choose the reason stopped"),
        ({"stop_reason": "other"}, "stop_reason_other", "Say why"),
        ({"stop_reason_other": "Cost"}, "stop_reason_other", "Choose 'Other'"),
        (
            {"setting": "adjuvant", "line": None, "best_response": "CR"},
            "best_response",
            "not applicable",
        ),
        (
            {"therapy_type": "surgery", "line": None, "end_date": "2025-03"},
            "end_date",
            "A surgery has one date",
        ),
        (
            {"therapy_type": "surgery", "line": None, "end_date": ""},
            "best_response",
            "A surgery has no best response",
        ),
        ({"no_prior_therapy": True}, "__all__", "had no prior anticancer therapy"),
    ],
)
def test_each_therapy_rule_names_its_field(changes, field, message):
    problems = check_prior_therapy(replace(THERAPY, **changes))
    assert any(f == field and message in m for f, m in problems), problems
