"""The client's address, as the rate limits and the login-failure records see it.

Behind `NUM_PROXIES` reverse proxies that each append to X-Forwarded-For, the client is the
entry that many places from the end; the entries before it are whatever the client sent and are
never trusted. With NUM_PROXIES=0 (the default: the app is reached directly) the header is
ignored. The same rule as Django REST framework's NUM_PROXIES, so both agree.
"""

from django.conf import settings


def client_address(request) -> str | None:
    remote = request.META.get("REMOTE_ADDR")
    proxies = getattr(settings, "NUM_PROXIES", 0)
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR")
    if not proxies or not forwarded:
        return remote
    addresses = [a.strip() for a in forwarded.split(",")]
    return addresses[-min(proxies, len(addresses))] or remote
