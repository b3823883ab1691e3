"""The protocol file's `[pharmacology]` section as the core's settings (docs/pharmacology.md §7).

The section holds, per regimen, the nominal sampling schedule (PK, ADA and biomarker time
points, each listing the dosing intervals it is taken in) and the settings of the analyses
(NCA, ADA, biomarkers, the sample deviation flag). `read_protocol` checks every entry and names
the key and the rule when one is wrong; nothing here reads a file.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .ada import AdaSettings
from .biomarkers import BiomarkerSettings
from .errors import PharmacologyInputError
from .nca import CONCENTRATION_UNITS_MG_PER_L, NcaSettings
from .sampling import (
    Anchor,
    CycleSchedule,
    Role,
    SampleKind,
    SamplingSchedule,
    TimePoint,
)

PROTOCOL_KEYS = {"pk", "nca", "ada", "biomarkers", "samples", "schedules"}


@dataclass(frozen=True)
class PkSettings:
    """The analyte measured for PK, its unit and specimen."""

    analyte: str = "MIL97"
    unit: str = "ug/mL"
    specimen: str = "SERUM"


@dataclass(frozen=True)
class BiomarkerAnalyte:
    code: str  # the test code (e.g. IL6), also the analyte column of the lab file
    name: str  # the test name (e.g. Interleukin 6)
    category: str  # CYTOKINE, CELL SURFACE MARKER ...
    units: tuple[str, ...]


@dataclass(frozen=True)
class SampleSettings:
    """`flag_deviation_hours`: a sample whose actual time is further than this from nominal is
    flagged even inside its window (None: only the window flags)."""

    flag_deviation_hours: float | None = None


@dataclass(frozen=True)
class PharmacologyProtocol:
    pk: PkSettings
    nca: NcaSettings
    ada: AdaSettings
    biomarkers: BiomarkerSettings
    biomarker_analytes: tuple[BiomarkerAnalyte, ...]
    samples: SampleSettings
    schedules: tuple[SamplingSchedule, ...]

    def schedule(self, regimen: str) -> SamplingSchedule | None:
        return next((s for s in self.schedules if s.regimen == regimen), None)

    def biomarker(self, code: str) -> BiomarkerAnalyte | None:
        return next((a for a in self.biomarker_analytes if a.code == code), None)


def _table(data: Mapping[str, Any], key: str, where: str) -> Mapping[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, Mapping):
        raise PharmacologyInputError(f"{where}.{key}: must be a table")
    return value


def _settings(cls: type[Any], data: Mapping[str, Any], where: str) -> Any:
    known = set(cls.__dataclass_fields__)
    unknown = sorted(set(data) - known)
    if unknown:
        raise PharmacologyInputError(
            f"{where}: unknown setting {unknown[0]!r} (known: {', '.join(sorted(known))})"
        )
    try:
        return cls(**data)
    except TypeError as error:
        raise PharmacologyInputError(f"{where}: {error}") from None
    except PharmacologyInputError as error:
        raise PharmacologyInputError(f"{where}: {error}") from None


def _number(value: object, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PharmacologyInputError(f"{where}: {value!r} is not a number")
    return float(value)


def _schedule(data: Mapping[str, Any], where: str) -> SamplingSchedule:
    regimen = data.get("regimen")
    if not isinstance(regimen, str) or not regimen:
        raise PharmacologyInputError(f"{where}.regimen: a regimen code is needed")
    where = f"{where} ({regimen})"
    tau = _number(data.get("tau_hours"), f"{where}.tau_hours")
    infusion = _number(data.get("infusion_hours"), f"{where}.infusion_hours")
    by_cycle: dict[int, list[TimePoint]] = {}
    points = data.get("points", [])
    if not isinstance(points, list) or not points:
        raise PharmacologyInputError(f"{where}.points: list the time points")
    allowed = {
        "kind", "label", "offset_hours", "window_before_hours", "window_after_hours", "anchor",
        "role", "cycles",
    }  # fmt: skip
    for index, point in enumerate(points, start=1):
        here = f"{where}.points[{index}]"
        if not isinstance(point, Mapping):
            raise PharmacologyInputError(f"{here}: must be a table")
        unknown = sorted(set(point) - allowed)
        if unknown:
            raise PharmacologyInputError(f"{here}: unknown key {unknown[0]!r}")
        cycles = point.get("cycles")
        if (
            not isinstance(cycles, list)
            or not cycles
            or not all(isinstance(c, int) and not isinstance(c, bool) and c > 0 for c in cycles)
        ):
            raise PharmacologyInputError(
                f"{here}.cycles: list the dosing intervals (1, 2, ...) the sample is taken in"
            )
        anchor = point.get("anchor", "start")
        anchors = {"start": Anchor.START, "end": Anchor.END}
        if anchor not in anchors:
            raise PharmacologyInputError(f"{here}.anchor: {anchor!r} is not one of start, end")
        try:
            timepoint = TimePoint(
                kind=SampleKind(str(point.get("kind"))),
                label=str(point.get("label", "")),
                offset_hours=_number(point.get("offset_hours", 0), f"{here}.offset_hours"),
                window_before_hours=_number(
                    point.get("window_before_hours", 0), f"{here}.window_before_hours"
                ),
                window_after_hours=_number(
                    point.get("window_after_hours", 0), f"{here}.window_after_hours"
                ),
                anchor=anchors[anchor],
                role=Role(point.get("role", Role.POSTDOSE.value)),
            )
        except ValueError as error:
            raise PharmacologyInputError(f"{here}: {error}") from None
        if not timepoint.label:
            raise PharmacologyInputError(f"{here}.label: a label is needed")
        for cycle in cycles:
            by_cycle.setdefault(cycle, []).append(timepoint)
    return SamplingSchedule(
        regimen=regimen,
        tau_hours=tau,
        infusion_hours=infusion,
        cycles=tuple(CycleSchedule(c, tuple(by_cycle[c])) for c in sorted(by_cycle)),
    )


def read_protocol(section: Mapping[str, Any]) -> PharmacologyProtocol:
    """The `[pharmacology]` section, checked; errors name the key (docs/pharmacology.md §7)."""
    where = "pharmacology"
    unknown = sorted(set(section) - PROTOCOL_KEYS)
    if unknown:
        raise PharmacologyInputError(f"{where}: unknown key {unknown[0]!r}")
    pk = _settings(PkSettings, _table(section, "pk", where), f"{where}.pk")
    if pk.unit not in CONCENTRATION_UNITS_MG_PER_L:
        raise PharmacologyInputError(f"{where}.pk.unit: {pk.unit!r} is not a concentration unit")
    biomarker_data = dict(_table(section, "biomarkers", where))
    analytes_data = biomarker_data.pop("analytes", [])
    analytes: list[BiomarkerAnalyte] = []
    for index, item in enumerate(analytes_data, start=1):
        here = f"{where}.biomarkers.analytes[{index}]"
        if not isinstance(item, Mapping) or not item.get("code") or not item.get("name"):
            raise PharmacologyInputError(f"{here}: needs a code and a name")
        units = tuple(item.get("units", ("pg/mL",)))
        analytes.append(
            BiomarkerAnalyte(
                code=str(item["code"]),
                name=str(item["name"]),
                category=str(item.get("category", "")),
                units=units,
            )
        )
    codes = [a.code for a in analytes]
    if len(set(codes)) != len(codes):
        raise PharmacologyInputError(f"{where}.biomarkers.analytes: a code is repeated")
    schedules_data = section.get("schedules", [])
    if not isinstance(schedules_data, list):
        raise PharmacologyInputError(f"{where}.schedules: must be a list of tables")
    schedules = tuple(
        _schedule(s, f"{where}.schedules[{i}]") for i, s in enumerate(schedules_data, start=1)
    )
    regimens = [s.regimen for s in schedules]
    if len(set(regimens)) != len(regimens):
        raise PharmacologyInputError(f"{where}.schedules: a regimen is repeated")
    samples = _settings(SampleSettings, _table(section, "samples", where), f"{where}.samples")
    if samples.flag_deviation_hours is not None and samples.flag_deviation_hours <= 0:
        raise PharmacologyInputError(f"{where}.samples.flag_deviation_hours: must be positive")
    return PharmacologyProtocol(
        pk=pk,
        nca=_settings(NcaSettings, _table(section, "nca", where), f"{where}.nca"),
        ada=_settings(AdaSettings, _table(section, "ada", where), f"{where}.ada"),
        biomarkers=_settings(BiomarkerSettings, biomarker_data, f"{where}.biomarkers"),
        biomarker_analytes=tuple(analytes),
        samples=samples,
        schedules=schedules,
    )
