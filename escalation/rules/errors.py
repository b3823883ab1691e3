"""The one error type of the escalation core."""


class EscalationInputError(ValueError):
    """The facts given to the core are inconsistent; nothing can be recommended from them.

    The Django layer maps it to a form error or an HTTP 400 (DESIGN.md: one error vocabulary).
    """
