"""Concurrency-safe upserts of memories and triples, each mention recorded as provenance.

Uniqueness is the database's job (constraints on the content hash and on the triple); an insert
that loses a race falls back to the winner's row inside a savepoint. A mention is keyed by its
augmentation job, so running a job twice never counts a mention twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import F
from django.db.models.functions import Greatest
from django.utils import timezone

from memory.extraction.normalize import content_hash, normalize_node_name, normalize_text
from memory.models import Entity, Memory, MemoryKind, Node, Predicate, Process, Provenance, Triple
from memory.services.embedding_store import embed_for_storage

MAX_CONTENT_CHARS = 2000


@dataclass(frozen=True)
class Mention:
    """Where and when something was said: the provenance of one mention."""

    process: Process
    mentioned_at: datetime
    session_id: int | None = None
    exchange_id: int | None = None
    message_id: int | None = None
    job_id: int | None = None
    source: str = "augmentation"

    def provenance(self, entity: Entity, **target) -> Provenance:
        """The (unsaved) provenance row of this mention of ``target`` (memory= or triple=)."""
        return Provenance(entity=entity, process=self.process, **self.provenance_fields(), **target)

    def provenance_fields(self) -> dict:
        """The provenance columns this mention fills, besides the entity, the process and the
        target (batch inserts write them without building the model)."""
        return {
            "session_id": self.session_id,
            "exchange_id": self.exchange_id,
            "message_id": self.message_id,
            "job_id": self.job_id,
            "source": self.source,
            "mentioned_at": self.mentioned_at,
        }


@dataclass(frozen=True)
class Upserted:
    obj: Memory | Triple
    created: bool
    mentioned: bool  # False when this job had already recorded this mention


def _get_or_create(model, lookup: dict, build) -> tuple[object, bool]:
    existing = model.objects.filter(**lookup).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            return model.objects.create(**lookup, **build()), True
    except IntegrityError:
        return model.objects.get(**lookup), False


def _add_mention(obj: Memory | Triple, entity: Entity, mention: Mention, *, created: bool) -> bool:
    target = {"memory": obj} if isinstance(obj, Memory) else {"triple": obj}
    try:
        with transaction.atomic():
            mention.provenance(entity, **target).save(force_insert=True)
    except IntegrityError:
        return False  # this job already recorded this mention: idempotent re-run
    if not created:
        type(obj).objects.filter(pk=obj.pk).update(
            mention_count=F("mention_count") + 1, last_seen_at=Greatest(F("last_seen_at"), mention.mentioned_at)
        )
    return True


def memory_upsert(
    *, entity: Entity, kind: str, content: str, mention: Mention, embedding: bytes | None = None, embedding_model=""
) -> Upserted:
    """One memory per (entity, content hash), or per (entity, process, hash) for attributes."""
    content = content.strip()[:MAX_CONTENT_CHARS]
    owner = mention.process if kind == MemoryKind.ATTRIBUTE else None
    lookup = {"entity": entity, "owner_process": owner, "content_hash": content_hash(content)}

    def build() -> dict:
        vector, model_name = (embedding, embedding_model) if embedding is not None else _embed_one(content)
        return {
            "kind": kind,
            "content": content,
            "normalized": normalize_text(content),
            "embedding": vector,
            "embedding_model": model_name,
            "first_process": mention.process,
            "first_seen_at": mention.mentioned_at,
            "last_seen_at": mention.mentioned_at,
            "valid_from": mention.mentioned_at,
        }

    memory, created = _get_or_create(Memory, lookup, build)
    mentioned = _add_mention(memory, entity, mention, created=created)
    return Upserted(obj=memory, created=created, mentioned=mentioned)


def _embed_one(text: str) -> tuple[bytes | None, str]:
    (vector,), model_name = embed_for_storage([text])
    return vector, model_name


def node_get_or_create(*, entity: Entity, name: str, node_type: str = "concept") -> Node:
    name = name.strip()[:300]
    node, _ = _get_or_create(
        Node,
        {"entity": entity, "normalized_name": normalize_node_name(name)[:300]},
        lambda: {"name": name, "node_type": node_type[:50] or "concept"},
    )
    return node


def predicate_get_or_create(name: str) -> Predicate:
    predicate, _ = _get_or_create(Predicate, {"name": name.strip().lower()[:100]}, dict)
    return predicate


def triple_content(subject: str, predicate: str, obj: str) -> str:
    return f"{subject} {predicate.replace('_', ' ')} {obj}"


def triple_upsert(
    *,
    entity: Entity,
    subject: str,
    predicate: str,
    obj: str,
    mention: Mention,
    subject_type: str = "concept",
    object_type: str = "concept",
    embedding: bytes | None = None,
    embedding_model: str = "",
) -> Upserted:
    subject_node = node_get_or_create(entity=entity, name=subject, node_type=subject_type)
    object_node = node_get_or_create(entity=entity, name=obj, node_type=object_type)
    predicate_row = predicate_get_or_create(predicate)
    lookup = {"entity": entity, "subject": subject_node, "predicate": predicate_row, "object": object_node}

    def build() -> dict:
        content = triple_content(subject_node.name, predicate_row.name, object_node.name)
        vector, model_name = (embedding, embedding_model) if embedding is not None else _embed_one(content)
        return {
            "content": content,
            "embedding": vector,
            "embedding_model": model_name,
            "first_process": mention.process,
            "first_seen_at": mention.mentioned_at,
            "last_seen_at": mention.mentioned_at,
        }

    triple, created = _get_or_create(Triple, lookup, build)
    mentioned = _add_mention(triple, entity, mention, created=created)
    return Upserted(obj=triple, created=created, mentioned=mentioned)


def mention_add(*, obj: Memory | Triple, entity: Entity, mention: Mention) -> bool:
    """Record one more mention of an existing memory or triple (a near-duplicate merged into it).
    False if this job had already recorded it, or if the row is gone."""
    if not type(obj).objects.filter(pk=obj.pk).exists():
        return False
    return _add_mention(obj, entity, mention, created=False)


def manual_mention(process: Process, *, source: str) -> Mention:
    return Mention(process=process, mentioned_at=timezone.now(), source=source)
