"""Deleting whole parts of memory through the API ("forget this customer"), each deletion audited."""

from __future__ import annotations

from django.db import transaction

from memory.models import AuditEntry, Conversation, Entity, Episode, Exchange, Memory, Process, Session
from memory.services.activity_counts import exchanges_uncounted
from memory.services.audit import Actor
from memory.services.embedding_store import bump_memory_version


def _audit_delete(*, actor: Actor, tenant_id: int, object_type: str, object_id: int, before: dict, entity=None):
    AuditEntry.objects.create(
        tenant_id=tenant_id,
        entity=entity,
        actor_user_id=actor.user_id,
        actor_api_key=actor.api_key,
        actor_label=actor.label[:200],
        action=AuditEntry.Action.DELETE,
        object_type=object_type,
        object_id=object_id,
        before=before,
        after=None,
    )


def entity_forget(*, entity: Entity, actor: Actor) -> None:
    """Remove everything stored about the entity: memories, graph, conversations and their
    episodes, jobs, recalls."""
    with transaction.atomic():
        _audit_delete(
            actor=actor,
            tenant_id=entity.tenant_id,
            object_type="entity",
            object_id=entity.pk,
            before={"external_id": entity.external_id},
        )
        # The audit trail keeps who changed what and when, but not the forgotten content itself.
        AuditEntry.objects.filter(entity=entity).update(before=None, after=None)
        entity.delete()


def process_delete(*, process: Process, actor: Actor) -> None:
    """Remove a process with its attributes, sessions, conversations and their episodes (shared
    memories stay)."""
    with transaction.atomic():
        entity_ids = set(Memory.objects.filter(owner_process=process).values_list("entity_id", flat=True))
        entity_ids |= set(Episode.objects.filter(process=process).values_list("entity_id", flat=True).distinct())
        _audit_delete(
            actor=actor,
            tenant_id=process.tenant_id,
            object_type="process",
            object_id=process.pk,
            before={"external_id": process.external_id},
        )
        process.delete()
        if entity_ids:
            bump_memory_version(*entity_ids)


def session_delete(*, session: Session, actor: Actor) -> None:
    """Remove a session and its conversation with its episodes; memories learnt from it stay (their
    provenance loses the link)."""
    with transaction.atomic():
        had_episodes = Episode.objects.filter(session=session).exists()
        _audit_delete(
            actor=actor,
            tenant_id=session.entity.tenant_id,
            entity=session.entity,
            object_type="session",
            object_id=session.pk,
            before={"uuid": str(session.uuid), "process": session.process.external_id},
        )
        exchanges_uncounted(session.exchanges.all())
        session.delete()
        if had_episodes:
            bump_memory_version(session.entity_id)  # recall caches drop its episodes


def conversation_delete(*, conversation: Conversation, actor: Actor) -> None:
    """Remove a conversation with its exchanges and their episodes (memories learnt from it stay)."""
    with transaction.atomic():
        had_episodes = Episode.objects.filter(exchange__conversation=conversation).exists()
        _audit_delete(
            actor=actor,
            tenant_id=conversation.entity.tenant_id,
            entity=conversation.entity,
            object_type="conversation",
            object_id=conversation.pk,
            before={"session": str(conversation.session.uuid), "message_count": conversation.message_count},
        )
        exchanges_uncounted(conversation.exchanges.all())
        conversation.delete()
        if had_episodes:
            bump_memory_version(conversation.entity_id)


def exchange_delete(*, exchange: Exchange, actor: Actor) -> None:
    """Remove one exchange with its messages and episode (memories learnt from it stay)."""
    with transaction.atomic():
        had_episode = Episode.objects.filter(exchange=exchange).exists()
        _audit_delete(
            actor=actor,
            tenant_id=exchange.entity.tenant_id,
            entity=exchange.entity,
            object_type="exchange",
            object_id=exchange.pk,
            before={"process": exchange.process.external_id, "occurred_at": exchange.occurred_at.isoformat()},
        )
        exchanges_uncounted(Exchange.objects.filter(pk=exchange.pk))
        exchange.delete()
        if had_episode:
            bump_memory_version(exchange.entity_id)
