"""Export of one entity's whole memory as a JSON document, and import of that document.

The round trip is lossless for what the entity owns: memories and attributes (with embeddings and
usage statistics), triples, every provenance mention (linked to its session, exchange, message and
job), contradictions, and the conversations with all their messages and each exchange's episode.
Recall events are history of use, not memory, and are not exported.
"""

from __future__ import annotations

import base64

from django.db.models import Prefetch
from django.utils import timezone

from memory.models import (
    AugmentationJob,
    Contradiction,
    Entity,
    Episode,
    Exchange,
    Memory,
    Message,
    Provenance,
    Session,
    Triple,
)

EXPORT_FORMAT = "memori.entity-export"
EXPORT_VERSION = 1


def _b64(data: bytes | memoryview | None) -> str | None:
    return base64.b64encode(bytes(data)).decode("ascii") if data is not None else None


def _mention(row: Provenance) -> dict:
    return {
        "process_id": row.process.external_id,
        "session_id": row.session.uuid if row.session_id else None,
        "exchange_ref": row.exchange_id,
        "message_ref": row.message_id,
        "job_exchange_ref": row.job.exchange_id if row.job_id else None,
        "source": row.source,
        "mentioned_at": row.mentioned_at,
    }


def _stats(row: Memory | Triple) -> dict:
    return {
        "ref": row.pk,
        "content": row.content,
        "first_process_id": row.first_process.external_id if row.first_process_id else None,
        "mention_count": row.mention_count,
        "recall_count": row.recall_count,
        "first_seen_at": row.first_seen_at,
        "last_seen_at": row.last_seen_at,
        "last_recalled_at": row.last_recalled_at,
        "is_contradicted": row.is_contradicted,
        "embedding": _b64(row.embedding),
        "embedding_model": row.embedding_model,
        "mentions": [_mention(mention) for mention in row.mentions.all()],
    }


def _validity(memory: Memory) -> dict:
    claim = None
    if memory.claim_subject:
        claim = {
            "subject": memory.claim_subject,
            "attribute": memory.claim_attribute,
            "value": memory.claim_value,
            "value_type": memory.claim_value_type,
        }
    return {
        "valid_from": memory.valid_from,
        "valid_to": memory.valid_to,
        "superseded_by_ref": memory.superseded_by_id,
        "claim": claim,
    }


def _mentions():
    return Prefetch("mentions", queryset=Provenance.objects.select_related("process", "session", "job").order_by("pk"))


def _job(job: AugmentationJob | None) -> dict | None:
    if job is None:
        return None
    fields = ("status", "attempts", "error", "extractor", "result", "queued_at", "started_at", "finished_at")
    return {name: getattr(job, name) for name in fields}


def _episode(episode: Episode | None) -> dict | None:
    if episode is None:
        return None
    return {
        "content": episode.content,
        "occurred_at": episode.occurred_at,
        "embedding": _b64(episode.embedding),
        "embedding_model": episode.embedding_model,
    }


def _exchange(exchange: Exchange) -> dict:
    job = getattr(exchange, "augmentation_job", None)
    return {
        "ref": exchange.pk,
        "idempotency_key": exchange.idempotency_key,
        "model": exchange.model,
        "prompt_tokens": exchange.prompt_tokens,
        "completion_tokens": exchange.completion_tokens,
        "latency_ms": exchange.latency_ms,
        "occurred_at": exchange.occurred_at,
        "recorded_at": exchange.recorded_at,
        "job": _job(job),
        "episode": _episode(getattr(exchange, "episode", None)),
        "messages": [
            {
                "ref": message.pk,
                "position": message.position,
                "role": message.role,
                "content": message.content,
                "name": message.name,
                "tool_calls": message.tool_calls,
                "tool_call_id": message.tool_call_id,
                "created_at": message.created_at,
            }
            for message in exchange.messages.all()
        ],
    }


def _session(session: Session) -> dict:
    conversation = getattr(session, "conversation", None)
    return {
        "session_id": session.uuid,
        "process_id": session.process.external_id,
        "started_at": session.started_at,
        "last_activity_at": session.last_activity_at,
        "conversation": None
        if conversation is None
        else {
            "started_at": conversation.started_at,
            "last_message_at": conversation.last_message_at,
            "exchanges": [_exchange(exchange) for exchange in session.exchanges.all()],
        },
    }


def entity_export(*, entity: Entity) -> dict:
    """The whole memory of one entity as plain data (datetimes and UUIDs as Python objects)."""
    sessions = (
        Session.objects.filter(entity=entity)
        .select_related("process", "conversation")
        .prefetch_related(
            Prefetch(
                "exchanges",
                queryset=Exchange.objects.select_related("augmentation_job", "episode")
                .prefetch_related(Prefetch("messages", queryset=Message.objects.order_by("position")))
                .order_by("occurred_at", "pk"),
            )
        )
        .order_by("started_at", "pk")
    )
    memories = (
        Memory.objects.filter(entity=entity)
        .select_related("owner_process", "first_process")
        .prefetch_related(_mentions())
        .order_by("pk")
    )
    triples = (
        Triple.objects.filter(entity=entity)
        .select_related("subject", "predicate", "object", "first_process")
        .prefetch_related(_mentions())
        .order_by("pk")
    )
    return {
        "format": EXPORT_FORMAT,
        "version": EXPORT_VERSION,
        "exported_at": timezone.now(),
        "entity": {
            "entity_id": entity.external_id,
            "created_at": entity.created_at,
            "last_activity_at": entity.last_activity_at,
        },
        "sessions": [_session(session) for session in sessions],
        "memories": [
            {
                "kind": memory.kind,
                "process_id": memory.owner_process.external_id if memory.owner_process_id else None,
                **_stats(memory),
                **_validity(memory),
            }
            for memory in memories
        ],
        "triples": [
            {
                "subject": triple.subject.name,
                "subject_type": triple.subject.node_type,
                "predicate": triple.predicate.name,
                "object": triple.object.name,
                "object_type": triple.object.node_type,
                **_stats(triple),
            }
            for triple in triples
        ],
        "contradictions": [
            {
                "reason": row.reason,
                "memory_a_ref": row.memory_a_id,
                "memory_b_ref": row.memory_b_id,
                "triple_a_ref": row.triple_a_id,
                "triple_b_ref": row.triple_b_id,
                "detected_at": row.detected_at,
                "resolved_at": row.resolved_at,
                "resolution_note": row.resolution_note,
            }
            for row in Contradiction.objects.filter(entity=entity).order_by("pk")
        ],
    }
