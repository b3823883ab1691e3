"""`/health/`: what a load balancer and a monitoring system poll (docs/operations.md §3)."""

import logging

from django.conf import settings
from django.db import DatabaseError, connection
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache

from .models import Heartbeat

log = logging.getLogger(__name__)


def _broker_and_queues() -> tuple[dict, dict[str, int] | None]:
    if not settings.REDIS_URL:
        return {"status": "not used (tasks run in process)"}, None
    import redis

    try:
        client = redis.Redis.from_url(
            settings.REDIS_URL, socket_connect_timeout=0.5, socket_timeout=1
        )
        queues = [settings.EVALUATION_QUEUE, settings.CELERY_TASK_DEFAULT_QUEUE]
        with client.pipeline(transaction=False) as pipe:
            for name in queues:
                pipe.llen(name)
            lengths = pipe.execute()
    except redis.RedisError as error:
        log.warning("health: the broker is unreachable (%s)", error)
        return {"status": "unreachable"}, None
    return {"status": "ok"}, dict(zip(queues, lengths, strict=True))


def _age(beat_at, now) -> float:
    return round((now - beat_at).total_seconds(), 1)


@never_cache
def health(request):
    """JSON always: 200 "ok" or "degraded" (with the problems named), 503 "unavailable" when the
    database cannot be reached."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        beats = list(Heartbeat.objects.values_list("name", "beat_at"))
    except DatabaseError as error:
        log.warning("health: the database is unreachable (%s)", error)
        return JsonResponse(
            {"status": "unavailable", "database": {"status": "unreachable"}}, status=503
        )
    now = timezone.now()
    problems = []
    broker, queues = _broker_and_queues()
    if broker["status"] == "unreachable":
        problems.append("broker unreachable")

    stale_after = settings.HEALTH_WORKER_STALE_SECONDS
    seen = [
        {"name": name, "age_seconds": _age(at, now)}
        for name, at in sorted(beats)
        if name.startswith("worker:") and (now - at).total_seconds() < 24 * 3600
    ]
    if not settings.REDIS_URL:
        workers = {"status": "not used (tasks run in process)", "seen": seen}
    elif any(w["age_seconds"] <= stale_after for w in seen):
        workers = {"status": "ok", "seen": seen}
    else:
        workers = {"status": "missing", "seen": seen}
        problems.append(f"no worker heartbeat within {stale_after} s")

    interval = settings.EVALUATION_SWEEP_SECONDS
    sweep_at = next((at for name, at in beats if name == "sweep"), None)
    sweep = {"age_seconds": _age(sweep_at, now) if sweep_at else None, "interval_seconds": interval}
    if sweep_at is None:
        sweep["status"] = "never run"
        problems.append("the sweep has never run")
    elif (now - sweep_at).total_seconds() > 3 * interval:
        sweep["status"] = "late"
        problems.append(f"last sweep {sweep['age_seconds']} s ago (interval {interval} s)")
    else:
        sweep["status"] = "ok"

    if queues:
        for name, length in queues.items():
            if length > settings.HEALTH_QUEUE_WARNING:
                problems.append(f"queue {name} holds {length} tasks")
    return JsonResponse(
        {
            "status": "degraded" if problems else "ok",
            "database": {"status": "ok"},
            "broker": broker,
            "workers": workers,
            "sweep": sweep,
            "queues": queues,
            "problems": problems,
        }
    )
