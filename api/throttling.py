"""Rate limits per user (and per address for anonymous calls), answering 429 with Retry-After.

Rates come from REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] (env API_RATE_LIMIT and
API_ANON_RATE_LIMIT), read on every request so a changed setting applies at once. Counters live
in the "api_throttle" cache: Redis when REDIS_URL is set (shared by every web process), else
per-process memory. If the cache is unreachable the request is let through and the failure
logged: a rate limit must never be the reason a site's data entry fails.
"""

import logging

from django.conf import settings
from django.core.cache import caches
from rest_framework import throttling
from rest_framework.settings import api_settings

logger = logging.getLogger("api")

CACHE_ALIAS = "api_throttle"


class _Configured:
    @property
    def cache(self):
        return caches[CACHE_ALIAS if CACHE_ALIAS in settings.CACHES else "default"]

    def get_rate(self):
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def allow_request(self, request, view):
        try:
            return super().allow_request(request, view)
        except Exception:
            logger.warning("Rate limit not applied: the throttle cache failed", exc_info=True)
            return True


class UserRateThrottle(_Configured, throttling.UserRateThrottle):
    scope = "user"


class AnonRateThrottle(_Configured, throttling.AnonRateThrottle):
    scope = "anon"
