"""API keys: required, Bearer or X-Memori-API-Key, revocable at once, read-only scope, throttling."""

from __future__ import annotations

from django.utils import timezone
from rest_framework.test import APIClient

from memory.models import Exchange
from tests.memory.api.conftest import assert_error, client_for, exchange_payload


def test_it_requires_an_api_key(db):
    assert_error(client_for(None).get("/api/v1/memories/"), 401)


def test_it_rejects_an_unknown_key(db):
    error = assert_error(client_for("mk_not-a-real-key").get("/api/v1/memories/"), 401)
    assert "unknown or revoked" in error["message"]


def test_it_rejects_a_malformed_authorization_header(db):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Basic dXNlcjpwYXNz")
    assert_error(client.get("/api/v1/memories/"), 401)


def test_a_revoked_key_stops_working_at_once(api, api_key):
    assert api.get("/api/v1/memories/").status_code == 200
    key, _ = api_key
    key.revoked_at = timezone.now()
    key.save()
    assert_error(api.get("/api/v1/memories/"), 401)


def test_the_sdk_header_works_too(api_key):
    client = APIClient()
    client.credentials(HTTP_X_MEMORI_API_KEY=api_key[1])
    assert client.get("/api/v1/memories/").status_code == 200


def test_a_read_only_key_can_read_and_recall_but_not_write(read_only_api):
    assert read_only_api.get("/api/v1/memories/").status_code == 200
    error = assert_error(read_only_api.post("/api/v1/exchanges/", exchange_payload(), format="json"), 403)
    assert "read-only" in error["message"]
    recall = {"entity_id": "customer_456", "process_id": "triage_agent", "query": "database?"}
    assert read_only_api.post("/api/v1/recall/", recall, format="json").status_code == 200
    assert not Exchange.objects.exists()


def test_a_key_over_its_rate_gets_429_with_retry_after(api, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"api_key": "2/min"}}
    assert api.get("/api/v1/memories/").status_code == 200
    assert api.get("/api/v1/memories/").status_code == 200
    response = api.get("/api/v1/memories/")
    assert_error(response, 429, "throttled")
    assert int(response["Retry-After"]) > 0
