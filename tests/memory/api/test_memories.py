"""Memories, attributes and triples: filters, provenance, audited edits, tenant isolation, N+1."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from memory.models import AuditEntry, Memory, Process, Triple
from memory.services.storing import Mention, triple_mention
from tests.memory.api.conftest import assert_error, remember


def _add_triple(tenant, entity_external_id: str = "customer_456") -> Triple:
    from memory.services.identity import entity_get_or_create

    entity = entity_get_or_create(tenant=tenant, external_id=entity_external_id)
    process, _ = Process.objects.get_or_create(tenant=tenant, external_id="research_agent")
    mention = Mention(process=process, mentioned_at=timezone.now(), source="api")
    return triple_mention(entity=entity, subject="billing", predicate="uses", obj="PostgreSQL", mention=mention).obj


def test_remember_creates_an_audited_memory_with_provenance(api, api_key):
    body = remember(api, "The customer runs on AWS.", process_id="triage_agent")

    assert body["kind"] == "fact" and body["first_process_id"] == "triage_agent"
    assert [m["process_id"] for m in body["mentions"]] == ["triage_agent"]
    assert body["mentions"][0]["source"] == "api"
    entry = AuditEntry.objects.get(object_type="memory", object_id=body["id"])
    assert entry.action == "create" and entry.actor_api_key == api_key[0]


def test_remembering_the_same_content_again_returns_the_existing_memory(api):
    first = remember(api, "The customer runs on AWS.")
    response = api.post(
        "/api/v1/memories/",
        {"entity_id": "customer_456", "kind": "fact", "content": "The customer runs on AWS."},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["id"] == first["id"]


def test_list_filters(api):
    remember(api, "Uses PostgreSQL.", process_id="triage_agent")
    remember(api, "Prefers short answers.", kind="preference")
    remember(api, "Other customer fact.", entity_id="customer_999")

    def ids(query: str) -> list[str]:
        response = api.get(f"/api/v1/memories/?{query}")
        assert response.status_code == 200, response.json()
        return [m["content"] for m in response.json()["results"]]

    assert ids("entity_id=customer_999") == ["Other customer fact."]
    assert ids("kind=preference") == ["Prefers short answers."]
    assert ids("process_id=triage_agent") == ["Uses PostgreSQL."]
    assert ids("q=postgres") == ["Uses PostgreSQL."]
    tomorrow = (timezone.now() + timedelta(days=1)).isoformat().replace("+00:00", "Z")
    assert ids(f"created_after={tomorrow}") == []
    assert len(ids(f"seen_before={tomorrow}&ordering=first_seen_at")) == 3
    assert len(ids("created_after=2000-01-01T00:00:00%2B18:55")) == 3  # offsets PostgreSQL refuses: sent as UTC


def test_list_is_paginated_with_next_links(api):
    for n in range(3):
        remember(api, f"Fact number {n} about billing.")
    body = api.get("/api/v1/memories/?page_size=2").json()
    assert body["count"] == 3 and len(body["results"]) == 2
    assert "page=2" in body["next"]
    assert len(api.get(body["next"]).json()["results"]) == 1


def test_bad_filters_and_page_sizes_are_400(api):
    for query in (
        "page_size=0",
        "page_size=-1",
        "page_size=501",
        "page=-1",
        "kind=rumour",
        "created_after=yesterday",
        "entity_id=a%00b",
        "ordering=password",
    ):
        assert_error(api.get(f"/api/v1/memories/?{query}"), 400, "invalid")


def test_list_query_count_does_not_grow_with_rows(api, django_assert_max_num_queries):
    for n in range(25):
        remember(api, f"Fact {n} about the customer.", process_id=f"agent_{n % 3}")
    with django_assert_max_num_queries(4):
        assert len(api.get("/api/v1/memories/?page_size=100").json()["results"]) == 25
    with django_assert_max_num_queries(5):
        api.get(f"/api/v1/memories/{Memory.objects.first().pk}/")


def test_update_and_delete_are_audited(api):
    memory_id = remember(api, "Uses MySQL.")["id"]

    response = api.patch(f"/api/v1/memories/{memory_id}/", {"content": "Uses PostgreSQL."}, format="json")
    assert response.status_code == 200 and response.json()["content"] == "Uses PostgreSQL."
    assert api.delete(f"/api/v1/memories/{memory_id}/").status_code == 204

    assert not Memory.objects.filter(pk=memory_id).exists()
    actions = list(
        AuditEntry.objects.filter(object_id=memory_id).order_by("created_at").values_list("action", flat=True)
    )
    assert actions == ["create", "update", "delete"]


def test_edit_validation(api):
    memory_id = remember(api, "Uses MySQL.")["id"]
    remember(api, "Uses PostgreSQL.")
    assert api.patch(f"/api/v1/memories/{memory_id}/", {}, format="json").json()["content"] == "Uses MySQL."
    assert_error(api.patch(f"/api/v1/memories/{memory_id}/", {"content": "   "}, format="json"), 400)
    assert_error(api.patch(f"/api/v1/memories/{memory_id}/", {"content": "-- !"}, format="json"), 400)
    # Well formed, but the stored memories refuse it: a conflict.
    assert_error(api.patch(f"/api/v1/memories/{memory_id}/", {"kind": "attribute"}, format="json"), 409, "conflict")
    same = {"content": "Uses PostgreSQL."}
    assert_error(api.patch(f"/api/v1/memories/{memory_id}/", same, format="json"), 409, "conflict")
    bad = {"entity_id": "c", "kind": "attribute", "content": "Likes tea."}
    assert "process_id" in assert_error(api.post("/api/v1/memories/", bad, format="json"), 400)["fields"]


def test_another_tenants_memory_is_404_everywhere(api, other_api):
    memory_id = remember(other_api, "Secret.")["id"]
    assert_error(api.get(f"/api/v1/memories/{memory_id}/"), 404)
    assert_error(api.patch(f"/api/v1/memories/{memory_id}/", {"content": "mine"}, format="json"), 404)
    assert_error(api.delete(f"/api/v1/memories/{memory_id}/"), 404)
    assert api.get("/api/v1/memories/").json()["count"] == 0
    assert_error(api.get("/api/v1/memories/99999999999999999999/"), 404)


def test_a_read_only_key_cannot_edit(api, read_only_api):
    memory_id = remember(api, "Uses MySQL.")["id"]
    assert read_only_api.get(f"/api/v1/memories/{memory_id}/").status_code == 200
    assert_error(read_only_api.delete(f"/api/v1/memories/{memory_id}/"), 403)
    body = {"entity_id": "c", "kind": "fact", "content": "x y"}
    assert_error(read_only_api.post("/api/v1/memories/", body, format="json"), 403)


def test_attributes_belong_to_one_process(api):
    response = api.post(
        "/api/v1/attributes/",
        {"entity_id": "customer_456", "process_id": "billing_agent", "content": "Invoices go out on Fridays."},
        format="json",
    )
    assert response.status_code == 201, response.json()
    attribute = response.json()
    remember(api, "A shared fact.")

    listed = api.get("/api/v1/attributes/?process_id=billing_agent").json()["results"]
    assert [a["id"] for a in listed] == [attribute["id"]]
    assert attribute["kind"] == "attribute" and attribute["process_id"] == "billing_agent"
    patched = api.patch(f"/api/v1/attributes/{attribute['id']}/", {"content": "Invoices on Mondays."}, format="json")
    assert patched.json()["content"] == "Invoices on Mondays."
    assert api.delete(f"/api/v1/attributes/{attribute['id']}/").status_code == 204


def test_triples_list_retrieve_delete(api, tenant, other_api, django_assert_max_num_queries):
    triple = _add_triple(tenant)

    with django_assert_max_num_queries(4):
        listed = api.get("/api/v1/triples/?entity_id=customer_456&predicate=uses").json()["results"]
    assert [(t["subject"], t["predicate"], t["object"]) for t in listed] == [("billing", "uses", "PostgreSQL")]
    detail = api.get(f"/api/v1/triples/{triple.pk}/").json()
    assert detail["mentions"][0]["process_id"] == "research_agent"
    assert_error(other_api.get(f"/api/v1/triples/{triple.pk}/"), 404)
    assert_error(other_api.delete(f"/api/v1/triples/{triple.pk}/"), 404)
    assert api.delete(f"/api/v1/triples/{triple.pk}/").status_code == 204
    assert AuditEntry.objects.filter(object_type="triple", action="delete").exists()


def test_query_parameters_are_checked_as_sent(api):
    remember(api, "Uses MySQL.")
    refused = (
        "seen_before=",  # an empty date-time says nothing
        "kind=",
        "seen_after=2024-13-45T00:00:00Z",
        "entity_id=%09customer_456",  # a control character, even where it would be trimmed
        "q=" + "x" * 201,
        "page=",
        "page=%C2%B2",  # "²" is a digit to Python, not a page number
        "page_size=0",
    )
    for query in refused:
        assert_error(api.get(f"/api/v1/memories/?{query}"), 400, "invalid")
    for query in ("q=", "ordering=", "entity_id=customer_456&q=mysql&ordering=-last_seen_at"):
        response = api.get(f"/api/v1/memories/?{query}")
        assert response.status_code == 200 and response.json()["count"] == 1, (query, response.json())


def test_json_types_are_not_coerced(api):
    body = {"entity_id": "customer_456", "process_id": "billing_agent", "query": "x"}
    for extra in ({"include_pending": "yes"}, {"episodes": 1}, {"handoff_share": True}, {"handoff_share": "0.5"}):
        assert_error(api.post("/api/v1/recall/", {**body, **extra}, format="json"), 400, "invalid")
    exchange = {**body, "messages": [{"role": "user", "content": "hi"}], "latency_ms": False}
    assert_error(api.post("/api/v1/exchanges/", exchange, format="json"), 400, "invalid")
