"""The one error type of the escalation core."""

from enum import Enum
from typing import TypeVar

E = TypeVar("E", bound=Enum)


class EscalationInputError(ValueError):
    """The facts given to the core are inconsistent; nothing can be recommended from them.

    The Django layer maps it to a form error or an HTTP 400 (core/errors.py: one error vocabulary).
    """


def as_choice(choices: type[E], value: object, name: str) -> E:
    """`value` as a member of `choices`, or an EscalationInputError naming the allowed values."""
    try:
        return choices(value)
    except ValueError:
        allowed = ", ".join(repr(member.value) for member in choices)
        raise EscalationInputError(f"{name}: {value!r} is not one of {allowed}") from None
