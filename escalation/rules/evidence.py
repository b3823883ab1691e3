"""The evidence a dose-finding design gives with its recommendation (docs/designs.md §12): the
design's rule, the counts it read and its decision. Its own module, so that the recommendation
(which carries it) and the design dispatch (`by_design.py`, which builds it) both import it and
not each other."""

from __future__ import annotations

from dataclasses import dataclass

from .designs.common import DesignDecision, DesignFacts
from .designs.config import DesignConfig
from .designs.tite_boin import TiteRow


@dataclass(frozen=True)
class DesignEvidence:
    """What the design read and decided, printed with the recommendation."""

    design: DesignConfig
    facts: DesignFacts
    decision: DesignDecision
    pending_rows: tuple[TiteRow, ...] = ()
