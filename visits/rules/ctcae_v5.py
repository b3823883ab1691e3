"""The lab-based criteria of NCI CTCAE v5.0 (docs/visits.md §4).

Source: U.S. Department of Health and Human Services, National Cancer Institute. Common
Terminology Criteria for Adverse Events (CTCAE) Version 5.0, November 27, 2017; workbook
CTCAE_v5.0.xlsx, sheet "CTCAE v5.0 Clean Copy". Each grade's `text` is that workbook cell,
verbatim; `tests/unit/visits/test_ctcae_workbook.py` compares them with the workbook when it is
available. The clauses are the project's reading of the text, cross-checked against the
machine-readable criteria of pharmaverse admiral (`atoxgr_criteria_ctcv5`, data-raw/adlb_grading/
ncictcaev5.json and ncictcaev5_uscv.json); where the two differ, docs/visits.md §4.4 says which
reading is followed and why.

Reading rules (docs/visits.md §4.1): "<A - B" is below A down to and including B and ">A - B" above
A up to and including B, so only the end nearer normal is tested and grades are tested from the
highest down, the first match winning; "A - B" without a sign includes A. A cut-off stated in
several units is kept in each (criteria.Cutoff).
"""

from __future__ import annotations

from decimal import Decimal

from .criteria import (
    BaselineStatus,
    Clause,
    Cutoff,
    Direction,
    GradeCriteria,
    Limit,
    LimitPlus,
    Op,
    TermCriteria,
    TimesBaseline,
    TimesLimit,
)

VERSION = "5.0"

NORMAL = BaselineStatus.NORMAL
ABNORMAL = BaselineStatus.ABNORMAL


def _cut(*values: tuple[str, str]) -> Cutoff:
    return Cutoff(tuple((unit, Decimal(value)) for unit, value in values))


def _count(per_litre: str) -> Cutoff:
    """A cell count cut-off, in 10^9/L and in /mm3 (exactly 1000 times more) as printed."""
    si = Decimal(per_litre)
    return Cutoff((("10^9/L", si), ("/mm3", si * 1000)))


def _below(text: str, cutoff: Cutoff, symptomatic: bool | None = None) -> Clause:
    return Clause(text, Op.LT, cutoff, symptomatic=symptomatic)


def _above(text: str, cutoff: Cutoff) -> Clause:
    return Clause(text, Op.GT, cutoff)


def _below_lln(text: str) -> Clause:
    return Clause(text, Op.LT, TimesLimit(Limit.LLN))


def _above_uln(text: str, factor: str = "1", baseline: BaselineStatus | None = None) -> Clause:
    return Clause(text, Op.GT, TimesLimit(Limit.ULN, Decimal(factor)), baseline=baseline)


def _times_baseline(
    text: str,
    factor: str,
    op: Op = Op.GT,
    baseline: BaselineStatus | None = None,
    anticoagulated: bool | None = None,
) -> Clause:
    return Clause(
        text, op, TimesBaseline(Decimal(factor)), baseline=baseline, anticoagulated=anticoagulated
    )


def _count_decreased(
    term: str, code: int, test: str, cells: tuple[str, str, str], texts: tuple[str, ...]
) -> TermCriteria:
    """The four blood count decrease terms share one shape: <LLN, then three absolute cut-offs."""
    g2, g3, g4 = cells
    t1, t2, t3, t4 = texts
    return TermCriteria(
        term,
        code,
        test,
        Direction.LOW,
        (
            GradeCriteria(4, t4, (_below(t4, _count(g4)),)),
            GradeCriteria(3, t3, (_below(t3, _count(g3)),)),
            GradeCriteria(2, t2, (_below(t2, _count(g2)),)),
            GradeCriteria(1, t1, (_below_lln(t1),)),
        ),
        reading="Grades 2-4 use the absolute cut-offs whatever the LLN; grade 1 is below the LLN "
        "down to the grade 2 limit.",
    )


def _liver(
    term: str,
    code: int,
    test: str,
    factors: tuple[str, str, str],
    texts: tuple[str, str, str, str],
    g1_clauses: tuple[str, str],
    g1_baseline: tuple[str, Op],
) -> TermCriteria:
    """ALT, AST, ALP, GGT and bilirubin: x ULN if baseline was normal, x baseline if abnormal."""
    f2, f3, f4 = factors
    t1, t2, t3, t4 = texts
    g1_factor, g1_op = g1_baseline
    return TermCriteria(
        term,
        code,
        test,
        Direction.HIGH,
        (
            GradeCriteria(
                4,
                t4,
                (
                    _above_uln(f">{f4} x ULN if baseline was normal", f4, NORMAL),
                    _times_baseline(
                        f">{f4} x baseline if baseline was abnormal", f4, baseline=ABNORMAL
                    ),
                ),
            ),
            GradeCriteria(
                3,
                t3,
                (
                    _above_uln(f">{f3} - {f4} x ULN if baseline was normal", f3, NORMAL),
                    _times_baseline(
                        f">{f3} - {f4} x baseline if baseline was abnormal", f3, baseline=ABNORMAL
                    ),
                ),
            ),
            GradeCriteria(
                2,
                t2,
                (
                    _above_uln(f">{f2} - {f3} x ULN if baseline was normal", f2, NORMAL),
                    _times_baseline(
                        f">{f2} - {f3} x baseline if baseline was abnormal", f2, baseline=ABNORMAL
                    ),
                ),
            ),
            GradeCriteria(
                1,
                t1,
                (
                    _above_uln(g1_clauses[0], "1", NORMAL),
                    _times_baseline(g1_clauses[1], g1_factor, g1_op, baseline=ABNORMAL),
                ),
            ),
        ),
        reading="Baseline abnormal means above the ULN; without a baseline the baseline-normal "
        "criteria apply and the result says so.",
    )


_LIFE = "life-threatening consequences"

# --- Blood counts -------------------------------------------------------------------------------

NEUTROPHIL_COUNT_DECREASED = _count_decreased(
    "Neutrophil count decreased",
    10029366,
    "NEUT",
    ("1.5", "1.0", "0.5"),
    (
        "<LLN - 1500/mm3; <LLN - 1.5 x 10e9 /L",
        "<1500 - 1000/mm3; <1.5 - 1.0 x 10e9 /L",
        "<1000 - 500/mm3; <1.0 - 0.5 x 10e9 /L",
        "<500/mm3; <0.5 x 10e9 /L",
    ),
)

PLATELET_COUNT_DECREASED = _count_decreased(
    "Platelet count decreased",
    10035528,
    "PLAT",
    ("75", "50", "25"),
    (
        "<LLN - 75,000/mm3; <LLN - 75.0 x 10e9 /L",
        "<75,000 - 50,000/mm3; <75.0 - 50.0 x 10e9 /L",
        "<50,000 - 25,000/mm3; <50.0 - 25.0 x 10e9 /L",
        "<25,000/mm3; <25.0 x 10e9 /L",
    ),
)

WHITE_BLOOD_CELL_DECREASED = _count_decreased(
    "White blood cell decreased",
    10049182,
    "WBC",
    ("3.0", "2.0", "1.0"),
    (
        "<LLN - 3000/mm3; <LLN - 3.0 x 10e9 /L",
        "<3000 - 2000/mm3; <3.0 - 2.0 x 10e9 /L",
        "<2000 - 1000/mm3; <2.0 - 1.0 x 10e9 /L",
        "<1000/mm3; <1.0 x 10e9 /L",
    ),
)

LYMPHOCYTE_COUNT_DECREASED = _count_decreased(
    "Lymphocyte count decreased",
    10025256,
    "LYM",
    ("0.8", "0.5", "0.2"),
    (
        "<LLN - 800/mm3; <LLN - 0.8 x 10e9/L",
        "<800 - 500/mm3; <0.8 - 0.5 x 10e9 /L",
        "<500 - 200/mm3; <0.5 - 0.2 x 10e9 /L",
        "<200/mm3; <0.2 x 10e9 /L",
    ),
)

CD4_LYMPHOCYTES_DECREASED = _count_decreased(
    "CD4 lymphocytes decreased",
    10007839,
    "CD4",
    ("0.5", "0.2", "0.05"),
    (
        "<LLN - 500/mm3; <LLN - 0.5 x 10e9 /L",
        "<500 - 200/mm3; <0.5 - 0.2 x 10e9 /L",
        # The workbook's SI part of grade 3 reads "<0.2 x 0.05 - 10e9 /L", a misprint of
        # "<0.2 - 0.05 x 10e9 /L" (its own /mm3 part says "<200 - 50/mm3").
        "<200 - 50/mm3; <0.2 x 0.05 - 10e9 /L",
        "<50/mm3; <0.05 x 10e9 /L",
    ),
)

LYMPHOCYTE_COUNT_INCREASED = TermCriteria(
    "Lymphocyte count increased",
    10025258,
    "LYM",
    Direction.HIGH,
    (
        GradeCriteria(3, ">20,000/mm3", (_above(">20,000/mm3", _count("20")),)),
        GradeCriteria(
            2, ">4000/mm3 - 20,000/mm3", (_above(">4000/mm3 - 20,000/mm3", _count("4")),)
        ),
    ),
    reading="No grade 1 or 4; no normal range needed.",
)

LEUKOCYTOSIS = TermCriteria(
    "Leukocytosis",
    10024378,
    "WBC",
    Direction.HIGH,
    (
        GradeCriteria(
            4,
            "Clinical manifestations of leucostasis; urgent intervention indicated",
            clinical="Clinical manifestations of leucostasis; urgent intervention indicated",
        ),
        GradeCriteria(3, ">100,000/mm3", (_above(">100,000/mm3", _count("100")),)),
    ),
)

ANEMIA = TermCriteria(
    "Anemia",
    10002272,
    "HGB",
    Direction.LOW,
    (
        GradeCriteria(
            4,
            "Life-threatening consequences; urgent intervention indicated",
            clinical="Life-threatening consequences; urgent intervention indicated",
        ),
        GradeCriteria(
            3,
            "Hgb <8.0 g/dL; <4.9 mmol/L; <80 g/L; transfusion indicated",
            (
                _below(
                    "Hgb <8.0 g/dL; <4.9 mmol/L; <80 g/L",
                    _cut(("g/L", "80"), ("g/dL", "8.0"), ("mmol/L", "4.9")),
                ),
            ),
            clinical="transfusion indicated",
        ),
        GradeCriteria(
            2,
            "Hgb <10.0 - 8.0 g/dL; <6.2 - 4.9 mmol/L; <100 - 80g/L",
            (
                _below(
                    "Hgb <10.0 - 8.0 g/dL; <6.2 - 4.9 mmol/L; <100 - 80g/L",
                    _cut(("g/L", "100"), ("g/dL", "10.0"), ("mmol/L", "6.2")),
                ),
            ),
        ),
        GradeCriteria(
            1,
            "Hemoglobin (Hgb) <LLN - 10.0 g/dL; <LLN - 6.2 mmol/L; <LLN - 100 g/L",
            (_below_lln("Hemoglobin (Hgb) <LLN - 10.0 g/dL; <LLN - 6.2 mmol/L; <LLN - 100 g/L"),),
        ),
    ),
    reading="Grade 4 is clinical only. Grades 2-3 use the absolute cut-offs whatever the LLN.",
)

HEMOGLOBIN_INCREASED = TermCriteria(
    "Hemoglobin increased",
    10055599,
    "HGB",
    Direction.HIGH,
    (
        GradeCriteria(
            3,
            "Increase in >4 g/dL",
            (
                Clause(
                    "Increase in >4 g/dL (above the ULN)",
                    Op.GT,
                    LimitPlus(Limit.ULN, _cut(("g/L", "40"), ("g/dL", "4"))),
                ),
            ),
        ),
        GradeCriteria(
            2,
            "Increase in >2 - 4 g/dL",
            (
                Clause(
                    "Increase in >2 - 4 g/dL (above the ULN)",
                    Op.GT,
                    LimitPlus(Limit.ULN, _cut(("g/L", "20"), ("g/dL", "2"))),
                ),
            ),
        ),
        GradeCriteria(
            1,
            "Increase in >0 - 2 g/dL",
            (Clause("Increase in >0 - 2 g/dL (above the ULN)", Op.GT, TimesLimit(Limit.ULN)),),
        ),
    ),
    reading="The workbook does not say above what; the increase is read as above the ULN, as "
    "admiral does and as the definition ('above normal') suggests.",
)

# --- Liver --------------------------------------------------------------------------------------

_TRANSAMINASE_TEXTS = (
    ">ULN - 3.0 x ULN if baseline was normal; 1.5 - 3.0 x baseline if baseline was abnormal",
    ">3.0 - 5.0 x ULN if baseline was normal; >3.0 - 5.0 x baseline if baseline was abnormal",
    ">5.0 - 20.0 x ULN if baseline was normal; >5.0 - 20.0 x baseline if baseline was abnormal",
    ">20.0 x ULN if baseline was normal; >20.0 x baseline if baseline was abnormal",
)
_TRANSAMINASE_G1 = (
    ">ULN - 3.0 x ULN if baseline was normal",
    "1.5 - 3.0 x baseline if baseline was abnormal",
)

ALT_INCREASED = _liver(
    "Alanine aminotransferase increased",
    10001551,
    "ALT",
    ("3.0", "5.0", "20.0"),
    _TRANSAMINASE_TEXTS,
    _TRANSAMINASE_G1,
    ("1.5", Op.GE),
)

AST_INCREASED = _liver(
    "Aspartate aminotransferase increased",
    10003481,
    "AST",
    ("3.0", "5.0", "20.0"),
    _TRANSAMINASE_TEXTS,
    _TRANSAMINASE_G1,
    ("1.5", Op.GE),
)

_ALP_GGT_TEXTS = (
    ">ULN - 2.5 x ULN if baseline was normal; 2.0 - 2.5 x baseline if baseline was abnormal",
    ">2.5 - 5.0 x ULN if baseline was normal; >2.5 - 5.0 x baseline if baseline was abnormal",
    ">5.0 - 20.0 x ULN if baseline was normal; >5.0 - 20.0 x baseline if baseline was abnormal",
    ">20.0 x ULN if baseline was normal; >20.0 x baseline if baseline was abnormal",
)
_ALP_GGT_G1 = (
    ">ULN - 2.5 x ULN if baseline was normal",
    "2.0 - 2.5 x baseline if baseline was abnormal",
)

ALKALINE_PHOSPHATASE_INCREASED = _liver(
    "Alkaline phosphatase increased",
    10001675,
    "ALP",
    ("2.5", "5.0", "20.0"),
    _ALP_GGT_TEXTS,
    _ALP_GGT_G1,
    ("2.0", Op.GE),
)

GGT_INCREASED = _liver(
    "GGT increased",
    10056910,
    "GGT",
    ("2.5", "5.0", "20.0"),
    _ALP_GGT_TEXTS,
    _ALP_GGT_G1,
    ("2.0", Op.GE),
)

BLOOD_BILIRUBIN_INCREASED = _liver(
    "Blood bilirubin increased",
    10005364,
    "BILI",
    ("1.5", "3.0", "10.0"),
    (
        ">ULN - 1.5 x ULN if baseline was normal; > 1.0 - 1.5 x baseline if baseline was abnormal",
        ">1.5 - 3.0 x ULN if baseline was normal; >1.5 - 3.0 x baseline if baseline was abnormal",
        ">3.0 - 10.0 x ULN if baseline was normal; >3.0 - 10.0 x baseline if baseline was abnormal",
        ">10.0 x ULN if baseline was normal; >10.0 x baseline if baseline was abnormal",
    ),
    (">ULN - 1.5 x ULN if baseline was normal", "> 1.0 - 1.5 x baseline if baseline was abnormal"),
    ("1.0", Op.GT),
)

# --- Kidney, muscle, pancreas, other enzymes ----------------------------------------------------

CREATININE_INCREASED = TermCriteria(
    "Creatinine increased",
    10011368,
    "CREAT",
    Direction.HIGH,
    (
        GradeCriteria(4, ">6.0 x ULN", (_above_uln(">6.0 x ULN", "6.0"),)),
        GradeCriteria(
            3,
            ">3.0 x baseline; >3.0 - 6.0 x ULN",
            (_times_baseline(">3.0 x baseline", "3.0"), _above_uln(">3.0 - 6.0 x ULN", "3.0")),
        ),
        GradeCriteria(
            2,
            ">1.5 - 3.0 x baseline; >1.5 - 3.0 x ULN",
            (
                _times_baseline(">1.5 - 3.0 x baseline", "1.5"),
                _above_uln(">1.5 - 3.0 x ULN", "1.5"),
            ),
        ),
        GradeCriteria(1, ">ULN - 1.5 x ULN", (_above_uln(">ULN - 1.5 x ULN"),)),
    ),
    reading="The x ULN and x baseline criteria are alternatives; the higher grade wins. Without a "
    "baseline only the x ULN criteria apply and the result says so.",
)


def _x_uln_term(
    term: str, code: int, test: str, factors: tuple[str, str, str], texts: tuple[str, str, str, str]
) -> TermCriteria:
    f2, f3, f4 = factors
    t1, t2, t3, t4 = texts
    return TermCriteria(
        term,
        code,
        test,
        Direction.HIGH,
        (
            GradeCriteria(4, t4, (_above_uln(t4, f4),)),
            GradeCriteria(3, t3, (_above_uln(t3, f3),)),
            GradeCriteria(2, t2, (_above_uln(t2, f2),)),
            GradeCriteria(1, t1, (_above_uln(t1),)),
        ),
    )


CPK_INCREASED = _x_uln_term(
    "CPK increased",
    10011268,
    "CK",
    ("2.5", "5", "10"),
    (">ULN - 2.5 x ULN", ">2.5 x ULN - 5 x ULN", ">5 x ULN - 10 x ULN", ">10 x ULN"),
)

LDH_INCREASED = TermCriteria(
    "Blood lactate dehydrogenase increased",
    10005630,
    "LDH",
    Direction.HIGH,
    (GradeCriteria(1, ">ULN", (_above_uln(">ULN"),)),),
)


def _pancreatic_enzyme(term: str, code: int, test: str) -> TermCriteria:
    """Lipase and amylase: above 2 x ULN the grade depends on signs or symptoms."""
    return TermCriteria(
        term,
        code,
        test,
        Direction.HIGH,
        (
            GradeCriteria(
                4,
                ">5.0 x ULN and with signs or symptoms",
                (
                    Clause(
                        ">5.0 x ULN and with signs or symptoms",
                        Op.GT,
                        TimesLimit(Limit.ULN, Decimal("5.0")),
                        symptomatic=True,
                    ),
                ),
            ),
            GradeCriteria(
                3,
                ">2.0 - 5.0 x ULN with signs or symptoms; >5.0 x ULN and asymptomatic",
                (
                    Clause(
                        ">2.0 - 5.0 x ULN with signs or symptoms",
                        Op.GT,
                        TimesLimit(Limit.ULN, Decimal("2.0")),
                        symptomatic=True,
                    ),
                    Clause(
                        ">5.0 x ULN and asymptomatic",
                        Op.GT,
                        TimesLimit(Limit.ULN, Decimal("5.0")),
                        symptomatic=False,
                    ),
                ),
            ),
            GradeCriteria(
                2,
                ">1.5 - 2.0 x ULN; >2.0 - 5.0 x ULN and asymptomatic",
                (_above_uln(">1.5 - 2.0 x ULN; >2.0 - 5.0 x ULN and asymptomatic", "1.5"),),
            ),
            GradeCriteria(1, ">ULN - 1.5 x ULN", (_above_uln(">ULN - 1.5 x ULN"),)),
        ),
        reading="Signs or symptoms not recorded: graded as asymptomatic, and the result says "
        "that symptoms would raise the grade.",
    )


LIPASE_INCREASED = _pancreatic_enzyme("Lipase increased", 10024574, "LIPASE")
SERUM_AMYLASE_INCREASED = _pancreatic_enzyme("Serum amylase increased", 10040139, "AMYLASE")

HAPTOGLOBIN_DECREASED = TermCriteria(
    "Haptoglobin decreased",
    10019150,
    "HAPTOG",
    Direction.LOW,
    (GradeCriteria(1, "<LLN", (_below_lln("<LLN"),)),),
)

# --- Coagulation --------------------------------------------------------------------------------

APTT_PROLONGED = TermCriteria(
    "Activated partial thromboplastin time prolonged",
    10000636,
    "APTT",
    Direction.HIGH,
    (
        GradeCriteria(3, ">2.5 x ULN; bleeding", (_above_uln(">2.5 x ULN", "2.5"),), "bleeding"),
        GradeCriteria(2, ">1.5 - 2.5 x ULN", (_above_uln(">1.5 - 2.5 x ULN", "1.5"),)),
        GradeCriteria(1, ">ULN - 1.5 x ULN", (_above_uln(">ULN - 1.5 x ULN"),)),
    ),
)

INR_INCREASED = TermCriteria(
    "INR increased",
    10022402,
    "INR",
    Direction.HIGH,
    (
        GradeCriteria(
            3,
            ">2.5; >2.5 x baseline if on anticoagulation; bleeding",
            (
                _above(">2.5", _cut(("ratio", "2.5"))),
                _times_baseline(
                    ">2.5 x baseline if on anticoagulation", "2.5", anticoagulated=True
                ),
            ),
            "bleeding",
        ),
        GradeCriteria(
            2,
            ">1.5 - 2.5; >1.5 - 2.5 x baseline if on anticoagulation; dose adjustment indicated",
            (
                _above(">1.5 - 2.5", _cut(("ratio", "1.5"))),
                _times_baseline(
                    ">1.5 - 2.5 x baseline if on anticoagulation", "1.5", anticoagulated=True
                ),
            ),
            "dose adjustment indicated",
        ),
        GradeCriteria(
            1,
            ">1.2 - 1.5; >1 - 1.5 x baseline if on anticoagulation; monitoring only indicated",
            (
                _above(">1.2 - 1.5", _cut(("ratio", "1.2"))),
                _times_baseline(
                    ">1 - 1.5 x baseline if on anticoagulation", "1", anticoagulated=True
                ),
            ),
            "monitoring only indicated",
        ),
    ),
    reading="The x baseline criteria apply only when the subject is recorded as on "
    "anticoagulation; no normal range is needed.",
)

# --- Electrolytes and metabolism ----------------------------------------------------------------

HYPOKALEMIA = TermCriteria(
    "Hypokalemia",
    10021018,
    "K",
    Direction.LOW,
    (
        GradeCriteria(
            4,
            "<2.5 mmol/L; life-threatening consequences",
            (_below("<2.5 mmol/L", _cut(("mmol/L", "2.5"))),),
            _LIFE,
        ),
        GradeCriteria(
            3,
            "<3.0 - 2.5 mmol/L; hospitalization indicated",
            (_below("<3.0 - 2.5 mmol/L", _cut(("mmol/L", "3.0"))),),
            "hospitalization indicated",
        ),
        GradeCriteria(
            2,
            "Symptomatic with <LLN - 3.0 mmol/L; intervention indicated",
            (
                Clause(
                    "Symptomatic with <LLN - 3.0 mmol/L",
                    Op.LT,
                    TimesLimit(Limit.LLN),
                    symptomatic=True,
                ),
            ),
            "intervention indicated",
        ),
        GradeCriteria(1, "<LLN - 3.0 mmol/L", (_below_lln("<LLN - 3.0 mmol/L"),)),
    ),
    reading="Grade 2 needs symptoms: without them recorded the value is graded 1 and the result "
    "says so.",
)

HYPERKALEMIA = TermCriteria(
    "Hyperkalemia",
    10020647,
    "K",
    Direction.HIGH,
    (
        GradeCriteria(
            4,
            ">7.0 mmol/L; life-threatening consequences",
            (_above(">7.0 mmol/L", _cut(("mmol/L", "7.0"))),),
            _LIFE,
        ),
        GradeCriteria(
            3,
            ">6.0 - 7.0 mmol/L; hospitalization indicated",
            (_above(">6.0 - 7.0 mmol/L", _cut(("mmol/L", "6.0"))),),
            "hospitalization indicated",
        ),
        GradeCriteria(
            2,
            ">5.5 - 6.0 mmol/L; intervention initiated",
            (_above(">5.5 - 6.0 mmol/L", _cut(("mmol/L", "5.5"))),),
            "intervention initiated",
        ),
        GradeCriteria(1, ">ULN - 5.5 mmol/L", (_above_uln(">ULN - 5.5 mmol/L"),)),
    ),
)

HYPONATREMIA = TermCriteria(
    "Hyponatremia",
    10021038,
    "SODIUM",
    Direction.LOW,
    (
        GradeCriteria(
            4,
            "<120 mmol/L; life-threatening consequences",
            (_below("<120 mmol/L", _cut(("mmol/L", "120"))),),
            _LIFE,
        ),
        GradeCriteria(
            3,
            "125-129 mmol/L symptomatic; 120-124 mmol/L regardless of symptoms",
            (
                _below("125-129 mmol/L symptomatic", _cut(("mmol/L", "130")), symptomatic=True),
                _below("120-124 mmol/L regardless of symptoms", _cut(("mmol/L", "125"))),
            ),
        ),
        GradeCriteria(
            2,
            "125-129 mmol/L and asymptomatic",
            (
                _below(
                    "125-129 mmol/L and asymptomatic", _cut(("mmol/L", "130")), symptomatic=False
                ),
            ),
        ),
        GradeCriteria(1, "<LLN - 130 mmol/L", (_below_lln("<LLN - 130 mmol/L"),)),
    ),
    reading="Sodium is reported in whole mmol/L; the bands 125-129 and 120-124 are read as below "
    "130 down to 125 and below 125 down to 120. Symptoms not recorded: graded as asymptomatic.",
)

HYPERNATREMIA = TermCriteria(
    "Hypernatremia",
    10020680,
    "SODIUM",
    Direction.HIGH,
    (
        GradeCriteria(
            4,
            ">160 mmol/L; life-threatening consequences",
            (_above(">160 mmol/L", _cut(("mmol/L", "160"))),),
            _LIFE,
        ),
        GradeCriteria(
            3,
            ">155 - 160 mmol/L; hospitalization indicated",
            (_above(">155 - 160 mmol/L", _cut(("mmol/L", "155"))),),
            "hospitalization indicated",
        ),
        GradeCriteria(
            2,
            ">150 - 155 mmol/L; intervention initiated",
            (_above(">150 - 155 mmol/L", _cut(("mmol/L", "150"))),),
            "intervention initiated",
        ),
        GradeCriteria(1, ">ULN - 150 mmol/L", (_above_uln(">ULN - 150 mmol/L"),)),
    ),
)

_HYPOCALCEMIA_TEXTS = (
    "Corrected serum calcium of <LLN - 8.0 mg/dL; <LLN - 2.0 mmol/L; Ionized calcium <LLN - 1.0 "
    "mmol/L",
    "Corrected serum calcium of <8.0 - 7.0 mg/dL; <2.0 - 1.75 mmol/L; Ionized calcium <1.0 - 0.9 "
    "mmol/L; symptomatic",
    "Corrected serum calcium of <7.0 - 6.0 mg/dL; <1.75 - 1.5 mmol/L; Ionized calcium <0.9 - 0.8 "
    "mmol/L; hospitalization indicated",
    "Corrected serum calcium of <6.0 mg/dL; <1.5 mmol/L; Ionized calcium <0.8 mmol/L; "
    "life-threatening consequences",
)

HYPOCALCEMIA = TermCriteria(
    "Hypocalcemia",
    10020949,
    "CA",
    Direction.LOW,
    (
        GradeCriteria(
            4,
            _HYPOCALCEMIA_TEXTS[3],
            (
                _below(
                    "Corrected serum calcium of <6.0 mg/dL; <1.5 mmol/L",
                    _cut(("mmol/L", "1.5"), ("mg/dL", "6.0")),
                ),
            ),
            _LIFE,
        ),
        GradeCriteria(
            3,
            _HYPOCALCEMIA_TEXTS[2],
            (
                _below(
                    "Corrected serum calcium of <7.0 - 6.0 mg/dL; <1.75 - 1.5 mmol/L",
                    _cut(("mmol/L", "1.75"), ("mg/dL", "7.0")),
                ),
            ),
            "hospitalization indicated",
        ),
        GradeCriteria(
            2,
            _HYPOCALCEMIA_TEXTS[1],
            (
                _below(
                    "Corrected serum calcium of <8.0 - 7.0 mg/dL; <2.0 - 1.75 mmol/L",
                    _cut(("mmol/L", "2.0"), ("mg/dL", "8.0")),
                ),
            ),
            "symptomatic",
        ),
        GradeCriteria(
            1,
            _HYPOCALCEMIA_TEXTS[0],
            (_below_lln("Corrected serum calcium of <LLN - 8.0 mg/dL; <LLN - 2.0 mmol/L"),),
        ),
    ),
    reading="Graded on the calcium given, which must be the albumin-corrected serum calcium.",
)

HYPOCALCEMIA_IONIZED = TermCriteria(
    "Hypocalcemia",
    10020949,
    "CAION",
    Direction.LOW,
    (
        GradeCriteria(
            4,
            _HYPOCALCEMIA_TEXTS[3],
            (_below("Ionized calcium <0.8 mmol/L", _cut(("mmol/L", "0.8"))),),
            _LIFE,
        ),
        GradeCriteria(
            3,
            _HYPOCALCEMIA_TEXTS[2],
            (_below("Ionized calcium <0.9 - 0.8 mmol/L", _cut(("mmol/L", "0.9"))),),
            "hospitalization indicated",
        ),
        GradeCriteria(
            2,
            _HYPOCALCEMIA_TEXTS[1],
            (_below("Ionized calcium <1.0 - 0.9 mmol/L", _cut(("mmol/L", "1.0"))),),
            "symptomatic",
        ),
        GradeCriteria(
            1, _HYPOCALCEMIA_TEXTS[0], (_below_lln("Ionized calcium <LLN - 1.0 mmol/L"),)
        ),
    ),
)

_HYPERCALCEMIA_TEXTS = (
    "Corrected serum calcium of >ULN - 11.5 mg/dL; >ULN - 2.9 mmol/L; Ionized calcium >ULN - 1.5 "
    "mmol/L",
    "Corrected serum calcium of >11.5 - 12.5 mg/dL; >2.9 - 3.1 mmol/L; Ionized calcium >1.5 - 1.6 "
    "mmol/L; symptomatic",
    "Corrected serum calcium of >12.5 - 13.5 mg/dL; >3.1 - 3.4 mmol/L; Ionized calcium >1.6 - 1.8 "
    "mmol/L; hospitalization indicated",
    "Corrected serum calcium of >13.5 mg/dL; >3.4 mmol/L; Ionized calcium >1.8 mmol/L; "
    "life-threatening consequences",
)

HYPERCALCEMIA = TermCriteria(
    "Hypercalcemia",
    10020587,
    "CA",
    Direction.HIGH,
    (
        GradeCriteria(
            4,
            _HYPERCALCEMIA_TEXTS[3],
            (
                _above(
                    "Corrected serum calcium of >13.5 mg/dL; >3.4 mmol/L",
                    _cut(("mmol/L", "3.4"), ("mg/dL", "13.5")),
                ),
            ),
            _LIFE,
        ),
        GradeCriteria(
            3,
            _HYPERCALCEMIA_TEXTS[2],
            (
                _above(
                    "Corrected serum calcium of >12.5 - 13.5 mg/dL; >3.1 - 3.4 mmol/L",
                    _cut(("mmol/L", "3.1"), ("mg/dL", "12.5")),
                ),
            ),
            "hospitalization indicated",
        ),
        GradeCriteria(
            2,
            _HYPERCALCEMIA_TEXTS[1],
            (
                _above(
                    "Corrected serum calcium of >11.5 - 12.5 mg/dL; >2.9 - 3.1 mmol/L",
                    _cut(("mmol/L", "2.9"), ("mg/dL", "11.5")),
                ),
            ),
            "symptomatic",
        ),
        GradeCriteria(
            1,
            _HYPERCALCEMIA_TEXTS[0],
            (_above_uln("Corrected serum calcium of >ULN - 11.5 mg/dL; >ULN - 2.9 mmol/L"),),
        ),
    ),
    reading="Graded on the calcium given, which must be the albumin-corrected serum calcium.",
)

HYPERCALCEMIA_IONIZED = TermCriteria(
    "Hypercalcemia",
    10020587,
    "CAION",
    Direction.HIGH,
    (
        GradeCriteria(
            4,
            _HYPERCALCEMIA_TEXTS[3],
            (_above("Ionized calcium >1.8 mmol/L", _cut(("mmol/L", "1.8"))),),
            _LIFE,
        ),
        GradeCriteria(
            3,
            _HYPERCALCEMIA_TEXTS[2],
            (_above("Ionized calcium >1.6 - 1.8 mmol/L", _cut(("mmol/L", "1.6"))),),
            "hospitalization indicated",
        ),
        GradeCriteria(
            2,
            _HYPERCALCEMIA_TEXTS[1],
            (_above("Ionized calcium >1.5 - 1.6 mmol/L", _cut(("mmol/L", "1.5"))),),
            "symptomatic",
        ),
        GradeCriteria(
            1, _HYPERCALCEMIA_TEXTS[0], (_above_uln("Ionized calcium >ULN - 1.5 mmol/L"),)
        ),
    ),
)

HYPOGLYCEMIA = TermCriteria(
    "Hypoglycemia",
    10021005,
    "GLUC",
    Direction.LOW,
    (
        GradeCriteria(
            4,
            "<30 mg/dL; <1.7 mmol/L; life-threatening consequences; seizures",
            (_below("<30 mg/dL; <1.7 mmol/L", _cut(("mmol/L", "1.7"), ("mg/dL", "30"))),),
            "life-threatening consequences; seizures",
        ),
        GradeCriteria(
            3,
            "<40 - 30 mg/dL; <2.2 - 1.7 mmol/L",
            (
                _below(
                    "<40 - 30 mg/dL; <2.2 - 1.7 mmol/L", _cut(("mmol/L", "2.2"), ("mg/dL", "40"))
                ),
            ),
        ),
        GradeCriteria(
            2,
            "<55 - 40 mg/dL; <3.0 - 2.2 mmol/L",
            (
                _below(
                    "<55 - 40 mg/dL; <3.0 - 2.2 mmol/L", _cut(("mmol/L", "3.0"), ("mg/dL", "55"))
                ),
            ),
        ),
        GradeCriteria(
            1,
            "<LLN - 55 mg/dL; <LLN - 3.0 mmol/L",
            (_below_lln("<LLN - 55 mg/dL; <LLN - 3.0 mmol/L"),),
        ),
    ),
)

HYPOALBUMINEMIA = TermCriteria(
    "Hypoalbuminemia",
    10020943,
    "ALB",
    Direction.LOW,
    (
        GradeCriteria(
            4,
            "Life-threatening consequences; urgent intervention indicated",
            clinical="Life-threatening consequences; urgent intervention indicated",
        ),
        GradeCriteria(
            3, "<2 g/dL; <20 g/L", (_below("<2 g/dL; <20 g/L", _cut(("g/L", "20"), ("g/dL", "2"))),)
        ),
        GradeCriteria(
            2,
            "<3 - 2 g/dL; <30 - 20 g/L",
            (_below("<3 - 2 g/dL; <30 - 20 g/L", _cut(("g/L", "30"), ("g/dL", "3"))),),
        ),
        GradeCriteria(
            1, "<LLN - 3 g/dL; <LLN - 30 g/L", (_below_lln("<LLN - 3 g/dL; <LLN - 30 g/L"),)
        ),
    ),
)

HYPOMAGNESEMIA = TermCriteria(
    "Hypomagnesemia",
    10021028,
    "MG",
    Direction.LOW,
    (
        GradeCriteria(
            4,
            "<0.7 mg/dL; <0.3 mmol/L; life-threatening consequences",
            (_below("<0.7 mg/dL; <0.3 mmol/L", _cut(("mmol/L", "0.3"), ("mg/dL", "0.7"))),),
            _LIFE,
        ),
        GradeCriteria(
            3,
            "<0.9 - 0.7 mg/dL; <0.4 - 0.3 mmol/L",
            (
                _below(
                    "<0.9 - 0.7 mg/dL; <0.4 - 0.3 mmol/L", _cut(("mmol/L", "0.4"), ("mg/dL", "0.9"))
                ),
            ),
        ),
        GradeCriteria(
            2,
            "<1.2 - 0.9 mg/dL; <0.5 - 0.4 mmol/L",
            (
                _below(
                    "<1.2 - 0.9 mg/dL; <0.5 - 0.4 mmol/L", _cut(("mmol/L", "0.5"), ("mg/dL", "1.2"))
                ),
            ),
        ),
        GradeCriteria(
            1,
            "<LLN - 1.2 mg/dL; <LLN - 0.5 mmol/L",
            (_below_lln("<LLN - 1.2 mg/dL; <LLN - 0.5 mmol/L"),),
        ),
    ),
)

HYPERMAGNESEMIA = TermCriteria(
    "Hypermagnesemia",
    10020670,
    "MG",
    Direction.HIGH,
    (
        GradeCriteria(
            4,
            ">8.0 mg/dL; >3.30 mmol/L; life-threatening consequences",
            (_above(">8.0 mg/dL; >3.30 mmol/L", _cut(("mmol/L", "3.30"), ("mg/dL", "8.0"))),),
            _LIFE,
        ),
        GradeCriteria(
            3,
            ">3.0 - 8.0 mg/dL; >1.23 - 3.30 mmol/L",
            (
                _above(
                    ">3.0 - 8.0 mg/dL; >1.23 - 3.30 mmol/L",
                    _cut(("mmol/L", "1.23"), ("mg/dL", "3.0")),
                ),
            ),
        ),
        GradeCriteria(
            1,
            ">ULN - 3.0 mg/dL; >ULN - 1.23 mmol/L",
            (_above_uln(">ULN - 3.0 mg/dL; >ULN - 1.23 mmol/L"),),
        ),
    ),
    reading="No grade 2.",
)

CHOLESTEROL_HIGH = TermCriteria(
    "Cholesterol high",
    10008661,
    "CHOL",
    Direction.HIGH,
    (
        GradeCriteria(
            4,
            ">500 mg/dL; >12.92 mmol/L",
            (_above(">500 mg/dL; >12.92 mmol/L", _cut(("mmol/L", "12.92"), ("mg/dL", "500"))),),
        ),
        GradeCriteria(
            3,
            ">400 - 500 mg/dL; >10.34 - 12.92 mmol/L",
            (
                _above(
                    ">400 - 500 mg/dL; >10.34 - 12.92 mmol/L",
                    _cut(("mmol/L", "10.34"), ("mg/dL", "400")),
                ),
            ),
        ),
        GradeCriteria(
            2,
            ">300 - 400 mg/dL; >7.75 - 10.34 mmol/L",
            (
                _above(
                    ">300 - 400 mg/dL; >7.75 - 10.34 mmol/L",
                    _cut(("mmol/L", "7.75"), ("mg/dL", "300")),
                ),
            ),
        ),
        GradeCriteria(
            1,
            ">ULN - 300 mg/dL; >ULN - 7.75 mmol/L",
            (_above_uln(">ULN - 300 mg/dL; >ULN - 7.75 mmol/L"),),
        ),
    ),
)

HYPERTRIGLYCERIDEMIA = TermCriteria(
    "Hypertriglyceridemia",
    10020870,
    "TRIG",
    Direction.HIGH,
    (
        GradeCriteria(
            4,
            ">1000 mg/dL; >11.4 mmol/L; life-threatening consequences",
            (_above(">1000 mg/dL; >11.4 mmol/L", _cut(("mmol/L", "11.4"), ("mg/dL", "1000"))),),
            _LIFE,
        ),
        GradeCriteria(
            3,
            ">500 mg/dL - 1000 mg/dL; >5.7 mmol/L - 11.4 mmol/L",
            (
                _above(
                    ">500 mg/dL - 1000 mg/dL; >5.7 mmol/L - 11.4 mmol/L",
                    _cut(("mmol/L", "5.7"), ("mg/dL", "500")),
                ),
            ),
        ),
        GradeCriteria(
            2,
            ">300 mg/dL - 500 mg/dL; >3.42 mmol/L - 5.7 mmol/L",
            (
                _above(
                    ">300 mg/dL - 500 mg/dL; >3.42 mmol/L - 5.7 mmol/L",
                    _cut(("mmol/L", "3.42"), ("mg/dL", "300")),
                ),
            ),
        ),
        GradeCriteria(
            1,
            "150 mg/dL - 300 mg/dL; 1.71 mmol/L - 3.42 mmol/L",
            (
                Clause(
                    "150 mg/dL - 300 mg/dL; 1.71 mmol/L - 3.42 mmol/L",
                    Op.GE,
                    _cut(("mmol/L", "1.71"), ("mg/dL", "150")),
                ),
            ),
        ),
    ),
    reading="Grade 1 has no sign: 150 mg/dL (1.71 mmol/L) itself is grade 1. No normal range "
    "needed.",
)

HYPERURICEMIA = TermCriteria(
    "Hyperuricemia",
    10020907,
    "URATE",
    Direction.HIGH,
    (
        GradeCriteria(4, "Life-threatening consequences", clinical="Life-threatening consequences"),
        GradeCriteria(
            3, ">ULN with physiologic consequences", clinical=">ULN with physiologic consequences"
        ),
        GradeCriteria(
            1,
            ">ULN without physiologic consequences",
            (_above_uln(">ULN without physiologic consequences"),),
            "without physiologic consequences",
        ),
    ),
    reading="Above the ULN is grade 1; physiologic consequences (grade 3) are the investigator's.",
)

BLOOD_BICARBONATE_DECREASED = TermCriteria(
    "Blood bicarbonate decreased",
    10005359,
    "BICARB",
    Direction.LOW,
    (
        GradeCriteria(
            1,
            "<LLN and no intervention initiated",
            (_below_lln("<LLN and no intervention initiated"),),
            "no intervention initiated",
        ),
    ),
)

ACIDOSIS = TermCriteria(
    "Acidosis",
    10000486,
    "PH",
    Direction.LOW,
    (
        GradeCriteria(4, "Life-threatening consequences", clinical="Life-threatening consequences"),
        GradeCriteria(3, "pH <7.3", (_below("pH <7.3", _cut(("pH", "7.3"))),)),
        GradeCriteria(1, "pH <normal, but >=7.3", (_below_lln("pH <normal, but >=7.3"),)),
    ),
)

ALKALOSIS = TermCriteria(
    "Alkalosis",
    10001680,
    "PH",
    Direction.HIGH,
    (
        GradeCriteria(4, "Life-threatening consequences", clinical="Life-threatening consequences"),
        GradeCriteria(3, "pH >7.5", (_above("pH >7.5", _cut(("pH", "7.5"))),)),
        GradeCriteria(1, "pH >normal, but <=7.5", (_above_uln("pH >normal, but <=7.5"),)),
    ),
)

TERMS: tuple[TermCriteria, ...] = (
    NEUTROPHIL_COUNT_DECREASED,
    PLATELET_COUNT_DECREASED,
    WHITE_BLOOD_CELL_DECREASED,
    LEUKOCYTOSIS,
    LYMPHOCYTE_COUNT_DECREASED,
    LYMPHOCYTE_COUNT_INCREASED,
    CD4_LYMPHOCYTES_DECREASED,
    ANEMIA,
    HEMOGLOBIN_INCREASED,
    ALT_INCREASED,
    AST_INCREASED,
    ALKALINE_PHOSPHATASE_INCREASED,
    GGT_INCREASED,
    BLOOD_BILIRUBIN_INCREASED,
    CREATININE_INCREASED,
    CPK_INCREASED,
    LDH_INCREASED,
    LIPASE_INCREASED,
    SERUM_AMYLASE_INCREASED,
    HAPTOGLOBIN_DECREASED,
    APTT_PROLONGED,
    INR_INCREASED,
    HYPOKALEMIA,
    HYPERKALEMIA,
    HYPONATREMIA,
    HYPERNATREMIA,
    HYPOCALCEMIA,
    HYPOCALCEMIA_IONIZED,
    HYPERCALCEMIA,
    HYPERCALCEMIA_IONIZED,
    HYPOGLYCEMIA,
    HYPOALBUMINEMIA,
    HYPOMAGNESEMIA,
    HYPERMAGNESEMIA,
    CHOLESTEROL_HIGH,
    HYPERTRIGLYCERIDEMIA,
    HYPERURICEMIA,
    BLOOD_BICARBONATE_DECREASED,
    ACIDOSIS,
    ALKALOSIS,
)
