"""What an export request sets in motion: the export job, enqueued once the request commits
(`services.export_requested`, sent on commit and connected in apps.py).

Import order: `triggers` → `tasks` → `services`; the services never import the tasks.
"""

from .models import Export
from .services import export_requested
from .tasks import run_export_task


def on_export_requested(sender, *, export_id: int, **kwargs) -> None:
    run_export_task.delay(export_id)


def connect() -> None:
    export_requested.connect(on_export_requested, sender=Export, dispatch_uid="standards.export")
