"""Study configuration services: loading a study from its protocol file, opening cohorts."""

import hashlib
import tomllib
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from django.db import transaction
from django.dispatch import Signal
from django.utils import timezone

from core.errors import ValidationError
from escalation.rules.designs.common import DesignInputError
from escalation.rules.designs.config import parse_design

from .models import Cohort, DoseLevel, EscalationTrack, Regimen, Study

PROTOCOL_DIR = Path(__file__).resolve().parent / "protocols"

# The one way an app above `trial` loads the protocol file's sections it owns ([visits],
# [pharmacology], [efficacy], [quality] ...): a receiver connected in its AppConfig.ready. It is
# sent inside the load's transaction, so a receiver's refusal rolls the whole load back.
# Arguments: study, data (the whole parsed file), summary, by.
study_loaded = Signal()


DESIGN_FIELDS = (
    "titration_levels",
    "titration_trigger",
    "exceeded_variant",
    "dlt_window_convention",
    "min_exposure_fraction",
    "min_infusions_in_window",
    "left_window_on",
    "expansion_boundaries",
    "expansion_counts_escalation_subjects",
    "top_dose_rule",
    "end_of_treatment_on_last_window_day",
    "cohort_size",
    "expanded_cohort_size",
    "expansion_cohort_size",
    "min_weight_kg",
    "max_weight_kg",
    "max_dose_over_planned_percent",
    "implausible_dose_factor",
    "max_weight_change_percent",
    "short_interval_policy",
    "min_age_years",
)


@dataclass
class LoadSummary:
    study: Study
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated)


def protocol_path(name_or_path: str) -> Path:
    candidate = Path(name_or_path)
    if candidate.suffix == ".toml" and candidate.exists():
        return candidate
    bundled = PROTOCOL_DIR / f"{name_or_path}.toml"
    if bundled.exists():
        return bundled
    known = ", ".join(sorted(p.stem for p in PROTOCOL_DIR.glob("*.toml")))
    raise ValidationError(
        {
            "protocol": f"No protocol file '{name_or_path}' (bundled studies: {known}; or give a .toml path)."
        }
    )


def _save(instance, summary: LoadSummary, label: str, *, created: bool, by) -> None:
    instance.full_clean()
    instance._history_user = by
    instance._change_reason = f"Loaded from protocol file ({'created' if created else 'updated'})"
    instance.save()
    (summary.created if created else summary.updated).append(label)


def _sync(model, lookup: dict, values: dict, summary: LoadSummary, label: str, *, by):
    """Create the row, or update only the fields that differ, so a reload records no change."""
    instance = model.objects.filter(**lookup).first()
    if instance is None:
        instance = model(**lookup, **values)
        _save(instance, summary, label, created=True, by=by)
        return instance
    differing = {k: v for k, v in values.items() if getattr(instance, k) != v}
    if differing:
        for key, value in differing.items():
            setattr(instance, key, value)
        _save(instance, summary, f"{label} ({', '.join(sorted(differing))})", created=False, by=by)
    return instance


def _track_design(track: dict, study: Study, levels: dict, regimens: dict) -> dict:
    """The track's [tracks.design] table, checked by the designs core (docs/designs.md §12):
    a wrong name, key or value refuses the whole file, naming the track and the field."""
    design = track.get("design") or {}
    code = track.get("code", "?")
    if not isinstance(design, dict):
        raise ValidationError(
            {"tracks": f"Track {code}: design must be a table ([tracks.design]) with a name."}
        )
    if not design:
        return {}
    if track.get("phase") != EscalationTrack.Phase.ESCALATION:
        raise ValidationError(
            {"tracks": f"Track {code}: design: only an escalation track has a dose-finding design."}
        )
    regimen = regimens.get(track.get("regimen"))
    try:
        parse_design(
            design,
            n_levels=len(levels),
            titration_levels=study.titration_levels if track.get("uses_titration") else 0,
            window_days=regimen.dlt_window_days if regimen is not None else 28,
        )
    except DesignInputError as error:
        raise ValidationError({"tracks": f"Track {code}: {error}."}) from error
    return dict(design)


def _study_values(data: dict, study_data: dict, design: dict) -> dict:
    """The study row's values from the protocol file: [study], the [design] settings (checked
    against DESIGN_FIELDS) and the [eligibility] criteria."""
    unknown = set(design) - set(DESIGN_FIELDS)
    if unknown:
        raise ValidationError({"design": f"Unknown design settings: {', '.join(sorted(unknown))}."})
    values = {k: v for k, v in study_data.items() if k != "protocol_number"}
    for key, value in design.items():
        values[key] = (
            Decimal(value)
            if key in ("min_exposure_fraction", "min_weight_kg", "max_weight_kg")
            else value
        )
    eligibility = data.get("eligibility", {})
    values["eligibility_criteria"] = {
        "inclusion": list(eligibility.get("inclusion", [])),
        "exclusion": list(eligibility.get("exclusion", [])),
    }
    age_criterion = eligibility.get("age_criterion")
    if age_criterion is not None:
        if age_criterion not in values["eligibility_criteria"]["inclusion"]:
            raise ValidationError(
                {
                    "eligibility": "age_criterion must be one of the inclusion criteria, word for word."
                }
            )
        values["eligibility_criteria"]["age_criterion"] = age_criterion
    return values


@transaction.atomic
def load_study(
    name_or_path: str,
    *,
    by=None,
    protocol_number: str | None = None,
    design: dict | None = None,
) -> LoadSummary:
    """Create or bring up to date a study's configuration from its protocol file. Idempotent.

    Cohorts are created when missing but never changed afterwards: from then on they move only
    by enrollment and committee decisions, which a reload must not undo.

    `protocol_number` loads the file as another study (e.g. a scripted trial played on a copy
    of MIL97, `manage.py play_trial`); `design` overrides the file's [design] settings.
    """
    path = protocol_path(name_or_path)
    raw = path.read_bytes()
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise ValidationError({"protocol": f"{path.name}: not valid TOML ({error})."}) from error

    study_data = dict(data["study"])
    if protocol_number:
        study_data["protocol_number"] = protocol_number
    values = _study_values(data, study_data, {**data.get("design", {}), **(design or {})})
    values["protocol_file_digest"] = hashlib.sha256(raw).hexdigest()
    summary = LoadSummary(study=None)  # type: ignore[arg-type]
    study = _sync(
        Study, {"protocol_number": study_data["protocol_number"]}, values, summary, "study", by=by
    )
    summary.study = study

    unit = study.dose_unit
    levels = {}
    for level in data.get("dose_levels", []):
        levels[level["number"]] = _sync(
            DoseLevel,
            {"study": study, "number": level["number"]},
            {"amount": Decimal(level["amount"]), "unit": level.get("unit", unit)},
            summary,
            f"dose level {level['number']}",
            by=by,
        )
    regimens = {}
    for regimen in data.get("regimens", []):
        regimens[regimen["code"]] = _sync(
            Regimen,
            {"study": study, "code": regimen["code"]},
            {k: v for k, v in regimen.items() if k != "code"},
            summary,
            f"regimen {regimen['code']}",
            by=by,
        )
    tracks = {}
    for track in data.get("tracks", []):
        skip = ("code", "regimen", "status", "reference_track", "design")
        track_values = {k: v for k, v in track.items() if k not in skip}
        track_values["regimen"] = regimens[track["regimen"]]
        track_values["design"] = _track_design(track, study, levels, regimens)
        reference = track.get("reference_track")
        if reference is not None:
            if reference not in tracks:
                raise ValidationError(
                    {
                        "tracks": f"Track {track['code']}: reference_track '{reference}' must be "
                        "a track listed before it."
                    }
                )
            track_values["reference_track"] = tracks[reference]
        existing = EscalationTrack.objects.filter(study=study, code=track["code"]).first()
        if existing is None:
            # The status is set once, at creation: afterwards committee decisions move it.
            track_values["status"] = track.get("status", EscalationTrack.Status.PLANNED)
        tracks[track["code"]] = _sync(
            EscalationTrack,
            {"study": study, "code": track["code"]},
            track_values,
            summary,
            f"track {track['code']}",
            by=by,
        )
    for cohort in data.get("cohorts", []):
        if Cohort.objects.filter(study=study, number=cohort["number"]).exists():
            continue
        status = cohort.get("status", Cohort.Status.PLANNED)
        instance = Cohort(
            study=study,
            track=tracks[cohort["track"]],
            number=cohort["number"],
            dose_level=levels[cohort["dose_level"]],
            planned_size=cohort["planned_size"],
            is_titration=cohort.get("is_titration", False),
            status=status,
            opened_at=timezone.now() if status != Cohort.Status.PLANNED else None,
        )
        _save(instance, summary, f"cohort {cohort['number']}", created=True, by=by)
    study_loaded.send(sender=Study, study=study, data=data, summary=summary, by=by)
    return summary
