"""One memory or triple at a time, with its mention: what the API, the admin and tests write.

They go through augmentation's write path (memory/services/batch_storing.py) with a batch of one,
so a record stored here gets the same rows as augmentation would give it: one row per content hash
(per owner process for attributes), created or repeated, ``valid_from`` and ``first_seen_at`` at the
mention's time, embedded once when it is created, and one provenance row per mention, keyed by its
augmentation job so that running a job twice never counts a mention twice.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from django.db import transaction

from memory.extraction.normalize import content_hash, normalize_text
from memory.models import Entity, Memory, MemoryKind, Process, Triple
from memory.services.batch_storing import (
    MAX_CONTENT_CHARS,
    MAX_NAME_CHARS,
    MemoryWrite,
    Mention,
    NewMention,
    TripleWrite,
    existing_memory_ids,
    memory_rows_insert,
    mentions_add,
    triple_content,
    triples_upsert,
)
from memory.services.embedding_store import embed_for_storage

__all__ = ["Mention", "Upserted", "memory_mention", "triple_mention"]


@dataclass(frozen=True)
class Upserted:
    obj: Memory | Triple
    created: bool
    mentioned: bool  # False when this job had already recorded this mention


def memory_mention(
    *,
    entity: Entity,
    kind: str,
    content: str,
    mention: Mention,
    owner_process: Process | None = None,
    embedding: bytes | None = None,
    embedding_model: str = "",
) -> Upserted:
    """One memory per (entity, content hash), or per (entity, owner process, hash) for attributes,
    owned by ``owner_process`` or else by the mentioning process."""
    content = content.strip()[:MAX_CONTENT_CHARS]
    owner = (owner_process or mention.process) if kind == MemoryKind.ATTRIBUTE else None
    write = MemoryWrite(
        entity=entity,
        kind=kind,
        content=content,
        normalized=normalize_text(content),
        content_hash=content_hash(content),
        owner_id=owner.pk if owner is not None else None,
        embedding=embedding,
    )
    created = False
    with transaction.atomic():
        if write.key not in existing_memory_ids({write.key}):
            if embedding is None:
                (vector,), embedding_model = embed_for_storage([content])
                write = replace(write, embedding=vector)
            created = memory_rows_insert([(write, mention)], embedding_model=embedding_model) == 1
        memory_id = existing_memory_ids({write.key})[write.key]
        mentioned = _mention_add(entity, mention, memory_id=memory_id)
    return Upserted(obj=Memory.objects.get(pk=memory_id), created=created, mentioned=mentioned)


def triple_mention(
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
    """One triple per (entity, subject node, predicate, object node); the subject and the object
    must name two different nodes."""
    subject, obj = subject.strip()[:MAX_NAME_CHARS], obj.strip()[:MAX_NAME_CHARS]
    predicate = predicate.strip().lower()[:100]
    if embedding is None:
        (embedding,), embedding_model = embed_for_storage([triple_content(subject, predicate, obj)])
    write = TripleWrite(
        entity=entity,
        subject=subject,
        subject_type=subject_type or "concept",
        predicate=predicate,
        object=obj,
        object_type=object_type or "concept",
        embedding=embedding,
    )
    with transaction.atomic():
        ids, key_of, created = triples_upsert([(write, mention)], embedding_model=embedding_model)
        if (write, mention) not in key_of:
            raise ValueError(f"a triple joins two different nodes: {subject!r} and {obj!r} are one node.")
        triple_id = ids[key_of[(write, mention)]]
        mentioned = _mention_add(entity, mention, triple_id=triple_id)
    return Upserted(obj=Triple.objects.get(pk=triple_id), created=triple_id in created, mentioned=mentioned)


def _mention_add(entity: Entity, mention: Mention, **target: int) -> bool:
    """Record the mention (counted, with a provenance row when it has a process); False if its job
    had already recorded it."""
    retried = {mention.job_id} if mention.job_id is not None else set()
    return bool(mentions_add([NewMention(mention.job_id, entity, mention, **target)], retried_job_ids=retried))
