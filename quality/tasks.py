"""The daily e-mail digest of queries (docs/quality.md §2): thin and idempotent.

Each person gets at most one digest per study and day: the DigestSent row is written in the same
transaction as the sending, under a unique constraint, so running the task twice (a retry, two
beat schedulers) sends nothing twice.
"""

from datetime import date

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.roles import Capability
from accounts.scoping import active_memberships, restrict, role_carries

from .models import DigestSent, Query


def _digest_queries(user, study_id: int, role: str):
    """Open queries for a site role to answer; answered ones for a query manager to review."""
    if role_carries(role, Capability.ANSWER_QUERIES):
        status = Query.Status.OPEN
    elif role_carries(role, Capability.MANAGE_QUERIES):
        status = Query.Status.ANSWERED
    else:
        return []
    return list(
        restrict(Query.objects.filter(study_id=study_id, status=status), user)
        .select_related("subject", "site")
        .order_by("opened_at", "pk")
    )


def _body(user, queries, day: date) -> str:
    lines = [
        f"Queries awaiting you on {day:%Y-%m-%d} ({len(queries)}):",
        "",
    ]
    for query in queries:
        where = f"{query.form_label}" + (f", {query.field}" if query.field else "")
        days = (day - query.opened_at.date()).days
        lines.append(
            f"- Subject {query.subject} (site {query.site.number}), {where}: {query.text} "
            f"[{query.get_status_display().lower()}, {days} days open]"
        )
    lines += ["", "Answer or review them on the subject's data quality page."]
    return "\n".join(lines)


@shared_task(name="quality.query_digest")
def send_query_digests(day: str | None = None) -> int:
    """Send today's digests not sent yet; returns how many were sent."""
    today = date.fromisoformat(day) if day else timezone.now().date()
    sent = 0
    for membership in active_memberships():
        user = membership.user
        queries = _digest_queries(user, membership.study_id, membership.role)
        if not queries or not user.email:
            continue
        try:
            with transaction.atomic():
                DigestSent.objects.create(
                    study_id=membership.study_id,
                    recipient=user,
                    day=today,
                    query_count=len(queries),
                    sent_at=timezone.now(),
                )
                send_mail(
                    f"{membership.study.protocol_number}: {len(queries)} quer"
                    f"{'y' if len(queries) == 1 else 'ies'} awaiting you",
                    _body(user, queries, today),
                    settings.DEFAULT_FROM_EMAIL,
                    [user.email],
                )
        except IntegrityError:
            continue  # already sent today
        sent += 1
    return sent
