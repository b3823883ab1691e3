"""SDTM PC (concentrations), PP (NCA parameters) and IS (ADA tiers), registered with the
standards registry at start-up (docs/standards.md §9; the mapping choices in
docs/pharmacology.md §11).

- PC: one record per PK sample and analyte; BLQ keeps the laboratory's text in PCORRES and
  PCSTRESC, PCSTRESN empty, PCLLOQ filled; a sample not collected is PCSTAT NOT DONE with the
  reason.
- PP: one record per NCA parameter of a subject, dosing interval and analyte (PKPARMCD /
  PKPARM), with PKUNIT units; a parameter that could not be derived is PPSTAT NOT DONE with the
  reason in PPREASND.
- IS: one record per ADA tier (SDTMIG 3.4 IS: ISTSTOPO SCREEN, CONFIRM, QUANTIFY; ISBDAGNT the
  study drug), binding ADA as ADA_BAB, neutralising as ADA_NAB.
- LB (contributed to the visits app's LB, docs/standards.md §9.1): one record per biomarker
  result, LBCAT BIOMARKER, the run's LLOQ and ULOQ in SUPPLB; a biomarker sample not collected
  is LBSTAT NOT DONE for each analyte of the panel.
"""

from __future__ import annotations

from standards.ct import terminology
from standards.mapping import Contribution, Domain, Qualifier, Variable, epoch_variable, identifiers
from standards.registry import contribute, register

from .models import AdaResult, BiomarkerResult, Concentration, NcaAnalysis, Sample
from .rules.biomarkers import convert
from .rules.nca import CONCENTRATION_UNITS_MG_PER_L
from .selectors import protocol_for

V = Variable
NOT_DONE = "NOT DONE"

# NcaResult parameter -> (PKPARMCD, PKPARM, unit kind) for a single-dose interval; steady-state
# clearance and volume have their own codes (docs/pharmacology.md §11).
PARAMETERS = {
    "cmax": ("CMAX", "Max Conc", "conc"),
    "tmax": ("TMAX", "Time of CMAX Observation", "time"),
    "clast": ("CLST", "Last Nonzero Conc", "conc"),
    "tlast": ("TLST", "Time of Last Nonzero Conc", "time"),
    "auclast": ("AUCLST", "AUC to Last Nonzero Conc", "auc"),
    "aucall": ("AUCALL", "AUC All", "auc"),
    "auctau": ("AUCTAU", "AUC Over Dosing Interval", "auc"),
    "cavg": ("CAVG", "Average Concentration", "conc"),
    "ctrough": ("CTROUGH", "Conc Trough", "conc"),
    "lambda_z": ("LAMZ", "Lambda z", "rate"),
    "half_life": ("LAMZHL", "Half-Life Lambda z", "time"),
    "r_squared": ("R2", "R Squared", ""),
    "adj_r_squared": ("R2ADJ", "R Squared Adjusted", ""),
    "span_ratio": ("LAMZSPN", "Lambda z Span", ""),
    "aucinf_obs": ("AUCIFO", "AUC Infinity Obs", "auc"),
    "auc_extrapolated_percent": ("AUCPEO", "AUC %Extrapolation Obs", "percent"),
    "aumclast": ("AUMCLST", "AUMC to Last Nonzero Conc", "aumc"),
    "aumcinf_obs": ("AUMCIFO", "AUMC Infinity Obs", "aumc"),
    "clearance": ("CLO", "Total CL Obs", "clearance"),
    "vz": ("VZO", "Vz Obs", "volume"),
    "vss": ("VSSO", "Vol Dist Steady State Obs", "volume"),
    "rac_auctau": ("ARAUC", "Accumulation Ratio AUCTAU", ""),
    "rac_cmax": ("ARCMAX", "Accumulation Ratio Cmax", ""),
    "rac_ctrough": ("ARCTROUG", "Accumulation Ratio Ctrough", ""),
}
STEADY_STATE = {
    "clearance": ("CLTAU", "Total CL for Dose Int", "clearance"),
    "vz": ("VZTAU", "Vz for Dose Int", "volume"),
}


def _units(concentration_unit: str) -> dict[str, str]:
    """PKUNIT units of the parameters, from the concentration unit (ug/mL -> h*ug/mL ...)."""
    return {
        "conc": concentration_unit,
        "time": "h",
        "auc": f"h*{concentration_unit}",
        "aumc": f"h2*{concentration_unit}",
        "rate": "/h",
        "percent": "%",
        "clearance": "L/h",
        "volume": "L",
        "": "",
    }


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:.6g}"


def _eltm(hours: float) -> str:
    """ISO 8601 duration of a nominal time (PT2H, PT30M, PT0H); negative before the dose."""
    minutes = round(abs(hours) * 60)
    text = "PT" + (f"{minutes // 60}H" if minutes // 60 or not minutes % 60 else "")
    text += f"{minutes % 60}M" if minutes % 60 else ""
    return ("-" if hours < 0 else "") + text


class _Data:
    """The pharmacology records of one export context, read once."""

    def __init__(self, ctx):
        self.ctx = ctx
        self.samples = {s.pk: s for s in ctx.records(Sample)}
        self.doses = {d.pk: d for rows in ctx.doses_by_subject.values() for d in rows}
        protocol = protocol_for(ctx.study.pk)
        self.analyte = protocol.pk.analyte if protocol else "DRUG"

    def results(self, model) -> list:
        return [r for r in self.ctx.records(model) if r.sample_id in self.samples]

    def timing(self, prefix: str, subject, sample) -> dict:
        ctx = self.ctx
        dose = self.doses.get(sample.dose_id)
        when = ctx.local(subject, sample.collected_at)
        reference = ctx.local(subject, dose.infusion_start) if dose else ""
        values = {
            "VISITNUM": ctx.visitnum(dose.cycle, dose.day) if dose else None,
            "VISIT": ctx.visit(dose.cycle, dose.day) if dose else "",
            "EPOCH": ctx.epoch(subject, when or reference),
            f"{prefix}DTC": when,
            f"{prefix}DY": ctx.study_day(subject, when) if when else None,
            f"{prefix}TPT": sample.timepoint.upper(),
            f"{prefix}TPTNUM": sample.nrrlt_hours,
            f"{prefix}ELTM": _eltm(sample.nrrlt_hours),
            f"{prefix}TPTREF": f"DOSE {ctx.visit(dose.cycle, dose.day)}" if dose else "",
            f"{prefix}RFTDTC": reference,
        }
        return values


def pc_rows(ctx):
    data = _Data(ctx)
    results_by_sample: dict[int, list[Concentration]] = {}
    for result in data.results(Concentration):
        results_by_sample.setdefault(result.sample_id, []).append(result)
    subjects = ctx.subjects_by_id
    for sample in sorted(data.samples.values(), key=lambda s: (s.subject_id, s.nominal_at)):
        subject = subjects.get(sample.subject_id)
        if subject is None or sample.kind != "pk":
            continue
        base = {
            "STUDYID": ctx.studyid,
            "DOMAIN": "PC",
            "USUBJID": ctx.usubjid(subject),
            "PCGRPID": f"INTERVAL {sample.interval}",
            "PCREFID": sample.sample_id,
            "PCSPEC": sample.specimen,
            "PCNAM": "",
            **data.timing("PC", subject, sample),
        }
        results = results_by_sample.get(sample.pk, [])
        if sample.status == Sample.Status.NOT_COLLECTED:
            yield base | {
                "PCSPID": f"S{sample.pk}",
                "PCTESTCD": data.analyte[:8].upper(),
                "PCTEST": f"{data.analyte} Concentration",
                "PCORRES": "",
                "PCORRESU": "",
                "PCSTRESC": "",
                "PCSTRESN": None,
                "PCSTRESU": "",
                "PCSTAT": NOT_DONE,
                "PCREASND": sample.not_collected_reason,
                "PCLLOQ": None,
                "PCULOQ": None,
                "PCDTC": "",
                "PCDY": None,
            }
            continue
        for result in results:
            standard = None
            if result.value is not None:
                standard = result.value * CONCENTRATION_UNITS_MG_PER_L[result.unit]
                standard /= CONCENTRATION_UNITS_MG_PER_L["ug/mL"]
            yield base | {
                "PCSPID": f"R{result.pk}",
                "PCTESTCD": result.analyte[:8].upper(),
                "PCTEST": f"{result.analyte} Concentration",
                "PCORRES": result.reported,
                "PCORRESU": result.unit,
                "PCSTRESC": "BLQ" if result.blq else _number(standard),
                "PCSTRESN": standard,
                "PCSTRESU": "ug/mL",
                "PCSTAT": "",
                "PCREASND": "",
                "PCLLOQ": result.lloq * CONCENTRATION_UNITS_MG_PER_L[result.unit],
                "PCULOQ": None
                if result.uloq is None
                else result.uloq * CONCENTRATION_UNITS_MG_PER_L[result.unit],
            }


def pp_rows(ctx):
    subjects = ctx.subjects_by_id
    analyses = [a for a in ctx.records(NcaAnalysis) if a.subject_id in subjects]
    for analysis in sorted(analyses, key=lambda a: (a.subject_id, a.analyte, a.interval)):
        subject = subjects[analysis.subject_id]
        doses = ctx.doses_by_subject.get(subject.pk, [])
        reference = ""
        if len(doses) >= analysis.interval:
            reference = ctx.local(subject, doses[analysis.interval - 1].infusion_start)
        units = _units(analysis.unit)
        steady = analysis.interval > 1
        for name, (code, test, kind) in PARAMETERS.items():
            entry = analysis.parameters.get(name)
            if entry is None:
                continue
            if steady and name in STEADY_STATE:
                code, test, kind = STEADY_STATE[name]
            value = entry.get("value")
            yield {
                "STUDYID": ctx.studyid,
                "DOMAIN": "PP",
                "USUBJID": ctx.usubjid(subject),
                "PPGRPID": f"{analysis.analyte}-INTERVAL {analysis.interval}",
                "PPTESTCD": code,
                "PPTEST": test,
                "PPCAT": analysis.analyte,
                "PPORRES": _number(value),
                "PPORRESU": units[kind] if value is not None else "",
                "PPSTRESC": _number(value),
                "PPSTRESN": value,
                "PPSTRESU": units[kind] if value is not None else "",
                "PPSTAT": "" if value is not None else NOT_DONE,
                "PPREASND": "" if value is not None else (entry.get("reason") or "")[:200],
                "PPSPEC": "SERUM",
                "PPRFTDTC": reference,
            }


def is_rows(ctx):
    data = _Data(ctx)
    subjects = ctx.subjects_by_id
    drug = ctx.treatment_name.upper()
    for result in sorted(data.results(AdaResult), key=lambda r: (r.sample_id, r.pk)):
        sample = data.samples[result.sample_id]
        subject = subjects.get(sample.subject_id)
        if subject is None:
            continue
        baseline = sample.interval == 1 and sample.role == "predose"
        common = {
            "STUDYID": ctx.studyid,
            "DOMAIN": "IS",
            "USUBJID": ctx.usubjid(subject),
            "ISREFID": sample.sample_id,
            "ISBDAGNT": drug,
            "ISORNRLO": "",
            "ISORNRHI": "",
            "ISSTNRLO": None,
            "ISSTNRHI": None,
            "ISNRIND": "",
            "ISSPEC": sample.specimen,
            "ISBLFL": "Y" if baseline else "",
            "ISLLOQ": None,
            **data.timing("IS", subject, sample),
        }
        tiers = [
            ("ADA_BAB", "Binding Antidrug Antibody", "SCREEN", result.screening, None),
            ("ADA_BAB", "Binding Antidrug Antibody", "CONFIRM", result.confirmatory, None),
            ("ADA_BAB", "Binding Antidrug Antibody", "QUANTIFY", "", result.titer),
            ("ADA_NAB", "Neutralizing Binding Antidrug Antibody", "", result.neutralising, None),
        ]
        for tier, (code, test, objective, outcome, titer) in enumerate(tiers, start=1):
            if not outcome and titer is None:
                continue
            text = outcome.upper() if outcome else _number(titer)
            yield common | {
                "ISSPID": f"R{result.pk}-T{tier}",
                "ISTESTCD": code,
                "ISTEST": test,
                "ISTSTOPO": objective,
                "ISORRES": text,
                "ISORRESU": "titer" if titer is not None else "",
                "ISSTRESC": text,
                "ISSTRESN": titer,
                "ISSTRESU": "titer" if titer is not None else "",
            }


def _timing_variables(prefix: str, event: str) -> tuple[Variable, ...]:
    return (
        V("VISITNUM", "Visit Number", "Num", "Exp", "Derived", "Cycle x 100 + day of the dose"),
        V("VISIT", "Visit Name", "Char", "Perm", "Derived", "CYCLE n DAY d of the dose"),
        epoch_variable(),
        V(f"{prefix}DTC", f"Date/Time of {event}", "Char", "Exp", "Collected",
          "Sample.collected_at (site time zone)"),
        V(f"{prefix}DY", _day_label(prefix), "Num", "Perm", "Derived",
          f"{prefix}DTC - RFSTDTC (+1 on or after RFSTDTC)"),
        V(f"{prefix}TPT", "Planned Time Point Name", "Char", "Perm", "Assigned",
          "The schedule's time point"),
        V(f"{prefix}TPTNUM", "Planned Time Point Number", "Num", "Perm", "Derived",
          "Nominal hours from the dose (NRRLT)"),
        V(f"{prefix}ELTM", "Planned Elapsed Time from Time Point Ref", "Char", "Perm",
          "Derived", "NRRLT as an ISO 8601 duration"),
        V(f"{prefix}TPTREF", "Time Point Reference", "Char", "Perm", "Assigned",
          "The reference infusion"),
        V(f"{prefix}RFTDTC", _reference_label(prefix), "Char", "Perm", "Collected",
          "DoseAdministration.infusion_start"),
    )  # fmt: skip


def _day_label(prefix: str) -> str:
    return {
        "PC": "Actual Study Day of Specimen Collection",
        "IS": "Study Day of Visit/Collection/Exam",
    }[prefix]


def _reference_label(prefix: str) -> str:
    return {
        "PC": "Date/Time of Reference Point",
        "IS": "Date/Time of Reference Time Point",
    }[prefix]


PC = register(
    Domain(
        code="PC",
        rows=pc_rows,
        label="Pharmacokinetics Concentrations",
        observation_class="FINDINGS",
        structure="One record per sample characteristic or time-point concentration per "
        "reference time point or per analyte per subject",
        keys=("STUDYID", "USUBJID", "PCTESTCD", "PCREFID", "PCSPID"),
        sort=("USUBJID", "PCTESTCD", "PCDTC", "PCREFID", "PCSPID"),
        variables=(
            *identifiers("PC"),
            V("PCGRPID", "Group ID", "Char", "Perm", "Derived", "The dosing interval"),
            V("PCREFID", "Reference ID", "Char", "Perm", "Collected", "Sample.sample_id (barcode)"),
            V(
                "PCSPID",
                "Sponsor-Defined Identifier",
                "Char",
                "Perm",
                "Assigned",
                "The EDC's record number (R: result, S: sample not collected)",
            ),
            V(
                "PCTESTCD",
                "Pharmacokinetic Test Short Name",
                "Char",
                "Req",
                "Assigned",
                "Concentration.analyte",
            ),
            V(
                "PCTEST",
                "Pharmacokinetic Test Name",
                "Char",
                "Req",
                "Assigned",
                "The analyte's concentration",
            ),
            V(
                "PCORRES",
                "Result or Finding in Original Units",
                "Char",
                "Exp",
                "Collected",
                "Concentration.reported (BLQ as reported)",
            ),
            V(
                "PCORRESU",
                "Original Units",
                "Char",
                "Exp",
                "Collected",
                "Concentration.unit",
                "PKUNIT",
            ),
            V(
                "PCSTRESC",
                "Character Result/Finding in Std Format",
                "Char",
                "Exp",
                "Derived",
                "The value in ug/mL, or BLQ",
            ),
            V(
                "PCSTRESN",
                "Numeric Result/Finding in Standard Units",
                "Num",
                "Exp",
                "Derived",
                "The value in ug/mL; empty for BLQ",
            ),
            V("PCSTRESU", "Standard Units", "Char", "Exp", "Assigned", '"ug/mL"', "PKUNIT"),
            V(
                "PCSTAT",
                "Completion Status",
                "Char",
                "Perm",
                "Collected",
                "NOT DONE for a sample not collected",
                "ND",
            ),
            V(
                "PCREASND",
                "Reason Test Not Done",
                "Char",
                "Perm",
                "Collected",
                "Sample.not_collected_reason",
            ),
            V(
                "PCNAM",
                "Vendor Name",
                "Char",
                "Exp",
                "Assigned",
                "Not in the laboratory file: empty",
            ),
            V(
                "PCSPEC",
                "Specimen Material Type",
                "Char",
                "Exp",
                "Assigned",
                "Sample.specimen",
                "SPECTYPE",
            ),
            V(
                "PCLLOQ",
                "Lower Limit of Quantitation",
                "Num",
                "Exp",
                "Collected",
                "Concentration.lloq (the run's), in ug/mL",
            ),
            V(
                "PCULOQ",
                "Upper Limit of Quantitation",
                "Num",
                "Perm",
                "Collected",
                "Concentration.uloq, in ug/mL",
            ),
            *_timing_variables("PC", "Specimen Collection"),
        ),  # fmt: skip
    )
)


PP = register(
    Domain(
        code="PP",
        rows=pp_rows,
        label="Pharmacokinetics Parameters",
        observation_class="FINDINGS",
        structure="One record per PK parameter per time-concentration profile per modeling "
        "method per subject",
        keys=("STUDYID", "USUBJID", "PPCAT", "PPGRPID", "PPTESTCD"),
        sort=("USUBJID", "PPCAT", "PPGRPID", "PPTESTCD"),
        variables=(
            *identifiers("PP"),
            V("PPGRPID", "Group ID", "Char", "Perm", "Derived", "Analyte and dosing interval"),
            V(
                "PPTESTCD",
                "Parameter Short Name",
                "Char",
                "Req",
                "Assigned",
                "The NCA parameter (docs/pharmacology.md §11)",
                "PKPARMCD",
            ),
            V("PPTEST", "Parameter Name", "Char", "Req", "Assigned", "The NCA parameter", "PKPARM"),
            V("PPCAT", "Parameter Category", "Char", "Exp", "Assigned", "The analyte"),
            V(
                "PPORRES",
                "Result or Finding in Original Units",
                "Char",
                "Exp",
                "Derived",
                "NcaAnalysis.parameters (pharmacology NCA core)",
            ),
            V(
                "PPORRESU",
                "Original Units",
                "Char",
                "Exp",
                "Assigned",
                "From the concentration unit",
                "PKUNIT",
            ),
            V(
                "PPSTRESC",
                "Character Result/Finding in Std Format",
                "Char",
                "Exp",
                "Derived",
                "PPORRES",
            ),
            V(
                "PPSTRESN",
                "Numeric Result/Finding in Standard Units",
                "Num",
                "Exp",
                "Derived",
                "PPORRES as a number",
            ),
            V("PPSTRESU", "Standard Units", "Char", "Exp", "Assigned", "PPORRESU", "PKUNIT"),
            V(
                "PPSTAT",
                "Completion Status",
                "Char",
                "Perm",
                "Derived",
                "NOT DONE when the parameter cannot be derived",
                "ND",
            ),
            V(
                "PPREASND",
                "Reason Parameter Not Calculated",
                "Char",
                "Perm",
                "Derived",
                "Why the NCA core left the parameter empty",
            ),
            V("PPSPEC", "Specimen Material Type", "Char", "Exp", "Assigned", '"SERUM"', "SPECTYPE"),
            V(
                "PPRFTDTC",
                "Date/Time of Reference Point",
                "Char",
                "Exp",
                "Collected",
                "The interval's infusion start",
            ),
        ),  # fmt: skip
    )
)


IS = register(
    Domain(
        code="IS",
        rows=is_rows,
        label="Immunogenicity Specimen Assessments",
        observation_class="FINDINGS",
        structure="One record per test per visit per subject",
        keys=("STUDYID", "USUBJID", "ISTESTCD", "ISREFID", "ISSPID"),
        sort=("USUBJID", "ISDTC", "ISREFID", "ISSPID"),
        variables=(
            *identifiers("IS"),
            V("ISREFID", "Reference ID", "Char", "Perm", "Collected", "Sample.sample_id"),
            V(
                "ISSPID",
                "Sponsor-Defined Identifier",
                "Char",
                "Perm",
                "Assigned",
                "The EDC's result number and tier (T1 screen, T2 confirm, T3 titer, T4 NAb)",
            ),
            V(
                "ISTESTCD",
                "Immunogenicity Test/Exam Short Name",
                "Char",
                "Req",
                "Assigned",
                "ADA_BAB (binding tiers) or ADA_NAB (neutralising)",
                "ISTESTCD",
            ),
            V(
                "ISTEST",
                "Immunogenicity Test or Examination Name",
                "Char",
                "Req",
                "Assigned",
                "The test's name",
                "ISTEST",
            ),
            V("ISBDAGNT", "Binding Agent", "Char", "Perm", "Assigned", "The study drug"),
            V(
                "ISTSTOPO",
                "Test Operational Objective",
                "Char",
                "Perm",
                "Assigned",
                "The tier: SCREEN, CONFIRM, QUANTIFY",
                "TSTOPOBJ",
            ),
            V(
                "ISORRES",
                "Results or Findings in Original Units",
                "Char",
                "Exp",
                "Collected",
                "AdaResult tier outcome, or the titer",
            ),
            V(
                "ISORRESU",
                "Original Units",
                "Char",
                "Exp",
                "Assigned",
                '"titer" for a titer',
                "UNIT",
            ),
            V(
                "ISORNRLO",
                "Reference Range Lower Limit in Orig Unit",
                "Char",
                "Exp",
                "Assigned",
                "No reference range: empty",
            ),
            V(
                "ISORNRHI",
                "Reference Range Upper Limit in Orig Unit",
                "Char",
                "Exp",
                "Assigned",
                "No reference range: empty",
            ),
            V(
                "ISSTRESC",
                "Character Result/Finding in Std Format",
                "Char",
                "Exp",
                "Derived",
                "ISORRES",
            ),
            V(
                "ISSTRESN",
                "Numeric Results/Findings in Std. Units",
                "Num",
                "Exp",
                "Derived",
                "The titer",
            ),
            V(
                "ISSTRESU",
                "Standard Units",
                "Char",
                "Exp",
                "Assigned",
                '"titer" for a titer',
                "UNIT",
            ),
            V(
                "ISSTNRLO",
                "Reference Range Lower Limit-Std Units",
                "Num",
                "Exp",
                "Assigned",
                "No reference range: empty",
            ),
            V(
                "ISSTNRHI",
                "Reference Range Upper Limit-Std Units",
                "Num",
                "Exp",
                "Assigned",
                "No reference range: empty",
            ),
            V(
                "ISNRIND",
                "Reference Range Indicator",
                "Char",
                "Exp",
                "Assigned",
                "No reference range: empty",
            ),
            V("ISSPEC", "Specimen Type", "Char", "Perm", "Assigned", "Sample.specimen", "SPECTYPE"),
            V(
                "ISBLFL",
                "Baseline Flag",
                "Char",
                "Perm",
                "Derived",
                "Y for the Cycle 1 pre-dose sample",
                "NY",
            ),
            V(
                "ISLLOQ",
                "Lower Limit of Quantitation",
                "Num",
                "Exp",
                "Assigned",
                "Qualitative tiers: empty",
            ),
            *_timing_variables("IS", "Collection"),
        ),  # fmt: skip
    )
)


# --- LB: biomarkers (docs/pharmacology.md §11) ------------------------------------------------

# The protocol's biomarker codes that CDISC CT names (LBTESTCD, C65047, 2025-03-28); soluble
# CD80 and CD86 have no LBTESTCD term and keep the protocol's code (a sponsor extension of the
# extensible codelist, listed as such in define.xml).
LBTESTCD = {"IL6": "INTLK6", "IL2": "INTLK2", "IL10": "INTLK10", "IFNG": "IFNG", "TNFA": "TNF"}
# CDISC UNIT submission values (C71620): pg/mL is submitted as ng/L, ng/mL as ug/L.
LB_UNITS = {"pg/mL": "ng/L", "ng/mL": "ug/L"}
BIOMARKER_CATEGORY = "BIOMARKER"


def _lb_test_names() -> dict[str, str]:
    """LBTESTCD -> LBTEST: the LBTEST term of the same NCI code."""
    ct = terminology()
    by_code = {term.code: value for value, term in ct["LBTEST"].terms.items()}
    return {value: by_code.get(term.code, "") for value, term in ct["LBTESTCD"].terms.items()}


def _standard(result: BiomarkerResult, unit: str) -> tuple[str, float | None]:
    """LBSTRESC and LBSTRESN in the protocol's unit: a quantified value as a number, a result
    below the LLOQ as "<LLOQ", above the ULOQ as ">ULOQ" (the limits converted)."""
    if result.value is not None:
        value = convert(result.value, result.unit, unit)
        return _number(value), value
    if result.quantification == "above ULOQ" and result.uloq is not None:
        return f">{_number(convert(result.uloq, result.unit, unit))}", None
    return f"<{_number(convert(result.lloq, result.unit, unit))}", None


def _lb_test(code: str, analytes, names: dict[str, str]) -> tuple[str, str, str]:
    """LBTESTCD, LBTEST and LBSCAT of a protocol biomarker code."""
    analyte = analytes.get(code)
    testcd = LBTESTCD.get(code, code.upper()[:8])
    test = names.get(testcd) or (analyte.name if analyte else code)
    return testcd, test[:40], analyte.category if analyte else ""


def lb_biomarker_rows(ctx):
    """One LB record per biomarker result; a biomarker sample not collected gives one NOT DONE
    record per analyte of the protocol's panel. Baseline (LBLOBXFL) is the Cycle 1 pre-dose
    result of each analyte, taken before the first infusion."""
    data = _Data(ctx)
    protocol = protocol_for(ctx.study.pk)
    if protocol is None:
        return
    analytes = {a.code: a for a in protocol.biomarker_analytes}
    unit = protocol.biomarkers.unit
    names = _lb_test_names()
    subjects = ctx.subjects_by_id
    results_by_sample: dict[int, list[BiomarkerResult]] = {}
    for result in data.results(BiomarkerResult):
        results_by_sample.setdefault(result.sample_id, []).append(result)
    for sample in sorted(data.samples.values(), key=lambda s: (s.subject_id, s.nominal_at)):
        subject = subjects.get(sample.subject_id)
        if subject is None or sample.kind != "biomarker":
            continue
        base = {
            "STUDYID": ctx.studyid,
            "DOMAIN": "LB",
            "USUBJID": ctx.usubjid(subject),
            "LBREFID": sample.sample_id,
            "LBCAT": BIOMARKER_CATEGORY,
            "LBSPEC": sample.specimen,
            **data.timing("LB", subject, sample),
        }
        if sample.status == Sample.Status.NOT_COLLECTED:
            for code in analytes:
                testcd, test, category = _lb_test(code, analytes, names)
                yield base | {
                    "LBSPID": f"BM-S{sample.pk}-{code}",
                    "LBTESTCD": testcd,
                    "LBTEST": test,
                    "LBSCAT": category,
                    "LBSTAT": NOT_DONE,
                    "LBREASND": sample.not_collected_reason,
                    "LBDTC": "",
                    "LBDY": None,
                }
            continue
        baseline = sample.interval == 1 and sample.role == "predose"
        for result in sorted(results_by_sample.get(sample.pk, []), key=lambda r: r.analyte):
            testcd, test, category = _lb_test(result.analyte, analytes, names)
            text, number = _standard(result, unit)
            yield base | {
                "LBSPID": f"BM-R{result.pk}",
                "LBTESTCD": testcd,
                "LBTEST": test,
                "LBSCAT": category,
                "LBORRES": result.reported,
                "LBORRESU": LB_UNITS.get(result.unit, result.unit),
                "LBSTRESC": text,
                "LBSTRESN": number,
                "LBSTRESU": LB_UNITS.get(unit, unit),
                "LBLOBXFL": "Y" if baseline else "",
                "SUPP": {
                    "LBLLOQ": _number(convert(result.lloq, result.unit, unit)),
                    "LBULOQ": ""
                    if result.uloq is None
                    else _number(convert(result.uloq, result.unit, unit)),
                },
            }


LB_BIOMARKERS = contribute(
    Contribution(
        code="LB",
        by="biomarkers",
        rows=lb_biomarker_rows,
        comment="Biomarker results (soluble CD80 and CD86, cytokines) from the bioanalytical "
        "laboratory's files are LB records with LBCAT BIOMARKER (docs/pharmacology.md §11).",
        variables=(
            V("LBREFID", "Specimen ID", "Char", "Perm", "Collected", "Sample.sample_id (barcode)"),
            V(
                "LBSPID",
                "Sponsor-Defined Identifier",
                "Char",
                "Perm",
                "Assigned",
                "BM-R<result> (BM-S<sample>-<analyte> for a sample not collected)",
            ),
            V(
                "LBTESTCD",
                "Lab Test or Examination Short Name",
                "Char",
                "Req",
                "Assigned",
                "BiomarkerResult.analyte (IL6 as INTLK6, IL2 as INTLK2, IL10 as INTLK10, TNFA as "
                "TNF; SCD80 and SCD86 as the protocol names them)",
                "LBTESTCD",
            ),
            V(
                "LBTEST",
                "Lab Test or Examination Name",
                "Char",
                "Req",
                "Assigned",
                "The CT name of LBTESTCD, else the protocol's analyte name",
                "LBTEST",
            ),
            V("LBCAT", "Category for Lab Test", "Char", "Exp", "Assigned", '"BIOMARKER"'),
            V(
                "LBSCAT",
                "Subcategory for Lab Test",
                "Char",
                "Perm",
                "Assigned",
                "The protocol's category of the analyte (CYTOKINE, CO-STIMULATORY MOLECULE)",
            ),
            V(
                "LBORRES",
                "Result or Finding in Original Units",
                "Char",
                "Exp",
                "Collected",
                "BiomarkerResult.reported (the laboratory's text: a number, <... or >...)",
            ),
            V(
                "LBORRESU",
                "Original Units",
                "Char",
                "Exp",
                "Collected",
                "BiomarkerResult.unit (pg/mL as ng/L, ng/mL as ug/L)",
                "UNIT",
            ),
            V(
                "LBSTRESC",
                "Character Result/Finding in Std Format",
                "Char",
                "Exp",
                "Derived",
                "The value in the protocol's unit; <LLOQ or >ULOQ with the limit converted",
            ),
            V(
                "LBSTRESN",
                "Numeric Result/Finding in Standard Units",
                "Num",
                "Exp",
                "Derived",
                "The quantified value in the protocol's unit; empty below the LLOQ or above the "
                "ULOQ",
                data_type="float",
            ),
            V(
                "LBSTRESU",
                "Standard Units",
                "Char",
                "Exp",
                "Assigned",
                "The protocol's biomarker unit (pg/mL, as ng/L)",
                "UNIT",
            ),
            V(
                "LBSTAT",
                "Completion Status",
                "Char",
                "Perm",
                "Collected",
                "NOT DONE for a sample not collected",
                "ND",
            ),
            V(
                "LBREASND",
                "Reason Test Not Done",
                "Char",
                "Perm",
                "Collected",
                "Sample.not_collected_reason",
            ),
            V("LBSPEC", "Specimen Type", "Char", "Perm", "Assigned", "Sample.specimen", "SPECTYPE"),
            V(
                "LBLOBXFL",
                "Last Observation Before Exposure Flag",
                "Char",
                "Exp",
                "Derived",
                "The Cycle 1 pre-dose result of the analyte",
                "NY",
            ),
            V("VISITNUM", "Visit Number", "Num", "Exp", "Derived", "Cycle x 100 + day of the dose"),
            V("VISIT", "Visit Name", "Char", "Perm", "Derived", "CYCLE n DAY d of the dose"),
            epoch_variable(),
            V(
                "LBDTC",
                "Date/Time of Specimen Collection",
                "Char",
                "Exp",
                "Collected",
                "Sample.collected_at, in the site's time zone",
            ),
            V(
                "LBDY",
                "Study Day of Specimen Collection",
                "Num",
                "Perm",
                "Derived",
                "LBDTC - RFSTDTC (+1 on or after RFSTDTC)",
            ),
            V(
                "LBTPT",
                "Planned Time Point Name",
                "Char",
                "Perm",
                "Assigned",
                "The schedule's time point",
            ),
            V(
                "LBTPTNUM",
                "Planned Time Point Number",
                "Num",
                "Perm",
                "Derived",
                "Nominal hours from the dose (NRRLT)",
            ),
            V(
                "LBELTM",
                "Planned Elapsed Time from Time Point Ref",
                "Char",
                "Perm",
                "Derived",
                "NRRLT as an ISO 8601 duration",
            ),
            V(
                "LBTPTREF",
                "Time Point Reference",
                "Char",
                "Perm",
                "Assigned",
                "The reference infusion",
            ),
            V(
                "LBRFTDTC",
                "Date/Time of Reference Time Point",
                "Char",
                "Perm",
                "Collected",
                "DoseAdministration.infusion_start",
            ),
        ),  # fmt: skip
        qualifiers=(
            Qualifier(
                "LBLLOQ",
                "Lower Limit of Quantitation",
                "Collected",
                "BiomarkerResult.lloq (the run's), in the protocol's unit",
            ),
            Qualifier(
                "LBULOQ",
                "Upper Limit of Quantitation",
                "Collected",
                "BiomarkerResult.uloq (the run's), in the protocol's unit",
            ),
        ),  # fmt: skip
    )
)
