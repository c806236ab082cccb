"""API key authentication: `Authorization: Bearer <key>` or `X-Memori-API-Key: <key>`."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from rest_framework import authentication, exceptions

from memory.models import ApiKey, hash_api_key

LAST_USED_RESOLUTION = timedelta(minutes=1)


class TenantPrincipal:
    """Stands in for request.user: the tenant an API key acts for."""

    is_authenticated = True
    is_anonymous = False

    def __init__(self, api_key: ApiKey) -> None:
        self.api_key = api_key
        self.tenant = api_key.tenant

    def __str__(self) -> str:
        return f"api key {self.api_key.name}"


def raw_key_from_headers(request) -> str | None:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
        return None
    return request.META.get("HTTP_X_MEMORI_API_KEY") or None


class ApiKeyAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request):
        raw_key = raw_key_from_headers(request)
        if raw_key is None:
            if request.META.get("HTTP_AUTHORIZATION"):
                raise exceptions.AuthenticationFailed("Use 'Authorization: Bearer <api key>'.")
            return None
        api_key = (
            ApiKey.objects.select_related("tenant")
            .filter(key_hash=hash_api_key(raw_key), revoked_at__isnull=True)
            .first()
        )
        if api_key is None:
            raise exceptions.AuthenticationFailed("This API key is unknown or revoked.")
        now = timezone.now()
        if api_key.last_used_at is None or now - api_key.last_used_at > LAST_USED_RESOLUTION:
            ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
        principal = TenantPrincipal(api_key)
        return principal, api_key

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="memori"'
