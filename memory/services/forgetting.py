"""Deleting whole parts of memory through the API ("forget this customer"), each deletion audited."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Q, QuerySet

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
    before = {"uuid": str(session.uuid), "process": session.process.external_id}
    _forget(session, "session", before, actor=actor, exchanges=session.exchanges.all(), episodes=Q(session=session))


def conversation_delete(*, conversation: Conversation, actor: Actor) -> None:
    """Remove a conversation with its exchanges and their episodes (memories learnt from it stay)."""
    before = {"session": str(conversation.session.uuid), "message_count": conversation.message_count}
    exchanges, episodes = conversation.exchanges.all(), Q(exchange__conversation=conversation)
    _forget(conversation, "conversation", before, actor=actor, exchanges=exchanges, episodes=episodes)


def exchange_delete(*, exchange: Exchange, actor: Actor) -> None:
    """Remove one exchange with its messages and episode (memories learnt from it stay)."""
    before = {"process": exchange.process.external_id, "occurred_at": exchange.occurred_at.isoformat()}
    exchanges = Exchange.objects.filter(pk=exchange.pk)
    _forget(exchange, "exchange", before, actor=actor, exchanges=exchanges, episodes=Q(exchange=exchange))


def _forget(record, object_type: str, before: dict, *, actor: Actor, exchanges: QuerySet[Exchange], episodes: Q):
    """Delete a record holding exchanges, in one transaction: audited, its exchanges taken out of the
    hourly counts, and the recall caches told when episodes went with it."""
    with transaction.atomic():
        had_episodes = Episode.objects.filter(episodes).exists()
        _audit_delete(
            actor=actor,
            tenant_id=record.entity.tenant_id,
            entity=record.entity,
            object_type=object_type,
            object_id=record.pk,
            before=before,
        )
        exchanges_uncounted(exchanges)
        record.delete()
        if had_episodes:
            bump_memory_version(record.entity_id)  # recall caches drop its episodes
