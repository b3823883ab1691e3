"""Roles and what each may do, stated once (docs/audit.md §5).

Site roles see and touch only their own sites' subjects; study roles span the whole study.
"""

from enum import StrEnum


class Role(StrEnum):
    COORDINATOR = "coordinator"
    INVESTIGATOR = "investigator"
    MEDICAL_MONITOR = "medical_monitor"
    DATA_MANAGER = "data_manager"
    SPONSOR = "sponsor"
    ADMIN = "admin"
    CRA = "cra"

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]


ROLE_LABELS = {
    Role.COORDINATOR: "Site coordinator",
    Role.INVESTIGATOR: "Investigator",
    Role.MEDICAL_MONITOR: "Medical monitor",
    Role.DATA_MANAGER: "Data manager",
    Role.SPONSOR: "Sponsor (read-only)",
    Role.ADMIN: "Study administrator",
    Role.CRA: "Clinical research associate",
}

SITE_ROLES = frozenset({Role.COORDINATOR, Role.INVESTIGATOR})
STUDY_ROLES = frozenset({Role.MEDICAL_MONITOR, Role.DATA_MANAGER, Role.SPONSOR, Role.ADMIN})
# Study-wide roles that may export and download; site roles may not (docs/standards.md §11).
EXPORT_ROLES = frozenset({Role.SPONSOR, Role.DATA_MANAGER, Role.MEDICAL_MONITOR, Role.ADMIN})
# Roles held study-wide (no sites named on the membership) or for the sites named: a clinical
# research associate monitors the whole study or only the sites they visit (docs/quality.md §3).
SITE_OPTIONAL_ROLES = frozenset({Role.CRA})


class Capability(StrEnum):
    VIEW = "view"
    ENTER_DATA = "enter_data"  # screening, consent, enrollment, doses, adverse events
    EDIT_DATA = "edit_data"  # corrections with a reason, voids
    ASSESS_DLT = "assess_dlt"  # the investigator's DLT call (a coordinator proposes it)
    ATTEST_DLT = "attest_dlt"  # the investigator attests the DLT call (docs/safety.md §8)
    ADJUDICATE_DLT = "adjudicate_dlt"  # the committee's DLT call
    SIGN_COMMITTEE_DECISION = "sign_committee_decision"
    CONFIGURE_STUDY = "configure_study"
    # Data quality and sign-off (docs/quality.md): queries, source data verification, the
    # investigator's casebook signature, freezing and locking.
    MANAGE_QUERIES = "manage_queries"  # open, close and re-open queries
    ANSWER_QUERIES = "answer_queries"  # the site's answer to a query
    VERIFY_SOURCE = "verify_source"  # mark data verified against the source documents
    SIGN_CASEBOOK = "sign_casebook"  # the investigator's signature of a subject's casebook
    LOCK_DATA = "lock_data"  # freeze forms, lock subjects and the study database
    UNLOCK_STUDY = "unlock_study"  # second person (or an administrator) unlocking the database


CAPABILITIES: dict[Role, frozenset[Capability]] = {
    Role.COORDINATOR: frozenset(
        {
            Capability.VIEW,
            Capability.ENTER_DATA,
            Capability.EDIT_DATA,
            Capability.ASSESS_DLT,
            Capability.ANSWER_QUERIES,
        }
    ),
    Role.INVESTIGATOR: frozenset(
        {
            Capability.VIEW,
            Capability.ENTER_DATA,
            Capability.EDIT_DATA,
            Capability.ASSESS_DLT,
            Capability.ATTEST_DLT,
            Capability.ANSWER_QUERIES,
            Capability.SIGN_CASEBOOK,
        }
    ),
    Role.MEDICAL_MONITOR: frozenset(
        {
            Capability.VIEW,
            Capability.ADJUDICATE_DLT,
            Capability.SIGN_COMMITTEE_DECISION,
            Capability.MANAGE_QUERIES,
        }
    ),
    Role.DATA_MANAGER: frozenset(
        {
            Capability.VIEW,
            Capability.EDIT_DATA,
            Capability.MANAGE_QUERIES,
            Capability.LOCK_DATA,
            Capability.UNLOCK_STUDY,
        }
    ),
    Role.SPONSOR: frozenset({Capability.VIEW}),
    Role.ADMIN: frozenset({Capability.VIEW, Capability.CONFIGURE_STUDY, Capability.UNLOCK_STUDY}),
    Role.CRA: frozenset({Capability.VIEW, Capability.MANAGE_QUERIES, Capability.VERIFY_SOURCE}),
}
