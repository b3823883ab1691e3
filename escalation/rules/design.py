"""Study design settings for dose escalation: the choices the protocol makes, as data.

Every setting here is one the protocol must state (docs/escalation.md §2-§6; docs/settings.md §2); the defaults are the
MIL97 choices. The Django layer stores the settings with the study and passes them in unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from .errors import EscalationInputError, as_choice


class WindowConvention(StrEnum):
    """How the protocol counts the DLT period (docs/escalation.md §2.1: protocols differ)."""

    # "Day 1..Day N": the dose day is Day 1, the window's last day is Day N = start + N - 1.
    INCLUSIVE = "inclusive"
    # "N days after the dose": the window's last day is start + N.
    AFTER = "after"


class TitrationTrigger(StrEnum):
    """What ends accelerated titration (Simon et al., JNCI 1997;89:1138; docs/escalation.md §3)."""

    # MIL97 default: a DLT, or an AE of grade >= 2 assessed as related, with onset in the window.
    DLT_OR_RELATED_GRADE2 = "dlt_or_related_grade2"
    # Only a DLT ends titration.
    DLT_ONLY = "dlt_only"
    # A DLT, or related grade >= 2 events in two titration subjects (Simon's designs 2-4 end the
    # accelerated phase when one patient has a DLT or two patients have grade 2 toxicity).
    SECOND_RELATED_GRADE2 = "second_related_grade2"

    @property
    def label(self) -> str:
        """The setting in words, as recommendations show it."""
        return _TRIGGER_LABELS[self]


_TRIGGER_LABELS = {
    TitrationTrigger.DLT_OR_RELATED_GRADE2: "a DLT or a related grade >= 2 AE",
    TitrationTrigger.DLT_ONLY: "a DLT only",
    TitrationTrigger.SECOND_RELATED_GRADE2: "a DLT, or a related grade >= 2 AE in a second subject",
}


class TopDoseRule(StrEnum):
    """When the highest dose level open to a track, tolerated, becomes the MAD (docs/escalation.md §4.5)."""

    # 0/3 at the top dose fills it to `expanded_cohort_size` (6) first; <= 1/6 there declares the
    # MAD, as the expand-lower variant does for the MTD (simFastBOIN, mtd_rule = "expand").
    FILL_TO_6 = "fill_to_6"
    # 0/3 at the top dose declares the MAD at once (R package `escalation`, `three_plus_three`,
    # stops there).
    DECLARE_AT_3 = "declare_at_3"


class LastWindowDay(StrEnum):
    """Ending treatment (or leaving the study) on the DLT window's last day (docs/escalation.md §2.2)."""

    # The subject was observed through the last day and no infusion of the window is missed:
    # the window is completed, evaluable under the usual exposure rule.
    EVALUABLE = "evaluable"
    # Strict reading: leaving on the last day is leaving early -> not evaluable, replace.
    NOT_EVALUABLE = "not_evaluable"


class ExceededVariant(StrEnum):
    """What a dose that exceeds the MTD means for the dose below it (docs/escalation.md §4.5)."""

    # Korn et al. 1994; R package `escalation`, allow_deescalate = TRUE: fill d-1 to 6 first.
    EXPAND_LOWER = "expand_lower"
    # d-1 is the MTD at once (flagged when it rests on fewer than 6 evaluable subjects).
    SIMPLE = "simple"


# BOIN elimination boundary for a 30% target DLT rate (Liu & Yuan, JRSS-C 2015;64:507; Yuan et al.,
# Clin Cancer Res 2016;22:4291): stop a dose when Pr(DLT rate > 0.30 | data) > 0.95 under a
# Beta(1, 1) prior, from 3 evaluated subjects on. docs/escalation.md §6 uses it as the expansion
# safety monitoring rule (FDA guidance on expansion cohorts, 2022). Checked: the posterior tail
# Pr(p > 0.3) = P(Binomial(n + 1, 0.3) <= y) first exceeds 0.95 at y = 3, 3, 4, 4, 5, 5, 5, 6 for
# n = 3..10. Rows: (fewest evaluated, most evaluated, DLT-type toxicities that pause the cohort).
BOIN_30_ELIMINATION: tuple[tuple[int, int, int], ...] = (
    (3, 4, 3),
    (5, 6, 4),
    (7, 9, 5),
    (10, 10, 6),
)


@dataclass(frozen=True)
class DesignSettings:
    """The escalation design of one study. Defaults are MIL97's (docs/settings.md §2).

    The 3+3 decision table's DLT counts (0 -> escalate, 1 -> expand, >= 2 -> exceeded) are fixed;
    the sizes below say how many evaluable subjects each step needs.
    """

    # Accelerated titration applies to the first N dose levels of a track that allows it.
    titration_levels: int = 2
    titration_trigger: TitrationTrigger = TitrationTrigger.DLT_OR_RELATED_GRADE2
    exceeded_variant: ExceededVariant = ExceededVariant.EXPAND_LOWER
    window_convention: WindowConvention = WindowConvention.INCLUSIVE
    # An infusion counts toward the minimum exposure when it delivered at least this fraction of
    # the planned dose (1.0 = the full C1D1 infusion, docs/escalation.md §2.2).
    minimum_exposure_fraction: float = 1.0
    # How many of the planned infusions inside the window must reach that fraction; None means
    # every planned infusion (1 on Q3W, 2 on Q2W: Day 1 and Day 15).
    minimum_infusions: int | None = None
    cohort_size: int = 3
    expanded_cohort_size: int = 6
    expansion_cohort_size: int = 10
    expansion_boundaries: tuple[tuple[int, int, int], ...] = BOIN_30_ELIMINATION
    # MIL97 synopsis: "expand to total of 10 subjects in each cohort". True: the evaluable
    # subjects already treated at the expansion's dose and regimen on escalation count toward the
    # 10, and toward the safety boundary with their DLTs (`expansion.recommend_expansion`).
    expansion_counts_escalation_subjects: bool = True
    top_dose_rule: TopDoseRule = TopDoseRule.FILL_TO_6
    end_of_treatment_on_last_window_day: LastWindowDay = LastWindowDay.EVALUABLE

    def __post_init__(self) -> None:
        # Accept the enum values as plain strings (what a settings table stores).
        for name, choices in (
            ("titration_trigger", TitrationTrigger),
            ("exceeded_variant", ExceededVariant),
            ("window_convention", WindowConvention),
            ("top_dose_rule", TopDoseRule),
            ("end_of_treatment_on_last_window_day", LastWindowDay),
        ):
            object.__setattr__(self, name, as_choice(choices, getattr(self, name), name))
        object.__setattr__(
            self, "expansion_boundaries", tuple(tuple(row) for row in self.expansion_boundaries)
        )
        if not isinstance(self.expansion_counts_escalation_subjects, bool):
            raise EscalationInputError("expansion_counts_escalation_subjects must be true or false")
        if self.titration_levels < 0:
            raise EscalationInputError("titration_levels cannot be negative")
        if not 0 < self.minimum_exposure_fraction <= 1:
            raise EscalationInputError("minimum_exposure_fraction must be in (0, 1]")
        if self.minimum_infusions is not None and self.minimum_infusions < 1:
            raise EscalationInputError("minimum_infusions must be at least 1 (or None)")
        if self.cohort_size < 1 or self.expanded_cohort_size <= self.cohort_size:
            raise EscalationInputError("need 1 <= cohort_size < expanded_cohort_size")
        if self.expansion_cohort_size < 1:
            raise EscalationInputError("expansion_cohort_size must be at least 1")
        # The safety monitoring rule must watch every cohort size from its first row on (FDA
        # guidance on expansion cohorts, 2022; docs/escalation.md §6): `pause_threshold` finds no boundary for
        # a count that falls in a gap between rows, or in an empty table, and a row whose DLT
        # count exceeds its own sizes can never be reached. Each would silently switch the rule
        # off, so the table must be non-empty, contiguous and reachable.
        if not self.expansion_boundaries:
            raise EscalationInputError("expansion boundaries: at least one row is needed")
        previous_high = None
        for row in self.expansion_boundaries:
            if len(row) != 3:
                raise EscalationInputError("expansion boundary rows are (low, high, dlts)")
            low, high, dlts = row
            if not (1 <= low <= high) or not (1 <= dlts <= high):
                raise EscalationInputError(f"expansion boundary row {row} is out of order")
            if previous_high is not None and low != previous_high + 1:
                raise EscalationInputError(
                    f"expansion boundary row {row} is out of order: it must start at "
                    f"{previous_high + 1}, the rows cover every number evaluated without a gap"
                )
            previous_high = high
