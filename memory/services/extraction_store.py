"""Storing one job's extraction: memories, attributes and triples, each with a mention per source
message, near-duplicates merged, contradictions recorded.

Called inside the job's transaction (memory/services/augmentation.py). Every write goes through
memory/services/storing.py, whose upserts are concurrency-safe and idempotent per job: storing the
same extraction twice for one job adds nothing. New contents are embedded in one batch, once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
from django.conf import settings

from memory.extraction.normalize import content_hash, normalize_node_name, normalize_predicate
from memory.extraction.types import ExtractedMemory, ExtractedTriple, Extraction
from memory.models import AugmentationJob, Contradiction, Memory, MemoryKind, Message
from memory.services import contradictions, dedup
from memory.services.storing import Mention, memory_upsert, mention_add, triple_content, triple_upsert

logger = logging.getLogger(__name__)

VALID_KINDS = frozenset(MemoryKind.values)
MAX_CANDIDATES = 5


@dataclass
class _Counts:
    memories: int = 0
    memories_created: int = 0
    memories_repeated: int = 0
    near_duplicates_merged: int = 0
    mentions_added: int = 0
    triples: int = 0
    triples_created: int = 0
    triples_repeated: int = 0
    contradictions: int = 0
    updates: int = 0


def store_extraction(
    *, job: AugmentationJob, messages: list[Message], extraction: Extraction, vectors: dedup._EntityVectors
) -> dict:
    counts = _Counts()
    mentions = _Mentions(job, messages)
    memories = _unique_memories(extraction.memories, job)
    triples = _unique_triples(extraction.triples)
    texts = [item.content for item in memories] + [triple_content(t.subject, t.predicate, t.object) for t in triples]
    embedded, model_name = _embed(texts)
    for item, vector in zip(memories, embedded[: len(memories)], strict=True):
        _store_memory(job, item, vector, model_name, mentions, vectors, counts)
    for item, vector in zip(triples, embedded[len(memories) :], strict=True):
        _store_triple(job, item, vector, model_name, mentions, counts)
    return counts.__dict__.copy()


class _Mentions:
    """The provenance of each source message: process, session, exchange, message, job and time."""

    def __init__(self, job: AugmentationJob, messages: list[Message]):
        self.job = job
        self.by_position = {message.position: message for message in messages}
        self.fallback = messages[-1] if messages else None

    def at(self, position: int) -> Mention:
        message = self.by_position.get(position, self.fallback)
        exchange = self.job.exchange
        return Mention(
            process=self.job.process,
            mentioned_at=message.created_at if message else exchange.occurred_at,
            session_id=exchange.session_id,
            exchange_id=exchange.pk,
            message_id=message.pk if message else None,
            job_id=self.job.pk,
        )


def _unique_memories(items: tuple[ExtractedMemory, ...], job: AugmentationJob) -> list[ExtractedMemory]:
    """One record per (kind, content hash); sorted by hash so concurrent jobs lock rows in one order."""
    seen: dict[tuple[str, str], ExtractedMemory] = {}
    for item in items:
        if item.kind not in VALID_KINDS or not item.content.strip():
            logger.warning("Job %s: skipped an extracted memory of kind %r.", job.pk, item.kind)
            continue
        seen.setdefault((item.kind, content_hash(item.content)), item)
    return [seen[key] for key in sorted(seen, key=lambda key: (key[1], key[0]))]


def _unique_triples(items: tuple[ExtractedTriple, ...]) -> list[ExtractedTriple]:
    seen: dict[tuple[str, str, str], ExtractedTriple] = {}
    for item in items:
        key = (normalize_node_name(item.subject), normalize_predicate(item.predicate), normalize_node_name(item.object))
        if all(key) and key[0] != key[2]:
            seen.setdefault(key, item)
    return [seen[key] for key in sorted(seen)]


def _embed(texts: list[str]) -> tuple[list[np.ndarray | None], str]:
    from memory.embedding import get_embedder

    if not texts:
        return [], ""
    embedder = get_embedder()
    try:
        matrix = np.asarray(embedder.embed(texts), dtype=np.float32)
    except Exception:
        logger.exception("Embedding %d texts with %s failed; storing without embeddings.", len(texts), embedder.name)
        return [None] * len(texts), ""
    return list(matrix), embedder.name


def _store_memory(job, item: ExtractedMemory, vector, model_name: str, mentions: _Mentions, vectors, counts) -> None:
    counts.memories += 1
    mention = mentions.at(item.source_position)
    owner_id = job.process_id if item.kind == MemoryKind.ATTRIBUTE else None
    memory = _near_duplicate(job, item, vector, owner_id, vectors)
    if memory is not None:
        if mention_add(obj=memory, entity=job.entity, mention=mention):  # False: this job already did
            counts.near_duplicates_merged += 1
            counts.mentions_added += 1
    else:
        stored = memory_upsert(
            entity=job.entity,
            kind=item.kind,
            content=item.content,
            mention=mention,
            embedding=_to_bytes(vector),
            embedding_model=model_name,
        )
        memory = stored.obj
        counts.mentions_added += int(stored.mentioned)
        if stored.created:
            counts.memories_created += 1
            if vector is not None:
                vectors.add(memory.pk, (item.kind, owner_id), vector)
        else:
            counts.memories_repeated += 1
    _apply_relation(job, item, memory, counts)


def _near_duplicate(job, item: ExtractedMemory, vector, owner_id: int | None, vectors) -> Memory | None:
    """An existing memory with the same meaning (embedding and lexical guard), unless the exact
    content already exists: then the hash upsert takes it."""
    if vector is None or vectors.model == "":
        return None
    candidates = dedup.near_duplicate_candidates(
        vectors, kind=item.kind, owner_id=owner_id, vector=vector, threshold=settings.MEMORI_DEDUP_SIMILARITY
    )[:MAX_CANDIDATES]
    if not candidates:
        return None
    rows = {m.pk: m for m in Memory.objects.filter(pk__in=candidates, entity=job.entity)}
    exact = content_hash(item.content)
    if any(row.content_hash == exact for row in rows.values()):
        return None
    for memory_id in candidates:
        row = rows.get(memory_id)
        if row is not None and dedup.same_meaning(item.content, row.content):
            return row
    return None


def _apply_relation(job, item: ExtractedMemory, memory: Memory, counts: _Counts) -> None:
    if item.relation == "update":
        counts.updates += 1
    elif item.relation == "contradiction" and item.related_memory_id:
        older = int(item.related_memory_id)
        if contradictions.record_memory_contradiction(job.entity, older, memory, Contradiction.Reason.EXTRACTOR):
            counts.contradictions += 1


def _store_triple(job, item: ExtractedTriple, vector, model_name: str, mentions: _Mentions, counts) -> None:
    counts.triples += 1
    stored = triple_upsert(
        entity=job.entity,
        subject=item.subject,
        predicate=normalize_predicate(item.predicate),
        obj=item.object,
        mention=mentions.at(item.source_position),
        subject_type=item.subject_type or "concept",
        object_type=item.object_type or "concept",
        embedding=_to_bytes(vector),
        embedding_model=model_name,
    )
    counts.mentions_added += int(stored.mentioned)
    if not stored.created:
        counts.triples_repeated += 1
        return
    counts.triples_created += 1
    for older in contradictions.triple_contradictions(stored.obj):
        reason = Contradiction.Reason.SAME_SUBJECT_PREDICATE
        if contradictions.record_triple_contradiction(job.entity, older, stored.obj, reason):
            counts.contradictions += 1


def _to_bytes(vector) -> bytes | None:
    return None if vector is None else np.asarray(vector, dtype="<f4").tobytes()
