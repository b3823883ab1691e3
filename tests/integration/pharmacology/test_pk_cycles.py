"""Across cycles on the PK page: Cycle 1's mean profile beside the steady-state interval's, and
the troughs by the interval they end, each plot with its table and CSV (docs/pharmacology.md
§10)."""

import csv
import io
from datetime import timedelta

import pytest
from django.urls import reverse

from core.dates import site_today
from pharmacology import selectors
from pharmacology.services import lab_import, sample_record
from tests.factories import dosed, enrolled_subject

# Hours after the infusion start and the laboratory's result (ug/mL unless a unit is given).
CYCLE_1 = {
    "pre-dose": (-0.5, "BLQ"), "EOI": (0.6, "2.10"), "2 h": (2, "2.05"), "6 h": (6, "1.90"),
    "24 h": (24, "1.60"), "48 h": (48, "1.42"), "96 h": (96, "1.15"), "168 h": (168, "0.90"),
    "336 h": (336, "0.55"),
}  # fmt: skip
CYCLE_4 = {
    "pre-dose": (-0.5, "0.60"), "EOI": (0.6, "2.70"), "2 h": (2, "2.65"), "6 h": (6, "2.50"),
    "24 h": (24, "2.20"), "48 h": (48, "2.02"), "96 h": (96, "1.75"), "168 h": (168, "1.50"),
    "336 h": (336, "1.10"),
}  # fmt: skip
# The pre-dose samples of Cycles 2 and 3: the troughs of Cycles 1 and 2; Cycle 2's in ng/mL.
TROUGHS = {2: ("350", "ng/mL"), 3: ("0.50", "ug/mL")}


@pytest.fixture
def four_cycles(coordinator_a, data_manager, site_a, cohort1, study):
    subject = enrolled_subject(coordinator_a, site_a, "A-9", cohort1, days_ago=100)
    today = site_today(site_a.timezone)
    doses = {
        cycle: dosed(coordinator_a, subject, on=today - timedelta(days=80 - 21 * (cycle - 1)),
                     cycle=cycle)
        for cycle in (1, 2, 3, 4)
    }  # fmt: skip
    lines = ["sample_id,subject,timepoint,analyte,result,unit,lloq,uloq,run_id"]

    def take(cycle, label, hours, result, unit="ug/mL"):
        barcode = f"C{cycle}-{label.replace(' ', '').replace('-', '')}"
        sample_record(
            by=coordinator_a, subject=subject, dose=doses[cycle], kind="pk", timepoint=label,
            sample_id=barcode, collected_at=doses[cycle].infusion_start + timedelta(hours=hours),
        )  # fmt: skip
        limits = "0.05,50" if unit == "ug/mL" else "50,50000"  # the run's, in its unit
        lines.append(f"{barcode},{subject.subject_number},{label},MIL97,{result},{unit},{limits},R")

    for cycle, profile in ((1, CYCLE_1), (4, CYCLE_4)):
        for label, (hours, result) in profile.items():
            take(cycle, label, hours, result)
    for cycle, (result, unit) in TROUGHS.items():
        take(cycle, "pre-dose", -0.5, result, unit)
    content = ("\n".join(lines) + "\n").encode()
    imported = lab_import(
        by=data_manager, study=study, kind="pk", file_name="cycles.csv", content=content
    )
    assert imported.status == "accepted", imported.report
    return subject


def test_cycle_1_against_steady_state_and_troughs_by_interval(monitor, study, four_cycles):
    data = selectors.pk_across_cycles(monitor, study.pk)
    assert data["steady"] == {"Q3W": 4, "Q2W": 4} and data["unit"] == "ug/mL"
    [level] = data["levels"]
    first, steady = level.lines
    assert (first.visit, first.steady_state, steady.visit, steady.steady_state) == (
        "C1D1", False, "C4D1", True,
    )  # fmt: skip
    assert [p.timepoint for p in first.points] == list(CYCLE_1)
    assert [p.nominal_hours for p in steady.points] == [0, 0.5, 2, 6, 24, 48, 96, 168, 336]
    predose = first.points[0].mean
    assert (predose.n, predose.n_blq, predose.mean) == (1, 1, 0.0)
    assert steady.points[1].mean.mean == 2.7
    # The troughs: the pre-dose samples of Cycles 2, 3 and 4 end intervals 1, 2 and 3; the
    # Cycle 2 one reported in ng/mL is shown in the protocol's unit.
    assert [(t.interval, t.before, t.value) for t in level.troughs] == [
        (1, "C2D1", pytest.approx(0.35)), (2, "C3D1", 0.5), (3, "C4D1", 0.6),
    ]  # fmt: skip
    assert [(c, i, m.n, m.mean) for c, i, m in level.trough_means] == [
        ("Q3W", 1, 1, pytest.approx(0.35)), ("Q3W", 2, 1, 0.5), ("Q3W", 3, 1, 0.6),
    ]  # fmt: skip


def read_csv(response) -> list[dict]:
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(response.content.decode())))


def test_the_page_shows_both_plots_with_their_tables_and_csv(client, monitor, four_cycles):
    client.force_login(monitor)
    page = client.get(reverse("pharmacology:pk"))
    text = page.content.decode()
    assert page.status_code == 200 and "data-across-cycles" in text
    # Interval 1's four curves, Cycle 1 against steady state (linear, semi-log), the troughs.
    assert text.count("<svg") == 7
    assert "Cycle 1 and steady state, semi-log" in text and "Ctrough by dosing interval" in text
    assert "C4D1 (steady state)" in text and "data-trough-means" in text
    cycles = read_csv(client.get(reverse("pharmacology:pk") + "?csv=cycles"))
    assert len(cycles) == 18
    row = next(r for r in cycles if r["visit"] == "C4D1" and r["timepoint"] == "EOI")
    assert (row["steady_state"], row["nrrlt_h"], row["n"], row["mean"], row["unit"]) == (
        "Y", "0.5", "1", "2.7", "ug/mL",
    )  # fmt: skip
    troughs = read_csv(client.get(reverse("pharmacology:pk") + "?csv=troughs"))
    assert [(r["interval"], r["predose_of"], r["reported"], r["reported_unit"], r["value"])
            for r in troughs] == [
        ("1", "C2D1", "350", "ng/mL", "0.35"), ("2", "C3D1", "0.50", "ug/mL", "0.5"),
        ("3", "C4D1", "0.60", "ug/mL", "0.6"),
    ]  # fmt: skip
    means = read_csv(client.get(reverse("pharmacology:pk") + "?csv=trough_means"))
    assert [(r["interval"], r["n"], r["mean"]) for r in means] == [
        ("1", "1", "0.35"), ("2", "1", "0.5"), ("3", "1", "0.6"),
    ]  # fmt: skip
