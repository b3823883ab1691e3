"""TITE-BOIN's decisions with pending subjects against a published TITE-BOIN decision table:
Contemp Clin Trials Commun 2022, PMC9260438, Table 1 (target 0.2, cohorts of 3, up to 9 subjects
at a dose; accrual suspended when more than half are pending). Each published row gives, for n
treated, y DLTs and a range of pending subjects, one decision whatever the follow-up ("Y"), an
STFT threshold that splits two decisions, "suspend accrual", or "Y & eliminate"."""

from __future__ import annotations

import pytest

from escalation.rules.designs import BoinSettings, TrialSettings
from escalation.rules.designs.tite_boin import TiteBoinSettings, tite_table

SETTINGS = TiteBoinSettings(boin=BoinSettings(trial=TrialSettings(target=0.2)))
ROWS = {(r.n, r.y, r.pending): r for r in tite_table(SETTINGS, 9)}

# (n, DLTs, pending from, pending to, published decision); "one" = a single decision for every
# STFT (a "Y" in one column), with the letter where the published row leaves no doubt.
PUBLISHED = [
    (3, 0, 0, 1, "E"),
    (3, 0, 2, 3, "suspend"),
    (3, 1, 0, 2, "one"),
    (3, 2, 0, 1, "DE"),
    (3, 3, 0, 0, "DE"),
    (6, 0, 0, 3, "E"),
    (6, 0, 4, 6, "suspend"),
    (6, 1, 0, 3, "one"),
    (6, 1, 4, 5, "suspend"),
    (6, 2, 0, 4, "one"),
    (6, 3, 0, 3, "DE"),
    (9, 0, 0, 4, "E"),
    (9, 0, 5, 9, "suspend"),
    (9, 1, 0, 2, "E"),
    (9, 1, 5, 8, "suspend"),
    (9, 2, 0, 0, "one"),
    (9, 2, 5, 7, "suspend"),
    (9, 3, 0, 6, "one"),
    (9, 4, 0, 5, "DE"),
]
# Escalate if STFT >= t (else stay); de-escalate if STFT <= t (else stay).
THRESHOLDS = [
    (9, 1, 3, "E if STFT >= t", 0.77),
    (9, 1, 4, "E if STFT >= t", 2.15),
    (9, 2, 1, "D if STFT <= t", 0.52),
    (9, 2, 2, "D if STFT <= t", 1.59),
    (9, 2, 3, "D if STFT <= t", 2.66),
    (9, 2, 4, "D if STFT <= t", 3.73),
]


@pytest.mark.parametrize(("n", "y", "low", "high", "decision"), PUBLISHED)
def test_published_rows(n, y, low, high, decision):
    for pending in range(low, high + 1):
        row = ROWS[(n, y, pending)]
        if decision == "one":
            assert row.decision in ("E", "S", "D"), (n, y, pending, row)
        else:
            assert row.decision == decision, (n, y, pending, row)


@pytest.mark.parametrize(("n", "y", "pending", "decision", "threshold"), THRESHOLDS)
def test_published_stft_thresholds(n, y, pending, decision, threshold):
    row = ROWS[(n, y, pending)]
    assert row.decision == decision
    assert round(row.stft_threshold, 2) == threshold


def test_the_one_decision_rows_follow_boin_at_target_0_2():
    # lambda_e = 0.157, lambda_d = 0.238: 1/3 and 2/6 de-escalate, 1/6 stays (its imputed rate
    # cannot fall to lambda_e), 2/9 stays without pending subjects, 3/9 de-escalates.
    assert {ROWS[(3, 1, c)].decision for c in range(3)} == {"D"}
    assert {ROWS[(6, 1, c)].decision for c in range(4)} == {"S"}
    assert {ROWS[(6, 2, c)].decision for c in range(5)} == {"D"}
    assert ROWS[(9, 2, 0)].decision == "S"
    assert {ROWS[(9, 3, c)].decision for c in range(7)} == {"D"}
