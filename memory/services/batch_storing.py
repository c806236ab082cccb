"""The one write path of memories and triples: set-based upserts, a few statements per batch, not
per record. Augmentation writes a batch of jobs through it (memory/services/extraction_store.py);
the API, the admin and tests write one record at a time through memory/services/storing.py.

Uniqueness is the database's (``INSERT ... ON CONFLICT DO NOTHING`` through ``db.insert_ignore``,
then a re-read that also sees a concurrent winner's row),
one provenance row per mention, unique per (job, memory) and (job, triple), so running a job twice
adds nothing. Rows are inserted with ``mention_count=0`` and every new mention adds one, so
two workers inserting the same fact at once end with one row counted twice. Rows are written and
locked in a fixed order (sorted keys and ids) so concurrent batches do not deadlock each other.

A batch may hold jobs of several entities: every key starts with the entity id.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q

from memory import db
from memory.extraction.normalize import normalize_node_name
from memory.models import Entity, Memory, Node, Predicate, Process, Provenance, Triple
from memory.services.supersession import ClaimColumns

MAX_CONTENT_CHARS = 2000
MAX_NAME_CHARS = 300

MemoryKey = tuple[int, int | None, str]  # (entity id, owner process id or None, content hash)
TripleKey = tuple[int, int, int, int]  # (entity id, subject node id, predicate id, object node id)


@dataclass(frozen=True)
class Mention:
    """Where and when something was said: the provenance of one mention. A mention without a
    process (a person adding a memory in the admin) is counted but has no provenance row."""

    process: Process | None
    mentioned_at: datetime
    session_id: int | None = None
    exchange_id: int | None = None
    message_id: int | None = None
    job_id: int | None = None
    source: str = "augmentation"


def triple_content(subject: str, predicate: str, obj: str) -> str:
    return f"{subject} {predicate.replace('_', ' ')} {obj}"


@dataclass(frozen=True)
class MemoryWrite:
    entity: Entity
    kind: str
    content: str
    normalized: str
    content_hash: str
    owner_id: int | None  # the process for attributes, else None
    embedding: bytes | None
    claim: ClaimColumns = ClaimColumns()

    @property
    def key(self) -> MemoryKey:
        return (self.entity.pk, self.owner_id, self.content_hash)


@dataclass(frozen=True)
class TripleWrite:
    entity: Entity
    subject: str
    subject_type: str
    predicate: str
    object: str
    object_type: str
    embedding: bytes | None


FIRST_MENTION_COLUMNS = (
    "embedding",
    "embedding_model",
    "first_process_id",
    "first_seen_at",
    "last_seen_at",
    "mention_count",
)


def _first_mention_values(embedding: bytes | None, embedding_model: str, mention: Mention) -> tuple:
    """What memories and triples both carry (RecallStats and the first process), from their first
    mention, in the order of ``FIRST_MENTION_COLUMNS``; the count starts at 0, each provenance row
    adds one."""
    return (
        embedding,
        embedding_model if embedding is not None else "",
        mention.process.pk if mention.process is not None else None,
        mention.mentioned_at,
        mention.mentioned_at,
        0,
    )


def existing_memory_ids(keys: set[MemoryKey]) -> dict[MemoryKey, int]:
    """Stored memories with these (entity id, owner process id, content hash) keys, in one query
    whose every branch is served by one of the two partial unique indexes (shared memories, and
    attributes per process), so it never scans an entity's memories."""
    if not keys:
        return {}
    wanted = defaultdict(set)
    for entity_id, owner, digest in keys:
        wanted[(entity_id, owner)].add(digest)
    where = Q()
    for (entity_id, owner), digests in sorted(wanted.items(), key=lambda kv: (kv[0][0], kv[0][1] or 0)):
        owner_match = Q(owner_process__isnull=True) if owner is None else Q(owner_process_id=owner)
        where |= Q(owner_match, entity_id=entity_id, content_hash__in=sorted(digests))
    rows = Memory.objects.filter(where).order_by().values_list("pk", "entity_id", "owner_process_id", "content_hash")
    return {(entity_id, owner, digest): pk for pk, entity_id, owner, digest in rows}


def memories_insert(writes: list[tuple[MemoryWrite, Mention]], *, embedding_model: str) -> dict[MemoryKey, int]:
    """Insert memories that do not exist yet (a concurrent insert of the same one is ignored);
    returns every write's memory id, whoever inserted it."""
    if not writes:
        return {}
    memory_rows_insert(writes, embedding_model=embedding_model)
    found = existing_memory_ids({write.key for write, _ in writes})
    return {write.key: found[write.key] for write, _ in writes if write.key in found}


def memory_rows_insert(writes: list[tuple[MemoryWrite, Mention]], *, embedding_model: str) -> int:
    """The insert of ``memories_insert``; returns how many rows it inserted (the others existed)."""
    rows = [
        (
            write.entity.pk,
            write.kind,
            write.owner_id,
            write.content[:MAX_CONTENT_CHARS],
            write.normalized,
            write.content_hash,
            mention.mentioned_at,
            write.claim.subject,
            write.claim.attribute,
            write.claim.value,
            write.claim.value_type,
            *_first_mention_values(write.embedding, embedding_model, mention),
        )
        for write, mention in sorted(
            writes, key=lambda pair: (pair[0].entity.pk, pair[0].content_hash, pair[0].owner_id or 0)
        )
    ]
    return db.insert_rows_ignore(Memory, MEMORY_COLUMNS, rows)


MEMORY_COLUMNS = (
    "entity_id",
    "kind",
    "owner_process_id",
    "content",
    "normalized",
    "content_hash",
    "valid_from",
    "claim_subject",
    "claim_attribute",
    "claim_value",
    "claim_value_type",
    *FIRST_MENTION_COLUMNS,
)


def predicate_ids(names: set[str]) -> dict[str, int]:
    found = dict(Predicate.objects.filter(name__in=names).values_list("name", "pk"))
    missing = sorted(names - set(found))
    if missing:
        db.insert_rows_ignore(Predicate, ["name"], [(name,) for name in missing])
        found.update(Predicate.objects.filter(name__in=missing).values_list("name", "pk"))
    return found


def node_ids(names: dict[tuple[int, str], tuple[str, str]]) -> dict[tuple[int, str], tuple[int, str]]:
    """``names``: (entity id, normalized name) -> (display name, type).
    Returns (entity id, normalized name) -> (node id, display name)."""
    found = _nodes(set(names))
    missing = sorted(key for key in names if key not in found)
    if missing:
        db.insert_rows_ignore(
            Node,
            ["entity_id", "normalized_name", "name", "node_type"],
            [
                (entity_id, key, names[(entity_id, key)][0][:MAX_NAME_CHARS], names[(entity_id, key)][1][:50])
                for entity_id, key in missing
            ],
        )
        found.update(_nodes(set(missing)))
    return found


def _nodes(keys: set[tuple[int, str]]) -> dict[tuple[int, str], tuple[int, str]]:
    wanted = defaultdict(set)
    for entity_id, key in keys:
        wanted[entity_id].add(key)
    where = Q()
    for entity_id, names in wanted.items():
        where |= Q(entity_id=entity_id, normalized_name__in=sorted(names))
    rows = Node.objects.filter(where).values_list("pk", "entity_id", "normalized_name", "name")
    return {(entity_id, key): (pk, name) for pk, entity_id, key, name in rows}


def triples_upsert(
    writes: list[tuple[TripleWrite, Mention]], *, embedding_model: str
) -> tuple[dict[TripleKey, int], dict[tuple[TripleWrite, Mention], TripleKey], set[int]]:
    """Returns (triple key -> id, each write's key, ids this call created). Writes whose subject and
    object are the same node get no key."""
    if not writes:
        return {}, {}, set()
    nodes: dict[tuple[int, str], tuple[str, str]] = {}
    for write, _ in writes:
        nodes.setdefault(node_key(write.entity, write.subject), (write.subject, write.subject_type or "concept"))
        nodes.setdefault(node_key(write.entity, write.object), (write.object, write.object_type or "concept"))
    node_rows = node_ids(nodes)
    predicates = predicate_ids({write.predicate for write, _ in writes})
    keyed: dict[TripleKey, tuple[TripleWrite, Mention]] = {}
    key_of: dict[tuple[TripleWrite, Mention], TripleKey] = {}
    for write, mention in writes:
        subject = node_rows[node_key(write.entity, write.subject)][0]
        obj = node_rows[node_key(write.entity, write.object)][0]
        if subject != obj:
            key = (write.entity.pk, subject, predicates[write.predicate], obj)
            keyed.setdefault(key, (write, mention))
            key_of[(write, mention)] = key
    before = _triple_ids(keyed)
    names = {pk: name for pk, name in node_rows.values()}
    new = sorted(key for key in keyed if key not in before)
    if new:
        rows = [_triple_row(key, *keyed[key], names, embedding_model) for key in new]
        db.insert_rows_ignore(Triple, TRIPLE_COLUMNS, rows)
    after = _triple_ids(keyed) if new else before
    created = {after[key] for key in new if key in after}
    return after, key_of, created


def node_key(entity: Entity, name: str) -> tuple[int, str]:
    return (entity.pk, normalize_node_name(name)[:MAX_NAME_CHARS])


TRIPLE_COLUMNS = ("entity_id", "subject_id", "predicate_id", "object_id", "content", *FIRST_MENTION_COLUMNS)


def _triple_row(key: TripleKey, write: TripleWrite, mention: Mention, names: dict[int, str], model: str) -> tuple:
    """The values of ``TRIPLE_COLUMNS``."""
    _, subject, _, obj = key
    content = triple_content(names[subject], write.predicate, names[obj])
    return (*key, content, *_first_mention_values(write.embedding, model, mention))


def _triple_ids(keyed: dict[TripleKey, object]) -> dict[TripleKey, int]:
    if not keyed:
        return {}
    rows = (
        Triple.objects.filter(
            entity_id__in={key[0] for key in keyed},
            subject_id__in={key[1] for key in keyed},
            object_id__in={key[3] for key in keyed},
        )
        .order_by()
        .values_list("pk", "entity_id", "subject_id", "predicate_id", "object_id")
    )
    return {key: pk for pk, *rest in rows if (key := tuple(rest)) in keyed}


@dataclass(frozen=True)
class NewMention:
    job_id: int | None  # None for a mention made outside augmentation (API, admin)
    entity: Entity
    mention: Mention
    memory_id: int | None = None
    triple_id: int | None = None


def mentions_add(mentions: list[NewMention], *, retried_job_ids: set[int]) -> list[NewMention]:
    """One provenance row per (job, memory/triple) not recorded yet, and the counters moved on;
    returns the mentions that were new. A job's first attempt cannot have committed a mention yet
    (mentions commit with "done"), so only ``retried_job_ids`` are looked up."""
    already: set = set()
    if retried_job_ids:
        already = set(
            Provenance.objects.filter(job_id__in=retried_job_ids).values_list("job_id", "memory_id", "triple_id")
        )
    unique: dict[tuple[int, int | None, int | None], NewMention] = {}
    for item in mentions:
        key = (item.job_id, item.memory_id, item.triple_id)
        if key not in already:
            unique.setdefault(key, item)
    new = [unique[key] for key in sorted(unique, key=lambda k: (k[0] or 0, k[1] or 0, k[2] or 0))]
    rows = [_provenance_row(item) for item in new if item.mention.process is not None]
    db.insert_rows_ignore(Provenance, PROVENANCE_COLUMNS, rows)
    _count(Memory, [(item.memory_id, item.mention.mentioned_at) for item in new if item.memory_id])
    _count(Triple, [(item.triple_id, item.mention.mentioned_at) for item in new if item.triple_id])
    return new


PROVENANCE_COLUMNS = (
    "entity_id",
    "memory_id",
    "triple_id",
    "process_id",
    "session_id",
    "exchange_id",
    "message_id",
    "job_id",
    "source",
    "mentioned_at",
)


def _provenance_row(item: NewMention) -> tuple:
    """The values of ``PROVENANCE_COLUMNS``."""
    mention = item.mention
    return (
        item.entity.pk,
        item.memory_id,
        item.triple_id,
        mention.process.pk,
        mention.session_id,
        mention.exchange_id,
        mention.message_id,
        mention.job_id,
        mention.source,
        mention.mentioned_at,
    )


def _count(model, mentioned: list[tuple[int, datetime]]) -> None:
    """mention_count += the row's new mentions, last_seen_at moved to its latest: one UPDATE for
    all rows, after locking them in id order (PostgreSQL; SQLite writes one transaction at a time)."""
    if not mentioned:
        return
    added: dict[int, int] = defaultdict(int)
    latest: dict[int, datetime] = {}
    for pk, when in mentioned:
        added[pk] += 1
        latest[pk] = max(latest.get(pk, when), when)
    ids = sorted(added)
    list(model.objects.filter(pk__in=ids).order_by("pk").select_for_update().values_list("pk", flat=True))
    db.update_rows(
        model,
        {pk: (added[pk], latest[pk]) for pk in ids},
        fields=["mention_count", "last_seen_at"],
        how={"mention_count": db.ADD, "last_seen_at": db.GREATEST},
    )
