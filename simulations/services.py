"""Start and run simulations of dose-finding designs' operating characteristics
(docs/designs.md §13). Every write is here; the Celery task only calls `run_simulation`.

The simulation runs the designs core that makes the live decisions (escalation/rules/designs,
`simulate_in_chunks`); the 3+3's exact closed form is stored beside its simulation.
"""

import logging
import math
import secrets
import time

from django.db import OperationalError, transaction
from django.db.models import F
from django.dispatch import Signal
from django.utils import timezone

from accounts.scoping import spans_study
from core.errors import PermissionDenied, ValidationError
from escalation.rules.designs.common import DESIGNS_VERSION, DesignInputError
from escalation.rules.designs.config import DesignConfig, parse_design
from escalation.rules.designs.simulate import (
    OperatingCharacteristics,
    Scenario,
    Timing,
    simulate_in_chunks,
    summarise,
)
from escalation.rules.designs.three_plus_three import ThreePlusThreeSettings, exact_oc
from trial.models import EscalationTrack, Study

from .models import Simulation

log = logging.getLogger(__name__)

CHUNK = 1000  # trials per batch: the progress bar's step, and part of what a seed gives
MIN_TRIALS, MAX_TRIALS = 100, 100_000
MAX_DESIGNS, MAX_SCENARIOS = 6, 10
MAX_SEED = 2**63 - 1
# The calendar-time designs (TITE-BOIN, CRM): subjects arriving per DLT window on average.
TIMING = Timing(accrual_per_window=2.0)


def may_simulate(user, study_id: int) -> bool:
    """Study-wide roles (medical monitor, data manager, sponsor, administrator) simulate and
    read simulations; they hold no subject data."""
    return spans_study(user, study_id)


def study_levels(study: Study) -> list[str]:
    return [level.label for level in study.dose_levels.order_by("amount", "number")]


def study_window_days(study: Study) -> int:
    """The DLT window the time-to-event designs weigh follow-up by: the first escalation
    track's regimen's."""
    track = (
        EscalationTrack.objects.filter(study=study, phase=EscalationTrack.Phase.ESCALATION)
        .select_related("regimen")
        .order_by("display_order", "pk")
        .first()
    )
    return track.regimen.dlt_window_days if track is not None else 28


def parse_designs(designs, *, n_levels: int, window_days: int) -> list[DesignConfig]:
    if not isinstance(designs, list) or not 1 <= len(designs) <= MAX_DESIGNS:
        raise ValidationError({"designs": f"Give 1 to {MAX_DESIGNS} designs to compare."})
    configs = []
    for index, design in enumerate(designs):
        if not isinstance(design, dict):
            raise ValidationError(
                {"designs": f"designs[{index}]: a design is an object with a name."}
            )
        try:
            configs.append(parse_design(design, n_levels=n_levels, window_days=window_days))
        except DesignInputError as error:
            raise ValidationError({"designs": f"designs[{index}]: {error}."}) from error
    return configs


def parse_scenarios(scenarios, *, n_levels: int) -> list[Scenario]:
    if not isinstance(scenarios, list) or not 1 <= len(scenarios) <= MAX_SCENARIOS:
        raise ValidationError({"scenarios": f"Give 1 to {MAX_SCENARIOS} scenarios."})
    out = []
    for index, scenario in enumerate(scenarios):
        where = f"scenarios[{index}]"
        if not isinstance(scenario, dict):
            raise ValidationError({"scenarios": f"{where}: an object with name and true_dlt."})
        name = scenario.get("name") or f"Scenario {index + 1}"
        values = scenario.get("true_dlt")
        if not isinstance(name, str) or len(name) > 80:
            raise ValidationError({"scenarios": f"{where}.name: a text of at most 80 characters."})
        if not isinstance(values, list) or len(values) != n_levels:
            raise ValidationError(
                {
                    "scenarios": f"{where}.true_dlt: one true DLT probability per dose level "
                    f"({n_levels})."
                }
            )
        if any(
            isinstance(p, bool) or not isinstance(p, int | float) or not 0 <= p <= 1 for p in values
        ):
            raise ValidationError(
                {"scenarios": f"{where}.true_dlt: each probability is a number from 0 to 1."}
            )
        if any(b < a for a, b in zip(values, values[1:], strict=False)):
            raise ValidationError(
                {
                    "scenarios": f"{where}.true_dlt: the probabilities must not fall as the dose rises."
                }
            )
        out.append(Scenario(tuple(float(p) for p in values), name=name))
    return out


def simulation_request(
    *,
    by,
    study: Study,
    designs: list,
    scenarios: list,
    n_trials: int = 10_000,
    seed: int | None = None,
    title: str = "",
) -> Simulation:
    """Record a simulation of `designs` under `scenarios` and start it after the commit.
    Refuses, naming the field, anything the designs core refuses; nothing is saved then."""
    if not may_simulate(by, study.pk):
        raise PermissionDenied("Simulations are for the study-wide roles of this study.")
    levels = study_levels(study)
    window = study_window_days(study)
    configs = parse_designs(designs, n_levels=len(levels), window_days=window)
    parsed = parse_scenarios(scenarios, n_levels=len(levels))
    if isinstance(n_trials, bool) or not isinstance(n_trials, int):
        raise ValidationError({"n_trials": "A whole number of trials."})
    if not MIN_TRIALS <= n_trials <= MAX_TRIALS:
        raise ValidationError({"n_trials": f"From {MIN_TRIALS} to {MAX_TRIALS:,} trials."})
    if seed is None:
        seed = secrets.randbelow(2**31)
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
        raise ValidationError({"seed": f"A whole number from 0 to {MAX_SEED}."})
    with transaction.atomic():
        simulation = Simulation(
            study=study,
            requested_by=by,
            requested_at=timezone.now(),
            title=(title or "")[:200],
            designs=[dict(config.values) for config in configs],
            scenarios=[{"name": s.name, "true_dlt": list(s.true_dlt)} for s in parsed],
            dose_levels=levels,
            n_trials=n_trials,
            seed=seed,
            chunk=CHUNK,
            designs_version=DESIGNS_VERSION,
        )
        simulation.full_clean()
        simulation._history_user = by
        simulation._change_reason = "Simulation requested"
        simulation.save()
        transaction.on_commit(lambda: _enqueue(simulation.pk))
    return simulation


# Sent once a simulation request commits, with `simulation_id`: simulations/triggers.py
# (connected in apps.py) enqueues the run. The service does not import its task; the task
# imports the service.
simulation_requested = Signal()


def _enqueue(simulation_id: int) -> None:
    simulation_requested.send(sender=Simulation, simulation_id=simulation_id)


def _claim(simulation_id: int) -> bool:
    now = timezone.now()
    return bool(
        Simulation.objects.filter(pk=simulation_id, status=Simulation.Status.QUEUED).update(
            status=Simulation.Status.RUNNING,
            started_at=now,
            attempts=F("attempts") + 1,
            progress=0,
        )
    )


def _progress(simulation_id: int, percent: float, step: str) -> None:
    """Best effort: a progress write that meets a lock (SQLite's shared cache answers "table is
    locked" at once while a page reads) is skipped, not fatal to the run; the next batch writes
    again."""
    try:
        Simulation.objects.filter(pk=simulation_id).update(
            progress=max(0, min(99, int(percent))), step=step[:200]
        )
    except OperationalError as error:
        log.warning("simulation %s: progress not written (%s)", simulation_id, error)


def _save_finished(simulation: Simulation, attempts: int = 5) -> None:
    """The final save, tried again a few times over a transient lock."""
    for attempt in range(attempts):
        try:
            simulation.save()
            return
        except OperationalError:
            if attempt == attempts - 1:
                raise
            time.sleep(0.2 * (attempt + 1))


def run_simulation(simulation_id: int) -> str:
    """The task's body: simulate every design under every scenario, storing the figures.
    Idempotent: a simulation that is not queued is left alone."""
    if not _claim(simulation_id):
        status = Simulation.objects.filter(pk=simulation_id).values_list("status", flat=True)
        return f"simulation {simulation_id}: nothing to do ({status.first() or 'no such run'})"
    simulation = Simulation.objects.get(pk=simulation_id)
    started = time.perf_counter()
    try:
        results = _simulate(simulation)
    except Exception as error:
        log.exception("simulation %s failed", simulation_id)
        simulation.refresh_from_db()
        simulation.status = Simulation.Status.FAILED
        simulation.failure = str(error)[:4000] or error.__class__.__name__
        simulation.finished_at = timezone.now()
        simulation._change_reason = "Simulation failed"
        _save_finished(simulation)
        return f"simulation {simulation_id}: failed ({error})"
    simulation.refresh_from_db()
    simulation.results = results
    simulation.status = Simulation.Status.COMPLETED
    simulation.progress = 100
    simulation.step = ""
    simulation.finished_at = timezone.now()
    simulation.seconds = round(time.perf_counter() - started, 3)
    simulation._change_reason = "Simulation completed"
    _save_finished(simulation)
    return f"simulation {simulation_id}: completed"


def _simulate(simulation: Simulation) -> dict:
    n_levels = len(simulation.dose_levels)
    configs = parse_designs(
        simulation.designs,
        n_levels=n_levels,
        window_days=study_window_days(simulation.study),
    )
    # One true MTD per scenario for every design compared: the dose closest to the target of
    # the first design that has one (0.3 for the 3+3 alone), the lower one on a tie.
    target = next((c.target for c in configs if c.target is not None), 0.3)
    scenarios = [
        Scenario(s.true_dlt, name=s.name, mtd=s.true_mtd(target))
        for s in parse_scenarios(simulation.scenarios, n_levels=n_levels)
    ]
    chunks = math.ceil(simulation.n_trials / simulation.chunk)
    total = chunks * len(configs) * len(scenarios)
    done_chunks = 0
    cells = []
    for i, config in enumerate(configs):
        timing = TIMING if config.time_to_event or config.name == "crm" else None
        for j, scenario in enumerate(scenarios):
            records = None
            for _done, batch in simulate_in_chunks(
                config.settings,
                scenario,
                n_trials=simulation.n_trials,
                seed=simulation.seed,
                chunk=simulation.chunk,
                timing=timing,
            ):
                done_chunks += 1
                records = batch
                _progress(
                    simulation.pk,
                    100 * done_chunks / total,
                    f"{config.label}, {scenario.name}: {_done:,} of {simulation.n_trials:,} trials",
                )
            assert records is not None
            oc = summarise(config.settings, scenario, records, seed=simulation.seed)
            cell = {"design": i, "scenario": j, "oc": oc_as_data(oc)}
            if isinstance(config.settings, ThreePlusThreeSettings):
                exact = exact_oc(config.settings, scenario.true_dlt)
                cell["exact"] = {
                    "selection": [100 * p for p in exact.selection],
                    "no_mtd": 100 * exact.no_mtd,
                    "patients": list(exact.patients),
                    "dlts": list(exact.dlts),
                    "total_patients": math.fsum(exact.patients),
                    "total_dlts": math.fsum(exact.dlts),
                }
            cells.append(cell)
    return {
        "cells": cells,
        "version": DESIGNS_VERSION,
        # The calendar-time designs' accrual and DLT onsets, kept with the figures they gave.
        "timing": {
            "accrual_per_window": TIMING.accrual_per_window,
            "accrual": str(TIMING.accrual),
            "dlt_onset": list(TIMING.dlt_onset),
            "window_days": study_window_days(simulation.study),
        },
    }


def _estimate(value) -> list[float] | None:
    return None if value is None else [round(value.value, 6), round(value.se, 6)]


def oc_as_data(oc: OperatingCharacteristics) -> dict:
    """Every figure as [value, Monte-Carlo SE] (percentages in %, means per trial)."""
    return {
        "design": oc.design,
        "n_trials": oc.n_trials,
        "seed": oc.seed,
        "true_mtd": oc.true_mtd + 1 if oc.true_mtd >= 0 else None,
        "selection": [_estimate(e) for e in oc.selection],
        "no_mtd": _estimate(oc.no_mtd),
        "early_stop": _estimate(oc.early_stop),
        "pcs": _estimate(oc.pcs),
        "above_mtd": _estimate(oc.above_mtd),
        "patients": [_estimate(e) for e in oc.patients],
        "dlts": [_estimate(e) for e in oc.dlts],
        "total_patients": _estimate(oc.total_patients),
        "total_dlts": _estimate(oc.total_dlts),
        "patients_above_mtd": _estimate(oc.patients_above_mtd),
        "overdose60": _estimate(oc.overdose60),
        "overdose80": _estimate(oc.overdose80),
        "duration": _estimate(oc.duration),
        "version": oc.version,
    }
