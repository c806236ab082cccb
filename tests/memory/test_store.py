"""The data model's contract: dedup by constraint, per-process attributes, cascades, isolation."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from memory import selectors
from memory.extraction.normalize import content_hash, normalize_text
from memory.models import (
    AuditEntry,
    AugmentationJob,
    Entity,
    Exchange,
    Memory,
    Message,
    Node,
    Process,
    Provenance,
    RecallEvent,
    Session,
    Triple,
)
from memory.services.audit import Actor
from memory.services.editing import InvalidMemoryEdit, memory_create
from memory.services.recording import ExchangeInput, MessageInput, record_exchange
from memory.services.storing import Mention, memory_mention, triple_mention

pytestmark = pytest.mark.django_db(transaction=True)


def _mention(tenant, process_id: str) -> Mention:
    process, _ = Process.objects.get_or_create(tenant=tenant, external_id=process_id)
    return Mention(process=process, mentioned_at=timezone.now())


def _entity(tenant, external_id: str = "project_alpha") -> Entity:
    return Entity.objects.get_or_create(tenant=tenant, external_id=external_id)[0]


def test_same_fact_from_two_processes_is_one_row_with_two_mentions(tenant):
    entity = _entity(tenant)
    memory_mention(entity=entity, kind="fact", content="Our API uses JWT tokens", mention=_mention(tenant, "coder"))
    memory_mention(entity=entity, kind="fact", content="our API uses  JWT tokens", mention=_mention(tenant, "reviewer"))

    memory = Memory.objects.get(entity=entity)
    assert memory.mention_count == 2
    assert set(memory.mentions.values_list("process__external_id", flat=True)) == {"coder", "reviewer"}


def test_a_memory_a_person_adds_is_stored_as_augmentation_would_and_audited(tenant):
    entity = _entity(tenant)
    person = Actor(label="user:operator")
    memory = memory_create(entity=entity, kind="fact", content="Billing runs on PostgreSQL", actor=person)

    assert (memory.mention_count, memory.first_process_id) == (1, None)
    assert memory.valid_from == memory.first_seen_at == memory.last_seen_at
    assert memory.embedding and not memory.mentions.exists()  # no process to credit: no provenance
    assert AuditEntry.objects.filter(object_id=memory.pk, action="create").count() == 1
    with pytest.raises(InvalidMemoryEdit):
        memory_create(entity=entity, kind="fact", content="billing runs on  PostgreSQL", actor=person)
    memory.refresh_from_db()
    assert memory.mention_count == 1  # the refused duplicate's mention was rolled back


def test_the_database_itself_rejects_a_duplicate_shared_memory(tenant):
    entity = _entity(tenant)
    fields = {
        "entity": entity,
        "kind": "fact",
        "content": "Uses PostgreSQL",
        "normalized": normalize_text("Uses PostgreSQL"),
        "content_hash": content_hash("Uses PostgreSQL"),
    }
    Memory.objects.create(**fields)
    with pytest.raises(IntegrityError), transaction.atomic():
        Memory.objects.create(**fields)


def test_attributes_are_kept_per_process(tenant):
    entity = _entity(tenant)
    text = "Handles data analysis"
    memory_mention(entity=entity, kind="attribute", content=text, mention=_mention(tenant, "research_agent"))
    memory_mention(entity=entity, kind="attribute", content=text, mention=_mention(tenant, "analysis_agent"))

    owners = Memory.objects.filter(entity=entity, kind="attribute").values_list("owner_process__external_id", flat=True)
    assert sorted(owners) == ["analysis_agent", "research_agent"]


def test_an_attribute_without_an_owner_process_is_refused_by_the_database(tenant):
    with pytest.raises(IntegrityError), transaction.atomic():
        Memory.objects.create(entity=_entity(tenant), kind="attribute", content="x", normalized="x", content_hash="h")


def test_same_triple_twice_is_one_row_with_two_mentions(tenant):
    entity = _entity(tenant)
    for process_id in ("coder", "deployer"):
        triple_mention(entity=entity, subject="API", predicate="uses", obj="JWT", mention=_mention(tenant, process_id))

    triple = Triple.objects.get(entity=entity)
    assert triple.mention_count == 2
    assert triple.content == "API uses JWT"
    assert Node.objects.filter(entity=entity).count() == 2


def _record(tenant, entity_id: str, process_id: str, text: str) -> None:
    record_exchange(
        tenant=tenant,
        data=ExchangeInput(
            entity_id=entity_id,
            process_id=process_id,
            messages=[MessageInput(role="user", content=text), MessageInput(role="assistant", content="Noted.")],
        ),
    )


def test_deleting_an_entity_removes_all_of_its_memory(tenant):
    _record(tenant, "customer_456", "triage_agent", "I was charged twice on my card.")
    entity = Entity.objects.get(external_id="customer_456")
    process = Process.objects.get(external_id="triage_agent")
    memory_mention(entity=entity, kind="fact", content="Charged twice", mention=_mention(tenant, "triage_agent"))
    triple_mention(
        entity=entity, subject="customer", predicate="has", obj="double charge", mention=_mention(tenant, "x")
    )
    RecallEvent.objects.create(entity=entity, process=process, query="charge")
    _record(tenant, "customer_789", "triage_agent", "Another customer entirely.")

    entity.delete()

    for model in (Memory, Triple, Node, Provenance, Exchange, AugmentationJob, RecallEvent, Session):
        assert not model.objects.filter(entity__external_id="customer_456").exists(), model.__name__
    assert not Message.objects.filter(conversation__entity__external_id="customer_456").exists()
    assert Message.objects.filter(conversation__entity__external_id="customer_789").count() == 2
    assert Process.objects.filter(external_id="triage_agent").exists()


def test_two_tenants_may_share_an_entity_id_and_never_see_each_other(tenant, other_tenant):
    ours = _entity(tenant, "customer_456")
    theirs = _entity(other_tenant, "customer_456")
    memory_mention(entity=ours, kind="fact", content="Prefers email", mention=_mention(tenant, "support"))
    memory_mention(entity=theirs, kind="fact", content="Prefers phone", mention=_mention(other_tenant, "support"))

    assert ours.pk != theirs.pk
    assert list(selectors.memory_list(tenant=tenant).values_list("content", flat=True)) == ["Prefers email"]
    assert list(selectors.memory_list(tenant=other_tenant).values_list("content", flat=True)) == ["Prefers phone"]
    assert selectors.entity_get(tenant=tenant, external_id="customer_456") == ours
