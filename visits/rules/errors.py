"""The one error type of the visits rules."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import TypeVar

E = TypeVar("E", bound=Enum)

# What a caller may pass as a number: a Decimal, an int, a str as typed on a form, or a float
# (read through its shortest repr, so 0.1 stays 0.1 and not its binary expansion).
Number = Decimal | int | float | str


class VisitsInputError(ValueError):
    """The facts given to the visits rules are inconsistent or implausible; nothing is computed.

    The message names the field and the rule broken; the Django layer maps it to a form error or an
    HTTP 400 and saves nothing.
    """


def as_choice(choices: type[E], value: object, name: str) -> E:
    """`value` as a member of `choices`, or a VisitsInputError naming the allowed values."""
    try:
        return choices(value)
    except ValueError:
        allowed = ", ".join(repr(member.value) for member in choices)
        raise VisitsInputError(f"{name}: {value!r} is not one of {allowed}") from None


def as_decimal(value: object, name: str) -> Decimal:
    """`value` as a finite Decimal, or a VisitsInputError naming the field."""
    if isinstance(value, bool) or value is None:
        raise VisitsInputError(f"{name}: a number is required, got {value!r}")
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, int | float | str):
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            raise VisitsInputError(f"{name}: {value!r} is not a number") from None
    else:
        raise VisitsInputError(f"{name}: a number is required, got {type(value).__name__}")
    if not number.is_finite():
        raise VisitsInputError(f"{name}: {value!r} is not a finite number")
    return number
