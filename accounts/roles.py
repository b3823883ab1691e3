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
}

SITE_ROLES = frozenset({Role.COORDINATOR, Role.INVESTIGATOR})
STUDY_ROLES = frozenset({Role.MEDICAL_MONITOR, Role.DATA_MANAGER, Role.SPONSOR, Role.ADMIN})


class Capability(StrEnum):
    VIEW = "view"
    ENTER_DATA = "enter_data"  # screening, consent, enrollment, doses, adverse events
    EDIT_DATA = "edit_data"  # corrections with a reason, voids
    ASSESS_DLT = "assess_dlt"  # the investigator's DLT call
    ADJUDICATE_DLT = "adjudicate_dlt"  # the committee's DLT call
    SIGN_COMMITTEE_DECISION = "sign_committee_decision"
    CONFIGURE_STUDY = "configure_study"


CAPABILITIES: dict[Role, frozenset[Capability]] = {
    Role.COORDINATOR: frozenset(
        {Capability.VIEW, Capability.ENTER_DATA, Capability.EDIT_DATA, Capability.ASSESS_DLT}
    ),
    Role.INVESTIGATOR: frozenset(
        {Capability.VIEW, Capability.ENTER_DATA, Capability.EDIT_DATA, Capability.ASSESS_DLT}
    ),
    Role.MEDICAL_MONITOR: frozenset(
        {Capability.VIEW, Capability.ADJUDICATE_DLT, Capability.SIGN_COMMITTEE_DECISION}
    ),
    Role.DATA_MANAGER: frozenset({Capability.VIEW, Capability.EDIT_DATA}),
    Role.SPONSOR: frozenset({Capability.VIEW}),
    Role.ADMIN: frozenset({Capability.VIEW, Capability.CONFIGURE_STUDY}),
}
