"""Benchmark: the export job on a study of 100 subjects and 20,000 clinical records.

Builds the study in a PostgreSQL database of its own (the DATABASE_URL name +
"_bench_standards", created and dropped here) with the bulk builder of the query-count tests
(subjects, doses and adverse events inserted with bulk_create: no audit history, so the ODM file
carries one Insert per record), then runs the export job in this process (the Celery task's
body: SDTM datasets as XPT v5 and Dataset-JSON, define.xml, ODM, validation, zip) and prints the
time of each step and the whole.

Run by hand (not a timed test):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/edc .venv/bin/python bench/standards_export.py
"""

import os
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

WHOLE_STEPS = ("Writing define.xml", "Writing the ODM file")
SUBJECTS = 100
RECORDS = 20_000


def main() -> None:
    base = os.environ.get("DATABASE_URL", "")
    if not base.startswith("postgres"):
        sys.exit("Set DATABASE_URL to a PostgreSQL server: the benchmark creates its own database.")
    parts = urlsplit(base)
    bench_db = f"{parts.path.lstrip('/') or 'edc'}_bench_standards"
    os.environ["DATABASE_URL"] = urlunsplit(parts._replace(path=f"/{bench_db}"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.pop("REDIS_URL", None)  # the job runs here, in process

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
        run()
    finally:
        from django.db import connections

        connections.close_all()
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{bench_db}"')


def run() -> None:
    from django.conf import settings
    from django.db import connection

    from accounts.models import Membership, User
    from accounts.roles import Role
    from core.dates import site_today
    from dosing.models import DoseAdministration
    from safety.ctcae import import_terms, read_starter_set
    from standards import services
    from standards.models import Export
    from subjects.models import Subject
    from tests.integration.monitoring import bulk
    from trial.models import Site
    from trial.services import load_study

    study = load_study("mil97").study
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
    sponsor = User.objects.create_user("bench_sponsor", password="bench-password-1")
    Membership.objects.create(user=sponsor, study=study, role=Role.SPONSOR)

    # Subjects and doses come first; the adverse events make up the rest of the 20,000 records.
    doses_per_subject = 3
    n_events = RECORDS - SUBJECTS - SUBJECTS * doses_per_subject
    started = time.perf_counter()
    data = bulk.build(study, sites, coordinator, n_subjects=SUBJECTS, n_events=n_events)
    built = time.perf_counter() - started
    from safety.models import AdverseEvent

    doses = DoseAdministration.objects.filter(subject__study=study).count()
    missing = RECORDS - SUBJECTS - doses - len(data["events"])
    if missing > 0:  # the builder doses only the visits already past: top the AEs up to 20,000
        template = data["events"][-1]
        extra = []
        for _ in range(missing):
            template.pk = None
            extra.append(
                AdverseEvent(
                    **{
                        f.attname: getattr(template, f.attname)
                        for f in AdverseEvent._meta.concrete_fields
                    }
                )
            )
        data["events"] += AdverseEvent.objects.bulk_create(extra)
    counts = (
        Subject.objects.filter(study=study).count(),
        DoseAdministration.objects.filter(subject__study=study).count(),
        len(data["events"]),
    )
    print(
        f"Study: {counts[0]} subjects, {counts[1]} doses, {counts[2]} adverse events = "
        f"{sum(counts)} clinical records (built in {built:.1f} s); "
        f"PostgreSQL {connection.pg_version // 10000}.{connection.pg_version % 10000}"
    )

    steps: list[tuple[str, float]] = []
    progress = services._progress

    def timed_progress(export_id, percent, step):
        steps.append((step, time.perf_counter()))
        progress(export_id, percent, step)

    services._progress = timed_progress
    services._enqueue = lambda export_id: None  # run below, timed, rather than on the commit
    with tempfile.TemporaryDirectory() as directory:
        settings.STANDARDS_EXPORT_DIR = Path(directory)
        export = services.export_request(by=sponsor, study=study)
        begin = time.perf_counter()
        services.run_export(export.pk)
        total = time.perf_counter() - begin
        export = Export.objects.get(pk=export.pk)
    assert export.status == Export.Status.COMPLETED, export.failure
    phases: dict[str, float] = {}
    marks = [*steps, ("end", begin + total)]
    for (step, at), (_, following) in zip(marks, marks[1:], strict=False):
        if step.startswith("Building"):
            phase = "Building the SDTM datasets"
        elif step.startswith("Writing") and step not in WHOLE_STEPS:
            phase = "Writing XPT + Dataset-JSON"
        else:
            phase = step
        phases[phase] = phases.get(phase, 0.0) + (following - at)
    for phase, seconds in phases.items():
        print(f"  {phase:32} {seconds:7.2f} s")
    print(
        f"Export job: {total:.1f} s for {sum(counts)} records; zip {export.file_size / 1e6:.1f} MB, "
        f"{len(export.datasets)} datasets, {export.errors} validation errors, "
        f"{export.warnings} warnings"
    )


if __name__ == "__main__":
    main()
