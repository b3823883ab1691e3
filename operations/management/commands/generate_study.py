import time

from django.core.management.base import BaseCommand, CommandError

from accounts.models import User
from operations.generator import RefusedError, generate
from safety.ctcae import import_terms, read_starter_set
from safety.models import CtcaeTerm
from trial.models import Study
from trial.services import load_study


class Command(BaseCommand):
    help = (
        "Generate a study at scale for benchmarks (docs/operations.md §6): a copy of the MIL97 "
        "protocol under PROTOCOL_NUMBER with generated sites, subjects, doses and adverse "
        "events, bulk-inserted with their audit history rows. Refuses a study with real data."
    )

    def add_arguments(self, parser):
        parser.add_argument("protocol_number", help="e.g. SCALE-1 (created if missing)")
        parser.add_argument("--subjects", type=int, default=600)
        parser.add_argument("--aes", type=int, default=100_000)
        parser.add_argument("--doses", type=int, default=20_000)
        parser.add_argument("--sites", type=int, default=6)
        parser.add_argument("--seed", type=int, default=97)
        parser.add_argument("--user", default="generator", help="recorded as the history's user")

    def handle(self, *args, protocol_number, subjects, aes, doses, sites, seed, user, **options):
        if subjects < 1 or aes < 0 or doses < 0 or sites < 1:
            raise CommandError("--subjects and --sites: at least 1; --aes, --doses: 0 or more.")
        if not Study.objects.filter(protocol_number=protocol_number).exists():
            load_study("mil97", protocol_number=protocol_number)
        if not CtcaeTerm.objects.exists():
            import_terms(read_starter_set())
        study = Study.objects.get(protocol_number=protocol_number)
        by, _ = User.objects.get_or_create(username=user, defaults={"is_active": False})
        started = time.perf_counter()
        try:
            made = generate(
                study,
                by,
                subjects=subjects,
                doses=doses,
                adverse_events=aes,
                sites=sites,
                seed=seed,
            )
        except RefusedError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            f"{study}: {made.sites} sites, {made.subjects} subjects, {made.doses} doses, "
            f"{made.adverse_events} adverse events with their history rows, in "
            f"{time.perf_counter() - started:.1f} s"
        )
