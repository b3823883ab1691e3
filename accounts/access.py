"""Ending an account's access at once, and signing in without touching the audit trail.

A locked-out account (repeated wrong passwords, at sign-in or when signing) or a deactivated one
loses its open sessions and its API tokens in the same moment: otherwise a browser left signed in
or a token held by a script keeps working after the account was stopped (21 CFR 11.300(d):
attempted misuse of credentials is acted upon at once). Sessions are deleted here; apps that
hold other credentials (the API's tokens) listen to `access_ended`.
"""

import logging
from importlib import import_module

from django.conf import settings
from django.contrib.auth import get_user_model
from django.dispatch import Signal
from django.utils import timezone

log = logging.getLogger(__name__)

# Sent after an account's access ended: sender=the user model, user=..., reason=... (words).
access_ended = Signal()

SESSION_USER_KEY = "_auth_user_id"


def end_access(user, *, reason: str, request=None) -> int:
    """End every open session of `user` and tell the other credentials' owners; returns the
    number of sessions ended. `request`: the request being served, whose own session (if it is
    this user's) is flushed rather than deleted under it."""
    ended = _end_sessions(user, request)
    access_ended.send(sender=type(user), user=user, reason=reason)
    log.info("Access of %s ended (%s): %d session(s)", user.get_username(), reason, ended)
    return ended


def _end_sessions(user, request) -> int:
    own = getattr(request, "session", None) if request is not None else None
    if own is not None and str(own.get(SESSION_USER_KEY, "")) == str(user.pk):
        # Deleting the row under the running request would make the response fail to save the
        # session ("session deleted before the request completed"); a flush ends it cleanly.
        own.flush()
    store = import_module(settings.SESSION_ENGINE).SessionStore
    get_model = getattr(store, "get_model_class", None)
    if get_model is None:
        log.warning("Sessions of %s not ended: the session engine keeps no table", user)
        return 0
    model = get_model()
    ended = 0
    for session in model.objects.filter(expire_date__gt=timezone.now()).iterator():
        try:
            data = store().decode(session.session_data)
        except Exception:  # a session that cannot be read grants nothing
            continue
        if str(data.get(SESSION_USER_KEY, "")) == str(user.pk):
            session.delete()
            ended += 1
    return ended


def on_locked_out(sender, request=None, username=None, **kwargs) -> None:
    """django-axes' `user_locked_out`: the account named at sign-in (or when signing)."""
    if not username:
        return
    user = get_user_model()._default_manager.filter(**{get_user_model().USERNAME_FIELD: username})
    user = user.first()
    if user is None:  # a lockout of a name no account has
        return
    end_access(
        user,
        reason=f"account locked after {settings.AXES_FAILURE_LIMIT} wrong passwords",
        request=request,
    )


def remember_active(sender, instance, **kwargs) -> None:
    """pre_save of User: note whether the account was active before this save."""
    if instance.pk is None:
        instance._was_active = None
        return
    instance._was_active = (
        type(instance)._default_manager.filter(pk=instance.pk).values_list("is_active", flat=True)
    ).first()


def on_user_saved(sender, instance, created, **kwargs) -> None:
    """post_save of User: deactivating an account ends its access in the same transaction."""
    if not created and getattr(instance, "_was_active", None) and not instance.is_active:
        end_access(instance, reason="account deactivated", request=_current_request())


def _current_request():
    """The request being served, if any (simple-history's middleware keeps it for the audit
    trail's user): an administrator who deactivates their own account has their session
    flushed, not deleted under the running request."""
    from simple_history.models import HistoricalRecords

    return getattr(HistoricalRecords.context, "request", None)


def update_last_login(sender, user, **kwargs) -> None:
    """Replaces Django's receiver of the same name: signing in records the time without a
    `save()`, so no audit-history row is written for it (last_login is not clinical or
    configuration data, and a row per sign-in would bury the real changes)."""
    now = timezone.now()
    type(user)._default_manager.filter(pk=user.pk).update(last_login=now)
    user.last_login = now
