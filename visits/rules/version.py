"""The version of the visits rules, stored with every derived grade, flag and calendar so that a
later change of the rules can be told apart from a change of the data (docs/visits.md §1)."""

RULES_VERSION = "visits-rules 1 (CTCAE v5.0)"
