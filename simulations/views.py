"""Pages: simulate designs' operating characteristics, watch the progress, compare side by side,
export as CSV (docs/designs.md §13). For the study-wide roles."""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from core.errors import PermissionDenied, ValidationError
from core.exports import csv_text
from escalation.design_evidence import design_as_data
from escalation.rules.designs.config import parse_design
from trial.models import Study

from .forms import SimulationForm
from .selectors import comparison, csv_rows, simulation_study_ids, simulations_for
from .services import simulation_request, study_levels


def _studies(user):
    return Study.objects.filter(pk__in=simulation_study_ids(user)).order_by("protocol_number")


def _forbidden(request):
    return render(
        request,
        "standards/forbidden.html",
        {"message": "Design simulations are for the study-wide roles of a study."},
        status=403,
    )


@login_required
@require_http_methods(["GET", "POST"])
def simulations(request):
    studies = _studies(request.user)
    if not studies.exists():
        return _forbidden(request)
    chosen = studies.filter(pk=request.POST.get("study") or request.GET.get("study")).first()
    study = chosen or studies.first()
    levels = study_levels(study)
    form = SimulationForm(
        request.POST or None, studies=studies, levels=levels, initial={"study": study.pk}
    )
    if request.method == "POST" and form.is_valid():
        try:
            simulation = simulation_request(
                by=request.user,
                study=form.cleaned_data["study"],
                designs=form.design_list(),
                scenarios=form.cleaned_data["scenarios"],
                n_trials=form.cleaned_data["n_trials"],
                seed=form.cleaned_data["seed"],
                title=form.cleaned_data["title"],
            )
        except PermissionDenied:
            return _forbidden(request)
        except ValidationError as error:
            for field, messages in error.message_dict.items():
                form.add_error(field if field in form.fields else None, messages)
        else:
            return redirect("simulations:simulation", pk=simulation.pk)
    return render(
        request,
        "simulations/simulations.html",
        {
            "form": form,
            "study": study,
            "levels": levels,
            "simulations": simulations_for(request.user)[:50],
        },
        status=400 if form.errors else 200,
    )


def _simulation(request, pk):
    return get_object_or_404(simulations_for(request.user), pk=pk)


def _context(simulation) -> dict:
    tables = []
    for design in simulation.designs:
        config = parse_design(design, n_levels=len(simulation.dose_levels))
        tables.append(design_as_data(config))
    return {
        "simulation": simulation,
        "comparison": comparison(simulation) if simulation.status == "completed" else [],
        "design_tables": tables,
    }


@login_required
@require_GET
def simulation_detail(request, pk):
    return render(request, "simulations/simulation.html", _context(_simulation(request, pk)))


@login_required
@require_GET
def simulation_progress(request, pk):
    """The progress panel with the comparison once done, polled by htmx every second."""
    return render(request, "simulations/_progress.html", _context(_simulation(request, pk)))


@login_required
@require_GET
def simulation_csv(request, pk):
    simulation = _simulation(request, pk)
    if simulation.status != "completed":
        return HttpResponse("This simulation has no results yet.", status=409)
    rows = csv_rows(simulation)
    response = HttpResponse(csv_text(next(rows), rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="simulation-{simulation.pk}.csv"'
    return response
