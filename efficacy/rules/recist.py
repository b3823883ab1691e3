"""RECIST 1.1 tumour response: measurability, time-point responses, best overall response.

Source: Eisenhauer et al., "New response evaluation criteria in solid tumours: revised RECIST
guideline (version 1.1)", Eur J Cancer 2009;45:228-247 (cited "RECIST 1.1 §n" and "Table n"),
with the RECIST committee's clarifications: the EORTC RECIST FAQ ("EORTC FAQ") and Schwartz et al.,
"RECIST 1.1 - Update and clarification", Eur J Cancer 2016;62:132-137. The project's own account
of every rule and setting is docs/efficacy.md (cited "§n").

Lengths are exact (int or Decimal mm, never float) and every comparison with a percentage is done
in integers: PR when 10 x sum <= 7 x baseline sum, PD when 5 x (sum - nadir) >= nadir and
sum - nadir >= 5 mm (§3). Every derived value carries the `Rule` and a plain-words reason.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from .errors import EfficacyInputError, as_choice, as_mm, positive_days
from .version import RULES_VERSION

# ---------------------------------------------------------------------------------------------
# Vocabulary
# ---------------------------------------------------------------------------------------------


class Response(StrEnum):
    """A response category, spelt as CDISC RS/ADRS AVALC spells it."""

    CR = "CR"
    PR = "PR"
    SD = "SD"
    NON_CR_NON_PD = "NON-CR/NON-PD"
    PD = "PD"
    NE = "NE"
    MISSING = "MISSING"  # best overall response only: no post-baseline assessment at all


class Method(StrEnum):
    """How a lesion is measured (RECIST 1.1 §3.2.2). Only CT, MRI, caliper (clinical lesions)
    and chest X-ray may measure a lesion; ultrasound, FDG-PET and others may not (§1)."""

    CT = "CT"
    MRI = "MRI"
    CALIPER = "caliper"
    CHEST_XRAY = "chest X-ray"
    ULTRASOUND = "ultrasound"
    PET = "FDG-PET"
    OTHER = "other"


class LesionRole(StrEnum):
    TARGET = "target"
    NON_TARGET = "non-target"


class MeasurementStatus(StrEnum):
    """A target lesion at a follow-up assessment (RECIST 1.1 §4.3.2; docs/efficacy.md §3)."""

    MEASURED = "measured"  # size_mm: longest diameter, or short axis for a node
    TOO_SMALL = "too small to measure"  # present but too small: the default 5 mm
    GONE = "gone"  # disappeared: 0 mm (not for nodes, which keep their real short axis)
    SPLIT = "split"  # fragmented: the parts' diameters are added (parts_mm)
    MERGED = "merged"  # coalesced into `merged_into`, which carries the mass: 0 mm here
    NOT_EVALUATED = "not evaluated"


class NonTargetStatus(StrEnum):
    """A non-target lesion at a follow-up assessment (RECIST 1.1 §4.3.3)."""

    PRESENT = "present"  # persisting, not unequivocally progressing
    ABSENT = "absent"  # gone; for a node: normal again (short axis < 10 mm)
    UNEQUIVOCAL_PROGRESSION = "unequivocal progression"
    NOT_EVALUATED = "not evaluated"


class NewLesionCertainty(StrEnum):
    UNEQUIVOCAL = "unequivocal"
    EQUIVOCAL = "equivocal"


class Disease(StrEnum):
    """What the baseline holds: measurable disease (Table 1) or non-target disease only (Table 2)."""

    MEASURABLE = "measurable"
    NON_TARGET_ONLY = "non-target only"


class Rule(StrEnum):
    """The rule behind each derived value (docs/efficacy.md §1-§6). The values are stored."""

    # measurability (§1)
    MEASURABLE = "measurable: size at or above the method's minimum (RECIST 1.1 §3.1.1)"
    MEASURABLE_NODE = "measurable node: short axis >= 15 mm on CT/MRI (RECIST 1.1 §3.1.1)"
    PATHOLOGICAL_NODE = "pathological node 10 to < 15 mm short axis: non-target (RECIST 1.1 §3.1.2)"
    TOO_SMALL_AT_BASELINE = "under the method's minimum size: non-measurable (RECIST 1.1 §3.1.2)"
    NON_MEASURABLE_NATURE = "non-measurable by nature (bone without soft tissue, effusion...)"
    METHOD_CANNOT_MEASURE = "method not accepted for measurement (RECIST 1.1 §3.2.2)"
    NOT_SIZED = "no baseline size recorded: non-measurable"
    # target lesions (§3)
    TARGET_PD_REAPPEARED = "target PD: a target lesion reappeared after an overall CR (EORTC FAQ)"
    TARGET_PD = "target PD: sum >= 20% and >= 5 mm above the nadir (RECIST 1.1 §4.3.1)"
    TARGET_PD_PARTIAL = (
        "target PD: the assessed targets alone are >= 20% and >= 5 mm above the nadir "
        "(RECIST 1.1 §4.4.2)"
    )
    TARGET_NE = "target NE: a target not assessed, the others do not show PD (RECIST 1.1 §4.4.2)"
    TARGET_CR = "target CR: non-nodal targets gone, every target node < 10 mm (RECIST 1.1 §4.3.1)"
    TARGET_PR = "target PR: sum >= 30% below the baseline sum (RECIST 1.1 §4.3.1)"
    TARGET_PR_CONTINUED = "target PR: a confirmed response stands until PD (EORTC FAQ)"
    TARGET_SD = "target SD: neither PR (from baseline) nor PD (from the nadir) (RECIST 1.1 §4.3.1)"
    # non-target lesions (§4)
    NON_TARGET_PD = "non-target PD: unequivocal progression (RECIST 1.1 §4.3.3)"
    NON_TARGET_PD_REAPPEARED = "non-target PD: a lesion reappeared after an overall CR (EORTC FAQ)"
    NON_TARGET_NE = "non-target NE: a non-target lesion not evaluated (RECIST 1.1 Table 1)"
    NON_TARGET_CR = (
        "non-target CR: every lesion gone, nodes < 10 mm, markers normal (RECIST 1.1 §4.3.3)"
    )
    NON_TARGET_NON_CR_NON_PD = "non-target non-CR/non-PD: a lesion persists (RECIST 1.1 §4.3.3)"
    NON_TARGET_MARKERS = "non-target non-CR/non-PD: tumour markers not normal (RECIST 1.1 §4.3.3)"
    # new lesions (§4)
    NEW_LESION_NONE = "no new lesion"
    NEW_LESION = "new lesion: unequivocal, PD (RECIST 1.1 §4.3.5)"
    NEW_LESION_CONFIRMED = (
        "new lesion: equivocal here, unequivocal later, PD dated from this scan (RECIST 1.1 §4.3.5)"
    )
    NEW_LESION_EQUIVOCAL = "new lesion: equivocal, not PD unless a later scan confirms it"
    # overall time-point response (§5)
    OVERALL_PD = "overall PD: target PD, non-target PD or a new lesion (RECIST 1.1 Tables 1-2)"
    OVERALL_CR = "overall CR: target and non-target CR, no new lesion (RECIST 1.1 Table 1)"
    OVERALL_PR_FROM_CR = (
        "overall PR: target CR with non-target non-CR/non-PD or not evaluated (RECIST 1.1 Table 1)"
    )
    OVERALL_PR = "overall PR: target PR, non-target not PD (RECIST 1.1 Table 1)"
    OVERALL_SD = "overall SD: target SD, non-target not PD (RECIST 1.1 Table 1)"
    OVERALL_NE = "overall NE: target NE, non-target not PD (RECIST 1.1 Table 1)"
    OVERALL_NT_CR = "overall CR: non-target CR, no new lesion (RECIST 1.1 Table 2)"
    OVERALL_NT_NON_CR_NON_PD = "overall non-CR/non-PD: non-target disease only (RECIST 1.1 Table 2)"
    OVERALL_NT_NE = "overall NE: non-target not all evaluated (RECIST 1.1 Table 2)"
    # best overall response (§6)
    BOR_CR = (
        "BOR CR: confirmed by a CR at least the confirmation interval later (RECIST 1.1 §4.6.1)"
    )
    BOR_PR = (
        "BOR PR: confirmed by a CR or PR at least the confirmation interval later "
        "(RECIST 1.1 §4.6.1)"
    )
    BOR_CR_UNCONFIRMED = "BOR CR: confirmation not required by the settings"
    BOR_PR_UNCONFIRMED = "BOR PR: confirmation not required by the settings"
    BOR_SD = (
        "BOR SD: SD, or a CR/PR not confirmed, at or after the SD minimum duration "
        "(RECIST 1.1 Table 3)"
    )
    BOR_NON_CR_NON_PD = "BOR non-CR/non-PD: at or after the SD minimum duration (RECIST 1.1 §4.6.1)"
    BOR_PD = "BOR PD: PD with nothing better before it (RECIST 1.1 Table 3)"
    BOR_NE = (
        "BOR NE: only NE, or SD/unconfirmed response before the SD minimum duration "
        "(RECIST 1.1 Table 3)"
    )
    BOR_MISSING = "BOR missing: no post-baseline assessment"


# Rank of the best overall response, best first (admiralonco aval_resp; §6).
_BOR_RANK = {
    Response.CR: 1,
    Response.PR: 2,
    Response.SD: 3,
    Response.NON_CR_NON_PD: 4,
    Response.PD: 5,
    Response.NE: 6,
    Response.MISSING: 7,
}

_MEASURING_METHODS = {Method.CT, Method.MRI, Method.CALIPER, Method.CHEST_XRAY}
_NODE_LABEL = "lymph nodes"
_HUNDRED = Decimal(100)
_TENTH = Decimal("0.1")


# ---------------------------------------------------------------------------------------------
# Settings
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RecistSettings:
    """Where protocols and SAPs differ; defaults in docs/efficacy.md §7.

    - `too_small_mm`: the value of a target "too small to measure" (RECIST 1.1 §4.3.2: 5 mm).
    - `confirmation_required`: CR/PR need a confirming assessment (RECIST 1.1 §4.6.1: required in
      non-randomised trials with response as an endpoint).
    - `confirmation_days`: the confirming assessment at least this many days later (28).
    - `sd_minimum_days`: SD (and non-CR/non-PD) count for the BOR only when assessed at least this
      many days after the first dose (42; RECIST 1.1 §4.6.1 "not less than 6-8 weeks").
    - `max_ne_between`, `accept_sd_between`: what may lie between a response and its confirmation
      (admiralonco derive_param_confirmed_bor max_nr_ne = 1, accept_sd = FALSE).
    - `baseline_window_days`: baseline scans at most this many days before the first dose (28).
    - `continue_confirmed_pr`: once a response is confirmed, a later time point that is not PD
      stays PR (EORTC FAQ, "Managing PR when measurements change slightly").
    """

    too_small_mm: int | Decimal = 5
    confirmation_required: bool = True
    confirmation_days: int = 28
    sd_minimum_days: int = 42
    max_ne_between: int = 1
    accept_sd_between: bool = False
    baseline_window_days: int = 28
    continue_confirmed_pr: bool = True

    def __post_init__(self) -> None:
        as_mm(self.too_small_mm, "too_small_mm")
        positive_days(self.confirmation_days, "confirmation_days")
        positive_days(self.sd_minimum_days, "sd_minimum_days", allow_zero=True)
        positive_days(self.max_ne_between, "max_ne_between", allow_zero=True)
        positive_days(self.baseline_window_days, "baseline_window_days", allow_zero=True)
        for name in ("confirmation_required", "accept_sd_between", "continue_confirmed_pr"):
            if not isinstance(getattr(self, name), bool):
                raise EfficacyInputError(f"{name}: {getattr(self, name)!r} is not True or False")

    def describe(self) -> str:
        """The settings as printed beside every derived best overall response."""
        confirmation = (
            f"confirmation >= {self.confirmation_days} days, at most {self.max_ne_between} NE "
            f"between, {'one SD accepted' if self.accept_sd_between else 'no SD'} between for PR"
            if self.confirmation_required
            else "confirmation not required"
        )
        return (
            f"RECIST 1.1; {confirmation}; SD minimum {self.sd_minimum_days} days after first dose"
        )


# ---------------------------------------------------------------------------------------------
# Inputs
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BaselineLesion:
    """A lesion recorded at baseline, with the investigator's choice of role.

    - `lesion_id`: stable across assessments (e.g. "T1", "NT2").
    - `organ`: the organ for the two-per-organ limit; paired organs (lungs, kidneys, ovaries)
      count as one organ, and every lymph node counts as the organ "lymph nodes" (EORTC FAQ,
      "Paired organs"), whatever `organ` says for a node.
    - `nodal`: a lymph node (sized by its short axis) rather than a lesion sized by its longest
      diameter.
    - `size_mm`: longest diameter, or short axis for a node; None when not measured (a
      non-target lesion may be recorded by presence only).
    - `slice_thickness_mm`: CT/MRI reconstruction interval; None = at most 5 mm (the imaging
      manual's standard).
    - `measurable_by_nature`: False for lesions RECIST never measures (bone without soft tissue
      component, leptomeningeal disease, effusions, ascites, lymphangitis, previously irradiated
      lesions without progression; RECIST 1.1 §3.1.2-3.1.3).
    """

    lesion_id: str
    organ: str
    role: LesionRole
    method: Method
    size_mm: int | Decimal | None = None
    nodal: bool = False
    site: str = ""
    slice_thickness_mm: int | Decimal | None = None
    measurable_by_nature: bool = True

    def __post_init__(self) -> None:
        if not self.lesion_id or not self.lesion_id.strip():
            raise EfficacyInputError("a baseline lesion needs a lesion_id")
        name = f"baseline lesion {self.lesion_id}"
        object.__setattr__(self, "role", as_choice(LesionRole, self.role, f"{name}: role"))
        object.__setattr__(self, "method", as_choice(Method, self.method, f"{name}: method"))
        if self.size_mm is not None:
            object.__setattr__(self, "size_mm", as_mm(self.size_mm, f"{name}: size_mm"))
        if self.slice_thickness_mm is not None:
            thickness = as_mm(self.slice_thickness_mm, f"{name}: slice_thickness_mm")
            if thickness == 0:
                raise EfficacyInputError(f"{name}: slice_thickness_mm must be above 0")
            object.__setattr__(self, "slice_thickness_mm", thickness)
        if not self.nodal and not self.organ.strip():
            raise EfficacyInputError(f"{name}: organ is required (two targets per organ at most)")

    @property
    def organ_key(self) -> str:
        """The organ as the two-per-organ limit counts it."""
        return _NODE_LABEL if self.nodal else " ".join(self.organ.lower().split())

    @property
    def size(self) -> Decimal | None:
        return None if self.size_mm is None else Decimal(self.size_mm)


@dataclass(frozen=True)
class Baseline:
    """The baseline tumour assessment: every lesion, target or not."""

    assessed_on: date
    lesions: tuple[BaselineLesion, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "lesions", tuple(self.lesions))
        ids = [lesion.lesion_id for lesion in self.lesions]
        repeated = sorted({i for i in ids if ids.count(i) > 1})
        if repeated:
            raise EfficacyInputError(f"baseline: lesion id repeated: {', '.join(repeated)}")


@dataclass(frozen=True)
class TargetMeasurement:
    """One target lesion at a follow-up assessment. `method` None = as at baseline."""

    lesion_id: str
    status: MeasurementStatus
    size_mm: int | Decimal | None = None
    parts_mm: tuple[int | Decimal, ...] = ()
    merged_into: str | None = None
    method: Method | None = None

    def __post_init__(self) -> None:
        name = f"target {self.lesion_id}"
        status = as_choice(MeasurementStatus, self.status, f"{name}: status")
        object.__setattr__(self, "status", status)
        if self.method is not None:
            object.__setattr__(self, "method", as_choice(Method, self.method, f"{name}: method"))
        object.__setattr__(
            self, "parts_mm", tuple(as_mm(p, f"{name}: parts_mm") for p in self.parts_mm)
        )
        if status is MeasurementStatus.MEASURED:
            if self.size_mm is None:
                raise EfficacyInputError(f"{name}: status 'measured' needs size_mm")
            object.__setattr__(self, "size_mm", as_mm(self.size_mm, f"{name}: size_mm"))
        elif self.size_mm is not None:
            raise EfficacyInputError(f"{name}: size_mm is given only with status 'measured'")
        if status is MeasurementStatus.SPLIT and len(self.parts_mm) < 2:
            raise EfficacyInputError(f"{name}: status 'split' needs the diameters of 2+ parts")
        if status is not MeasurementStatus.SPLIT and self.parts_mm:
            raise EfficacyInputError(f"{name}: parts_mm is given only with status 'split'")
        if (status is MeasurementStatus.MERGED) != (self.merged_into is not None):
            raise EfficacyInputError(
                f"{name}: status 'merged' and merged_into (the lesion that holds the mass) go "
                "together"
            )


@dataclass(frozen=True)
class NonTargetObservation:
    lesion_id: str
    status: NonTargetStatus

    def __post_init__(self) -> None:
        object.__setattr__(
            self,
            "status",
            as_choice(NonTargetStatus, self.status, f"non-target {self.lesion_id}: status"),
        )


@dataclass(frozen=True)
class NewLesion:
    """A lesion not present at baseline. The same `lesion_id` at later assessments follows it,
    so an equivocal lesion confirmed later dates the PD from its first scan (RECIST 1.1 §4.3.5)."""

    lesion_id: str
    certainty: NewLesionCertainty
    site: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(
            self,
            "certainty",
            as_choice(NewLesionCertainty, self.certainty, f"new lesion {self.lesion_id}"),
        )


@dataclass(frozen=True)
class Assessment:
    """One follow-up tumour assessment (a time point).

    Every baseline target needs a `TargetMeasurement` and every non-target a
    `NonTargetObservation` (a lesion not looked at is recorded "not evaluated", never left out).
    `tumour_markers_normal`: None when the protocol has no marker for CR (RECIST 1.1 §4.3.3).
    `investigator_response`: the overall response the investigator recorded, kept apart from the
    derived one and compared with it (§8).
    """

    assessed_on: date
    targets: tuple[TargetMeasurement, ...] = ()
    non_targets: tuple[NonTargetObservation, ...] = ()
    new_lesions: tuple[NewLesion, ...] = ()
    tumour_markers_normal: bool | None = None
    investigator_response: Response | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "targets", tuple(self.targets))
        object.__setattr__(self, "non_targets", tuple(self.non_targets))
        object.__setattr__(self, "new_lesions", tuple(self.new_lesions))
        name = f"assessment of {self.assessed_on.isoformat()}"
        if self.investigator_response is not None:
            response = as_choice(Response, self.investigator_response, f"{name}: investigator")
            if response is Response.MISSING:
                raise EfficacyInputError(f"{name}: investigator response cannot be 'MISSING'")
            object.__setattr__(self, "investigator_response", response)
        for kind, ids in (
            ("target", [t.lesion_id for t in self.targets]),
            ("non-target", [n.lesion_id for n in self.non_targets]),
            ("new lesion", [n.lesion_id for n in self.new_lesions]),
        ):
            repeated = sorted({i for i in ids if ids.count(i) > 1})
            if repeated:
                raise EfficacyInputError(f"{name}: {kind} recorded twice: {', '.join(repeated)}")


# ---------------------------------------------------------------------------------------------
# Baseline: measurability and target selection (§1-§2)
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Measurability:
    lesion_id: str
    measurable: bool
    rule: Rule
    reason: str


def measurability(lesion: BaselineLesion) -> Measurability:
    """Whether a baseline lesion is measurable, and why (RECIST 1.1 §3.1; §1)."""
    size = lesion.size
    if lesion.nodal:
        if size is None:
            return Measurability(
                lesion.lesion_id, False, Rule.NOT_SIZED, "node without a short axis"
            )
        if size < 10:
            # A node under 10 mm short axis is normal, not disease (RECIST 1.1 §3.1.2).
            raise EfficacyInputError(
                f"baseline lesion {lesion.lesion_id}: a lymph node of {size} mm short axis "
                "(< 10 mm) is normal and is not recorded as a lesion (RECIST 1.1 §3.1.2)"
            )
        if size < 15:
            return Measurability(
                lesion.lesion_id,
                False,
                Rule.PATHOLOGICAL_NODE,
                f"node short axis {size} mm (10 to < 15 mm): pathological, non-measurable",
            )
        if lesion.method not in (Method.CT, Method.MRI):
            return Measurability(
                lesion.lesion_id,
                False,
                Rule.METHOD_CANNOT_MEASURE,
                f"node short axis on {lesion.method}: nodes are measured on CT or MRI",
            )
        return Measurability(
            lesion.lesion_id,
            True,
            Rule.MEASURABLE_NODE,
            f"node short axis {size} mm >= 15 mm on {lesion.method}",
        )
    if not lesion.measurable_by_nature:
        return Measurability(
            lesion.lesion_id, False, Rule.NON_MEASURABLE_NATURE, "non-measurable by nature"
        )
    if lesion.method not in _MEASURING_METHODS:
        return Measurability(
            lesion.lesion_id,
            False,
            Rule.METHOD_CANNOT_MEASURE,
            f"{lesion.method} is not accepted for measurement",
        )
    if size is None:
        return Measurability(lesion.lesion_id, False, Rule.NOT_SIZED, "no longest diameter")
    minimum, basis = minimum_size(lesion)
    if size < minimum:
        return Measurability(
            lesion.lesion_id,
            False,
            Rule.TOO_SMALL_AT_BASELINE,
            f"longest diameter {size} mm < {minimum} mm ({basis})",
        )
    return Measurability(
        lesion.lesion_id,
        True,
        Rule.MEASURABLE,
        f"longest diameter {size} mm >= {minimum} mm ({basis})",
    )


def minimum_size(lesion: BaselineLesion) -> tuple[Decimal, str]:
    """The smallest measurable longest diameter for the lesion's method (RECIST 1.1 §3.1.1)."""
    if lesion.method is Method.CHEST_XRAY:
        return Decimal(20), "20 mm on chest X-ray"
    if lesion.method is Method.CALIPER:
        return Decimal(10), "10 mm by caliper"
    thickness = lesion.slice_thickness_mm
    if thickness is not None and Decimal(thickness) > 5:
        # Slices thicker than 5 mm: twice the slice thickness (RECIST 1.1 §3.1.1).
        return 2 * Decimal(thickness), f"2 x the {thickness} mm slice thickness"
    return Decimal(10), f"10 mm on {lesion.method} with slices <= 5 mm"


@dataclass(frozen=True)
class BaselineSummary:
    """The baseline as the response rules use it."""

    assessed_on: date
    disease: Disease
    targets: tuple[BaselineLesion, ...]
    non_targets: tuple[BaselineLesion, ...]
    sum_mm: Decimal | None  # the baseline sum of diameters; None without targets
    measurability: tuple[Measurability, ...]
    notes: tuple[str, ...] = ()


def summarize_baseline(
    settings: RecistSettings, baseline: Baseline, *, first_dose_on: date
) -> BaselineSummary:
    """Check the investigator's target selection and sum the baseline diameters (§1-§2).

    Refuses (EfficacyInputError naming the lesion and the rule): a target that is not
    measurable, more than 5 targets, more than 2 targets in one organ, a normal node, a baseline
    without any lesion.
    """
    if not baseline.lesions:
        raise EfficacyInputError(
            "baseline: no lesion recorded; RECIST response needs disease at baseline"
        )
    judged = tuple(measurability(lesion) for lesion in baseline.lesions)
    targets = tuple(les for les in baseline.lesions if les.role is LesionRole.TARGET)
    non_targets = tuple(les for les in baseline.lesions if les.role is LesionRole.NON_TARGET)
    for lesion, judgement in zip(baseline.lesions, judged, strict=True):
        if lesion.role is LesionRole.TARGET and not judgement.measurable:
            raise EfficacyInputError(
                f"baseline lesion {lesion.lesion_id}: a target lesion must be measurable "
                f"({judgement.reason}; RECIST 1.1 §3.1.1, §4.2)"
            )
    if len(targets) > 5:
        raise EfficacyInputError(
            f"baseline: {len(targets)} target lesions ({', '.join(t.lesion_id for t in targets)}); "
            "at most 5 (RECIST 1.1 §4.2)"
        )
    by_organ: dict[str, list[str]] = {}
    for target in targets:
        by_organ.setdefault(target.organ_key, []).append(target.lesion_id)
    for organ, ids in by_organ.items():
        if len(ids) > 2:
            raise EfficacyInputError(
                f"baseline: {len(ids)} target lesions in {organ} ({', '.join(ids)}); at most 2 "
                "per organ (RECIST 1.1 §4.2; lymph nodes and paired organs count as one organ, "
                "EORTC FAQ)"
            )
    notes = []
    days_before = (first_dose_on - baseline.assessed_on).days
    if days_before < 0:
        notes.append(
            f"baseline assessed {-days_before} days after the first dose ({first_dose_on})"
        )
    elif days_before > settings.baseline_window_days:
        notes.append(
            f"baseline assessed {days_before} days before the first dose, more than "
            f"{settings.baseline_window_days} (RECIST 1.1 §4.5)"
        )
    total = sum((t.size or Decimal(0) for t in targets), Decimal(0)) if targets else None
    return BaselineSummary(
        assessed_on=baseline.assessed_on,
        disease=Disease.MEASURABLE if targets else Disease.NON_TARGET_ONLY,
        targets=targets,
        non_targets=non_targets,
        sum_mm=total,
        measurability=judged,
        notes=tuple(notes),
    )


# ---------------------------------------------------------------------------------------------
# Time-point response (§3-§5)
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TargetResult:
    """The target lesions at one time point.

    `sum_mm` is None when a target was not assessed; `assessed_sum_mm` then holds the sum of the
    assessed ones (a lower bound: enough to show PD, never CR/PR/SD). `nadir_mm` is the reference
    for PD at this time point: the smallest complete sum before it, baseline included.
    """

    response: Response
    rule: Rule
    reason: str
    sum_mm: Decimal | None
    assessed_sum_mm: Decimal
    baseline_mm: Decimal
    nadir_mm: Decimal
    change_from_baseline_pct: Decimal | None
    change_from_nadir_mm: Decimal | None
    change_from_nadir_pct: Decimal | None
    lesion_sizes_mm: tuple[tuple[str, Decimal | None], ...]


@dataclass(frozen=True)
class NonTargetResult:
    response: Response
    rule: Rule
    reason: str


@dataclass(frozen=True)
class NewLesionResult:
    progression: bool
    rule: Rule
    reason: str
    lesion_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class TimePointResult:
    """The derived response at one assessment, each part with its rule and reason.

    `adequate`: every lesion was assessed and the response is not NE (the "adequate assessment"
    of the PFS censoring rules, docs/efficacy.md §10).
    """

    assessed_on: date
    target: TargetResult | None
    non_target: NonTargetResult | None
    new_lesions: NewLesionResult
    response: Response
    rule: Rule
    reason: str
    all_assessed: bool
    investigator_response: Response | None = None

    @property
    def adequate(self) -> bool:
        return self.all_assessed and self.response is not Response.NE

    @property
    def agrees_with_investigator(self) -> bool | None:
        if self.investigator_response is None:
            return None
        return self.investigator_response is self.response


def _pct(value: Decimal, reference: Decimal) -> Decimal | None:
    if reference == 0:
        return None
    return ((value - reference) * _HUNDRED / reference).quantize(_TENTH, ROUND_HALF_UP)


def _is_pd(total: Decimal, nadir: Decimal) -> bool:
    """>= 20% and >= 5 mm above the nadir, in integers: 5 (sum - nadir) >= nadir (§3)."""
    return 5 * (total - nadir) >= nadir and total - nadir >= 5


def _is_pr(total: Decimal, baseline: Decimal) -> bool:
    """>= 30% below baseline, in integers: 10 sum <= 7 baseline (§3)."""
    return 10 * total <= 7 * baseline


def _target_sizes(
    settings: RecistSettings,
    base: BaselineSummary,
    assessment: Assessment,
) -> tuple[dict[str, Decimal | None], list[str]]:
    """Each target's contribution to the sum (None = not assessed), and why any was not."""
    name = f"assessment of {assessment.assessed_on.isoformat()}"
    by_id = {m.lesion_id: m for m in assessment.targets}
    target_ids = [t.lesion_id for t in base.targets]
    unknown = sorted(set(by_id) - set(target_ids))
    if unknown:
        raise EfficacyInputError(f"{name}: {', '.join(unknown)} is not a baseline target lesion")
    missing = [i for i in target_ids if i not in by_id]
    if missing:
        raise EfficacyInputError(
            f"{name}: no record for target {', '.join(missing)} (record 'not evaluated' when a "
            "lesion was not assessed)"
        )
    sizes: dict[str, Decimal | None] = {}
    why_not: list[str] = []
    for lesion in base.targets:
        measurement = by_id[lesion.lesion_id]
        status = measurement.status
        label = f"{name}: target {lesion.lesion_id}"
        if measurement.method is not None and measurement.method is not lesion.method:
            # The same method as at baseline is required for comparable sizes (RECIST 1.1 §3.2).
            sizes[lesion.lesion_id] = None
            why_not.append(
                f"{lesion.lesion_id} measured on {measurement.method}, not on {lesion.method} "
                "as at baseline"
            )
            continue
        if status is MeasurementStatus.GONE and lesion.nodal:
            raise EfficacyInputError(
                f"{label}: a target lymph node keeps its real short axis, even under 10 mm; "
                "record it as 'measured' (RECIST 1.1 §4.3.2)"
            )
        if status is MeasurementStatus.MERGED:
            host = by_id.get(measurement.merged_into or "")
            if host is None or host.lesion_id == lesion.lesion_id:
                raise EfficacyInputError(
                    f"{label}: merged_into {measurement.merged_into!r} is not another target "
                    "of this assessment"
                )
            if host.status not in (MeasurementStatus.MEASURED, MeasurementStatus.SPLIT):
                raise EfficacyInputError(
                    f"{label}: merged into {host.lesion_id}, which must carry the measured "
                    f"mass (it is '{host.status}')"
                )
        if status is MeasurementStatus.NOT_EVALUATED:
            sizes[lesion.lesion_id] = None
            why_not.append(f"{lesion.lesion_id} not evaluated")
        elif status is MeasurementStatus.MEASURED:
            sizes[lesion.lesion_id] = Decimal(measurement.size_mm or 0)
        elif status is MeasurementStatus.TOO_SMALL:
            sizes[lesion.lesion_id] = Decimal(settings.too_small_mm)
        elif status is MeasurementStatus.SPLIT:
            sizes[lesion.lesion_id] = sum((Decimal(p) for p in measurement.parts_mm), Decimal(0))
        else:  # GONE, MERGED
            sizes[lesion.lesion_id] = Decimal(0)
    return sizes, why_not


def _reappeared(base: BaselineSummary, sizes: dict[str, Decimal | None]) -> list[str]:
    """Targets visible again: a non-nodal target above 0 mm, a node at 10 mm or more (EORTC FAQ,
    "Abnormal lymph node": a node under 10 mm has not reappeared)."""
    found = []
    for lesion in base.targets:
        size = sizes[lesion.lesion_id]
        if size is None:
            continue
        if (lesion.nodal and size >= 10) or (not lesion.nodal and size > 0):
            found.append(f"{lesion.lesion_id} ({size} mm)")
    return found


def _target_response(
    settings: RecistSettings,
    base: BaselineSummary,
    assessment: Assessment,
    nadir: Decimal,
    after_cr: bool,
    response_established: date | None,
) -> TargetResult:
    if base.sum_mm is None:
        raise EfficacyInputError("target response without target lesions")
    baseline_sum = base.sum_mm
    sizes, why_not = _target_sizes(settings, base, assessment)
    assessed = sum((s for s in sizes.values() if s is not None), Decimal(0))
    complete = not why_not
    total = assessed if complete else None

    def result(response: Response, rule: Rule, reason: str) -> TargetResult:
        return TargetResult(
            response=response,
            rule=rule,
            reason=reason,
            sum_mm=total,
            assessed_sum_mm=assessed,
            baseline_mm=baseline_sum,
            nadir_mm=nadir,
            change_from_baseline_pct=None if total is None else _pct(total, baseline_sum),
            change_from_nadir_mm=None if total is None else total - nadir,
            change_from_nadir_pct=None if total is None else _pct(total, nadir),
            lesion_sizes_mm=tuple(sizes.items()),
        )

    if after_cr:
        back = _reappeared(base, sizes)
        if back:
            return result(
                Response.PD,
                Rule.TARGET_PD_REAPPEARED,
                f"after an overall CR, target {', '.join(back)} reappeared",
            )
    if total is None:
        if _is_pd(assessed, nadir):
            return result(
                Response.PD,
                Rule.TARGET_PD_PARTIAL,
                f"assessed targets sum {assessed} mm vs nadir {nadir} mm "
                f"(+{assessed - nadir} mm) although {'; '.join(why_not)}",
            )
        return result(Response.NE, Rule.TARGET_NE, "; ".join(why_not))
    nodes_normal = all(
        sizes[t.lesion_id] is not None and (sizes[t.lesion_id] or 0) < 10
        for t in base.targets
        if t.nodal
    )
    others_gone = all(sizes[t.lesion_id] == 0 for t in base.targets if not t.nodal)
    if nodes_normal and others_gone:
        # Normal nodes (< 10 mm) are not disease: CR even with a sum above 0, and their growth
        # below 10 mm is not progression (RECIST 1.1 §4.3.2; EORTC FAQ "Abnormal lymph node").
        facts = []
        if any(not t.nodal for t in base.targets):
            facts.append("every non-nodal target gone")
        if any(t.nodal for t in base.targets):
            facts.append("every target node < 10 mm")
        return result(Response.CR, Rule.TARGET_CR, f"sum {total} mm: {', '.join(facts)}")
    if _is_pd(total, nadir):
        return result(
            Response.PD,
            Rule.TARGET_PD,
            f"sum {total} mm vs nadir {nadir} mm: +{total - nadir} mm "
            f"({_describe_pct(_pct(total, nadir))})",
        )
    change = _describe_pct(_pct(total, baseline_sum))
    from_baseline = f"sum {total} mm vs baseline {baseline_sum} mm ({change})"
    if _is_pr(total, baseline_sum):
        return result(Response.PR, Rule.TARGET_PR, from_baseline)
    if response_established is not None:
        return result(
            Response.PR,
            Rule.TARGET_PR_CONTINUED,
            f"{from_baseline}; response confirmed on {response_established.isoformat()}, "
            f"no PD since (nadir {nadir} mm)",
        )
    return result(Response.SD, Rule.TARGET_SD, f"{from_baseline}; nadir {nadir} mm, no PD")


def _describe_pct(value: Decimal | None) -> str:
    if value is None:
        return "from 0 mm"
    return f"{'+' if value > 0 else ''}{value}%"


def _check_non_target_records(base: BaselineSummary, assessment: Assessment) -> None:
    name = f"assessment of {assessment.assessed_on.isoformat()}"
    recorded = [o.lesion_id for o in assessment.non_targets]
    ids = [n.lesion_id for n in base.non_targets]
    unknown = sorted(set(recorded) - set(ids))
    if unknown:
        raise EfficacyInputError(
            f"{name}: {', '.join(unknown)} is not a baseline non-target lesion"
        )
    missing = [i for i in ids if i not in recorded]
    if missing:
        raise EfficacyInputError(
            f"{name}: no record for non-target {', '.join(missing)} (record 'not evaluated' when "
            "a lesion was not assessed)"
        )


def _non_target_response(
    base: BaselineSummary, assessment: Assessment, after_cr: bool
) -> NonTargetResult:
    by_id = {o.lesion_id: o for o in assessment.non_targets}
    ids = [n.lesion_id for n in base.non_targets]
    progressing = [i for i in ids if by_id[i].status is NonTargetStatus.UNEQUIVOCAL_PROGRESSION]
    if progressing:
        return NonTargetResult(
            Response.PD, Rule.NON_TARGET_PD, f"unequivocal progression of {', '.join(progressing)}"
        )
    if after_cr:
        # After an overall CR any malignant lesion seen again is PD; a node only when it has
        # unequivocally progressed (EORTC FAQ, "Does a new lesion always result in PD?").
        back = [
            n.lesion_id
            for n in base.non_targets
            if not n.nodal and by_id[n.lesion_id].status is NonTargetStatus.PRESENT
        ]
        if back:
            return NonTargetResult(
                Response.PD,
                Rule.NON_TARGET_PD_REAPPEARED,
                f"after an overall CR, non-target {', '.join(back)} present again",
            )
    unassessed = [i for i in ids if by_id[i].status is NonTargetStatus.NOT_EVALUATED]
    if unassessed:
        return NonTargetResult(
            Response.NE, Rule.NON_TARGET_NE, f"{', '.join(unassessed)} not evaluated"
        )
    present = [i for i in ids if by_id[i].status is NonTargetStatus.PRESENT]
    if present:
        return NonTargetResult(
            Response.NON_CR_NON_PD,
            Rule.NON_TARGET_NON_CR_NON_PD,
            f"{', '.join(present)} present",
        )
    if assessment.tumour_markers_normal is False:
        return NonTargetResult(
            Response.NON_CR_NON_PD,
            Rule.NON_TARGET_MARKERS,
            "every non-target lesion gone but tumour markers above normal",
        )
    return NonTargetResult(Response.CR, Rule.NON_TARGET_CR, "every non-target lesion gone")


class _NewLesionHistory:
    """When each new lesion was first seen and when (if ever) it was unequivocal."""

    def __init__(self) -> None:
        self.first_seen: dict[str, date] = {}
        self.unequivocal_on: dict[str, date] = {}


def _new_lesion_history(assessments: Sequence[Assessment]) -> _NewLesionHistory:
    history = _NewLesionHistory()
    for assessment in assessments:
        for lesion in assessment.new_lesions:
            history.first_seen.setdefault(lesion.lesion_id, assessment.assessed_on)
            if lesion.certainty is NewLesionCertainty.UNEQUIVOCAL:
                history.unequivocal_on.setdefault(lesion.lesion_id, assessment.assessed_on)
    return history


def _new_lesion_result(assessment: Assessment, history: _NewLesionHistory) -> NewLesionResult:
    if not assessment.new_lesions:
        return NewLesionResult(False, Rule.NEW_LESION_NONE, "no new lesion")
    unequivocal = [
        n.lesion_id for n in assessment.new_lesions if n.certainty is NewLesionCertainty.UNEQUIVOCAL
    ]
    if unequivocal:
        return NewLesionResult(
            True,
            Rule.NEW_LESION,
            f"unequivocal new lesion {', '.join(unequivocal)}",
            tuple(unequivocal),
        )
    confirmed = [
        f"{n.lesion_id} (unequivocal on {history.unequivocal_on[n.lesion_id].isoformat()})"
        for n in assessment.new_lesions
        if n.lesion_id in history.unequivocal_on
        and history.first_seen[n.lesion_id] == assessment.assessed_on
    ]
    if confirmed:
        return NewLesionResult(
            True,
            Rule.NEW_LESION_CONFIRMED,
            f"equivocal new lesion {', '.join(confirmed)}: PD dated from this scan",
            tuple(n.lesion_id for n in assessment.new_lesions),
        )
    ids = tuple(n.lesion_id for n in assessment.new_lesions)
    return NewLesionResult(
        False,
        Rule.NEW_LESION_EQUIVOCAL,
        f"equivocal new lesion {', '.join(ids)}: to be clarified on the next scan",
        ids,
    )


def _overall(
    base: BaselineSummary,
    target: TargetResult | None,
    non_target: NonTargetResult | None,
    new: NewLesionResult,
) -> tuple[Response, Rule, str]:
    """RECIST 1.1 Table 1 (measurable disease) and Table 2 (non-target disease only); §5."""
    parts = []
    if target is not None:
        parts.append(f"target {target.response} ({target.reason})")
    if non_target is not None:
        parts.append(f"non-target {non_target.response} ({non_target.reason})")
    parts.append(new.reason)
    summary = "; ".join(parts)
    if (
        (target is not None and target.response is Response.PD)
        or (non_target is not None and non_target.response is Response.PD)
        or new.progression
    ):
        return Response.PD, Rule.OVERALL_PD, summary
    nt = non_target.response if non_target is not None else Response.CR
    if target is None:
        if nt is Response.CR:
            return Response.CR, Rule.OVERALL_NT_CR, summary
        if nt is Response.NON_CR_NON_PD:
            return Response.NON_CR_NON_PD, Rule.OVERALL_NT_NON_CR_NON_PD, summary
        return Response.NE, Rule.OVERALL_NT_NE, summary
    if target.response is Response.CR:
        if nt is Response.CR:
            return Response.CR, Rule.OVERALL_CR, summary
        return Response.PR, Rule.OVERALL_PR_FROM_CR, summary
    if target.response is Response.PR:
        return Response.PR, Rule.OVERALL_PR, summary
    if target.response is Response.SD:
        return Response.SD, Rule.OVERALL_SD, summary
    return Response.NE, Rule.OVERALL_NE, summary


def evaluate_time_points(
    settings: RecistSettings,
    base: BaselineSummary,
    assessments: Sequence[Assessment],
    *,
    first_dose_on: date,
) -> tuple[TimePointResult, ...]:
    """The derived response at every follow-up assessment, in date order (§3-§5).

    The history matters: PD is measured from the nadir of the earlier complete sums; after an
    overall CR a lesion seen again is PD; after a confirmed response a time point that is not PD
    stays PR (setting `continue_confirmed_pr`); an equivocal new lesion later confirmed makes
    its first scan PD.
    """
    ordered = _check_dates(assessments, base.assessed_on, first_dose_on)
    history = _new_lesion_history(ordered)
    results: list[TimePointResult] = []
    nadir = base.sum_mm
    for assessment in ordered:
        previous = [r for r in results if r.response is not Response.NE]
        after_cr = bool(previous) and previous[-1].response is Response.CR
        established = (
            _established_response(settings, results, first_dose_on)
            if settings.continue_confirmed_pr
            else None
        )
        _check_non_target_records(base, assessment)
        if base.sum_mm is None and assessment.targets:
            raise EfficacyInputError(
                f"assessment of {assessment.assessed_on.isoformat()}: target records, but the "
                "baseline has no target lesion"
            )
        target = (
            _target_response(settings, base, assessment, nadir, after_cr, established)
            if nadir is not None
            else None
        )
        non_target = _non_target_response(base, assessment, after_cr) if base.non_targets else None
        new = _new_lesion_result(assessment, history)
        response, rule, reason = _overall(base, target, non_target, new)
        all_assessed = (target is None or target.sum_mm is not None) and (
            non_target is None or non_target.rule is not Rule.NON_TARGET_NE
        )
        results.append(
            TimePointResult(
                assessed_on=assessment.assessed_on,
                target=target,
                non_target=non_target,
                new_lesions=new,
                response=response,
                rule=rule,
                reason=reason,
                all_assessed=all_assessed,
                investigator_response=assessment.investigator_response,
            )
        )
        if target is not None and target.sum_mm is not None and nadir is not None:
            nadir = min(nadir, target.sum_mm)
    return tuple(results)


def _check_dates(
    assessments: Sequence[Assessment], baseline_on: date, first_dose_on: date
) -> list[Assessment]:
    ordered = sorted(assessments, key=lambda a: a.assessed_on)
    dates = [a.assessed_on for a in ordered]
    repeated = sorted({d for d in dates if dates.count(d) > 1})
    if repeated:
        raise EfficacyInputError(
            "two assessments on "
            + ", ".join(d.isoformat() for d in repeated)
            + " (one time point per date)"
        )
    for assessment in ordered:
        if assessment.assessed_on <= max(first_dose_on, baseline_on):
            raise EfficacyInputError(
                f"assessment of {assessment.assessed_on.isoformat()}: a follow-up assessment "
                f"comes after the baseline ({baseline_on}) and the first dose ({first_dose_on})"
            )
    return ordered


def _established_response(
    settings: RecistSettings, results: Sequence[TimePointResult], first_dose_on: date
) -> date | None:
    """The date a response became established (confirmed, or first seen when confirmation is
    not required), if it was and no PD followed; else None (EORTC FAQ continued PR; §3)."""
    points = [TimePointResponse(r.assessed_on, r.response) for r in results]
    if any(p.response is Response.PD for p in points):
        return None
    for index, point in enumerate(points):
        if point.response not in (Response.CR, Response.PR):
            continue
        if not settings.confirmation_required:
            return point.assessed_on
        confirming, _ = _confirmation(settings, points, index)
        if confirming is not None:
            return points[confirming].assessed_on
    return None


# ---------------------------------------------------------------------------------------------
# Best overall response (§6)
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TimePointResponse:
    """An overall response at one date: what the best overall response is derived from."""

    assessed_on: date
    response: Response

    def __post_init__(self) -> None:
        response = as_choice(Response, self.response, f"response of {self.assessed_on}")
        if response is Response.MISSING:
            raise EfficacyInputError(
                f"response of {self.assessed_on}: 'MISSING' is not a time-point response"
            )
        object.__setattr__(self, "response", response)


@dataclass(frozen=True)
class BestOverallResponse:
    """The best overall response and how it was reached.

    - `assessed_on`: the assessment that gives the BOR (the earliest of equals).
    - `confirmed_on`: the confirming assessment of a confirmed CR/PR.
    - `response_started_on`: the first CR or PR later confirmed (the start of the duration of
      response; with confirmation not required, the first CR or PR).
    - `notes`: why a CR/PR was not confirmed, what was left out (after PD, after new therapy).
    """

    response: Response
    rule: Rule
    reason: str
    assessed_on: date | None
    confirmed_on: date | None
    response_started_on: date | None
    settings: RecistSettings
    notes: tuple[str, ...] = ()
    rules_version: str = RULES_VERSION

    @property
    def is_response(self) -> bool:
        """CR or PR, as counted by the objective response rate (§11)."""
        return self.response in (Response.CR, Response.PR)


def _confirmation(
    settings: RecistSettings, points: Sequence[TimePointResponse], index: int
) -> tuple[int | None, str]:
    """The index of the assessment confirming the CR/PR at `index`, or None and why not.

    As admiralonco derive_param_confirmed_bor: the confirming assessment is the first CR (for a
    CR) or CR/PR (for a PR) at least `confirmation_days` later; everything up to it must be CR
    or NE (for a CR) or CR, PR, SD or NE with no PR after a CR (for a PR); at most
    `max_ne_between` NE and, for a PR, at most one SD if `accept_sd_between` else none (§6).
    """
    first = points[index]
    is_cr = first.response is Response.CR
    confirming_kinds = (Response.CR,) if is_cr else (Response.CR, Response.PR)
    earliest = first.assessed_on + timedelta(days=settings.confirmation_days)
    window: list[TimePointResponse] = []
    target: int | None = None
    for later in range(index + 1, len(points)):
        window.append(points[later])
        if points[later].response in confirming_kinds and points[later].assessed_on >= earliest:
            target = later
            break
    what = "CR" if is_cr else "CR or PR"
    if target is None:
        later_kinds = [p for p in points[index + 1 :] if p.response in confirming_kinds]
        if later_kinds:
            gap = (later_kinds[-1].assessed_on - first.assessed_on).days
            return None, (
                f"{first.response} of {first.assessed_on}: the last later {what} is {gap} days "
                f"after it (< {settings.confirmation_days})"
            )
        return None, f"{first.response} of {first.assessed_on}: no later {what} to confirm it"
    allowed = (
        {Response.CR, Response.NE}
        if is_cr
        else {Response.CR, Response.PR, Response.SD, Response.NE}
    )
    intruders = [p for p in window if p.response not in allowed]
    if intruders:
        return None, (
            f"{first.response} of {first.assessed_on}: {intruders[0].response} on "
            f"{intruders[0].assessed_on} before the confirming assessment"
        )
    ne = sum(1 for p in window if p.response is Response.NE)
    if ne > settings.max_ne_between:
        return None, (
            f"{first.response} of {first.assessed_on}: {ne} NE before confirmation "
            f"(at most {settings.max_ne_between})"
        )
    if not is_cr:
        sd = sum(1 for p in window if p.response is Response.SD)
        if sd > (1 if settings.accept_sd_between else 0):
            return None, f"PR of {first.assessed_on}: SD before the confirming assessment"
        cr_dates = [p.assessed_on for p in window if p.response is Response.CR]
        pr_dates = [p.assessed_on for p in window if p.response is Response.PR]
        if cr_dates and pr_dates and min(cr_dates) < max(pr_dates):
            return None, f"PR of {first.assessed_on}: a PR after a CR before confirmation"
    return target, ""


def _check_after_first_dose(points: Sequence[TimePointResponse], first_dose_on: date) -> None:
    dates = [p.assessed_on for p in points]
    if len(set(dates)) != len(dates):
        raise EfficacyInputError("best overall response: two time-point responses on one date")
    for point in points:
        if point.assessed_on <= first_dose_on:
            raise EfficacyInputError(
                f"best overall response: the assessment of {point.assessed_on} is not after the "
                f"first dose ({first_dose_on})"
            )


def _counted_time_points(
    points: list[TimePointResponse], new_therapy_on: date | None
) -> tuple[list[TimePointResponse], list[str]]:
    """The time points the BOR counts (§6): up to the start of new anticancer therapy (that day
    included) and up to the first PD, a PR straight after a CR read as PD; with notes on what
    was left out."""
    notes: list[str] = []
    if new_therapy_on is not None:
        after = [p for p in points if p.assessed_on > new_therapy_on]
        if after:
            notes.append(
                f"{len(after)} assessment(s) after new anticancer therapy ({new_therapy_on}) "
                "not counted"
            )
        points = [p for p in points if p.assessed_on <= new_therapy_on]
    used: list[TimePointResponse] = []
    for point in points:
        previous = [p for p in used if p.response is not Response.NE]
        if point.response is Response.PR and previous and previous[-1].response is Response.CR:
            notes.append(
                f"PR of {point.assessed_on} after the CR of {previous[-1].assessed_on}: disease "
                "returned, read as PD (RECIST 1.1 Table 3; re-read the CR as PR if lesions "
                "were still present)"
            )
            used.append(TimePointResponse(point.assessed_on, Response.PD))
            break
        used.append(point)
        if point.response is Response.PD:
            break
    if len(used) < len(points):
        notes.append(f"{len(points) - len(used)} assessment(s) after PD not counted")
    return used, notes


def _response_claim(
    settings: RecistSettings, used: Sequence[TimePointResponse], index: int
) -> tuple[_Candidate | None, str]:
    """The claim of the CR or PR at `index` as a CR or PR: confirmed (or confirmation not
    required), or None and why it was not confirmed (§6)."""
    point = used[index]
    response, on = point.response, point.assessed_on
    if not settings.confirmation_required:
        rule = Rule.BOR_CR_UNCONFIRMED if response is Response.CR else Rule.BOR_PR_UNCONFIRMED
        return _Candidate(response, on, rule, f"{response} on {on}"), ""
    confirming, why = _confirmation(settings, used, index)
    if confirming is None:
        return None, why
    confirmed_on = used[confirming].assessed_on
    days = (confirmed_on - on).days
    return (
        _Candidate(
            response,
            on,
            Rule.BOR_CR if response is Response.CR else Rule.BOR_PR,
            f"{response} on {on}, confirmed on {confirmed_on} ({days} days later)",
            confirmed_on,
        ),
        "",
    )


def _time_point_claim(
    settings: RecistSettings, point: TimePointResponse, first_dose_on: date
) -> _Candidate:
    """What one assessment counts as without confirmation: PD, NE, or SD / non-CR/non-PD once
    the minimum duration has passed (earlier: NE, RECIST 1.1 §4.6.1, as admiralonco; §6)."""
    response, on = point.response, point.assessed_on
    day = (on - first_dose_on).days
    if response is Response.PD:
        return _Candidate(Response.PD, on, Rule.BOR_PD, f"PD on {on}")
    if response is Response.NE:
        return _Candidate(Response.NE, on, Rule.BOR_NE, f"NE on {on}")
    if on < first_dose_on + timedelta(days=settings.sd_minimum_days):
        why_early = (
            f"{response} on {on}, only {day} days after the first dose "
            f"(< {settings.sd_minimum_days})"
        )
        return _Candidate(Response.NE, on, Rule.BOR_NE, why_early)
    if response is Response.NON_CR_NON_PD:
        return _Candidate(
            Response.NON_CR_NON_PD,
            on,
            Rule.BOR_NON_CR_NON_PD,
            f"{response} on {on}, {day} days after the first dose",
        )
    # CR, PR, SD at or after the minimum duration
    return _Candidate(
        Response.SD,
        on,
        Rule.BOR_SD,
        f"{response} on {on}, {day} days after the first dose (>= {settings.sd_minimum_days})",
    )


def best_overall_response(
    settings: RecistSettings,
    time_points: Iterable[TimePointResponse],
    *,
    first_dose_on: date,
    new_therapy_on: date | None = None,
) -> BestOverallResponse:
    """The best overall response from time-point responses (RECIST 1.1 §4.4.3, Table 3; §6).

    Counted from the first dose until PD (inclusive) and up to the start of new anticancer
    therapy (an assessment on that day counts). A PR after a CR means the disease came back: it
    is read as PD (RECIST 1.1 Table 3 note; unless the CR is re-read as PR, a data correction).
    Then, as admiralonco derive_param_confirmed_bor: confirmed CR > confirmed PR > SD (any
    CR/PR/SD at or after `sd_minimum_days`) > non-CR/non-PD (same) > PD > NE > missing; the
    earliest of equals.
    """
    points = sorted(time_points, key=lambda p: p.assessed_on)
    _check_after_first_dose(points, first_dose_on)
    used, notes = _counted_time_points(points, new_therapy_on)
    if not used:
        return BestOverallResponse(
            Response.MISSING,
            Rule.BOR_MISSING,
            "no post-baseline tumour assessment",
            None,
            None,
            None,
            settings,
            tuple(notes),
        )

    candidates: list[_Candidate] = []
    started: list[date] = []
    unconfirmed: list[tuple[Response, str]] = []
    for index, point in enumerate(used):
        if point.response in (Response.CR, Response.PR):
            claim, why = _response_claim(settings, used, index)
            if claim is None:
                unconfirmed.append((point.response, why))
            else:
                started.append(point.assessed_on)
                candidates.append(claim)
        candidates.append(_time_point_claim(settings, point, first_dose_on))
    best = min(candidates, key=lambda c: (_BOR_RANK[c.response], c.on))
    # Only a CR/PR that would have done better than the result is worth a note.
    notes.extend(
        f"not confirmed: {why}"
        for response, why in unconfirmed
        if _BOR_RANK[response] < _BOR_RANK[best.response]
    )
    return BestOverallResponse(
        response=best.response,
        rule=best.rule,
        reason=best.reason,
        assessed_on=best.on,
        confirmed_on=best.confirmed_on,
        response_started_on=min(started) if best.response in (Response.CR, Response.PR) else None,
        settings=settings,
        notes=tuple(notes),
    )


@dataclass(frozen=True)
class _Candidate:
    """One assessment's claim to be the best overall response."""

    response: Response
    on: date
    rule: Rule
    reason: str
    confirmed_on: date | None = None


# ---------------------------------------------------------------------------------------------
# A subject's whole record, and the comparison with the investigator (§8)
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SubjectImaging:
    """Everything RECIST needs for one subject."""

    subject: str
    first_dose_on: date
    baseline: Baseline
    assessments: tuple[Assessment, ...] = ()
    new_therapy_on: date | None = None
    investigator_best_response: Response | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "assessments", tuple(self.assessments))
        if not self.subject:
            raise EfficacyInputError("a subject needs a number")
        if self.investigator_best_response is not None:
            object.__setattr__(
                self,
                "investigator_best_response",
                as_choice(
                    Response,
                    self.investigator_best_response,
                    f"subject {self.subject}: investigator_best_response",
                ),
            )


@dataclass(frozen=True)
class Disagreement:
    """A derived value that differs from the investigator's."""

    what: str  # "time point 2026-03-01" or "best overall response"
    derived: Response
    investigator: Response
    reason: str  # the derived value's rule and reason


@dataclass(frozen=True)
class SubjectRecist:
    subject: str
    baseline: BaselineSummary
    time_points: tuple[TimePointResult, ...]
    best: BestOverallResponse
    disagreements: tuple[Disagreement, ...]
    rules_version: str = RULES_VERSION


def evaluate_subject(settings: RecistSettings, imaging: SubjectImaging) -> SubjectRecist:
    """Baseline, every time point and the best overall response of one subject (§1-§8)."""
    base = summarize_baseline(settings, imaging.baseline, first_dose_on=imaging.first_dose_on)
    points = evaluate_time_points(
        settings, base, imaging.assessments, first_dose_on=imaging.first_dose_on
    )
    best = best_overall_response(
        settings,
        (TimePointResponse(p.assessed_on, p.response) for p in points),
        first_dose_on=imaging.first_dose_on,
        new_therapy_on=imaging.new_therapy_on,
    )
    return SubjectRecist(
        subject=imaging.subject,
        baseline=base,
        time_points=points,
        best=best,
        disagreements=compare_with_investigator(
            points, best, investigator_best=imaging.investigator_best_response
        ),
    )


def compare_with_investigator(
    time_points: Sequence[TimePointResult],
    best: BestOverallResponse | None = None,
    *,
    investigator_best: Response | None = None,
) -> tuple[Disagreement, ...]:
    """Every derived response that differs from the investigator's recorded one (§8)."""
    found = [
        Disagreement(
            what=f"time point {point.assessed_on.isoformat()}",
            derived=point.response,
            investigator=point.investigator_response,
            reason=f"{point.rule}: {point.reason}",
        )
        for point in time_points
        if point.investigator_response is not None
        and point.investigator_response is not point.response
    ]
    if (
        best is not None
        and investigator_best is not None
        and investigator_best is not best.response
    ):
        found.append(
            Disagreement(
                what="best overall response",
                derived=best.response,
                investigator=investigator_best,
                reason=f"{best.rule}: {best.reason}",
            )
        )
    return tuple(found)
