"""Recent mentions of an entity's memories, loaded with its cached index, for handoffs (handoff.py).

One query per index build or refresh (every write refreshes the index), served by the provenance
index (entity, -mentioned_at): the mentions within `MEMORI_RECALL_HANDOFF_SECONDS` at load time,
newest first. They are a superset of the mentions still recent at any later recall of the same
memory version (the window only moves forward, and a new mention is a write, hence a new version),
so filtering them by time at recall is exact and a warm recall reads nothing more.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import numpy as np
from django.conf import settings
from django.utils import timezone

from memory.models import Provenance
from memory.recall.rows import TRIPLE, memory_mask

LOADED_MENTIONS = 2000  # newest recent mentions kept with an index: a burst bigger than this is cut


def window_seconds() -> float:
    return float(getattr(settings, "MEMORI_RECALL_HANDOFF_SECONDS", 600))


@dataclass(frozen=True)
class RecentMentions:
    """Mentions of the index's rows within the handoff window when the index was loaded, newest first."""

    rows: np.ndarray  # int64 index rows
    process_ids: np.ndarray  # int64 mentioning process
    times: np.ndarray  # float64 epoch seconds
    process_names: dict[int, str]

    @property
    def size(self) -> int:
        return int(self.rows.shape[0])


NO_RECENT_MENTIONS = RecentMentions(
    rows=np.zeros(0, dtype=np.int64),
    process_ids=np.zeros(0, dtype=np.int64),
    times=np.zeros(0, dtype=np.float64),
    process_names={},
)


def load_recent_mentions(entity_id: int, ids: np.ndarray, kinds: np.ndarray) -> RecentMentions:
    """The entity's mentions within the handoff window, mapped to index rows (`ids`, `kinds` as
    in the index; episodes have no mentions). One query, served by the (entity, -mentioned_at)
    provenance index."""
    window = window_seconds()
    if window <= 0 or not ids.size:
        return NO_RECENT_MENTIONS
    since = timezone.now() - timedelta(seconds=window)
    mentions = list(
        Provenance.objects.filter(entity_id=entity_id, mentioned_at__gte=since)
        .order_by("-mentioned_at")
        .values_list("memory_id", "triple_id", "process_id", "process__external_id", "mentioned_at")[:LOADED_MENTIONS]
    )
    if not mentions:
        return NO_RECENT_MENTIONS
    rows_of = {}
    for triple, wanted in ((False, {m[0] for m in mentions if m[0]}), (True, {m[1] for m in mentions if m[1]})):
        if wanted:
            of_kind = kinds == TRIPLE if triple else memory_mask(kinds)
            found = np.flatnonzero(np.isin(ids, list(wanted)) & of_kind)
            rows_of.update(((triple, int(ids[row])), int(row)) for row in found)
    kept = [
        (rows_of[key], process_id, mentioned_at.timestamp())
        for memory_id, triple_id, process_id, _, mentioned_at in mentions
        if (key := (True, triple_id) if triple_id else (False, memory_id)) in rows_of
    ]
    if not kept:
        return NO_RECENT_MENTIONS
    rows, process_ids, times = zip(*kept, strict=True)
    return RecentMentions(
        rows=np.asarray(rows, dtype=np.int64),
        process_ids=np.asarray(process_ids, dtype=np.int64),
        times=np.asarray(times, dtype=np.float64),
        process_names={process_id: name for _, _, process_id, name, _ in mentions},
    )
