"""MTD selection by isotonic regression against BOIN 2.7.2's select.mtd.

reference/boin_select_mtd_example.txt: the documented example of select.mtd's Rd file;
reference/boin_select_mtd.csv: 400 seeded random data sets x boundMTD x extrasafe, and data sets
with exact ties of the isotonic estimates (where the 1e-10 x d tie-break decides).
"""

from __future__ import annotations

import pytest

from escalation.rules.designs import BoinSettings, select_mtd
from escalation.rules.designs.boin import boin_boundaries

from .reference_data import REFERENCE, ints, read_reference_csv


def test_documented_example() -> None:
    lines = dict(
        line.split(" ", 1)
        for line in (REFERENCE / "boin_select_mtd_example.txt").read_text().splitlines()
        if not line.startswith("#")
    )
    mtd, estimates = select_mtd(target=0.3, n=(3, 3, 15, 9, 0), y=(0, 0, 4, 4, 0))
    assert mtd is not None and mtd + 1 == int(lines["MTD"])
    shown = [f"{v:.2f}" if v is not None else "----" for v in estimates]
    assert shown == lines["phat"].split()


def test_every_reference_case() -> None:
    rows = read_reference_csv("boin_select_mtd.csv")
    assert len(rows) > 1600
    for row in rows:
        target = float(row["target"])
        bound = boin_boundaries(target, 0.6 * target, 1.4 * target)[1]
        mtd, _ = select_mtd(
            target=target,
            n=ints(row["n"]),
            y=ints(row["y"]),
            extrasafe_cutoff=0.90 if row["extrasafe"] == "TRUE" else None,
            bound=bound if row["boundMTD"] == "TRUE" else None,
        )
        expected = int(row["mtd"])
        assert (99 if mtd is None else mtd + 1) == expected, row


@pytest.mark.parametrize(
    ("n", "y", "expected"),
    [
        ((3, 3, 3), (1, 1, 1), 0),  # one block above 0.25: the lowest dose of it
        ((6, 6, 3), (0, 1, 0), 2),  # 1/6 pooled with 0/3, below the target: the higher dose
    ],
)
def test_tie_break_by_dose(n: tuple[int, ...], y: tuple[int, ...], expected: int) -> None:
    mtd, estimates = select_mtd(target=0.25, n=n, y=y)
    assert mtd == expected
    pooled = [v for v in estimates if v is not None]
    assert pooled[-1] == pooled[-2]  # the tie the 1e-10 x d term breaks


def test_bound_mtd_uses_lambda_d() -> None:
    settings = BoinSettings()
    _, lambda_d = settings.lambdas
    # 3/6 at the only treated dose: isotonic estimate 0.5 > lambda_d = 0.3585 -> no MTD.
    assert select_mtd(target=0.3, n=(6, 0), y=(3, 0), bound=lambda_d)[0] is None
    assert select_mtd(target=0.3, n=(6, 0), y=(3, 0))[0] == 0
