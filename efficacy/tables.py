"""The efficacy pages' tables (shown, and downloaded as CSV) and the plots' inputs, from the
selectors' results. Every plot's facts are in a table: colour is never the only cue."""

from __future__ import annotations

from datetime import date
from fractions import Fraction

from . import charts
from .rules import Response, TimeToEvent
from .selectors import StudyEfficacy, SubjectEfficacy

AT_RISK_WEEKS = 6  # numbers at risk every 6 weeks (the assessment schedule's default)


def _pct(value) -> str:
    return "" if value is None else f"{value}"


def _num(value: Fraction | None) -> str:
    return "not reached" if value is None else f"{float(value):g}"


def time_point_table(record: SubjectEfficacy):
    header = [
        "subject", "date", "study day", "schedule", "sum (mm)", "change from baseline (%)",
        "nadir (mm)", "change from nadir (%)", "target", "non-target", "new lesions",
        "computed response", "rule", "reason", "investigator response", "agrees",
    ]  # fmt: skip
    rows = []
    for scan, point in record.rows:
        a = scan.assessment
        if point is None:
            rows.append(
                [record.label, a.assessed_on, record.study_day(a.assessed_on),
                 record.schedule(a.assessed_on)[0] if not a.is_baseline
                 else "baseline" if record.baseline_in_window(a.assessed_on)
                 else "baseline out of window",
                 _pct(record.baseline_sum), "", "", "", "", "", "", "baseline", "", "", "", ""]
            )  # fmt: skip
            continue
        target = point.target
        rows.append(
            [
                record.label,
                a.assessed_on,
                record.study_day(a.assessed_on),
                record.schedule(a.assessed_on)[0],
                _pct(target.sum_mm if target else None),
                _pct(target.change_from_baseline_pct if target else None),
                _pct(target.nadir_mm if target else None),
                _pct(target.change_from_nadir_pct if target else None),
                target.response.value if target else "",
                point.non_target.response.value if point.non_target else "",
                "PD" if point.new_lesions.progression else "none",
                point.response.value,
                point.rule.value,
                point.reason,
                point.investigator_response.value if point.investigator_response else "",
                {True: "yes", False: "NO", None: ""}[point.agrees_with_investigator],
            ]
        )
    return header, rows


def _tte(record: TimeToEvent | None) -> list:
    if record is None:
        return ["", "", "", "", ""]
    return [
        record.days,
        "event" if record.event else "censored",
        record.end_on,
        record.cnsr,
        record.description + f" ({record.reason})",
    ]


def subject_rows(page: StudyEfficacy):
    header = [
        "subject", "dose level", "first dose", "best overall response", "BOR rule",
        "BOR reason", "confirmed on", "best change of sum (%)",
        "PFS days", "PFS", "PFS date", "PFS CNSR", "PFS reason",
        "OS days", "OS", "OS date", "OS CNSR", "OS reason",
        "DoR days", "DoR", "DoR date", "DoR CNSR", "DoR reason",
        "new anticancer therapy from", "last known alive", "last known alive from", "note",
    ]  # fmt: skip
    rows = []
    for item in page.subjects:
        best = item.best
        rows.append(
            [
                item.label,
                item.dose_level,
                item.first_dose_on or "",
                best.response.value if best else "",
                best.rule.value if best else "",
                best.reason if best else "",
                (best.confirmed_on or "") if best else "",
                _pct(item.best_change_pct),
                *_tte(item.pfs),
                *_tte(item.os),
                *_tte(item.dor),
                item.new_therapy_on or "",
                *(item.last_known_alive or ("", "")),
                "; ".join(n for n in (item.evaluation.problem, *item.notes) if n),
            ]
        )
    return header, rows


def rate_rows(page: StudyEfficacy):
    header = [
        "dose level", "N", "ORR n", "ORR %", "ORR 95% CI lower %", "ORR 95% CI upper %",
        "DCR n", "DCR %", "DCR 95% CI lower %", "DCR 95% CI upper %", "method", "denominator",
    ]  # fmt: skip
    rows = []

    def cells(rate):
        if rate is None:
            return ["", "", "", ""]
        return [
            rate.numerator,
            f"{float(rate.proportion) * 100:.1f}",
            f"{rate.interval.lower * 100:.1f}",
            f"{rate.interval.upper * 100:.1f}",
        ]

    for row in page.rates:
        named = row.orr or row.dcr
        rows.append(
            [
                row.label,
                row.n,
                *cells(row.orr),
                *cells(row.dcr),
                named.interval.method if named else "",
                "; ".join(
                    sorted({r.denominator_name for r in (row.orr, row.dcr) if r is not None})
                ),
            ]
        )
    return header, rows


def _at_risk_days(page: StudyEfficacy, curve) -> list[int]:
    if curve.km is None:
        return []
    last = max(float(r.time) for r in curve.km.rows)
    step = AT_RISK_WEEKS * 7
    return list(range(0, int(last) + step, step))


def km_rows(page: StudyEfficacy, index: int):
    curve = page.curves[index]
    header = [
        "endpoint", "day", "at risk", "events", "censored", "survival", "95% lower",
        "95% upper", "transform",
    ]  # fmt: skip
    rows = []
    if curve.km is not None:
        for r in curve.km.rows:
            rows.append(
                [curve.name, f"{float(r.time):g}", r.n_risk, r.n_event, r.n_censor,
                 f"{float(r.survival):.4f}",
                 "" if r.lower is None else f"{r.lower:.4f}",
                 "" if r.upper is None else f"{r.upper:.4f}", curve.km.conf_type.value]
            )  # fmt: skip
    return header, rows


def disagreement_rows(page: StudyEfficacy):
    header = ["subject", "dose level", "what", "computed", "investigator", "computed because"]
    rows = [
        [item.label, item.dose_level, d.what, d.derived.value, d.investigator.value, d.reason]
        for item in page.subjects
        for d in item.disagreements
    ]
    return header, rows


def _swimmer_inputs(page: StudyEfficacy) -> list[charts.SwimmerInput]:
    found = []
    for item in page.subjects:
        if item.first_dose_on is None:
            continue
        end_treatment = item.subject.end_of_treatment_date or item.last_dose_on
        treatment_days = (end_treatment - item.first_dose_on).days + 1 if end_treatment else 1
        last_known = item.subject.death_date or item.last_known_alive_on or item.first_dose_on
        best = item.best
        response_day = (
            item.study_day(best.response_started_on)
            if best is not None and best.response_started_on is not None
            else None
        )
        progression = next((p for p in item.time_points if p.response is Response.PD), None)
        found.append(
            charts.SwimmerInput(
                label=item.label,
                dose_level=item.dose_level,
                treatment_days=treatment_days,
                follow_up_days=max((last_known - item.first_dose_on).days + 1, treatment_days),
                response_day=response_day,
                response=best.response.value if best and response_day else "",
                progression_day=item.study_day(progression.assessed_on) if progression else None,
                death_day=item.study_day(item.subject.death_date)
                if item.subject.death_date
                else None,
                ongoing=item.subject.end_of_treatment_date is None
                and item.subject.death_date is None,
            )
        )
    return found


def swimmer_rows(page: StudyEfficacy):
    header = [
        "subject", "dose level", "days on treatment", "days followed", "first response day",
        "response", "progression day", "death day", "on treatment",
    ]  # fmt: skip
    rows = [
        [i.label, i.dose_level, i.treatment_days, i.follow_up_days, i.response_day or "",
         i.response, i.progression_day or "", i.death_day or "", "yes" if i.ongoing else "no"]
        for i in _swimmer_inputs(page)
    ]  # fmt: skip
    return header, rows


def _waterfall_inputs(page: StudyEfficacy) -> list[charts.WaterfallInput]:
    found = []
    for item in page.subjects:
        change = item.best_change_pct
        if change is None or item.best is None:
            continue
        pd_other = any(
            p.response is Response.PD and (p.target is None or p.target.response is not Response.PD)
            for p in item.time_points
        )
        found.append(
            charts.WaterfallInput(item.label, change, item.best.response.value, item.dose_level,
                                  pd_other)
        )  # fmt: skip
    return found


def waterfall_rows(page: StudyEfficacy):
    header = ["subject", "dose level", "best change of sum (%)", "best overall response",
              "PD from non-target or new lesions"]  # fmt: skip
    rows = [
        [i.label, i.dose_level, i.best_change_pct, i.bor, "yes" if i.pd_other else "no"]
        for i in sorted(_waterfall_inputs(page), key=lambda i: (-i.best_change_pct, i.label))
    ]
    return header, rows


def _spider_inputs(page: StudyEfficacy):
    series = []
    for item in page.subjects:
        points = [
            (item.study_day(p.assessed_on), p.target.change_from_baseline_pct)
            for p in item.time_points
            if p.target is not None and p.target.change_from_baseline_pct is not None
        ]
        if points and item.best is not None:
            series.append((item.label, item.best.response.value, points))
    return series


def spider_rows(page: StudyEfficacy):
    header = ["subject", "best overall response", "study day", "week", "change of sum (%)"]
    rows = [
        [label, bor, day, f"{day / 7:.1f}", change]
        for label, bor, points in _spider_inputs(page)
        for day, change in points
    ]
    return header, rows


TABLES = {
    "rates": rate_rows,
    "subjects": subject_rows,
    "disagreements": disagreement_rows,
    "waterfall": waterfall_rows,
    "spider": spider_rows,
    "swimmer": swimmer_rows,
    "km-pfs": lambda page: km_rows(page, 0),
    "km-os": lambda page: km_rows(page, 1),
    "km-dor": lambda page: km_rows(page, 2),
}


def iso(value):
    return value.isoformat() if isinstance(value, date) else value


def study_table(page: StudyEfficacy, name: str):
    """A table of the endpoints page: header and rows, dates in ISO 8601."""
    header, rows = TABLES[name](page)
    return header, [[iso(cell) for cell in row] for row in rows]


def plots(page: StudyEfficacy) -> dict:
    kms = []
    for slug, curve in zip(("km-pfs", "km-os", "km-dor"), page.curves, strict=True):
        if curve.km is None:
            kms.append(
                {
                    "slug": slug,
                    "curve": curve,
                    "plot": None,
                    "at_risk": [],
                    "table": study_table(page, slug),
                }
            )
            continue
        days = _at_risk_days(page, curve)
        at_risk = [(d, curve.km.at_risk(d)) for d in days]
        steps = [charts.KmStep(r.time, r.survival, r.n_event, r.n_censor) for r in curve.km.rows]
        median = curve.km.median
        kms.append(
            {
                "slug": slug,
                "curve": curve,
                "table": study_table(page, slug),
                "plot": charts.km_plot(steps, at_risk),
                "median": _num(median.estimate),
                "lower": _num(median.lower),
                "upper": _num(median.upper),
                "at_risk": at_risk,
                "months": None
                if median.estimate is None
                else f"{float(median.estimate) / 30.4375:.1f}",
            }
        )
    waterfall = _waterfall_inputs(page)
    swimmers = _swimmer_inputs(page)
    spiders = _spider_inputs(page)
    return {
        "waterfall": charts.waterfall(waterfall) if waterfall else None,
        "swimmer": charts.swimmer(swimmers) if swimmers else None,
        "spider": charts.spider(spiders) if spiders else None,
        "km": kms,
        "tables": {name: study_table(page, name) for name in TABLES},
    }
