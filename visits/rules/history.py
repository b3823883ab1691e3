"""Cancer history and prior anticancer therapy (docs/visits.md §11).

- Dates known to the year, the month or the day (`PartialDay`, ISO 8601 text "2019", "2019-03",
  "2019-03-14"): an oncology history is often known only to the month. A partial date is
  compared by the range of days it may stand for: it is refused as "after" a date only when
  every day it may be is after it, so nothing is imputed (SDTM never imputes either).
- The lists the forms choose from: AJCC 8th edition stage groups, the sites of metastases, the
  kinds of prior therapy, their setting, best response and reason stopped.
- `check_cancer_history` and `check_prior_therapy`: each rule of §11 as one small check; a
  refusal names the field and the rule. Nothing here reads a database: the facts around the
  record (consent, today, the other form) come in as plain values.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from .errors import VisitsInputError

EARLIEST_YEAR = 1900

# AJCC Cancer Staging Manual, 8th edition: the anatomic and prognostic stage groups of its
# chapters (0a and 0is are the bladder's; IA1-IA3 the lung's; IIID the melanoma's).
AJCC_STAGES: tuple[str, ...] = (
    "0",
    "0a",
    "0is",
    "I",
    "IA",
    "IA1",
    "IA2",
    "IA3",
    "IB",
    "IB1",
    "IB2",
    "IC",
    "II",
    "IIA",
    "IIB",
    "IIC",
    "III",
    "IIIA",
    "IIIB",
    "IIIC",
    "IIID",
    "IV",
    "IVA",
    "IVB",
    "IVC",
)
STAGE_UNKNOWN = "unknown"
STAGE_CHOICES: tuple[tuple[str, str], ...] = (
    *((stage, f"Stage {stage}") for stage in AJCC_STAGES),
    (STAGE_UNKNOWN, "Unknown or not staged"),
)
STAGE_IV = frozenset({"IV", "IVA", "IVB", "IVC"})

# Sites of metastases, named as CDISC CT Anatomical Location (LOC) names them; "other" is named
# in words beside the list.
METASTATIC_SITES: tuple[tuple[str, str], ...] = (
    ("LIVER", "Liver"),
    ("LUNG", "Lung"),
    ("BONE", "Bone"),
    ("BRAIN", "Brain"),
    ("LYMPH NODE", "Lymph node (distant)"),
    ("ADRENAL GLAND", "Adrenal gland"),
    ("PERITONEUM", "Peritoneum"),
    ("PLEURA", "Pleura"),
    ("SKIN", "Skin"),
    ("SOFT TISSUE", "Soft tissue"),
    ("OTHER", "Other (name it)"),
)
SITE_OTHER = "OTHER"

THERAPY_TYPES: tuple[tuple[str, str], ...] = (
    ("systemic", "Systemic therapy (chemotherapy, targeted, immune, hormonal)"),
    ("radiotherapy", "Radiotherapy"),
    ("surgery", "Surgery"),
)
SETTINGS: tuple[tuple[str, str], ...] = (
    ("neoadjuvant", "Neoadjuvant"),
    ("adjuvant", "Adjuvant"),
    ("definitive", "Definitive (curative intent)"),
    ("advanced", "Locally advanced or metastatic disease"),
    ("maintenance", "Maintenance"),
    ("palliative", "Palliative (symptom control)"),
)
# Lines of therapy are counted for systemic therapy of advanced disease.
LINE_SETTINGS = frozenset({"advanced", "maintenance"})
MAX_LINE = 30
RESPONSES: tuple[tuple[str, str], ...] = (
    ("CR", "Complete response"),
    ("PR", "Partial response"),
    ("SD", "Stable disease"),
    ("PD", "Progressive disease"),
    ("NE", "Not evaluable"),
    ("UNK", "Unknown"),
    ("NA", "Not applicable (no measurable disease)"),
)
STOP_REASONS: tuple[tuple[str, str], ...] = (
    ("completed", "Completed as planned"),
    ("progression", "Disease progression"),
    ("toxicity", "Toxicity"),
    ("patient_decision", "Patient decision"),
    ("physician_decision", "Physician decision"),
    ("other", "Other (name it)"),
    ("unknown", "Unknown"),
)

Problem = tuple[str, str]  # (field, message)


@dataclass(frozen=True)
class PartialDay:
    """A date known to the year, the month or the day."""

    year: int
    month: int | None = None
    day: int | None = None

    @property
    def text(self) -> str:
        parts = [f"{self.year:04d}"]
        if self.month is not None:
            parts.append(f"{self.month:02d}")
            if self.day is not None:
                parts.append(f"{self.day:02d}")
        return "-".join(parts)

    @property
    def earliest(self) -> date:
        return date(self.year, self.month or 1, self.day or 1)

    @property
    def latest(self) -> date:
        if self.month is None:
            return date(self.year, 12, 31)
        if self.day is not None:
            return date(self.year, self.month, self.day)
        following = date(self.year + self.month // 12, self.month % 12 + 1, 1)
        return following - timedelta(days=1)

    def surely_after(self, other: date | PartialDay) -> bool:
        """Is every day this may be after every day `other` may be?"""
        limit = other.latest if isinstance(other, PartialDay) else other
        return self.earliest > limit

    def surely_before(self, other: date | PartialDay) -> bool:
        limit = other.earliest if isinstance(other, PartialDay) else other
        return self.latest < limit


def partial_day(text: str, name: str) -> PartialDay:
    """ISO 8601 "YYYY", "YYYY-MM" or "YYYY-MM-DD" as a PartialDay; VisitsInputError naming
    `name` otherwise."""
    parts = text.strip().split("-")
    widths = [len(part) for part in parts]
    digits = all(part.isascii() and part.isdigit() for part in parts)
    if not digits or widths not in ([4], [4, 2], [4, 2, 2]):
        raise VisitsInputError(
            f"{name}: {text!r} is not a date written YYYY-MM-DD, YYYY-MM or YYYY "
            "(as far as it is known)"
        )
    year = int(parts[0])
    month = int(parts[1]) if len(parts) > 1 else None
    day = int(parts[2]) if len(parts) > 2 else None
    if year < EARLIEST_YEAR:
        raise VisitsInputError(f"{name}: {year} is not a plausible year")
    if month is not None and not 1 <= month <= 12:
        raise VisitsInputError(f"{name}: month {month} is not 1 to 12")
    if month is not None and day is not None:
        try:
            date(year, month, day)
        except ValueError:
            raise VisitsInputError(f"{name}: {text.strip()} is not a date") from None
    return PartialDay(year, month, day)


def _read_date(
    problems: list[Problem],
    text: str,
    field: str,
    label: str,
    *,
    consented_on: date | None,
    today: date,
    after_consent: str,
) -> PartialDay | None:
    """A history date: a date as far as known, not in the future, not after informed consent
    (docs/visits.md §11.1). None (and a problem) when it cannot be read."""
    try:
        value = partial_day(text, label)
    except VisitsInputError as error:
        problems.append((field, str(error)))
        return None
    if value.surely_after(today):
        problems.append((field, f"{label} ({value.text}) is in the future."))
    if consented_on is None:
        problems.append(
            (field, "Informed consent is not recorded yet: the history is collected from it.")
        )
    elif value.surely_after(consented_on):
        problems.append(
            (
                field,
                f"{label} ({value.text}) is after informed consent ({consented_on}): "
                f"{after_consent}",
            )
        )
    return value


# --- Cancer history --------------------------------------------------------------------------


@dataclass(frozen=True)
class CancerHistoryFacts:
    primary_site: str
    histology: str
    diagnosis_date: str
    stage_at_diagnosis: str
    stage_at_entry: str
    advanced_disease_date: str = ""
    metastatic_sites: tuple[str, ...] = ()
    metastatic_sites_other: str = ""
    no_prior_therapy: bool = False
    consented_on: date | None = None
    today: date = date.max
    # The subject's recorded prior therapies: (what, start as typed).
    prior_therapies: tuple[tuple[str, str], ...] = ()


def _check_diagnosis(facts: CancerHistoryFacts, problems: list[Problem]) -> PartialDay | None:
    if not facts.primary_site.strip():
        problems.append(("primary_site", "Enter the primary tumour site."))
    if not facts.histology.strip():
        problems.append(("histology", "Enter the histology as the pathology report gives it."))
    if not facts.diagnosis_date.strip():
        problems.append(("diagnosis_date", "Enter the date of initial diagnosis."))
        return None
    return _read_date(
        problems,
        facts.diagnosis_date,
        "diagnosis_date",
        "Date of initial diagnosis",
        consented_on=facts.consented_on,
        today=facts.today,
        after_consent="the history is what was known at entry.",
    )


def _check_stages(facts: CancerHistoryFacts, problems: list[Problem]) -> None:
    allowed = {value for value, _ in STAGE_CHOICES}
    for field, value in (
        ("stage_at_diagnosis", facts.stage_at_diagnosis),
        ("stage_at_entry", facts.stage_at_entry),
    ):
        if not value:
            problems.append((field, "Choose the AJCC stage group (or unknown)."))
        elif value not in allowed:
            problems.append((field, f"{value!r} is not an AJCC 8th edition stage group."))


def _check_advanced(
    facts: CancerHistoryFacts, diagnosis: PartialDay | None, problems: list[Problem]
) -> None:
    field = "advanced_disease_date"
    if not facts.advanced_disease_date.strip():
        if facts.metastatic_sites:
            problems.append(
                (
                    field,
                    "Sites of metastases are listed: give the date of metastatic "
                    "or advanced disease.",
                )
            )
        elif facts.stage_at_entry in STAGE_IV:
            problems.append(
                (
                    field,
                    f"Stage {facts.stage_at_entry} at entry is metastatic "
                    "disease: give the date of metastatic or advanced disease.",
                )
            )
        return
    advanced = _read_date(
        problems,
        facts.advanced_disease_date,
        field,
        "Date of metastatic or advanced disease",
        consented_on=facts.consented_on,
        today=facts.today,
        after_consent="the history is what was known at entry.",
    )
    if advanced is not None and diagnosis is not None and advanced.surely_before(diagnosis):
        problems.append(
            (field, f"{advanced.text} is before the initial diagnosis ({diagnosis.text}).")
        )


def _check_sites(facts: CancerHistoryFacts, problems: list[Problem]) -> None:
    field = "metastatic_sites"
    allowed = {code for code, _ in METASTATIC_SITES}
    unknown = [site for site in facts.metastatic_sites if site not in allowed]
    if unknown:
        problems.append((field, f"Not a site of this list: {', '.join(unknown)}."))
    if len(set(facts.metastatic_sites)) != len(facts.metastatic_sites):
        problems.append((field, "A site is listed twice."))
    if facts.stage_at_entry in STAGE_IV and not facts.metastatic_sites:
        problems.append(
            (field, f"Stage {facts.stage_at_entry} at entry: list the sites of metastases.")
        )
    other = facts.metastatic_sites_other.strip()
    if SITE_OTHER in facts.metastatic_sites and not other:
        problems.append(("metastatic_sites_other", "Name the other site(s) of metastases."))
    if other and SITE_OTHER not in facts.metastatic_sites:
        problems.append(("metastatic_sites_other", "Tick 'Other' to name another site."))


def _check_against_therapies(
    facts: CancerHistoryFacts, diagnosis: PartialDay | None, problems: list[Problem]
) -> None:
    if facts.no_prior_therapy and facts.prior_therapies:
        names = ", ".join(name for name, _ in facts.prior_therapies)
        problems.append(
            ("no_prior_therapy", f"Prior therapy is recorded ({names}): void it first.")
        )
    if diagnosis is None:
        return
    for name, start_text in facts.prior_therapies:
        try:
            start = partial_day(start_text, "start")
        except VisitsInputError:
            continue
        if start.surely_before(diagnosis):
            problems.append(
                (
                    "diagnosis_date",
                    f"{name} started {start.text}, before this diagnosis date: correct one "
                    "of them.",
                )
            )


def check_cancer_history(facts: CancerHistoryFacts) -> list[Problem]:
    """Every rule the cancer history breaks (docs/visits.md §11.2); empty when none."""
    problems: list[Problem] = []
    diagnosis = _check_diagnosis(facts, problems)
    _check_stages(facts, problems)
    _check_advanced(facts, diagnosis, problems)
    _check_sites(facts, problems)
    _check_against_therapies(facts, diagnosis, problems)
    return problems


# --- Prior anticancer therapy ----------------------------------------------------------------


@dataclass(frozen=True)
class PriorTherapyFacts:
    therapy_type: str
    treatment: str
    setting: str
    start_date: str
    end_date: str = ""
    line: int | None = None
    best_response: str = ""
    stop_reason: str = ""
    stop_reason_other: str = ""
    consented_on: date | None = None
    today: date = date.max
    diagnosis_date: str = ""  # the cancer history's, when recorded
    no_prior_therapy: bool = False  # the cancer history says there was none


def _choice(
    problems: list[Problem],
    field: str,
    value: str,
    choices: tuple[tuple[str, str], ...],
    what: str,
    *,
    required: bool,
) -> None:
    if not value:
        if required:
            problems.append((field, f"Choose the {what}."))
        return
    if value not in {code for code, _ in choices}:
        allowed = ", ".join(code for code, _ in choices)
        problems.append((field, f"{value!r} is not a {what} ({allowed})."))


def _check_kind(facts: PriorTherapyFacts, problems: list[Problem]) -> None:
    _choice(problems, "therapy_type", facts.therapy_type, THERAPY_TYPES, "type", required=True)
    _choice(problems, "setting", facts.setting, SETTINGS, "setting", required=True)
    if not facts.treatment.strip():
        what = "procedure" if facts.therapy_type == "surgery" else "regimen or agents"
        problems.append(("treatment", f"Name the {what}."))
    if facts.no_prior_therapy:
        problems.append(
            (
                "__all__",
                "The cancer history says the subject had no prior anticancer therapy: "
                "correct it first.",
            )
        )


def _check_line(facts: PriorTherapyFacts, problems: list[Problem]) -> None:
    if facts.line is None:
        return
    if facts.therapy_type != "systemic":
        problems.append(("line", "A line of therapy is counted for systemic therapy only."))
    elif facts.setting not in LINE_SETTINGS:
        problems.append(
            ("line", "A line of therapy is counted in advanced or maintenance settings only.")
        )
    elif not 1 <= facts.line <= MAX_LINE:
        problems.append(("line", f"A line of therapy is 1 to {MAX_LINE}."))


def _check_outcome(facts: PriorTherapyFacts, problems: list[Problem]) -> None:
    """Best response and reason stopped: for systemic therapy and radiotherapy, not surgery."""
    if facts.therapy_type == "surgery":
        for field, value in (
            ("best_response", facts.best_response),
            ("stop_reason", facts.stop_reason),
        ):
            if value:
                problems.append((field, "A surgery has no best response or reason stopped."))
        return
    _choice(
        problems, "best_response", facts.best_response, RESPONSES, "best response", required=True
    )
    _choice(
        problems, "stop_reason", facts.stop_reason, STOP_REASONS, "reason stopped", required=True
    )
    if facts.setting == "adjuvant" and facts.best_response not in ("", "NA"):
        problems.append(
            (
                "best_response",
                "Adjuvant therapy follows the removal of all known disease: its best response "
                "is not applicable.",
            )
        )
    other = facts.stop_reason_other.strip()
    if facts.stop_reason == "other" and not other:
        problems.append(("stop_reason_other", "Say why the therapy was stopped."))
    if other and facts.stop_reason != "other":
        problems.append(("stop_reason_other", "Choose 'Other' to give another reason."))


def _check_therapy_dates(facts: PriorTherapyFacts, problems: list[Problem]) -> None:
    after_consent = "what is given after consent is a concomitant medication."
    start = None
    if not facts.start_date.strip():
        problems.append(("start_date", "Enter the start date (as far as known)."))
    else:
        start = _read_date(
            problems,
            facts.start_date,
            "start_date",
            "Start",
            consented_on=facts.consented_on,
            today=facts.today,
            after_consent=after_consent,
        )
    end = None
    if facts.therapy_type == "surgery":
        if facts.end_date.strip():
            problems.append(("end_date", "A surgery has one date: its start date."))
    elif not facts.end_date.strip():
        problems.append(
            (
                "end_date",
                "Enter the end date (as far as known): prior therapy has "
                "ended before the study; one still given is a concomitant medication.",
            )
        )
    else:
        end = _read_date(
            problems,
            facts.end_date,
            "end_date",
            "End",
            consented_on=facts.consented_on,
            today=facts.today,
            after_consent=after_consent,
        )
    if start is not None and end is not None and end.surely_before(start):
        problems.append(("end_date", f"The end ({end.text}) is before the start ({start.text})."))
    if start is not None and facts.diagnosis_date:
        try:
            diagnosis = partial_day(facts.diagnosis_date, "diagnosis")
        except VisitsInputError:
            return
        if start.surely_before(diagnosis):
            problems.append(
                (
                    "start_date",
                    f"{start.text} is before the initial diagnosis of the cancer history "
                    f"({diagnosis.text}).",
                )
            )


def check_prior_therapy(facts: PriorTherapyFacts) -> list[Problem]:
    """Every rule the prior therapy breaks (docs/visits.md §11.3); empty when none."""
    problems: list[Problem] = []
    _check_kind(facts, problems)
    _check_line(facts, problems)
    _check_outcome(facts, problems)
    _check_therapy_dates(facts, problems)
    return problems
