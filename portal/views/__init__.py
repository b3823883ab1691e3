"""The site coordinator's pages. Each view parses, authorises, calls one service and renders."""

from .adverse_events import (
    adverse_event_attest,
    adverse_event_edit,
    adverse_event_new,
    adverse_event_void_view,
    ctcae_grades,
    ctcae_search,
)
from .demographics import demographics
from .dosing import dose_edit, dose_new, dose_total, dose_void_view
from .home import home, keepalive, subject_detail
from .participation import end_study, end_treatment, record_death
from .screening import (
    consent,
    eligibility,
    enroll,
    screen_fail,
    screening,
    subject_edit,
    subject_new,
)

__all__ = [
    "adverse_event_attest",
    "adverse_event_edit",
    "adverse_event_new",
    "adverse_event_void_view",
    "consent",
    "ctcae_grades",
    "ctcae_search",
    "demographics",
    "dose_edit",
    "dose_new",
    "dose_total",
    "dose_void_view",
    "eligibility",
    "end_study",
    "end_treatment",
    "enroll",
    "home",
    "keepalive",
    "record_death",
    "screen_fail",
    "screening",
    "subject_detail",
    "subject_edit",
    "subject_new",
]
