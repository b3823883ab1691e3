"""SDTM VS (vital signs), LB (local laboratory results), EG (12-lead ECG), CM (concomitant
medications, prior systemic cancer therapy and the new anticancer therapy of survival
follow-up), MH (medical and cancer history), PR (prior radiotherapy and surgery) and SS
(survival status), registered with the standards registry at start-up, and the ECOG
performance status as RS records (a clinical classification) contributed to the efficacy app's
RS (docs/standards.md §9, §9.1; the mapping choices in docs/visits.md §9).

Visit numbers follow the trial design's (screening 1, Cycle c Day d c x 100 + d) and extend it
for the visits after treatment: end of treatment 90000, safety follow-up 90000 + days,
survival follow-up 95000 + n, unscheduled 99000 + n.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

from safety.models import CtcaeTerm
from standards.ct import terminology
from standards.mapping import (
    Contribution,
    Domain,
    Qualifier,
    Variable,
    epoch_variable,
    identifiers,
)
from standards.registry import contribute, register
from standards.timing import PartialDate, dtc

from .models import (
    CancerHistory,
    ConcomitantMedication,
    EcgAssessment,
    EcogAssessment,
    LabResult,
    MedicalHistory,
    PriorCancerTherapy,
    SurvivalContact,
    Visit,
    VitalSigns,
)
from .rules.history import METASTATIC_SITES, RESPONSES, SETTINGS, STOP_REASONS
from .rules.units import format_number, lab_test

V = Variable

CYCLE_VISIT = re.compile(r"^C([0-9]+)D([0-9]+)$")


def visit_number(code: str) -> tuple[int | None, str]:
    """VISITNUM and VISIT of a calendar visit code."""
    if code == "SCR":
        return 1, "SCREENING"
    match = CYCLE_VISIT.match(code)
    if match:
        cycle, day = int(match[1]), int(match[2])
        return cycle * 100 + day, f"CYCLE {cycle} DAY {day}"
    if code == "EOT":
        return 90000, "END OF TREATMENT"
    for prefix, base, name in (
        ("SFU", 90000, "SAFETY FOLLOW-UP DAY"),
        ("SURV", 95000, "SURVIVAL FOLLOW-UP"),
        ("UNS", 99000, "UNSCHEDULED"),
        ("SCAN", 80000, "TUMOUR ASSESSMENT"),
    ):
        if code.startswith(prefix) and code[len(prefix) :].isdigit():
            number = int(code[len(prefix) :])
            return base + number, f"{name} {number}"
    return None, code


def _text(value: Decimal | None) -> str:
    return "" if value is None else format_number(Decimal(value).normalize())


def _float(value) -> float | None:
    return None if value is None else float(value)


def _before_exposure(ctx, subject, rows, day_of, key) -> set[int]:
    """Ids of the last non-missing observation of each test on or before the first dose date."""
    first = ctx.first_dose(subject)
    if first is None:
        return set()
    last: dict[str, tuple[date, int]] = {}
    for row in rows:
        day = day_of(row)
        if day <= first.administered_on:
            current = last.get(key(row))
            if current is None or (day, row.pk) > current:
                last[key(row)] = (day, row.pk)
    return {pk for _, pk in last.values()}


# --- VS -------------------------------------------------------------------------------------

VITAL_TESTS = (
    # (VSTESTCD, VSTEST, model field, standard unit, reported text field or None)
    ("SYSBP", "Systolic Blood Pressure", "systolic_bp", "mmHg", None),
    ("DIABP", "Diastolic Blood Pressure", "diastolic_bp", "mmHg", None),
    ("PULSE", "Pulse Rate", "pulse", "beats/min", None),
    ("RESP", "Respiratory Rate", "respiratory_rate", "breaths/min", None),
    ("TEMP", "Temperature", "temperature_c", "C", "temperature_reported"),
    ("OXYSAT", "Oxygen Saturation", "spo2", "%", None),
    ("WEIGHT", "Weight", "weight_kg", "kg", "weight_reported"),
)
REPORTED_UNITS = {"F": "F", "lb": "LB", "C": "C", "kg": "kg"}
TIMEPOINTS = {
    "pre_dose": "PRE-DOSE",
    "end_of_infusion": "END OF INFUSION",
    "post_dose": "POST-DOSE",
    "visit": "",
}


def vs_rows(ctx):
    visits = {v.pk: v for v in ctx.records(Visit)}
    by_subject: dict[int, list[VitalSigns]] = {}
    for record in ctx.records(VitalSigns):
        by_subject.setdefault(record.subject_id, []).append(record)
    for subject in ctx.subjects():
        records = by_subject.get(subject.pk, [])
        for testcd, test, field, unit, reported in VITAL_TESTS:
            present = [r for r in records if getattr(r, field) is not None]
            baseline = _before_exposure(
                ctx, subject, present, lambda r: r.measured_on, lambda r: ""
            )
            for record in present:
                value = getattr(record, field)
                original, original_unit = _text(value), unit
                typed = getattr(record, reported) if reported else ""
                if typed:
                    number, typed_unit = typed.rsplit(" ", 1)
                    original, original_unit = number, REPORTED_UNITS.get(typed_unit, typed_unit)
                when = dtc(record.measured_on)
                visit = visits.get(record.visit_id)
                visitnum, visit_name = visit_number(visit.code) if visit else (None, "")
                yield {
                    "STUDYID": ctx.studyid,
                    "DOMAIN": "VS",
                    "USUBJID": ctx.usubjid(subject),
                    "VSSPID": str(record.pk),
                    "VSTESTCD": testcd,
                    "VSTEST": test,
                    "VSORRES": original,
                    "VSORRESU": original_unit,
                    "VSSTRESC": _text(value),
                    "VSSTRESN": _float(value),
                    "VSSTRESU": unit,
                    "VSLOBXFL": "Y" if record.pk in baseline else "",
                    "VISITNUM": visitnum,
                    "VISIT": visit_name,
                    "EPOCH": ctx.epoch(subject, when),
                    "VSDTC": when,
                    "VSDY": ctx.study_day(subject, when),
                    "VSTPT": TIMEPOINTS[record.timepoint],
                }


def _timing_variables(prefix: str, what: str) -> tuple[Variable, ...]:
    return (
        V("VISITNUM", "Visit Number", "Num", "Exp", "Derived", "From the visit code (see above)"),
        V("VISIT", "Visit Name", "Char", "Perm", "Derived", "SCREENING / CYCLE <c> DAY <d> / ..."),
        epoch_variable(),
        V(f"{prefix}DTC", what, "Char", "Exp", "Collected", "The date entered on the form"),
        V(
            f"{prefix}DY",
            f"Study Day of {'Vital Signs' if prefix == 'VS' else 'Specimen Collection'}",
            "Num",
            "Perm",
            "Derived",
            f"{prefix}DTC - RFSTDTC (+1 on or after it)",
        ),
    )


VS = register(
    Domain(
        code="VS",
        rows=vs_rows,
        label="Vital Signs",
        observation_class="FINDINGS",
        structure="One record per vital sign measurement per time point per visit per subject",
        keys=("STUDYID", "USUBJID", "VSTESTCD", "VISITNUM", "VSDTC", "VSSPID"),
        sort=("USUBJID", "VSTESTCD", "VSDTC", "VSSPID"),
        variables=(
            *identifiers("VS"),
            V(
                "VSSPID",
                "Sponsor-Defined Identifier",
                "Char",
                "Perm",
                "Assigned",
                "The EDC's record number of the vital signs form",
            ),
            V(
                "VSTESTCD",
                "Vital Signs Test Short Name",
                "Char",
                "Req",
                "Assigned",
                "The sign measured",
                "VSTESTCD",
            ),
            V(
                "VSTEST",
                "Vital Signs Test Name",
                "Char",
                "Req",
                "Assigned",
                "The sign measured",
                "VSTEST",
            ),
            V(
                "VSORRES",
                "Result or Finding in Original Units",
                "Char",
                "Exp",
                "Collected",
                "As typed",
            ),
            V("VSORRESU", "Original Units", "Char", "Exp", "Collected", "As typed", "VSRESU"),
            V(
                "VSSTRESC",
                "Character Result/Finding in Std Format",
                "Char",
                "Exp",
                "Derived",
                "In the standard unit (docs/visits.md §6)",
            ),
            V(
                "VSSTRESN",
                "Numeric Result/Finding in Standard Units",
                "Num",
                "Exp",
                "Derived",
                "In the standard unit",
                data_type="float",
            ),
            V(
                "VSSTRESU",
                "Standard Units",
                "Char",
                "Exp",
                "Assigned",
                "The sign's standard unit",
                "VSRESU",
            ),
            V(
                "VSLOBXFL",
                "Last Observation Before Exposure Flag",
                "Char",
                "Exp",
                "Derived",
                "Last non-missing value of the test on or before the first dose date",
                "NY",
            ),
            *_timing_variables("VS", "Date/Time of Measurements"),
            V(
                "VSTPT",
                "Planned Time Point Name",
                "Char",
                "Perm",
                "Collected",
                "VitalSigns.timepoint (empty at a visit without infusion)",
            ),
        ),
    )
)


# --- LB -------------------------------------------------------------------------------------

# The casebook's test codes that CDISC CT names differently (LBTESTCD, C65047).
LBTESTCD = {"LIPASE": "LIPASET"}
HEMATOLOGY = {"NEUT", "PLAT", "WBC", "LYM", "CD4", "HGB"}
COAGULATION = {"INR", "APTT"}
NO_UNIT = {"ratio", "pH"}
NRIND = {"L": "LOW", "N": "NORMAL", "H": "HIGH", "": ""}


def _test_names() -> dict[str, str]:
    """LBTESTCD -> LBTEST: the LBTEST term of the same NCI code (CT LBTEST follows LBTESTCD)."""
    ct = terminology()
    by_code = {term.code: value for value, term in ct["LBTEST"].terms.items()}
    return {value: by_code.get(term.code, "") for value, term in ct["LBTESTCD"].terms.items()}


def _unit(unit: str) -> str:
    return "" if unit in NO_UNIT else unit


def lb_rows(ctx):
    visits = {v.pk: v for v in ctx.records(Visit)}
    names = _test_names()
    by_subject: dict[int, list[LabResult]] = {}
    for record in ctx.records(LabResult):
        by_subject.setdefault(record.subject_id, []).append(record)
    for subject in ctx.subjects():
        records = by_subject.get(subject.pk, [])
        baseline = _before_exposure(ctx, subject, records, lambda r: r.sampled_on, lambda r: r.test)
        for record in records:
            test = lab_test(record.test)
            testcd = LBTESTCD.get(test.code, test.code)
            conversion = test.conversion(record.unit)
            low = high = None
            if record.normal_low is not None:
                low = conversion.to_standard(record.normal_low)
            if record.normal_high is not None:
                high = conversion.to_standard(record.normal_high)
            when = dtc(record.sampled_on)
            visit = visits.get(record.visit_id)
            visitnum, visit_name = visit_number(visit.code) if visit else (None, "")
            yield {
                "STUDYID": ctx.studyid,
                "DOMAIN": "LB",
                "USUBJID": ctx.usubjid(subject),
                "LBSPID": str(record.pk),
                "LBTESTCD": testcd,
                "LBTEST": names.get(testcd) or test.name,
                "LBCAT": "HEMATOLOGY"
                if test.code in HEMATOLOGY
                else "COAGULATION"
                if test.code in COAGULATION
                else "CHEMISTRY",
                "LBORRES": _text(record.value),
                "LBORRESU": _unit(conversion.unit),
                "LBORNRLO": _text(record.normal_low),
                "LBORNRHI": _text(record.normal_high),
                "LBSTRESC": _text(record.standard_value),
                "LBSTRESN": _float(record.standard_value),
                "LBSTRESU": _unit(record.standard_unit),
                "LBSTNRLO": _float(low),
                "LBSTNRHI": _float(high),
                "LBNRIND": NRIND[record.reference_flag],
                "LBLOBXFL": "Y" if record.pk in baseline else "",
                "LBTOX": record.ctcae_term.upper() if record.ctcae_grade else "",
                "LBTOXGR": "" if record.ctcae_grade is None else str(record.ctcae_grade),
                "VISITNUM": visitnum,
                "VISIT": visit_name,
                "EPOCH": ctx.epoch(subject, when),
                "LBDTC": when,
                "LBDY": ctx.study_day(subject, when),
            }


LB = register(
    Domain(
        code="LB",
        rows=lb_rows,
        label="Laboratory Test Results",
        observation_class="FINDINGS",
        structure="One record per lab test per time point per visit per subject",
        keys=("STUDYID", "USUBJID", "LBTESTCD", "VISITNUM", "LBDTC", "LBSPID"),
        sort=("USUBJID", "LBTESTCD", "LBDTC", "LBSPID"),
        variables=(
            *identifiers("LB"),
            V(
                "LBSPID",
                "Sponsor-Defined Identifier",
                "Char",
                "Perm",
                "Assigned",
                "The EDC's record number of the lab result",
            ),
            V(
                "LBTESTCD",
                "Lab Test or Examination Short Name",
                "Char",
                "Req",
                "Assigned",
                "LabResult.test (LIPASE as LIPASET)",
                "LBTESTCD",
            ),
            V(
                "LBTEST",
                "Lab Test or Examination Name",
                "Char",
                "Req",
                "Assigned",
                "The CT name of LBTESTCD",
                "LBTEST",
            ),
            V(
                "LBCAT",
                "Category for Lab Test",
                "Char",
                "Exp",
                "Assigned",
                "HEMATOLOGY, CHEMISTRY or COAGULATION by test",
            ),
            V(
                "LBORRES",
                "Result or Finding in Original Units",
                "Char",
                "Exp",
                "Collected",
                "LabResult.value",
            ),
            V(
                "LBORRESU",
                "Original Units",
                "Char",
                "Exp",
                "Collected",
                "LabResult.unit (normalised spelling)",
                "UNIT",
            ),
            V(
                "LBORNRLO",
                "Reference Range Lower Limit in Orig Unit",
                "Char",
                "Exp",
                "Collected",
                "LabResult.normal_low",
            ),
            V(
                "LBORNRHI",
                "Reference Range Upper Limit in Orig Unit",
                "Char",
                "Exp",
                "Collected",
                "LabResult.normal_high",
            ),
            V(
                "LBSTRESC",
                "Character Result/Finding in Std Format",
                "Char",
                "Exp",
                "Derived",
                "LabResult.standard_value (docs/visits.md §3)",
            ),
            V(
                "LBSTRESN",
                "Numeric Result/Finding in Standard Units",
                "Num",
                "Exp",
                "Derived",
                "LabResult.standard_value",
                data_type="float",
            ),
            V(
                "LBSTRESU",
                "Standard Units",
                "Char",
                "Exp",
                "Assigned",
                "The test's standard unit",
                "UNIT",
            ),
            V(
                "LBSTNRLO",
                "Reference Range Lower Limit-Std Units",
                "Num",
                "Exp",
                "Derived",
                "normal_low in the standard unit",
                data_type="float",
            ),
            V(
                "LBSTNRHI",
                "Reference Range Upper Limit-Std Units",
                "Num",
                "Exp",
                "Derived",
                "normal_high in the standard unit",
                data_type="float",
            ),
            V(
                "LBNRIND",
                "Reference Range Indicator",
                "Char",
                "Exp",
                "Derived",
                "LOW / NORMAL / HIGH against the site lab's range; empty without a range",
                "NRIND",
            ),
            V(
                "LBLOBXFL",
                "Last Observation Before Exposure Flag",
                "Char",
                "Exp",
                "Derived",
                "Last result of the test on or before the first dose date",
                "NY",
            ),
            V(
                "LBTOX",
                "Toxicity",
                "Char",
                "Perm",
                "Derived",
                "The CTCAE v5.0 term graded (docs/visits.md §4)",
            ),
            V(
                "LBTOXGR",
                "Standard Toxicity Grade",
                "Char",
                "Perm",
                "Derived",
                "The CTCAE v5.0 grade; empty when not graded (no normal range)",
            ),
            *_timing_variables("LB", "Date/Time of Specimen Collection"),
        ),
    )
)


# --- CM -------------------------------------------------------------------------------------


CM_CONCOMITANT = "CONCOMITANT MEDICATION"
PRIOR_CANCER_THERAPY = "PRIOR CANCER THERAPY"
SUBSEQUENT_THERAPY = "SUBSEQUENT ANTICANCER THERAPY"
SETTING_TEXT = {code: label.upper() for code, label in SETTINGS}
STOP_TEXT = {code: label.upper() for code, label in STOP_REASONS}
# Best response to a prior therapy: the RECIST words of CT ONCRSR (CR, PR, SD, PD, NE), and the
# two answers it has no term for in words.
RESPONSE_TEXT = {code: code for code, _ in RESPONSES} | {
    "UNK": "UNKNOWN",
    "NA": "NOT APPLICABLE",
}


def _stop_reason(therapy: PriorCancerTherapy) -> str:
    if therapy.stop_reason == "other":
        return therapy.stop_reason_other
    return STOP_TEXT.get(therapy.stop_reason, "")


def _prior_therapy_supp(therapy: PriorCancerTherapy) -> dict[str, str]:
    return {
        "TRTSETNG": SETTING_TEXT.get(therapy.setting, ""),
        "BESTRESP": RESPONSE_TEXT.get(therapy.best_response, ""),
        "THERLINE": "" if therapy.line is None else str(therapy.line),
    }


def _by_subject(records) -> dict[int, list]:
    out: dict[int, list] = {}
    for record in records:
        out.setdefault(record.subject_id, []).append(record)
    return out


def _prior_systemic_rows(ctx, subject, therapies):
    """Prior systemic cancer therapy: CM with CMCAT PRIOR CANCER THERAPY (docs/visits.md §9).
    Before the study: no epoch; study days only for complete dates."""
    for therapy in therapies:
        if therapy.therapy_type != "systemic":
            continue
        yield {
            "STUDYID": ctx.studyid,
            "DOMAIN": "CM",
            "USUBJID": ctx.usubjid(subject),
            "CMSPID": f"PT-{therapy.pk}",
            "CMTRT": therapy.treatment,
            "CMCAT": PRIOR_CANCER_THERAPY,
            "CMRSDISC": _stop_reason(therapy),
            "CMSTDTC": therapy.start_date,
            "CMENDTC": therapy.end_date,
            "CMSTDY": ctx.study_day(subject, therapy.start_date),
            "CMENDY": ctx.study_day(subject, therapy.end_date),
            "SUPP": _prior_therapy_supp(therapy),
        }


def cm_rows(ctx):
    by_subject = _by_subject(ctx.records(ConcomitantMedication))
    therapies = _by_subject(ctx.records(PriorCancerTherapy))
    contacts = _by_subject(ctx.records(SurvivalContact))
    for subject in ctx.subjects():
        for record in by_subject.get(subject.pk, []):
            start, end = dtc(record.start_date), dtc(record.end_date)
            yield {
                "STUDYID": ctx.studyid,
                "DOMAIN": "CM",
                "USUBJID": ctx.usubjid(subject),
                "CMSPID": str(record.pk),
                "CMTRT": record.medication,
                "CMCAT": CM_CONCOMITANT,
                "CMINDC": record.indication,
                "CMCLASCD": record.atc_code,
                "CMDOSE": _float(record.dose),
                "CMDOSU": record.dose_unit,
                "CMDOSFRQ": record.frequency,
                "CMROUTE": record.route,
                "EPOCH": ctx.epoch(subject, start),
                "CMSTDTC": start,
                "CMENDTC": end,
                "CMSTDY": ctx.study_day(subject, start),
                "CMENDY": ctx.study_day(subject, end),
                "CMENRTPT": "ONGOING" if record.ongoing else "",
                "CMENTPT": "END OF DATA COLLECTION" if record.ongoing else "",
                "SUPP": {"CMAEID": str(record.adverse_event_id or "")},
            }
        yield from _prior_systemic_rows(ctx, subject, therapies.get(subject.pk, []))
        yield from _subsequent_therapy_rows(ctx, subject, contacts.get(subject.pk, []))


def _subsequent_therapy_rows(ctx, subject, contacts):
    """The new anticancer therapy a survival contact reports: CM with CMCAT SUBSEQUENT
    ANTICANCER THERAPY, the regimen as recorded, its start (docs/visits.md §9). The form
    records no type, so a regimen is a medication (CM), not a procedure (PR)."""
    for contact in contacts:
        if not contact.new_therapy or contact.new_therapy_start is None:
            continue
        start = dtc(contact.new_therapy_start)
        yield {
            "STUDYID": ctx.studyid,
            "DOMAIN": "CM",
            "USUBJID": ctx.usubjid(subject),
            "CMSPID": f"SC-{contact.pk}",
            "CMTRT": contact.new_therapy_regimen,
            "CMCAT": SUBSEQUENT_THERAPY,
            "EPOCH": ctx.epoch(subject, start),
            "CMSTDTC": start,
            "CMSTDY": ctx.study_day(subject, start),
            "SUPP": {},
        }


def _prior_therapy_qualifiers(domain: str) -> tuple[Qualifier, ...]:
    return (
        Qualifier(
            "TRTSETNG",
            "Setting of Prior Cancer Therapy",
            "Collected",
            "PriorCancerTherapy.setting",
        ),
        Qualifier(
            "BESTRESP",
            "Best Response to Prior Cancer Therapy",
            "Collected",
            "PriorCancerTherapy.best_response",
            qeval="INVESTIGATOR",
        ),
        *(
            (
                Qualifier(
                    "THERLINE",
                    "Line of Therapy",
                    "Collected",
                    "PriorCancerTherapy.line (advanced disease)",
                ),
            )
            if domain == "CM"
            else (
                Qualifier(
                    "PRRSDISC",
                    "Reason the Intervention Was Discontinued",
                    "Collected",
                    "PriorCancerTherapy.stop_reason",
                ),
            )
        ),
    )


CM = register(
    Domain(
        code="CM",
        rows=cm_rows,
        label="Concomitant/Prior Medications",
        observation_class="INTERVENTIONS",
        structure="One record per recorded intervention occurrence or constant-dosing interval "
        "per subject",
        keys=("STUDYID", "USUBJID", "CMTRT", "CMSTDTC", "CMSPID"),
        sort=("USUBJID", "CMSTDTC", "CMTRT", "CMSPID"),
        variables=(
            *identifiers("CM"),
            V(
                "CMSPID",
                "Sponsor-Defined Identifier",
                "Char",
                "Perm",
                "Assigned",
                "The EDC's record number of the medication; PT- and the prior therapy's, SC- "
                "and the survival contact's",
            ),
            V(
                "CMTRT",
                "Reported Name of Drug, Med, or Therapy",
                "Char",
                "Req",
                "Collected",
                "ConcomitantMedication.medication (verbatim); PriorCancerTherapy.treatment; "
                "SurvivalContact.new_therapy_regimen",
            ),
            V(
                "CMCAT",
                "Category for Medication",
                "Char",
                "Perm",
                "Assigned",
                "CONCOMITANT MEDICATION; PRIOR CANCER THERAPY for prior systemic therapy; "
                "SUBSEQUENT ANTICANCER THERAPY for a survival contact's new therapy",
            ),
            V(
                "CMINDC",
                "Indication",
                "Char",
                "Perm",
                "Collected",
                "ConcomitantMedication.indication",
            ),
            V(
                "CMCLASCD",
                "Medication Class Code",
                "Char",
                "Perm",
                "Assigned",
                "WHO ATC code, when coded",
            ),
            V(
                "CMDOSE",
                "Dose per Administration",
                "Num",
                "Perm",
                "Collected",
                "ConcomitantMedication.dose",
                data_type="float",
            ),
            V(
                "CMDOSU",
                "Dose Units",
                "Char",
                "Perm",
                "Collected",
                "ConcomitantMedication.dose_unit",
                "UNIT",
            ),
            V(
                "CMDOSFRQ",
                "Dosing Frequency per Interval",
                "Char",
                "Perm",
                "Collected",
                "ConcomitantMedication.frequency",
                "FREQ",
            ),
            V(
                "CMROUTE",
                "Route of Administration",
                "Char",
                "Perm",
                "Collected",
                "ConcomitantMedication.route",
                "ROUTE",
            ),
            V(
                "CMRSDISC",
                "Reason the Intervention Was Discontinued",
                "Char",
                "Perm",
                "Collected",
                "PriorCancerTherapy.stop_reason (the reason in words when other)",
            ),
            epoch_variable(),
            V(
                "CMSTDTC",
                "Start Date/Time of Medication",
                "Char",
                "Perm",
                "Collected",
                "ConcomitantMedication.start_date; PriorCancerTherapy.start_date (as far as known)",
            ),
            V(
                "CMENDTC",
                "End Date/Time of Medication",
                "Char",
                "Perm",
                "Collected",
                "ConcomitantMedication.end_date",
            ),
            V(
                "CMSTDY",
                "Study Day of Start of Medication",
                "Num",
                "Perm",
                "Derived",
                "CMSTDTC - RFSTDTC (+1 on or after it)",
            ),
            V(
                "CMENDY",
                "Study Day of End of Medication",
                "Num",
                "Perm",
                "Derived",
                "CMENDTC - RFSTDTC (+1 on or after it)",
            ),
            V(
                "CMENRTPT",
                "End Relative to Reference Time Point",
                "Char",
                "Perm",
                "Derived",
                "ONGOING when marked ongoing",
                "STENRF",
            ),
            V(
                "CMENTPT",
                "End Reference Time Point",
                "Char",
                "Perm",
                "Assigned",
                "END OF DATA COLLECTION when ongoing",
            ),
        ),
        qualifiers=(
            Qualifier(
                "CMAEID",
                "Adverse Event Treated (AESPID)",
                "Collected",
                "ConcomitantMedication.adverse_event",
            ),
            *_prior_therapy_qualifiers("CM"),
        ),
    )
)


# --- MH -------------------------------------------------------------------------------------


MH_GENERAL = "GENERAL MEDICAL HISTORY"
MH_CANCER = "CANCER HISTORY"
# The cancer history is ongoing at screening, where it is collected.
CANCER_ONGOING = {"MHENRTPT": "ONGOING", "MHENTPT": "SCREENING"}
SITE_WORDS = {code: code.capitalize() for code, _ in METASTATIC_SITES}


def _stage(value: str) -> str:
    return "UNKNOWN" if value == "unknown" else value


def _cancer_rows(ctx, subject, history: CancerHistory):
    """The cancer history as MH records with MHCAT CANCER HISTORY (docs/visits.md §9): the
    primary diagnosis (its stages in SUPPMH), the metastatic or advanced disease, each site of
    metastases."""
    base = {
        "STUDYID": ctx.studyid,
        "DOMAIN": "MH",
        "USUBJID": ctx.usubjid(subject),
        "MHCAT": MH_CANCER,
        **CANCER_ONGOING,
    }
    yield {
        **base,
        "MHSPID": f"CH-{history.pk}",
        "MHTERM": history.diagnosis,
        "MHEVDTYP": "INITIAL DIAGNOSIS",
        "MHSCAT": "PRIMARY DIAGNOSIS",
        "MHSTDTC": history.diagnosis_date,
        "SUPP": {
            "MHSTGDX": _stage(history.stage_at_diagnosis),
            "MHTNMDX": history.tnm_at_diagnosis,
            "MHSTGEN": _stage(history.stage_at_entry),
            "MHTNMEN": history.tnm_at_entry,
        },
    }
    if history.advanced_disease_date:
        yield {
            **base,
            "MHSPID": f"CH-{history.pk}-A",
            "MHTERM": "Metastatic disease" if history.metastatic_sites else "Advanced disease",
            "MHEVDTYP": "DIAGNOSIS",
            "MHSCAT": "ADVANCED DISEASE",
            "MHSTDTC": history.advanced_disease_date,
        }
    sites = [f"{SITE_WORDS[c]} metastases" for c in history.metastatic_sites if c != "OTHER"]
    if history.metastatic_sites_other:
        sites.append(f"Metastases: {history.metastatic_sites_other}")
    for number, term in enumerate(sites, start=1):
        yield {
            **base,
            "MHSPID": f"CH-{history.pk}-M{number}",
            "MHTERM": term,
            "MHSCAT": "METASTATIC SITE",
        }


def mh_rows(ctx):
    by_subject = _by_subject(ctx.records(MedicalHistory))
    histories = _by_subject(ctx.records(CancerHistory))
    coded = {r.ctcae_term_id for rows in by_subject.values() for r in rows if r.ctcae_term_id}
    terms = {t.pk: t for t in CtcaeTerm.objects.filter(pk__in=coded)}
    for subject in ctx.subjects():
        for history in histories.get(subject.pk, []):
            yield from _cancer_rows(ctx, subject, history)
        for record in by_subject.get(subject.pk, []):
            term = terms.get(record.ctcae_term_id)
            start = dtc(PartialDate(record.start_year, record.start_month, record.start_day))
            yield {
                "STUDYID": ctx.studyid,
                "DOMAIN": "MH",
                "USUBJID": ctx.usubjid(subject),
                "MHSPID": str(record.pk),
                "MHTERM": record.term,
                "MHDECOD": term.term if term else "",
                "MHCAT": MH_GENERAL,
                "MHBODSYS": term.soc if term else "",
                "MHSTDTC": start,
                "MHENDTC": dtc(record.end_date),
                "MHENRTPT": "ONGOING" if record.ongoing else "",
                "MHENTPT": "FIRST DOSE" if record.ongoing else "",
                "SUPP": {
                    "MHTOXGR": "" if record.baseline_grade is None else str(record.baseline_grade)
                },
            }


MH = register(
    Domain(
        code="MH",
        rows=mh_rows,
        label="Medical History",
        observation_class="EVENTS",
        structure="One record per medical history event per subject",
        keys=("STUDYID", "USUBJID", "MHTERM", "MHSTDTC", "MHSPID"),
        sort=("USUBJID", "MHSTDTC", "MHTERM", "MHSPID"),
        variables=(
            *identifiers("MH"),
            V(
                "MHSPID",
                "Sponsor-Defined Identifier",
                "Char",
                "Perm",
                "Assigned",
                "The EDC's record number of the condition",
            ),
            V(
                "MHTERM",
                "Reported Term for the Medical History",
                "Char",
                "Req",
                "Collected",
                "MedicalHistory.term (verbatim); cancer history: '<histology> of <primary "
                "site>', the metastatic or advanced disease, '<site> metastases'",
            ),
            V(
                "MHDECOD",
                "Dictionary-Derived Term",
                "Char",
                "Perm",
                "Assigned",
                "The CTCAE v5.0 term chosen (a MedDRA lowest level term)",
                "MedDRA",
            ),
            V(
                "MHEVDTYP",
                "Medical History Event Date Type",
                "Char",
                "Perm",
                "Assigned",
                "Cancer history: INITIAL DIAGNOSIS (primary), DIAGNOSIS (advanced disease)",
                "MHEDTTYP",
            ),
            V(
                "MHCAT",
                "Category for Medical History",
                "Char",
                "Perm",
                "Assigned",
                "GENERAL MEDICAL HISTORY, or CANCER HISTORY (CancerHistory)",
            ),
            V(
                "MHSCAT",
                "Subcategory for Medical History",
                "Char",
                "Perm",
                "Assigned",
                "Cancer history: PRIMARY DIAGNOSIS, ADVANCED DISEASE or METASTATIC SITE",
            ),
            V(
                "MHBODSYS",
                "Body System or Organ Class",
                "Char",
                "Perm",
                "Assigned",
                "The CTCAE term's system organ class",
                "MedDRA",
            ),
            V(
                "MHSTDTC",
                "Start Date/Time of Medical History Event",
                "Char",
                "Perm",
                "Collected",
                "Year, month and day as far as known (cancer history: the diagnosis dates)",
            ),
            V(
                "MHENDTC",
                "End Date/Time of Medical History Event",
                "Char",
                "Perm",
                "Collected",
                "MedicalHistory.end_date",
            ),
            V(
                "MHENRTPT",
                "End Relative to Reference Time Point",
                "Char",
                "Perm",
                "Derived",
                "ONGOING when ongoing at the first dose; the cancer history, at screening",
                "STENRF",
            ),
            V(
                "MHENTPT",
                "End Reference Time Point",
                "Char",
                "Perm",
                "Assigned",
                "FIRST DOSE when ongoing; SCREENING for the cancer history",
            ),
        ),
        qualifiers=(
            Qualifier(
                "MHTOXGR",
                "CTCAE Grade at First Dose",
                "Collected",
                "MedicalHistory.baseline_grade",
                qeval="INVESTIGATOR",
            ),
            Qualifier(
                "MHSTGDX",
                "AJCC Stage at Initial Diagnosis",
                "Collected",
                "CancerHistory.stage_at_diagnosis (AJCC 8th edition stage group)",
            ),
            Qualifier(
                "MHTNMDX", "TNM at Initial Diagnosis", "Collected", "CancerHistory.tnm_at_diagnosis"
            ),
            Qualifier(
                "MHSTGEN",
                "AJCC Stage at Study Entry",
                "Collected",
                "CancerHistory.stage_at_entry (AJCC 8th edition stage group)",
            ),
            Qualifier("MHTNMEN", "TNM at Study Entry", "Collected", "CancerHistory.tnm_at_entry"),
        ),
    )
)


# --- EG -------------------------------------------------------------------------------------

# EGTESTCD of what the ECG form records, with the standard unit (CT EGTESTCD, UNIT).
EG_UNITS = {
    "QTAG": "ms",
    "RRAG": "ms",
    "EGHRMN": "beats/min",
    "PRAG": "ms",
    "QRSAG": "ms",
    "QTCFAG": "ms",
    "INTP": "",
}
# The reading: EGORRES/EGSTRESC (CT NORMABNM) and EGCLSIG.
READINGS = {
    "normal": ("NORMAL", ""),
    "abnormal_ncs": ("ABNORMAL", "N"),
    "abnormal_cs": ("ABNORMAL", "Y"),
}
QTC_TERM = "ELECTROCARDIOGRAM QT CORRECTED INTERVAL PROLONGED"


def _ct_names(code_list: str, name_list: str) -> dict[str, str]:
    """Test code -> test name: the name list's term of the same NCI code."""
    ct = terminology()
    by_code = {term.code: value for value, term in ct[name_list].terms.items()}
    return {value: by_code.get(term.code, "") for value, term in ct[code_list].terms.items()}


def _ecg_results(ecg: EcgAssessment):
    """(EGTESTCD, result, EGREPNUM, derived) of one ECG time point (docs/visits.md §9): each
    tracing's QT with its RR or heart rate (numbered only in a triplicate), each tracing's
    QTcF when there are several, then the time point's mean QTcF, PR, QRS and reading."""
    tracings = [n for n in (1, 2, 3) if getattr(ecg, f"qt_ms_{n}") is not None]
    replicated = len(tracings) > 1
    for index, n in enumerate(tracings):
        repeat = n if replicated else None
        yield "QTAG", getattr(ecg, f"qt_ms_{n}"), repeat, False
        for testcd, name in (("RRAG", "rr_ms"), ("EGHRMN", "heart_rate")):
            value = getattr(ecg, f"{name}_{n}")
            if value is not None:
                yield testcd, value, repeat, False
        if replicated and index < len(ecg.qtcf_replicates):
            yield "QTCFAG", Decimal(ecg.qtcf_replicates[index]), repeat, True
    yield "QTCFAG", ecg.qtcf_ms, None, True
    for testcd, value in (("PRAG", ecg.pr_ms), ("QRSAG", ecg.qrs_ms)):
        if value is not None:
            yield testcd, value, None, False
    yield "INTP", ecg.interpretation, None, False


def _ecg_baseline(ctx, subject, ecgs: list[EcgAssessment]) -> set[tuple[str, int]]:
    """(test, ECG) of the last time-point result of each test on or before the first dose date
    (EGLOBXFL); replicate records carry no flag."""
    first = ctx.first_dose(subject)
    if first is None:
        return set()
    last: dict[str, tuple] = {}
    for ecg in ecgs:
        if ecg.recorded_on > first.administered_on:
            continue
        for testcd, _, repeat, _ in _ecg_results(ecg):
            key = (ecg.recorded_on, ecg.pk)
            if repeat is None and (testcd not in last or key > last[testcd]):
                last[testcd] = key
    return {(testcd, pk) for testcd, (_, pk) in last.items()}


def _eg_result(testcd: str, value) -> dict:
    if testcd == "INTP":
        reading, significant = READINGS[value]
        return {"EGORRES": reading, "EGSTRESC": reading, "EGCLSIG": significant}
    unit = EG_UNITS[testcd]
    return {
        "EGORRES": _text(Decimal(value)),
        "EGORRESU": unit,
        "EGSTRESC": _text(Decimal(value)),
        "EGSTRESN": _float(value),
        "EGSTRESU": unit,
    }


def eg_rows(ctx):
    visits = {v.pk: v for v in ctx.records(Visit)}
    names = _ct_names("EGTESTCD", "EGTEST")
    by_subject = _by_subject(ctx.records(EcgAssessment))
    for subject in ctx.subjects():
        ecgs = by_subject.get(subject.pk, [])
        baseline = _ecg_baseline(ctx, subject, ecgs)
        for ecg in ecgs:
            when = dtc(ecg.recorded_on)
            visit = visits.get(ecg.visit_id)
            visitnum, visit_name = visit_number(visit.code) if visit else (None, "")
            for testcd, value, repeat, derived in _ecg_results(ecg):
                graded = testcd == "QTCFAG" and repeat is None
                yield {
                    "STUDYID": ctx.studyid,
                    "DOMAIN": "EG",
                    "USUBJID": ctx.usubjid(subject),
                    "EGSPID": str(ecg.pk),
                    "EGTESTCD": testcd,
                    "EGTEST": names[testcd],
                    **_eg_result(testcd, value),
                    "EGLOBXFL": "Y" if repeat is None and (testcd, ecg.pk) in baseline else "",
                    "EGDRVFL": "Y" if derived else "",
                    "EGREPNUM": repeat,
                    "VISITNUM": visitnum,
                    "VISIT": visit_name,
                    "EPOCH": ctx.epoch(subject, when),
                    "EGDTC": when,
                    "EGDY": ctx.study_day(subject, when),
                    "EGTPT": TIMEPOINTS[ecg.timepoint],
                    "SUPP": {
                        "EGTOX": QTC_TERM if graded and ecg.qtc_grade else "",
                        "EGTOXGR": str(ecg.qtc_grade) if graded else "",
                    },
                }


EG = register(
    Domain(
        code="EG",
        rows=eg_rows,
        label="ECG Test Results",
        observation_class="FINDINGS",
        structure="One record per ECG observation per replicate per time point or one record "
        "per ECG observation per beat per visit per subject",
        keys=("STUDYID", "USUBJID", "EGTESTCD", "EGDTC", "EGSPID", "EGREPNUM"),
        sort=("USUBJID", "EGDTC", "EGSPID", "EGTESTCD", "EGREPNUM"),
        variables=(
            *identifiers("EG"),
            V(
                "EGSPID",
                "Sponsor-Defined Identifier",
                "Char",
                "Perm",
                "Assigned",
                "The EDC's record number of the ECG time point",
            ),
            V(
                "EGTESTCD",
                "ECG Test or Examination Short Name",
                "Char",
                "Req",
                "Assigned",
                "QTAG, RRAG, EGHRMN per tracing; QTCFAG, PRAG, QRSAG, INTP per time point",
                "EGTESTCD",
            ),
            V(
                "EGTEST",
                "ECG Test or Examination Name",
                "Char",
                "Req",
                "Assigned",
                "The CT name of EGTESTCD",
                "EGTEST",
            ),
            V(
                "EGORRES",
                "Result or Finding in Original Units",
                "Char",
                "Exp",
                "Collected",
                "As entered (ms, beats/min); QTcF derived; the reading NORMAL or ABNORMAL",
            ),
            V("EGORRESU", "Original Units", "Char", "Perm", "Assigned", "ms or beats/min", "UNIT"),
            V(
                "EGSTRESC",
                "Character Result/Finding in Std Format",
                "Char",
                "Exp",
                "Derived",
                "EGORRES (the reading in CT NORMABNM)",
            ),
            V(
                "EGSTRESN",
                "Numeric Result/Finding in Standard Units",
                "Num",
                "Perm",
                "Derived",
                "The interval in ms, the heart rate in beats/min",
                data_type="float",
            ),
            V("EGSTRESU", "Standard Units", "Char", "Perm", "Assigned", "ms or beats/min", "UNIT"),
            V(
                "EGLOBXFL",
                "Last Observation Before Exposure Flag",
                "Char",
                "Exp",
                "Derived",
                "Last time-point result of the test on or before the first dose date (not the "
                "replicates)",
                "NY",
            ),
            V(
                "EGDRVFL",
                "Derived Flag",
                "Char",
                "Perm",
                "Derived",
                "Y for QTcF: Fridericia per tracing and the time point's mean (docs/visits.md §7)",
                "NY",
            ),
            V(
                "EGCLSIG",
                "Clinically Significant, Collected",
                "Char",
                "Perm",
                "Collected",
                "For an abnormal reading: clinically significant or not",
                "NY",
            ),
            V(
                "EGREPNUM",
                "Repetition Number",
                "Num",
                "Perm",
                "Assigned",
                "The tracing (1-3) of a triplicate",
            ),
            V("VISITNUM", "Visit Number", "Num", "Exp", "Derived", "From the visit code"),
            V(
                "VISIT",
                "Visit Name",
                "Char",
                "Perm",
                "Derived",
                "SCREENING / CYCLE <c> DAY <d> / ...",
            ),
            epoch_variable(),
            V("EGDTC", "Date/Time of ECG", "Char", "Exp", "Collected", "EcgAssessment.recorded_on"),
            V(
                "EGDY",
                "Study Day of ECG",
                "Num",
                "Perm",
                "Derived",
                "EGDTC - RFSTDTC (+1 on or after it)",
            ),
            V(
                "EGTPT",
                "Planned Time Point Name",
                "Char",
                "Perm",
                "Collected",
                "EcgAssessment.timepoint (empty at a visit without infusion)",
            ),
        ),
        qualifiers=(
            Qualifier(
                "EGTOX",
                "Toxicity",
                "Derived",
                "The CTCAE v5.0 term graded, on the time point's mean QTcF (grade above 0)",
            ),
            Qualifier(
                "EGTOXGR",
                "Standard Toxicity Grade",
                "Derived",
                "The CTCAE v5.0 grade of the mean QTcF (docs/visits.md §7)",
            ),
        ),
    )
)


# --- PR -------------------------------------------------------------------------------------

PR_CATEGORY = {"radiotherapy": "RADIOTHERAPY", "surgery": "SURGERY"}


def pr_rows(ctx):
    """Prior radiotherapy and cancer surgery: PR with PRCAT PRIOR CANCER THERAPY (docs/visits.md
    §9); setting, best response and reason stopped in SUPPPR."""
    therapies = _by_subject(ctx.records(PriorCancerTherapy))
    for subject in ctx.subjects():
        for therapy in therapies.get(subject.pk, []):
            if therapy.therapy_type not in PR_CATEGORY:
                continue
            supp = _prior_therapy_supp(therapy)
            del supp["THERLINE"]
            yield {
                "STUDYID": ctx.studyid,
                "DOMAIN": "PR",
                "USUBJID": ctx.usubjid(subject),
                "PRSPID": f"PT-{therapy.pk}",
                "PRTRT": therapy.treatment,
                "PRCAT": PRIOR_CANCER_THERAPY,
                "PRSCAT": PR_CATEGORY[therapy.therapy_type],
                "PRSTDTC": therapy.start_date,
                "PRENDTC": therapy.end_date,
                "PRSTDY": ctx.study_day(subject, therapy.start_date),
                "PRENDY": ctx.study_day(subject, therapy.end_date),
                "SUPP": {**supp, "PRRSDISC": _stop_reason(therapy)},
            }


PR = register(
    Domain(
        code="PR",
        rows=pr_rows,
        label="Procedures",
        observation_class="INTERVENTIONS",
        structure="One record per recorded procedure per occurrence per subject",
        keys=("STUDYID", "USUBJID", "PRTRT", "PRSTDTC", "PRSPID"),
        sort=("USUBJID", "PRSTDTC", "PRTRT", "PRSPID"),
        variables=(
            *identifiers("PR"),
            V(
                "PRSPID",
                "Sponsor-Defined Identifier",
                "Char",
                "Perm",
                "Assigned",
                "PT- and the EDC's record number of the prior therapy",
            ),
            V(
                "PRTRT",
                "Reported Name of Procedure",
                "Char",
                "Req",
                "Collected",
                "PriorCancerTherapy.treatment (as recorded)",
            ),
            V("PRCAT", "Category", "Char", "Perm", "Assigned", "PRIOR CANCER THERAPY"),
            V(
                "PRSCAT",
                "Subcategory",
                "Char",
                "Perm",
                "Assigned",
                "RADIOTHERAPY or SURGERY (PriorCancerTherapy.therapy_type)",
            ),
            V(
                "PRSTDTC",
                "Start Date/Time of Procedure",
                "Char",
                "Exp",
                "Collected",
                "PriorCancerTherapy.start_date (as far as known)",
            ),
            V(
                "PRENDTC",
                "End Date/Time of Procedure",
                "Char",
                "Perm",
                "Collected",
                "PriorCancerTherapy.end_date (radiotherapy)",
            ),
            V(
                "PRSTDY",
                "Study Day of Start of Procedure",
                "Num",
                "Perm",
                "Derived",
                "PRSTDTC - RFSTDTC, complete dates only",
            ),
            V(
                "PRENDY",
                "Study Day of End of Procedure",
                "Num",
                "Perm",
                "Derived",
                "PRENDTC - RFSTDTC, complete dates only",
            ),
        ),
        qualifiers=_prior_therapy_qualifiers("PR"),
    )
)


# --- RS: ECOG performance status (a clinical classification) ---------------------------------

ECOG = "ECOG"
ECOG_TESTCD = "ECOG101"


def _ecog_results() -> dict[str, str]:
    """RSSTRESC ("0".."5") to RSORRES, the CT's text of each grade: the two codelists of the
    ECOG101 test name the same grade with C-codes in the same order (CDISC CT ECOG101OR,
    ECOG101STR)."""
    ct = terminology()
    texts = [t.value for t in sorted(ct["ECOG101OR"].terms.values(), key=lambda t: t.code)]
    codes = [t.value for t in sorted(ct["ECOG101STR"].terms.values(), key=lambda t: t.code)]
    return dict(zip(codes, texts, strict=True))


def rs_ecog_rows(ctx):
    """Each ECOG assessment: RSCAT ECOG, RSTESTCD ECOG101, RSORRES the grade's text as CDISC
    CT words it, RSSTRESC and RSSTRESN the grade (docs/visits.md §9)."""
    visits = {v.pk: v for v in ctx.records(Visit)}
    results = _ecog_results()
    test = next(iter(terminology()["ECOG1TN"].terms))
    by_subject = _by_subject(ctx.records(EcogAssessment))
    for subject in ctx.subjects():
        for ecog in by_subject.get(subject.pk, []):
            when = dtc(ecog.assessed_on)
            visit = visits.get(ecog.visit_id)
            visitnum, visit_name = visit_number(visit.code) if visit else (None, "")
            grade = str(ecog.status)
            yield {
                "STUDYID": ctx.studyid,
                "DOMAIN": "RS",
                "USUBJID": ctx.usubjid(subject),
                "RSSPID": f"ECOG-{ecog.pk}",
                "RSTESTCD": ECOG_TESTCD,
                "RSTEST": test,
                "RSCAT": ECOG,
                "RSORRES": results[grade],
                "RSSTRESC": grade,
                "RSSTRESN": ecog.status,
                "RSEVAL": "INVESTIGATOR",
                "VISITNUM": visitnum,
                "VISIT": visit_name,
                "EPOCH": ctx.epoch(subject, when),
                "RSDTC": when,
                "RSDY": ctx.study_day(subject, when),
            }


RS_ECOG = contribute(
    Contribution(
        code="RS",
        by="ECOG performance status",
        rows=rs_ecog_rows,
        comment="The ECOG performance status (Oken et al. 1982) is a clinical classification: "
        "RS records with RSCAT ECOG and RSTESTCD ECOG101 (SDTMIG 3.4 RS; CDISC CT ECOG1TC).",
        variables=(
            V("RSSPID", "Sponsor-Defined Identifier", "Char", "Perm", "Assigned",
              "ECOG- and the EDC's record number of the assessment"),
            V("RSTESTCD", "Assessment Short Name", "Char", "Req", "Assigned", '"ECOG101"',
              "ONCRTSCD|ECOG1TC"),
            V("RSTEST", "Assessment Name", "Char", "Req", "Assigned",
              '"ECOG1-Performance Status"', "ONCRTS|ECOG1TN"),
            V("RSCAT", "Category for Assessment", "Char", "Exp", "Assigned", '"ECOG"',
              "ONCRSCAT|CCCAT"),
            V("RSORRES", "Result or Finding in Original Units", "Char", "Exp", "Collected",
              "EcogAssessment.status as the CT words the grade (ECOG101OR)"),
            V("RSSTRESC", "Character Result/Finding in Std Format", "Char", "Exp", "Derived",
              "EcogAssessment.status, 0 to 5", "ONCRSR|ECOG101STR"),
            V("RSSTRESN", "Numeric Result/Finding in Standard Units", "Num", "Perm", "Derived",
              "EcogAssessment.status, 0 to 5"),
            V("RSEVAL", "Evaluator", "Char", "Perm", "Assigned",
              '"INVESTIGATOR": the site assesses the status', "EVAL"),
            V("VISITNUM", "Visit Number", "Num", "Exp", "Derived", "From the visit code"),
            V("VISIT", "Visit Name", "Char", "Perm", "Derived",
              "SCREENING / CYCLE <c> DAY <d> / END OF TREATMENT / ..."),
            epoch_variable(),
            V("RSDTC", "Date/Time of Assessment", "Char", "Exp", "Collected",
              "EcogAssessment.assessed_on"),
            V("RSDY", "Study Day of Assessment", "Num", "Perm", "Derived",
              "RSDTC - RFSTDTC (+1 on or after it)"),
        ),
    )
)  # fmt: skip


# --- SS: survival status ----------------------------------------------------------------------

SURVIVAL_STATUS = {
    SurvivalContact.Status.ALIVE: "ALIVE",
    SurvivalContact.Status.DEAD: "DEAD",
    SurvivalContact.Status.UNKNOWN: "UNKNOWN",
}


def ss_rows(ctx):
    """Each survival follow-up contact: SSTESTCD SURVSTAT, the status ALIVE, DEAD or UNKNOWN
    (CDISC CT SSTATRS) on the contact date (docs/visits.md §9). The date and cause of death are
    the subject's (DM DTHDTC, DS)."""
    visits = {v.pk: v for v in ctx.records(Visit)}
    test = next(iter(terminology()["SSTEST"].terms))
    by_subject = _by_subject(ctx.records(SurvivalContact))
    for subject in ctx.subjects():
        for contact in by_subject.get(subject.pk, []):
            when = dtc(contact.contact_date)
            visit = visits.get(contact.visit_id)
            visitnum, visit_name = visit_number(visit.code) if visit else (None, "")
            status = SURVIVAL_STATUS[SurvivalContact.Status(contact.status)]
            yield {
                "STUDYID": ctx.studyid,
                "DOMAIN": "SS",
                "USUBJID": ctx.usubjid(subject),
                "SSSPID": str(contact.pk),
                "SSTESTCD": "SURVSTAT",
                "SSTEST": test,
                "SSORRES": status,
                "SSSTRESC": status,
                "VISITNUM": visitnum,
                "VISIT": visit_name,
                "EPOCH": ctx.epoch(subject, when),
                "SSDTC": when,
                "SSDY": ctx.study_day(subject, when),
            }


SS = register(
    Domain(
        code="SS",
        rows=ss_rows,
        label="Subject Status",
        observation_class="FINDINGS",
        structure="One record per status per visit per subject",
        keys=("STUDYID", "USUBJID", "SSTESTCD", "SSDTC", "SSSPID"),
        sort=("USUBJID", "SSDTC", "SSTESTCD", "SSSPID"),
        variables=(
            *identifiers("SS"),
            V("SSSPID", "Sponsor-Defined Identifier", "Char", "Perm", "Assigned",
              "The EDC's record number of the survival contact"),
            V("SSTESTCD", "Status Short Name", "Char", "Req", "Assigned", '"SURVSTAT"',
              "SSTESTCD"),
            V("SSTEST", "Status Name", "Char", "Req", "Assigned", '"Survival Status"', "SSTEST"),
            V("SSORRES", "Result or Finding Original Result", "Char", "Exp", "Collected",
              "SurvivalContact.status: ALIVE, DEAD or UNKNOWN (lost to follow-up)"),
            V("SSSTRESC", "Character Result/Finding in Std Format", "Char", "Exp", "Derived",
              "SSORRES", "SSTATRS"),
            V("VISITNUM", "Visit Number", "Num", "Exp", "Derived", "From the visit code"),
            V("VISIT", "Visit Name", "Char", "Perm", "Derived", "SURVIVAL FOLLOW-UP <n>"),
            epoch_variable(),
            V("SSDTC", "Date/Time of Assessment", "Char", "Exp", "Collected",
              "SurvivalContact.contact_date"),
            V("SSDY", "Study Day of Assessment", "Num", "Perm", "Derived",
              "SSDTC - RFSTDTC (+1 on or after it)"),
        ),
    )
)  # fmt: skip
