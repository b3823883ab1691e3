"""Model-assisted and model-based dose-finding designs, and their operating characteristics.

Pure functions over counts (docs/designs.md): BOIN, TITE-BOIN, mTPI-2, i3+3 and the CRM (with
its time-to-event weights), accelerated titration in front of any of them, the 3+3 for the
simulator, and the simulator itself (`simulate.py`). No Django: the Django layer builds
`DesignFacts` from the track's subject evaluations and stores the `DesignDecision`.
"""

from .boin import BoinSettings, boin_boundaries, boin_decide, boin_table
from .common import (
    DESIGNS_VERSION,
    Action,
    DecisionTable,
    DesignDecision,
    DesignFacts,
    DesignInputError,
    Letter,
    LevelData,
    prob_above,
)
from .i3plus3 import I3plus3Settings, i3plus3_decide, i3plus3_table
from .interval import TrialSettings, decide_interval, decision_table
from .isotonic import select_mtd
from .mtpi2 import Mtpi2Settings, mtpi2_decide, mtpi2_table
from .titration import Titration

__all__ = [
    "DESIGNS_VERSION",
    "Action",
    "BoinSettings",
    "DecisionTable",
    "DesignDecision",
    "DesignFacts",
    "DesignInputError",
    "I3plus3Settings",
    "Letter",
    "LevelData",
    "Mtpi2Settings",
    "Titration",
    "TrialSettings",
    "boin_boundaries",
    "boin_decide",
    "boin_table",
    "decide_interval",
    "decision_table",
    "i3plus3_decide",
    "i3plus3_table",
    "mtpi2_decide",
    "mtpi2_table",
    "prob_above",
    "select_mtd",
]
