"""Benchmark: the dashboards, a casebook and the API lists at 1,000 and at 100,000 adverse events
(600 subjects, 20,000 doses), with their SQL query counts.

Builds the study with the study-at-scale generator (`manage.py generate_study`: bulk inserts with
history rows) in a PostgreSQL database of its own (the DATABASE_URL name + "_bench_scale",
created and dropped here) with 1,000 AEs, measures every page, adds AEs up to 100,000 (same
subjects and doses) and measures again. Each page is requested through Django's test client by
the role that uses it (medical monitor, coordinator of every site, sponsor for the API); the
median server time of several runs is printed with the query count.

Run by hand (not a timed test; ~10 minutes on a small machine):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/edc .venv/bin/python bench/study_at_scale.py \
        [--small 1000] [--large 100000] [--runs 5]
"""

import argparse
import io
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PROTOCOL = "BENCH-SCALE"


def pages(subject_id: int, busy_id: int) -> list[tuple[str, str, str, dict]]:
    """(label, persona, url, query) for every page measured. `subject_id` gets none of the added
    events (its records stay the same while the study grows); `busy_id` gets its share."""
    return [
        ("Monitoring: escalation overview", "monitor", "/monitoring/", {}),
        ("Monitoring: DLT window timeline", "monitor", "/monitoring/timeline/", {}),
        ("Monitoring: AE table (TEAEs)", "monitor", "/monitoring/adverse-events/", {}),
        ("Monitoring: SAE and DLT listings", "monitor", "/monitoring/listings/", {}),
        ("Monitoring: committee", "monitor", "/monitoring/committee/", {}),
        ("Casebook of one subject", "coordinator", f"/subjects/{subject_id}/", {}),
        ("Casebook of a subject given AEs", "coordinator", f"/subjects/{busy_id}/", {}),
        ("API: AE list, 100 per page", "sponsor", "/api/v1/adverse-events/", {"page_size": 100}),
        ("API: AE list, 1000 per page", "sponsor", "/api/v1/adverse-events/", {"page_size": 1000}),
        ("API: AE list, filtered by subject", "sponsor", "/api/v1/adverse-events/",
         {"subject": subject_id}),
        ("API: subjects, 100 per page", "sponsor", "/api/v1/subjects/", {"page_size": 100}),
    ]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--small", type=int, default=1000)
    parser.add_argument("--large", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    base = os.environ.get("DATABASE_URL", "")
    if not base.startswith("postgres"):
        sys.exit("Set DATABASE_URL to a PostgreSQL server: the benchmark creates its own database.")
    parts = urlsplit(base)
    bench_db = f"{parts.path.lstrip('/') or 'edc'}_bench_scale"
    os.environ["DATABASE_URL"] = urlunsplit(parts._replace(path=f"/{bench_db}"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.pop("REDIS_URL", None)
    os.environ["LOG_LEVEL"] = "WARNING"
    import psycopg2

    admin = psycopg2.connect(urlunsplit(parts._replace(path="/postgres")))
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{bench_db}"')
        cursor.execute(f'CREATE DATABASE "{bench_db}"')
    import django

    django.setup()
    try:
        run(args.small, args.large, args.runs)
    finally:
        from django.db import connections

        connections.close_all()
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{bench_db}"')


def measure(clients, subject_id, busy_id, runs) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    results = {}
    for label, persona, url, params in pages(subject_id, busy_id):
        client = clients[persona]
        response = client.get(url, params)  # warm-up
        assert response.status_code == 200, (label, response.status_code)
        times = []
        for _ in range(runs):
            with CaptureQueriesContext(connection) as queries:
                begin = time.perf_counter()
                response = client.get(url, params)
                times.append((time.perf_counter() - begin) * 1000)
            assert response.status_code == 200, (label, response.status_code)
        results[label] = (statistics.median(times), len(queries), len(response.content))
    return results


def per_subject(*subject_ids: int) -> list[int]:
    from safety.models import AdverseEvent

    return [AdverseEvent.all_objects.filter(subject_id=pk).count() for pk in subject_ids]


def run(small: int, large: int, runs: int) -> None:
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from accounts.models import Membership, User
    from accounts.roles import Role
    from operations.generator import add_adverse_events
    from safety.models import AdverseEvent
    from subjects.models import Subject
    from trial.models import Site, Study

    settings.ALLOWED_HOSTS = ["testserver"]
    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    call_command(
        "generate_study", PROTOCOL, "--subjects", "600", "--doses", "20000", "--aes", str(small),
        stdout=io.StringIO(),
    )  # fmt: skip
    built = time.perf_counter() - started
    study = Study.objects.get(protocol_number=PROTOCOL)
    clients = {}
    for persona, role in (
        ("monitor", Role.MEDICAL_MONITOR),
        ("coordinator", Role.COORDINATOR),
        ("sponsor", Role.SPONSOR),
    ):
        user = User.objects.create_user(f"bench-{persona}", password="bench-password-1")
        membership = Membership.objects.create(user=user, study=study, role=role)
        if role == Role.COORDINATOR:
            membership.sites.set(Site.objects.filter(study=study))
        clients[persona] = Client()
        clients[persona].force_login(user)
    subjects = list(Subject.all_objects.filter(study=study).order_by("pk"))
    # The casebook and the per-subject API list are measured on a subject that gets none of the
    # added events (a casebook shows one subject's records: the question is whether it slows
    # down as the study grows), and on one that gets its share (the page grows with its rows).
    quiet = subjects[len(subjects) // 2]
    subject_id, busy_id = quiet.pk, subjects[len(subjects) // 2 + 1].pk
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(
        f"Machine: {platform.node()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"PostgreSQL {connection.pg_version // 10000}.{connection.pg_version % 10000}; shared "
        f"with other work (figures are indicative). Study: 600 subjects, 20,000 doses, "
        f"{small} AEs (generated in {built:.0f} s)"
    )
    first = measure(clients, subject_id, busy_id, runs)
    small_counts = per_subject(subject_id, busy_id)
    started = time.perf_counter()
    others = [s for s in subjects if s.pk != subject_id]
    add_adverse_events(others, User.objects.get(username="generator"), large - small, seed=large)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    total = AdverseEvent.all_objects.filter(subject__study=study).count()
    print(f"Added AEs up to {total} in {time.perf_counter() - started:.0f} s")
    second = measure(clients, subject_id, busy_id, runs)
    large_counts = per_subject(subject_id, busy_id)
    print(
        f"AEs of the casebooks' subjects: one subject {small_counts[0]} / {large_counts[0]}, "
        f"the subject given AEs {small_counts[1]} / {large_counts[1]}"
    )
    print(
        f"{'page':36} {'ms @' + str(small):>10} {'ms @' + str(total):>11} {'ratio':>6} "
        f"{'queries':>9} {'KB @small':>10} {'KB @large':>10}"
    )
    for label, (ms_small, q_small, b_small) in first.items():
        ms_large, q_large, b_large = second[label]
        print(
            f"{label:36} {ms_small:10.1f} {ms_large:11.1f} {ms_large / ms_small:6.2f} "
            f"{q_small:>4}/{q_large:<4} {b_small / 1000:10.0f} {b_large / 1000:10.0f}"
        )


if __name__ == "__main__":
    main()
