"""SDTM domains from the dose administrations: EX (exposure, one record per infusion, with
SUPPEX for what EX has no variable for) and SV (the visits the doses and screening give).
Registered with the standards registry at start-up (docs/standards.md §9)."""

from standards.mapping import Domain, Qualifier, Variable, epoch_variable, identifiers
from standards.registry import register
from standards.timing import dtc

V = Variable


def _number(value) -> float:
    return float(value)


def ex_rows(ctx):
    for subject in ctx.subjects():
        for dose in ctx.doses_by_subject.get(subject.pk, []):
            cohort = ctx.cohorts.get(dose.cohort_id)
            regimen = ctx.cohort_regimen(cohort) if cohort else None
            start = ctx.local(subject, dose.infusion_start)
            end = ctx.local(subject, dose.infusion_end)
            yield {
                "STUDYID": ctx.studyid,
                "DOMAIN": "EX",
                "USUBJID": ctx.usubjid(subject),
                "EXTRT": ctx.treatment_name,
                "EXDOSE": _number(dose.actual_dose_per_kg),
                "EXDOSU": dose.dose_unit,
                "EXDOSFRM": "",
                "EXDOSFRQ": ctx.frequency(regimen) if regimen else "",
                "EXROUTE": "INTRAVENOUS",
                "EXLOT": dose.lot_number,
                "EXADJ": dose.dose_change_reason,
                "VISITNUM": ctx.visitnum(dose.cycle, dose.day),
                "VISIT": ctx.visit(dose.cycle, dose.day),
                "EPOCH": ctx.epoch(subject, start),
                "EXSTDTC": start,
                "EXENDTC": end,
                "EXSTDY": ctx.study_day(subject, start),
                "EXENDY": ctx.study_day(subject, end),
                "SUPP": {
                    "EXPLDOSE": f"{dose.planned_dose_per_kg.normalize():f}",
                    "EXWTKG": f"{dose.body_weight_kg.normalize():f}",
                    "EXTOTMG": f"{dose.total_dose_mg.normalize():f}",
                    "EXINTRP": "Y" if dose.interrupted else "N",
                    "EXINTDTL": dose.interruption_details,
                },
            }


EX = register(
    Domain(
        code="EX",
        rows=ex_rows,
        label="Exposure",
        observation_class="INTERVENTIONS",
        structure="One record per protocol-specified study treatment, constant-dosing "
        "interval, per subject",
        keys=("STUDYID", "USUBJID", "EXTRT", "EXSTDTC"),
        sort=("USUBJID", "EXSTDTC"),
        variables=(
            *identifiers("EX"),
            V(
                "EXTRT",
                "Name of Treatment",
                "Char",
                "Req",
                "Protocol",
                "Study.investigational_product (its short name)",
            ),
            V(
                "EXDOSE",
                "Dose",
                "Num",
                "Exp",
                "Collected",
                "DoseAdministration.actual_dose_per_kg",
                data_type="float",
            ),
            V(
                "EXDOSU",
                "Dose Units",
                "Char",
                "Exp",
                "Collected",
                "DoseAdministration.dose_unit",
                "UNIT",
            ),
            V(
                "EXDOSFRM",
                "Dose Form",
                "Char",
                "Exp",
                "Protocol",
                "Not in the protocol file: null",
                "FRM",
            ),
            V(
                "EXDOSFRQ",
                "Dosing Frequency per Interval",
                "Char",
                "Perm",
                "Protocol",
                "The regimen's interval: EVERY 3 WEEKS (Q3W), EVERY 2 WEEKS (Q2W)",
                "FREQ",
            ),
            V(
                "EXROUTE",
                "Route of Administration",
                "Char",
                "Perm",
                "Protocol",
                "INTRAVENOUS (the protocol's IV infusion)",
                "ROUTE",
            ),
            V("EXLOT", "Lot Number", "Char", "Perm", "Collected", "DoseAdministration.lot_number"),
            V(
                "EXADJ",
                "Reason for Dose Adjustment",
                "Char",
                "Perm",
                "Collected",
                "DoseAdministration.dose_change_reason",
            ),
            V(
                "VISITNUM",
                "Visit Number",
                "Num",
                "Exp",
                "Derived",
                "cycle x 100 + day (C1D1 = 101)",
            ),
            V("VISIT", "Visit Name", "Char", "Perm", "Derived", '"CYCLE <c> DAY <d>"'),
            epoch_variable(),
            V(
                "EXSTDTC",
                "Start Date/Time of Treatment",
                "Char",
                "Exp",
                "Collected",
                "DoseAdministration.infusion_start (site time)",
            ),
            V(
                "EXENDTC",
                "End Date/Time of Treatment",
                "Char",
                "Exp",
                "Collected",
                "DoseAdministration.infusion_end (site time)",
            ),
            V(
                "EXSTDY",
                "Study Day of Start of Treatment",
                "Num",
                "Perm",
                "Derived",
                "EXSTDTC - RFSTDTC (+1 on or after RFSTDTC)",
            ),
            V(
                "EXENDY",
                "Study Day of End of Treatment",
                "Num",
                "Perm",
                "Derived",
                "EXENDTC - RFSTDTC (+1 on or after RFSTDTC)",
            ),
        ),
        qualifiers=(
            Qualifier(
                "EXPLDOSE",
                "Planned Dose (mg/kg)",
                "Derived",
                "DoseAdministration.planned_dose_per_kg (the cohort's dose level)",
            ),
            Qualifier(
                "EXWTKG",
                "Body Weight Used for the Dose (kg)",
                "Collected",
                "DoseAdministration.body_weight_kg",
            ),
            Qualifier(
                "EXTOTMG",
                "Total Dose Administered (mg)",
                "Derived",
                "DoseAdministration.total_dose_mg = EXDOSE x body weight",
            ),
            Qualifier(
                "EXINTRP",
                "Infusion Interrupted",
                "Collected",
                "DoseAdministration.interrupted",
                codelist="NY",
            ),
            Qualifier(
                "EXINTDTL",
                "Infusion Interruption Details",
                "Collected",
                "DoseAdministration.interruption_details",
            ),
        ),
    )
)


def sv_rows(ctx):
    """One record per visit that took place: screening (the screening date) and each visit
    with an infusion (its date); SDTMIG 3.4 SV."""
    for subject in ctx.subjects():
        base = {"STUDYID": ctx.studyid, "DOMAIN": "SV", "USUBJID": ctx.usubjid(subject)}
        screening = dtc(subject.screening_date)
        yield base | {
            "VISITNUM": 1,
            "VISIT": "SCREENING",
            "SVPRESP": "Y",
            "SVOCCUR": "Y",
            "SVSTDTC": screening,
            "SVENDTC": screening,
            "SVSTDY": ctx.study_day(subject, screening),
            "SVENDY": ctx.study_day(subject, screening),
        }
        cohort = ctx.cohorts.get(subject.cohort_id) if subject.cohort_id else None
        for dose in ctx.doses_by_subject.get(subject.pk, []):
            day = dtc(dose.administered_on)
            regimen = ctx.cohort_regimen(ctx.cohorts.get(dose.cohort_id) or cohort)
            yield base | {
                "VISITNUM": ctx.visitnum(dose.cycle, dose.day),
                "VISIT": ctx.visit(dose.cycle, dose.day),
                "SVPRESP": "Y",
                "SVOCCUR": "Y",
                "VISITDY": regimen.study_day(dose.cycle, dose.day),
                "SVSTDTC": day,
                "SVENDTC": day,
                "SVSTDY": ctx.study_day(subject, day),
                "SVENDY": ctx.study_day(subject, day),
            }


SV = register(
    Domain(
        code="SV",
        rows=sv_rows,
        label="Subject Visits",
        observation_class="SPECIAL PURPOSE",
        structure="One record per actual or planned visit per subject",
        keys=("STUDYID", "USUBJID", "VISITNUM"),
        sort=("USUBJID", "VISITNUM"),
        variables=(
            *identifiers("SV", seq=False),
            V(
                "VISITNUM",
                "Visit Number",
                "Num",
                "Req",
                "Derived",
                "1 = screening; cycle x 100 + day for treatment visits",
            ),
            V("VISIT", "Visit Name", "Char", "Perm", "Derived", "SCREENING / CYCLE <c> DAY <d>"),
            V(
                "SVPRESP",
                "Pre-specified",
                "Char",
                "Exp",
                "Assigned",
                "Y: every visit recorded is a planned one (no unplanned visits are collected yet)",
                "NY",
            ),
            V(
                "SVOCCUR",
                "Occurrence",
                "Char",
                "Exp",
                "Derived",
                "Y: a visit is recorded when it took place",
                "NY",
            ),
            V(
                "VISITDY",
                "Planned Study Day of Visit",
                "Num",
                "Perm",
                "Protocol",
                "The regimen's study day of the cycle day",
            ),
            V(
                "SVSTDTC",
                "Start Date/Time of Observation",
                "Char",
                "Exp",
                "Derived",
                "Screening date; the infusion date",
            ),
            V(
                "SVENDTC",
                "End Date/Time of Observation",
                "Char",
                "Exp",
                "Derived",
                "As SVSTDTC (one-day visits)",
            ),
            V(
                "SVSTDY",
                "Study Day of Start of Observation",
                "Num",
                "Perm",
                "Derived",
                "SVSTDTC - RFSTDTC (+1 on or after RFSTDTC)",
            ),
            V(
                "SVENDY",
                "Study Day of End of Observation",
                "Num",
                "Perm",
                "Derived",
                "SVENDTC - RFSTDTC (+1 on or after RFSTDTC)",
            ),
        ),
    )
)
