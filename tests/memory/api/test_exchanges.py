"""Recording exchanges: one call (idempotent), bulk import with original timestamps, validation."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from memory.models import AugmentationJob, Entity, Exchange, Message, Process, RecallEvent
from tests.memory.api.conftest import assert_error, exchange_payload, record
from tests.support.database_faults import messages_refused


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
    for unknown in (event_id, 999999):
        response = api.post("/api/v1/exchanges/", exchange_payload(recall_event_id=unknown), format="json")
        assert f"recall event {unknown} does not exist" in assert_error(response, 409, "conflict")["message"]
    assert not Exchange.objects.filter(entity__tenant__name="acme").exists()


def _post_json(api, path: str, body: dict):
    """JSON as any client's encoder writes it: a lone surrogate travels as the escape "\\udfff"."""
    return api.generic("POST", path, json.dumps(body).encode(), content_type="application/json")


LONE = "half an emoji \udfff here"


def test_a_lone_surrogate_is_refused_in_every_text_field_never_a_500(api):
    parts = [{"type": "text", "text": LONE}]
    exchange_cases = [
        (exchange_payload(LONE), "messages"),
        (exchange_payload(messages=[{"role": "user", "content": parts}]), "messages"),
        (exchange_payload(messages=[{"role": "user", "content": "hi", "name": LONE}]), "messages"),
        (exchange_payload(messages=[{"role": "assistant", "tool_calls": [{"id": LONE}]}]), "messages"),
        (exchange_payload(messages=[{"role": "tool", "content": "ok", "tool_call_id": LONE}]), "messages"),
        (exchange_payload(entity_id=LONE), "entity_id"),
        (exchange_payload(process_id=LONE), "process_id"),
        (exchange_payload(model=LONE), "model"),
        (exchange_payload(idempotency_key=LONE), "idempotency_key"),
    ]
    for body, field in exchange_cases:
        error = assert_error(_post_json(api, "/api/v1/exchanges/", body), 400, "invalid")
        assert field in error["fields"] and "surrogate" in error["message"], error
        error = assert_error(_post_json(api, "/api/v1/exchanges/bulk/", {"exchanges": [exchange_payload(), body]}), 400)
        assert "surrogate" in error["message"], error
    memory = {"entity_id": "customer_456", "kind": "fact", "content": LONE}
    assert "surrogate" in assert_error(_post_json(api, "/api/v1/memories/", memory), 400, "invalid")["message"]
    recall = {"entity_id": "customer_456", "process_id": "triage_agent", "query": LONE}
    assert "surrogate" in assert_error(_post_json(api, "/api/v1/recall/", recall), 400, "invalid")["message"]
    assert not Exchange.objects.exists() and not Message.objects.exists()


def test_a_surrogate_pair_is_an_ordinary_character(api):
    body = record(api, "Shipped \U0001f680 today")  # sent as the pair "\ud83d\ude80"
    assert Exchange.objects.get(pk=body["exchange_id"]).messages.first().content == "Shipped \U0001f680 today"


def _timed(index: int, text: str | None = None) -> dict:
    moment = datetime(2024, 3, 1, 9, 0, tzinfo=UTC) + timedelta(minutes=index)
    return exchange_payload(
        text or f"Import line {index}: invoice {1000 + index} was paid.", occurred_at=moment.isoformat()
    )


@pytest.fixture
def refuse_poison_in_the_database():
    """A database that refuses one message after validation passed it (a trigger): a real failure,
    the same however often the message is sent, on SQLite and PostgreSQL."""
    with messages_refused("poison"):
        yield


def test_a_bulk_import_failing_in_the_database_stores_nothing_and_its_retry_nothing_twice(
    api, refuse_poison_in_the_database
):
    good = [_timed(index) for index in range(60)]
    poisoned = [*good, _timed(60, "poison")]  # recorded last: the oldest sixty come first

    failed = _post_json(api, "/api/v1/exchanges/bulk/", {"exchanges": poisoned})
    assert_error(failed, 409, "conflict")
    assert Exchange.objects.count() == 0 and Message.objects.count() == 0 and AugmentationJob.objects.count() == 0

    assert_error(_post_json(api, "/api/v1/exchanges/bulk/", {"exchanges": poisoned}), 409)
    assert Exchange.objects.count() == 0

    first = _post_json(api, "/api/v1/exchanges/bulk/", {"exchanges": good})
    again = _post_json(api, "/api/v1/exchanges/bulk/", {"exchanges": good})  # e.g. its answer was lost
    assert first.status_code == 201 and again.status_code == 201, again.json()
    assert [r["created"] for r in again.json()["results"]] == [False] * 60
    assert [r["exchange_id"] for r in again.json()["results"]] == [r["exchange_id"] for r in first.json()["results"]]
    assert Exchange.objects.count() == 60 and Message.objects.count() == 120 and AugmentationJob.objects.count() == 60


def test_a_timed_exchange_sent_again_without_a_key_is_stored_once(api):
    first = _post_json(api, "/api/v1/exchanges/", _timed(1))
    again = _post_json(api, "/api/v1/exchanges/", _timed(1))

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["exchange_id"] == first.json()["exchange_id"] and again.json()["created"] is False
    assert _post_json(api, "/api/v1/exchanges/", _timed(2)).status_code == 201  # another time: another exchange
    assert Exchange.objects.count() == 2


def test_an_untimed_exchange_without_a_key_is_a_new_exchange_each_time(api):
    record(api, "ping")
    record(api, "ping")
    assert Exchange.objects.count() == 2


def test_an_imported_session_starts_at_its_earliest_message_not_at_the_import(api):
    session_id = str(uuid.uuid4())
    later = exchange_payload("Then we chose Adyen.", session_id=session_id, occurred_at="2023-05-01T11:00:00Z")
    earlier = exchange_payload("We use Stripe.", session_id=session_id, occurred_at="2023-05-01T10:00:00Z")

    response = api.post("/api/v1/exchanges/bulk/", {"exchanges": [later, earlier]}, format="json")

    assert response.status_code == 201, response.json()
    exchange = Exchange.objects.select_related("session", "conversation").get(
        pk=response.json()["results"][1]["exchange_id"]
    )
    expected = datetime(2023, 5, 1, 10, 0, tzinfo=UTC)
    assert exchange.session.started_at == expected
    assert exchange.conversation.started_at == expected
    assert exchange.session.last_activity_at == datetime(2023, 5, 1, 11, 0, tzinfo=UTC)
