"""Time the operating-characteristics simulator (docs/designs.md §10.4).

    .venv/bin/python bench/designs_simulation.py [--trials 10000] [--rscript /usr/bin/Rscript
        --boin-lib /tmp/Rlib]

Prints the seconds for 10,000 BOIN trials (5 doses, 10 cohorts of 3), TITE-BOIN and the CRM,
beside the published anchors: a compiled BOIN simulator, 10,000 such trials in 0.17 s; the BOIN
R package, 6.7 s. When R and the BOIN package are given, get.oc is timed in the same run on this
machine, and the ratio is printed (a fairer comparison on a shared, noisy machine).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from escalation.rules.designs import BoinSettings, TrialSettings  # noqa: E402
from escalation.rules.designs.crm import CrmSettings, getprior  # noqa: E402
from escalation.rules.designs.simulate import Scenario, Timing, simulate  # noqa: E402
from escalation.rules.designs.tite_boin import TiteBoinSettings  # noqa: E402

SCENARIO = Scenario((0.05, 0.15, 0.3, 0.45, 0.6), name="MTD at level 3")
COMPILED_ANCHOR = 0.17
R_ANCHOR = 6.7


def _time(label: str, run: object) -> float:
    started = time.perf_counter()
    run()  # type: ignore[operator]
    seconds = time.perf_counter() - started
    print(f"{label:<52} {seconds:8.2f} s")
    return seconds


def _r_get_oc(rscript: str, lib: str, trials: int) -> float | None:
    code = (
        f'library(BOIN, lib.loc="{lib}"); t <- system.time(get.oc(target=0.3, '
        "p.true=c(0.05,0.15,0.3,0.45,0.6), ncohort=10, cohortsize=3, "
        f"ntrial={trials}, seed=6))[['elapsed']]; cat(t)"
    )
    try:
        out = subprocess.run(
            [rscript, "-e", code], capture_output=True, text=True, check=True, timeout=600
        )
    except (OSError, subprocess.SubprocessError) as error:
        print(f"R get.oc not run: {error}")
        return None
    return float(out.stdout.strip().split()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trials", type=int, default=10_000)
    parser.add_argument("--rscript", default="/usr/bin/Rscript")
    parser.add_argument("--boin-lib", default=os.environ.get("BOIN_R_LIB", ""))
    args = parser.parse_args()
    n = args.trials
    boin = BoinSettings(trial=TrialSettings(target=0.3, max_subjects=30))
    print(f"{n} trials, 5 doses, 10 cohorts of 3, target 0.3, scenario {SCENARIO.true_dlt}")
    ours = _time("BOIN (vectorised NumPy)", lambda: simulate(boin, SCENARIO, n_trials=n))
    tite = TiteBoinSettings(boin=boin)
    _time(
        "TITE-BOIN (calendar time, 2 subjects per window)",
        lambda: simulate(tite, SCENARIO, n_trials=n, timing=Timing(accrual_per_window=2)),
    )
    crm = CrmSettings(skeleton=getprior(0.05, 0.3, 3, 5), target=0.3, stop_at_n=30)
    _time("CRM (power model, cohorts of 3)", lambda: simulate(crm, SCENARIO, n_trials=n))
    print(f"{'anchor: compiled BOIN simulator (published)':<52} {COMPILED_ANCHOR:8.2f} s")
    print(f"{'anchor: BOIN R package get.oc (published)':<52} {R_ANCHOR:8.2f} s")
    if args.boin_lib:
        r_seconds = _r_get_oc(args.rscript, args.boin_lib, n)
        if r_seconds is not None:
            print(f"{'BOIN R package get.oc, this machine, this run':<52} {r_seconds:8.2f} s")
            print(f"ratio R get.oc / ours: {r_seconds / ours:.1f}x")


if __name__ == "__main__":
    main()
