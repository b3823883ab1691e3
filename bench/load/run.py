"""Load benchmark: mixed traffic on three studies with a real worker, and the time from a
committed change to its stored evaluation on a loaded and on a quiet track.

Builds three studies with the study-at-scale generator in a PostgreSQL database of its own (the
DATABASE_URL name + "_bench_load", created and dropped here), starts the production shape with
docker-compose.yml's own commands (gunicorn, a Celery worker, the sweeper) on queues of its own in
the REDIS_URL database, and runs locust (bench/load/locustfile.py, headless) with:

  - WRITERS integrations reporting AEs through the API, all on study 1's Q3W track (the loaded
    track) and study 2's, and coordinators reporting AEs on the pages and reading casebooks;
  - medical monitors on the dashboards, sponsors pulling AE pages of 1,000 across the studies.

Meanwhile this process probes, one after the other, the loaded track and a quiet track (study 3,
which nothing else writes to): it reports one AE through the service and measures the time until
an evaluation that read it is stored (the track's evaluation state shows an evaluation finished
after the commit and no debt older than the change). It prints locust's page and API p50/p95 and
error counts, and the probe's p50/p95 per track.

Run by hand (a few minutes):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/edc REDIS_URL=redis://127.0.0.1:6379/8 \
        .venv/bin/python bench/load/run.py [--writers 20] [--seconds 60]
"""

import argparse
import csv
import io
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import yaml

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
BIN = Path(sys.executable).parent


def compose_command(service: str, port: int) -> list[str]:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    words = [
        w.replace("${EVALUATION_SWEEP_SECONDS:-60}", "30").replace(
            "0.0.0.0:8000", f"127.0.0.1:{port}"
        )
        for w in compose["services"][service]["command"]
    ]
    return [
        sys.executable if words[0] == "python" else shutil.which(words[0], path=str(BIN)),
        *words[1:],
    ]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--writers", type=int, default=20)
    parser.add_argument("--coordinators", type=int, default=4)
    parser.add_argument("--monitors", type=int, default=3)
    parser.add_argument("--pullers", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--subjects", type=int, default=100, help="per study")
    parser.add_argument("--aes", type=int, default=5000, help="per study, before the load")
    args = parser.parse_args()
    base = os.environ.get("DATABASE_URL", "")
    if not base.startswith("postgres") or not os.environ.get("REDIS_URL"):
        sys.exit("Set DATABASE_URL (PostgreSQL) and REDIS_URL: the benchmark runs a real worker.")
    parts = urlsplit(base)
    bench_db = f"{parts.path.lstrip('/') or 'edc'}_bench_load"
    os.environ["DATABASE_URL"] = urlunsplit(parts._replace(path=f"/{bench_db}"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    queue = uuid.uuid4().hex[:8]
    os.environ["EVALUATION_QUEUE"] = f"evaluations-{queue}"
    os.environ["CELERY_TASK_DEFAULT_QUEUE"] = f"celery-{queue}"
    os.environ["LOG_LEVEL"] = "WARNING"
    import psycopg2

    admin = psycopg2.connect(urlunsplit(parts._replace(path="/postgres")))
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{bench_db}"')
        cursor.execute(f'CREATE DATABASE "{bench_db}"')
    import django

    django.setup()
    processes = []
    try:
        run(args, processes)
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        from django.db import connections

        connections.close_all()
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{bench_db}"')


def setup_studies(args) -> dict:
    from django.core.management import call_command
    from django.test import Client

    from accounts.models import Membership, User
    from accounts.roles import Role
    from api.tokens import token_create
    from dosing.models import DoseAdministration
    from safety.models import CtcaeTerm
    from subjects.models import Subject
    from trial.models import EscalationTrack, Site, Study

    call_command("migrate", verbosity=0)
    studies, writes = [], []
    for k in (1, 2, 3):
        call_command(
            "generate_study", f"LOAD-{k}", "--subjects", str(args.subjects), "--doses",
            str(args.subjects * 10), "--aes", str(args.aes), "--seed", str(k), stdout=io.StringIO(),
        )  # fmt: skip
        study = Study.objects.get(protocol_number=f"LOAD-{k}")
        sites = list(Site.objects.filter(study=study))
        users = {}
        for persona, role in (
            ("coordinator", Role.COORDINATOR),
            ("monitor", Role.MEDICAL_MONITOR),
            ("sponsor", Role.SPONSOR),
        ):
            user = User.objects.create_user(f"load{k}-{persona}", password="load-password-1")
            membership = Membership.objects.create(user=user, study=study, role=role)
            if role == Role.COORDINATOR:
                membership.sites.set(sites)
            users[persona] = user
        track = EscalationTrack.objects.get(study=study, code="Q3W-ESC")
        first_doses = {
            d["subject_id"]: d["administered_on"]
            for d in DoseAdministration.objects.filter(subject__study=study, cycle=1).values(
                "subject_id", "administered_on"
            )
        }
        subjects = [
            {"id": s.pk, "first_dose": first_doses[s.pk].isoformat()}
            for s in Subject.objects.filter(study=study, cohort__track=track).order_by("pk")
            if s.pk in first_doses
        ]

        def session(user):
            client = Client()
            client.force_login(user)
            return client.cookies["sessionid"].value

        entry = {
            "protocol": study.protocol_number,
            "track": track.pk,
            "subjects": subjects,
            "token": token_create(by=users["coordinator"], name="load").secret,
            "sponsor_token": token_create(by=users["sponsor"], name="load").secret,
            "coordinator_session": session(users["coordinator"]),
            "monitor_session": session(users["monitor"]),
            "coordinator_id": users["coordinator"].pk,
        }
        studies.append(entry)
        if k in (1, 2):
            writes.append(entry)
    term = CtcaeTerm.objects.get(term="Fatigue")
    return {
        "studies": studies,
        "writes": writes,
        "meddra_code": term.meddra_code,
        "ctcae_term_id": term.pk,
        "writers": args.writers,
        "coordinators": args.coordinators,
        "monitors": args.monitors,
        "pullers": args.pullers,
    }


def probe(entry, stop: threading.Event, results: list) -> None:
    """Report an AE on the study's track through the service and time its evaluation."""

    from accounts.models import User
    from safety.models import CtcaeTerm
    from subjects.models import Subject

    user = User.objects.get(pk=entry["coordinator_id"])
    term = CtcaeTerm.objects.get(term="Nausea")
    subject_row = entry["subjects"][0]
    subject = Subject.objects.get(pk=subject_row["id"])
    from datetime import date

    onset = date.fromisoformat(subject_row["first_dose"]) + timedelta(days=2)
    try:
        _probe_loop(entry, stop, results, user, term, subject, onset)
    finally:
        from django.db import connection

        connection.close()


def _probe_loop(entry, stop, results, user, term, subject, onset) -> None:
    from django.db import close_old_connections
    from django.utils import timezone

    from escalation.models import TrackEvaluationState
    from safety.services import adverse_event_report

    while not stop.is_set():
        close_old_connections()
        adverse_event_report(
            by=user, subject=subject, ctcae_term=term, verbatim_term="nausea (probe)", grade=1,
            onset_date=onset, relationship="unlikely", action_taken="none", outcome="not_recovered",
        )  # fmt: skip
        committed_at, started = timezone.now(), time.perf_counter()
        mine = TrackEvaluationState.objects.get(track_id=entry["track"]).requested_at
        while time.perf_counter() - started < 60:
            state = TrackEvaluationState.objects.get(track_id=entry["track"])
            if (
                state.evaluated_at
                and state.evaluated_at > committed_at
                and (state.requested_at is None or (mine and state.requested_at > mine))
            ):
                results.append(time.perf_counter() - started)
                break
            time.sleep(0.01)
        else:
            results.append(float("inf"))
        stop.wait(0.5)


def percentile(values, q):
    ordered = sorted(values)
    return ordered[max(0, round(q * len(ordered)) - 1)] if ordered else float("nan")


def run(args, processes) -> None:
    from django.db import connection

    config = setup_studies(args)
    config_file = Path(f"/tmp/edc-load-{uuid.uuid4().hex[:8]}.json")
    config_file.write_text(json.dumps(config))
    port = free_port()
    env = {
        **os.environ,
        "SECRET_KEY": "load-benchmark-" + uuid.uuid4().hex,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "0",
        "SECURE_COOKIES": "0",
        "SECURE_HSTS_SECONDS": "0",
        "NUM_PROXIES": "0",
        "DB_CONN_MAX_AGE": "60",
        "API_RATE_LIMIT": "100000/minute",
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        "LOG_LEVEL": "WARNING",
    }
    logs = Path(f"/tmp/edc-load-logs-{uuid.uuid4().hex[:6]}")
    logs.mkdir()
    for service in ("web", "worker", "sweeper"):
        processes.append(
            subprocess.Popen(
                compose_command(service, port),
                cwd=ROOT,
                env=env,
                stdout=(logs / f"{service}.log").open("w"),
                stderr=subprocess.STDOUT,
            )  # fmt: skip
        )
    import http.client

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/health/", headers={"Host": "127.0.0.1"})
            if conn.getresponse().status == 200:
                break
        except OSError:
            time.sleep(0.5)
    print(
        f"Machine: {platform.node()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"PostgreSQL {connection.pg_version // 10000}.{connection.pg_version % 10000}; shared with "
        f"other work (figures are indicative). 3 studies x {args.subjects} subjects, {args.aes} "
        f"AEs each; gunicorn, worker and sweeper as in docker-compose.yml; {args.seconds} s"
    )
    stop = threading.Event()
    loaded, quiet = [], []
    threads = [
        threading.Thread(target=probe, args=(config["studies"][0], stop, loaded)),
        threading.Thread(target=probe, args=(config["studies"][2], stop, quiet)),
    ]
    users = args.writers + args.coordinators + args.monitors + args.pullers
    prefix = logs / "locust"
    locust = subprocess.Popen(
        [shutil.which("locust", path=str(BIN)), "-f", str(ROOT / "bench/load/locustfile.py"),
         "--headless", "-u", str(users), "-r", str(max(1, users // 5)), "-t", f"{args.seconds}s",
         "--host", f"http://127.0.0.1:{port}", "--csv", str(prefix), "--only-summary"],
        cwd=ROOT, env={**os.environ, "LOAD_CONFIG": str(config_file)},
        stdout=(logs / "locust.log").open("w"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    time.sleep(min(10, args.seconds / 6))  # the users ramp up first
    for thread in threads:
        thread.start()
    locust.wait()
    stop.set()
    for thread in threads:
        thread.join(timeout=90)
    print(f"{'request':32} {'count':>7} {'errors':>7} {'p50 ms':>8} {'p95 ms':>8}")
    with open(f"{prefix}_stats.csv") as stats:
        for row in csv.DictReader(stats):
            print(
                f"{row['Name'][:32]:32} {row['Request Count']:>7} {row['Failure Count']:>7} "
                f"{row['50%']:>8} {row['95%']:>8}"
            )
    for label, values in (("loaded track (study 1)", loaded), ("quiet track (study 3)", quiet)):
        ms = [v * 1000 for v in values]
        print(
            f"commit -> evaluation stored, {label}: n={len(ms)} p50 {statistics.median(ms):.0f} ms, "
            f"p95 {percentile(ms, 0.95):.0f} ms, max {max(ms):.0f} ms"
        )
    print(f"(logs in {logs})")


if __name__ == "__main__":
    main()
