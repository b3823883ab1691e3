import logging
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import close_old_connections

from escalation.tasks import sweep

log = logging.getLogger(__name__)


class Command(BaseCommand):
    help = (
        "Evaluate every escalation track that is owed an evaluation and send unsent "
        "notifications (what Celery beat runs periodically; `make run` runs it at start). "
        "With --every SECONDS it runs in a loop that needs only the database, not the broker: "
        "run it as a service (docker-compose's sweeper) so that a broker outage delays no "
        "evaluation and no SAE alert beyond that interval."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--every",
            type=float,
            metavar="SECONDS",
            help="Run again every SECONDS until stopped (e.g. the EVALUATION_SWEEP_SECONDS value).",
        )
        parser.add_argument(
            "--iterations",
            type=int,
            metavar="N",
            help="With --every: stop after N runs (default: run until stopped).",
        )

    def handle(self, *args, every=None, iterations=None, **options):
        if every is None:
            self._report(sweep())
            return
        if every <= 0:
            raise CommandError("--every: give a number of seconds above 0.")
        runs = 0
        while iterations is None or runs < iterations:
            started = time.monotonic()
            # A long-running loop: drop a connection the database closed (a restart), as a web
            # request or a worker task would, and keep going on any failure.
            close_old_connections()
            try:
                self._report(sweep(), quiet=True)
            except Exception:
                log.exception("sweep failed; trying again in %s s", every)
            runs += 1
            if iterations is not None and runs >= iterations:
                break
            time.sleep(max(0.0, every - (time.monotonic() - started)))

    def _report(self, result, *, quiet=False):
        if quiet and not (result["evaluated"] or result["failed"] or result["notifications_sent"]):
            return
        self.stdout.write(
            f"Evaluated {len(result['evaluated'])} track(s), {len(result['failed'])} failed, "
            f"{result['notifications_sent']} notification(s) sent."
        )
