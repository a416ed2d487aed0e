"""Throttling per scope (read / write / predict / batch, rates in
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], env API_RATE_*). DRF's ScopedRateThrottle reads its
rates once, at import, into a class attribute; this one reads them from the live settings on
each request, so an override (a test, a settings reload) takes effect at once."""

from __future__ import annotations

from rest_framework.settings import api_settings
from rest_framework.throttling import ScopedRateThrottle


class ScopeThrottle(ScopedRateThrottle):
    """The scope comes from the view (`throttle_scope`, which the API's views compute per
    action); 429 with Retry-After once a user or address is over the scope's rate."""

    def get_rate(self):
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)
