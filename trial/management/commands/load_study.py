from django.core.management.base import BaseCommand, CommandError

from core.errors import ValidationError
from trial.services import load_study


class Command(BaseCommand):
    help = "Create or update a study's configuration from its protocol file (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument(
            "study", help="A bundled study name (e.g. mil97) or a path to a .toml file."
        )

    def handle(self, *args, study, **options):
        try:
            summary = load_study(study)
        except ValidationError as error:
            raise CommandError(
                "; ".join(f"{k}: {' '.join(v)}" for k, v in error.message_dict.items())
            ) from error
        if not summary.changed:
            self.stdout.write(f"{summary.study}: already up to date.")
            return
        for label in summary.created:
            self.stdout.write(f"  created {label}")
        for label in summary.updated:
            self.stdout.write(f"  updated {label}")
        self.stdout.write(self.style.SUCCESS(f"{summary.study}: configuration loaded."))
