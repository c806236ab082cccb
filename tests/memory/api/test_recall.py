"""Recall over the API: ranked memories with kind, score and processes, pending context, the block."""

from __future__ import annotations

from memory.models import RecallEvent
from tests.memory.api.conftest import assert_error, record, remember


def _recall(api, query: str, **extra):
    body = {"entity_id": "customer_456", "process_id": "billing_agent", "query": query, **extra}
    return api.post("/api/v1/recall/", body, format="json")


def test_it_returns_ranked_memories_and_records_an_event(api):
    remember(api, "The customer uses PostgreSQL 16 for billing.", process_id="triage_agent")
    remember(api, "The customer prefers email over phone calls.", kind="preference")

    response = _recall(api, "Which database does the customer use?", limit=5)

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["items"], body
    top = body["items"][0]
    assert "PostgreSQL" in top["content"]
    assert top["kind"] == "fact"
    assert top["processes"] == ["triage_agent"]
    assert top["score"] >= body["items"][-1]["score"]
    assert "<memori_context>" in body["block"]
    assert RecallEvent.objects.filter(pk=body["event_id"]).exists()


def test_the_share_of_other_agents_recent_work_can_be_set_per_call(api):
    remember(api, "The customer asked for a refund of 120 euros.", process_id="triage_agent")

    response = _recall(api, "Anything new?", handoff_share=0.5)

    assert response.status_code == 200, response.json()
    assert "refund of 120 euros" in response.json()["block"]  # recent work of another agent, as a handoff


def test_other_processes_pending_exchanges_are_served_raw(api):
    record(api, "My invoice number is INV-2024-77.", process_id="triage_agent")

    body = _recall(api, "invoice number").json()

    assert any("INV-2024-77" in pending["text"] for pending in body["pending"]), body
    assert body["pending"][0]["process_id"] == "triage_agent"


def test_another_tenants_memory_is_never_recalled(api, other_api):
    remember(other_api, "The secret launch date is March 3.")
    body = _recall(api, "launch date").json()
    assert body["items"] == [] and "March" not in body["block"]


def test_it_validates_the_request(api):
    invalid = ({"limit": 0}, {"limit": -5}, {"token_budget": 0}, {"session_id": "nope"}, {"handoff_share": 1.5})
    for extra in (*invalid, {"query": "a\x00b"}):
        assert_error(_recall(api, "x", **extra) if "query" not in extra else _recall(api, **extra), 400, "invalid")
    assert_error(api.post("/api/v1/recall/", {"query": "x"}, format="json"), 400, "invalid")


def test_it_needs_a_key(db):
    from tests.memory.api.conftest import client_for

    assert_error(_recall(client_for(None), "x"), 401)
