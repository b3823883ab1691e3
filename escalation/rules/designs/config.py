"""A track's dose-finding design as the protocol file states it (docs/designs.md §12).

The protocol file names a design per escalation track with its settings::

    [[tracks]]
    code = "Q3W-ESC"
    ...
    [tracks.design]
    name = "boin"          # 3+3 | boin | tite-boin | mtpi2 | i3+3 | crm | tite-crm
    target = 0.3
    max_subjects = 30

A track without a design keeps the 3+3 of the escalation core (with the study's [design]
settings). `parse_design` checks every key and value and names the field and the rule when one
is wrong; `decide` gives the design's decision for the facts; `decision_table` its table.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeAlias

from .boin import BoinSettings, boin_decide
from .common import DecisionTable, DesignDecision, DesignFacts, DesignInputError
from .crm import CrmModel, CrmSettings, TooToxic, crm_decide, getprior
from .i3plus3 import I3plus3Settings, i3plus3_decide
from .interval import TrialSettings
from .interval import decision_table as interval_table
from .mtpi2 import Mtpi2Settings, mtpi2_decide
from .three_plus_three import ThreePlusThreeSettings, Variant
from .tite_boin import TiteBoinSettings, TiteRow, tite_boin_decide, tite_table
from .titration import Titration

THREE_PLUS_THREE = "3+3"
DESIGN_NAMES = (THREE_PLUS_THREE, "boin", "tite-boin", "mtpi2", "i3+3", "crm", "tite-crm")
LABELS = {
    THREE_PLUS_THREE: "3+3",
    "boin": "BOIN",
    "tite-boin": "TITE-BOIN",
    "mtpi2": "mTPI-2",
    "i3+3": "i3+3",
    "crm": "CRM",
    "tite-crm": "TITE-CRM",
}

AnySettings: TypeAlias = (
    BoinSettings
    | TiteBoinSettings
    | Mtpi2Settings
    | I3plus3Settings
    | CrmSettings
    | ThreePlusThreeSettings
)

_TRIAL_KEYS = (
    "target",
    "cohort_size",
    "max_subjects",
    "n_earlystop",
    "cutoff",
    "extrasafe",
    "offset",
)
_KEYS: dict[str, tuple[str, ...]] = {
    THREE_PLUS_THREE: ("variant",),
    "boin": (*_TRIAL_KEYS, "phi1", "phi2", "bound_mtd", "stay_at_1_of_3", "deescalate_at_2_of_6"),
    "tite-boin": (
        *_TRIAL_KEYS,
        "phi1",
        "phi2",
        "bound_mtd",
        "stay_at_1_of_3",
        "deescalate_at_2_of_6",
        "suspend_fraction",
    ),
    "mtpi2": (*_TRIAL_KEYS, "eps1", "eps2"),
    "i3+3": (*_TRIAL_KEYS, "eps1", "eps2"),
    "crm": (
        "target",
        "cohort_size",
        "max_subjects",
        "skeleton",
        "skeleton_halfwidth",
        "skeleton_nu",
        "prior_variance",
        "model",
        "intercept",
        "restrict",
        "stop_when_n_at_dose",
        "too_toxic_threshold",
        "too_toxic_confidence",
    ),
}
_KEYS["tite-crm"] = _KEYS["crm"]

_TYPES: dict[str, type | tuple[type, ...]] = {
    "target": (int, float),
    "cohort_size": int,
    "max_subjects": int,
    "n_earlystop": int,
    "cutoff": (int, float),
    "extrasafe": bool,
    "offset": (int, float),
    "phi1": (int, float),
    "phi2": (int, float),
    "bound_mtd": bool,
    "stay_at_1_of_3": bool,
    "deescalate_at_2_of_6": bool,
    "suspend_fraction": (int, float),
    "eps1": (int, float),
    "eps2": (int, float),
    "skeleton": (list, tuple),
    "skeleton_halfwidth": (int, float),
    "skeleton_nu": int,
    "prior_variance": (int, float),
    "model": str,
    "intercept": (int, float),
    "restrict": bool,
    "stop_when_n_at_dose": int,
    "too_toxic_threshold": (int, float),
    "too_toxic_confidence": (int, float),
    "variant": str,
}


@dataclass(frozen=True)
class DesignConfig:
    """The design of one track: its `name` (one of DESIGN_NAMES), the settings object of the
    designs package, and the protocol's values as given (`values`, shown with the decision)."""

    name: str
    settings: AnySettings
    values: tuple[tuple[str, Any], ...] = ()

    @property
    def label(self) -> str:
        return LABELS[self.name]

    @property
    def is_three_plus_three(self) -> bool:
        return self.name == THREE_PLUS_THREE

    @property
    def time_to_event(self) -> bool:
        return self.name in ("tite-boin", "tite-crm")

    @property
    def target(self) -> float | None:
        s = self.settings
        if isinstance(s, CrmSettings):
            return s.target
        if isinstance(s, ThreePlusThreeSettings):
            return None
        return s.trial.target

    def describe(self) -> str:
        """ "BOIN (target 0.3, max_subjects 30)" """
        given = ", ".join(f"{k} {_show(v)}" for k, v in self.values if k != "name")
        return f"{self.label} ({given})" if given else self.label


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    return str(value)


def parse_design(
    data: Mapping[str, Any] | None,
    *,
    n_levels: int,
    titration_levels: int = 0,
    window_days: float = 28.0,
) -> DesignConfig:
    """The design a protocol file states, checked. `data` None or empty is the 3+3.

    `n_levels`: the track's dose levels (the CRM's skeleton needs one guess per level);
    `titration_levels`: accelerated titration in front (0 = none); `window_days`: the DLT window
    (TITE designs weigh pending subjects by the fraction of it they completed). Every error is a
    `DesignInputError` whose message starts with "design.<field>:".
    """
    values = dict(data or {})
    name = values.get("name", THREE_PLUS_THREE)
    if not isinstance(name, str) or name.lower() not in DESIGN_NAMES:
        raise DesignInputError(f"design.name: must be one of {', '.join(DESIGN_NAMES)}")
    name = name.lower()
    values["name"] = name
    allowed = _KEYS[name]
    unknown = sorted(set(values) - {"name", *allowed})
    if unknown:
        raise DesignInputError(
            f"design.{unknown[0]}: not a setting of {LABELS[name]} "
            f"(its settings: {', '.join(allowed)})"
        )
    for key, value in values.items():
        if key == "name":
            continue
        expected = _TYPES[key]
        # A boolean is an int to Python: refuse true where a number is meant, and 1 for true.
        wrong_bool = isinstance(value, bool) != (expected is bool)
        if not isinstance(value, expected) or wrong_bool:
            kind = {bool: "true or false", int: "a whole number", str: "a text"}.get(
                expected if isinstance(expected, type) else float, "a number"
            )
            if key == "skeleton":
                kind = "a list of numbers"
            raise DesignInputError(f"design.{key}: must be {kind}")
    titration = Titration(titration_levels) if titration_levels > 0 else None
    try:
        settings = _build(name, values, n_levels, titration, window_days)
    except DesignInputError as error:
        message = str(error)
        raise DesignInputError(
            message if message.startswith("design.") else f"design.{message}"
        ) from error
    except (TypeError, ValueError) as error:
        raise DesignInputError(f"design: {error}") from error
    ordered = tuple((k, values[k]) for k in ("name", *allowed) if k in values)
    return DesignConfig(name=name, settings=settings, values=ordered)


def _trial(values: dict[str, Any], titration: Titration | None) -> TrialSettings:
    keys = {k: values[k] for k in _TRIAL_KEYS if k in values}
    for key in ("target", "cutoff", "offset"):
        if key in keys:
            keys[key] = float(keys[key])
    return TrialSettings(**keys, titration=titration)


def _build(
    name: str,
    values: dict[str, Any],
    n_levels: int,
    titration: Titration | None,
    window_days: float,
) -> AnySettings:
    def num(key: str) -> float | None:
        return float(values[key]) if key in values else None

    if name == THREE_PLUS_THREE:
        variant = values.get("variant", Variant.EXPAND.value)
        if variant not in {v.value for v in Variant}:
            raise DesignInputError("design.variant: simple or expand")
        return ThreePlusThreeSettings(Variant(variant))
    if name in ("boin", "tite-boin"):
        trial = _trial(values, titration)
        trial.check()
        boin = BoinSettings(
            trial=trial,
            phi1=num("phi1"),
            phi2=num("phi2"),
            bound_mtd=bool(values.get("bound_mtd", False)),
            stay_at_1_of_3=bool(values.get("stay_at_1_of_3", False)),
            deescalate_at_2_of_6=bool(values.get("deescalate_at_2_of_6", False)),
        )
        if name == "boin":
            return boin
        return TiteBoinSettings(
            boin=boin,
            suspend_fraction=float(values.get("suspend_fraction", 0.5)),
            window_days=float(window_days),
        )
    if name in ("mtpi2", "i3+3"):
        trial = _trial(values, titration)
        trial.check()
        cls = Mtpi2Settings if name == "mtpi2" else I3plus3Settings
        return cls(
            trial=trial, eps1=float(values.get("eps1", 0.05)), eps2=float(values.get("eps2", 0.05))
        )
    return _crm(name, values, n_levels, titration, window_days)


def _crm(
    name: str,
    values: dict[str, Any],
    n_levels: int,
    titration: Titration | None,
    window_days: float,
) -> CrmSettings:
    target = float(values.get("target", 0.3))
    model = values.get("model", CrmModel.EMPIRIC.value)
    if model not in {m.value for m in CrmModel}:
        raise DesignInputError(f"design.model: one of {', '.join(m.value for m in CrmModel)}")
    intercept = float(values.get("intercept", 3.0))
    if "skeleton" in values:
        if "skeleton_halfwidth" in values or "skeleton_nu" in values:
            raise DesignInputError(
                "design.skeleton: give the skeleton, or skeleton_halfwidth and skeleton_nu, not both"
            )
        skeleton = values["skeleton"]
        if any(isinstance(p, bool) or not isinstance(p, (int, float)) for p in skeleton):
            raise DesignInputError("design.skeleton: must be a list of numbers")
        skeleton = tuple(float(p) for p in skeleton)
    elif "skeleton_halfwidth" in values and "skeleton_nu" in values:
        skeleton = getprior(
            float(values["skeleton_halfwidth"]),
            target,
            int(values["skeleton_nu"]),
            n_levels,
            CrmModel(model),
            intercept,
        )
    else:
        raise DesignInputError(
            "design.skeleton: the CRM needs a skeleton (one guess per dose level), or "
            "skeleton_halfwidth and skeleton_nu to compute one (dfcrm getprior)"
        )
    if len(skeleton) != n_levels:
        raise DesignInputError(
            f"design.skeleton: one guess per dose level of the track ({n_levels}), "
            f"{len(skeleton)} given"
        )
    threshold = num_or_none(values, "too_toxic_threshold")
    too_toxic = (
        None
        if threshold is None
        else TooToxic(
            dose=0,
            threshold=threshold,
            confidence=float(values.get("too_toxic_confidence", 0.9)),
        )
    )
    if too_toxic is None and "too_toxic_confidence" in values:
        raise DesignInputError(
            "design.too_toxic_confidence: only with too_toxic_threshold (the DLT rate at the "
            "lowest dose deemed too toxic)"
        )
    return CrmSettings(
        skeleton=skeleton,
        target=target,
        prior_variance=float(values.get("prior_variance", 1.34)),
        model=CrmModel(model),
        intercept=intercept,
        cohort_size=int(values.get("cohort_size", 3)),
        restrict=bool(values.get("restrict", True)),
        stop_at_n=int(values.get("max_subjects", 30)),
        stop_when_n_at_dose=values.get("stop_when_n_at_dose"),
        stop_when_too_toxic=too_toxic,
        tite=name == "tite-crm",
        titration=titration,
        window_days=float(window_days),
    )


def num_or_none(values: Mapping[str, Any], key: str) -> float | None:
    return float(values[key]) if key in values else None


def _decider(settings: AnySettings) -> Callable[[DesignFacts], DesignDecision]:
    if isinstance(settings, TiteBoinSettings):
        return lambda facts: tite_boin_decide(settings, facts)
    if isinstance(settings, BoinSettings):
        return lambda facts: boin_decide(settings, facts)
    if isinstance(settings, Mtpi2Settings):
        return lambda facts: mtpi2_decide(settings, facts)
    if isinstance(settings, I3plus3Settings):
        return lambda facts: i3plus3_decide(settings, facts)
    if isinstance(settings, CrmSettings):
        return lambda facts: crm_decide(settings, facts)
    raise DesignInputError("design: the 3+3 is decided by the escalation core")


def decide(config: DesignConfig, facts: DesignFacts) -> DesignDecision:
    """The design's decision for the next cohort (the live path and the simulator's)."""
    return _decider(config.settings)(facts)


def design_table(config: DesignConfig, n_max: int = 30) -> DecisionTable | None:
    """The n x y decision table of an interval design (TITE-BOIN: BOIN's, without pending
    subjects); None for the CRM (model-based: no table) and the 3+3."""
    settings = config.settings
    if isinstance(settings, TiteBoinSettings):
        return interval_table(settings.boin, n_max)
    if isinstance(settings, (BoinSettings, Mtpi2Settings, I3plus3Settings)):
        return interval_table(settings, n_max)
    return None


def pending_table(config: DesignConfig, n_max: int = 12) -> tuple[TiteRow, ...]:
    """TITE-BOIN's decisions with pending subjects (the paper's Table 1); empty otherwise."""
    if isinstance(config.settings, TiteBoinSettings):
        return tite_table(config.settings, n_max)
    return ()
