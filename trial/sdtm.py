"""SDTM trial design domains from the study configuration (the protocol file and the cohorts
the committee opened): TA, TE, TV, TI and TS. Registered with the standards registry at
start-up (docs/standards.md §9).

Each cohort is an arm (its dose level and regimen); each arm runs screening, its treatment
element and follow-up (docs/standards.md §5.6).
"""

from standards.ct import CT_VERSION, codelist
from standards.mapping import Domain, Variable, identifiers
from standards.registry import register
from standards.spec import IG_VERSION, SDTM_VERSION
from standards.timing import dtc

V = Variable
SCREENING_ELEMENT = ("SCRN", "Screening")
FOLLOW_UP_ELEMENT = ("FU", "Follow-up")
# TS: the design facts the product serves (README: open-label, non-randomised first-in-human
# dose escalation of one investigational drug) where the protocol file has no setting.
PHASES = {"1": "PHASE I TRIAL", "1/2": "PHASE I/II TRIAL", "1a": "PHASE IA TRIAL"}


def _cohorts(ctx):
    return sorted(ctx.cohorts.values(), key=lambda c: c.number)


def ta_rows(ctx):
    for cohort in _cohorts(ctx):
        arm = {"STUDYID": ctx.studyid, "DOMAIN": "TA", "ARMCD": ctx.armcd(cohort)}
        arm["ARM"] = ctx.arm(cohort)
        elements = [
            (SCREENING_ELEMENT[0], SCREENING_ELEMENT[1], "SCREENING"),
            (ctx.element_code(cohort), ctx.element_name(cohort), "TREATMENT"),
            (FOLLOW_UP_ELEMENT[0], FOLLOW_UP_ELEMENT[1], "FOLLOW-UP"),
        ]
        for order, (etcd, element, epoch) in enumerate(elements, start=1):
            yield arm | {"TAETORD": order, "ETCD": etcd, "ELEMENT": element, "EPOCH": epoch}


def te_rows(ctx):
    yield {
        "ETCD": SCREENING_ELEMENT[0],
        "ELEMENT": SCREENING_ELEMENT[1],
        "TESTRL": "Informed consent",
        "TEENRL": "First dose of study drug, or screen failure",
    }
    seen = set()
    for cohort in _cohorts(ctx):
        etcd = ctx.element_code(cohort)
        if etcd in seen:
            continue
        seen.add(etcd)
        yield {
            "ETCD": etcd,
            "ELEMENT": ctx.element_name(cohort),
            "TESTRL": f"First dose of {ctx.element_name(cohort)}",
            "TEENRL": "End of treatment",
        }
    yield {
        "ETCD": FOLLOW_UP_ELEMENT[0],
        "ELEMENT": FOLLOW_UP_ELEMENT[1],
        "TESTRL": "End of treatment",
        "TEENRL": "End of study",
    }


def _te_rows(ctx):
    for row in te_rows(ctx):
        yield {"STUDYID": ctx.studyid, "DOMAIN": "TE", **row}


def planned_cycles(ctx, regimen) -> int:
    """Cycles listed in TV: those covering the DLT window, and as many as any subject on the
    regimen reached (treatment continues cycle after cycle until it ends)."""
    window = max(c for c, _ in regimen.dlt_window_infusions())
    reached = [
        dose.cycle
        for doses in ctx.doses_by_subject.values()
        for dose in doses
        if ctx.cohorts.get(dose.cohort_id)
        and ctx.cohort_regimen(ctx.cohorts[dose.cohort_id]).pk == regimen.pk
    ]
    return max([window, *reached])


def tv_rows(ctx):
    for cohort in _cohorts(ctx):
        regimen = ctx.cohort_regimen(cohort)
        arm = {
            "STUDYID": ctx.studyid,
            "DOMAIN": "TV",
            "ARMCD": ctx.armcd(cohort),
            "ARM": ctx.arm(cohort),
        }
        yield arm | {
            "VISITNUM": 1,
            "VISIT": "SCREENING",
            "TVSTRL": "Informed consent",
            "TVENRL": "Enrollment or screen failure",
        }
        for cycle in range(1, planned_cycles(ctx, regimen) + 1):
            for day in regimen.infusion_days:
                study_day = regimen.study_day(cycle, day)
                yield arm | {
                    "VISITNUM": ctx.visitnum(cycle, day),
                    "VISIT": ctx.visit(cycle, day),
                    "VISITDY": study_day,
                    "TVSTRL": f"Study day {study_day} (cycle {cycle} day {day}) "
                    f"+/- {regimen.visit_window_days} days",
                }


def ti_rows(ctx):
    from subjects.sdtm import criteria

    for testcd, text, category in criteria(ctx.study):
        yield {
            "STUDYID": ctx.studyid,
            "DOMAIN": "TI",
            "IETESTCD": testcd,
            "IETEST": text,
            "IECAT": category,
            "TIVERS": ctx.study.protocol_file_digest[:12] or "",
        }


def ts_rows(ctx):
    """Trial summary parameters (SDTMIG 3.4 TS; CDISC CT TSPARMCD/TSPARM). Coded values carry
    their C-code from the pinned CT."""
    parm_names = {term.code: term.value for term in codelist("TSPARM").terms.values()}
    parm_codes = codelist("TSPARMCD").terms
    enrolled = [s for s in ctx.subjects() if s.enrollment_date is not None]
    consents = [s.consent_date for s in ctx.subjects()]
    regimens = sorted(
        {ctx.cohort_regimen(c).pk: ctx.cohort_regimen(c) for c in ctx.cohorts.values()}.values(),
        key=lambda r: r.code,
    )
    cut = dtc(ctx.data_cut, tz_name="UTC") if getattr(ctx, "data_cut", None) else ""

    def coded(parmcd, value, list_name):
        return (parmcd, value, codelist(list_name).code_of(value) or "", "CDISC CT", CT_VERSION)

    parameters = [
        ("TITLE", ctx.study.title, "", "", ""),
        coded("TPHASE", PHASES.get(ctx.study.phase, ""), "TPHASE"),
        coded("STYPE", "INTERVENTIONAL", "STYPE"),
        coded("TTYPE", "SAFETY", "TTYPE"),
        coded("TTYPE", "DOSE FINDING", "TTYPE"),
        coded("TTYPE", "PHARMACOKINETIC", "TTYPE"),
        coded("TBLIND", "OPEN LABEL", "TBLIND"),
        coded("TCNTRL", "NONE", "TCNTRL"),
        coded("RANDOM", "N", "NY"),
        coded("ADDON", "N", "NY"),
        coded("INTTYPE", "DRUG", "INTTYPE"),
        ("TRT", ctx.treatment_name, "", "", ""),
        coded("ROUTE", "INTRAVENOUS", "ROUTE"),
        coded("DOSU", ctx.study.dose_unit, "UNIT"),
        *[coded("DOSFRQ", ctx.frequency(r), "FREQ") for r in regimens if ctx.frequency(r)],
        ("SPONSOR", ctx.study.sponsor, "", "", ""),
        ("NARMS", str(len(ctx.cohorts)), "", "", ""),
        ("ACTSUB", str(len(enrolled)), "", "", ""),
        ("SSTDTC", dtc(min(consents)) if consents else "", "", "ISO 8601", ""),
        ("DCUTDTC", cut, "", "ISO 8601", ""),
        ("SDTIGVER", IG_VERSION, "", "", ""),
        ("SDTMVER", SDTM_VERSION, "", "", ""),
    ]
    groups: dict[str, int] = {}
    for parmcd, value, code, ref, version in parameters:
        groups[parmcd] = groups.get(parmcd, 0) + 1
        yield {
            "STUDYID": ctx.studyid,
            "DOMAIN": "TS",
            "TSSEQ": groups[parmcd],
            "TSPARMCD": parmcd,
            "TSPARM": parm_names[parm_codes[parmcd].code],
            "TSVAL": value,
            "TSVALNF": "" if value else "UNK",
            "TSVALCD": code,
            "TSVCDREF": ref if value else "",
            "TSVCDVER": version if value and code else "",
        }


def _ids(code):
    return identifiers(code, seq=False, subject=False)


ARMCD = V("ARMCD", "Planned Arm Code", "Char", "Req", "Assigned", "COH<cohort number>_<regimen>")
ARM = V(
    "ARM",
    "Description of Planned Arm",
    "Char",
    "Req",
    "Assigned",
    "Cohort <n>: <drug> <dose> <regimen>",
)
ETCD = V(
    "ETCD",
    "Element Code",
    "Char",
    "Req",
    "Assigned",
    "SCRN, FU, or L<dose level><regimen> (I<n> for an intermediate dose)",
)

TA = register(
    Domain(
        code="TA",
        label="Trial Arms",
        observation_class="TRIAL DESIGN",
        structure="One record per planned Element per Arm",
        keys=("STUDYID", "ARMCD", "TAETORD"),
        rows=ta_rows,
        subject_level=False,
        build_order=20,
        variables=(
            *_ids("TA"),
            ARMCD,
            ARM,
            V(
                "TAETORD",
                "Planned Order of Element within Arm",
                "Num",
                "Req",
                "Assigned",
                "1 screening, 2 treatment, 3 follow-up",
            ),
            ETCD,
            V("ELEMENT", "Description of Element", "Char", "Perm", "Assigned", "TE.ELEMENT"),
            V(
                "TABRANCH",
                "Branch",
                "Char",
                "Exp",
                "Assigned",
                "None: subjects are enrolled into a cohort, not branched",
            ),
            V("TATRANS", "Transition Rule", "Char", "Exp", "Assigned", "None"),
            V(
                "EPOCH",
                "Epoch",
                "Char",
                "Req",
                "Assigned",
                "SCREENING, TREATMENT, FOLLOW-UP",
                "EPOCH",
            ),
        ),
    )
)

TE = register(
    Domain(
        code="TE",
        label="Trial Elements",
        observation_class="TRIAL DESIGN",
        structure="One record per planned Element",
        keys=("STUDYID", "ETCD"),
        rows=_te_rows,
        subject_level=False,
        build_order=20,
        variables=(
            *_ids("TE"),
            ETCD,
            V(
                "ELEMENT",
                "Description of Element",
                "Char",
                "Req",
                "Assigned",
                "Screening, Follow-up, or the drug, dose and regimen",
            ),
            V(
                "TESTRL",
                "Rule for Start of Element",
                "Char",
                "Req",
                "Assigned",
                "Informed consent / first dose / end of treatment",
            ),
            V(
                "TEENRL",
                "Rule for End of Element",
                "Char",
                "Perm",
                "Assigned",
                "First dose / end of treatment / end of study",
            ),
            V(
                "TEDUR",
                "Planned Duration of Element",
                "Char",
                "Perm",
                "Assigned",
                "None: treatment continues until it ends",
            ),
        ),
    )
)

TV = register(
    Domain(
        code="TV",
        label="Trial Visits",
        observation_class="TRIAL DESIGN",
        structure="One record per planned Visit per Arm",
        keys=("STUDYID", "ARMCD", "VISITNUM"),
        rows=tv_rows,
        subject_level=False,
        build_order=20,
        variables=(
            *_ids("TV"),
            V(
                "VISITNUM",
                "Visit Number",
                "Num",
                "Req",
                "Assigned",
                "1 = screening; cycle x 100 + day",
            ),
            V("VISIT", "Visit Name", "Char", "Req", "Assigned", "SCREENING / CYCLE <c> DAY <d>"),
            V(
                "VISITDY",
                "Planned Study Day of Visit",
                "Num",
                "Perm",
                "Protocol",
                "Regimen.study_day(cycle, day)",
            ),
            V("ARMCD", "Planned Arm Code", "Char", "Exp", "Assigned", "TA.ARMCD"),
            V("ARM", "Description of Planned Arm", "Char", "Perm", "Assigned", "TA.ARM"),
            V(
                "TVSTRL",
                "Visit Start Rule",
                "Char",
                "Req",
                "Protocol",
                "Planned study day and the regimen's visit window",
            ),
            V("TVENRL", "Visit End Rule", "Char", "Perm", "Protocol", "Screening: its end"),
        ),
    )
)

TI = register(
    Domain(
        code="TI",
        label="Trial Inclusion/Exclusion Criteria",
        observation_class="TRIAL DESIGN",
        structure="One record per I/E criterion",
        keys=("STUDYID", "IETESTCD"),
        rows=ti_rows,
        subject_level=False,
        build_order=20,
        variables=(
            *_ids("TI"),
            V(
                "IETESTCD",
                "Incl/Excl Criterion Short Name",
                "Char",
                "Req",
                "Assigned",
                "INCLnn / EXCLnn in the protocol file's order",
            ),
            V(
                "IETEST",
                "Inclusion/Exclusion Criterion",
                "Char",
                "Req",
                "Protocol",
                "Study.eligibility_criteria (protocol file [eligibility])",
            ),
            V(
                "IECAT",
                "Inclusion/Exclusion Category",
                "Char",
                "Req",
                "Protocol",
                "INCLUSION or EXCLUSION",
                "IECAT",
            ),
            V(
                "TIVERS",
                "Protocol Criteria Versions",
                "Char",
                "Perm",
                "Protocol",
                "The protocol file's digest (first 12 hex digits)",
            ),
        ),
    )
)

TS = register(
    Domain(
        code="TS",
        label="Trial Summary",
        observation_class="TRIAL DESIGN",
        structure="One record per trial summary parameter value",
        keys=("STUDYID", "TSPARMCD", "TSSEQ"),
        rows=ts_rows,
        subject_level=False,
        build_order=20,
        variables=(
            *_ids("TS"),
            V("TSSEQ", "Sequence Number", "Num", "Req", "Derived", "1, 2, ... within TSPARMCD"),
            V(
                "TSPARMCD",
                "Trial Summary Parameter Short Name",
                "Char",
                "Req",
                "Assigned",
                "CDISC CT TSPARMCD",
                "TSPARMCD",
            ),
            V(
                "TSPARM",
                "Trial Summary Parameter",
                "Char",
                "Req",
                "Assigned",
                "CDISC CT TSPARM",
                "TSPARM",
            ),
            V(
                "TSVAL",
                "Parameter Value",
                "Char",
                "Exp",
                "Protocol",
                "The study configuration; DCUTDTC is the export's data cut (UTC)",
            ),
            V(
                "TSVALNF",
                "Parameter Value Null Flavor",
                "Char",
                "Perm",
                "Assigned",
                "UNK when TSVAL is unknown",
            ),
            V(
                "TSVALCD",
                "Parameter Value Code",
                "Char",
                "Exp",
                "Assigned",
                "The NCI C-code of a CDISC CT value",
            ),
            V(
                "TSVCDREF",
                "Name of the Reference Terminology",
                "Char",
                "Exp",
                "Assigned",
                "CDISC CT or ISO 8601",
            ),
            V(
                "TSVCDVER",
                "Version of the Reference Terminology",
                "Char",
                "Exp",
                "Assigned",
                "The CT version",
            ),
        ),
    )
)
