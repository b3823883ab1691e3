"""What a change of clinical data sets in motion: the debt of an evaluation, the monitors' alerts,
and the enqueue of both once the transaction commits.

The clinical services announce a change through `core.events` inside their transaction
(`on_clinical_data_changed`, subscribed in `escalation/apps.py`). In that transaction this module
records that the subject's track (and the tracks that depend on it) owe an evaluation, and records
the SAE, DLT or overdose alerts; after commit it enqueues the evaluation and the sends. The
database keeps what is owed, so a lost enqueue is made good by the sweep (docs/escalation.md §8).

Evaluations are coalesced per track (docs/operations.md §2): a track has at most one evaluation
waiting in the queue. The task takes its marker off before it reads the data, so a change
committed after that queues the next one, and a burst of changes on one track costs one
evaluation of its latest state, not one per change.

Import order (docs/architecture.md): `committee` → `triggers` → `tasks` → `services` /
`notifications` → `facts` → `rules`. Nothing below imports this module.
"""

import contextlib
import logging

from django.conf import settings
from django.core.cache import caches
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from core.events import ClinicalDataChanged
from subjects.models import Subject
from trial.models import EscalationTrack

from .models import TrackEvaluationState
from .notifications import notify_adverse_event, notify_dose_deviation
from .tasks import enqueue, enqueue_sends, evaluate_and_announce, queued_marker

log = logging.getLogger(__name__)


def on_clinical_data_changed(event: ClinicalDataChanged) -> None:
    """Subscribed to the clinical services' events (inside their transaction)."""
    subject = Subject.all_objects.select_related("cohort").get(pk=event.subject_id)
    if subject.cohort_id is not None:
        request_evaluation(subject.cohort.track_id, dose_level_id=subject.cohort.dose_level_id)
    if event.record == "adverse_event":
        announce(notify_adverse_event(event.record_id))
    elif event.record == "dose":
        announce(notify_dose_deviation(event.record_id))


def announce(notification_ids: list[int]) -> None:
    """Send recorded notifications once the transaction commits (the sweep sends any whose
    enqueue is lost)."""
    if notification_ids:
        transaction.on_commit(lambda: enqueue_sends(notification_ids), robust=True)


def dependent_tracks(track_id: int, *, dose_level_id: int | None = None) -> list[int]:
    """Tracks whose recommendation depends on this one's data: the tracks bound to what it
    clears (Q2W after Q3W), and, for a subject at `dose_level_id`, the expansion tracks that count
    the escalation subjects at that dose and regimen."""
    track = (
        EscalationTrack.objects.filter(pk=track_id)
        .values("study_id", "regimen_id", "phase")
        .first()
    )
    if track is None:
        return []
    live = EscalationTrack.objects.exclude(status=EscalationTrack.Status.PLANNED)
    condition = Q(reference_track_id=track_id)
    if dose_level_id is not None and track["phase"] == EscalationTrack.Phase.ESCALATION:
        condition |= Q(
            study_id=track["study_id"],
            regimen_id=track["regimen_id"],
            phase=EscalationTrack.Phase.EXPANSION,
            lowest_dose_level_id=dose_level_id,
            study__expansion_counts_escalation_subjects=True,
        )
    return list(live.filter(condition).exclude(pk=track_id).values_list("pk", flat=True))


def request_evaluation(track_id: int, *, dose_level_id: int | None = None) -> None:
    """Record that the track (and the tracks that depend on it) owe an evaluation, and enqueue
    them once the transaction commits."""
    now = timezone.now()
    ids = sorted({track_id, *dependent_tracks(track_id, dose_level_id=dose_level_id)})
    # One row at a time, in track order (the lock order, escalation/services.py). Always write
    # the row: the lock this takes (until commit) makes an evaluation that starts meanwhile wait
    # for this data, and requested_at later than its start keeps the debt open.
    for pk in ids:
        if not TrackEvaluationState.objects.filter(track_id=pk).update(requested_at=now):
            TrackEvaluationState.objects.get_or_create(track_id=pk, defaults={"requested_at": now})
    for pk in ids:
        transaction.on_commit(lambda pk=pk: enqueue_evaluation(pk), robust=True)


def enqueue_evaluation(track_id: int) -> bool:
    """Queue the track's evaluation unless one is already waiting in the queue (coalescing,
    module docstring). Returns whether a task was queued."""
    markers = caches[settings.EVALUATION_MARKER_CACHE]
    key = queued_marker(track_id)
    try:
        if not markers.add(key, 1, timeout=settings.EVALUATION_MARKER_SECONDS):
            return False  # one is waiting: it will read this change
    except Exception as error:  # the marker store is the broker's Redis: queue it anyway
        log.warning("evaluation marker of track %s unavailable (%s)", track_id, error)
    queued = enqueue(
        evaluate_and_announce,
        [track_id],
        what=f"the evaluation of track {track_id}; the sweep will make it",
        queue=settings.EVALUATION_QUEUE,
    )
    if not queued:
        with contextlib.suppress(Exception):  # else the marker expires by itself
            markers.delete(key)
    return queued
