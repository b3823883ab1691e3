"""The one entry point: the recommendation for a track."""

from __future__ import annotations

from datetime import date

from .by_design import recommend_by_design
from .design import DesignSettings
from .expansion import recommend_expansion
from .facts import Phase, Track
from .recommendation import Recommendation
from .three_plus_three import recommend_escalation


def recommend(settings: DesignSettings, track: Track, today: date) -> Recommendation:
    """What should happen next on `track`, from the facts as they stand on `today`.

    A pure function: the same (settings, track, today) always gives the same recommendation.
    """
    if track.phase is Phase.EXPANSION:
        return recommend_expansion(settings, track, today)
    if track.design is not None and not track.design.is_three_plus_three:
        return recommend_by_design(settings, track, today, track.design)
    return recommend_escalation(settings, track, today)
