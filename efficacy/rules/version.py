"""The version of the efficacy rules, stored with every derived value."""

# Bump whenever a derived value can change for the same facts.
RULES_VERSION = "efficacy-rules 1.0.0 (2026-11)"
