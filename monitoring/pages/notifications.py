"""Notifications: who was told what, when; the page of recorded notifications and the
recent DLT and SAE alerts."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC

from django.urls import reverse

from accounts.scoping import restrict
from escalation.models import (
    Notification,
)
from safety.models import AdverseEvent
from safety.selectors import with_adjudicator
from subjects.models import Subject
from trial.models import Study

from .scope import (
    Scope,
    subject_url,
)


def delivery(notification: Notification) -> tuple[str, str]:
    """(state, words) of the e-mail of a recorded notification."""
    if notification.sent_at is not None:
        return "sent", f"e-mailed {notification.sent_at.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC"
    if not notification.recipient.email:
        return "no_email", "no e-mail address: shown in the app only"
    if notification.error:
        return "error", f"not sent: {notification.error}"
    return "queued", "not e-mailed yet (queued)"


def notification_target(notification: Notification) -> tuple[str, str]:
    """(url, label) of what the notification is about: the subject's casebook, or the
    recommendation's review page."""
    if notification.subject_id is not None:
        return subject_url(notification.subject_id), str(notification.subject.subject_number)
    pk = _keyed_id(notification.key, "recommendation")
    if pk is not None:
        return reverse("monitoring:review", args=[pk]), f"recommendation #{pk}"
    return "", ""


def _keyed_id(key: str, kind: str) -> int | None:
    """The id in a notification's key ("ae:12", "recommendation:3") when it names a `kind`."""
    prefix, _, pk = key.partition(":")
    return int(pk) if prefix == kind and pk.isdigit() else None


NOTIFICATION_KINDS = [("", "All")] + [(k.value, k.label) for k in Notification.Kind]


NOTIFICATIONS_PER_PAGE = 50


NOTIFICATION_HEADER = [
    "Recorded (UTC)",
    "Kind",
    "Title",
    "Recipient",
    "Recipient e-mail",
    "E-mailed at (UTC)",
    "Delivery",
    "Subject",
    "Site",
    "About",
    "Message",
]


@dataclass
class NotificationsPage:
    queryset: object  # every notification of the selection, newest first
    rows: list[Notification]  # this page's
    number: int
    pages: int
    total: int

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages

    def csv(self, table: str):
        if table != "notifications":
            raise KeyError(table)
        rows = []
        for n in self.queryset:
            state, words = delivery(n)
            rows.append(
                [
                    n.created_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S"),
                    n.get_kind_display(),
                    n.title,
                    n.recipient.get_full_name() or n.recipient.get_username(),
                    n.recipient.email,
                    n.sent_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S") if n.sent_at else "",
                    words,
                    n.subject.subject_number if n.subject_id else "",
                    n.subject.site.number if n.subject_id else "",
                    n.key,
                    n.body,
                ]
            )
        return NOTIFICATION_HEADER, rows


def _notifications(user, study: Study):
    return (
        restrict(Notification.objects.filter(study=study), user)
        .select_related("recipient", "subject__site")
        .order_by("-created_at", "-pk")
    )


def notifications(user, scope: Scope, *, kind: str = "", page: int = 1) -> NotificationsPage:
    """The study's recorded notifications, newest first, a page at a time: two queries (the
    count and the page) whatever their number."""
    rows = _notifications(user, scope.study)
    if kind:
        rows = rows.filter(kind=kind)
    if scope.site:
        rows = rows.filter(subject__site=scope.site)
    if scope.date_from:
        rows = rows.filter(created_at__date__gte=scope.date_from)
    if scope.date_to:
        rows = rows.filter(created_at__date__lte=scope.date_to)
    total = rows.count()
    pages = max(1, -(-total // NOTIFICATIONS_PER_PAGE))
    number = min(max(1, page), pages)
    start = (number - 1) * NOTIFICATIONS_PER_PAGE
    shown = list(rows[start : start + NOTIFICATIONS_PER_PAGE]) if total else []
    return NotificationsPage(queryset=rows, rows=shown, number=number, pages=pages, total=total)


@dataclass
class Alert:
    """A DLT or an SAE as announced to the monitors: one line per event, with each recipient."""

    kind: str
    kind_label: str
    title: str
    created_at: object
    subject: Subject | None
    event: AdverseEvent | None  # the adverse event as it stands now (None if voided since)
    told: list[Notification] = field(default_factory=list)

    @property
    def url(self) -> str:
        return subject_url(self.subject.pk) if self.subject else ""


RECENT_ALERTS = 8


def recent_alerts(user, study: Study, *, limit: int = RECENT_ALERTS) -> list[Alert]:
    """The latest DLT and SAE announcements of the study, with whom each reached and the
    adverse event's calls as they stand now. Two or three queries whatever the study's size."""
    rows = list(
        _notifications(user, study).filter(
            kind__in=[Notification.Kind.NEW_DLT, Notification.Kind.SAE]
        )[: limit * 12]
    )
    alerts: dict[tuple[str, str], Alert] = {}
    for n in rows:
        key = (n.kind, n.key)
        if key not in alerts:
            if len(alerts) == limit:
                continue
            alerts[key] = Alert(
                kind=n.kind,
                kind_label=n.get_kind_display(),
                title=n.title,
                created_at=n.created_at,
                subject=n.subject,
                event=None,
            )
        alerts[key].told.append(n)
    ids = {_keyed_id(key, "ae") for _, key in alerts} - {None}
    events = {
        e.pk: e
        for e in with_adjudicator(
            restrict(AdverseEvent.objects.filter(pk__in=ids), user)
        ).select_related("ctcae_term")
    }
    for (_, key), alert in alerts.items():
        alert.event = events.get(_keyed_id(key, "ae"))
        alert.told.sort(key=lambda n: (n.recipient.last_name, n.recipient.username))
    return list(alerts.values())
