"""Celery tasks: thin, take ids, idempotent (running one twice gives one result)."""

import logging
from zoneinfo import ZoneInfo

from celery import shared_task
from django.db.models import Q
from django.utils import timezone

from trial.models import EscalationTrack

from .models import TrackEvaluationState
from .notifications import send_notifications
from .services import evaluate_track

log = logging.getLogger(__name__)


@shared_task(
    name="escalation.evaluate_track", acks_late=True, max_retries=3, default_retry_delay=10
)
def evaluate_track_task(track_id: int) -> dict:
    result = evaluate_track(track_id)
    return {"track": track_id, "created": result.created}


@shared_task(name="escalation.send_notifications", acks_late=True)
def send_notifications_task(ids: list[int]) -> int:
    return send_notifications(ids)


def tracks_owing_evaluation(today=None) -> list[int]:
    """Tracks whose evaluation is owed: data changed since the last evaluation (its task may
    have been lost), a DLT window closes by today, or an active track never evaluated."""
    # Compared with the date where it is already latest (UTC+14): a track is never evaluated
    # late; tracks of sites further west may be evaluated a few extra times, which is harmless.
    today = today or timezone.now().astimezone(ZoneInfo("Etc/GMT-14")).date()
    live = EscalationTrack.objects.exclude(status=EscalationTrack.Status.PLANNED)
    owed = set(
        TrackEvaluationState.objects.filter(
            Q(requested_at__isnull=False) | Q(next_evaluation_on__lte=today)
        ).values_list("track_id", flat=True)
    )
    never = set(live.filter(evaluation_state__isnull=True).values_list("pk", flat=True))
    return sorted(owed | never)


@shared_task(name="escalation.sweep", acks_late=True)
def sweep() -> dict:
    """Periodic (Celery beat): evaluate every track that is owed an evaluation, send unsent
    notifications. Evaluates in this task rather than enqueueing, so a lossy queue cannot lose it."""
    evaluated, failed = [], []
    for track_id in tracks_owing_evaluation():
        try:
            evaluate_track(track_id)
            evaluated.append(track_id)
        except Exception as error:
            log.exception("sweep: evaluation of track %s failed", track_id)
            TrackEvaluationState.objects.filter(track_id=track_id).update(
                last_error=str(error)[:2000]
            )
            failed.append(track_id)
    sent = send_notifications()
    return {"evaluated": evaluated, "failed": failed, "notifications_sent": sent}
