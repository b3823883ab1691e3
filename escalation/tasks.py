"""Celery tasks: thin, take ids, idempotent (running one twice gives one result).

The broker only speeds things up (docs/escalation.md §8): what must be evaluated and sent is
recorded in the database first, and the sweep (Celery beat, or `manage.py sweep --every`, which
needs only the database) does whatever a lost or failed task did not.
"""

import logging
from zoneinfo import ZoneInfo

from celery import shared_task
from django.conf import settings
from django.core.cache import caches
from django.db import InterfaceError, OperationalError, transaction
from django.db.models import Q
from django.utils import timezone

from core.records import retry_on_conflict
from operations.models import Heartbeat
from trial.models import EscalationTrack

from .models import TrackEvaluationState
from .notifications import notify_recommendation, send_notifications
from .services import EvaluationResult, evaluate_track

log = logging.getLogger(__name__)

# A lost database connection, a deadlock the retries in the service could not resolve, a
# database restarting: run the task again later, with backoff (10 s, 20 s, 40 s... at most
# 5 minutes), rather than acknowledge it failed and wait for the sweep.
DATABASE_ERRORS = (OperationalError, InterfaceError)
RETRY = {
    "autoretry_for": DATABASE_ERRORS,
    "retry_backoff": 10,
    "retry_backoff_max": 300,
    "retry_jitter": True,
    "max_retries": 8,
}


def enqueue(task, args: list, *, what: str, queue: str | None = None) -> bool:
    """Queue a task after commit without making the user wait on a broker that is down: one
    attempt (no publish retry, a short connect timeout: settings.CELERY_BROKER_TRANSPORT_OPTIONS).
    The work is recorded in the database already; the sweep does it if this fails. Returns
    whether the task was queued."""
    try:
        task.apply_async(args=args, retry=False, **({"queue": queue} if queue else {}))
    except Exception as error:  # broker unreachable: the database keeps what is owed
        log.warning("could not enqueue %s (%s)", what, error)
        return False
    return True


def enqueue_sends(ids: list[int]) -> None:
    enqueue(send_notifications_task, [ids], what=f"notifications {ids}; the sweep sends them")


def queued_marker(track_id: int) -> str:
    """The key that says an evaluation of the track waits in the queue (escalation/triggers.py).
    It names the queue: deployments, test runs and benchmarks that share one Redis database with
    queues of their own (and overlapping track ids) never take another's marker for theirs
    (docs/operations.md §2)."""
    return f"evaluation-queued:{settings.EVALUATION_QUEUE}:{track_id}"


def today_anywhere():
    """The latest date on Earth (UTC+14): a track is never evaluated late. Tracks of sites
    further west may be evaluated a few extra times, which is harmless."""
    return timezone.now().astimezone(ZoneInfo("Etc/GMT-14")).date()


def evaluation_owed(track_id: int, today=None) -> bool:
    """Whether the track still owes an evaluation: data changed since the last one, a DLT
    window closes by today, or it was never evaluated."""
    state = TrackEvaluationState.objects.filter(track_id=track_id).first()
    if state is None or state.evaluated_at is None or state.requested_at is not None:
        return True
    today = today or today_anywhere()
    return state.next_evaluation_on is not None and state.next_evaluation_on <= today


@retry_on_conflict
def evaluate_and_notify(track_id: int) -> EvaluationResult:
    """Evaluate the track and, when that stores a recommendation awaiting the committee, record
    its notifications in the same transaction: a crash after the commit cannot lose them. The
    e-mail is queued after commit (or sent by the sweep). A step that asks nothing of the
    committee (wait, replace, carried out) is not announced."""
    with transaction.atomic():
        result = evaluate_track(track_id)
        if result.created and result.recommendation is not None:
            ids = notify_recommendation(result.recommendation.pk)
            if ids:
                transaction.on_commit(lambda: enqueue_sends(ids), robust=True)
    return result


@shared_task(name="escalation.evaluate_and_announce", acks_late=True, **RETRY)
def evaluate_and_announce(track_id: int) -> dict:
    """Evaluate a track, then send the monitors what the new recommendation asks of them."""
    # Off the queue: a change committed from now on queues the next evaluation (coalescing,
    # escalation/triggers.py). Taken off before the data is read, so no change is missed.
    try:
        caches[settings.EVALUATION_MARKER_CACHE].delete(queued_marker(track_id))
    except Exception as error:  # it expires by itself
        log.warning("evaluation marker of track %s unavailable (%s)", track_id, error)
    # One evaluation covers every change committed before it started: a task whose debt a
    # later evaluation already paid has nothing to do.
    if not evaluation_owed(track_id):
        return {"track": track_id, "created": False, "skipped": True}
    result = evaluate_and_notify(track_id)
    return {
        "track": track_id,
        "created": result.created,
        "skipped": False,
        **({"refused": result.refused} if result.refused else {}),
    }


@shared_task(name="escalation.send_notifications", acks_late=True, **RETRY)
def send_notifications_task(ids: list[int]) -> int:
    return send_notifications(ids)


def tracks_owing_evaluation(today=None) -> list[int]:
    """Tracks whose evaluation is owed: data changed since the last evaluation (its task may
    have been lost), a DLT window closes by today, or an active track never evaluated."""
    today = today or today_anywhere()
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
    """Evaluate every track that is owed an evaluation, send unsent notifications. Run by Celery
    beat and by `manage.py sweep --every` (which needs only the database). Evaluates in this
    task rather than enqueueing, so a lossy queue cannot lose it."""
    evaluated, failed = [], []
    for track_id in tracks_owing_evaluation():
        try:
            evaluate_and_notify(track_id)
            evaluated.append(track_id)
        except Exception as error:
            log.exception("sweep: evaluation of track %s failed", track_id)
            TrackEvaluationState.objects.filter(track_id=track_id).update(
                last_error=str(error)[:2000]
            )
            failed.append(track_id)
    sent = send_notifications()
    Heartbeat.beat("sweep")  # its age is on /health/ (docs/operations.md §3)
    return {"evaluated": evaluated, "failed": failed, "notifications_sent": sent}
