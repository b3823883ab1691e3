"""Scenario table for the live decisions of the interval designs and TITE-BOIN
(docs/designs.md §2-§5, §8), and the package's purity."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import escalation.rules.designs as designs
from escalation.rules.designs import (
    Action,
    BoinSettings,
    DesignFacts,
    DesignInputError,
    LevelData,
    Titration,
    TrialSettings,
    boin_decide,
)
from escalation.rules.designs.tite_boin import TiteBoinSettings, tite_boin_decide, tite_table

BOIN = BoinSettings(trial=TrialSettings(target=0.3))


def _facts(n: tuple[int, ...], y: tuple[int, ...], current: int) -> DesignFacts:
    return DesignFacts.from_counts(n, y, current)


@pytest.mark.parametrize(
    ("settings", "n", "y", "current", "action", "dose", "rule_start"),
    [
        (BOIN, (0, 0, 0), (0, 0, 0), 0, Action.STAY, 0, "start"),
        (BOIN, (3, 0, 0), (0, 0, 0), 0, Action.ESCALATE, 1, "E"),
        (BOIN, (3, 3, 0), (0, 1, 0), 1, Action.STAY, 1, "S"),
        (BOIN, (3, 3, 0), (0, 2, 0), 1, Action.DE_ESCALATE, 0, "D"),
        (BOIN, (3, 3, 0), (0, 3, 0), 1, Action.DE_ESCALATE_ELIMINATE, 0, "DE"),
        (BOIN, (3, 3, 3), (0, 0, 0), 2, Action.STAY, 2, "E: top dose"),
        # 3/3 at level 3 eliminated it: 0/6 at level 2 escalates nowhere.
        (BOIN, (3, 6, 3), (0, 0, 3), 1, Action.STAY, 1, "E: next dose eliminated"),
        (BOIN, (6, 0, 0), (3, 0, 0), 0, Action.STAY, 0, "D: lowest dose"),
        (BOIN, (3, 0, 0), (3, 0, 0), 0, Action.STOP, None, "elimination"),
        (
            BoinSettings(trial=TrialSettings(target=0.3, n_earlystop=9)),
            (3, 9, 0),
            (0, 3, 0),
            1,
            Action.SELECT_MTD,
            None,
            "n.earlystop",
        ),
        (
            BoinSettings(trial=TrialSettings(target=0.3, extrasafe=True)),
            (3, 0),
            (2, 0),
            0,
            Action.STOP,
            None,
            "extra safety",
        ),
        (BOIN, (9, 12, 9), (0, 3, 5), 1, Action.SELECT_MTD, None, "maximum sample size"),
    ],
)
def test_boin_decisions(
    settings: BoinSettings,
    n: tuple[int, ...],
    y: tuple[int, ...],
    current: int,
    action: Action,
    dose: int | None,
    rule_start: str,
) -> None:
    decision = boin_decide(settings, _facts(n, y, current))
    assert decision.action is action, decision
    assert decision.dose == dose
    assert decision.rule.startswith(rule_start), decision.rule
    assert decision.table is not None and decision.table.n_max >= 30


def test_select_mtd_at_the_end_names_the_dose() -> None:
    decision = boin_decide(BOIN, _facts((9, 12, 9), (0, 3, 5), 1))
    assert decision.mtd == 1 and decision.estimates[1] is not None


def test_pending_outcomes_wait_under_boin() -> None:
    facts = DesignFacts(levels=(LevelData(2, 0, pending=(0.4,)), LevelData(0, 0)), current=0)
    assert boin_decide(BOIN, facts).action is Action.SUSPEND_ACCRUAL


def test_titration_in_front() -> None:
    settings = BoinSettings(trial=TrialSettings(target=0.3, titration=Titration(2)))
    steps = [
        ((0, 0, 0, 0), (0, 0, 0, 0), 0, Action.STAY, 0, 1),
        ((1, 0, 0, 0), (0, 0, 0, 0), 0, Action.ESCALATE, 1, 1),
        ((1, 1, 0, 0), (0, 0, 0, 0), 1, Action.ESCALATE, 2, 3),  # titration over
        ((1, 1, 0, 0), (0, 1, 0, 0), 1, Action.STAY, 1, 2),  # DLT: complete to 3
        ((1, 3, 0, 0), (0, 1, 0, 0), 1, Action.STAY, 1, 3),  # BOIN from here: 1/3 stays
    ]
    for n, y, current, action, dose, size in steps:
        decision = boin_decide(settings, _facts(n, y, current))
        assert (decision.action, decision.dose, decision.cohort_size) == (action, dose, size)


def test_settings_refuse_bad_values() -> None:
    with pytest.raises(DesignInputError, match="target"):
        TrialSettings(target=0.9).check()
    with pytest.raises(DesignInputError, match="phi1"):
        BoinSettings(trial=TrialSettings(target=0.3), phi1=0.29)
    with pytest.raises(DesignInputError, match="deescalate_at_2_of_6"):
        BoinSettings(trial=TrialSettings(target=0.2), deescalate_at_2_of_6=True)
    with pytest.raises(DesignInputError, match="dlts"):
        LevelData(2, 3)
    with pytest.raises(DesignInputError, match="pending"):
        LevelData(2, 0, pending=(1.0,))


TITE = TiteBoinSettings(boin=BoinSettings(trial=TrialSettings(target=0.2)))


def _tite(evaluable: int, dlts: int, pending: tuple[float, ...]) -> DesignFacts:
    return DesignFacts(
        levels=(LevelData(3, 0), LevelData(evaluable, dlts, pending), LevelData(0, 0)), current=1
    )


def test_tite_boin_without_pending_is_boin() -> None:
    for n in range(1, 13):
        for y in range(n + 1):
            tite = tite_boin_decide(TITE, _tite(n, y, ()))
            boin = boin_decide(TITE.boin, _tite(n, y, ()))
            assert (tite.action, tite.dose) == (boin.action, boin.dose), (n, y)


def test_tite_boin_order_of_rules() -> None:
    # 2 pending of 3 without DLT: more than half pending -> suspend.
    assert tite_boin_decide(TITE, _tite(1, 0, (0.5, 0.5))).action is Action.SUSPEND_ACCRUAL
    # 1 DLT in 3 treated (target 0.2: lambda_d = 0.28): de-escalate whatever is pending.
    assert tite_boin_decide(TITE, _tite(1, 1, (0.1,))).action is Action.DE_ESCALATE
    # 0 DLT, 1 of 3 pending: p_tilde small -> escalate.
    assert tite_boin_decide(TITE, _tite(2, 0, (0.1,))).action is Action.ESCALATE


def test_tite_table_thresholds_match_the_decision_function() -> None:
    rows = tite_table(TITE, 12)
    assert {r.decision for r in rows} >= {"E", "S", "D", "DE", "suspend", "E if STFT >= t"}
    for row in rows:
        if row.pending == 0:
            continue
        for stft in (0.0, row.pending * 0.5, row.pending * 0.999):
            fractions = (stft / row.pending,) * row.pending
            level = LevelData(row.n - row.pending, row.y, fractions)
            letter = TITE.pending_letter(level)
            got = "suspend" if letter is None else str(letter)
            if row.stft_threshold is None:
                assert got == row.decision, (row, stft)
            elif row.decision.startswith("E"):
                assert got == ("E" if stft >= row.stft_threshold else "S"), (row, stft)
            else:
                assert got == ("D" if stft <= row.stft_threshold else "S"), (row, stft)


PACKAGE = Path(designs.__file__).parent


@pytest.mark.parametrize("path", sorted(PACKAGE.glob("*.py")), ids=lambda p: p.name)
def test_designs_import_no_django(path: Path) -> None:
    allowed_roots = {
        "__future__",
        "math",
        "dataclasses",
        "enum",
        "fractions",
        "functools",
        "typing",
        "collections",
        "sys",
        "numpy",
        "scipy",
        "escalation",
    }
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names = [node.module or ""]
        else:
            continue
        for name in names:
            root = name.split(".")[0]
            assert root in allowed_roots, f"{path.name} imports {name}"
            if root == "escalation":  # only the core's error type
                assert name == "escalation.rules.errors", f"{path.name} imports {name}"
