"""What new or corrected concentrations set in motion: the subjects' NCA, enqueued once the
change commits (`services.nca_due`, sent on commit and connected in apps.py).

Import order: `triggers` → `tasks` → `services`; the services never import the tasks.
"""

from .models import Concentration
from .services import nca_due
from .tasks import compute_nca_task


def on_nca_due(sender, *, subject_ids: list[int], **kwargs) -> None:
    for subject_id in subject_ids:
        compute_nca_task.delay(subject_id)


def connect() -> None:
    nca_due.connect(on_nca_due, sender=Concentration, dispatch_uid="pharmacology.nca")
