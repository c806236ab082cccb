"""Entities, processes, sessions and conversations: list/retrieve/delete; forgetting an entity."""

from __future__ import annotations

from memory.models import AuditEntry, Entity, Exchange, Memory, Message, Session
from tests.memory.api.conftest import assert_error, record, remember


def test_entities_list_with_counts_and_bounded_queries(api, django_assert_max_num_queries):
    for n in range(6):
        record(api, f"message {n}", entity_id=f"customer_{n}")
        remember(api, f"Fact {n}.", entity_id=f"customer_{n}")
    with django_assert_max_num_queries(4):
        body = api.get("/api/v1/entities/").json()
    assert body["count"] == 6
    assert body["results"][0] == {
        **body["results"][0],
        "entity_id": "customer_0",
        "memory_count": 1,
        "session_count": 1,
        "exchange_count": 1,
    }


def test_entity_ids_with_slashes_work(api):
    remember(api, "Uses Rust.", entity_id="octo/memori")
    assert api.get("/api/v1/entities/octo/memori/").json()["memory_count"] == 1
    assert api.get("/api/v1/entities/octo%2Fmemori/export/").status_code == 200


def test_forgetting_an_entity_removes_all_of_its_memory(api, tenant):
    record(api, "I am allergic to peanuts.", entity_id="customer_1")
    remember(api, "Allergic to peanuts.", entity_id="customer_1")
    remember(api, "Keeps this.", entity_id="customer_2")

    assert api.delete("/api/v1/entities/customer_1/").status_code == 204

    assert not Entity.objects.filter(external_id="customer_1").exists()
    assert not Exchange.objects.filter(entity__external_id="customer_1").exists()
    assert list(Memory.objects.values_list("content", flat=True)) == ["Keeps this."]
    assert not Message.objects.filter(content__contains="peanuts").exists()
    assert not any("peanuts" in f"{e.before}{e.after}" for e in AuditEntry.objects.all())
    assert AuditEntry.objects.filter(object_type="entity", action="delete").exists()
    assert_error(api.get("/api/v1/entities/customer_1/"), 404)


def test_another_tenants_entity_is_404(api, other_api):
    remember(other_api, "Secret.", entity_id="customer_1")
    assert_error(api.get("/api/v1/entities/customer_1/"), 404)
    assert_error(api.delete("/api/v1/entities/customer_1/"), 404)
    assert_error(api.get("/api/v1/entities/customer_1/export/"), 404)
    assert api.get("/api/v1/entities/").json()["count"] == 0
    assert Entity.objects.filter(external_id="customer_1").exists()


def test_a_read_only_key_cannot_forget(api, read_only_api):
    remember(api, "Stays.", entity_id="customer_1")
    assert_error(read_only_api.delete("/api/v1/entities/customer_1/"), 403)


def test_processes_list_retrieve_delete(api, other_api, django_assert_max_num_queries):
    for n in range(4):
        record(api, "hello", process_id=f"agent_{n}")
    with django_assert_max_num_queries(4):
        results = api.get("/api/v1/processes/").json()["results"]
    assert [p["process_id"] for p in results] == ["agent_0", "agent_1", "agent_2", "agent_3"]
    assert api.get("/api/v1/processes/agent_0/").json()["exchange_count"] == 1
    assert_error(other_api.get("/api/v1/processes/agent_0/"), 404)
    assert api.delete("/api/v1/processes/agent_0/").status_code == 204
    assert_error(api.get("/api/v1/processes/agent_0/"), 404)


def test_sessions_and_conversations_with_messages(api, other_api, django_assert_max_num_queries):
    session_id = record(api, "first")["session_id"]
    record(api, "second", session_id=session_id)
    for n in range(4):
        record(api, f"other {n}", process_id=f"agent_{n}")

    with django_assert_max_num_queries(4):
        sessions = api.get("/api/v1/sessions/?process_id=triage_agent").json()["results"]
    assert [(s["session_id"], s["message_count"]) for s in sessions] == [(session_id, 4)]
    conversation_id = sessions[0]["conversation_id"]
    with django_assert_max_num_queries(4):
        assert api.get("/api/v1/conversations/").json()["count"] == 5
    assert api.get(f"/api/v1/sessions/{session_id}/").json()["conversation_id"] == conversation_id
    messages = api.get(f"/api/v1/conversations/{conversation_id}/messages/").json()["results"]
    assert [m["content"] for m in messages] == ["first", "Noted.", "second", "Noted."]

    assert_error(other_api.get(f"/api/v1/sessions/{session_id}/"), 404)
    assert_error(other_api.get(f"/api/v1/conversations/{conversation_id}/messages/"), 404)
    assert_error(other_api.delete(f"/api/v1/conversations/{conversation_id}/"), 404)

    assert api.delete(f"/api/v1/conversations/{conversation_id}/").status_code == 204
    assert not Message.objects.filter(content="first").exists()
    assert api.delete(f"/api/v1/sessions/{session_id}/").status_code == 204
    assert not Session.objects.filter(uuid=session_id).exists()
    assert_error(api.get("/api/v1/sessions/not-a-uuid-at-all-xxxxxxxxxxxxxxxxxx/"), 404)
