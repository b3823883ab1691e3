"""Celery tasks: thin, take ids, idempotent (a second delivery of a run does nothing)."""

from celery import shared_task

from .services import run_simulation


# 10,000 trials of six designs under ten scenarios take minutes (README, benchmark).
@shared_task(
    name="simulations.run_simulation", acks_late=True, time_limit=3600, soft_time_limit=3500
)
def run_simulation_task(simulation_id: int) -> str:
    return run_simulation(simulation_id)
