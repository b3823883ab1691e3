"""Load benchmark: realistic mixed traffic on three studies with the production shape's workers,
and the time from a committed change to its stored evaluation on a loaded and on a quiet track.

Builds three studies with the study-at-scale generator in a PostgreSQL database of its own (the
DATABASE_URL name + "_bench_load", created and dropped here) and starts the production shape with
docker-compose.yml's own commands (`${VAR:-default}` filled as Compose does): gunicorn (3 sync
workers), the general Celery worker (2 processes, evaluations first, then e-mail and exports),
the evaluator (one Celery process that takes only the evaluation queue) and the sweeper, on
queues of their own in the REDIS_URL database. Then locust (bench/load/locustfile.py, headless)
runs, for --duration seconds:

  - WRITERS (20) integrations or coordinators entering AEs through the API on study 1's and
    study 2's Q3W escalation tracks (study 1's is the loaded track), one AE every 1-3 s each
    (locust `between(1, 3)`);
  - coordinators (4) reading casebooks and entering AEs on the pages, of studies 1 and 2 (a
    coordinator of study 3 only reads); medical monitors (3) on the dashboards; sponsors (3)
    pulling AE pages of 1,000 across the three studies.

Every user waits 1-3 s (mean 2 s) between two actions, as people and integrations do: a
coordinator transcribing an AE from the source takes a minute or more, an integration forwarding
a batch sends its records one after another, and a page is read before the next is opened. A
writer's 2 s is the fast end of that (20 writers enter about 10 AEs a second, 36,000 an hour,
the whole AE count of a large Phase 1 study every few minutes), so the load stays a stress test;
with no think time at all, the users only measure how long requests queue for a gunicorn worker
on the machine, not the product.

Meanwhile this process probes, one after the other, the loaded track and a quiet track (study 3's
Q3W track, which nothing else writes to): it reports one AE through the service, takes the commit
timestamp in the transaction's first on-commit hook, and waits for an evaluation that read it
(the track's evaluation state shows an evaluation stored after the commit and no debt as old as
the change). The figure is that evaluation's stored timestamp (`evaluated_at`, set as it stores
its result) minus the commit timestamp, both from this machine's clock.

It prints one summary table (requests per kind: count, errors, p50, p95; commit to evaluation
stored per track: n, timeouts, p50, p95), a machine line (nproc, load average at the start and
the end) and the acceptance check: commit to evaluation p95 under 1 s on the quiet track and
under 2 s on the loaded track, 0 errors.

Run by hand (about 2 minutes of setup, then --duration):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/edc REDIS_URL=redis://127.0.0.1:6379/8 \
        .venv/bin/python bench/load/run.py [--duration 120] [--writers 20]

`--short` is a smoke check (small studies, 30 s): it shows the benchmark works, not the figures.
"""

import argparse
import contextlib
import csv
import io
import json
import math
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import yaml

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
BIN = Path(sys.executable).parent
SERVICES = ("web", "worker", "evaluator", "sweeper")  # docker-compose.yml's app services
QUIET_P95_S, LOADED_P95_S = 1.0, 2.0  # the acceptance figures
PROBE_TIMEOUT_S = 60


def interpolate(word: str, env: dict) -> str:
    """`${NAME:-default}` filled from the environment, as Docker Compose does."""
    return re.sub(r"\$\{(\w+)(?::-([^}]*))?\}", lambda m: env.get(m[1]) or m[2] or "", word)


def compose_command(service: str, port: int, env: dict) -> list[str]:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    words = [
        interpolate(w, env).replace("0.0.0.0:8000", f"127.0.0.1:{port}")
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
    parser.add_argument("--duration", "--seconds", type=int, default=None,
                        help="seconds of load (default 120; 30 with --short)")  # fmt: skip
    parser.add_argument("--short", action="store_true",
                        help="smoke check: 30 s on small studies (not the acceptance figures)")  # fmt: skip
    parser.add_argument("--writers", type=int, default=20)
    parser.add_argument("--coordinators", type=int, default=4)
    parser.add_argument("--monitors", type=int, default=3)
    parser.add_argument("--pullers", type=int, default=3)
    parser.add_argument("--subjects", type=int, default=None, help="per study (default 100)")
    parser.add_argument("--aes", type=int, default=None, help="per study, before the load (5000)")
    args = parser.parse_args()
    args.duration = args.duration or (30 if args.short else 120)
    args.subjects = args.subjects or (30 if args.short else 100)
    args.aes = args.aes if args.aes is not None else (500 if args.short else 5000)
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
    # The web server's key: the sessions signed in here (setup_studies) must be valid there.
    os.environ["SECRET_KEY"] = "load-benchmark-" + uuid.uuid4().hex
    os.environ["DB_CONN_MAX_AGE"] = "60"  # as the services: the probes keep their connections
    import psycopg2

    admin = psycopg2.connect(urlunsplit(parts._replace(path="/postgres")))
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{bench_db}"')
        cursor.execute(f'CREATE DATABASE "{bench_db}"')
    import django

    django.setup()
    processes: list[subprocess.Popen] = []
    try:
        passed = run(args, processes)
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
    sys.exit(0 if passed else 1)


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
    onset = date.fromisoformat(subject_row["first_dose"]) + timedelta(days=2)
    try:
        _probe_loop(entry, stop, results, user, term, subject, onset)
    finally:
        from django.db import connection

        connection.close()


def _probe_loop(entry, stop, results, user, term, subject, onset) -> None:
    from django.db import close_old_connections, transaction
    from django.utils import timezone

    from escalation.models import TrackEvaluationState
    from safety.services import adverse_event_report

    state = TrackEvaluationState.objects.filter(track_id=entry["track"])
    while not stop.is_set():
        close_old_connections()
        marks = {}
        with transaction.atomic():
            # The first on-commit hook: it runs as soon as COMMIT returns, before the service's
            # own hooks queue the evaluation.
            transaction.on_commit(lambda m=marks: m.setdefault("committed", timezone.now()))
            adverse_event_report(
                by=user, subject=subject, ctcae_term=term, verbatim_term="nausea (probe)",
                grade=1, onset_date=onset, relationship="unlikely", action_taken="none",
                outcome="not_recovered",
            )  # fmt: skip
            # This change's debt (the row is locked until commit: no other writer's time).
            mine = state.values_list("requested_at", flat=True).get()
        committed = marks["committed"]
        deadline = time.monotonic() + PROBE_TIMEOUT_S
        while time.monotonic() < deadline:
            evaluated, requested = state.values_list("evaluated_at", "requested_at").get()
            # Stored after the commit (an evaluation takes the state row's lock first, which this
            # change held until it committed, so it read the change), and this change's debt paid.
            if evaluated and evaluated > committed and (requested is None or requested > mine):
                results.append((evaluated - committed).total_seconds())
                break
            time.sleep(0.01)
        else:
            results.append(math.inf)
        stop.wait(0.5)


def percentile(values, q):
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)] if ordered else math.nan


def load_average() -> str:
    return " / ".join(f"{v:.2f}" for v in os.getloadavg())


def cpu_snapshot(services: dict, bench_db: str, locust) -> dict:  # values: seconds
    """CPU seconds used so far: each service with its child processes, this database's PostgreSQL
    backends (by process: one that closed before the end is not counted), locust and the probes,
    and the whole machine (others' work included)."""
    import psutil

    def tree(pid: int) -> float:
        try:
            root = psutil.Process(pid)
            procs = [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return 0.0
        total = 0.0
        for proc in procs:
            try:
                times = proc.cpu_times()
                total += times.user + times.system
            except psutil.NoSuchProcess:
                pass
        return total

    seconds = {name: tree(process.pid) for name, process in services.items()}
    backends = {}
    for proc in psutil.process_iter(["name", "cmdline"]):
        try:
            if proc.info["name"] == "postgres" and bench_db in " ".join(proc.info["cmdline"] or []):
                times = proc.cpu_times()
                backends[proc.pid] = times.user + times.system
        except psutil.NoSuchProcess:
            pass
    seconds["postgres"] = backends
    own = psutil.Process().cpu_times()
    seconds["locust and probes"] = tree(locust.pid) + own.user + own.system
    machine = psutil.cpu_times()
    # Busy time: not idle, waiting on I/O or stolen by the host; guest time is inside user time.
    not_busy = ("idle", "iowait", "steal", "guest", "guest_nice")
    seconds["machine"] = sum(machine) - sum(getattr(machine, name, 0.0) for name in not_busy)
    return seconds


def cpu_cores(start: dict, end: dict, elapsed: float) -> dict:
    """Cores used on average during the load, per part; `others` is the rest of the machine."""
    cores = {
        name: (
            sum(used - start[name].get(pid, 0.0) for pid, used in end[name].items())
            if isinstance(end[name], dict)
            else end[name] - start[name]
        )
        / elapsed
        for name in start
    }
    cores["others"] = max(0.0, cores.pop("machine") - sum(cores.values()))
    return cores


def evaluation_runtimes(logs: Path) -> dict:
    """Run times of the evaluations that evaluated (not those whose debt was already paid), from
    the workers' JSON logs (Celery's task-succeeded line), per worker."""
    found: dict[str, list[float]] = {}
    for service in ("evaluator", "worker"):
        for line in (logs / f"{service}.log").read_text(errors="replace").splitlines():
            if '"escalation.evaluate_and_announce"' not in line or "'skipped': False" not in line:
                continue
            with contextlib.suppress(ValueError, KeyError, TypeError):
                found.setdefault(service, []).append(float(json.loads(line)["data"]["runtime"]))
    return found


def wait_healthy(port: int, processes, logs: Path) -> None:
    import http.client

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if any(p.poll() is not None for p in processes):
            sys.exit(f"a service stopped during start-up: see {logs}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/health/", headers={"Host": "127.0.0.1"})
            body = json.loads(conn.getresponse().read())
            if len(body.get("workers", {}).get("seen", [])) >= 2:
                return  # gunicorn answers and both workers have beaten
        except (OSError, ValueError):
            pass
        time.sleep(0.5)
    sys.exit(f"the services did not become healthy within 120 s: see {logs}")


def run(args, processes) -> bool:
    from django.db import connection

    config = setup_studies(args)
    config_file = Path(f"/tmp/edc-load-{uuid.uuid4().hex[:8]}.json")
    config_file.write_text(json.dumps(config))
    port = free_port()
    env = {
        **os.environ,
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
    for service in SERVICES:
        processes.append(
            subprocess.Popen(
                compose_command(service, port, env),
                cwd=ROOT,
                env=env,
                stdout=(logs / f"{service}.log").open("w"),
                stderr=subprocess.STDOUT,
            )  # fmt: skip
        )
    wait_healthy(port, processes, logs)
    cpus = len(os.sched_getaffinity(0))
    load_at_start = load_average()
    print(
        f"Machine: {platform.node()}, nproc {cpus}, load average at start {load_at_start} "
        f"(1/5/15 min), Python {platform.python_version()}, PostgreSQL "
        f"{connection.pg_version // 10000}.{connection.pg_version % 10000}",
        flush=True,
    )
    print(
        f"Load: 3 studies x {args.subjects} subjects, {args.aes} AEs each; {args.writers} API "
        f"writers, {args.coordinators} coordinators, {args.monitors} monitors, {args.pullers} "
        f"sponsors, 1-3 s between actions; services {', '.join(SERVICES)} as in "
        f"docker-compose.yml; {args.duration} s{' (short: a smoke check)' if args.short else ''}",
        flush=True,
    )
    stop = threading.Event()
    loaded: list[float] = []
    quiet: list[float] = []
    threads = [
        threading.Thread(target=probe, args=(config["studies"][0], stop, loaded)),
        threading.Thread(target=probe, args=(config["studies"][2], stop, quiet)),
    ]
    users = args.writers + args.coordinators + args.monitors + args.pullers
    prefix = logs / "locust"
    locust = subprocess.Popen(
        [shutil.which("locust", path=str(BIN)), "-f", str(ROOT / "bench/load/locustfile.py"),
         "--headless", "-u", str(users), "-r", str(max(1, users // 5)), "-t", f"{args.duration}s",
         "--host", f"http://127.0.0.1:{port}", "--csv", str(prefix), "--only-summary"],
        cwd=ROOT, env={**os.environ, "LOAD_CONFIG": str(config_file)},
        stdout=(logs / "locust.log").open("w"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    services = dict(zip(SERVICES, processes, strict=True))
    bench_db = connection.settings_dict["NAME"]
    cpu_start, started = cpu_snapshot(services, bench_db, locust), time.monotonic()
    time.sleep(min(10, args.duration / 6))  # the users ramp up first
    for thread in threads:
        thread.start()
    locust.wait()
    cpu = cpu_cores(cpu_start, cpu_snapshot(services, bench_db, locust), time.monotonic() - started)
    stop.set()
    for thread in threads:
        thread.join(timeout=PROBE_TIMEOUT_S + 30)
    load_at_end = load_average()
    return report(prefix, loaded, quiet, cpus, (load_at_start, load_at_end), cpu, logs)


def report(prefix, loaded, quiet, cpus, load, cpu, logs) -> bool:
    """One summary table, the machine line, the acceptance check; the same as JSON in the logs."""
    rows = []
    with open(f"{prefix}_stats.csv") as stats:
        for row in csv.DictReader(stats):
            name = "all requests" if row["Name"] == "Aggregated" else row["Name"]
            rows.append([name, int(row["Request Count"]), int(row["Failure Count"]),
                         float(row["50%"] or "nan"), float(row["95%"] or "nan")])  # fmt: skip
    probes = {}
    for label, values in (("loaded track (study 1)", loaded), ("quiet track (study 3)", quiet)):
        done = [v * 1000 for v in values if math.isfinite(v)]
        timeouts = len(values) - len(done)
        p50 = statistics.median(done) if done else math.nan
        p95 = percentile(values, 0.95) * 1000  # a timeout counts as the slowest
        probes[label] = {"n": len(values), "timeouts": timeouts, "p50_ms": p50, "p95_ms": p95}
    width = max(len(r[0]) for r in rows) if rows else 20
    width = max(width, len("commit -> evaluation, loaded track (study 1)"))

    def ms(value):
        return "-" if math.isnan(value) else ("timeout" if math.isinf(value) else f"{value:,.0f}")

    print(f"\n{'kind':{width}} {'n':>7} {'errors':>7} {'p50 ms':>9} {'p95 ms':>9}")
    for name, count, errors, p50, p95 in rows:
        print(f"{name:{width}} {count:>7} {errors:>7} {ms(p50):>9} {ms(p95):>9}")
    for label, p in probes.items():
        name = f"commit -> evaluation, {label}"
        print(f"{name:{width}} {p['n']:>7} {p['timeouts']:>7} {ms(p['p50_ms']):>9} "
              f"{ms(p['p95_ms']):>9}")  # fmt: skip
    print(f"Machine: nproc {cpus}, load average at start {load[0]}, at end {load[1]}")
    print("CPU during the load (cores): " + ", ".join(f"{k} {v:.2f}" for k, v in cpu.items()))
    runtimes = evaluation_runtimes(logs)
    print(
        "Evaluation run time (the task, from the workers' logs): "
        + "; ".join(
            f"{name} n={len(v)} p50 {statistics.median(v) * 1000:,.0f} ms "
            f"p95 {percentile(v, 0.95) * 1000:,.0f} ms"
            for name, v in runtimes.items()
        )
    )
    errors = sum(r[2] for r in rows if r[0] != "all requests") + sum(
        p["timeouts"] for p in probes.values()
    )
    checks = [
        ("quiet track p95 < 1 s", probes["quiet track (study 3)"]["p95_ms"] < QUIET_P95_S * 1000),
        (
            "loaded track p95 < 2 s",
            probes["loaded track (study 1)"]["p95_ms"] < LOADED_P95_S * 1000,
        ),  # fmt: skip
        ("0 errors", errors == 0),
        ("probes on both tracks", all(p["n"] > 0 for p in probes.values())),
    ]
    print("Acceptance: " + "; ".join(f"{name} {'yes' if ok else 'NO'}" for name, ok in checks))
    (logs / "summary.json").write_text(
        json.dumps(
            {
                "requests": [
                    dict(zip(("kind", "n", "errors", "p50_ms", "p95_ms"), r, strict=True))
                    for r in rows
                ],
                "commit_to_evaluation": probes,
                "machine": {"nproc": cpus, "load_average": load, "cpu_cores": cpu},
                "evaluation_runtimes_s": runtimes,
                "acceptance": dict(checks),
            },
            default=str,
            indent=2,
        )
    )
    print(f"(logs and summary.json in {logs})")
    return all(ok for _, ok in checks)


if __name__ == "__main__":
    main()
