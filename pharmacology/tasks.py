"""Celery tasks: thin, take ids, idempotent (a second delivery finds the NCA up to date)."""

from celery import shared_task

from .services import nca_compute_subject


@shared_task(name="pharmacology.compute_nca", acks_late=True, time_limit=300, soft_time_limit=270)
def compute_nca_task(subject_id: int) -> int:
    return nca_compute_subject(subject_id)
