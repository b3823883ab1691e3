from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from core.errors import ValidationError
from safety.ctcae import import_ctcae, import_terms, read_starter_set


class Command(BaseCommand):
    help = (
        "Import the NCI CTCAE v5.0 dictionary from the official workbook (idempotent). "
        "Without PATH, uses the CTCAE_WORKBOOK setting, else the bundled starter set."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", nargs="?", help="CTCAE_v5.0.xlsx as downloaded from NCI.")

    def handle(self, *args, path=None, **options):
        path = path or settings.CTCAE_WORKBOOK
        try:
            if path:
                summary = import_ctcae(path)
                source = path
            else:
                summary = import_terms(read_starter_set())
                source = 'the starter set (common oncology terms and every "Other, specify")'
        except ValidationError as error:
            raise CommandError(
                "; ".join(" ".join(v) for v in error.message_dict.values())
            ) from error
        self.stdout.write(
            f"CTCAE v5.0 from {source}: {summary.total} terms "
            f"({summary.created} new, {summary.updated} updated, {summary.unchanged} unchanged)."
        )
        if not path:
            self.stdout.write(
                "For the full dictionary (837 terms), download CTCAE_v5.0.xlsx from NCI and run "
                "`python manage.py import_ctcae PATH`, or set CTCAE_WORKBOOK."
            )
