"""A dose-finding design's evidence as stored with a recommendation and shown to the committee
(docs/designs.md §12): the design and its settings, the counts it read, its rule, the estimates,
and its decision table with the cell that decided marked.

Stored in the recommendation's data (`data["design"]`), so the review page, the API and the
audit trail show the table as it was when the recommendation was made.
"""

from .rules.designs.common import DESIGNS_VERSION, DecisionTable
from .rules.designs.config import DesignConfig, design_table, pending_table
from .rules.evidence import DesignEvidence

# Rows of the n x y table shown with a recommendation (BOIN's tables run to n = 30).
TABLE_ROWS = 30


def table_as_data(table: DecisionTable | None, *, n_max: int = TABLE_ROWS) -> dict | None:
    """The n x y table: rows n = 1..n_max, each the decision for y = 0..n, and per n the
    escalation, de-escalation and elimination boundaries (the layout of BOIN's get.boundary)."""
    if table is None:
        return None
    rows = [
        {"n": n, "cells": [str(letter) for letter in letters]}
        for n, letters in table.rows()
        if n <= n_max
    ]
    boundaries = [
        {"n": n, "escalate_if_le": e, "deescalate_if_ge": d, "eliminate_if_ge": de}
        for n, e, d, de in table.boundaries()
        if n <= n_max
    ]
    return {
        "design": table.design,
        "n_max": min(table.n_max, n_max),
        "columns": list(range(min(table.n_max, n_max) + 1)),
        "rows": rows,
        "boundaries": boundaries,
    }


def pending_rows_as_data(config: DesignConfig) -> list[dict]:
    """TITE-BOIN's decisions with pending subjects (n, y, c, decision, STFT threshold)."""
    return [
        {
            "n": row.n,
            "y": row.y,
            "pending": row.pending,
            "decision": row.decision,
            "stft_threshold": None if row.stft_threshold is None else round(row.stft_threshold, 3),
        }
        for row in pending_table(config)
    ]


def design_as_data(config: DesignConfig) -> dict:
    """The design and its tables, without any data (the simulation page shows this)."""
    return {
        "name": config.name,
        "label": config.label,
        "description": config.describe(),
        "settings": dict(config.values),
        "table": table_as_data(design_table(config)),
        "pending_table": pending_rows_as_data(config),
        "version": DESIGNS_VERSION,
    }


def evidence_as_data(evidence: DesignEvidence) -> dict:
    decision = evidence.decision
    facts = evidence.facts
    current = facts.levels[decision.current]
    n = current.treated if evidence.design.time_to_event else current.evaluable
    return {
        **design_as_data(evidence.design),
        "action": str(decision.action),
        "rule": decision.rule,
        "text": decision.text,
        "current_level": decision.current + 1,
        "next_level": None if decision.dose is None else decision.dose + 1,
        "cohort_size": decision.cohort_size,
        "mtd_level": None if decision.mtd is None else decision.mtd + 1,
        "cell": {"n": n, "y": current.dlts, "pending": len(current.pending)},
        "counts": [
            {
                "level": position + 1,
                "evaluable": level.evaluable,
                "dlts": level.dlts,
                "pending": [round(f, 3) for f in level.pending],
                "eliminated": bool(decision.eliminated[position])
                if position < len(decision.eliminated)
                else False,
                "estimate": None
                if position >= len(decision.estimates) or decision.estimates[position] is None
                else round(float(decision.estimates[position] or 0.0), 4),
            }
            for position, level in enumerate(facts.levels)
        ],
        "decision_version": decision.version,
    }
