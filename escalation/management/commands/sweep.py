from django.core.management.base import BaseCommand

from escalation.tasks import sweep


class Command(BaseCommand):
    help = (
        "Evaluate every escalation track that is owed an evaluation and send unsent "
        "notifications (what Celery beat runs periodically; `make run` runs it at start)."
    )

    def handle(self, *args, **options):
        result = sweep()
        self.stdout.write(
            f"Evaluated {len(result['evaluated'])} track(s), {len(result['failed'])} failed, "
            f"{result['notifications_sent']} notification(s) sent."
        )
