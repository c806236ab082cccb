"""Set-based upserts for one augmentation job: a few statements per job instead of a few per record.

The same contract as memory/services/storing.py (which stores one record at a time for the API
and the admin): uniqueness is the database's (``INSERT ... ON CONFLICT DO NOTHING`` through
``bulk_create(ignore_conflicts=True)``, then a re-read that also sees a concurrent winner's row),
one provenance row per mention, unique per (job, memory) and (job, triple), so running a job twice
adds nothing. Rows are inserted with ``mention_count=0`` and every new provenance row adds one, so
two workers inserting the same fact at once end with one row counted twice. Rows are written in a
fixed order (sorted keys) so concurrent jobs do not deadlock each other.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from django.db.models import F
from django.db.models.functions import Greatest

from memory.extraction.normalize import normalize_node_name
from memory.models import Entity, Memory, Node, Predicate, Provenance, Triple
from memory.services.storing import Mention, triple_content

MAX_CONTENT_CHARS = 2000


@dataclass(frozen=True)
class MemoryWrite:
    kind: str
    content: str
    normalized: str
    content_hash: str
    owner_id: int | None  # the process for attributes, else None
    embedding: bytes | None

    @property
    def key(self) -> tuple[int | None, str]:
        return (self.owner_id, self.content_hash)


@dataclass(frozen=True)
class TripleWrite:
    subject: str
    subject_type: str
    predicate: str
    object: str
    object_type: str
    embedding: bytes | None


def existing_memory_ids(entity: Entity, hashes: list[str]) -> dict[tuple[int | None, str], int]:
    rows = (
        Memory.objects.filter(entity=entity, content_hash__in=hashes)
        .order_by()
        .values_list("pk", "owner_process_id", "content_hash")
    )
    return {(owner, digest): pk for pk, owner, digest in rows}


def memories_insert(
    entity: Entity, writes: list[tuple[MemoryWrite, Mention]], *, embedding_model: str
) -> dict[tuple[int | None, str], int]:
    """Insert memories that do not exist yet (a concurrent insert of the same one is ignored);
    returns every write's memory id, whoever inserted it."""
    if not writes:
        return {}
    rows = [
        Memory(
            entity=entity,
            kind=write.kind,
            owner_process_id=write.owner_id,
            content=write.content[:MAX_CONTENT_CHARS],
            normalized=write.normalized,
            content_hash=write.content_hash,
            embedding=write.embedding,
            embedding_model=embedding_model if write.embedding is not None else "",
            first_process_id=mention.process.pk,
            first_seen_at=mention.mentioned_at,
            last_seen_at=mention.mentioned_at,
            mention_count=0,
        )
        for write, mention in sorted(writes, key=lambda pair: (pair[0].content_hash, pair[0].owner_id or 0))
    ]
    Memory.objects.bulk_create(rows, ignore_conflicts=True)
    return existing_memory_ids(entity, [write.content_hash for write, _ in writes])


def predicate_ids(names: set[str]) -> dict[str, int]:
    found = dict(Predicate.objects.filter(name__in=names).values_list("name", "pk"))
    missing = sorted(names - set(found))
    if missing:
        Predicate.objects.bulk_create([Predicate(name=name) for name in missing], ignore_conflicts=True)
        found.update(Predicate.objects.filter(name__in=missing).values_list("name", "pk"))
    return found


def node_ids(entity: Entity, names: dict[str, tuple[str, str]]) -> dict[str, tuple[int, str]]:
    """``names``: normalized name -> (display name, type). Returns normalized -> (id, display name)."""
    keys = sorted(names)
    found = {
        key: (pk, name)
        for pk, key, name in Node.objects.filter(entity=entity, normalized_name__in=keys).values_list(
            "pk", "normalized_name", "name"
        )
    }
    missing = [key for key in keys if key not in found]
    if missing:
        Node.objects.bulk_create(
            [
                Node(entity=entity, normalized_name=key, name=names[key][0][:300], node_type=names[key][1][:50])
                for key in missing
            ],
            ignore_conflicts=True,
        )
        found.update(
            {
                key: (pk, name)
                for pk, key, name in Node.objects.filter(entity=entity, normalized_name__in=missing).values_list(
                    "pk", "normalized_name", "name"
                )
            }
        )
    return found


def triples_upsert(
    entity: Entity, writes: list[tuple[TripleWrite, Mention]], *, embedding_model: str
) -> tuple[dict[int, tuple[TripleWrite, Mention]], set[int]]:
    """Returns (triple id -> its write and mention, ids this call created)."""
    if not writes:
        return {}, set()
    nodes: dict[str, tuple[str, str]] = {}
    for write, _ in writes:
        nodes.setdefault(normalize_node_name(write.subject)[:300], (write.subject, write.subject_type or "concept"))
        nodes.setdefault(normalize_node_name(write.object)[:300], (write.object, write.object_type or "concept"))
    node_rows = node_ids(entity, nodes)
    predicates = predicate_ids({write.predicate for write, _ in writes})
    keyed: dict[tuple[int, int, int], tuple[TripleWrite, Mention]] = {}
    for write, mention in writes:
        subject = node_rows[normalize_node_name(write.subject)[:300]][0]
        obj = node_rows[normalize_node_name(write.object)[:300]][0]
        if subject != obj:
            keyed.setdefault((subject, predicates[write.predicate], obj), (write, mention))
    before = _triple_ids(entity, keyed)
    names = {pk: name for pk, name in node_rows.values()}
    new = sorted(key for key in keyed if key not in before)
    if new:
        Triple.objects.bulk_create(
            [
                Triple(
                    entity=entity,
                    subject_id=s,
                    predicate_id=p,
                    object_id=o,
                    content=triple_content(names[s], keyed[(s, p, o)][0].predicate, names[o]),
                    embedding=keyed[(s, p, o)][0].embedding,
                    embedding_model=embedding_model if keyed[(s, p, o)][0].embedding is not None else "",
                    first_process_id=keyed[(s, p, o)][1].process.pk,
                    first_seen_at=keyed[(s, p, o)][1].mentioned_at,
                    last_seen_at=keyed[(s, p, o)][1].mentioned_at,
                    mention_count=0,
                )
                for s, p, o in new
            ],
            ignore_conflicts=True,
        )
    after = _triple_ids(entity, keyed) if new else before
    created = {after[key] for key in new if key in after}
    return {after[key]: keyed[key] for key in keyed if key in after}, created


def _triple_ids(entity: Entity, keyed: dict) -> dict[tuple[int, int, int], int]:
    subjects = {s for s, _, _ in keyed}
    objects = {o for _, _, o in keyed}
    rows = (
        Triple.objects.filter(entity=entity, subject_id__in=subjects, object_id__in=objects)
        .order_by()
        .values_list("pk", "subject_id", "predicate_id", "object_id")
    )
    return {(s, p, o): pk for pk, s, p, o in rows if (s, p, o) in keyed}


def mentions_add(
    entity: Entity, *, memories: dict[int, Mention], triples: dict[int, Mention], job_id: int, first_run: bool
) -> tuple[set[int], set[int]]:
    """One provenance row per (job, memory/triple) not recorded yet, and the counters moved on;
    returns the memory and triple ids that got a new mention. ``first_run``: the job's first
    attempt, which cannot have committed a mention yet (mentions commit with "done")."""
    already: set = set()
    if not first_run:
        already = set(Provenance.objects.filter(job_id=job_id).values_list("memory_id", "triple_id"))
    new_memories = {pk: m for pk, m in memories.items() if (pk, None) not in already}
    new_triples = {pk: m for pk, m in triples.items() if (None, pk) not in already}
    rows = [_provenance(entity, mention, memory_id=pk) for pk, mention in sorted(new_memories.items())]
    rows += [_provenance(entity, mention, triple_id=pk) for pk, mention in sorted(new_triples.items())]
    if rows:
        Provenance.objects.bulk_create(rows, ignore_conflicts=True)
    _count(Memory, new_memories)
    _count(Triple, new_triples)
    return set(new_memories), set(new_triples)


def _provenance(entity: Entity, mention: Mention, **target) -> Provenance:
    return mention.provenance(entity, **target)


def _count(model, mentioned: dict[int, Mention]) -> None:
    by_time: dict[datetime, list[int]] = defaultdict(list)
    for pk, mention in mentioned.items():
        by_time[mention.mentioned_at].append(pk)
    for when, ids in sorted(by_time.items()):
        model.objects.filter(pk__in=sorted(ids)).update(
            mention_count=F("mention_count") + 1, last_seen_at=Greatest(F("last_seen_at"), when)
        )
