"""The per-entity recall index, cached in every web and worker process.

What recall searches is everything an entity knows: all its facts, preferences, skills, triples and
episodes plus every process's attributes (masked per caller at query time, so one cached index
serves all of the entity's processes; so are the episodes of the caller's own session). Loading it
costs one pass over the entity's rows; after that a recall touches the database only to read
`Entity.memory_version`, which every memory write bumps. When it differs from the cached one (a
write in any OS process), the index is rebuilt from the database before the search, so a new
memory is seen by the very next recall everywhere.

Each build or refresh also loads the mentions of the last `MEMORI_RECALL_HANDOFF_SECONDS` (one
indexed query, recent.py), so handoffs (handoff.py) cost a warm recall nothing.

The cache is process-wide, thread-safe and LRU-bounded by entities and by total rows
(`MEMORI_RECALL_CACHE_ENTITIES`, `MEMORI_RECALL_CACHE_ROWS`).
"""

from __future__ import annotations

import dataclasses
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property

import numpy as np

from memory.db.recall_events import rows_of
from memory.models import Episode, Memory, Triple
from memory.recall.config import recall_settings
from memory.recall.lexical import BM25Index
from memory.recall.recent import NO_RECENT_MENTIONS, RecentMentions, load_recent_mentions
from memory.recall.rows import (
    ATTRIBUTE,
    EPISODE,
    HAS_CLAIM,
    KIND_CODE,
    KINDS,
    SHARED,
    TRIPLE,
    columns_of,
    fingerprint,
    load_rows,
    memory_mask,
)
from memory.recall.validity import episode_validity, validity_changes
from memory.recall.vector import VectorIndex, new_vector_index

# The row kinds live in rows.py; recall imports them from here with the index.
__all__ = [
    "ATTRIBUTE",
    "EPISODE",
    "KIND_CODE",
    "KINDS",
    "SHARED",
    "TRIPLE",
    "EntityIndex",
    "IndexKey",
    "RecallCache",
    "build_entity_index",
    "memory_mask",
    "recall_cache",
    "refresh_entity_index",
]


@dataclass(frozen=True)
class IndexKey:
    """What a cached index must match to be current: the entity row (ids can be reused after a
    rollback, so its creation time too), its memory version, and the embedder's vector space."""

    entity_id: int
    entity_created_at: datetime
    memory_version: int
    embedder: str


@dataclass(frozen=True)
class EntityIndex:
    key: IndexKey
    ids: np.ndarray  # database id of each row (memory, triple or episode id, per `kinds`)
    kinds: np.ndarray  # int8 codes into KINDS
    owners: np.ndarray  # int64 owner process id for attributes, SHARED otherwise
    first_process_ids: np.ndarray  # int64, 0 if unknown
    first_process_names: list[str]
    contents: list[str]
    mention_counts: np.ndarray  # float32
    first_seen: np.ndarray  # float64 epoch seconds: when it was first said (its first mention's original time)
    last_seen: np.ndarray  # float64 epoch seconds
    contradicted: np.ndarray  # bool
    fingerprints: np.ndarray  # int64 hash of (content hash, kind, owner) per memory row; 0 for triples
    comention_groups: np.ndarray  # int64 id of the exchange the row was first extracted from; 0 if none
    valid_to: np.ndarray  # float64 epoch seconds a later memory superseded it; NaN while current (validity.py)
    superseded_by: np.ndarray  # int64 id of the memory that superseded it; 0 if none
    has_claim: np.ndarray  # bool: states a claim, so it may supersede others
    sessions: np.ndarray  # int64 session of an episode's exchange; 0 for memories and triples
    vectors: VectorIndex
    lexical: BM25Index
    missing_embeddings: int  # rows stored without a vector of the current embedder (run `reembed`)
    build_ms: float = 0.0
    recent_mentions: RecentMentions = NO_RECENT_MENTIONS  # for handoffs (handoff.py), loaded with every version
    shared_mask: np.ndarray = field(init=False)
    newest_seen: float = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "shared_mask", self.owners == SHARED)
        object.__setattr__(self, "newest_seen", float(self.last_seen.max()) if self.last_seen.size else 0.0)

    @cached_property
    def is_superseded(self) -> np.ndarray:
        return ~np.isnan(self.valid_to)

    @cached_property
    def replacements(self) -> np.ndarray:
        """Each row's replacing memory as an index row; -1 if none (or not loaded)."""
        rows = np.full(self.size, -1, dtype=np.int64)
        superseded = np.flatnonzero(self.superseded_by)
        if superseded.size:
            rows[superseded] = self.memory_rows_of(self.superseded_by[superseded])
        return rows

    @cached_property
    def is_episode(self) -> np.ndarray:
        return self.kinds == EPISODE

    @cached_property
    def is_memory(self) -> np.ndarray:
        return memory_mask(self.kinds)

    @cached_property
    def _memory_ids_sorted(self) -> tuple[np.ndarray, np.ndarray]:
        memory_rows = np.flatnonzero(self.is_memory)
        order = np.argsort(self.ids[memory_rows], kind="stable")
        return self.ids[memory_rows][order], memory_rows[order]

    def memory_rows_of(self, memory_ids: np.ndarray) -> np.ndarray:
        """The index rows of the given memory ids; -1 for ids it does not hold."""
        sorted_ids, rows = self._memory_ids_sorted
        if not sorted_ids.size:
            return np.full(memory_ids.shape[0], -1, dtype=np.int64)
        positions = np.minimum(np.searchsorted(sorted_ids, memory_ids), sorted_ids.size - 1)
        return np.where(sorted_ids[positions] == memory_ids, rows[positions], -1)

    @property
    def size(self) -> int:
        return int(self.ids.shape[0])

    @property
    def nbytes(self) -> int:
        arrays = (
            self.ids,
            self.kinds,
            self.owners,
            self.first_process_ids,
            self.mention_counts,
            self.first_seen,
            self.last_seen,
            self.comention_groups,
            self.valid_to,
            self.superseded_by,
            self.sessions,
        )
        strings = sum(sys.getsizeof(text) for text in self.contents) + 8 * len(self.contents)
        return sum(array.nbytes for array in arrays) + strings + self.vectors.nbytes + self.lexical.nbytes

    def allowed_for(
        self, process_id: int | None, *, session_id: int | None = None, episodes: bool = True
    ) -> np.ndarray:
        """Rows the calling process may see: shared rows plus its own attributes, nothing else;
        episodes only with `episodes`, and never those of the caller's own session (`session_id`:
        its session history already holds them)."""
        allowed = self.shared_mask if process_id is None else self.shared_mask | (self.owners == process_id)
        if not episodes:
            return allowed & ~self.is_episode
        if session_id:
            return allowed & (self.sessions != session_id)
        return allowed

    def comentioned_with(self, row: int) -> np.ndarray:
        """The other rows extracted from the exchange `row` was first extracted from (none for rows
        written by hand, and none for or among episodes: an episode is that exchange itself). One
        vectorised comparison: cheap even at 100,000 rows."""
        group = self.comention_groups[row]
        if not group or self.is_episode[row]:
            return np.zeros(0, dtype=np.int64)
        rows = np.flatnonzero((self.comention_groups == group) & ~self.is_episode)
        return rows[rows != row]


REFRESH_MAX_NEW_SHARE = 0.25  # above this many new rows (share of the index), rebuild from scratch


def build_entity_index(key: IndexKey) -> EntityIndex:
    """Load every memory, triple and episode of the entity (three queries, co-mention groups
    included) and index them."""
    started = time.perf_counter()
    rows = load_rows(key.entity_id)
    return _new_index(key, rows, started)


def refresh_entity_index(old: EntityIndex, key: IndexKey) -> EntityIndex:
    """The index for a newer memory version, reusing `old` when the entity only gained rows.

    The common write is an augmentation job adding memories, mentions and an episode. A light scan
    (ids and content hashes only, no vectors) proves that every cached row still exists unchanged;
    then only the new rows are loaded, embedded rows appended and tokenized. An edit or a deletion
    (fingerprint mismatch, missing row) falls back to a full rebuild (episodes are never edited).
    Supersession changes the validity of existing rows: checked by key (validity.py). Mention
    counts and recency of existing rows are refreshed by full rebuilds only (they are light priors).
    """
    started = time.perf_counter()
    scanned = rows_of(
        Memory.objects.filter(entity_id=key.entity_id)
        .order_by()
        .values_list("id", "content_hash", "kind", "owner_process_id")
    )
    memory_ids = np.fromiter((row[0] for row in scanned), dtype=np.int64, count=len(scanned))
    fingerprints = np.fromiter((fingerprint(*row[1:]) for row in scanned), dtype=np.int64, count=len(scanned))
    triple_ids = _ids(Triple.objects.filter(entity_id=key.entity_id))
    episode_ids = _ids(Episode.objects.filter(entity_id=key.entity_id))
    is_memory, is_triple, is_episode = memory_mask(old.kinds), old.kinds == TRIPLE, old.is_episode
    unchanged = _all_present(old.ids[is_memory], old.fingerprints[is_memory], memory_ids, fingerprints)
    unchanged = unchanged and _all_present(old.ids[is_triple], None, triple_ids, None)
    unchanged = unchanged and _all_present(old.ids[is_episode], None, episode_ids, None)
    new_memory_ids = memory_ids[~np.isin(memory_ids, old.ids[is_memory])].tolist()
    new_triple_ids = triple_ids[~np.isin(triple_ids, old.ids[is_triple])].tolist()
    new_episode_ids = episode_ids[~np.isin(episode_ids, old.ids[is_episode])].tolist()
    new_count = len(new_memory_ids) + len(new_triple_ids) + len(new_episode_ids)
    if not unchanged or new_count > max(REFRESH_MAX_NEW_SHARE * old.size, 1000):
        return build_entity_index(key)
    if not new_count:
        recent = load_recent_mentions(key.entity_id, old.ids, old.kinds)
        index = dataclasses.replace(old, key=key, recent_mentions=recent)
    else:
        rows = load_rows(
            key.entity_id,
            memory_ids=sorted(new_memory_ids),
            triple_ids=sorted(new_triple_ids),
            episode_ids=sorted(new_episode_ids),
        )
        index = _appended(old, key, rows, started)
    claims = [row[0] for row in rows if row[HAS_CLAIM]] if new_count else []
    changes = validity_changes(index, claims)
    index = dataclasses.replace(index, **(changes or {}), build_ms=(time.perf_counter() - started) * 1000)
    return with_episode_validity(index)


def with_episode_validity(index: EntityIndex) -> EntityIndex:
    """`index` with its episodes marked superseded as the memories first extracted from their
    exchange are (validity.py), derived anew after every build and refresh."""
    derived = episode_validity(index)
    return dataclasses.replace(index, **derived) if derived else index


def _ids(queryset) -> np.ndarray:
    rows = rows_of(queryset.order_by().values_list("id"))
    return np.fromiter((row[0] for row in rows), dtype=np.int64, count=len(rows))


def _all_present(ids: np.ndarray, values: np.ndarray | None, found_ids: np.ndarray, found: np.ndarray | None) -> bool:
    """Every one of `ids` is among `found_ids`, and (if given) with the same value: the cached
    rows are all still there, unchanged. Vectorised: cheap even at 100,000 rows."""
    if not ids.size:
        return True
    order = np.argsort(found_ids)
    positions = np.minimum(np.searchsorted(found_ids, ids, sorter=order), max(found_ids.size - 1, 0))
    if not found_ids.size or not np.array_equal(found_ids[order[positions]], ids):
        return False
    return values is None or np.array_equal(found[order[positions]], values)


def _new_index(key: IndexKey, rows: list, started: float) -> EntityIndex:
    columns = columns_of(rows, key.embedder)
    matrix = columns.pop("matrix")
    index = EntityIndex(
        key=key,
        **columns,
        vectors=new_vector_index(matrix),
        lexical=BM25Index(columns["contents"]),
        recent_mentions=load_recent_mentions(key.entity_id, columns["ids"], columns["kinds"]),
        build_ms=(time.perf_counter() - started) * 1000,
    )
    return with_episode_validity(index)


def _appended(old: EntityIndex, key: IndexKey, rows: list, started: float) -> EntityIndex:
    new = columns_of(rows, key.embedder)
    matrix = new.pop("matrix")
    merged = {}
    for name, value in new.items():
        previous = getattr(old, name)
        if name == "missing_embeddings":
            merged[name] = previous + value
        elif isinstance(value, list):
            merged[name] = previous + value
        else:
            merged[name] = np.concatenate([previous, value])
    return EntityIndex(
        key=key,
        **merged,
        vectors=old.vectors.appended(matrix),
        lexical=old.lexical.extended(new["contents"]),
        recent_mentions=load_recent_mentions(key.entity_id, merged["ids"], merged["kinds"]),
        build_ms=(time.perf_counter() - started) * 1000,
    )


class RecallCache:
    """Process-wide LRU of entity indexes. Lookups hold a lock only for dictionary work; a build
    holds the entity's own lock, so concurrent recalls of one entity build it once."""

    def __init__(self, *, max_entities: int, max_rows: int) -> None:
        self.max_entities = max_entities
        self.max_rows = max_rows
        self._entries: OrderedDict[int, EntityIndex] = OrderedDict()
        self._build_locks: dict[int, threading.Lock] = {}
        self._lock = threading.Lock()
        self.hits = 0
        self.builds = 0

    def get(self, key: IndexKey, build: Callable[[IndexKey], EntityIndex] = build_entity_index) -> EntityIndex:
        index = self._current(key)
        if index is not None:
            return index
        with self._lock:
            build_lock = self._build_locks.setdefault(key.entity_id, threading.Lock())
        with build_lock:
            index = self._current(key)  # another thread may have built it while we waited
            if index is None:
                with self._lock:
                    previous = self._entries.get(key.entity_id)
                if previous is not None and _same_space(previous.key, key) and build is build_entity_index:
                    index = refresh_entity_index(previous, key)
                else:
                    index = build(key)
                self._store(index)
        return index

    def _current(self, key: IndexKey) -> EntityIndex | None:
        with self._lock:
            index = self._entries.get(key.entity_id)
            if index is None or index.key != key:
                return None
            self._entries.move_to_end(key.entity_id)
            self.hits += 1
            return index

    def _store(self, index: EntityIndex) -> None:
        with self._lock:
            self.builds += 1
            self._entries[index.key.entity_id] = index
            self._entries.move_to_end(index.key.entity_id)
            rows = sum(entry.size for entry in self._entries.values())
            while len(self._entries) > 1 and (len(self._entries) > self.max_entities or rows > self.max_rows):
                entity_id, evicted = self._entries.popitem(last=False)
                self._build_locks.pop(entity_id, None)
                rows -= evicted.size

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def stats(self) -> dict:
        with self._lock:
            return {
                "entities": len(self._entries),
                "rows": sum(entry.size for entry in self._entries.values()),
                "bytes": sum(entry.nbytes for entry in self._entries.values()),
                "hits": self.hits,
                "builds": self.builds,
            }


def _same_space(old: IndexKey, new: IndexKey) -> bool:
    """Same entity row and embedder, so only the memory version moved: refreshable."""
    return (old.entity_id, old.entity_created_at, old.embedder) == (new.entity_id, new.entity_created_at, new.embedder)


_cache: RecallCache | None = None
_cache_lock = threading.Lock()


def recall_cache() -> RecallCache:
    global _cache
    if _cache is None:
        with _cache_lock:
            if _cache is None:
                configured = recall_settings()
                _cache = RecallCache(max_entities=configured.cache_entities, max_rows=configured.cache_rows)
    return _cache
