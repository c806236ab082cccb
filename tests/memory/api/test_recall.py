"""Recall over the API: ranked memories with kind, score and processes, pending context, the block."""

from __future__ import annotations

import uuid

from django.apps import apps

from memory.models import ApiKey, Process, RecallEvent, RecallHit
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


def test_a_read_only_key_creates_nothing(api, read_only_api):
    remember(api, "The customer uses PostgreSQL 16 for billing.", process_id="triage_agent")
    rows = _row_counts()

    for process_id in ("dashboard_viewer", "another_viewer", "dashboard_viewer"):
        body = {"entity_id": "customer_456", "process_id": process_id, "query": "database", "session_id": None}
        response = read_only_api.post("/api/v1/recall/", body, format="json")
        assert response.status_code == 200, response.json()
        assert "PostgreSQL" in response.json()["block"] and response.json()["event_id"] is None
    unknown = {"entity_id": "nobody_yet", "process_id": "viewer", "query": "x"}
    assert read_only_api.post("/api/v1/recall/", unknown, format="json").status_code == 200
    session = {"entity_id": "customer_456", "process_id": "viewer", "query": "x", "session_id": str(uuid.uuid4())}
    assert read_only_api.post("/api/v1/recall/", session, format="json").status_code == 200
    for path in ("/api/v1/memories/", "/api/v1/entities/", "/api/v1/processes/", "/api/v1/sessions/"):
        assert read_only_api.get(path).status_code == 200
    assert read_only_api.get("/api/v1/entities/customer_456/export/").status_code == 200

    assert _row_counts() == rows


def test_a_read_only_recall_of_an_existing_process_is_recorded_as_its_event(api, read_only_api):
    remember(api, "The customer uses PostgreSQL 16 for billing.", process_id="triage_agent")
    record(api, "Which database?", process_id="billing_agent")

    event_id = _recall(read_only_api, "database").json()["event_id"]

    assert RecallEvent.objects.get(pk=event_id).process.external_id == "billing_agent"
    assert Process.objects.filter(external_id="billing_agent").count() == 1


def _row_counts() -> dict[str, int]:
    """Rows of every table of the memory app, but the recall events (a read-only recall may add its
    event) and the API keys (which remember when they were last used)."""
    skipped = {RecallEvent, RecallHit, ApiKey}
    return {
        model.__name__: model.objects.count()
        for model in apps.get_app_config("memory").get_models()
        if model not in skipped
    }
