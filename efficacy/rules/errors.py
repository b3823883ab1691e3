"""The one error type of the efficacy core, and the checks of plain values it relies on."""

from __future__ import annotations

from decimal import Decimal
from enum import Enum
from typing import TypeVar

E = TypeVar("E", bound=Enum)


class EfficacyInputError(ValueError):
    """The facts given to the core are inconsistent; nothing can be derived from them.

    The message names the record, the field and the rule, so the Django layer can show it as a
    form error or an HTTP 400 as it stands.
    """


def as_choice(choices: type[E], value: object, name: str) -> E:
    """`value` as a member of `choices`, or an EfficacyInputError naming the allowed values."""
    if isinstance(value, choices):
        return value
    try:
        return choices(value)
    except ValueError:
        allowed = ", ".join(repr(member.value) for member in choices)
        raise EfficacyInputError(f"{name}: {value!r} is not one of {allowed}") from None


def as_mm(value: object, name: str) -> Decimal:
    """A length in mm as an exact Decimal: int or Decimal only, never float, never negative.

    Floats are refused because a boundary such as "30% below baseline" must not depend on the
    binary rounding of a value like 0.7 (docs/efficacy.md §3).
    """
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise EfficacyInputError(
            f"{name}: {value!r} is not a length in mm (give an int or a Decimal, not a "
            f"{type(value).__name__})"
        )
    number = Decimal(value)
    if not number.is_finite():
        raise EfficacyInputError(f"{name}: {value!r} is not a finite length")
    if number < 0:
        raise EfficacyInputError(f"{name}: {value} mm is negative")
    return number


def positive_days(value: object, name: str, *, allow_zero: bool = False) -> int:
    """A whole number of days (a setting), refused when not an int or not positive."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise EfficacyInputError(f"{name}: {value!r} is not a whole number of days")
    if value < 0 or (value == 0 and not allow_zero):
        raise EfficacyInputError(
            f"{name}: {value} must be {'at least 0' if allow_zero else 'at least 1'}"
        )
    return value
