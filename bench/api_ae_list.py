"""Benchmark: requests per second of the adverse-event list API, beside a bare DRF endpoint.

Builds a study with 100,000 adverse events in a PostgreSQL database of its own (the
DATABASE_URL name + "_bench_api", created and dropped here), starts the app under gunicorn on a
loopback port (the production image's command: sync workers), and, in the same run against the
same server with the same sponsor token, measures:

  - GET /api/v1/adverse-events/?page_size=100, each client walking the cursor pages (`next`)
    through the whole study, as a sponsor's incremental pull does;
  - GET /bench/bare/: a trivial DRF APIView returning a constant list of 100 items, with the
    same authentication, permissions, throttling and middleware (bench/api_urls.py; it exists
    only in the benchmark's own urlconf).

The two are measured in alternating rounds (bare, list, bare, list, ...), so that anything
else running on the machine weighs on both, and the figures are printed with latency
percentiles and the machine they ran on.

Seeding uses bulk_create, not the services: 100,000 audited service calls would take most of
an hour and the benchmark measures reads. The rows satisfy every database constraint; they have
no audit history rows, which the list does not read.

Run by hand (not a timed test; a few minutes):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/edc .venv/bin/python bench/api_ae_list.py \
        [--events 100000] [--seconds 10] [--rounds 3] [--clients 4] [--workers 3] \
        [--conn-max-age 0]

REDIS_URL, if set, is passed to the server (rate-limit counters in Redis, as in production).
"""

import argparse
import http.client
import json
import multiprocessing
import os
import platform
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

LIST_PATH = "/api/v1/adverse-events/?page_size=100"
BARE_PATH = "/bench/bare/"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--subjects", type=int, default=400)
    parser.add_argument("--seconds", type=float, default=10.0, help="per measurement round")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of each, alternating")
    parser.add_argument("--clients", type=int, default=4, help="concurrent client processes")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn sync workers")
    parser.add_argument(
        "--conn-max-age",
        type=int,
        default=0,
        help="persistent database connections in seconds (0, the default, as DATABASE_URL)",
    )
    args = parser.parse_args()

    base = os.environ.get("DATABASE_URL", "")
    if not base.startswith("postgres"):
        sys.exit("Set DATABASE_URL to a PostgreSQL server: the benchmark creates its own database.")
    parts = urlsplit(base)
    bench_db = f"{parts.path.lstrip('/') or 'edc'}_bench_api"
    bench_url = urlunsplit(parts._replace(path=f"/{bench_db}"))
    if args.conn_max_age:
        bench_url += f"?conn_max_age={args.conn_max_age}"
    os.environ["DATABASE_URL"] = bench_url
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.api_settings"

    import psycopg2

    admin = psycopg2.connect(urlunsplit(parts._replace(path="/postgres")))
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{bench_db}"')
        cursor.execute(f'CREATE DATABASE "{bench_db}"')
    server = None
    try:
        import django

        django.setup()
        started = time.perf_counter()
        token, expected_total = seed(args.events, args.subjects)
        print(f"Seeded {expected_total:,} adverse events in {time.perf_counter() - started:.0f} s")
        server, port = start_server(args.workers)
        report(port, token, args, expected_total)
    finally:
        if server is not None:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
        from django.db import connections

        connections.close_all()
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{bench_db}" WITH (FORCE)')
        admin.close()


def seed(n_events: int, n_subjects: int) -> tuple[str, int]:
    from django.core.management import call_command
    from django.db import connection

    from accounts.models import Membership, User
    from accounts.roles import Role
    from api.tokens import token_create
    from safety.ctcae import import_terms, read_starter_set
    from safety.models import AdverseEvent, CtcaeTerm
    from subjects.models import Subject
    from trial.models import Cohort, Site
    from trial.services import load_study

    call_command("migrate", verbosity=0)
    study = load_study("mil97").study
    import_terms(read_starter_set())
    cohort = Cohort.objects.get(study=study, number=1)
    start = date.today() - timedelta(days=900)
    sites = [
        Site.objects.create(
            study=study,
            number=str(101 + n),
            name=f"Site {n + 1}",
            country="US",
            timezone="America/New_York",
            principal_investigator="PI",
            is_active=True,
            activated_on=start,
        )
        for n in range(4)
    ]
    sponsor = User.objects.create_user(username="bench-sponsor", password=None)
    Membership.objects.create(user=sponsor, study=study, role=Role.SPONSOR)
    subjects = Subject.objects.bulk_create(
        Subject(
            study=study,
            site=sites[n % len(sites)],
            screening_number=f"S-{n:05d}",
            subject_number=f"{sites[n % len(sites)].number}-{n:04d}",
            sex="F" if n % 2 else "M",
            year_of_birth=1950 + n % 30,
            screening_date=start,
            consent_date=start,
            consent_version="v1.0",
            eligibility_outcome="eligible",
            enrollment_date=start + timedelta(days=1),
            cohort=cohort,
            status="enrolled",
            created_by=sponsor,
        )
        for n in range(n_subjects)
    )
    terms = [t for t in CtcaeTerm.objects.all() if 1 in t.grades and 2 in t.grades]
    rnd = random.Random(97)
    relationships = ["not_related", "unlikely", "possible", "probable", "definite"]
    batch = []
    for n in range(n_events):
        term = terms[n % len(terms)]
        batch.append(
            AdverseEvent(
                subject=subjects[rnd.randrange(len(subjects))],
                ctcae_term=term,
                verbatim_term=f"{term.term.lower()} #{n}",
                grade=rnd.choice([1, 2]),
                onset_date=start + timedelta(days=2 + n % 800),
                relationship=rnd.choice(relationships),
                action_taken="none",
                outcome="not_recovered",
                created_by=sponsor,
            )
        )
        if len(batch) == 5000:
            AdverseEvent.objects.bulk_create(batch)
            batch = []
    if batch:
        AdverseEvent.objects.bulk_create(batch)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return token_create(by=sponsor, name="bench").secret, AdverseEvent.objects.count()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(workers: int):
    port = free_port()
    gunicorn = shutil.which("gunicorn", path=str(Path(sys.executable).parent)) or "gunicorn"
    server = subprocess.Popen(
        [
            gunicorn,
            "config.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=os.environ.copy(),
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            status, _ = get(port, "/health/", {})
            if status == 200:
                return server, port
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("gunicorn did not start")


def get(port: int, path: str, headers: dict) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def client(port, token, kind, seconds, seed, queue) -> None:
    """One client process: requests back to back for `seconds`, walking cursor pages."""
    headers = {"Authorization": f"Bearer {token}", "Host": "127.0.0.1"}
    rnd = random.Random(seed)
    latencies, errors, records = [], 0, 0
    path = LIST_PATH if kind == "list" else BARE_PATH
    if kind == "list":  # start each client somewhere else in the study
        for _ in range(rnd.randrange(20)):
            status, body = get(port, path, headers)
            path = json.loads(body)["next"] or LIST_PATH
            path = path[path.index("/api/") :]
    end = time.perf_counter() + seconds
    while (now := time.perf_counter()) < end:
        status, body = get(port, path, headers)
        latencies.append(time.perf_counter() - now)
        if status != 200:
            errors += 1
            continue
        if kind == "list":
            page = json.loads(body)
            records += len(page["results"])
            following = page["next"]
            path = following[following.index("/api/") :] if following else LIST_PATH
    queue.put((latencies, errors, records))


def measure(port, token, kind, seconds, clients) -> dict:
    queue = multiprocessing.Queue()
    processes = [
        multiprocessing.Process(target=client, args=(port, token, kind, seconds, n, queue))
        for n in range(clients)
    ]
    for process in processes:
        process.start()
    results = [queue.get() for _ in processes]
    for process in processes:
        process.join()
    latencies = sorted(t for r in results for t in r[0])
    return {
        "requests": len(latencies),
        "errors": sum(r[1] for r in results),
        "records": sum(r[2] for r in results),
        "rps": len(latencies) / seconds,
        "p50": statistics.median(latencies) * 1000,
        "p95": latencies[int(len(latencies) * 0.95) - 1] * 1000,
    }


def report(port, token, args, total) -> None:
    from django.conf import settings
    from django.db import connection

    headers = {"Authorization": f"Bearer {token}", "Host": "127.0.0.1"}
    status, body = get(port, LIST_PATH, headers)
    assert status == 200, body[:500]
    first = json.loads(body)
    assert len(first["results"]) == 100, first
    status, _ = get(port, BARE_PATH, headers)
    assert status == 200
    # Warm up every worker (imports, first connection).
    measure(port, token, "bare", 2, args.clients)
    measure(port, token, "list", 2, args.clients)
    rounds = {"bare": [], "list": []}
    for _ in range(args.rounds):
        for kind in ("bare", "list"):
            rounds[kind].append(measure(port, token, kind, args.seconds, args.clients))

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg_version = cursor.fetchone()[0]
    memory = subprocess.run(["free", "-h"], capture_output=True, text=True).stdout.splitlines()
    print()
    print(f"Machine: {platform.platform()}, nproc={os.cpu_count()}")
    for line in memory[:2]:
        print(f"  {line}")
    print(f"Python {platform.python_version()}, PostgreSQL {pg_version}")
    print(
        f"Server: gunicorn, {args.workers} sync workers, DEBUG={settings.DEBUG}, "
        f"CONN_MAX_AGE={settings.DATABASES['default'].get('CONN_MAX_AGE', 0)}, "
        f"throttle counters in {'Redis' if settings.REDIS_URL else 'process memory'}"
    )
    print(
        f"Load: {args.clients} client processes, back to back, "
        f"{args.seconds:.0f} s per round, {args.rounds} rounds each, alternating"
    )
    print(f"Data: {total:,} adverse events, sponsor token (whole study)")
    print()
    print(f"{'endpoint':44} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'errors':>7}")
    for kind, label in (
        ("bare", f"GET {BARE_PATH} (bare DRF, constant list)"),
        ("list", f"GET {LIST_PATH}"),
    ):
        for n, result in enumerate(rounds[kind], 1):
            print(
                f"{label + f' #{n}':44} {result['rps']:8.1f} {result['p50']:8.1f} "
                f"{result['p95']:8.1f} {result['errors']:7d}"
            )
    bare = statistics.median(r["rps"] for r in rounds["bare"])
    listing = statistics.median(r["rps"] for r in rounds["list"])
    ratios = [lr["rps"] / br["rps"] for br, lr in zip(rounds["bare"], rounds["list"], strict=True)]
    walked = sum(r["records"] for r in rounds["list"])
    print()
    print(
        f"AE list (median of rounds): {listing:.1f} req/s ({listing * 100:,.0f} AEs/s); "
        f"bare endpoint {bare:.1f} req/s; list/bare per adjacent pair of rounds: "
        f"{', '.join(f'{r:.0%}' for r in ratios)}; {walked:,} AEs read while measuring"
    )


if __name__ == "__main__":
    main()
