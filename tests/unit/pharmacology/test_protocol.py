"""The protocol file's [pharmacology] section read by the core (docs/pharmacology.md §7)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from pharmacology.rules import PharmacologyInputError, default_schedule
from pharmacology.rules.protocol import read_protocol

MIL97 = Path(__file__).resolve().parents[3] / "trial" / "protocols" / "mil97.toml"


def section() -> dict:
    return tomllib.loads(MIL97.read_text(encoding="utf-8"))["pharmacology"]


@pytest.mark.parametrize("regimen", ["Q3W", "Q2W"])
def test_mil97_schedules_are_the_documented_typical_schedule(regimen: str) -> None:
    # docs/pharmacology.md §1.1: the protocol's table spells out the typical schedule.
    schedule = read_protocol(section()).schedule(regimen)
    expected = default_schedule(regimen)
    assert schedule is not None
    assert (schedule.tau_hours, schedule.infusion_hours) == (
        expected.tau_hours,
        expected.infusion_hours,
    )
    assert [c.cycle for c in schedule.cycles] == [c.cycle for c in expected.cycles]
    for ours, theirs in zip(schedule.cycles, expected.cycles, strict=True):
        assert set(ours.timepoints) == set(theirs.timepoints), ours.cycle


def test_mil97_settings() -> None:
    protocol = read_protocol(section())
    assert protocol.pk.analyte == "MIL97" and protocol.pk.unit == "ug/mL"
    assert protocol.ada.boost_fold == 4.0
    assert {a.code for a in protocol.biomarker_analytes} >= {"SCD80", "SCD86", "IL6", "IFNG"}
    assert protocol.samples.flag_deviation_hours is None


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda s: s.update(extra=1), "pharmacology: unknown key 'extra'"),
        (lambda s: s["nca"].update(blq_middle="ignore"), "pharmacology.nca: blq_middle"),
        (lambda s: s["nca"].update(min_hl_points=1), "pharmacology.nca: min_hl_points"),
        (lambda s: s["ada"].update(fold=4), "pharmacology.ada: unknown setting 'fold'"),
        (lambda s: s["pk"].update(unit="mg"), "pharmacology.pk.unit: 'mg'"),
        (
            lambda s: s["schedules"][0]["points"][0].update(cycles=[]),
            "pharmacology.schedules[1] (Q3W).points[1].cycles",
        ),
        (
            lambda s: s["schedules"][0]["points"][0].update(offset_hours=2),
            "pre-dose sample is due at the start",
        ),
        (
            lambda s: s["schedules"][1]["points"][1].update(anchor="middle"),
            "pharmacology.schedules[2] (Q2W).points[2].anchor",
        ),
        (lambda s: s["schedules"].append(dict(s["schedules"][0])), "a regimen is repeated"),
        (lambda s: s["samples"].update(flag_deviation_hours=-1), "must be positive"),
    ],
)
def test_bad_settings_are_refused_naming_the_key(change, message: str) -> None:
    data = section()
    change(data)
    with pytest.raises(PharmacologyInputError, match=None) as raised:
        read_protocol(data)
    assert message in str(raised.value)
