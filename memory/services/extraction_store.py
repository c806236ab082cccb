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

from memory.extraction.normalize import content_hash, normalize_node_name, normalize_predicate, normalize_text
from memory.extraction.types import ExtractedMemory, ExtractedTriple, Extraction
from memory.models import AugmentationJob, Contradiction, Memory, MemoryKind, Message
from memory.services import batch_storing, contradictions, dedup
from memory.services.storing import Mention, triple_content

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
    counts.memories, counts.triples = len(memories), len(triples)
    owner = {item: job.process_id if item.kind == MemoryKind.ATTRIBUTE else None for item in memories}
    existing = batch_storing.existing_memory_ids(job.entity, [content_hash(item.content) for item in memories])
    fresh = [item for item in memories if (owner[item], content_hash(item.content)) not in existing]
    texts = [item.content for item in fresh] + [triple_content(t.subject, t.predicate, t.object) for t in triples]
    embedded, model_name = _embed(texts)
    fresh_vectors = dict(zip(fresh, embedded[: len(fresh)], strict=True))

    memory_ids: dict[ExtractedMemory, int] = {}
    to_insert: list[tuple[batch_storing.MemoryWrite, Mention]] = []
    for item in memories:
        key = (owner[item], content_hash(item.content))
        if key in existing:
            memory_ids[item] = existing[key]
            counts.memories_repeated += 1
            continue
        merged = _near_duplicate(job, item, fresh_vectors[item], owner[item], vectors)
        if merged is not None:
            memory_ids[item] = merged
            counts.near_duplicates_merged += 1
            continue
        to_insert.append((_memory_write(item, owner[item], fresh_vectors[item]), mentions.at(item.source_position)))
    inserted = batch_storing.memories_insert(job.entity, to_insert, embedding_model=model_name)
    for item in memories:
        if item not in memory_ids:
            memory_ids[item] = inserted[(owner[item], content_hash(item.content))]
            counts.memories_created += 1
            vector = fresh_vectors[item]
            if vector is not None:
                vectors.add(memory_ids[item], (item.kind, owner[item]), vector)

    triple_writes = [
        (_triple_write(item, vector), mentions.at(item.source_position))
        for item, vector in zip(triples, embedded[len(fresh) :], strict=True)
    ]
    triple_ids, created = batch_storing.triples_upsert(job.entity, triple_writes, embedding_model=model_name)
    counts.triples_created, counts.triples_repeated = len(created), len(triple_ids) - len(created)

    new_memories, new_triples = batch_storing.mentions_add(
        job.entity,
        memories={memory_ids[item]: mentions.at(item.source_position) for item in reversed(memories)},
        triples={pk: mention for pk, (_, mention) in triple_ids.items()},
        job_id=job.pk,
        first_run=job.attempts == 1,
    )
    counts.mentions_added = len(new_memories) + len(new_triples)
    for item in memories:
        _apply_relation(job, item, memory_ids[item], counts)
    if created:
        counts.contradictions += contradictions.record_new_triple_contradictions(job.entity, created)
    return counts.__dict__.copy()


def _memory_write(item: ExtractedMemory, owner_id: int | None, vector) -> batch_storing.MemoryWrite:
    return batch_storing.MemoryWrite(
        kind=item.kind,
        content=item.content.strip(),
        normalized=normalize_text(item.content),
        content_hash=content_hash(item.content),
        owner_id=owner_id,
        embedding=_to_bytes(vector),
    )


def _triple_write(item: ExtractedTriple, vector) -> batch_storing.TripleWrite:
    return batch_storing.TripleWrite(
        subject=item.subject.strip(),
        subject_type=item.subject_type or "concept",
        predicate=normalize_predicate(item.predicate),
        object=item.object.strip(),
        object_type=item.object_type or "concept",
        embedding=_to_bytes(vector),
    )


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


def _near_duplicate(job, item: ExtractedMemory, vector, owner_id: int | None, vectors) -> int | None:
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
            return row.pk
    return None


def _apply_relation(job, item: ExtractedMemory, memory_id: int, counts: _Counts) -> None:
    if item.relation == "update":
        counts.updates += 1
    elif item.relation == "contradiction" and item.related_memory_id:
        older = int(item.related_memory_id)
        if contradictions.record_memory_contradiction(job.entity, older, memory_id, Contradiction.Reason.EXTRACTOR):
            counts.contradictions += 1


def _to_bytes(vector) -> bytes | None:
    return None if vector is None else np.asarray(vector, dtype="<f4").tobytes()
