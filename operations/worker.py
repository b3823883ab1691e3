"""Celery hooks: the worker's heartbeat, and the request id carried from the request that
queued a task into the task's log lines (docs/operations.md §3, §4)."""

import logging
import threading

from celery.signals import before_task_publish, task_postrun, task_prerun, worker_ready
from django.conf import settings
from django.db import connection

from .requests import request_id

log = logging.getLogger(__name__)


@before_task_publish.connect
def _carry_request_id(headers=None, **kwargs):
    rid = request_id.get()
    if rid and headers is not None:
        headers["request_id"] = rid


@task_prerun.connect
def _take_request_id(task=None, **kwargs):
    rid = getattr(task.request, "request_id", None) if task is not None else None
    task._request_id_token = request_id.set(rid or "")


@task_postrun.connect
def _drop_request_id(task=None, **kwargs):
    token = getattr(task, "_request_id_token", None)
    if token is not None:
        try:
            request_id.reset(token)
        except ValueError:  # set in another context (eager task inside a request)
            request_id.set("")
        task._request_id_token = None


def beat_once(name: str) -> None:
    from .models import Heartbeat

    try:
        Heartbeat.beat(name)
    except Exception as error:  # the database is down: health shows the age growing
        log.warning("worker heartbeat not recorded (%s)", error)


def _beat_forever(name: str, stop: threading.Event) -> None:
    while True:
        try:
            beat_once(name)
        finally:
            connection.close()  # this thread's own connection; a new one next time
        if stop.wait(settings.WORKER_HEARTBEAT_SECONDS):
            return


@worker_ready.connect
def _start_heartbeat(sender=None, **kwargs):
    hostname = getattr(sender, "hostname", None) or "worker"
    stop = threading.Event()
    thread = threading.Thread(
        target=_beat_forever, args=(f"worker:{hostname}", stop), name="heartbeat", daemon=True
    )
    thread.start()
