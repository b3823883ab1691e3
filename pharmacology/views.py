"""Pages of the pharmacology app: samples at the site's dose visit, laboratory imports for the
data manager, PK, ADA and biomarker results for the monitor and the sponsor. Thin: parse,
authorise, call a service or a selector, render."""

from __future__ import annotations

import csv
import math
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ObjectDoesNotExist
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from accounts.roles import Capability
from accounts.scoping import can, member_study_ids, restrict, spans_study
from core.errors import PermissionDenied, ValidationError
from dosing.models import DoseAdministration
from trial.models import Study

from . import charts, selectors, services
from .forms import LabFileForm, SampleForm
from .models import LabImport

MAX_FILE_BYTES = 20_000_000


def _scoped_dose(user, pk: int) -> DoseAdministration:
    try:
        return restrict(
            DoseAdministration.objects.select_related(
                "subject", "subject__site", "subject__cohort__track__regimen"
            ),
            user,
        ).get(pk=pk)
    except ObjectDoesNotExist:
        raise Http404("No such dose.") from None


def _apply(form, error: ValidationError) -> None:
    for field, texts in error.message_dict.items():
        target = field if field in form.fields and field not in ("kind", "timepoint") else None
        for text in texts:
            form.add_error(target, text if target else f"{field.replace('_', ' ')}: {text}")


@login_required
@require_http_methods(["GET", "POST"])
def dose_samples(request, pk: int):
    """The samples scheduled at one infusion, recorded at the site (docs/pharmacology.md §7.2)."""
    dose = _scoped_dose(request.user, pk)
    subject = dose.subject
    can_enter = can(
        request.user, Capability.ENTER_DATA, study_id=subject.study_id, site_id=subject.site_id
    )
    failed: SampleForm | None = None
    with timezone.override(ZoneInfo(subject.site.timezone)):
        if request.method == "POST":
            if not can_enter:
                raise PermissionDenied("Your role does not allow entering samples.")
            form = SampleForm(request.POST)
            if form.is_valid():
                data = form.cleaned_data
                try:
                    sample = services.sample_record(
                        by=request.user,
                        subject=subject,
                        dose=dose,
                        kind=data["kind"],
                        timepoint=data["timepoint"],
                        collected=data["collected"],
                        sample_id=data["sample_id"],
                        collected_at=data["collected_at"],
                        not_collected_reason=data["not_collected_reason"],
                        deviation_comment=data["deviation_comment"],
                    )
                except ValidationError as error:
                    _apply(form, error)
                else:
                    note = ""
                    if sample.flagged:
                        note = f" It is {sample.deviation_hours:+.2f} h from nominal: flagged."
                    messages.success(
                        request,
                        f"{sample.get_kind_display()} sample {sample.timepoint} saved.{note}",
                    )
                    return redirect(reverse("pharmacology:dose_samples", args=[dose.pk]))
            failed = form
        rows = [r for r in selectors.expected_rows(subject) if r.dose.pk == dose.pk]
        entries = []
        for index, row in enumerate(rows, start=1):
            form = None
            if row.sample is None and can_enter:
                if (
                    failed is not None
                    and failed.data.get("kind") == row.expected.kind.value
                    and failed.data.get("timepoint") == row.expected.label
                ):
                    form = failed
                else:
                    form = SampleForm(
                        initial={"kind": row.expected.kind.value, "timepoint": row.expected.label}
                    )
                form.auto_id = f"id_s{index}_%s"
            entries.append({"row": row, "form": form})
        return render(
            request,
            "pharmacology/dose_samples.html",
            {
                "dose": dose,
                "subject": subject,
                "entries": entries,
                "can_enter": can_enter,
                "tz": subject.site.timezone,
            },
        )


# --- study-level pages -----------------------------------------------------------------------


def _study_id(request) -> int:
    """The study the page is about: ?study=, else the user's first study."""
    ids = sorted(member_study_ids(request.user))
    wanted = request.GET.get("study") or request.POST.get("study")
    if wanted and wanted.isdigit() and int(wanted) in ids:
        return int(wanted)
    if not ids:
        raise PermissionDenied("You are not a member of any study.")
    return ids[0]


def _csv_response(name: str, header: list[str], rows) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    writer = csv.writer(response)
    writer.writerow(header)
    writer.writerows(rows)
    return response


def _number(value) -> str:
    return "" if value is None else f"{value:.6g}"


@login_required
@require_http_methods(["GET", "POST"])
def lab_imports(request):
    """Laboratory files: send one, see every file received (docs/pharmacology.md §8)."""
    study_id = _study_id(request)
    if not spans_study(request.user, study_id):
        raise PermissionDenied("Laboratory files are for the study-wide roles.")
    may_import = can(request.user, Capability.EDIT_DATA, study_id=study_id)
    form = LabFileForm(request.POST or None, request.FILES or None)
    if request.method == "POST":
        if not may_import:
            raise PermissionDenied("Your role does not allow importing laboratory files.")
        if form.is_valid():
            upload = form.cleaned_data["file"]
            if upload.size > MAX_FILE_BYTES:
                form.add_error("file", f"The file is larger than {MAX_FILE_BYTES // 1_000_000} MB.")
            else:
                imported = services.lab_import(
                    by=request.user,
                    study=Study.objects.get(pk=study_id),
                    kind=form.cleaned_data["kind"],
                    file_name=upload.name,
                    content=upload.read(),
                )
                if imported.status == LabImport.Status.ACCEPTED:
                    messages.success(
                        request, f"{imported.saved} results imported from {imported.file_name}."
                    )
                else:
                    messages.error(
                        request,
                        f"{imported.file_name} was refused: {len(imported.report)} problem(s), "
                        "nothing was saved.",
                    )
                return redirect(reverse("pharmacology:lab_import", args=[imported.pk]))
    return render(
        request,
        "pharmacology/lab_imports.html",
        {
            "form": form,
            "may_import": may_import,
            "imports": selectors.lab_imports_for(request.user, study_id)[:100],
        },
    )


@login_required
def lab_import_detail(request, pk: int):
    try:
        imported = selectors.lab_imports_for(request.user).get(pk=pk)
    except ObjectDoesNotExist:
        raise Http404("No such file.") from None
    if request.GET.get("download") == "1":
        response = HttpResponse(imported.content, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{imported.file_name}"'
        return response
    return render(request, "pharmacology/lab_import.html", {"imported": imported})


@login_required
def pk_page(request):
    """Concentration-time curves and NCA parameters by dose level (docs/pharmacology.md §10)."""
    study_id = _study_id(request)
    interval = request.GET.get("interval", "1")
    interval_number = int(interval) if interval.isdigit() and 0 < int(interval) < 1000 else 1
    data = selectors.pk_overview(request.user, study_id, interval=interval_number)
    cycles = selectors.pk_across_cycles(request.user, study_id)
    table = request.GET.get("csv")
    if table in CYCLE_TABLES:
        return CYCLE_TABLES[table](cycles)
    if table == "concentrations":
        rows = [
            [level.label, str(c.sample.subject), c.sample.sample_id, c.sample.timepoint,
             _number(c.sample.nrrlt_hours), _number(c.sample.arrlt_hours), c.reported,
             _number(c.value), "Y" if c.blq else "", c.unit, _number(c.lloq),
             c.exclude_reason, c.exclude_from_lambda_z_reason]
            for level in data["levels"] for c in level.concentrations
        ]  # fmt: skip
        return _csv_response(
            f"concentrations-interval-{interval_number}.csv",
            [
                "dose_level",
                "subject",
                "sample_id",
                "timepoint",
                "nrrlt_h",
                "arrlt_h",
                "reported",
                "value",
                "blq",
                "unit",
                "lloq",
                "exclude_reason",
                "exclude_from_lambda_z_reason",
            ],  # fmt: skip
            rows,
        )
    if table == "nca":
        names = [n for n, _ in selectors.SUMMARY_PARAMETERS]
        rows = [
            [level.label, str(a.subject), a.analyte, a.unit, _number(a.dose_mg)]
            + [_number((a.parameters.get(n) or {}).get("value")) for n in names]
            + [" ".join(a.flags), a.error]
            for level in data["levels"] for a in level.nca
        ]  # fmt: skip
        return _csv_response(
            f"nca-interval-{interval_number}.csv",
            ["dose_level", "subject", "analyte", "unit", "dose_mg", *names, "flags", "error"],
            rows,
        )
    for level in data["levels"]:
        series = {}
        for c in level.concentrations:
            label = str(c.sample.subject)
            excluded = c.exclude_reason or c.exclude_from_lambda_z_reason
            note = (
                f" (excluded from the NCA: {c.exclude_reason})" if c.exclude_reason
                else f" (excluded from lambda_z: {c.exclude_from_lambda_z_reason})" if excluded
                else ""
            )  # fmt: skip
            series.setdefault(label, []).append(
                charts.Point(
                    c.sample.arrlt_hours or 0.0,
                    c.value,
                    f"{c.sample.timepoint}, {c.sample.arrlt_hours:.2f} h: {c.reported} {c.unit}"
                    + note,
                    excluded=bool(c.exclude_reason),
                )
            )
        individual = [charts.Series(k, tuple(v)) for k, v in series.items()]
        mean = [
            charts.Series(
                "Mean",
                tuple(charts.Point(t, m, f"{t:g} h: mean {m:.4g} (n={n})") for t, m, _, n in level.mean_points),
            )
        ]  # fmt: skip
        unit = level.concentrations[0].unit if level.concentrations else ""
        y_label = f"Concentration ({unit})"
        level.charts = [
            (title, charts.line_chart(s, title=title, x_label="Hours after the dose", y_label=y_label, log_y=log))
            for title, s, log in (
                (f"{level.label}: individual, linear", individual, False),
                (f"{level.label}: individual, semi-log", individual, True),
                (f"{level.label}: mean, linear", mean, False),
                (f"{level.label}: mean, semi-log", mean, True),
            )
        ]  # fmt: skip
    data["proportionality_charts"] = _proportionality_charts(data)
    _cycle_charts(cycles)
    return render(request, "pharmacology/pk.html", {**data, "study_id": study_id, "cycles": cycles})


def _cycle_charts(cycles) -> None:
    """Per dose level: Cycle 1's mean profile beside the steady-state interval's (linear and
    semi-log), and the troughs by the interval they end, each subject and the mean
    (docs/pharmacology.md §10). BLQ counts as 0 in the means and is drawn open at 0."""
    unit = cycles["unit"]
    for level in cycles["levels"]:
        several = len({line.regimen for line in level.lines}) > 1
        lines = [
            charts.Series(
                (f"{line.regimen} " if several else "") + line.visit
                + (" (steady state)" if line.steady_state else ""),
                tuple(
                    charts.Point(p.nominal_hours, p.mean.mean if p.mean.n_blq < p.mean.n else None,
                                 f"{p.timepoint}: mean {p.mean.mean:.4g} (n={p.mean.n}, "
                                 f"{p.mean.n_blq} BLQ)")
                    for p in line.points
                ),
            )
            for line in level.lines
        ]  # fmt: skip
        level.comparison_charts = [
            (title, charts.line_chart(lines, title=title, x_label="Nominal hours after the dose",
                                      y_label=f"Mean concentration ({unit})", log_y=log))
            for title, log in (
                (f"{level.label}: Cycle 1 and steady state, linear", False),
                (f"{level.label}: Cycle 1 and steady state, semi-log", True),
            )
        ] if lines else []  # fmt: skip
        individual: dict[str, list] = {}
        for trough in level.troughs:
            sample = trough.result.sample
            individual.setdefault(str(sample.subject), []).append(
                charts.Point(trough.interval, trough.value,
                             f"interval {trough.interval} (pre-dose {trough.before}): "
                             f"{trough.result.reported} {trough.result.unit}")
            )  # fmt: skip
        series = [charts.Series(k, tuple(v)) for k, v in individual.items()]
        regimens = {code for code, _, _ in level.trough_means}
        for code in sorted(regimens):
            series.append(
                charts.Series(
                    "Mean" + (f" {code}" if len(regimens) > 1 else ""),
                    tuple(charts.Point(i, m.mean, f"interval {i}: mean {m.mean:.4g} (n={m.n}, "
                                                  f"{m.n_blq} BLQ)")
                          for c, i, m in level.trough_means if c == code),
                )
            )  # fmt: skip
        title = f"{level.label}: Ctrough by dosing interval"
        level.trough_chart = (
            (title, charts.line_chart(series, title=title, y_label=f"Ctrough ({unit})",
                                      x_label="Dosing interval (pre-dose sample of the next)"))
            if series else None
        )  # fmt: skip


def _cycles_csv(cycles) -> HttpResponse:
    rows = [
        [level.label, line.regimen, line.interval, line.visit, "Y" if line.steady_state else "",
         p.timepoint, _number(p.nominal_hours), p.mean.n, p.mean.n_blq, _number(p.mean.mean),
         _number(p.mean.sd), cycles["unit"]]
        for level in cycles["levels"] for line in level.lines for p in line.points
    ]  # fmt: skip
    return _csv_response(
        "cycle1-steady-state.csv",
        ["dose_level", "regimen", "interval", "visit", "steady_state", "timepoint", "nrrlt_h",
         "n", "n_blq", "mean", "sd", "unit"],
        rows,
    )  # fmt: skip


def _troughs_csv(cycles) -> HttpResponse:
    rows = [
        [level.label, t.regimen, str(t.result.sample.subject), t.interval, t.before,
         t.result.sample.sample_id, t.result.reported, t.result.unit, _number(t.result.lloq),
         "Y" if t.result.blq else "", _number(t.value), cycles["unit"],
         _number(t.result.sample.afrlt_hours)]
        for level in cycles["levels"] for t in level.troughs
    ]  # fmt: skip
    return _csv_response(
        "troughs.csv",
        ["dose_level", "regimen", "subject", "interval", "predose_of", "sample_id", "reported",
         "reported_unit", "lloq", "blq", "value", "unit", "afrlt_h"],
        rows,
    )  # fmt: skip


def _trough_means_csv(cycles) -> HttpResponse:
    rows = [
        [level.label, code, interval, m.n, m.n_blq, _number(m.mean), _number(m.sd),
         cycles["unit"]]
        for level in cycles["levels"] for code, interval, m in level.trough_means
    ]  # fmt: skip
    return _csv_response(
        "trough-means.csv",
        ["dose_level", "regimen", "interval", "n", "n_blq", "mean", "sd", "unit"],
        rows,
    )


CYCLE_TABLES = {
    "cycles": _cycles_csv,
    "troughs": _troughs_csv,
    "trough_means": _trough_means_csv,
}


def _proportionality_charts(data) -> list[tuple[str, str]]:
    """Dose-normalised exposure against dose on log-log axes, with the fitted power line:
    PK/dose = exp(a) dose^(b - 1) (docs/pharmacology.md §3.2)."""
    out = []
    for result in data["proportionality"]:
        if isinstance(result, str):
            continue
        name = result.parameter
        points = []
        for level in data["levels"]:
            for analysis in level.nca:
                value = (analysis.parameters.get(name) or {}).get("value")
                dose = analysis.dose_per_kg
                if value and dose:
                    points.append(
                        charts.Point(dose, value / dose, f"{analysis.subject}: {dose:g} mg/kg, {value / dose:.4g}")
                    )  # fmt: skip
        doses = sorted({p.x for p in points})
        line = tuple(
            charts.Point(d, math.exp(result.intercept) * d ** (result.slope - 1), f"power model at {d:g} mg/kg")
            for d in doses
        )  # fmt: skip
        title = f"{name}/dose against dose (log-log), slope b = {result.slope:.3g}"
        out.append(
            (title, charts.line_chart(
                [charts.Series("Subjects", tuple(points), connect=False), charts.Series("Power model", line)],
                title=title, x_label="Dose (mg/kg)", y_label=f"{name} / dose", log_y=True, log_x=True,
            ))
        )  # fmt: skip
    return out


@login_required
def immunogenicity_page(request):
    """ADA status per subject and incidence per dose level; biomarker change from baseline
    (docs/pharmacology.md §4, §5)."""
    study_id = _study_id(request)
    ada = selectors.ada_overview(request.user, study_id)
    markers = selectors.biomarker_overview(request.user, study_id)
    table = request.GET.get("csv")
    if table == "ada":
        return _csv_response(
            "ada-status.csv",
            ["subject", "group", "evaluable", "baseline_positive", "class", "te_ada",
             "persistent", "transient", "nab_positive", "onset_day", "max_titer", "reason"],
            [[s.subject, s.group, s.evaluable, s.baseline_positive, s.ada_class,
              s.treatment_emergent, s.persistent, s.transient, s.nab_positive,
              _number(s.onset_day), _number(s.max_titer), s.reason] for s in ada["statuses"]],
        )  # fmt: skip
    if table == "incidence":
        return _incidence_csv(ada["incidence"])
    if table == "biomarkers":
        return _csv_response(
            "biomarker-changes.csv",
            ["subject", "group", "analyte", "timepoint", "day", "reported", "value", "baseline",
             "change", "fold_change", "unit", "blq_treatment", "note"],
            [[c.subject, markers["groups"][c.subject], c.analyte, c.timepoint, _number(c.day),
              c.reported, _number(c.value), _number(c.baseline), _number(c.change),
              _number(c.fold_change), c.unit, c.blq_treatment, c.note]
             for c in markers["changes"]],
        )  # fmt: skip
    series: dict[tuple[str, str], list] = {}
    for summary in markers["summaries"]:
        if summary.median_fold is not None:
            series.setdefault((summary.analyte, summary.group), []).append(summary)
    analytes = sorted({a for a, _ in series})
    plots = []
    for analyte in analytes:
        lines = []
        for (name, group), rows in series.items():
            if name != analyte:
                continue
            points = []
            for row in rows:
                day = min(c.day for c in markers["changes"] if c.timepoint == row.timepoint)
                points.append(
                    charts.Point(day * 24, row.median_fold, f"{row.timepoint}: median fold {row.median_fold:.3g} (n={row.n_fold})")
                )  # fmt: skip
            lines.append(charts.Series(group, tuple(sorted(points, key=lambda p: p.x))))
        plots.append(
            (analyte, charts.line_chart(lines, title=f"{analyte}: median fold change from baseline",
                                        x_label="Hours after the first dose", y_label="Fold change", log_y=True))
        )  # fmt: skip
    return render(
        request,
        "pharmacology/immunogenicity.html",
        {
            **ada,
            "biomarkers": markers,
            "plots": plots,
            "incidence_chart": _incidence_chart(ada["incidence"]),
            "study_id": study_id,
        },
    )


def _proportion_text(p) -> str:
    return f"{p.n}/{p.denominator}" + ("" if p.percent is None else f" ({p.percent:.1f}%)")


def _incidence_chart(rows) -> str | None:
    """ADA incidence (TE-ADA over the ADA-evaluable subjects) per dose level and overall."""
    if not rows:
        return None
    bars = [
        charts.Bar(row.group.split(" (")[0], row.ada_incidence.percent,
                   _proportion_text(row.ada_incidence))
        for row in rows
    ]  # fmt: skip
    return charts.bar_chart(
        bars, title="ADA incidence by dose level (TE-ADA / ADA-evaluable)",
        y_label="ADA incidence (%)", y_max=100.0,
    )  # fmt: skip


INCIDENCE_COLUMNS = (
    ("ada_incidence", "te_ada"), ("treatment_induced", "induced"),
    ("treatment_boosted", "boosted"), ("baseline_prevalence", "baseline_positive"),
    ("ada_prevalence", "positive_any_time"), ("persistent", "persistent"),
    ("transient", "transient"), ("nab_among_te_ada", "nab_positive"),
)  # fmt: skip


def _incidence_csv(rows) -> HttpResponse:
    """The incidence table as plotted: each proportion's count, denominator (named) and %."""
    header = ["group", "subjects", "ada_evaluable"]
    for _, name in INCIDENCE_COLUMNS:
        header += [f"{name}_n", f"{name}_denominator", f"{name}_over", f"{name}_percent"]
    body = []
    for row in rows:
        line = [row.group, row.n_subjects, row.n_evaluable]
        for attribute, _ in INCIDENCE_COLUMNS:
            p = getattr(row, attribute)
            line += [p.n, p.denominator, p.denominator_name, _number(p.percent)]
        body.append(line)
    return _csv_response("ada-incidence.csv", header, body)
