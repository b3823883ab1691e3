"""Benchmark: server time of the medical monitor's pages on a study of 60 subjects and 1,000 AEs.

Builds the study in a PostgreSQL database of its own (the DATABASE_URL name +
"_bench_monitoring", created and dropped here) with the bulk builder of the query-count tests,
then requests each page through Django's test client as a signed-in medical monitor and prints
the median server time over several runs, with the number of SQL queries.

Run by hand (not a timed test):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/edc .venv/bin/python bench/monitoring_pages.py [RUNS]
"""

import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PAGES = [
    ("Escalation overview", "monitoring:overview", {}),
    ("DLT window timeline", "monitoring:timeline", {}),
    ("AE table, all TEAEs", "monitoring:adverse_events", {}),
    ("AE table, related only", "monitoring:adverse_events", {"view": "related"}),
    ("AE table CSV", "monitoring:adverse_events", {"format": "csv", "table": "teae"}),
    ("SAE and DLT listings", "monitoring:listings", {}),
    ("Committee: pending and history", "monitoring:committee", {}),
]


def main(runs: int) -> None:
    base = os.environ.get("DATABASE_URL", "")
    if not base.startswith("postgres"):
        sys.exit("Set DATABASE_URL to a PostgreSQL server: the benchmark creates its own database.")
    parts = urlsplit(base)
    bench_db = f"{parts.path.lstrip('/') or 'edc'}_bench_monitoring"
    os.environ["DATABASE_URL"] = urlunsplit(parts._replace(path=f"/{bench_db}"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.pop("REDIS_URL", None)  # tasks in process: nothing here enqueues work anyway

    import psycopg2

    admin = psycopg2.connect(urlunsplit(parts._replace(path="/postgres")))
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{bench_db}"')
        cursor.execute(f'CREATE DATABASE "{bench_db}"')

    import django

    django.setup()
    from django.core.management import call_command

    try:
        call_command("migrate", verbosity=0)
        run(runs)
    finally:
        from django.db import connections

        connections.close_all()
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{bench_db}"')


def run(runs: int) -> None:
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from accounts.models import Membership, User
    from accounts.roles import Role
    from core.dates import site_today
    from safety.ctcae import import_terms, read_starter_set
    from tests.integration.monitoring import bulk
    from trial.models import Site
    from trial.services import load_study

    settings.ALLOWED_HOSTS = ["testserver"]
    study = load_study("mil97").study
    workbook = os.environ.get("CTCAE_WORKBOOK")
    if workbook:
        from safety.ctcae import read_workbook

        import_terms(read_workbook(workbook))
    else:
        import_terms(read_starter_set())
    sites = [
        Site.objects.create(
            study=study,
            number=number,
            name=f"Bench site {number}",
            country=country,
            timezone=tz,
            principal_investigator="PI",
            is_active=True,
            activated_on=site_today(tz) - timedelta(days=900),
        )
        for number, country, tz in (
            ("101", "US", "America/New_York"),
            ("102", "AU", "Australia/Sydney"),
        )
    ]
    coordinator = User.objects.create_user("bench_coordinator", password="bench-password-1")
    Membership.objects.create(user=coordinator, study=study, role=Role.COORDINATOR).sites.set(sites)
    monitor = User.objects.create_user(
        "bench_monitor", password="bench-password-1", first_name="Bench", last_name="Monitor"
    )
    Membership.objects.create(user=monitor, study=study, role=Role.MEDICAL_MONITOR)
    started = time.perf_counter()
    data = bulk.build(study, sites, coordinator, n_subjects=60, n_events=1000)
    built = time.perf_counter() - started
    print(
        f"Study: {len(data['subjects'])} subjects, {len(data['events'])} adverse events, "
        f"{len(data['cohorts'])} cohorts (built in {built:.1f} s); "
        f"PostgreSQL {connection.pg_version // 10000}.{connection.pg_version % 10000}"
    )
    client = Client()
    client.force_login(monitor)
    print(f"{'page':34} {'median ms':>10} {'min ms':>8} {'max ms':>8} {'queries':>8}  bytes")
    for label, name, params in PAGES:
        url = reverse(name)
        client.get(url, params)  # warm-up: templates compiled, connections open
        times = []
        for _ in range(runs):
            with CaptureQueriesContext(connection) as queries:
                begin = time.perf_counter()
                response = client.get(url, params)
                times.append((time.perf_counter() - begin) * 1000)
            assert response.status_code == 200, (label, response.status_code)
        print(
            f"{label:34} {statistics.median(times):10.1f} {min(times):8.1f} {max(times):8.1f} "
            f"{len(queries):8d}  {len(response.content)}"
        )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 15)
