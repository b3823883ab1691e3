"""Vital signs, ECG (QTcF, QTcB, the QTc grade) and ECOG, from tables worked by hand.

Sources: exact conversion factors (1 lb = 0.45359237 kg, 1 in = 2.54 cm, C = (F - 32) x 5/9);
Fridericia, Acta Med Scand 1920;53:469 (QTcF = QT / RR^(1/3), RR in s); Bazett, Heart 1920;7:353
(QTcB = QT / RR^(1/2)); NCI CTCAE v5.0 "Electrocardiogram QT corrected interval prolonged";
Oken et al., Am J Clin Oncol 1982;5:649 (ECOG). docs/visits.md §6-8.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from visits.rules import (
    EcgReading,
    QtCorrection,
    VisitsInputError,
    VitalSign,
    VitalSignsSettings,
    blood_pressure,
    corrected_qt,
    ecog_choices,
    ecog_status,
    grade_qtc,
    qtcb,
    qtcf,
    vital_sign,
    weight_change,
)

# --- vital signs --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sign", "value", "unit", "standard"),
    [
        (VitalSign.TEMPERATURE, "98.6", "F", "37.00"),  # (98.6 - 32) x 5/9 = 37
        (VitalSign.TEMPERATURE, "100.4", "°F", "38.00"),  # 68.4 x 5/9 = 38
        (VitalSign.TEMPERATURE, "99.5", "F", "37.50"),  # 67.5 x 5/9 = 37.5
        (VitalSign.TEMPERATURE, "101.3", "degF", "38.50"),  # 69.3 x 5/9 = 38.5
        (VitalSign.TEMPERATURE, "37.2", "C", "37.2"),
        (VitalSign.WEIGHT, "154", "lb", "69.85322498"),  # 154 x 0.45359237
        (VitalSign.WEIGHT, "70", "kg", "70"),
        (VitalSign.HEIGHT, "70", "in", "177.80"),  # 70 x 2.54
        (VitalSign.HEIGHT, "172", "cm", "172"),
        (VitalSign.PULSE, "72", "bpm", "72"),
        (VitalSign.RESPIRATORY_RATE, "16", "breaths/min", "16"),
        (VitalSign.SPO2, "97", "%", "97"),
        ("systolic_bp", "120", "mmHg", "120"),
    ],
)
def test_vital_sign_in_standard_unit(sign, value, unit, standard) -> None:
    assert vital_sign(sign, value, unit).value == Decimal(standard)


@pytest.mark.parametrize(
    ("sign", "value", "unit", "accepted"),
    [
        (VitalSign.WEIGHT, "20", "kg", True),  # the range's ends are inside
        (VitalSign.WEIGHT, "19.9", "kg", False),
        (VitalSign.WEIGHT, "300", "kg", True),
        (VitalSign.WEIGHT, "300.1", "kg", False),
        (VitalSign.WEIGHT, "700", "lb", False),  # 317.5 kg
        (VitalSign.TEMPERATURE, "44", "C", True),
        (VitalSign.TEMPERATURE, "44.1", "C", False),
        (VitalSign.TEMPERATURE, "86", "F", True),  # 30.00 C, the lower end
        (VitalSign.TEMPERATURE, "85.9", "F", False),  # 29.94 C
        (VitalSign.SPO2, "100", "%", True),
        (VitalSign.SPO2, "101", "%", False),
        (VitalSign.PULSE, "19", "bpm", False),
        (VitalSign.RESPIRATORY_RATE, "61", "/min", False),
        (VitalSign.HEIGHT, "99", "cm", False),
    ],
)
def test_plausible_ranges(sign, value, unit, accepted) -> None:
    if accepted:
        vital_sign(sign, value, unit)
    else:
        with pytest.raises(VisitsInputError, match="outside the plausible range"):
            vital_sign(sign, value, unit)


def test_implausible_value_names_the_range_and_the_conversion() -> None:
    with pytest.raises(VisitsInputError) as error:
        vital_sign(VitalSign.WEIGHT, "700", "lb")
    assert str(error.value) == (
        "weight: 317.5147 kg (700 lb) is outside the plausible range 20-300 kg (a study "
        "setting); check the value and its unit"
    )


def test_ranges_are_settings() -> None:
    strict = VitalSignsSettings(weight=(Decimal(30), Decimal(200)))
    with pytest.raises(VisitsInputError, match="plausible range 30-200 kg"):
        vital_sign(VitalSign.WEIGHT, "25", "kg", strict)
    assert vital_sign(VitalSign.WEIGHT, "25", "kg").value == 25


def test_unknown_unit_is_refused_with_the_accepted_ones() -> None:
    with pytest.raises(
        VisitsInputError,
        match=r"blood pressure: unit 'kPa' is not accepted; "
        "accepted units: mmHg",
    ):
        vital_sign(VitalSign.SYSTOLIC_BP, "16", "kPa")
    with pytest.raises(VisitsInputError, match="accepted units: kg, lb"):
        vital_sign(VitalSign.WEIGHT, "70", "st")


def test_blood_pressure_diastolic_below_systolic() -> None:
    systolic, diastolic = blood_pressure("120", "80")
    assert (systolic.value, diastolic.value) == (120, 80)
    with pytest.raises(VisitsInputError, match="diastolic 120 mmHg must be below the systolic"):
        blood_pressure("80", "120")


@pytest.mark.parametrize(
    ("current", "percent", "recalculate"),
    [
        ("63", "-10", True),  # exactly 10% down reaches the setting
        ("63.1", "-9.857142857142857142857142857", False),
        ("77", "10", True),
        ("76.9", "9.857142857142857142857142857", False),
    ],
)
def test_weight_change_against_the_dosing_weight(current, percent, recalculate) -> None:
    reference = vital_sign(VitalSign.WEIGHT, "70", "kg")
    change = weight_change(reference, vital_sign(VitalSign.WEIGHT, current, "kg"))
    assert change.percent == Decimal(percent)
    assert change.recalculate is recalculate


# --- ECG ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("qt", "rr", "hr", "expected_qtcf"),
    [
        ("400", None, "60", "400.000"),  # HR 60 -> RR 1 s: QTcF = QT
        ("400", "800", None, "430.887"),  # 0.8^(1/3) = 0.928318; 400 / 0.928318
        ("360", None, "75", "387.798"),  # RR 60/75 = 0.8 s; 360 / 0.928318
        ("400", "1250", None, "371.327"),  # 1.25^(1/3) = 1.077217; 400 / 1.077217
        ("380", "1000", "90", "380.000"),  # RR given wins over HR
    ],
)
def test_qtcf(qt, rr, hr, expected_qtcf) -> None:
    assert qtcf(qt, rr, hr).quantize(Decimal("0.001")) == Decimal(expected_qtcf)


def test_qtcb() -> None:
    assert qtcb("400", rr_ms="810") == Decimal(400) / Decimal("0.9")  # sqrt(0.81) = 0.9
    assert qtcb("400", heart_rate_bpm="60") == Decimal(400)


def test_triplicate_mean_is_the_mean_of_the_corrected_replicates() -> None:
    qtc = corrected_qt([EcgReading(400, 1000), EcgReading(410, 1000), EcgReading(421, 1000)])
    assert qtc.replicates == (Decimal(400), Decimal(410), Decimal(421))
    assert qtc.mean_ms == Decimal(1231) / 3
    assert qtc.graded_ms == 410  # 410.33 rounds to 410
    bazett = corrected_qt([EcgReading(400, 810)], QtCorrection.BAZETT)
    assert bazett.graded_ms == 444  # 444.44


@pytest.mark.parametrize(
    ("qtc", "baseline", "grade"),
    [
        (449, None, 0),
        (450, None, 1),  # "450 - 480": 450 included
        (480, None, 1),
        (481, None, 2),
        (500, None, 2),
        (501, None, 3),  # ">= 501"
        (460, 400, 1),  # +60 ms is not more than 60
        (461, 400, 3),  # +61 ms over baseline
        (445, 380, 3),  # +65 ms over baseline, even below 450
    ],
)
def test_qtc_grade(qtc, baseline, grade) -> None:
    result = grade_qtc(qtc, baseline)
    assert result.grade == grade, result.rule
    assert result.ctcae_version == "5.0"
    if grade:
        assert result.not_computed == (
            "grade 4: Torsade de pointes; polymorphic ventricular tachycardia; signs/symptoms of "
            "serious arrhythmia",
        )


def test_mean_rounds_half_up_to_the_whole_ms_before_grading() -> None:
    at_half = corrected_qt([EcgReading(480, 1000), EcgReading(481, 1000)])  # mean 480.5
    assert grade_qtc(at_half).grade == 2 and grade_qtc(at_half).qtc_ms == 481
    below = corrected_qt([EcgReading(480, 1000), EcgReading(480, 1000), EcgReading(481, 1000)])
    assert grade_qtc(below).grade == 1  # 480.33 -> 480
    assert "baseline QTc missing" in grade_qtc(below).notes[0]


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: EcgReading(400), "RR or heart rate is required"),
        (lambda: EcgReading(900, 1000), "QT: 900 ms is outside the plausible range 200-700"),
        (lambda: EcgReading(400, heart_rate_bpm=0), "heart rate: 0 beats/min is outside"),
        (lambda: corrected_qt([]), "at least one reading"),
        (lambda: corrected_qt([EcgReading(400, 1000)], "QTcX"), "QT correction: 'QTcX'"),
    ],
)
def test_ecg_bad_input_is_refused(build, message) -> None:
    with pytest.raises(VisitsInputError, match=message):
        build()


# --- ECOG ---------------------------------------------------------------------------------------


def test_ecog_values_and_texts() -> None:
    assert [value for value, _ in ecog_choices()] == [0, 1, 2, 3, 4, 5]
    assert ecog_status(0).text.startswith("Fully active")
    assert ecog_status("1").text.startswith("Restricted in physically strenuous activity")
    assert "more than 50% of waking hours" in ecog_status(2).text
    assert ecog_status(5).text == "Dead"


@pytest.mark.parametrize("value", [6, -1, "1.0", 1.5, True, None, "", "٣"])
def test_ecog_refuses_anything_but_0_to_5(value) -> None:
    with pytest.raises(VisitsInputError, match=r"is not one of 0, 1, 2, 3, 4, 5 \(Oken et al."):
        ecog_status(value)
