"""Hand-built NCA scenarios (docs/pharmacology.md §2): BLQ by position, time 0, lambda_z choice,
AUC0-tau, flags, accumulation, and refused input. Expected values are worked by hand below."""

from __future__ import annotations

import math

import pytest

from pharmacology.rules.nca import (
    AucMethod,
    BlqRule,
    Concentration,
    Dosing,
    NcaFlag,
    NcaResult,
    NcaSettings,
    PharmacologyInputError,
    PointStatus,
    Profile,
    Route,
    SampleRole,
    accumulation,
    adjusted_r_squared,
    analyse,
)

BLQ = "BLQ"
EV = Dosing(Route.EXTRAVASCULAR, amount_mg=100)


def sample(time: float, value: float | str | None, **fields: object) -> Concentration:
    if value == BLQ:
        return Concentration(time, None, blq=True, **fields)  # type: ignore[arg-type]
    return Concentration(time, value, **fields)  # type: ignore[arg-type]


def run(
    points: list[tuple[float, float | str | None]],
    dosing: Dosing = EV,
    cycle: int = 1,
    **settings: object,
) -> NcaResult:
    profile = Profile("101-001", "MIL97", cycle, dosing, tuple(sample(t, c) for t, c in points))
    return analyse(profile, NcaSettings(**settings))  # type: ignore[arg-type]


def log_trapezoid(t1: float, c1: float, t2: float, c2: float) -> float:
    return (t2 - t1) * (c1 - c2) / math.log(c1 / c2)


def lin(t1: float, c1: float, t2: float, c2: float) -> float:
    return (t2 - t1) * (c1 + c2) / 2


def status(result: NcaResult, time: float) -> tuple[PointStatus, str]:
    entry = next(p for p in result.points if p.observed_time == time)
    return entry.status, entry.reason


# --- BLQ by position (PKNCA conc.blq: first keep, middle drop, last keep) ---


def test_blq_at_the_start_is_kept_as_zero() -> None:
    result = run([(0, BLQ), (0.5, BLQ), (1, 4.0), (2, 2.0), (4, 1.0), (8, 0.25)])
    assert status(result, 0.5)[0] is PointStatus.USED
    assert "BLQ before the first measurable" in status(result, 0.5)[1]
    expected = (
        0 + lin(0.5, 0, 1, 4) + log_trapezoid(1, 4, 2, 2) + log_trapezoid(2, 2, 4, 1)
        + log_trapezoid(4, 1, 8, 0.25)
    )  # fmt: skip
    assert result.auclast.value == pytest.approx(expected, rel=1e-12)
    assert result.auclast.times == (0, 0.5, 1, 2, 4, 8)


def test_blq_in_the_middle_is_dropped() -> None:
    result = run([(0, 0.0), (1, 4.0), (2, BLQ), (4, 1.0), (8, 0.5)])
    assert status(result, 2) == (
        PointStatus.EXCLUDED,
        "BLQ between measurable concentrations: dropped",
    )
    expected = lin(0, 0, 1, 4) + log_trapezoid(1, 4, 4, 1) + log_trapezoid(4, 1, 8, 0.5)
    assert result.auclast.value == pytest.approx(expected, rel=1e-12)
    assert 2 not in result.auclast.times


def test_blq_in_the_middle_kept_when_set() -> None:
    result = run([(0, 0.0), (1, 4.0), (2, BLQ), (4, 1.0)], blq_middle="keep")
    expected = lin(0, 0, 1, 4) + lin(1, 4, 2, 0) + lin(2, 0, 4, 1)
    assert result.auclast.value == pytest.approx(expected, rel=1e-12)


def test_blq_at_the_end_counts_for_aucall_not_auclast() -> None:
    result = run([(0, 0.0), (1, 8.0), (2, 4.0), (4, 2.0), (8, 1.0), (12, BLQ), (24, BLQ)])
    auclast = (
        lin(0, 0, 1, 8) + log_trapezoid(1, 8, 2, 4) + log_trapezoid(2, 4, 4, 2)
        + log_trapezoid(4, 2, 8, 1)
    )  # fmt: skip
    assert result.auclast.value == pytest.approx(auclast, rel=1e-12)
    assert result.aucall.value == pytest.approx(auclast + lin(8, 1, 12, 0), rel=1e-12)
    assert (result.tlast.value, result.clast.value) == (8, 1.0)
    assert "BLQ after the last measurable concentration: 0" in status(result, 24)[1]


def test_blq_at_the_end_dropped_when_set() -> None:
    result = run([(0, 0.0), (1, 8.0), (2, 4.0), (4, 2.0), (8, BLQ)], blq_trailing="drop")
    assert result.aucall.value == result.auclast.value
    assert status(result, 8)[0] is PointStatus.EXCLUDED


def test_missing_result_is_dropped_with_its_reason() -> None:
    result = run([(0, 0.0), (1, 8.0), (2, None), (4, 2.0)])
    assert status(result, 2) == (PointStatus.EXCLUDED, "no result (missing values are dropped)")


def test_everything_blq_gives_zero_areas_and_no_tmax() -> None:
    result = run([(0, BLQ), (1, BLQ), (2, BLQ)])
    assert result.cmax.value == 0
    assert result.tmax.value is None and result.tlast.value is None
    assert result.auclast.value == 0
    assert NcaFlag.NO_LAMBDA_Z in result.flags


# --- Cmax, Tmax ---


def test_tied_cmax_takes_the_first_time() -> None:
    result = run([(0, 0.0), (1, 5.0), (2, 5.0), (4, 2.0), (8, 1.0), (12, 0.5)])
    assert (result.cmax.value, result.tmax.value) == (5.0, 1)
    assert "2 samples tie, the first" in result.tmax.method
    last = run([(0, 0.0), (1, 5.0), (2, 5.0), (4, 2.0)], first_tmax=False)
    assert last.tmax.value == 2


# --- lambda_z ---


def test_lambda_z_excludes_tmax_and_takes_most_points_within_the_factor() -> None:
    # Exactly mono-exponential after Tmax: every fit has R^2 = 1, so the most points win.
    k = 0.1
    tail = [(t, 10 * math.exp(-k * t)) for t in (2, 4, 8, 12, 24)]
    result = run([(0, 0.0), (1, 12.0), *tail])
    assert result.fit is not None
    assert result.fit.n_points == 5 and result.fit.times == (2, 4, 8, 12, 24)
    assert result.lambda_z.value == pytest.approx(k, rel=1e-12)
    assert result.half_life.value == pytest.approx(math.log(2) / k, rel=1e-12)
    assert "not in the lambda_z fit: at or before Tmax" in status(result, 1)[1]
    assert result.fit.fits_tried == 3  # last 3, 4 and 5 points


def test_a_distribution_phase_is_left_out_when_it_lowers_adjusted_r_squared() -> None:
    # A fast phase until 4 h, then k = 0.05: the early points bend the line.
    points = [(0, 0.0), (0.5, 20.0), (1, 12.0), (2, 6.0), (4, 3.0)]
    points += [(t, 3.0 * math.exp(-0.05 * (t - 4))) for t in (8, 12, 24, 48)]
    result = run(points)
    assert result.fit is not None
    assert result.fit.time_first in (4, 8)
    assert result.lambda_z.value == pytest.approx(0.05, rel=1e-9)
    assert "before the chosen terminal phase" in status(result, 1)[1]


def test_adjusted_r_squared_formula() -> None:
    assert adjusted_r_squared(0.9, 5) == pytest.approx(1 - 0.1 * 4 / 3)
    assert math.isnan(adjusted_r_squared(1.0, 2))


def test_one_point_after_cmax_gives_no_lambda_z() -> None:
    result = run([(0, 0.0), (1, 2.0), (2, 8.0), (4, 3.0)])
    assert result.fit is None and result.lambda_z.value is None
    assert result.lambda_z.reason == "too few points after Tmax for lambda_z (1, at least 3 needed)"
    assert result.aucinf_obs.value is None and "no lambda_z" in result.aucinf_obs.reason
    assert result.clearance.value is None
    assert NcaFlag.NO_LAMBDA_Z in result.flags


def test_rising_terminal_phase_gives_no_lambda_z() -> None:
    result = run([(0, 0.0), (1, 9.0), (2, 1.0), (4, 2.0), (8, 3.0), (12, 4.0)])
    # Tmax is 1 h; every fit of the last 3..4 points rises.
    assert result.fit is None
    assert "lambda_z > 0" in result.lambda_z.reason


def test_manual_exclusion_from_lambda_z_only() -> None:
    points = [(0, 0.0), (1, 10.0), (2, 8.0), (4, 4.0), (6, 9.0), (8, 1.0), (12, 0.25)]
    profile = Profile(
        "101-001",
        "MIL97",
        1,
        EV,
        tuple(
            sample(t, c, exclude_from_lambda_z="haemolysed" if t == 6 else "") for t, c in points
        ),
    )
    result = analyse(profile)
    assert result.fit is not None and 6 not in result.fit.times
    assert "excluded from lambda_z by hand: haemolysed" in status(result, 6)[1]
    assert 6 in result.auclast.times  # still in the AUC


def test_manual_exclusion_from_everything() -> None:
    profile = Profile(
        "101-001",
        "MIL97",
        1,
        EV,
        (sample(0, 0.0), sample(1, 50.0, exclude="sampled from the infusion arm"), sample(2, 4.0)),
    )
    result = analyse(profile)
    assert result.cmax.value == 4.0
    assert status(result, 1) == (
        PointStatus.EXCLUDED,
        "excluded by hand: sampled from the infusion arm",
    )


def test_fit_flags_span_and_adjusted_r_squared() -> None:
    noisy = [(0, 0.0), (1, 10.0), (2, 8.0), (3, 7.6), (4, 5.0)]  # adj R^2 0.66, span 0.68
    result = run(noisy)
    assert result.fit is not None
    assert result.fit.span_ratio < 2 and NcaFlag.SPAN_RATIO_LOW in result.flags
    assert result.fit.adj_r_squared < 0.8 and NcaFlag.ADJ_R_SQUARED_LOW in result.flags
    relaxed = run(noisy, min_adj_r_squared=0.1, min_span_ratio=0.01)
    assert NcaFlag.ADJ_R_SQUARED_LOW not in relaxed.flags
    assert NcaFlag.SPAN_RATIO_LOW not in relaxed.flags


def test_extrapolation_over_20_percent_is_flagged() -> None:
    tail = [(t, 10 * math.exp(-0.01 * t)) for t in (2, 4, 8, 12)]
    result = run([(0, 0.0), (1, 12.0), *tail])
    assert result.auc_extrapolated_percent.value is not None
    assert result.auc_extrapolated_percent.value > 20
    assert NcaFlag.EXTRAPOLATION_HIGH in result.auc_extrapolated_percent.flags
    clast = 10 * math.exp(-0.12)
    assert result.aucinf_obs.value == pytest.approx(
        result.auclast.value + clast / 0.01,
        rel=1e-9,  # type: ignore[operator]
    )


# --- AUC methods ---


def test_lin_log_is_linear_before_tmax_and_log_after() -> None:
    points: list[tuple[float, float | str | None]] = [
        (0, 0.0), (1, 6.0), (2, 4.0), (4, 8.0), (8, 4.0),
    ]  # fmt: skip
    up_down = run(points)
    lin_log = run(points, auc_method="lin-log")
    linear = run(points, auc_method=AucMethod.LINEAR)
    start = lin(0, 0, 1, 6)
    assert up_down.auclast.value == pytest.approx(
        start + log_trapezoid(1, 6, 2, 4) + lin(2, 4, 4, 8) + log_trapezoid(4, 8, 8, 4)
    )
    assert lin_log.auclast.value == pytest.approx(
        start + lin(1, 6, 2, 4) + lin(2, 4, 4, 8) + log_trapezoid(4, 8, 8, 4)
    )
    assert linear.auclast.value == pytest.approx(
        start + lin(1, 6, 2, 4) + lin(2, 4, 4, 8) + lin(4, 8, 8, 4)
    )


# --- time 0 ---

Q3W = 504.0


def iv(mg: float = 70.0, naive: bool = True, tau: float | None = Q3W, hours: float = 0.5) -> Dosing:
    return Dosing(Route.IV_INFUSION, amount_mg=mg, infusion_hours=hours, dose_naive=naive, tau=tau)


def test_dose_naive_predose_becomes_zero_at_time_zero() -> None:
    result = run([(-0.5, 0.3), (0.5, 20.0), (2, 18.0)], dosing=iv())
    imputed = [p for p in result.points if p.status is PointStatus.IMPUTED]
    assert [(p.time, p.value) for p in imputed] == [(0.0, 0.0)]
    assert status(result, -0.5) == (
        PointStatus.EXCLUDED,
        "before the dose (dose-naive: C0 = 0 is used)",
    )
    assert result.auclast.value == pytest.approx(lin(0, 0, 0.5, 20) + log_trapezoid(0.5, 20, 2, 18))


def test_later_cycle_moves_a_predose_within_5_percent_of_tau_to_time_zero() -> None:
    # 0.05 x 504 h = 25.2 h: a pre-dose sample 1 h before the dose qualifies.
    result = run([(-1, 5.0), (0.5, 25.0), (24, 15.0)], dosing=iv(naive=False), cycle=4)
    start = [p for p in result.points if p.time == 0][0]
    assert (start.value, start.observed_time, start.status) == (5.0, -1, PointStatus.USED)
    assert "pre-dose value at -1 h moved to time 0" in start.reason
    assert result.auclast.value == pytest.approx(
        lin(0, 5, 0.5, 25) + log_trapezoid(0.5, 25, 24, 15)
    )


def test_later_cycle_predose_too_early_is_not_moved_and_auc_is_empty() -> None:
    result = run([(-30, 5.0), (0.5, 25.0), (24, 15.0)], dosing=iv(naive=False), cycle=4)
    assert status(result, -30) == (PointStatus.EXCLUDED, "before the dose")
    assert result.auclast.value is None
    assert result.auclast.reason == "no concentration at time 0 (the start of the interval)"
    assert result.cmax.value == 25.0


# --- Ceoi, Ctrough, AUC0-tau, Cavg ---


def _mono(times: tuple[float, ...], c0: float = 20.0, k: float = 0.004) -> list[Concentration]:
    return [Concentration(t, c0 * math.exp(-k * (t - 0.5))) for t in times]


def test_ceoi_and_ctrough_come_from_the_nominal_roles() -> None:
    samples = (
        Concentration(-0.2, None, blq=True, role=SampleRole.PREDOSE),
        Concentration(0.6, 19.5, role=SampleRole.END_OF_INFUSION),
        Concentration(24, 15.0),
        Concentration(503.0, 2.5, role=SampleRole.TROUGH),
    )
    result = analyse(Profile("101-001", "MIL97", 1, iv(), samples))
    assert (result.ceoi.value, result.ceoi.times) == (19.5, (0.6,))
    assert (result.ctrough.value, result.ctrough.times) == (2.5, (503.0,))


def test_auctau_with_a_sample_at_tau() -> None:
    times = (0.5, 24.0, 168.0, 336.0, 504.0)
    result = analyse(Profile("101-001", "MIL97", 1, iv(), (Concentration(0, 0.0), *_mono(times))))
    assert result.auctau.value == pytest.approx(result.auclast.value)
    assert result.cavg.value == pytest.approx(result.auctau.value / 504)  # type: ignore[operator]


def test_auctau_extrapolated_with_lambda_z_when_the_trough_is_early() -> None:
    times = (0.5, 24.0, 168.0, 336.0, 500.0)
    result = analyse(Profile("101-001", "MIL97", 1, iv(), _mono(times)))
    c500 = 20 * math.exp(-0.004 * 499.5)
    c504 = 20 * math.exp(-0.004 * 503.5)
    assert result.lambda_z.value == pytest.approx(0.004, rel=1e-9)
    assert result.auctau.value == pytest.approx(
        result.auclast.value + log_trapezoid(500, c500, 504, c504),
        rel=1e-12,  # type: ignore[operator]
    )
    assert "extrapolated from Clast with lambda_z" in result.auctau.method


def test_auctau_interpolated_when_a_later_sample_exists() -> None:
    times = (0.5, 24.0, 168.0, 336.0, 500.0, 508.0)
    result = analyse(Profile("101-001", "MIL97", 1, iv(), _mono(times)))
    c500 = 20 * math.exp(-0.004 * 499.5)
    c504 = 20 * math.exp(-0.004 * 503.5)  # log interpolation of an exponential is exact
    assert status(result, 508)[0] is PointStatus.EXCLUDED
    assert result.auctau.value == pytest.approx(
        result.auclast.value + log_trapezoid(500, c500, 504, c504),
        rel=1e-12,  # type: ignore[operator]
    )
    assert "interpolated (log) between 500 h and 508 h" in result.auctau.method


def test_auctau_without_lambda_z_cannot_be_extrapolated() -> None:
    result = run([(0.5, 20.0), (24, 19.0), (500, 18.0)], dosing=iv())
    assert result.auctau.value is None
    assert "lambda_z is needed" in result.auctau.reason


def test_auctau_after_a_blq_adds_nothing_after_tlast() -> None:
    result = run([(0.5, 20.0), (24, 5.0), (168, 1.0), (336, BLQ), (500, BLQ)], dosing=iv())
    assert result.auctau.value == pytest.approx(result.auclast.value)


# --- CL, volumes, dose from mg/kg ---


def test_iv_clearance_volumes_and_mrt_from_a_weight_based_dose() -> None:
    dosing = Dosing.from_mg_per_kg(
        mg_per_kg=0.45, weight_kg=80.0, route=Route.IV_INFUSION, infusion_hours=0.5, tau=Q3W
    )
    assert dosing.amount_mg == pytest.approx(36.0)
    times = (0.5, 2.0, 24.0, 168.0, 336.0, 504.0)
    result = analyse(Profile("101-001", "MIL97", 1, dosing, _mono(times), unit="ug/mL"))
    assert result.aucinf_obs.value is not None and result.aumcinf_obs.value is not None
    cl = 36.0 / result.aucinf_obs.value  # ug/mL = mg/L, so L/h
    assert result.clearance.value == pytest.approx(cl)
    assert result.vz.value == pytest.approx(cl / 0.004)
    mrt = result.aumcinf_obs.value / result.aucinf_obs.value - 0.25
    assert result.mrt.value == pytest.approx(mrt)
    assert result.vss.value == pytest.approx(cl * mrt)
    assert not result.apparent


def test_ng_per_ml_converts_clearance_to_litres_per_hour() -> None:
    samples = (Concentration(0, 0.0), *_mono((0.5, 2.0, 24.0, 168.0, 336.0, 504.0)))
    in_ug = analyse(Profile("101-001", "MIL97", 1, iv(), samples, unit="ug/mL"))
    in_ng = analyse(
        Profile(
            "101-001",
            "MIL97",
            1,
            iv(),
            tuple(Concentration(c.time, (c.value or 0) * 1000) for c in samples),
            unit="ng/mL",
        )
    )
    assert in_ng.clearance.value == pytest.approx(in_ug.clearance.value)


def test_steady_state_clearance_uses_auctau() -> None:
    times = (0.5, 24.0, 168.0, 336.0, 504.0)
    samples = (Concentration(-0.1, 3.0), *_mono(times))
    result = analyse(Profile("101-001", "MIL97", 4, iv(naive=False), samples))
    assert result.aucinf_obs.value is None
    assert result.clearance.value == pytest.approx(70.0 / result.auctau.value)  # type: ignore[operator]
    assert "AUC0-tau" in result.clearance.method


# --- accumulation ---


def test_accumulation_ratios_and_predicted_rac() -> None:
    times = (0.5, 24.0, 168.0, 336.0, 504.0)
    first = analyse(Profile("101-001", "MIL97", 1, iv(), (Concentration(0, 0.0), *_mono(times))))
    later_samples = (
        Concentration(-0.1, 3.0),
        *_mono(times, c0=30.0),
    )
    later = analyse(Profile("101-001", "MIL97", 4, iv(naive=False), later_samples))
    rac = accumulation(first, later, tau=Q3W)
    assert rac.cmax.value == pytest.approx(30 / 20)
    assert rac.auctau.value == pytest.approx(later.auctau.value / first.auctau.value)  # type: ignore[operator]
    # No trough-role sample: the samples at exactly tau (PKNCA's Ctrough) are compared.
    assert rac.ctrough.value == pytest.approx(30 / 20)
    assert rac.predicted.value == pytest.approx(1 / (1 - math.exp(-0.004 * 504)))


def test_accumulation_refuses_another_subject() -> None:
    a = run([(0, 0.0), (1, 1.0)])
    b = analyse(Profile("101-002", "MIL97", 2, EV, (sample(0, 0.0), sample(1, 1.0))))
    with pytest.raises(PharmacologyInputError, match="one subject's analyte"):
        accumulation(a, b, tau=Q3W)


# --- refused input ---


@pytest.mark.parametrize(
    ("build", "message"),
    [
        pytest.param(lambda: Concentration(1, -0.1), "value cannot be negative", id="negative"),
        pytest.param(lambda: Concentration(1, 2.0, blq=True), "BLQ result has no number",
                     id="blq-with-number"),
        pytest.param(lambda: Concentration(math.nan, 2.0), "time", id="nan-time"),
        pytest.param(lambda: Profile("1", "A", 1, EV, (sample(1, 1.0), sample(1, 2.0))),
                     "more than one sample at time 1", id="duplicate-time"),
        pytest.param(lambda: Profile("1", "A", 1, EV, (), unit="mmol/L"), "unit 'mmol/L'",
                     id="unknown-unit"),
        pytest.param(lambda: Dosing(Route.IV_INFUSION, amount_mg=0), "amount_mg must be positive",
                     id="zero-dose"),
        pytest.param(lambda: Dosing("oral"), "route: 'oral' is not one of", id="unknown-route"),
        pytest.param(lambda: Dosing(Route.EXTRAVASCULAR, infusion_hours=1), "no infusion time",
                     id="oral-with-infusion"),
        pytest.param(lambda: NcaSettings(auc_method="spline"), "auc_method", id="unknown-method"),
        pytest.param(lambda: NcaSettings(blq_middle=BlqRule("drop"), min_hl_points=1),
                     "min_hl_points", id="one-point-fit"),
        pytest.param(lambda: Dosing.from_mg_per_kg(mg_per_kg=0.1, weight_kg=0,
                                                   route=Route.IV_INFUSION),
                     "weight_kg must be positive", id="zero-weight"),
    ],
)  # fmt: skip
def test_bad_input_is_refused(build, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(PharmacologyInputError, match=message):
        build()


def test_later_cycle_predose_recorded_at_time_zero_is_used_as_measured() -> None:
    result = run([(0, 5.0), (0.5, 25.0), (24, 15.0)], dosing=iv(naive=False), cycle=2)
    assert status(result, 0) == (PointStatus.USED, "")
    assert result.auclast.value == pytest.approx(
        lin(0, 5, 0.5, 25) + log_trapezoid(0.5, 25, 24, 15)
    )


def test_dose_naive_conc0_can_be_switched_off() -> None:
    result = run([(0, 0.7), (1, 8.0), (2, 4.0)], dose_naive_conc0=False)
    assert result.auclast.value == pytest.approx(lin(0, 0.7, 1, 8) + log_trapezoid(1, 8, 2, 4))
    default = run([(0, 0.7), (1, 8.0), (2, 4.0)])
    assert status(default, 0)[1] == "dose-naive: concentration at time 0 set to 0"
    assert default.auclast.value == pytest.approx(lin(0, 0, 1, 8) + log_trapezoid(1, 8, 2, 4))
