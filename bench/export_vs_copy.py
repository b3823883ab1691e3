"""Benchmark: the streamed AE export (`GET /api/v1/adverse-events/export/?format=csv`) against
PostgreSQL's own `COPY (...) TO STDOUT WITH CSV` of the same rows, in the same run, at growing
sizes, with the export's peak memory.

Builds a study in a PostgreSQL database of its own (the DATABASE_URL name + "_bench_export",
created and dropped here) with the study-at-scale generator (operations/generator.py: bulk
inserts with history rows), then for each size (default 10,000, 100,000 and 1,000,000 AEs):

  - the export, in a fresh child process (so its peak resident memory is its own), through
    Django's test client as the study's sponsor, reading the streamed body to the end: rows/s and
    the peak RSS over the RSS before the request;
  - COPY of the export's own SQL (the same query, columns and rows: `str(queryset.query)`
    rendered by psycopg2), read to the end through `copy_expert`: rows/s.

Run by hand (not a timed test; ~10 minutes with 1,000,000 rows on a small machine):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/edc .venv/bin/python bench/export_vs_copy.py \
        [--sizes 10000,100000,1000000] [--runs 3]
"""

import argparse
import io
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PROTOCOL = "BENCH-EXPORT"


class Sink:
    def __init__(self):
        self.bytes = 0
        self.lines = 0

    def write(self, data):
        self.bytes += len(data)
        self.lines += data.count(b"\n") if isinstance(data, bytes) else data.count("\n")
        return len(data)


def setup(database_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.pop("REDIS_URL", None)
    os.environ["LOG_LEVEL"] = "WARNING"
    import django

    django.setup()


def sponsor_and_queryset():
    from accounts.models import Membership, User
    from accounts.roles import Role
    from accounts.scoping import restrict
    from api.views.clinical import AdverseEventViewSet
    from trial.models import Study

    study = Study.objects.get(protocol_number=PROTOCOL)
    sponsor, made = User.objects.get_or_create(username="bench-export-sponsor")
    if made:
        Membership.objects.create(user=sponsor, study=study, role=Role.SPONSOR)
    view = AdverseEventViewSet()
    queryset = restrict(view.base_queryset(), sponsor).order_by("id")
    return sponsor, queryset


def child_export() -> None:
    """In a fresh process: one export through the test client; prints rows, seconds, peak KiB."""
    from django.conf import settings
    from django.test import Client

    settings.ALLOWED_HOSTS = ["testserver"]
    sponsor, _ = sponsor_and_queryset()
    client = Client()
    client.force_login(sponsor)
    client.get("/api/v1/adverse-events/?page_size=1")  # warm: imports, connection, session
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    sink = Sink()
    started = time.perf_counter()
    response = client.get("/api/v1/adverse-events/export/?format=csv")
    assert response.status_code == 200, response.status_code
    for chunk in response.streaming_content:
        sink.write(chunk)
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"RESULT {sink.lines - 1} {seconds:.4f} {before} {peak} {sink.bytes}")


def copy_rows() -> tuple[int, float, int]:
    from django.db import connection

    from api.serializers import AdverseEventSerializer

    _, queryset = sponsor_and_queryset()
    # The export's exact query: the annotated values_list it iterates.
    from api.streaming import PROPERTY_EXPRESSIONS

    plan = AdverseEventSerializer()._plan()
    extra = {
        f"stream_{a}": PROPERTY_EXPRESSIONS[a]() for _, a, _ in plan if a in PROPERTY_EXPRESSIONS
    }
    selected = [f"stream_{a}" if a in PROPERTY_EXPRESSIONS else a for _, a, _ in plan]
    sql, params = queryset.annotate(**extra).values_list(*selected).query.sql_with_params()
    with connection.cursor() as cursor:
        raw = cursor.cursor if hasattr(cursor, "cursor") else cursor
        inline = raw.mogrify(sql, params).decode()
        sink = Sink()
        started = time.perf_counter()
        raw.copy_expert(f"COPY ({inline}) TO STDOUT WITH CSV HEADER", sink)
        seconds = time.perf_counter() - started
    return sink.lines - 1, seconds, sink.bytes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        setup(args.child)
        child_export()
        return
    base = os.environ.get("DATABASE_URL", "")
    if not base.startswith("postgres"):
        sys.exit("Set DATABASE_URL to a PostgreSQL server: the benchmark creates its own database.")
    parts = urlsplit(base)
    bench_db = f"{parts.path.lstrip('/') or 'edc'}_bench_export"
    bench_url = urlunsplit(parts._replace(path=f"/{bench_db}"))
    import psycopg2

    admin = psycopg2.connect(urlunsplit(parts._replace(path="/postgres")))
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{bench_db}"')
        cursor.execute(f'CREATE DATABASE "{bench_db}"')
    setup(bench_url)
    try:
        run(bench_url, [int(s) for s in args.sizes.split(",")], args.runs)
    finally:
        from django.db import connections

        connections.close_all()
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{bench_db}"')


def run(bench_url: str, sizes: list[int], runs: int) -> None:
    from django.core.management import call_command
    from django.db import connection

    from accounts.models import User
    from operations.generator import add_adverse_events
    from safety.models import AdverseEvent
    from subjects.models import Subject

    call_command("migrate", verbosity=0)
    call_command(
        "generate_study", PROTOCOL, "--subjects", "600", "--doses", "20000", "--aes", "0",
        stdout=io.StringIO(),
    )  # fmt: skip
    subjects = list(Subject.all_objects.filter(study__protocol_number=PROTOCOL).order_by("pk"))
    user = User.objects.get(username="generator")
    print(f"Machine: {platform.node()}, {os.cpu_count()} CPUs ({platform.processor() or platform.machine()}), "
          f"Python {platform.python_version()}, PostgreSQL {connection.pg_version // 10000}."
          f"{connection.pg_version % 10000}; shared with other work (figures are indicative)")  # fmt: skip
    print(f"{'AEs':>9} {'export rows/s':>14} {'COPY rows/s':>12} {'ratio':>6} "
          f"{'export MB':>10} {'peak RSS +MiB':>14}")  # fmt: skip
    for size in sizes:
        have = AdverseEvent.all_objects.filter(subject__study__protocol_number=PROTOCOL).count()
        if size > have:
            started = time.perf_counter()
            add_adverse_events(subjects, user, size - have, seed=size)
            with connection.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE safety_adverseevent")
            print(f"  (generated {size - have} AEs in {time.perf_counter() - started:.0f} s)")
        exports, copies, peaks = [], [], []
        for _ in range(runs):
            out = subprocess.run(
                [sys.executable, __file__, "--child", bench_url],
                capture_output=True, text=True, cwd=ROOT, check=True,
            ).stdout  # fmt: skip
            line = next(x for x in out.splitlines() if x.startswith("RESULT "))
            rows, seconds, before, peak, nbytes = line.split()[1:]
            assert int(rows) == size, (rows, size)
            exports.append(int(rows) / float(seconds))
            peaks.append((int(peak) - int(before)) / 1024)
            copied, copy_seconds, _ = copy_rows()
            assert copied == size, (copied, size)
            copies.append(copied / copy_seconds)
        export_rate, copy_rate = statistics.median(exports), statistics.median(copies)
        print(
            f"{size:9d} {export_rate:14,.0f} {copy_rate:12,.0f} {export_rate / copy_rate:6.0%} "
            f"{int(nbytes) / 1e6:10.1f} {max(peaks):14.1f}"
        )


if __name__ == "__main__":
    main()
