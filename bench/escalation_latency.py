"""Benchmark: time from the commit of a DLT adverse event to the stored recommendation.

A real Celery worker (a separate process) consumes the Redis broker; the benchmark records N DLT
adverse events through the service layer, one at a time, and measures for each the time from the
commit to the moment the track's new recommendation is in the database. Between two DLTs it
voids the previous one (which restores the earlier recommendation) and waits for that too.

Run by hand (not a timed test):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/edc REDIS_URL=redis://127.0.0.1:6379/3 \
        .venv/bin/python bench/escalation_latency.py [N]

It creates and drops its own database (the DATABASE_URL name + "_bench_escalation").
"""

import os
import statistics
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main(n: int) -> None:
    base = os.environ.get("DATABASE_URL", "")
    if not base.startswith("postgres") or not os.environ.get("REDIS_URL"):
        sys.exit("Set DATABASE_URL (PostgreSQL) and REDIS_URL: the benchmark needs a real broker.")
    parts = urlsplit(base)
    bench_db = f"{parts.path.lstrip('/') or 'edc'}_bench_escalation"
    os.environ["DATABASE_URL"] = urlunsplit(parts._replace(path=f"/{bench_db}"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    queue = f"edc-bench-{uuid.uuid4().hex[:8]}"
    os.environ["CELERY_TASK_DEFAULT_QUEUE"] = queue
    os.environ["EVALUATION_QUEUE"] = queue  # evaluations have a queue of their own otherwise

    import psycopg2

    admin = psycopg2.connect(urlunsplit(parts._replace(path="/postgres")))
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{bench_db}"')
        cursor.execute(f'CREATE DATABASE "{bench_db}"')

    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool=solo",
            "-Q",
            queue,
            "--loglevel=WARNING",
        ],
        cwd=ROOT,
        env=os.environ.copy(),
    )
    try:
        run(n, queue)
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        from django.db import connections

        connections.close_all()
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{bench_db}"')


def run(n: int, queue: str) -> None:
    from config.celery import app

    app.conf.task_default_queue = queue
    from accounts.models import Membership, User
    from accounts.roles import Role
    from core.dates import site_today
    from escalation.models import Recommendation
    from safety.ctcae import import_terms, read_starter_set
    from safety.models import CtcaeTerm
    from safety.services import adverse_event_report, adverse_event_void
    from tests.factories import dosed, enrolled_subject
    from trial.models import Cohort, Site
    from trial.services import load_study

    study = load_study("mil97").study
    import_terms(read_starter_set())
    site = Site.objects.create(
        study=study,
        number="101",
        name="Bench site",
        country="US",
        timezone="America/New_York",
        principal_investigator="PI",
        is_active=True,
        activated_on=site_today("America/New_York") - timedelta(days=400),
    )
    user = User.objects.create_user("bench", password="bench-password-1")
    Membership.objects.create(user=user, study=study, role=Role.COORDINATOR).sites.set([site])
    cohort = Cohort.objects.get(study=study, number=1)
    subject = enrolled_subject(user, site, "B-1", cohort, days_ago=40)
    dose = dosed(user, subject, on=site_today(site.timezone) - timedelta(days=35))
    track = cohort.track
    term = CtcaeTerm.objects.get(term="Neutrophil count decreased")

    def current_pk():
        return (
            Recommendation.objects.filter(track=track, status__in=Recommendation.CURRENT)
            .values_list("pk", flat=True)
            .first()
        )

    def wait_for_change(previous, started):
        while time.perf_counter() - started < 30:
            pk = current_pk()
            if pk is not None and pk != previous:
                return time.perf_counter() - started
            time.sleep(0.002)
        raise RuntimeError("no new recommendation within 30 s: is the worker running?")

    # Let the worker settle on the first evaluation.
    first_started = time.perf_counter()
    while current_pk() is None and time.perf_counter() - first_started < 30:
        time.sleep(0.01)
    latencies = []
    for i in range(n):
        previous = current_pk()
        event = adverse_event_report(
            by=user,
            subject=subject,
            ctcae_term=term,
            verbatim_term=f"ANC low {i}",
            grade=3,
            onset_date=dose.administered_on + timedelta(days=3),
            relationship="probable",
            action_taken="delayed",
            outcome="not_recovered",
            dlt_investigator=True,
        )
        started = time.perf_counter()  # the service has returned: its transaction committed
        latencies.append(wait_for_change(previous, started))
        previous = current_pk()
        adverse_event_void(by=user, adverse_event=event, reason="benchmark", expected_version=1)
        wait_for_change(previous, time.perf_counter())

    ms = sorted(x * 1000 for x in latencies)
    p50 = statistics.median(ms)
    p95 = ms[max(0, round(0.95 * len(ms)) - 1)]
    print(f"DLT adverse events recorded: {n}")
    print(
        f"commit -> stored recommendation: p50 {p50:.1f} ms, p95 {p95:.1f} ms, max {ms[-1]:.1f} ms"
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 50)
