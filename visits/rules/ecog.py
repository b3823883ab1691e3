"""ECOG performance status (docs/visits.md §8).

The scale and its texts: Oken MM, Creech RH, Tormey DC, et al. Toxicity and response criteria of
the Eastern Cooperative Oncology Group. Am J Clin Oncol 1982;5:649-655 (as ECOG-ACRIN publishes
it). Only the whole numbers 0 to 5 are statuses.
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import VisitsInputError

SOURCE = "Oken et al., Am J Clin Oncol 1982;5:649-655"

ECOG_TEXTS: dict[int, str] = {
    0: "Fully active, able to carry on all pre-disease performance without restriction",
    1: "Restricted in physically strenuous activity but ambulatory and able to carry out work of "
    "a light or sedentary nature, e.g., light house work, office work",
    2: "Ambulatory and capable of all selfcare but unable to carry out any work activities; up "
    "and about more than 50% of waking hours",
    3: "Capable of only limited selfcare; confined to bed or chair more than 50% of waking hours",
    4: "Completely disabled; cannot carry on any selfcare; totally confined to bed or chair",
    5: "Dead",
}


@dataclass(frozen=True)
class EcogStatus:
    value: int
    text: str

    def describe(self) -> str:
        return f"ECOG {self.value}: {self.text}"


def ecog_status(value: object) -> EcogStatus:
    """The status for a value typed on the form ("1", 1), refused unless a whole number 0-5."""
    number: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        number = int(value.strip())
    if number is None or number not in ECOG_TEXTS:
        raise VisitsInputError(
            f"ECOG performance status: {value!r} is not one of 0, 1, 2, 3, 4, 5 ({SOURCE})"
        )
    return EcogStatus(number, ECOG_TEXTS[number])


def ecog_choices() -> tuple[tuple[int, str], ...]:
    """The form's choices, in order."""
    return tuple(ECOG_TEXTS.items())
