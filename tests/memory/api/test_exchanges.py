"""Recording exchanges: one call (idempotent), bulk import with original timestamps, validation."""

from __future__ import annotations

import uuid

from memory.models import AugmentationJob, Entity, Exchange, Message, Process, RecallEvent
from tests.memory.api.conftest import assert_error, exchange_payload, record


def test_it_records_an_exchange_and_queues_its_augmentation(api, tenant):
    body = record(api, usage={"prompt_tokens": 12, "completion_tokens": 3}, model="gpt-4o-mini", latency_ms=812.5)

    assert body["created"] is True
    exchange = Exchange.objects.get(pk=body["exchange_id"])
    assert exchange.entity.tenant == tenant
    assert (exchange.prompt_tokens, exchange.completion_tokens, exchange.model) == (12, 3, "gpt-4o-mini")
    assert list(exchange.messages.values_list("role", flat=True)) == ["user", "assistant"]
    assert AugmentationJob.objects.get(pk=body["job_id"]).status == "queued"
    uuid.UUID(body["session_id"])


def test_the_same_idempotency_key_never_records_twice(api):
    first = record(api, idempotency_key="call-1")
    again = api.post("/api/v1/exchanges/", exchange_payload(idempotency_key="call-1"), format="json")

    assert again.status_code == 200
    assert again.json() == {**first, "created": False}
    assert Exchange.objects.count() == 1


def test_a_session_keeps_its_conversation_in_order(api):
    session_id = str(uuid.uuid4())
    record(api, "first question", session_id=session_id)
    body = record(api, "second question", session_id=session_id)

    assert body["session_id"] == session_id
    positions = list(Message.objects.order_by("position").values_list("position", "content"))
    assert positions[0] == (0, "first question") and positions[2] == (2, "second question")


def test_openai_content_parts_and_tool_calls_are_kept(api):
    messages = [
        {"role": "user", "content": [{"type": "text", "text": "Deploy it"}]},
        {"role": "assistant", "content": None, "tool_calls": [{"id": "c1", "type": "function"}]},
        {"role": "tool", "content": "ok", "tool_call_id": "c1"},
    ]
    body = record(api, messages=messages)
    stored = list(Exchange.objects.get(pk=body["exchange_id"]).messages.order_by("position"))
    assert stored[0].content == "Deploy it"
    assert stored[1].tool_calls == [{"id": "c1", "type": "function"}]
    assert stored[2].tool_call_id == "c1"


def test_it_says_what_to_fix(api):
    cases = [
        ({"entity_id": ""}, "entity_id"),
        ({"entity_id": "x" * 201}, "entity_id"),
        ({"process_id": "bad\x01id"}, "process_id"),
        ({"messages": []}, "messages"),
        ({"messages": [{"role": "wizard", "content": "hi"}]}, "messages"),
        ({"messages": [{"role": "user", "content": "nul\x00byte"}]}, "messages"),
        ({"session_id": "not-a-uuid"}, "session_id"),
        ({"usage": {"prompt_tokens": -1}}, "usage"),
        ({"recall_event_id": 999999}, "recall_event_id"),
    ]
    for overrides, field in cases:
        response = api.post("/api/v1/exchanges/", exchange_payload(**overrides), format="json")
        error = assert_error(response, 400, "invalid")
        assert field in error["fields"], (overrides, error)
    assert not Exchange.objects.exists()


def test_malformed_bodies_are_400(api):
    nested = "[" * 5000 + "]" * 5000
    for body in (b"{not json", b'{"entity_id": "\xff\xfe"}', nested.encode(), b'{"latency_ms": NaN}'):
        assert_error(api.post("/api/v1/exchanges/", body, content_type="application/json"), 400)


def test_a_body_over_the_size_limit_is_413(api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = api.post("/api/v1/exchanges/", exchange_payload("x" * 2000), format="json")
    assert_error(response, 413, "request_too_large")


def test_bulk_import_keeps_original_timestamps_and_returns_results_in_order(api):
    older = exchange_payload("We moved to Rust in 2023.", occurred_at="2023-05-01T10:00:00Z")
    newer = exchange_payload("Now we also use Go.", occurred_at="2024-02-01T10:00:00Z", idempotency_key="imp-2")
    newer["messages"][0]["created_at"] = "2024-02-01T09:59:00Z"

    response = api.post("/api/v1/exchanges/bulk/", {"exchanges": [newer, older]}, format="json")

    assert response.status_code == 201, response.json()
    results = response.json()["results"]
    assert [r["created"] for r in results] == [True, True]
    newest = Exchange.objects.get(pk=results[0]["exchange_id"])
    assert newest.occurred_at.year == 2024
    assert newest.messages.order_by("position").first().created_at.isoformat().startswith("2024-02-01T09:59")
    assert AugmentationJob.objects.filter(pk__in=[r["job_id"] for r in results]).count() == 2


def test_bulk_import_is_refused_whole_when_one_exchange_is_invalid(api):
    bad = exchange_payload(messages=[{"role": "nobody", "content": "x"}])
    response = api.post("/api/v1/exchanges/bulk/", {"exchanges": [exchange_payload(), bad]}, format="json")
    error = assert_error(response, 400, "invalid")
    assert "exchanges" in error["fields"]
    assert not Exchange.objects.exists()


def test_a_recall_event_of_another_tenant_cannot_be_linked(api, other_tenant):
    entity = Entity.objects.create(tenant=other_tenant, external_id="customer_456")
    process = Process.objects.create(tenant=other_tenant, external_id="triage_agent")
    event_id = RecallEvent.objects.create(entity=entity, process=process, query="hello").pk
    response = api.post("/api/v1/exchanges/", exchange_payload(recall_event_id=event_id), format="json")
    assert_error(response, 400, "invalid")
