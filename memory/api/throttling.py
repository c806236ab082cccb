from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from memory.api.auth import TenantPrincipal


class ApiKeyRateThrottle(SimpleRateThrottle):
    """Rate limit per API key (429 with Retry-After when exceeded)."""

    scope = "api_key"

    def get_rate(self):
        # Read the rate at request time (not import time), so a changed setting applies at once.
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def get_cache_key(self, request, view):
        if isinstance(request.user, TenantPrincipal):
            return self.cache_format % {"scope": self.scope, "ident": request.user.api_key.pk}
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
