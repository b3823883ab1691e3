"""Celery tasks: thin, take ids, idempotent (a second delivery of a job does nothing)."""

from celery import shared_task

from .services import run_export


# An export of a large study takes longer than the default task limit (config/settings.py);
# README "Sponsor data standards" gives the measured time for 100 subjects.
@shared_task(
    name="standards.run_export",
    acks_late=True,
    time_limit=1800,
    soft_time_limit=1700,
)
def run_export_task(export_id: int) -> str:
    return run_export(export_id)
