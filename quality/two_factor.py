"""Two-factor sign-in for the roles a study names (docs/quality.md §7), with django-otp: a TOTP
authenticator app (RFC 6238) and single-use recovery codes.

At sign-in the user's memberships decide whether a second factor is due (`two_factor_roles` of
each study's quality settings); the answer is kept in the session, so the middleware asks no
database question on later requests. Until the second factor is given, every page leads to the
two-factor page (set up an authenticator the first time, then enter its code or a recovery
code). API calls with a token are not sessions and are not affected. The electronic signature
still asks for the password (21 CFR 11.200): the second factor guards the session, not the
signature.
"""

from __future__ import annotations

import secrets
from urllib.parse import urlencode

from django.db import transaction
from django.shortcuts import redirect
from django_otp import DEVICE_ID_SESSION_KEY, match_token
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.scoping import held_roles
from core.errors import field_error

from .models import QualitySettings

REQUIRED_SESSION_KEY = "quality_two_factor_required"
RECOVERY_CODES = 10
PATH = "/quality/two-factor/"
# Pages reachable before the second factor: the two-factor page itself, signing out, the
# session keep-alive, static files.
OPEN_PATHS = (PATH, "/accounts/logout/", "/accounts/login/", "/session/keepalive/", "/static/")


def required_for(user) -> bool:
    """Does any of the user's roles need a second factor, in the study where they hold it?"""
    roles = held_roles(user)
    if not roles:
        return False
    settings = {
        s.study_id: set(s.two_factor_roles)
        for s in QualitySettings.objects.filter(study_id__in={study_id for study_id, _ in roles})
    }
    return any(role in settings.get(study_id, set()) for study_id, role in roles)


def on_logged_in(sender, request, user, **kwargs) -> None:
    """user_logged_in: note in the session whether this sign-in needs a second factor."""
    if request is not None and hasattr(request, "session"):
        request.session[REQUIRED_SESSION_KEY] = required_for(user)


def is_verified(request) -> bool:
    return bool(request.session.get(DEVICE_ID_SESSION_KEY))


def two_factor_required(get_response):
    """Middleware: a signed-in user whose role needs a second factor reaches only the
    two-factor page until they give it."""

    def middleware(request):
        if (
            request.session.get(REQUIRED_SESSION_KEY)
            and request.user.is_authenticated
            and not is_verified(request)
            and not request.path.startswith(OPEN_PATHS)
            and not request.headers.get("Authorization", "").startswith("Bearer ")
        ):
            return redirect(f"{PATH}?{urlencode({'next': request.get_full_path()})}")
        return get_response(request)

    return middleware


def confirmed_device(user) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def pending_device(user) -> TOTPDevice:
    """The authenticator being set up (one per user until confirmed)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)
    return device


def confirm_setup(request, code: str) -> list[str]:
    """Confirm the authenticator with its first code; returns the recovery codes, shown once."""
    user = request.user
    device = pending_device(user)
    if not device.verify_token((code or "").strip()):
        raise field_error(
            "code", "This code does not match the authenticator: try the current one.", "invalid"
        )
    codes = [secrets.token_hex(5) for _ in range(RECOVERY_CODES)]
    with transaction.atomic():
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        recovery, _ = StaticDevice.objects.get_or_create(user=user, name="Recovery codes")
        recovery.token_set.all().delete()  # earlier codes stop working
        for code_ in codes:
            StaticToken.objects.create(device=recovery, token=code_)
        recovery.confirmed = True
        recovery.save(update_fields=["confirmed"])
    otp_login(request, device)
    return codes


def verify(request, code: str) -> None:
    """Accept the authenticator's current code or an unused recovery code (used up)."""
    device = match_token(request.user, (code or "").strip().replace(" ", ""))
    if device is None:
        raise field_error(
            "code",
            "This code is not valid: enter the authenticator's current code or a recovery code.",
            "invalid",
        )
    otp_login(request, device)
