"""Non-compartmental analysis of one concentration-time profile (docs/pharmacology.md §2).

One `Profile` is one subject, one analyte and one dosing interval (a cycle). The method is the
default of the PKNCA R package (Denney, Duvvuri and Buckeridge, "Simple, Automatic
Noncompartmental Analysis: The PKNCA R Package", J Pharmacokinet Pharmacodyn 2015;42(1):11-107,
S65), written here from its documentation: BLQ handling by position (`conc.blq`), the
"lin up/log down" trapezoid, the automatic lambda_z selection by adjusted R^2, and the
start-of-interval imputations "start_conc0" (dose-naive) and "start_predose" (later cycles).

Times are actual hours since the start of this dose; concentrations are in `Profile.unit`. Every
parameter is a `Value` naming its method, the times of the points it used and, when it is empty,
why. `NcaResult.points` says for each input sample how it was used or why it was excluded.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from .errors import PharmacologyInputError, as_choice, require_finite

NCA_VERSION = "pharmacology-nca 1 (PKNCA defaults)"

# Concentration units accepted for a profile, as the factor that turns one unit into mg/L, so
# that CL comes out in L/h and volumes in L for a dose in mg (docs/pharmacology.md §2.8).
CONCENTRATION_UNITS_MG_PER_L: dict[str, float] = {
    "mg/L": 1.0,
    "ug/mL": 1.0,
    "µg/mL": 1.0,
    "ug/L": 1e-3,
    "µg/L": 1e-3,
    "ng/mL": 1e-3,
    "ng/L": 1e-6,
    "pg/mL": 1e-6,
}


class Route(StrEnum):
    IV_INFUSION = "iv_infusion"
    EXTRAVASCULAR = "extravascular"


class AucMethod(StrEnum):
    LIN_UP_LOG_DOWN = "lin up/log down"
    LINEAR = "linear"
    LIN_LOG = "lin-log"


class BlqRule(StrEnum):
    """What happens to a BLQ result at a position of the profile (PKNCA `conc.blq`)."""

    KEEP = "keep"  # kept as a concentration of 0
    DROP = "drop"  # left out of every parameter


class SampleRole(StrEnum):
    """The nominal role of a sample, used for Ceoi and Ctrough (docs/pharmacology.md §2.4)."""

    OTHER = "other"
    PREDOSE = "predose"
    END_OF_INFUSION = "end_of_infusion"
    TROUGH = "trough"


class PointStatus(StrEnum):
    USED = "used"
    EXCLUDED = "excluded"
    IMPUTED = "imputed"


class NcaFlag(StrEnum):
    SPAN_RATIO_LOW = "span_ratio_low"
    ADJ_R_SQUARED_LOW = "adj_r_squared_low"
    EXTRAPOLATION_HIGH = "extrapolation_high"
    NO_LAMBDA_Z = "no_lambda_z"


@dataclass(frozen=True)
class Concentration:
    """One sample's result.

    - `time`: actual hours since the start of this dose (negative before it).
    - `value`: the measured concentration, None when BLQ or missing.
    - `blq`: the result was below the lower limit of quantification (value None).
    - `exclude`: a reason given by hand to leave the sample out of every parameter.
    - `exclude_from_lambda_z`: a reason given by hand to leave it out of the lambda_z fit only.
    """

    time: float
    value: float | None
    blq: bool = False
    sample_id: str = ""
    role: SampleRole = SampleRole.OTHER
    exclude: str = ""
    exclude_from_lambda_z: str = ""

    def __post_init__(self) -> None:
        label = f"concentration {self.sample_id or self.time!r}"
        require_finite(self.time, f"{label}: time")
        object.__setattr__(self, "role", as_choice(SampleRole, self.role, f"{label}: role"))
        if self.value is not None:
            require_finite(self.value, f"{label}: value")
            if self.value < 0:
                raise PharmacologyInputError(f"{label}: value cannot be negative")
            if self.blq:
                raise PharmacologyInputError(f"{label}: a BLQ result has no number")


@dataclass(frozen=True)
class Dosing:
    """The dose that opens the interval.

    - `amount_mg`: the dose given in mg (`Dosing.from_mg_per_kg` for a weight-based dose); None
      leaves CL and volumes empty.
    - `infusion_hours`: actual infusion duration (end - start); 0 for extravascular dosing.
    - `dose_naive`: True for the first dose of the drug (Cycle 1).
    - `tau`: the dosing interval in hours (504 for Q3W, 336 for Q2W); None for a single dose
      followed to infinity.
    """

    route: Route
    amount_mg: float | None = None
    infusion_hours: float = 0.0
    dose_naive: bool = True
    tau: float | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "route", as_choice(Route, self.route, "dosing: route"))
        if self.amount_mg is not None:
            require_finite(self.amount_mg, "dosing: amount_mg")
            if self.amount_mg <= 0:
                raise PharmacologyInputError("dosing: amount_mg must be positive")
        require_finite(self.infusion_hours, "dosing: infusion_hours")
        if self.infusion_hours < 0:
            raise PharmacologyInputError("dosing: infusion_hours cannot be negative")
        if self.route is Route.EXTRAVASCULAR and self.infusion_hours:
            raise PharmacologyInputError("dosing: an extravascular dose has no infusion time")
        if self.tau is not None:
            require_finite(self.tau, "dosing: tau")
            if self.tau <= 0:
                raise PharmacologyInputError("dosing: tau must be positive")
            if self.infusion_hours >= self.tau:
                raise PharmacologyInputError("dosing: the infusion must end before tau")

    @classmethod
    def from_mg_per_kg(
        cls, *, mg_per_kg: float, weight_kg: float, route: Route, **fields: object
    ) -> Dosing:
        """The dose in mg from a weight-based dose and the weight used to prepare it."""
        require_finite(mg_per_kg, "dosing: mg_per_kg")
        require_finite(weight_kg, "dosing: weight_kg")
        if mg_per_kg <= 0 or weight_kg <= 0:
            raise PharmacologyInputError("dosing: mg_per_kg and weight_kg must be positive")
        return cls(route=route, amount_mg=mg_per_kg * weight_kg, **fields)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Profile:
    """One subject's concentrations of one analyte after one dose (one cycle)."""

    subject: str
    analyte: str
    cycle: int
    dosing: Dosing
    concentrations: tuple[Concentration, ...]
    unit: str = "ug/mL"

    def __post_init__(self) -> None:
        object.__setattr__(self, "concentrations", tuple(self.concentrations))
        if not self.subject:
            raise PharmacologyInputError("profile: a subject is needed")
        if self.unit not in CONCENTRATION_UNITS_MG_PER_L:
            allowed = ", ".join(CONCENTRATION_UNITS_MG_PER_L)
            raise PharmacologyInputError(
                f"profile {self.subject}: unit {self.unit!r} is not one of {allowed}"
            )
        times = [c.time for c in self.concentrations if not c.exclude]
        repeated = sorted({t for t in times if times.count(t) > 1})
        if repeated:
            raise PharmacologyInputError(
                f"profile {self.subject} cycle {self.cycle}: more than one sample at time "
                f"{repeated[0]!r} h (exclude one with a reason)"
            )


@dataclass(frozen=True)
class NcaSettings:
    """The choices of the analysis; the defaults are PKNCA's (docs/pharmacology.md §2.9)."""

    auc_method: AucMethod = AucMethod.LIN_UP_LOG_DOWN
    blq_leading: BlqRule = BlqRule.KEEP
    blq_middle: BlqRule = BlqRule.DROP
    blq_trailing: BlqRule = BlqRule.KEEP
    dose_naive_conc0: bool = True
    predose_shift_fraction: float = 0.05
    first_tmax: bool = True
    min_hl_points: int = 3
    adj_r_squared_factor: float = 1e-4
    allow_tmax_in_half_life: bool = False
    min_span_ratio: float = 2.0
    min_adj_r_squared: float = 0.8
    max_extrapolated_percent: float = 20.0

    def __post_init__(self) -> None:
        for name, choices in (
            ("auc_method", AucMethod),
            ("blq_leading", BlqRule),
            ("blq_middle", BlqRule),
            ("blq_trailing", BlqRule),
        ):
            object.__setattr__(self, name, as_choice(choices, getattr(self, name), name))
        if self.min_hl_points < 2:
            raise PharmacologyInputError("min_hl_points: at least 2 points are needed")
        if not 0 < self.adj_r_squared_factor < 1:
            raise PharmacologyInputError("adj_r_squared_factor: must be between 0 and 1")
        if not 0 <= self.predose_shift_fraction < 1:
            raise PharmacologyInputError("predose_shift_fraction: must be in [0, 1)")
        if self.min_span_ratio <= 0:
            raise PharmacologyInputError("min_span_ratio: must be positive")
        if not 0 < self.min_adj_r_squared < 1:
            raise PharmacologyInputError("min_adj_r_squared: must be between 0 and 1")
        if not 0 < self.max_extrapolated_percent < 100:
            raise PharmacologyInputError("max_extrapolated_percent: must be between 0 and 100")


@dataclass(frozen=True)
class PointUse:
    """How one sample (or one imputed point) entered the analysis.

    `time` and `value` are as used (a pre-dose value moved to time 0, BLQ as 0);
    `observed_time` is the sample's own time, None for an imputed point.
    """

    time: float
    value: float | None
    observed_time: float | None
    sample_id: str
    status: PointStatus
    reason: str = ""


@dataclass(frozen=True)
class Value:
    """One parameter: its value (None when it cannot be derived, with the reason), the method,
    the times of the points it used, and any flags."""

    value: float | None
    method: str = ""
    times: tuple[float, ...] = ()
    reason: str = ""
    flags: tuple[NcaFlag, ...] = ()


def _empty(reason: str) -> Value:
    return Value(None, reason=reason)


@dataclass(frozen=True)
class LambdaZFit:
    """The chosen terminal log-linear fit (docs/pharmacology.md §2.5)."""

    lambda_z: float
    intercept: float
    r_squared: float
    adj_r_squared: float
    n_points: int
    time_first: float
    time_last: float
    half_life: float
    span_ratio: float
    clast_pred: float
    times: tuple[float, ...]
    fits_tried: int


@dataclass(frozen=True)
class NcaResult:
    subject: str
    analyte: str
    cycle: int
    unit: str
    route: Route
    settings: NcaSettings
    points: tuple[PointUse, ...]
    cmax: Value
    tmax: Value
    ceoi: Value
    clast: Value
    tlast: Value
    ctrough: Value
    auclast: Value
    aucall: Value
    auctau: Value
    cavg: Value
    lambda_z: Value
    half_life: Value
    r_squared: Value
    adj_r_squared: Value
    span_ratio: Value
    aucinf_obs: Value
    auc_extrapolated_percent: Value
    aumclast: Value
    aumcinf_obs: Value
    mrt: Value
    clearance: Value
    vz: Value
    vss: Value
    fit: LambdaZFit | None
    flags: tuple[NcaFlag, ...]
    version: str = NCA_VERSION

    @property
    def apparent(self) -> bool:
        """True when CL and Vz are apparent (CL/F, Vz/F): extravascular dosing."""
        return self.route is Route.EXTRAVASCULAR


# --- the points of the interval -------------------------------------------------------------


@dataclass
class _Point:
    time: float
    conc: float  # BLQ as 0
    observed_time: float | None
    sample_id: str
    note: str = ""
    use_in_lambda_z: bool = True
    lambda_z_note: str = ""
    blq: bool = False


@dataclass
class _Log:
    entries: list[PointUse] = field(default_factory=list)

    def excluded(self, sample: Concentration, reason: str) -> None:
        self.entries.append(
            PointUse(
                time=sample.time,
                value=sample.value,
                observed_time=sample.time,
                sample_id=sample.sample_id,
                status=PointStatus.EXCLUDED,
                reason=reason,
            )
        )


def _interval_points(
    profile: Profile, settings: NcaSettings, log: _Log
) -> tuple[list[_Point], list[_Point]]:
    """The points inside [0, tau] after time-0 handling, and those after tau (for interpolation
    at tau only). Excluded samples are logged with their reason (docs/pharmacology.md §2.2)."""
    dosing = profile.dosing
    inside: list[_Point] = []
    after: list[_Point] = []
    predose: list[Concentration] = []
    for sample in sorted(profile.concentrations, key=lambda c: c.time):
        if sample.exclude:
            log.excluded(sample, f"excluded by hand: {sample.exclude}")
            continue
        if sample.value is None and not sample.blq:
            log.excluded(sample, "no result (missing values are dropped)")
            continue
        point = _Point(
            time=sample.time,
            conc=0.0 if sample.value is None else sample.value,
            observed_time=sample.time,
            sample_id=sample.sample_id,
            blq=sample.blq,
        )
        if sample.exclude_from_lambda_z:
            point.use_in_lambda_z = False
            point.lambda_z_note = f"excluded from lambda_z by hand: {sample.exclude_from_lambda_z}"
        if sample.time < 0:
            predose.append(sample)
        elif dosing.tau is not None and sample.time > dosing.tau:
            after.append(point)
        else:
            inside.append(point)
    start = next((p for p in inside if p.time == 0), None)
    if dosing.dose_naive and settings.dose_naive_conc0:
        # PKNCA "start_conc0": before the first dose there is no drug, whatever was measured.
        if start is not None:
            start.conc = 0.0
            start.note = "dose-naive: concentration at time 0 set to 0"
        else:
            inside.insert(0, _Point(0.0, 0.0, None, "", note="dose-naive: C0 = 0 imputed"))
        for sample in predose:
            log.excluded(sample, "before the dose (dose-naive: C0 = 0 is used)")
    elif start is None and predose:
        # PKNCA "start_predose": the last pre-dose value stands for time 0 when it was taken
        # within a fraction (5%) of the interval before the dose.
        span = dosing.tau if dosing.tau is not None else max((p.time for p in inside), default=0)
        last = predose[-1]
        if -last.time <= settings.predose_shift_fraction * span:
            value = 0.0 if last.value is None else last.value
            note = f"pre-dose value at {last.time:g} h moved to time 0"
            inside.insert(0, _Point(0.0, value, last.time, last.sample_id, note, blq=last.blq))
            predose = predose[:-1]
        for sample in predose:
            log.excluded(sample, "before the dose")
    else:
        for sample in predose:
            log.excluded(sample, "before the dose")
    for point in after:
        log.entries.append(
            PointUse(
                point.time,
                point.conc,
                point.observed_time,
                point.sample_id,
                PointStatus.EXCLUDED,
                "after the end of the dosing interval (used only to interpolate at tau)",
            )
        )
    return inside, after


def _apply_blq_rules(points: list[_Point], settings: NcaSettings, log: _Log) -> list[_Point]:
    """PKNCA `clean.conc.blq`: BLQ (0) before the first measurable value, between measurable
    values, and at or after the last one each follow their own rule (docs/pharmacology.md §2.3)."""
    measurable = [p.time for p in points if p.conc > 0]
    if measurable:
        tfirst, tlast = measurable[0], measurable[-1]
    else:  # all BLQ: every point takes the leading rule
        tfirst = max((p.time for p in points), default=0.0)
        tlast = tfirst + 1
    kept: list[_Point] = []
    for point in points:
        if point.conc > 0:
            kept.append(point)
            continue
        if point.time <= tfirst:
            rule, position = settings.blq_leading, "before the first measurable concentration"
        elif point.time < tlast:
            rule, position = settings.blq_middle, "between measurable concentrations"
        else:
            rule, position = settings.blq_trailing, "after the last measurable concentration"
        if rule is BlqRule.DROP:
            what = "BLQ" if point.blq else "zero concentration"
            log.entries.append(
                PointUse(
                    point.time,
                    point.conc,
                    point.observed_time,
                    point.sample_id,
                    PointStatus.EXCLUDED,
                    f"{what} {position}: dropped",
                )
            )
        else:
            if point.blq:
                point.note = (point.note + "; " if point.note else "") + f"BLQ {position}: 0"
            kept.append(point)
    return kept


# --- AUC integration --------------------------------------------------------------------------


def _segment(c1: float, c2: float, t2: float, tmax: float | None, method: AucMethod) -> str:
    """'linear', 'log' or 'zero' for one segment (docs/pharmacology.md §2.4)."""
    if c1 == 0 and c2 == 0:
        return "zero"
    if method is AucMethod.LINEAR:
        return "linear"
    if method is AucMethod.LIN_UP_LOG_DOWN:
        return "log" if c2 < c1 and c2 != 0 else "linear"
    # lin-log: linear up to Tmax, log after it unless a segment touches 0.
    if (tmax is not None and t2 <= tmax) or c1 == 0 or c2 == 0:
        return "linear"
    return "log"


def _auc_piece(kind: str, t1: float, c1: float, t2: float, c2: float) -> float:
    dt = t2 - t1
    if kind == "zero":
        return 0.0
    if kind == "log":
        return dt * (c1 - c2) / math.log(c1 / c2)
    return dt * (c1 + c2) / 2


def _aumc_piece(kind: str, t1: float, c1: float, t2: float, c2: float) -> float:
    dt = t2 - t1
    if kind == "zero":
        return 0.0
    if kind == "log":
        k = math.log(c2 / c1)
        return dt * (c2 * t2 - c1 * t1) / k - dt * dt * (c2 - c1) / (k * k)
    return dt * (c2 * t2 + c1 * t1) / 2


def _integrate(
    times: Sequence[float],
    concs: Sequence[float],
    last_index: int,
    tmax: float | None,
    method: AucMethod,
    moment: bool = False,
    triangle_after_last: bool = False,
) -> float:
    """Area over the segments up to `last_index`; with `triangle_after_last` (AUCall) the
    segment from Tlast to the next (BLQ = 0) point is linear, later segments are 0."""
    piece = _aumc_piece if moment else _auc_piece
    total = []
    for i in range(len(times) - 1):
        if i < last_index:
            kind = _segment(concs[i], concs[i + 1], times[i + 1], tmax, method)
        elif i == last_index and triangle_after_last:
            kind = "linear"
        else:
            kind = "zero"
        total.append(piece(kind, times[i], concs[i], times[i + 1], concs[i + 1]))
    return math.fsum(total)


# --- lambda_z -------------------------------------------------------------------------------


def _fit(times: Sequence[float], logs: Sequence[float]) -> tuple[float, float, float]:
    """Least-squares slope, intercept and R^2 of log concentration on time."""
    n = len(times)
    mean_t = math.fsum(times) / n
    mean_y = math.fsum(logs) / n
    sxx = math.fsum((t - mean_t) ** 2 for t in times)
    sxy = math.fsum((t - mean_t) * (y - mean_y) for t, y in zip(times, logs, strict=True))
    syy = math.fsum((y - mean_y) ** 2 for y in logs)
    slope = sxy / sxx
    intercept = mean_y - slope * mean_t
    if syy == 0:
        return slope, intercept, math.nan
    residual = math.fsum((y - intercept - slope * t) ** 2 for t, y in zip(times, logs, strict=True))
    return slope, intercept, 1 - residual / syy


def adjusted_r_squared(r_squared: float, n: int) -> float:
    """1 - (1 - R^2)(n - 1)/(n - 2)."""
    if n <= 2:
        return math.nan
    return 1 - (1 - r_squared) * (n - 1) / (n - 2)


def _lambda_z(
    points: list[_Point],
    tmax: float,
    tlast: float,
    end_of_dose: float,
    settings: NcaSettings,
) -> tuple[LambdaZFit | None, str, list[tuple[_Point, str]]]:
    """The PKNCA automatic selection (docs/pharmacology.md §2.5). Returns the fit (or None and
    why) and the points left out of the candidates with their reasons."""
    left_out: list[tuple[_Point, str]] = []
    candidates: list[_Point] = []
    for point in points:
        if point.conc <= 0:
            left_out.append((point, "zero or BLQ"))
        elif not point.use_in_lambda_z:
            left_out.append((point, point.lambda_z_note))
        elif point.time < tmax or (point.time == tmax and not settings.allow_tmax_in_half_life):
            left_out.append((point, "at or before Tmax"))
        elif point.time <= end_of_dose:
            left_out.append((point, "not after the end of the infusion"))
        else:
            candidates.append(point)
    if len(candidates) < settings.min_hl_points:
        return (
            None,
            f"too few points after Tmax for lambda_z ({len(candidates)}, "
            f"at least {settings.min_hl_points} needed)",
            left_out,
        )
    latest_first = sorted(candidates, key=lambda p: -p.time)
    fits: list[tuple[float, float, float, float, int]] = []  # lambda, a, r2, adj, n
    for n in range(settings.min_hl_points, len(latest_first) + 1):
        chosen = latest_first[:n]
        slope, intercept, r2 = _fit([p.time for p in chosen], [math.log(p.conc) for p in chosen])
        fits.append((-slope, intercept, r2, adjusted_r_squared(r2, n), n))
    if settings.min_hl_points == 2 and len(latest_first) == 2:
        best = [f for f in fits if f[0] > 0]
    else:
        adjusted = [f[3] for f in fits if not math.isnan(f[3])]
        top = max(adjusted) if adjusted else math.nan
        best = [
            f
            for f in fits
            if f[0] > 0 and not math.isnan(f[3]) and f[3] > top - settings.adj_r_squared_factor
        ]
    if not best:
        return (
            None,
            "no terminal fit with lambda_z > 0 (the terminal phase is not falling)",
            left_out,
        )
    lam, intercept, r2, adj, n = max(best, key=lambda f: f[4])
    chosen = sorted(latest_first[:n], key=lambda p: p.time)
    for point in sorted(latest_first[n:], key=lambda p: p.time):
        left_out.append((point, "before the chosen terminal phase"))
    half_life = math.log(2) / lam
    span = chosen[-1].time - chosen[0].time
    fit = LambdaZFit(
        lambda_z=lam,
        intercept=intercept,
        r_squared=r2,
        adj_r_squared=adj,
        n_points=n,
        time_first=chosen[0].time,
        time_last=chosen[-1].time,
        half_life=half_life,
        span_ratio=span / half_life,
        clast_pred=math.exp(intercept - lam * tlast),
        times=tuple(p.time for p in chosen),
        fits_tried=len(fits),
    )
    return fit, "", left_out


# --- the analysis -------------------------------------------------------------------------


def _role_value(
    profile: Profile, role: SampleRole, fallback_time: float | None, name: str
) -> Value:
    """Ceoi and Ctrough: the sample with that nominal role, else a sample at exactly the
    nominal time (PKNCA's rule)."""
    samples = [c for c in profile.concentrations if c.role is role and not c.exclude]
    how = f"observed at the {role.value.replace('_', ' ')} sample"
    if not samples and fallback_time is not None:
        samples = [c for c in profile.concentrations if c.time == fallback_time and not c.exclude]
        how = f"observed at {fallback_time:g} h"
    if not samples:
        return _empty(f"no {name} sample")
    if len(samples) > 1:
        raise PharmacologyInputError(
            f"profile {profile.subject} cycle {profile.cycle}: more than one {name} sample"
        )
    sample = samples[0]
    if sample.blq:
        return Value(0.0, f"{how}; BLQ taken as 0", (sample.time,))
    if sample.value is None:
        return _empty(f"the {name} sample has no result")
    return Value(sample.value, how, (sample.time,))


def analyse(profile: Profile, settings: NcaSettings | None = None) -> NcaResult:
    """Non-compartmental analysis of one profile (docs/pharmacology.md §2)."""
    settings = settings or NcaSettings()
    dosing = profile.dosing
    log = _Log()
    inside, after = _interval_points(profile, settings, log)
    points = _apply_blq_rules(inside, settings, log)
    times = [p.time for p in points]
    concs = [p.conc for p in points]
    flags: list[NcaFlag] = []
    all_times = tuple(times)

    measurable = [i for i, c in enumerate(concs) if c > 0]
    ceoi = (
        _role_value(profile, SampleRole.END_OF_INFUSION, dosing.infusion_hours, "end-of-infusion")
        if dosing.route is Route.IV_INFUSION
        else _empty("not an infusion")
    )
    ctrough = (
        _role_value(profile, SampleRole.TROUGH, dosing.tau, "trough")
        if dosing.tau is not None
        else _empty("no dosing interval (single dose)")
    )
    if not measurable:
        nothing = "no measurable concentration in the interval"
        zero_auc = (
            Value(0.0, "every concentration is BLQ or 0", all_times) if points else _empty(nothing)
        )
        empty = _empty(nothing)
        result_points = _point_log(points, log, None, [])
        return NcaResult(
            profile.subject, profile.analyte, profile.cycle, profile.unit, dosing.route,
            settings, result_points,
            cmax=Value(0.0, "maximum observed; every concentration is BLQ or 0", all_times)
            if points else empty,
            tmax=empty, ceoi=ceoi, clast=empty, tlast=empty, ctrough=ctrough,
            auclast=zero_auc, aucall=zero_auc, auctau=zero_auc if dosing.tau else empty,
            cavg=empty, lambda_z=empty, half_life=empty, r_squared=empty, adj_r_squared=empty,
            span_ratio=empty, aucinf_obs=empty, auc_extrapolated_percent=empty, aumclast=empty,
            aumcinf_obs=empty, mrt=empty, clearance=empty, vz=empty, vss=empty, fit=None,
            flags=(NcaFlag.NO_LAMBDA_Z,),
        )  # fmt: skip

    cmax_value = max(concs)
    tied = [i for i, c in enumerate(concs) if c == cmax_value]
    tmax_index = tied[0] if settings.first_tmax else tied[-1]
    tmax = times[tmax_index]
    cmax = Value(cmax_value, "maximum observed concentration", all_times)
    tie_note = f"; {len(tied)} samples tie, the {'first' if settings.first_tmax else 'last'}"
    tmax_v = Value(tmax, "time of Cmax" + (tie_note if len(tied) > 1 else ""), (tmax,))
    last_index = measurable[-1]
    tlast, clast_value = times[last_index], concs[last_index]
    clast = Value(clast_value, "last measurable concentration", (tlast,))
    tlast_v = Value(tlast, "time of the last measurable concentration", (tlast,))

    # AUC needs a concentration at the start of the interval (PKNCA refuses to integrate from
    # before the first measurement).
    method = settings.auc_method
    starts_at_zero = times[0] == 0
    auc_method_text = f"{method.value} trapezoidal"
    if starts_at_zero:
        auclast_value = _integrate(times, concs, last_index, tmax, method)
        auclast = Value(auclast_value, auc_method_text, tuple(times[: last_index + 1]))
        aucall = Value(
            _integrate(times, concs, last_index, tmax, method, triangle_after_last=True),
            auc_method_text + "; linear from Tlast to the next BLQ, 0 after it",
            all_times,
        )
        aumclast_value = _integrate(times, concs, last_index, tmax, method, moment=True)
        aumclast = Value(aumclast_value, auc_method_text, tuple(times[: last_index + 1]))
    else:
        why = "no concentration at time 0 (the start of the interval)"
        auclast = aucall = aumclast = _empty(why)
        auclast_value = aumclast_value = math.nan

    fit, no_fit_reason, lambda_z_left_out = _lambda_z(
        points, tmax, tlast, dosing.infusion_hours, settings
    )
    if fit is None:
        flags.append(NcaFlag.NO_LAMBDA_Z)
        lambda_z = half_life = r2 = adj = span = _empty(no_fit_reason)
    else:
        fit_method = (
            f"log-linear regression on the last {fit.n_points} points after Tmax "
            f"(best adjusted R^2 within {settings.adj_r_squared_factor:g}, then most points)"
        )
        fit_flags: list[NcaFlag] = []
        if fit.span_ratio < settings.min_span_ratio:
            fit_flags.append(NcaFlag.SPAN_RATIO_LOW)
        if fit.adj_r_squared < settings.min_adj_r_squared:
            fit_flags.append(NcaFlag.ADJ_R_SQUARED_LOW)
        flags.extend(fit_flags)
        ff = tuple(fit_flags)
        lambda_z = Value(fit.lambda_z, fit_method, fit.times, flags=ff)
        half_life = Value(fit.half_life, "ln 2 / lambda_z", fit.times, flags=ff)
        r2 = Value(fit.r_squared, fit_method, fit.times)
        adj = Value(fit.adj_r_squared, "1 - (1 - R^2)(n - 1)/(n - 2)", fit.times, flags=ff)
        span = Value(fit.span_ratio, "(last - first fit time) / t1/2", fit.times, flags=ff)

    # AUCinf is a single-dose parameter: Cycle 1 (dose-naive) or a profile without tau.
    single_dose = dosing.dose_naive or dosing.tau is None
    aucinf = pext = aumcinf = _empty("")
    if not single_dose:
        aucinf = pext = aumcinf = _empty("a single-dose parameter: later cycles use AUC0-tau")
    elif fit is None:
        aucinf = pext = aumcinf = _empty(f"no lambda_z: {no_fit_reason}")
    elif not starts_at_zero:
        aucinf = pext = aumcinf = auclast
    else:
        lam = fit.lambda_z
        aucinf_value = auclast_value + clast_value / lam
        pct = 100 * (aucinf_value - auclast_value) / aucinf_value
        pext_flags: tuple[NcaFlag, ...] = ()
        if pct > settings.max_extrapolated_percent:
            pext_flags = (NcaFlag.EXTRAPOLATION_HIGH,)
            flags.append(NcaFlag.EXTRAPOLATION_HIGH)
        used = tuple(sorted(set(times[: last_index + 1]) | set(fit.times)))
        aucinf = Value(aucinf_value, "AUClast + Clast,obs / lambda_z", used, flags=pext_flags)
        pext = Value(pct, "100 (AUCinf - AUClast) / AUCinf", used, flags=pext_flags)
        aumcinf = Value(
            aumclast_value + clast_value * tlast / lam + clast_value / lam**2,
            "AUMClast + Clast tlast / lambda_z + Clast / lambda_z^2",
            used,
        )

    auctau, aumctau = _auc_tau(points, after, last_index, tmax, fit, settings, dosing.tau)
    if dosing.tau is not None and auctau.value is not None:
        cavg = Value(auctau.value / dosing.tau, "AUC0-tau / tau", auctau.times)
    else:
        cavg = _empty(auctau.reason or "no dosing interval (single dose)")

    clearance, vz, vss, mrt = _clearance_and_volumes(
        profile, fit, aucinf, aumcinf, auctau, single_dose
    )
    result_points = _point_log(points, log, fit, lambda_z_left_out)
    return NcaResult(
        subject=profile.subject,
        analyte=profile.analyte,
        cycle=profile.cycle,
        unit=profile.unit,
        route=dosing.route,
        settings=settings,
        points=result_points,
        cmax=cmax,
        tmax=tmax_v,
        ceoi=ceoi,
        clast=clast,
        tlast=tlast_v,
        ctrough=ctrough,
        auclast=auclast,
        aucall=aucall,
        auctau=auctau,
        cavg=cavg,
        lambda_z=lambda_z,
        half_life=half_life,
        r_squared=r2,
        adj_r_squared=adj,
        span_ratio=span,
        aucinf_obs=aucinf,
        auc_extrapolated_percent=pext,
        aumclast=aumclast,
        aumcinf_obs=aumcinf,
        mrt=mrt,
        clearance=clearance,
        vz=vz,
        vss=vss,
        fit=fit,
        flags=tuple(dict.fromkeys(flags)),
    )


def _auc_tau(
    points: list[_Point],
    after: list[_Point],
    last_index: int,
    tmax: float,
    fit: LambdaZFit | None,
    settings: NcaSettings,
    tau: float | None,
) -> tuple[Value, Value]:
    """AUC0-tau (and AUMC0-tau): to an observation at tau, else interpolated to tau from the
    next sample, else extrapolated with lambda_z from Tlast (docs/pharmacology.md §2.6)."""
    if tau is None:
        none = _empty("no dosing interval (single dose)")
        return none, none
    times = [p.time for p in points]
    concs = [p.conc for p in points]
    if times[0] != 0:
        none = _empty("no concentration at time 0 (the start of the interval)")
        return none, none
    method = settings.auc_method
    tlast = times[last_index]
    text = f"{method.value} trapezoidal to tau = {tau:g} h"
    if times[-1] == tau:
        auc = _integrate(times, concs, last_index, tmax, method)
        aumc = _integrate(times, concs, last_index, tmax, method, moment=True)
        return Value(auc, text, tuple(times)), Value(aumc, text, tuple(times))
    measurable_after = [p for p in after if p.conc > 0]
    if measurable_after:
        # tau lies before a later measurable sample: interpolate between its neighbours.
        nxt = after[0]
        t1, c1 = times[-1], concs[-1]
        kind = _segment(c1, nxt.conc, nxt.time, tmax, method)
        if kind == "log":
            c_tau = math.exp(
                math.log(c1) + (tau - t1) / (nxt.time - t1) * (math.log(nxt.conc) - math.log(c1))
            )
        elif kind == "linear":
            c_tau = c1 + (tau - t1) / (nxt.time - t1) * (nxt.conc - c1)
        else:
            c_tau = 0.0
        t2 = [*times, tau]
        c2 = [*concs, c_tau]
        last = len(t2) - 1 if c_tau > 0 else last_index
        auc = _integrate(t2, c2, last, tmax, method)
        aumc = _integrate(t2, c2, last, tmax, method, moment=True)
        how = f"{text}; C(tau) interpolated ({kind}) between {t1:g} h and {nxt.time:g} h"
        used = (*times, nxt.time)
        return Value(auc, how, used), Value(aumc, how, used)
    if any(t > tlast for t in times):
        # A BLQ result after Tlast: the profile had already fallen below the LLOQ; the AUClast
        # curve adds nothing after Tlast (PKNCA's AUClast curve for a finite interval).
        auc = _integrate(times, concs, last_index, tmax, method)
        aumc = _integrate(times, concs, last_index, tmax, method, moment=True)
        how = f"{text}; BLQ after Tlast, nothing added after Tlast"
        return Value(auc, how, tuple(times)), Value(aumc, how, tuple(times))
    if fit is None:
        none = _empty(
            f"the last sample ({tlast:g} h) is before tau and lambda_z is needed to extrapolate"
        )
        return none, none
    lam = fit.lambda_z
    clast = concs[last_index]
    c_tau = clast * math.exp(-lam * (tau - tlast))
    auc = _integrate(times, concs, last_index, tmax, method) + _auc_piece(
        "log", tlast, clast, tau, c_tau
    )
    aumc = _integrate(times, concs, last_index, tmax, method, moment=True) + _aumc_piece(
        "log", tlast, clast, tau, c_tau
    )
    how = f"{text}; C(tau) extrapolated from Clast with lambda_z (log segment)"
    used = tuple(sorted(set(times) | set(fit.times)))
    return Value(auc, how, used), Value(aumc, how, used)


def _clearance_and_volumes(
    profile: Profile,
    fit: LambdaZFit | None,
    aucinf: Value,
    aumcinf: Value,
    auctau: Value,
    single_dose: bool,
) -> tuple[Value, Value, Value, Value]:
    """CL (CL/F), Vz (Vz/F), Vss and MRT (docs/pharmacology.md §2.8)."""
    dosing = profile.dosing
    factor = CONCENTRATION_UNITS_MG_PER_L[profile.unit]
    apparent = dosing.route is Route.EXTRAVASCULAR
    suffix = "/F" if apparent else ""
    half = dosing.infusion_hours / 2
    mrt: Value
    if single_dose:
        if aucinf.value is not None and aumcinf.value is not None and aucinf.value > 0:
            mrt_value = aumcinf.value / aucinf.value - half
            how = "AUMCinf / AUCinf" + (" - infusion duration / 2" if half else "")
            mrt = Value(mrt_value, how, aucinf.times)
        else:
            mrt = _empty(aucinf.reason or "AUCinf is not positive")
    else:
        mrt = _empty("a single-dose parameter here: not derived at steady state")
    if dosing.amount_mg is None:
        none = _empty("no dose amount")
        return none, none, none, mrt
    exposure = aucinf if single_dose else auctau
    name = "AUCinf,obs" if single_dose else "AUC0-tau"
    if exposure.value is None or exposure.value <= 0:
        none = _empty(f"no positive {name}: {exposure.reason}".rstrip(": "))
        return none, none, none, mrt
    cl_value = dosing.amount_mg / (exposure.value * factor)
    clearance = Value(cl_value, f"CL{suffix} = dose / {name} (L/h)", exposure.times)
    if fit is None:
        vz = _empty("no lambda_z")
    else:
        vz = Value(cl_value / fit.lambda_z, f"Vz{suffix} = CL{suffix} / lambda_z (L)", fit.times)
    if apparent:
        vss = _empty("Vss needs intravascular dosing")
    elif mrt.value is None:
        vss = _empty(mrt.reason)
    else:
        vss = Value(cl_value * mrt.value, "Vss = CL x MRT (L)", exposure.times)
    return clearance, vz, vss, mrt


def _point_log(
    points: list[_Point],
    log: _Log,
    fit: LambdaZFit | None,
    lambda_z_left_out: list[tuple[_Point, str]],
) -> tuple[PointUse, ...]:
    """Every point: used (with notes, and whether it is in the lambda_z fit) or excluded."""
    fit_times = set(fit.times) if fit else set()
    not_in_fit = {id(p): why for p, why in lambda_z_left_out}
    entries = list(log.entries)
    for point in points:
        notes = [point.note] if point.note else []
        if point.time in fit_times:
            notes.append("in the lambda_z fit")
        elif fit is not None and id(point) in not_in_fit:
            notes.append(f"not in the lambda_z fit: {not_in_fit[id(point)]}")
        entries.append(
            PointUse(
                time=point.time,
                value=point.conc,
                observed_time=point.observed_time,
                sample_id=point.sample_id,
                status=PointStatus.IMPUTED if point.observed_time is None else PointStatus.USED,
                reason="; ".join(notes),
            )
        )
    return tuple(sorted(entries, key=lambda e: (e.time, e.status != PointStatus.USED)))


# --- accumulation ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Accumulation:
    """Later cycle / Cycle 1 ratios and the ratio predicted from Cycle 1's lambda_z."""

    subject: str
    analyte: str
    reference_cycle: int
    cycle: int
    auctau: Value
    cmax: Value
    ctrough: Value
    predicted: Value
    version: str = NCA_VERSION


def accumulation(reference: NcaResult, later: NcaResult, tau: float) -> Accumulation:
    """Rac = later / reference for AUC0-tau, Cmax and Ctrough; predicted Rac =
    1 / (1 - exp(-lambda_z tau)) from the reference cycle (docs/pharmacology.md §2.7)."""
    if (reference.subject, reference.analyte) != (later.subject, later.analyte):
        raise PharmacologyInputError("accumulation: both profiles must be one subject's analyte")
    if later.cycle <= reference.cycle:
        raise PharmacologyInputError("accumulation: the later cycle must come after the first")
    require_finite(tau, "accumulation: tau")
    if tau <= 0:
        raise PharmacologyInputError("accumulation: tau must be positive")

    def ratio(name: str, a: Value, b: Value) -> Value:
        if a.value is None or b.value is None:
            return _empty(
                f"{name} missing in cycle {later.cycle if a.value is None else reference.cycle}"
            )
        if b.value == 0:
            return _empty(f"{name} is 0 in cycle {reference.cycle}")
        return Value(a.value / b.value, f"{name} cycle {later.cycle} / cycle {reference.cycle}")

    if reference.fit is None:
        predicted = _empty(f"no lambda_z in cycle {reference.cycle}")
    else:
        lam = reference.fit.lambda_z
        predicted = Value(
            1 / (1 - math.exp(-lam * tau)),
            f"1 / (1 - exp(-lambda_z tau)), lambda_z of cycle {reference.cycle}",
            reference.fit.times,
        )
    return Accumulation(
        subject=later.subject,
        analyte=later.analyte,
        reference_cycle=reference.cycle,
        cycle=later.cycle,
        auctau=ratio("AUC0-tau", later.auctau, reference.auctau),
        cmax=ratio("Cmax", later.cmax, reference.cmax),
        ctrough=ratio("Ctrough", later.ctrough, reference.ctrough),
        predicted=predicted,
    )
