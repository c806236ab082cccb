"""Creating and revoking API keys. The raw key exists only in the return value of the creation."""

from __future__ import annotations

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from memory.models import ApiKey, Tenant


def api_key_create(*, tenant: Tenant, name: str, scope: str = ApiKey.Scope.READ_WRITE) -> tuple[ApiKey, str]:
    api_key = ApiKey(tenant=tenant, name=name, scope=scope)
    raw_key = api_key.assign_new_secret()
    with transaction.atomic():
        api_key.full_clean()
        api_key.save()
    return api_key, raw_key


def api_keys_revoke(*, keys: QuerySet[ApiKey]) -> int:
    """Revoke the keys not revoked yet (a revoked key keeps its first revocation time); how many."""
    return keys.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
