"""The data quality rules core: plain Python, no Django (docs/quality.md §1).

from datetime import date
from quality.rules import Casebook, SubjectFacts, AdverseEventFacts, run_checks

book = Casebook(
    SubjectFacts(subject_id=1, year_of_birth=1960, consent_date=date(2026, 1, 10)),
    adverse_events=(AdverseEventFacts(7, "Nausea", date(2026, 1, 8), "none"),),
)
run_checks(book)   # [Finding("adverse_event.onset_before_consent", 1, ..., 7, "onset_date", ...)]
"""

from .checks import (
    REGISTRY,
    AdverseEventFacts,
    Casebook,
    CheckSettings,
    DoseFacts,
    EditCheck,
    Finding,
    Form,
    Hit,
    Kind,
    LabResultFacts,
    LesionFacts,
    PriorTherapyFacts,
    SubjectFacts,
    SurvivalContactFacts,
    forms_read,
    organ_key,
    run_checks,
)

__all__ = [
    "REGISTRY",
    "AdverseEventFacts",
    "Casebook",
    "CheckSettings",
    "DoseFacts",
    "EditCheck",
    "Finding",
    "Form",
    "Hit",
    "Kind",
    "LabResultFacts",
    "LesionFacts",
    "PriorTherapyFacts",
    "SubjectFacts",
    "SurvivalContactFacts",
    "forms_read",
    "organ_key",
    "run_checks",
]
