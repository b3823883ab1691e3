"""Messages to the medical monitors: a new DLT, an SAE (docs/safety.md §4: an SAE must reach
the monitor within 24 hours), a new recommendation. Each is recorded per recipient before it is
sent, so it can be shown who was told what and when, and a message that failed to send is sent
again by the sweep. This module records and sends; it enqueues nothing (the callers queue the
sends after commit: `escalation/triggers.py`, `escalation/tasks.py`)."""

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import User
from accounts.roles import Role
from dosing.models import DoseAdministration
from safety.models import AdverseEvent

from .models import Notification, Recommendation

log = logging.getLogger(__name__)


def monitors_of(study_id: int) -> list[User]:
    return list(
        User.objects.filter(
            is_active=True,
            memberships__study_id=study_id,
            memberships__role=Role.MEDICAL_MONITOR,
            memberships__is_active=True,
        ).distinct()
    )


def _title(text: str) -> str:
    """A title that fits its column (the e-mail subject); the body carries the whole text."""
    limit = Notification._meta.get_field("title").max_length
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "\u2026"


def _record(*, kind, key, study_id, subject_id, title, body) -> list[int]:
    created = []
    now = timezone.now()
    title = _title(title)
    for recipient in monitors_of(study_id):
        try:
            with transaction.atomic():
                notification = Notification.objects.create(
                    kind=kind,
                    key=key,
                    recipient=recipient,
                    study_id=study_id,
                    subject_id=subject_id,
                    title=title,
                    body=body,
                    created_at=now,
                )
        except IntegrityError:
            continue  # already told: each event is announced once per monitor
        created.append(notification.pk)
    return created


def notify_adverse_event(adverse_event_id: int) -> list[int]:
    event = (
        AdverseEvent.objects.select_related("subject__site", "ctcae_term")
        .filter(pk=adverse_event_id)
        .first()
    )
    if event is None:  # voided
        return []
    subject = event.subject
    created = []
    description = (
        f"{subject} (site {subject.site.number}): {event.ctcae_term.term} grade {event.grade}, "
        f"onset {event.onset_date}, {event.get_relationship_display().lower()}"
    )
    if event.serious:
        created += _record(
            kind=Notification.Kind.SAE,
            key=f"ae:{event.pk}",
            study_id=subject.study_id,
            subject_id=subject.pk,
            title=f"SAE reported: {subject} {event.ctcae_term.term} grade {event.grade}",
            body=f"Serious adverse event: {description}. Criteria: {', '.join(event.seriousness_criteria())}.",
        )
    if event.is_dlt:
        created += _record(
            kind=Notification.Kind.NEW_DLT,
            key=f"ae:{event.pk}",
            study_id=subject.study_id,
            subject_id=subject.pk,
            title=f"DLT reported: {subject} {event.ctcae_term.term} grade {event.grade}",
            body=f"Dose-limiting toxicity ({'adjudicated' if event.dlt_adjudicated else 'investigator'}): {description}.",
        )
    return created


def notify_dose_deviation(dose_id: int) -> list[int]:
    """An overdose recorded as given (confirmed by the site, a protocol deviation): every
    medical monitor is told once (docs/dosing.md §3)."""
    dose = (
        DoseAdministration.objects.select_related("subject__site")
        .filter(pk=dose_id, overdose_confirmed=True)
        .first()
    )
    if dose is None:  # voided, or not an overdose
        return []
    subject = dose.subject
    given = f"{dose.actual_dose_per_kg.normalize():f} {dose.dose_unit}"
    planned = f"{dose.planned_dose_per_kg.normalize():f} {dose.dose_unit}"
    return _record(
        kind=Notification.Kind.OVERDOSE,
        key=f"dose:{dose.pk}",
        study_id=subject.study_id,
        subject_id=subject.pk,
        title=f"Overdose recorded: {subject} C{dose.cycle}D{dose.day} {given} (planned {planned})",
        body=f"Overdose recorded as given, a protocol deviation: {subject} (site "
        f"{subject.site.number}), Cycle {dose.cycle} Day {dose.day} on {dose.administered_on}, "
        f"{given} instead of the planned {planned} ({dose.body_weight_kg} kg, total "
        f"{dose.total_dose_mg} mg). Reason given by the site: {dose.dose_change_reason}",
    )


def notify_recommendation(recommendation_id: int) -> list[int]:
    """Tell the monitors a recommendation awaits the committee. Called by the evaluation task
    inside the evaluation's transaction, so the recommendation and its notifications are stored
    together (`tasks.evaluate_and_notify`). A
    recommendation that asks nothing of the committee (waiting, a replacement, a step already
    carried out) is not announced."""
    recommendation = Recommendation.objects.select_related("track__study").get(pk=recommendation_id)
    if not recommendation.needs_decision:
        return []
    track = recommendation.track
    verb = "awaits the committee"
    return _record(
        kind=Notification.Kind.RECOMMENDATION,
        key=f"recommendation:{recommendation.pk}",
        study_id=track.study_id,
        subject_id=None,
        title=f"{track.study} {track.code}: {recommendation.text}",
        body=f"New recommendation on {track.name} ({verb}): {recommendation.text}\nRule: {recommendation.rule}",
    )


def send_notifications(ids: list[int] | None = None) -> int:
    """Send recorded, unsent notifications (all of them when `ids` is None). Returns how many."""
    # Recorded notifications are also shown in the app; e-mail goes to those with an address.
    pending = (
        Notification.objects.filter(sent_at__isnull=True)
        .exclude(recipient__email="")
        .select_related("recipient")
    )
    if ids is not None:
        pending = pending.filter(pk__in=ids)
    sent = 0
    for notification in pending:
        with transaction.atomic():
            # Lock and re-check so two senders do not both send it.
            locked = (
                Notification.objects.select_for_update()
                .filter(pk=notification.pk, sent_at__isnull=True)
                .first()
            )
            if locked is None:
                continue
            try:
                send_mail(
                    subject=locked.title,
                    message=locked.body,
                    from_email=settings.DEFAULT_FROM_EMAIL,
                    recipient_list=[notification.recipient.email],
                    fail_silently=False,
                )
            except Exception as error:  # keep it unsent; the sweep tries again
                locked.error = str(error)[:2000]
                locked.save(update_fields=["error"])
                continue
            locked.sent_at = timezone.now()
            locked.error = ""
            locked.save(update_fields=["sent_at", "error"])
            sent += 1
    return sent
