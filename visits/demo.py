"""Demo visit forms for `manage.py load_demo` (`make run`): a subject's screening and Cycle 1
visits with vital signs, local labs (one graded abnormality to report), ECOG and ECG, their
medical and cancer history and prior cancer therapy."""

from datetime import timedelta
from decimal import Decimal

from safety.models import CtcaeTerm

from .services import (
    cancer_history_record,
    concomitant_medication_record,
    ecg_record,
    ecog_record,
    lab_result_record,
    medical_history_record,
    prior_therapy_record,
    visit_record,
    vital_signs_record,
)

# (test, value, unit, low, high) at screening and at Cycle 1 Day 8.
SCREENING_LABS = (
    ("NEUT", "3.9", "10^9/L", "1.8", "7.5"),
    ("PLAT", "231", "10^9/L", "150", "400"),
    ("HGB", "12.8", "g/dL", "12.0", "16.0"),
    ("ALT", "28", "U/L", None, "40"),
    ("CREAT", "0.9", "mg/dL", "0.5", "1.1"),
)
C1D8_LABS = (
    ("NEUT", "1.6", "10^9/L", "1.8", "7.5"),
    ("PLAT", "188", "10^9/L", "150", "400"),
    ("ALT", "96", "U/L", None, "40"),
)


def _labs(by, subject, visit, rows):
    for test, value, unit, low, high in rows:
        lab_result_record(
            by=by,
            subject=subject,
            visit=visit,
            sampled_on=visit.visit_date,
            test=test,
            value=Decimal(value),
            unit=unit,
            normal_low=None if low is None else Decimal(low),
            normal_high=Decimal(high),
        )


def load_demo_forms(*, by, subject, consent_on, day1) -> None:
    screening = visit_record(by=by, subject=subject, code="SCR", visit_date=consent_on)
    vital_signs_record(
        by=by,
        subject=subject,
        visit=screening,
        measured_on=consent_on,
        timepoint="visit",
        systolic_bp=124,
        diastolic_bp=78,
        pulse=72,
        respiratory_rate=14,
        temperature=Decimal("36.7"),
        temperature_unit="C",
        spo2=98,
        weight=Decimal("68.5"),
        weight_unit="kg",
    )
    _labs(by, subject, screening, SCREENING_LABS)
    ecog_record(by=by, subject=subject, visit=screening, assessed_on=consent_on, status=1)
    ecg_record(
        by=by,
        subject=subject,
        visit=screening,
        recorded_on=consent_on,
        timepoint="visit",
        qt_ms_1=392,
        rr_ms_1=940,
        qt_ms_2=398,
        rr_ms_2=960,
        qt_ms_3=395,
        heart_rate_3=63,
        pr_ms=158,
        qrs_ms=92,
        interpretation="normal",
    )
    hypertension = CtcaeTerm.objects.filter(term="Hypertension").first()
    medical_history_record(
        by=by,
        subject=subject,
        term="Essential hypertension",
        ctcae_term=hypertension,
        start_year=2016,
        start_month=5,
        ongoing=True,
        baseline_grade=2 if hypertension is not None else None,
    )
    concomitant_medication_record(
        by=by,
        subject=subject,
        medication="Amlodipine 5 mg tablets",
        atc_code="C08CA01",
        indication="Essential hypertension",
        dose=Decimal("5"),
        dose_unit="mg",
        frequency="QD",
        route="ORAL",
        start_date=consent_on - timedelta(days=900),
        ongoing=True,
    )
    _cancer_history(by, subject)
    c1d1 = visit_record(by=by, subject=subject, code="C1D1", visit_date=day1)
    vital_signs_record(
        by=by,
        subject=subject,
        visit=c1d1,
        measured_on=day1,
        timepoint="pre_dose",
        systolic_bp=121,
        diastolic_bp=76,
        pulse=70,
        temperature=Decimal("98.2"),
        temperature_unit="F",
        weight=Decimal("151"),
        weight_unit="lb",
    )
    c1d8 = visit_record(by=by, subject=subject, code="C1D8", visit_date=day1 + timedelta(days=7))
    vital_signs_record(
        by=by,
        subject=subject,
        visit=c1d8,
        measured_on=c1d8.visit_date,
        timepoint="visit",
        systolic_bp=118,
        diastolic_bp=74,
        pulse=78,
    )
    _labs(by, subject, c1d8, C1D8_LABS)


def _cancer_history(by, subject) -> None:
    """Colorectal cancer resected with adjuvant chemotherapy, liver metastases two years later
    treated with two lines of systemic therapy, and radiotherapy to a bone metastasis."""
    cancer_history_record(
        by=by,
        subject=subject,
        primary_site="Colon, sigmoid",
        histology="Adenocarcinoma",
        diagnosis_date="2021-09",
        stage_at_diagnosis="IIIB",
        tnm_at_diagnosis="pT3 pN1b M0",
        stage_at_entry="IVB",
        tnm_at_entry="rT0 N0 M1b",
        advanced_disease_date="2023-10-02",
        metastatic_sites=["LIVER", "BONE"],
    )
    for fields in (
        {
            "therapy_type": "surgery",
            "treatment": "Sigmoid colectomy",
            "setting": "definitive",
            "start_date": "2021-10-14",
        },
        {
            "therapy_type": "systemic",
            "treatment": "CAPOX",
            "setting": "adjuvant",
            "start_date": "2021-11",
            "end_date": "2022-04",
            "best_response": "NA",
            "stop_reason": "completed",
        },
        {
            "therapy_type": "systemic",
            "treatment": "FOLFOX + bevacizumab",
            "setting": "advanced",
            "line": 1,
            "start_date": "2023-10-20",
            "end_date": "2024-08-30",
            "best_response": "PR",
            "stop_reason": "progression",
        },
        {
            "therapy_type": "radiotherapy",
            "treatment": "Radiotherapy 8 Gy single fraction, L3 vertebra",
            "setting": "palliative",
            "start_date": "2024-09-12",
            "end_date": "2024-09-12",
            "best_response": "NE",
            "stop_reason": "completed",
        },
        {
            "therapy_type": "systemic",
            "treatment": "FOLFIRI + aflibercept",
            "setting": "advanced",
            "line": 2,
            "start_date": "2024-10",
            "end_date": "2025-06",
            "best_response": "SD",
            "stop_reason": "progression",
        },
    ):
        prior_therapy_record(by=by, subject=subject, **fields)
