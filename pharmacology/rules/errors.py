"""The one error type of the pharmacology core."""

from __future__ import annotations

import math
from enum import Enum
from typing import TypeVar

E = TypeVar("E", bound=Enum)


class PharmacologyInputError(ValueError):
    """The data given to the core are inconsistent; nothing is derived from them.

    The message names the field and the rule, so the Django layer can show it as a form error
    or an HTTP 400 without rewording it.
    """


def as_choice(choices: type[E], value: object, name: str) -> E:
    """`value` as a member of `choices`, or an error naming the allowed values."""
    try:
        return choices(value)
    except ValueError:
        allowed = ", ".join(repr(member.value) for member in choices)
        raise PharmacologyInputError(f"{name}: {value!r} is not one of {allowed}") from None


def require_finite(value: float, name: str) -> None:
    if not math.isfinite(value):
        raise PharmacologyInputError(f"{name}: {value!r} is not a finite number")
