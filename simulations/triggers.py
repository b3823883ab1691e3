"""What a simulation request sets in motion: the run, enqueued once the request commits
(`services.simulation_requested`, sent on commit and connected in apps.py).

Import order: `triggers` → `tasks` → `services`; the services never import the tasks.
"""

from escalation.tasks import enqueue

from .models import Simulation
from .services import simulation_requested
from .tasks import run_simulation_task


def on_simulation_requested(sender, *, simulation_id: int, **kwargs) -> None:
    enqueue(run_simulation_task, [simulation_id], what=f"simulation {simulation_id}")


def connect() -> None:
    simulation_requested.connect(
        on_simulation_requested, sender=Simulation, dispatch_uid="simulations.run"
    )
