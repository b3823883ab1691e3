"""Moved: the monitor's page reads are in `monitoring.pages` (one module per page) and the reads
of the data they show in the owning apps' selectors. Re-exported until the callers move."""

# ruff: noqa: F401
from accounts.scoping import has_study_role, monitoring_studies, only_study_roles
from escalation.selectors import (
    STATUS_LABELS,
    decision_history,
    dlt_status_of,
    pending_recommendations,
    track_levels,
    track_recommendation,
    visible_recommendation,
    visible_track,
)
from safety.selectors import DLT_FINAL, dlt_calls_text, visible_adverse_event, with_adjudicator

from .pages.ae_tables import AeTablesPage, ae_tables
from .pages.committee import (
    CommitteePage,
    Review,
    SubjectEvidence,
    committee_page,
    decisions_csv,
    outcome_word,
    recommendation_review,
    study_choices,
)
from .pages.listings import LISTING_HEADER, ListingRow, ListingsPage, dose_deviations, listings
from .pages.notifications import (
    NOTIFICATION_HEADER,
    NOTIFICATION_KINDS,
    NOTIFICATIONS_PER_PAGE,
    Alert,
    NotificationsPage,
    delivery,
    notification_target,
    notifications,
    recent_alerts,
)
from .pages.overview import LevelLine, Overview, TrackOverview, escalation_overview
from .pages.scope import (
    FILTER_KEYS,
    Scope,
    can_adjudicate,
    can_sign,
    load_scope,
    loaded_doses,
    loaded_events,
    regimen_order,
    scoped_subjects,
    subject_url,
)
from .pages.timeline import TimelinePage, dlt_timeline
