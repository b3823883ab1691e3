"""Accelerated titration in front of any design (docs/designs.md §8).

Simon et al., JNCI 1997;89:1138, as the project's 3+3 core runs it: the first `levels` dose
levels take one subject each; the first DLT at a titration level ends titration there, the level
is completed to a full cohort and the design's rules apply from then on; no DLT by the last
titration level opens the next level with a full cohort. The top dose level is never decided on
one subject (it takes a full cohort). The simulator draws only DLTs, so its trigger is a DLT.
"""

from __future__ import annotations

from dataclasses import dataclass

from .common import Action, DesignDecision, DesignFacts, DesignInputError


@dataclass(frozen=True)
class Titration:
    """`levels`: how many of the lowest dose levels start with single-subject cohorts."""

    levels: int = 2

    def __post_init__(self) -> None:
        if self.levels < 1:
            raise DesignInputError("titration.levels: must be at least 1")

    def single_levels(self, n_levels: int) -> int:
        return min(self.levels, n_levels - 1)


def titration_decision(
    titration: Titration | None,
    facts: DesignFacts,
    *,
    design: str,
    cohort_size: int,
    eliminated: tuple[bool, ...],
) -> DesignDecision | None:
    """The decision while titration runs, or None once the design's own rules apply."""
    if titration is None:
        return None
    levels = facts.levels
    single = titration.single_levels(len(levels))

    def make(action: Action, rule: str, text: str, dose: int, size: int) -> DesignDecision:
        return DesignDecision(
            design=design,
            action=action,
            rule=rule,
            text=text,
            current=facts.current,
            dose=dose,
            cohort_size=size,
            eliminated=eliminated,
        )

    for j in range(single):
        level = levels[j]
        if level.treated == 0:
            if any(other.treated for other in levels[j + 1 :]):
                return None  # the history left titration (a committee override)
            if j == 0:
                return make(
                    Action.STAY,
                    "titration: start with one subject",
                    "start: one subject",
                    0,
                    1,
                )
            return make(
                Action.ESCALATE,
                "titration: 0/1 -> escalate, one subject",
                f"escalate to level {j + 1}: one subject (titration)",
                j,
                1,
            )
        if level.treated > 1:
            return None  # titration ended at this level
        if level.pending:
            return make(
                Action.SUSPEND_ACCRUAL,
                "titration: the single subject's outcome is pending -> wait",
                f"wait: the titration subject at level {j + 1} is pending",
                j,
                0,
            )
        if level.dlts == 1:
            return make(
                Action.STAY,
                "titration: DLT -> complete this level to a full cohort, then the design",
                f"DLT in titration at level {j + 1}: enroll {cohort_size - 1} more here",
                j,
                cohort_size - 1,
            )
    if levels[single].treated == 0 and not any(lv.treated for lv in levels[single + 1 :]):
        return make(
            Action.ESCALATE,
            "titration: no DLT by the last titration level -> next level with a full cohort",
            f"escalate to level {single + 1}: a cohort of {cohort_size} (titration over)",
            single,
            cohort_size,
        )
    return None
