"""Storing a batch of jobs' extractions: memories, attributes and triples, each with a mention per
source message, near-duplicates merged, contradictions recorded, and memories that state a claim
superseding older values of it (memory/services/supersession.py); and each exchange's episode
(memory/services/episode_store.py).

Called inside the batch's transaction (memory/services/augmentation.py). Decisions are taken job by
job, in the batch's order, exactly as if the jobs had run one after another (a fact two jobs of the
batch extract is created by the first and repeated by the second; a near-duplicate of a memory an
earlier job of the batch created is merged into it); the writes are then made set-based, a few
statements for the whole batch (memory/services/batch_storing.py), whose upserts are
concurrency-safe and idempotent per job. New contents and episodes are embedded in one call, once.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
from django.conf import settings

from memory.extraction.normalize import content_hash, normalize_node_name, normalize_predicate, normalize_text
from memory.extraction.types import ExtractedMemory, ExtractedTriple, Extraction
from memory.models import AugmentationJob, Contradiction, Memory, MemoryKind, Message
from memory.services import batch_storing, contradictions, dedup, episode_store
from memory.services.batch_storing import MemoryKey, Mention, NewMention, triple_content
from memory.services.supersession import ClaimColumns, ClaimedMemory, supersede_claims

logger = logging.getLogger(__name__)

VALID_KINDS = frozenset(MemoryKind.values)
MAX_CANDIDATES = 5


@dataclass
class JobExtraction:
    """What one claimed job brings to the batch: the job, its messages and the extractor's output."""

    job: AugmentationJob
    messages: list[Message]
    extraction: Extraction
    extractor_name: str = ""
    related_count: int = 0
    memories: list[ExtractedMemory] = field(init=False)
    triples: list[ExtractedTriple] = field(init=False)

    def __post_init__(self) -> None:
        self.memories = _unique_memories(self.extraction.memories, self.job)
        self.triples = _unique_triples(self.extraction.triples)
        self._keys = {item: self._key(item) for item in self.memories}
        self._by_position = {message.position: message for message in self.messages}

    @property
    def attributes(self) -> list[str]:
        """What the extraction kept for the job's process alone: no other process may read it."""
        return [item.content for item in self.memories if item.kind == MemoryKind.ATTRIBUTE]

    def key(self, item: ExtractedMemory) -> MemoryKey:
        return self._keys[item]

    def _key(self, item: ExtractedMemory) -> MemoryKey:
        owner = self.job.process_id if item.kind == MemoryKind.ATTRIBUTE else None
        return (self.job.entity_id, owner, content_hash(item.content))

    def mention(self, position: int) -> Mention:
        """The provenance of a source message: process, session, exchange, message, job and time."""
        message = self._by_position.get(position, self.messages[-1] if self.messages else None)
        exchange = self.job.exchange
        return Mention(
            process=self.job.process,
            mentioned_at=message.created_at if message else exchange.occurred_at,
            session_id=exchange.session_id,
            exchange_id=exchange.pk,
            message_id=message.pk if message else None,
            job_id=self.job.pk,
        )


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
    superseded: int = 0
    episodes_created: int = 0


@dataclass
class _Pending:
    """A memory the batch will insert; merges and repeats point at it until it has an id."""

    write: batch_storing.MemoryWrite
    mention: Mention
    vector: np.ndarray | None
    order: tuple[int, int]  # (job's place in the batch, source message position)


def store_extractions(items: list[JobExtraction], vectors: dict[int, dedup._EntityVectors]) -> dict[int, dict]:
    """Store every job's extraction; returns each job's counts by job id. ``vectors``: each entity's
    cached memory vectors (memory/services/dedup.py), which learn the memories inserted here."""
    counts = {item.job.pk: _Counts() for item in items}
    existing = batch_storing.existing_memory_ids({item.key(memory) for item in items for memory in item.memories})
    fresh_texts = {item_.content for item in items for item_ in item.memories if item.key(item_) not in existing}
    triple_texts = [triple_content(t.subject, t.predicate, t.object) for item in items for t in item.triples]
    episodes = episode_store.new_episodes([(item.job, item.messages, item.attributes) for item in items])
    embedded, model_name = _embed(sorted(fresh_texts) + triple_texts + [episode.content for episode in episodes])
    vector_of = dict(zip(sorted(fresh_texts), embedded[: len(fresh_texts)], strict=True))
    triple_vectors = iter(embedded[len(fresh_texts) : len(fresh_texts) + len(triple_texts)])
    episode_vectors = [_to_bytes(vector) for vector in embedded[len(fresh_texts) + len(triple_texts) :]]

    targets = _decide_memories(items, counts, existing, vector_of, vectors)
    pending = {key: target for key, target in targets.values() if isinstance(target, _Pending)}
    inserted = batch_storing.memories_insert(
        [(target.write, target.mention) for target in pending.values()], embedding_model=model_name
    )
    memory_id = {
        where: inserted[key] if isinstance(target, _Pending) else target for where, (key, target) in targets.items()
    }
    for key, target in pending.items():
        if target.vector is not None and key in inserted:
            group = (target.write.kind, target.write.owner_id)
            vectors[key[0]].add(inserted[key], group, target.vector)

    triple_writes = [
        (job_item, _triple_write(job_item.job, triple, next(triple_vectors)), job_item.mention(triple.source_position))
        for job_item in items
        for triple in job_item.triples
    ]
    triple_ids, key_of, created = batch_storing.triples_upsert(
        [(write, mention) for _, write, mention in triple_writes], embedding_model=model_name
    )

    mentions = [
        NewMention(
            item.job.pk,
            item.job.entity,
            item.mention(memory.source_position),
            memory_id=memory_id[(item.job.pk, memory)],
        )
        for item in items
        for memory in item.memories
    ]
    creator: dict[int, int] = {}
    for job_item, write, mention in triple_writes:
        key = key_of.get((write, mention))
        if key is None or key not in triple_ids:
            continue
        pk = triple_ids[key]
        job_counts = counts[job_item.job.pk]
        if pk in created and pk not in creator:
            creator[pk] = job_item.job.pk
            job_counts.triples_created += 1
        else:
            job_counts.triples_repeated += 1
        mentions.append(NewMention(job_item.job.pk, job_item.job.entity, mention, triple_id=pk))
    retried = {item.job.pk for item in items if item.job.attempts > 1}
    for new in batch_storing.mentions_add(mentions, retried_job_ids=retried):
        counts[new.job_id].mentions_added += 1

    for item in items:
        for memory in item.memories:
            _apply_relation(item.job, memory, memory_id[(item.job.pk, memory)], counts[item.job.pk])
    _supersede(items, targets, pending, inserted, counts)
    for pk in contradictions.record_new_triple_contradictions(created):
        counts[creator[pk]].contradictions += 1
    episode_store.episodes_insert(episodes, episode_vectors, embedding_model=model_name)
    for episode in episodes:
        counts[episode.job.pk].episodes_created += 1
    return {job_id: job_counts.__dict__.copy() for job_id, job_counts in counts.items()}


def _decide_memories(items, counts, existing, vector_of, vectors) -> dict:
    """(job id, memory) -> (memory key, stored id or _Pending), job by job in the batch's order."""
    candidates = _stored_candidates(items, existing, vector_of, vectors)
    rows = {
        pk: (content, digest)
        for pk, content, digest in Memory.objects.filter(
            pk__in={pk for ids in candidates.values() for pk in ids}
        ).values_list("pk", "content", "content_hash")
    }
    pending: dict[MemoryKey, _Pending] = {}
    pending_by_entity: dict[int, list[MemoryKey]] = defaultdict(list)
    targets: dict = {}
    for index, item in enumerate(items):
        job_counts = counts[item.job.pk]
        job_counts.memories, job_counts.triples = len(item.memories), len(item.triples)
        for memory in item.memories:
            key = item.key(memory)
            if key in existing or key in pending:
                targets[(item.job.pk, memory)] = (key, existing.get(key) or pending[key])
                job_counts.memories_repeated += 1
                continue
            vector = vector_of.get(memory.content)
            merged = _near_duplicate(memory, key, vector, candidates.get((item.job.pk, memory), []), rows)
            if merged is None:
                merged = _near_pending(memory, key, vector, [pending[k] for k in pending_by_entity[key[0]]])
            if merged is not None:
                targets[(item.job.pk, memory)] = merged
                job_counts.near_duplicates_merged += 1
                continue
            pending[key] = _Pending(
                _memory_write(item.job, memory, key, vector),
                item.mention(memory.source_position),
                vector,
                (index, memory.source_position),
            )
            pending_by_entity[key[0]].append(key)
            targets[(item.job.pk, memory)] = (key, pending[key])
            job_counts.memories_created += 1
    return targets


def _stored_candidates(items, existing, vector_of, vectors) -> dict:
    """(job id, memory) -> stored memories of the same kind and owner at or above the similarity
    threshold: one matrix product per entity for all its new contents."""
    if not any(cached.model for cached in vectors.values()):
        return {}
    asked: dict[int, list[tuple[tuple[int, ExtractedMemory], tuple[str, int | None], np.ndarray]]] = defaultdict(list)
    for item in items:
        for memory in item.memories:
            key = item.key(memory)
            vector = vector_of.get(memory.content)
            if key not in existing and vector is not None:
                asked[key[0]].append(((item.job.pk, memory), (memory.kind, key[1]), vector))
    found = {}
    for entity_id, questions in asked.items():
        results = dedup.near_duplicate_candidates(
            vectors[entity_id],
            [group for _, group, _ in questions],
            np.vstack([vector for _, _, vector in questions]),
            threshold=settings.MEMORI_DEDUP_SIMILARITY,
        )
        for (where, _, _), ids in zip(questions, results, strict=True):
            found[where] = ids[:MAX_CANDIDATES]
    return found


def _near_duplicate(memory: ExtractedMemory, key: MemoryKey, vector, candidates: list[int], rows: dict):
    """A stored memory with the same meaning (embedding and lexical guard), unless the exact
    content already exists: then the hash upsert takes it."""
    if vector is None or not candidates:
        return None
    if any(rows.get(pk, ("", ""))[1] == key[2] for pk in candidates):
        return None
    for pk in candidates:
        if pk in rows and dedup.same_meaning(memory.content, rows[pk][0]):
            return (key, pk)
    return None


def _near_pending(memory: ExtractedMemory, key: MemoryKey, vector, pending: list[_Pending]):
    """A memory an earlier job of this batch is inserting, with the same meaning."""
    if vector is None or not np.any(vector):
        return None
    threshold = settings.MEMORI_DEDUP_SIMILARITY
    for other in pending:
        same_group = (other.write.kind, other.write.owner_id) == (memory.kind, key[1])
        if same_group and other.vector is not None and float(other.vector @ vector) >= threshold:
            if dedup.same_meaning(memory.content, other.write.content):
                return (other.write.key, other)
    return None


def _memory_write(job: AugmentationJob, item: ExtractedMemory, key: MemoryKey, vector) -> batch_storing.MemoryWrite:
    return batch_storing.MemoryWrite(
        entity=job.entity,
        kind=item.kind,
        content=item.content.strip(),
        normalized=normalize_text(item.content),
        content_hash=key[2],
        owner_id=key[1],
        embedding=_to_bytes(vector),
        claim=ClaimColumns.of(item.claim),
    )


def _triple_write(job: AugmentationJob, item: ExtractedTriple, vector) -> batch_storing.TripleWrite:
    return batch_storing.TripleWrite(
        entity=job.entity,
        subject=item.subject.strip(),
        subject_type=item.subject_type or "concept",
        predicate=normalize_predicate(item.predicate),
        object=item.object.strip(),
        object_type=item.object_type or "concept",
        embedding=_to_bytes(vector),
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


def _apply_relation(job, item: ExtractedMemory, memory_id: int, counts: _Counts) -> None:
    if item.relation == "update":
        counts.updates += 1
    elif item.relation == "contradiction" and item.related_memory_id:
        older = int(item.related_memory_id)
        if contradictions.record_memory_contradiction(job.entity, older, memory_id, Contradiction.Reason.EXTRACTOR):
            counts.contradictions += 1


def _supersede(items, targets: dict, pending: dict, inserted: dict[MemoryKey, int], counts: dict) -> None:
    """New memories that state a claim supersede older values, and a superseded memory said again
    is current again (memory/services/supersession.py); each change is counted for the job whose
    memory made it."""
    claimed = [
        ClaimedMemory(
            memory_id=inserted[key],
            entity_id=key[0],
            tenant_id=target.write.entity.tenant_id,
            owner_id=key[1],
            process_id=target.mention.process.pk,
            said_at=target.mention.mentioned_at,
            claim=target.write.claim,
            order=target.order,
        )
        for key, target in pending.items()
        if target.write.claim and key in inserted
    ]
    restated = []
    for index, item in enumerate(items):
        for memory in item.memories:
            key, target = targets[(item.job.pk, memory)]
            if memory.claim is not None and not isinstance(target, _Pending):
                mention = item.mention(memory.source_position)
                restated.append(
                    ClaimedMemory(
                        memory_id=target,
                        entity_id=key[0],
                        tenant_id=item.job.entity.tenant_id,
                        owner_id=key[1],
                        process_id=item.job.process_id,
                        said_at=mention.mentioned_at,
                        claim=ClaimColumns.of(memory.claim),
                        order=(index, memory.source_position),
                    )
                )
    if not claimed and not restated:
        return
    job_of = {inserted[key]: target.mention.job_id for key, target in pending.items() if key in inserted}
    job_of.update({claim.memory_id: items[claim.order[0]].job.pk for claim in restated})
    outcome = supersede_claims(claimed=claimed, restated=restated)
    for pairs, counter in ((outcome.superseded, "superseded"), (outcome.contradicted, "contradictions")):
        for older, newer in pairs:
            job_id = job_of.get(newer) or job_of[older]
            setattr(counts[job_id], counter, getattr(counts[job_id], counter) + 1)


def _to_bytes(vector) -> bytes | None:
    return None if vector is None else np.asarray(vector, dtype="<f4").tobytes()
