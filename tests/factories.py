"""Small factory fixtures: two tenants, so every test can check isolation."""

from __future__ import annotations

import pytest

from memory.models import ApiKey, Tenant


@pytest.fixture
def tenant(db) -> Tenant:
    return Tenant.objects.create(name="acme")


@pytest.fixture
def other_tenant(db) -> Tenant:
    return Tenant.objects.create(name="globex")


def make_api_key(tenant: Tenant, *, name: str = "agents", scope: str = ApiKey.Scope.READ_WRITE) -> tuple[ApiKey, str]:
    api_key = ApiKey(tenant=tenant, name=name, scope=scope)
    raw_key = api_key.assign_new_secret()
    api_key.save()
    return api_key, raw_key
