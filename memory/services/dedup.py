"""Near-duplicate memories: same meaning, different wording, merged into one row.

Exact duplicates never get this far (the database's unique content hash catches them). Here a new
memory is compared with the entity's existing memories of the same kind (and, for attributes, the
same owner process) by the cosine of their stored embeddings; at or above
``MEMORI_DEDUP_SIMILARITY`` it is merged, i.e. recorded as one more mention of the existing memory.

Embeddings alone are not enough to say "same meaning": a bag of token vectors scores "We use
PostgreSQL" and "We do not use PostgreSQL" at 0.97, and words of scripts the embedder barely knows
(Cyrillic, much of CJK) collapse onto a few shared pieces. So a merge also needs the same content
words on both sides (up to inflection), the same numbers and the same negation. A missed merge
costs a near-duplicate row; a wrong merge loses a fact.

Each worker process keeps the entity's vectors in memory and only loads rows newer than the last
one it saw (ids grow), so a job costs one small query here, not a scan of the entity.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np
from django.db.models import Q

from memory.extraction.normalize import normalize_text
from memory.models import Memory

MAX_CACHED_ENTITIES = 256
LATE_COMMIT_WINDOW = 500

_WORD = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\u0e00-\u0e7f]|[^\W_]+", re.UNICODE)
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_NEGATION = re.compile(
    r"\b(?:not|no|never|none|nobody|nothing|neither|nor|without|cannot|нет|не|ни|никогда)\b|n't\b|[不没別别無无]"
)
_STOPWORDS = frozenset(
    "a an the our my your their his her its this that these those is are was were be been being am to of for in on "
    "at by with and or also just very really we i you they he she it us me them".split()
)


@dataclass
class _EntityVectors:
    last_id: int = 0
    model: str = ""
    ids: list[int] = field(default_factory=list)
    known: set[int] = field(default_factory=set)
    groups: list[tuple[str, int | None]] = field(default_factory=list)  # (kind, owner process id)
    vectors: list[np.ndarray] = field(default_factory=list)
    _matrix: np.ndarray | None = None

    def matrix(self) -> np.ndarray:
        if self._matrix is None or len(self._matrix) != len(self.vectors):
            self._matrix = np.vstack(self.vectors) if self.vectors else np.zeros((0, 1), dtype=np.float32)
        return self._matrix

    def add(self, memory_id: int, group: tuple[str, int | None], vector: np.ndarray) -> None:
        """Add a memory this process just wrote. ``last_id`` is not advanced: rows other workers
        wrote meanwhile may have smaller ids and must still be loaded by the next refresh."""
        if memory_id in self.known:
            return
        self.known.add(memory_id)
        self.ids.append(memory_id)
        self.groups.append(group)
        self.vectors.append(vector)


_lock = threading.Lock()
_cache: OrderedDict[int, _EntityVectors] = OrderedDict()


def entities_vectors(entity_ids: list[int], model: str, dims: int) -> dict[int, _EntityVectors]:
    """Several entities' vectors at once (a batch of jobs), refreshed in two queries in all."""
    with _lock:
        found: dict[int, _EntityVectors] = {}
        for entity_id in entity_ids:
            cached = _cache.pop(entity_id, None)
            if cached is None or cached.model != model:
                cached = _EntityVectors(model=model)
            _cache[entity_id] = found[entity_id] = cached
        while len(_cache) > MAX_CACHED_ENTITIES:
            _cache.popitem(last=False)
    # Ids are handed out at insert, not at commit: a concurrent transaction may commit a smaller id
    # after a larger one was seen. Looking back a window of ids catches those late rows.
    # Entities seen before ask for one short range of recent ids (the primary key's index);
    # entities new to this process load all their ids (their entity index).
    warm = [entity_id for entity_id, cached in found.items() if cached.last_id]
    cold = [entity_id for entity_id, cached in found.items() if not cached.last_id]
    newer = Q(entity_id__in=cold)
    if warm:
        since = min(found[entity_id].last_id for entity_id in warm) - LATE_COMMIT_WINDOW
        newer |= Q(entity_id__in=warm, pk__gt=since)
    recent = Memory.objects.filter(newer, embedding_model=model).values_list("pk", "entity_id")
    new_ids = [pk for pk, entity_id in recent if pk not in found[entity_id].known]
    if new_ids:
        rows = (
            Memory.objects.filter(pk__in=new_ids)
            .order_by("pk")
            .values_list("pk", "entity_id", "kind", "owner_process_id", "embedding")
        )
        for memory_id, entity_id, kind, owner_id, blob in rows:
            cached = found[entity_id]
            if blob is not None and len(blob) == dims * 4:
                cached.add(memory_id, (kind, owner_id), np.frombuffer(bytes(blob), dtype="<f4").astype(np.float32))
            cached.last_id = max(cached.last_id, memory_id)
    return found


def forget_entities(entity_ids) -> None:
    """Drop these entities' cached vectors (after a rolled-back batch, whose ids may be reused)."""
    with _lock:
        for entity_id in entity_ids:
            _cache.pop(entity_id, None)


def forget_all() -> None:
    with _lock:
        _cache.clear()


def nearest(vectors: _EntityVectors, queries: np.ndarray, *, limit: int, min_score: float = 0.0) -> list[list[int]]:
    """For each row of ``queries``: ids of the ``limit`` memories closest to it (any kind), best first.
    One matrix product for all the rows."""
    if not vectors.ids or not len(queries):
        return [[] for _ in range(len(queries))]
    scores = queries @ vectors.matrix().T
    found = []
    for row in scores:
        top = np.argpartition(-row, limit - 1)[:limit] if len(row) > limit else np.arange(len(row))
        top = top[np.argsort(-row[top])]
        found.append([vectors.ids[i] for i in top if row[i] >= min_score and row[i] > 0])
    return found


def near_duplicate_candidates(
    vectors: _EntityVectors, groups: list[tuple[str, int | None]], queries: np.ndarray, *, threshold: float
) -> list[list[int]]:
    """For each row of ``queries`` (and its (kind, owner process) group): stored memories of the same
    group whose cosine with it is >= threshold, best first. One matrix product for all the rows."""
    if not vectors.ids or not len(queries):
        return [[] for _ in range(len(queries))]
    scores = queries @ vectors.matrix().T
    found = []
    for group, row in zip(groups, scores, strict=True):
        hits = np.flatnonzero(row >= threshold)
        ranked = hits[np.argsort(-row[hits])]
        found.append([vectors.ids[i] for i in ranked if vectors.groups[i] == group])
    return found


def same_meaning(a: str, b: str) -> bool:
    """The lexical guard of a merge: same content words (up to inflection), numbers and negation."""
    words_a, words_b = _words(a), _words(b)
    if _NUMBER.findall(normalize_text(a)) != _NUMBER.findall(normalize_text(b)):
        return False
    if bool(_NEGATION.search(normalize_text(a))) != bool(_NEGATION.search(normalize_text(b))):
        return False
    content_a, content_b = words_a - _STOPWORDS, words_b - _STOPWORDS
    if not content_a or not content_b:
        return False
    return _all_matched(content_a, content_b) and _all_matched(content_b, content_a)


def _words(text: str) -> set[str]:
    return set(_WORD.findall(normalize_text(text)))


def _all_matched(words: set[str], others: set[str]) -> bool:
    return all(word in others or any(_same_stem(word, other) for other in others) for word in words)


def _same_stem(a: str, b: str) -> bool:
    """'token'/'tokens', 'use'/'uses'/'used', 'токен'/'токены': a shared prefix covering all but the
    inflection of the shorter word."""
    shorter = min(len(a), len(b))
    if shorter < 3:
        return False
    prefix = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        prefix += 1
    return prefix >= max(3, shorter - 1) and abs(len(a) - len(b)) <= 3
