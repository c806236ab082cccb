"""Hostile and broken input through the real API: a clear 4xx that says what is wrong, nothing
stored half-way; text payloads (SQL, HTML) are stored verbatim and never interpreted."""

from __future__ import annotations

import json

import pytest
from rest_framework.test import APIClient

from memory.models import Entity, Exchange, Memory, Message
from tests.factories import make_api_key

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(tenant) -> APIClient:
    _, raw_key = make_api_key(tenant)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_key}")
    return client


def _exchange(**overrides) -> dict:
    body = {
        "entity_id": "customer_456",
        "process_id": "triage_agent",
        "messages": [{"role": "user", "content": "I was charged twice."}, {"role": "assistant", "content": "Sorry!"}],
    }
    body.update(overrides)
    return body


def _post_raw(api: APIClient, path: str, raw: bytes):
    return api.generic("POST", path, raw, content_type="application/json")


def _assert_refused(response, *, status: int = 400, mentions: str | None = None) -> None:
    assert response.status_code == status, response.content[:500]
    error = response.json()["error"]
    assert error["message"]
    if mentions:
        assert mentions in json.dumps(error), error
    assert not Exchange.objects.exists()
    assert not Message.objects.exists()
    assert not Entity.objects.exists()


def test_an_oversized_message_is_refused(api, settings):
    huge = "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)
    response = api.post("/api/v1/exchanges/", _exchange(messages=[{"role": "user", "content": huge}]), format="json")
    _assert_refused(response, status=413)


def test_deeply_nested_json_is_refused(api):
    nested = "[" * 5000 + "]" * 5000
    raw = ('{"entity_id": "e", "process_id": "p", "messages": ' + nested + "}").encode()
    _assert_refused(_post_raw(api, "/api/v1/exchanges/", raw), mentions="nested")


def test_invalid_utf8_is_refused(api):
    raw = b'{"entity_id": "e", "process_id": "p", "messages": [{"role": "user", "content": "\xff\xfe bad"}]}'
    _assert_refused(_post_raw(api, "/api/v1/exchanges/", raw))


def test_a_nul_byte_in_content_is_refused(api):
    body = _exchange(messages=[{"role": "user", "content": "a\x00b"}])
    response = api.post("/api/v1/exchanges/", body, format="json")
    _assert_refused(response, mentions="messages")


def test_a_nul_byte_anywhere_in_tool_calls_is_refused(api):
    call = {"id": "call_1", "type": "function", "function": {"name": "lookup", "arguments": "{}"}, "k\x00ey": "v"}
    body = _exchange(messages=[{"role": "assistant", "content": None, "tool_calls": [call]}])
    response = api.post("/api/v1/exchanges/", body, format="json")
    _assert_refused(response, mentions="tool_calls")


def test_an_unknown_role_is_refused_by_name(api):
    response = api.post("/api/v1/exchanges/", _exchange(messages=[{"role": "wizard", "content": "hi"}]), format="json")
    _assert_refused(response, mentions="wizard")


@pytest.mark.parametrize("field", ["entity_id", "process_id"])
def test_an_id_of_ten_thousand_characters_is_refused(api, field):
    response = api.post("/api/v1/exchanges/", _exchange(**{field: "a" * 10_000}), format="json")
    _assert_refused(response, mentions=field)


def test_a_malformed_session_id_is_refused(api):
    response = api.post("/api/v1/exchanges/", _exchange(session_id="not-a-uuid"), format="json")
    _assert_refused(response, mentions="session_id")


@pytest.mark.parametrize("field,value", [("limit", -1), ("token_budget", -5), ("limit", "many")])
def test_negative_or_non_numeric_recall_limits_are_refused(api, field, value):
    body = {"entity_id": "customer_456", "process_id": "billing_agent", "query": "charge", field: value}
    response = api.post("/api/v1/recall/", body, format="json")
    assert response.status_code == 400
    assert field in json.dumps(response.json()["error"])


def test_a_negative_page_size_never_errors(api):
    response = api.get("/api/v1/memories/?page_size=-3")
    assert response.status_code in (200, 400)


PAYLOADS = [
    "'; DROP TABLE memory_memory; --",
    "Robert'); DELETE FROM memory_exchange WHERE ('1'='1",
    "<script>alert('memori')</script>",
    '<img src=x onerror="alert(1)">',
]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_sql_and_html_payloads_are_stored_verbatim_as_text(api, payload):
    response = api.post(
        "/api/v1/exchanges/",
        _exchange(entity_id=f"customer {payload}"[:200], messages=[{"role": "user", "content": payload}]),
        format="json",
    )
    assert response.status_code == 201, response.content[:500]
    assert Message.objects.get().content == payload
    created = api.post("/api/v1/memories/", {"entity_id": "acme", "kind": "fact", "content": payload}, format="json")
    assert created.status_code == 201, created.content[:500]
    assert Memory.objects.get(entity__external_id="acme").content == payload
    assert Exchange.objects.count() == 1
