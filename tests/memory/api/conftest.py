"""API test helpers: clients authenticated with a read-write, a read-only and another tenant's key."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from memory.models import ApiKey
from tests.factories import make_api_key


def client_for(raw_key: str | None) -> APIClient:
    client = APIClient()
    if raw_key:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_key}")
    return client


@pytest.fixture(autouse=True)
def _fresh_throttle_counts():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def api_key(tenant):
    return make_api_key(tenant)


@pytest.fixture
def api(api_key) -> APIClient:
    return client_for(api_key[1])


@pytest.fixture
def read_only_api(tenant) -> APIClient:
    return client_for(make_api_key(tenant, name="dashboard", scope=ApiKey.Scope.READ_ONLY)[1])


@pytest.fixture
def other_api(other_tenant) -> APIClient:
    return client_for(make_api_key(other_tenant, name="intruder")[1])


def exchange_payload(text: str = "I use PostgreSQL for the billing service.", **overrides) -> dict:
    payload = {
        "entity_id": "customer_456",
        "process_id": "triage_agent",
        "messages": [{"role": "user", "content": text}, {"role": "assistant", "content": "Noted."}],
    }
    payload.update(overrides)
    return payload


def record(api: APIClient, text: str = "I use PostgreSQL for the billing service.", **overrides) -> dict:
    response = api.post("/api/v1/exchanges/", exchange_payload(text, **overrides), format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def remember(api: APIClient, content: str, *, entity_id: str = "customer_456", kind: str = "fact", **extra) -> dict:
    body = {"entity_id": entity_id, "kind": kind, "content": content, **extra}
    response = api.post("/api/v1/memories/", body, format="json")
    assert response.status_code in (200, 201), response.json()
    return response.json()


def assert_error(response, status_code: int, code: str | None = None) -> dict:
    assert response.status_code == status_code, (response.status_code, response.content[:500])
    error = response.json()["error"]
    assert error["message"]
    if code is not None:
        assert error["code"] == code, error
    return error
