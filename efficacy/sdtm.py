"""SDTM TU (tumour identification), TR (tumour results) and RS (disease response), registered
with the standards registry at start-up (docs/standards.md §9; the mapping choices in
docs/efficacy.md §17).

What is tabulated is what the site recorded: each lesion once in TU (its role at identification,
organ, method), each lesion at each scan in TR (diameter in mm for targets, state for the
others), and the investigator's overall response at each follow-up in RS. The computed responses,
BOR and endpoints are analysis values (ADaM ADRS/ADTTE), not collected data, and are not put in
SDTM. The three domains are linked by TULNKID = TRLNKID = the lesion's code.
"""

from __future__ import annotations

from decimal import Decimal

from standards.mapping import Domain, Variable, epoch_variable, identifiers
from standards.registry import register
from standards.timing import dtc

from .models import Lesion, LesionObservation, TumourAssessment

V = Variable

RECIST = "RECIST 1.1"
EVALUATOR = "INVESTIGATOR"
# The product's method -> CDISC CT METHOD (C85492).
METHODS = {
    "CT": "CT SCAN",
    "MRI": "MRI",
    "chest X-ray": "X-RAY",
    "caliper": "CALIPER MEASUREMENT METHOD",
    "ultrasound": "ULTRASOUND",
    "FDG-PET": "PET SCAN",
    "other": "",
}
ROLES = {"target": "TARGET", "non-target": "NON-TARGET", "new": "NEW"}
# Non-target and new lesion statuses -> TUMSTATE result (C124309 TRPROPRS).
STATES = {
    "present": ("PRESENT", "PRESENT"),
    "absent": ("ABSENT", "ABSENT"),
    "unequivocal progression": ("UNEQUIVOCAL PROGRESSION", "UNEQUIVOCAL"),
    "unequivocal": ("UNEQUIVOCAL", "UNEQUIVOCAL"),
    "equivocal": ("EQUIVOCAL", "EQUIVOCAL"),
}
# Visit numbers as the visit calendar numbers tumour scans (docs/visits.md: SCAN n is
# 80000 + n, "TUMOUR ASSESSMENT n"); the baseline scan belongs to screening (1).
SCAN_VISIT_BASE = 80000


class _Scans:
    """The study's assessments, lesions and observations as of the cut, voided ones left out."""

    def __init__(self, ctx):
        self.ctx = ctx
        self.assessments = {a.pk: a for a in ctx.records(TumourAssessment)}
        self.lesions = {le.pk: le for le in ctx.records(Lesion)}
        self.observations = [
            o
            for o in ctx.records(LesionObservation)
            if o.assessment_id in self.assessments and o.lesion_id in self.lesions
        ]
        from .services import settings_for

        self.interval_days = settings_for(ctx.study.pk).assessment_interval_days

    def visit(self, subject, assessment) -> tuple[int | None, str]:
        if assessment.kind == TumourAssessment.Kind.BASELINE:
            return 1, "SCREENING"
        first = self.ctx.first_dose(subject)
        if first is None:
            return None, ""
        days = (assessment.assessed_on - first.administered_on).days
        number = max(1, round(days / self.interval_days))
        return SCAN_VISIT_BASE + number, f"TUMOUR ASSESSMENT {number}"


def _number(value: Decimal) -> str:
    return format(value.normalize(), "f")


def _timing(ctx, scans: _Scans, subject, assessment, prefix: str) -> dict:
    when = dtc(assessment.assessed_on)
    visitnum, visit = scans.visit(subject, assessment)
    return {
        "VISITNUM": visitnum,
        "VISIT": visit,
        "EPOCH": ctx.epoch(subject, when),
        f"{prefix}DTC": when,
        f"{prefix}DY": ctx.study_day(subject, when),
    }


def tu_rows(ctx):
    scans = _Scans(ctx)
    for subject in ctx.subjects():
        lesions = [le for le in scans.lesions.values() if le.subject_id == subject.pk]
        for lesion in sorted(lesions, key=lambda le: le.code):
            seen = scans.assessments.get(lesion.first_seen_id)
            if seen is None:
                continue
            yield {
                "STUDYID": ctx.studyid,
                "DOMAIN": "TU",
                "USUBJID": ctx.usubjid(subject),
                "TUSPID": str(lesion.pk),
                "TULNKID": lesion.code,
                "TUTESTCD": "TUMIDENT",
                "TUTEST": "Tumor Identification",
                "TUORRES": ROLES[lesion.role],
                "TUSTRESC": ROLES[lesion.role],
                "TULOC": lesion.organ.upper(),
                "TUMETHOD": METHODS.get(seen.method, ""),
                "TULOBXFL": "Y" if seen.kind == TumourAssessment.Kind.BASELINE else "",
                "TUEVAL": EVALUATOR,
                **_timing(ctx, scans, subject, seen, "TU"),
            }


def _target_result(lesion: Lesion, observation: LesionObservation) -> dict:
    """A target lesion's diameter: LDIAM, or DIAMETER (the short axis) for a lymph node."""
    testcd, test = ("DIAMETER", "Diameter") if lesion.nodal else ("LDIAM", "Longest Diameter")
    status = observation.status
    original: str | None
    size: Decimal | None
    if status == "measured":
        size = observation.size_mm
        original = _number(size) if size is not None else None
    elif status == "too small to measure":
        size, original = Decimal(5), "TOO SMALL TO MEASURE"
    elif status == "gone":
        size, original = Decimal(0), "0"
    elif status == "split":
        size = sum((Decimal(str(p)) for p in observation.parts_mm), Decimal(0))
        original = " + ".join(str(p) for p in observation.parts_mm)
    elif status == "merged":
        size, original = Decimal(0), "0"
    else:
        size, original = None, None
    row = {
        "TRTESTCD": testcd,
        "TRTEST": test,
        "TRORRES": original,
        "TRORRESU": "mm" if original is not None else "",
        "TRSTRESC": _number(size) if size is not None else "",
        "TRSTRESN": float(size) if size is not None else None,
        "TRSTRESU": "mm" if size is not None else "",
        "TRSTAT": "" if size is not None else "NOT DONE",
        "TRREASND": "" if size is not None else "NOT EVALUATED",
    }
    return row


def _state_result(observation: LesionObservation) -> dict:
    if observation.status in STATES:
        original, standard = STATES[observation.status]
        done = {"TRSTAT": "", "TRREASND": ""}
    else:
        original, standard = None, ""
        done = {"TRSTAT": "NOT DONE", "TRREASND": "NOT EVALUATED"}
    return {
        "TRTESTCD": "TUMSTATE",
        "TRTEST": "Tumor State",
        "TRORRES": original,
        "TRORRESU": "",
        "TRSTRESC": standard,
        "TRSTRESN": None,
        "TRSTRESU": "",
        **done,
    }


def tr_rows(ctx):
    scans = _Scans(ctx)
    by_subject: dict[int, list[LesionObservation]] = {}
    for observation in scans.observations:
        subject_id = scans.assessments[observation.assessment_id].subject_id
        by_subject.setdefault(subject_id, []).append(observation)
    for subject in ctx.subjects():
        for observation in by_subject.get(subject.pk, []):
            assessment = scans.assessments[observation.assessment_id]
            lesion = scans.lesions[observation.lesion_id]
            results = []
            if lesion.role == Lesion.Role.TARGET:
                results.append(_target_result(lesion, observation))
                if observation.status == "merged":
                    results.append(
                        {**_state_result(observation), "TRORRES": "TUMOR MERGED",
                         "TRSTRESC": "TUMOR MERGED", "TRSTAT": "", "TRREASND": ""}
                    )  # fmt: skip
            else:
                results.append(_state_result(observation))
            for result in results:
                yield {
                    "STUDYID": ctx.studyid,
                    "DOMAIN": "TR",
                    "USUBJID": ctx.usubjid(subject),
                    "TRGRPID": ROLES[lesion.role],
                    "TRSPID": str(observation.pk),
                    "TRLNKID": lesion.code,
                    **result,
                    "TRMETHOD": METHODS.get(assessment.method, ""),
                    "TRLOBXFL": "Y" if assessment.kind == TumourAssessment.Kind.BASELINE else "",
                    "TREVAL": EVALUATOR,
                    **_timing(ctx, scans, subject, assessment, "TR"),
                }


def rs_rows(ctx):
    scans = _Scans(ctx)
    for subject in ctx.subjects():
        assessments = [
            a
            for a in scans.assessments.values()
            if a.subject_id == subject.pk and a.investigator_response
        ]
        for assessment in sorted(assessments, key=lambda a: a.assessed_on):
            yield {
                "STUDYID": ctx.studyid,
                "DOMAIN": "RS",
                "USUBJID": ctx.usubjid(subject),
                "RSSPID": str(assessment.pk),
                "RSTESTCD": "OVRLRESP",
                "RSTEST": "Overall Response",
                "RSCAT": RECIST,
                "RSORRES": assessment.investigator_response,
                "RSSTRESC": assessment.investigator_response,
                "RSEVAL": EVALUATOR,
                **_timing(ctx, scans, subject, assessment, "RS"),
            }


def _visit_variables() -> tuple[Variable, ...]:
    return (
        V("VISITNUM", "Visit Number", "Num", "Exp", "Derived",
          "Baseline scan: 1 (screening); follow-up scan n of the schedule: 80000 + n"),
        V("VISIT", "Visit Name", "Char", "Perm", "Derived",
          'SCREENING, or "TUMOUR ASSESSMENT n"'),
    )  # fmt: skip


def _dtc(prefix: str, label: str, day_label: str) -> tuple[Variable, ...]:
    return (
        epoch_variable(),
        V(f"{prefix}DTC", label, "Char", "Exp", "Collected", "TumourAssessment.assessed_on"),
        V(f"{prefix}DY", day_label, "Num", "Perm", "Derived",
          f"{prefix}DTC - RFSTDTC (+1 on or after RFSTDTC)"),
    )  # fmt: skip


def _eval(prefix: str, core: str = "Exp") -> Variable:
    return V(f"{prefix}EVAL", "Evaluator", "Char", core, "Assigned",  # type: ignore[arg-type]
             '"INVESTIGATOR": the site reads the scans', "EVAL")  # fmt: skip


TU = register(
    Domain(
        code="TU",
        rows=tu_rows,
        label="Tumor/Lesion Identification",
        observation_class="FINDINGS",
        structure="One record per identified tumor per subject per assessor",
        keys=("STUDYID", "USUBJID", "TULNKID", "TUEVAL"),
        sort=("USUBJID", "TULNKID"),
        variables=(
            *identifiers("TU"),
            V(
                "TUSPID",
                "Sponsor-Defined Identifier",
                "Char",
                "Perm",
                "Assigned",
                "The EDC's record number of the lesion",
            ),
            V(
                "TULNKID",
                "Link ID",
                "Char",
                "Exp",
                "Collected",
                "Lesion.code (T1, NT1, NEW1): links TU to TR",
            ),
            V(
                "TUTESTCD",
                "Tumor/Lesion ID Short Name",
                "Char",
                "Req",
                "Assigned",
                '"TUMIDENT"',
                "TUTESTCD",
            ),
            V(
                "TUTEST",
                "Tumor/Lesion ID Test Name",
                "Char",
                "Req",
                "Assigned",
                '"Tumor Identification"',
                "TUTEST",
            ),
            V(
                "TUORRES",
                "Tumor/Lesion ID Result",
                "Char",
                "Exp",
                "Collected",
                "Lesion.role: TARGET, NON-TARGET or NEW",
            ),
            V(
                "TUSTRESC",
                "Tumor/Lesion ID Result Std. Format",
                "Char",
                "Exp",
                "Derived",
                "TUORRES",
                "TUIDRS",
            ),
            V(
                "TULOC",
                "Location of the Tumor/Lesion",
                "Char",
                "Exp",
                "Collected",
                "Lesion.organ, upper case",
                "LOC",
            ),
            V(
                "TUMETHOD",
                "Method of Identification",
                "Char",
                "Exp",
                "Collected",
                "TumourAssessment.method of the scan that found the lesion",
                "METHOD",
            ),
            V(
                "TULOBXFL",
                "Last Observation Before Exposure Flag",
                "Char",
                "Exp",
                "Derived",
                "Y for lesions identified at the baseline scan",
                "NY",
            ),
            _eval("TU"),
            *_visit_variables(),
            *_dtc(
                "TU",
                "Date/Time of Tumor/Lesion Identification",
                "Study Day of Tumor/Lesion Identification",
            ),
        ),  # fmt: skip
    )
)

TR = register(
    Domain(
        code="TR",
        rows=tr_rows,
        label="Tumor/Lesion Results",
        observation_class="FINDINGS",
        structure="One record per tumor measurement/assessment per visit per subject per assessor",
        keys=("STUDYID", "USUBJID", "TRLNKID", "TRTESTCD", "TREVAL", "TRDTC"),
        sort=("USUBJID", "TRDTC", "TRLNKID", "TRTESTCD"),
        variables=(
            *identifiers("TR"),
            V(
                "TRGRPID",
                "Group ID",
                "Char",
                "Perm",
                "Derived",
                "The lesion's role: TARGET, NON-TARGET, NEW",
            ),
            V(
                "TRSPID",
                "Sponsor-Defined Identifier",
                "Char",
                "Perm",
                "Assigned",
                "The EDC's record number of the observation",
            ),
            V("TRLNKID", "Link ID", "Char", "Exp", "Collected", "Lesion.code: links TR to TU"),
            V(
                "TRTESTCD",
                "Tumor/Lesion Assessment Short Name",
                "Char",
                "Req",
                "Assigned",
                "LDIAM (target), DIAMETER (target lymph node: its short axis), TUMSTATE "
                "(non-target, new, merged)",
                "TRTESTCD",
            ),
            V(
                "TRTEST",
                "Tumor/Lesion Assessment Test Name",
                "Char",
                "Req",
                "Assigned",
                "The name of TRTESTCD",
                "TRTEST",
            ),
            V(
                "TRORRES",
                "Result or Finding in Original Units",
                "Char",
                "Exp",
                "Collected",
                "LesionObservation.size_mm, the parts of a split lesion, TOO SMALL TO MEASURE, "
                "or the status",
            ),
            V(
                "TRORRESU",
                "Original Units",
                "Char",
                "Exp",
                "Collected",
                '"mm" for diameters',
                "UNIT",
            ),
            V(
                "TRSTRESC",
                "Character Result/Finding in Std Format",
                "Char",
                "Exp",
                "Derived",
                "Diameter in mm (too small to measure: 5; gone or merged: 0; split: the sum of "
                "the parts), or the TUMSTATE result (CDISC CT TRPROPRS)",
            ),
            V(
                "TRSTRESN",
                "Numeric Result/Finding in Standard Units",
                "Num",
                "Exp",
                "Derived",
                "TRSTRESC for diameters",
            ),
            V("TRSTRESU", "Standard Units", "Char", "Exp", "Derived", '"mm" for diameters', "UNIT"),
            V(
                "TRSTAT",
                "Completion Status",
                "Char",
                "Perm",
                "Derived",
                "NOT DONE when the lesion was not evaluated",
                "ND",
            ),
            V("TRREASND", "Reason Not Done", "Char", "Perm", "Collected", '"NOT EVALUATED"'),
            V(
                "TRMETHOD",
                "Method Used to Identify the Tumor/Lesion",
                "Char",
                "Exp",
                "Collected",
                "TumourAssessment.method",
                "METHOD",
            ),
            V(
                "TRLOBXFL",
                "Last Observation Before Exposure Flag",
                "Char",
                "Exp",
                "Derived",
                "Y for the baseline scan",
                "NY",
            ),
            _eval("TR"),
            *_visit_variables(),
            *_dtc(
                "TR",
                "Date/Time of Tumor/Lesion Measurement",
                "Study Day of Tumor/Lesion Measurement",
            ),
        ),  # fmt: skip
    )
)

RS = register(
    Domain(
        code="RS",
        rows=rs_rows,
        label="Disease Response and Clin Classification",
        observation_class="FINDINGS",
        structure="One record per response assessment or clinical classification assessment "
        "per time point per visit per subject per assessor per medical evaluator",
        keys=("STUDYID", "USUBJID", "RSTESTCD", "RSEVAL", "RSDTC"),
        sort=("USUBJID", "RSDTC", "RSTESTCD"),
        variables=(
            *identifiers("RS"),
            V(
                "RSSPID",
                "Sponsor-Defined Identifier",
                "Char",
                "Perm",
                "Assigned",
                "The EDC's record number of the tumour assessment",
            ),
            V(
                "RSTESTCD",
                "Assessment Short Name",
                "Char",
                "Req",
                "Assigned",
                '"OVRLRESP"; ECOG101 for the ECOG performance status (visits)',
                "ONCRTSCD|ECOG1TC",
            ),
            V(
                "RSTEST",
                "Assessment Name",
                "Char",
                "Req",
                "Assigned",
                '"Overall Response"',
                "ONCRTS|ECOG1TN",
            ),
            V(
                "RSCAT",
                "Category for Assessment",
                "Char",
                "Exp",
                "Assigned",
                '"RECIST 1.1"',
                "ONCRSCAT|CCCAT",
            ),
            V(
                "RSORRES",
                "Result or Finding in Original Units",
                "Char",
                "Exp",
                "Collected",
                "TumourAssessment.investigator_response",
            ),
            V(
                "RSSTRESC",
                "Character Result/Finding in Std Format",
                "Char",
                "Exp",
                "Derived",
                "RSORRES",
                "ONCRSR|ECOG101STR",
            ),
            _eval("RS", "Perm"),
            *_visit_variables(),
            *_dtc("RS", "Date/Time of Assessment", "Study Day of Assessment"),
        ),  # fmt: skip
    )
)
