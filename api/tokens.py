"""Making, finding and revoking API tokens (the only write path for `ApiToken`).

A token reads `edc_<prefix>_<secret>`: the prefix (public, unique) finds the row, the SHA-256 of
the whole token is compared in constant time. The secret has 256 bits of randomness, so a fast
hash is enough: there is nothing to guess.
"""

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from core.errors import PermissionDenied, field_error

from .models import ApiToken

TOKEN_PREFIX = "edc_"
DEFAULT_LIFETIME_DAYS = 90
MAX_LIFETIME_DAYS = 365
LAST_USED_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    secret: str  # the full token: shown once, never stored


def hash_secret(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def split_token(raw: str) -> str | None:
    """The lookup prefix of a presented token, or None when it is not shaped like one."""
    if not raw.startswith(TOKEN_PREFIX):
        return None
    prefix, sep, secret = raw[len(TOKEN_PREFIX) :].partition("_")
    if not sep or not prefix or not secret or len(prefix) > 16:
        return None
    return prefix


def token_create(*, by, name: str, lifetime_days: int = DEFAULT_LIFETIME_DAYS) -> IssuedToken:
    """A new token for `by`, acting with `by`'s own roles and sites until it expires."""
    if by is None or not by.is_authenticated or not by.is_active:
        raise PermissionDenied("Sign in to make an API token.")
    name = (name or "").strip()
    if not name:
        raise field_error("name", "Name the token after what will use it.", "required")
    if len(name) > 100:
        raise field_error("name", "Keep the name under 100 characters.", "max_length")
    if "\x00" in name:
        raise field_error("name", "Null characters are not allowed.", "null_characters")
    if not isinstance(lifetime_days, int) or not 1 <= lifetime_days <= MAX_LIFETIME_DAYS:
        raise field_error(
            "expires_in_days",
            f"A token lives between 1 and {MAX_LIFETIME_DAYS} days.",
            "out_of_range",
        )
    prefix = secrets.token_hex(4)
    raw = f"{TOKEN_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    now = timezone.now()
    token = ApiToken(
        user=by,
        name=name,
        prefix=prefix,
        secret_hash=hash_secret(raw),
        expires_at=now + timedelta(days=lifetime_days),
    )
    token._history_user = by
    token._change_reason = "API token created"
    with transaction.atomic():
        token.save()
    return IssuedToken(token=token, secret=raw)


def token_revoke(*, by, token: ApiToken) -> ApiToken:
    """Revoke one of `by`'s own tokens; it stops working at once and stays on record."""
    if token.user_id != by.pk:
        raise PermissionDenied("You can revoke only your own tokens.")
    with transaction.atomic():
        current = ApiToken.objects.select_for_update().get(pk=token.pk)
        if current.revoked_at is not None:
            return current
        current.revoked_at = timezone.now()
        current.revoked_by = by
        current._history_user = by
        current._change_reason = "API token revoked"
        current.save(update_fields=["revoked_at", "revoked_by"])
    return current


def revoke_all(sender=None, *, user, reason: str, **kwargs) -> int:
    """Revoke every usable token of `user` (their account was locked out or deactivated);
    each stays on record with the reason. Connected to `accounts.access.access_ended`."""
    now = timezone.now()
    revoked = 0
    with transaction.atomic():
        for token in ApiToken.objects.select_for_update().filter(user=user, revoked_at=None):
            token.revoked_at = now
            token._change_reason = f"API token revoked: {reason}"
            token.save(update_fields=["revoked_at"])
            revoked += 1
    return revoked


def token_authenticate(raw: str) -> ApiToken | None:
    """The usable token `raw` names, with its user loaded; None when unknown, revoked or expired."""
    prefix = split_token(raw)
    if prefix is None:
        return None
    token = ApiToken.objects.select_related("user").filter(prefix=prefix).first()
    if token is None or not hmac.compare_digest(token.secret_hash, hash_secret(raw)):
        return None
    now = timezone.now()
    if not token.is_usable(now) or not token.user.is_active:
        return None
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token
