"""An entity's memories, triples and episodes as the recall index holds them: one tuple per row,
loaded in one pass (co-mention group, validity, claim flag and an episode's session included), and
turned into columns.

The index (index.py) builds from these, and refreshes by loading only new rows the same way.
"""

from __future__ import annotations

import math

import numpy as np
from django.db.models import OuterRef, Q, Subquery

from memory.embedding import from_bytes, get_embedder
from memory.models import Episode, Memory, Provenance, Triple
from memory.recall.validity import epoch

# Row kinds, as small integer codes in the index.
KINDS = ("fact", "preference", "skill", "attribute", "triple", "episode")
KIND_CODE = {kind: code for code, kind in enumerate(KINDS)}
TRIPLE = KIND_CODE["triple"]
ATTRIBUTE = KIND_CODE["attribute"]
EPISODE = KIND_CODE["episode"]
SHARED = 0  # owner process id of rows every process of the entity may see


def memory_mask(kinds: np.ndarray) -> np.ndarray:
    """Which rows are memories (facts, preferences, skills, attributes): not triples nor episodes."""
    return kinds < TRIPLE


_COLUMNS = (
    "id",
    "content",
    "embedding",
    "embedding_model",
    "mention_count",
    "last_seen_at",
    "first_process_id",
    "first_process__external_id",
    "is_contradicted",
    "first_seen_at",
)
_VALIDITY = ("valid_to", "superseded_by_id", "has_claim")  # memories only (validity.py)
_ID_CHUNK = 500


def fingerprint(content_hash: str, kind: str, owner: int | None) -> int:
    return hash((content_hash, kind, owner or SHARED)) or 1


def _first_exchange(target: str) -> Subquery:
    """The exchange a memory or triple was first extracted from: its co-mention group. Fixed once
    written (later mentions add provenance, never an earlier one), so appended rows stay exact."""
    mentions = Provenance.objects.filter(**{target: OuterRef("pk")}, exchange_id__isnull=False)
    return Subquery(mentions.order_by("exchange_id").values("exchange_id")[:1])


def load_rows(
    entity_id: int,
    *,
    memory_ids: list[int] | None = None,
    triple_ids: list[int] | None = None,
    episode_ids: list[int] | None = None,
) -> list:
    """Rows as tuples: the _COLUMNS, then kind code, owner, fingerprint, co-mention group, validity,
    claim flag and session (an episode's; 0 for the others). All of the entity's rows, or only the
    given ids (in chunks, within every database's parameter limit). The co-mention group comes in
    the same query as the row (a correlated subquery on provenance). An episode is said once, by
    its exchange's process, when the exchange took place; its group is its exchange (validity.py
    marks it stale with the memories first extracted from it)."""
    memory_rows = (
        Memory.objects.filter(entity_id=entity_id)
        .order_by()
        .annotate(group=_first_exchange("memory_id"), has_claim=~Q(claim_subject=""))
    )
    triple_rows = Triple.objects.filter(entity_id=entity_id).order_by().annotate(group=_first_exchange("triple_id"))
    memory_columns = (*_COLUMNS, "kind", "owner_process_id", "content_hash", "group", *_VALIDITY)
    triple_columns = (*_COLUMNS, "group")
    episode_rows = Episode.objects.filter(entity_id=entity_id).order_by()
    if memory_ids is None:
        memories = list(memory_rows.values_list(*memory_columns).iterator(chunk_size=5000))
        triples = list(triple_rows.values_list(*triple_columns).iterator(chunk_size=5000))
        episodes = list(episode_rows.values_list(*_EPISODE_COLUMNS).iterator(chunk_size=5000))
    else:
        memories = _by_ids(memory_rows, memory_columns, memory_ids)
        triples = _by_ids(triple_rows, triple_columns, triple_ids or [])
        episodes = _by_ids(episode_rows, _EPISODE_COLUMNS, episode_ids or [])
    width = len(_COLUMNS)
    rows = [
        (
            *row[:width],
            KIND_CODE.get(row[width], 0),
            row[width + 1] or SHARED,
            fingerprint(row[width + 2], row[width], row[width + 1]),
            row[width + 3] or 0,
            epoch(row[width + 4]),
            row[width + 5] or 0,
            bool(row[width + 6]),
            0,
        )
        for row in memories
    ]
    rows += [(*row[:width], TRIPLE, SHARED, 0, row[width] or 0, math.nan, 0, False, 0) for row in triples]
    rows += [
        (pk, content, embedding, model, 1, at, process_id, process_name, False, at)
        + (EPISODE, SHARED, 0, exchange_id, math.nan, 0, False, session_id)
        for pk, content, embedding, model, at, process_id, process_name, session_id, exchange_id in episodes
    ]
    return rows


_EPISODE_COLUMNS = (
    "id",
    "content",
    "embedding",
    "embedding_model",
    "occurred_at",
    "process_id",
    "process__external_id",
    "session_id",
    "exchange_id",
)


def _by_ids(queryset, columns: tuple[str, ...], ids: list[int]) -> list[tuple]:
    rows: list[tuple] = []
    for start in range(0, len(ids), _ID_CHUNK):
        rows += queryset.filter(id__in=ids[start : start + _ID_CHUNK]).values_list(*columns)
    return rows


# After the _COLUMNS in a row:
_KIND, _OWNER, _FINGERPRINT, _GROUP, _VALID_TO, _SUPERSEDED_BY, HAS_CLAIM, _SESSION = range(
    len(_COLUMNS), len(_COLUMNS) + 8
)


def columns_of(rows: list, embedder_name: str) -> dict:
    count = len(rows)
    matrix, missing = _embedding_matrix([row[2] for row in rows], [row[3] for row in rows], embedder_name)
    return {
        "ids": np.fromiter((row[0] for row in rows), dtype=np.int64, count=count),
        "kinds": np.fromiter((row[_KIND] for row in rows), dtype=np.int8, count=count),
        "owners": np.fromiter((row[_OWNER] for row in rows), dtype=np.int64, count=count),
        "first_process_ids": np.fromiter((row[6] or 0 for row in rows), dtype=np.int64, count=count),
        "first_process_names": [row[7] or "" for row in rows],
        "contents": [row[1] for row in rows],
        "mention_counts": np.fromiter((row[4] for row in rows), dtype=np.float32, count=count),
        "first_seen": np.fromiter((row[9].timestamp() for row in rows), dtype=np.float64, count=count),
        "last_seen": np.fromiter((row[5].timestamp() for row in rows), dtype=np.float64, count=count),
        "contradicted": np.fromiter((bool(row[8]) for row in rows), dtype=bool, count=count),
        "fingerprints": np.fromiter((row[_FINGERPRINT] for row in rows), dtype=np.int64, count=count),
        "comention_groups": np.fromiter((row[_GROUP] for row in rows), dtype=np.int64, count=count),
        "valid_to": np.fromiter((row[_VALID_TO] for row in rows), dtype=np.float64, count=count),
        "superseded_by": np.fromiter((row[_SUPERSEDED_BY] for row in rows), dtype=np.int64, count=count),
        "has_claim": np.fromiter((row[HAS_CLAIM] for row in rows), dtype=bool, count=count),
        "sessions": np.fromiter((row[_SESSION] for row in rows), dtype=np.int64, count=count),
        "matrix": matrix,
        "missing_embeddings": missing,
    }


def _embedding_matrix(blobs: list, models: list[str], embedder_name: str) -> tuple[np.ndarray, int]:
    """Stack stored vectors into one float32 matrix; rows from another embedder stay zero."""
    dims = get_embedder().dimensions
    width = dims * 4
    usable = [i for i, (blob, model) in enumerate(zip(blobs, models, strict=True)) if blob and model == embedder_name]
    usable = [i for i in usable if len(blobs[i]) == width]
    matrix = np.zeros((len(blobs), dims), dtype=np.float32)
    if usable:
        packed = b"".join(bytes(blobs[i]) for i in usable)
        matrix[usable] = from_bytes(packed, dims * len(usable)).reshape(len(usable), dims)
    return matrix, len(blobs) - len(usable)
