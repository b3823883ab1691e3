"""NCA against a reference implementation: NonCompart on R's Theoph and Indometh data sets.

Data: R 4.2 `datasets::Theoph` (Boeckmann, Sheiner and Beal, NONMEM Users Guide Part V, 1994:
theophylline, oral, 12 subjects) and `datasets::Indometh` (Kwan et al., J Pharmacokinet
Biopharm 1976;4:255-280: indometacin, 6 subjects), exported by reference/export_datasets.R.
R's datasets package is GPL-2 | GPL-3.

Results: computed here by reference/noncompart_reference.R with the NonCompart R package
(K.-S. Bae, GPL-3; version and R version in the first lines of each reference/noncompart_*.csv),
whose authors report that it reproduces the results of Phoenix WinNonlin (Kim H, Han S, Cho YS,
Yoon SK, Bae KS, "Development of R packages: 'NonCompart' and 'ncar' for noncompartmental
analysis (NCA)", Transl Clin Pharmacol 2018;26(1):10-15, doi:10.12793/tcp.2018.26.1.10).
Theoph is oral, 320 mg, so CL/F and Vz/F are compared; Indometh is analysed as a 0.25 h IV
infusion of 25 mg (CL, Vz, Vss, MRT).

Every subject and parameter must agree to 1e-9 relative: the CSVs carry every digit of R's
doubles, so only the floating-point noise of a different summation order is allowed. The
lambda_z points (number, first and last time) must be the same.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import pytest

from pharmacology.rules.nca import (
    AucMethod,
    Concentration,
    Dosing,
    NcaResult,
    NcaSettings,
    Profile,
    Route,
    analyse,
)

REFERENCE = Path(__file__).parent / "reference"
RELATIVE_TOLERANCE = 1e-9

# NonCompart's parameter (CDISC PPTESTCD) -> the result's attribute. VZFO/CLFO are the apparent
# Vz/F and CL/F of the oral data set; MRTEVIFO/MRTIVIFO the extravascular/intravascular MRT.
PARAMETERS = {
    "R2": "r_squared",
    "R2ADJ": "adj_r_squared",
    "LAMZ": "lambda_z",
    "LAMZHL": "half_life",
    "TMAX": "tmax",
    "CMAX": "cmax",
    "TLST": "tlast",
    "CLST": "clast",
    "AUCLST": "auclast",
    "AUCALL": "aucall",
    "AUCIFO": "aucinf_obs",
    "AUCPEO": "auc_extrapolated_percent",
    "VZFO": "vz",
    "CLFO": "clearance",
    "VZO": "vz",
    "CLO": "clearance",
    "AUMCLST": "aumclast",
    "AUMCIFO": "aumcinf_obs",
    "MRTEVIFO": "mrt",
    "MRTIVIFO": "mrt",
    "VSSO": "vss",
}
# The terminal fit itself: intercept (ln conc) and the Clast it predicts.
FIT = {"b0": "intercept", "CLSTP": "clast_pred"}


def _reference(name: str) -> tuple[list[str], list[dict[str, str]]]:
    """The "#" provenance lines (R and NonCompart versions) and the rows of a result file."""
    with (REFERENCE / name).open(newline="") as handle:
        lines = handle.read().splitlines()
    provenance = [line for line in lines if line.startswith("#")]
    rows = list(csv.DictReader(line for line in lines if not line.startswith("#")))
    return provenance, rows


def _profiles(name: str) -> dict[int, list[dict[str, str]]]:
    with (REFERENCE / name).open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    by_subject: dict[int, list[dict[str, str]]] = {}
    for row in rows:
        by_subject.setdefault(int(row["subject"]), []).append(row)
    return by_subject


def _analyse(rows: list[dict[str, str]], dosing: Dosing, method: AucMethod) -> NcaResult:
    profile = Profile(
        subject=rows[0]["subject"],
        analyte="reference",
        cycle=1,
        dosing=dosing,
        concentrations=tuple(
            Concentration(float(r["time_h"]), float(r["conc_mg_per_L"])) for r in rows
        ),
        unit="mg/L",
    )
    # Theoph has measured (non-zero) concentrations at time 0, which NonCompart integrates from:
    # the dose-naive C0 = 0 imputation is switched off for the oral data set only.
    settings = NcaSettings(auc_method=method, dose_naive_conc0=dosing.route is Route.IV_INFUSION)
    return analyse(profile, settings)


THEOPH = Dosing(Route.EXTRAVASCULAR, amount_mg=320)
INDOMETH = Dosing(Route.IV_INFUSION, amount_mg=25, infusion_hours=0.25)
CASES = [
    ("theoph.csv", "noncompart_theoph_lin_up_log_down.csv", THEOPH, AucMethod.LIN_UP_LOG_DOWN),
    ("theoph.csv", "noncompart_theoph_linear.csv", THEOPH, AucMethod.LINEAR),
    (
        "indometh.csv",
        "noncompart_indometh_lin_up_log_down.csv",
        INDOMETH,
        AucMethod.LIN_UP_LOG_DOWN,
    ),
    ("indometh.csv", "noncompart_indometh_linear.csv", INDOMETH, AucMethod.LINEAR),
]
IDS = ["theoph-lin-up-log-down", "theoph-linear", "indometh-iv-log-down", "indometh-iv-linear"]


@pytest.mark.parametrize(("data", "computed", "dosing", "method"), CASES, ids=IDS)
def test_every_subject_and_parameter_matches_noncompart(
    data: str, computed: str, dosing: Dosing, method: AucMethod
) -> None:
    profiles = _profiles(data)
    provenance, reference = _reference(computed)
    assert any(line.startswith("# NonCompart ") for line in provenance), provenance
    assert sorted(int(row["subject"]) for row in reference) == sorted(profiles)
    columns = [column for column in reference[0] if column in FIT or column in PARAMETERS]
    # Every column of the file is checked; Vss only exists for the intravascular data set.
    assert set(reference[0]) == {"subject", "LAMZNPT", "LAMZLL", "LAMZUL", *columns}
    assert len(columns) == len(FIT) + (18 if dosing.route is Route.IV_INFUSION else 17)
    compared = 0
    for expected in reference:
        subject = expected["subject"]
        result = _analyse(profiles[int(subject)], dosing, method)
        fit = result.fit
        assert fit is not None, subject
        assert fit.n_points == int(expected["LAMZNPT"]), subject
        assert (fit.time_first, fit.time_last) == (
            float(expected["LAMZLL"]),
            float(expected["LAMZUL"]),
        ), subject
        checks = [
            (column, getattr(fit, FIT[column]))
            if column in FIT
            else (column, getattr(result, PARAMETERS[column]).value)
            for column in columns
        ]
        for column, ours in checks:
            reference_value = float(expected[column])
            assert ours is not None, (subject, column)
            assert math.isclose(ours, reference_value, rel_tol=RELATIVE_TOLERANCE), (
                f"subject {subject} {column}: {ours!r} != NonCompart {reference_value!r}"
            )
            compared += 1
    assert compared == len(reference) * len(columns)


def test_dataset_export_is_what_r_ships() -> None:
    # Spot values of R's datasets (print(Theoph[1:2, ]), print(Indometh[1, ])).
    theoph = _profiles("theoph.csv")
    assert (theoph[1][0]["time_h"], theoph[1][0]["conc_mg_per_L"]) == ("0", "0.74")
    assert (theoph[1][1]["time_h"], theoph[1][1]["conc_mg_per_L"]) == ("0.25", "2.84")
    assert sum(len(rows) for rows in theoph.values()) == 132
    indometh = _profiles("indometh.csv")
    assert (indometh[1][0]["time_h"], indometh[1][0]["conc_mg_per_L"]) == ("0.25", "1.5")
    assert sum(len(rows) for rows in indometh.values()) == 66
