"""Recent mentions of an entity's memories, loaded with its cached index, for handoffs (handoff.py)
and for the fresh-findings prior of ranking (`fresh_findings`).

**Fresh findings.** What another process of the entity found in the last hours is more likely what
the caller needs than older memories that share a word with its question: agents hand work on,
and the next one asks in its own words ("Why did paying become slower for shoppers in Germany?"
for "Checkout latency doubled after the CDN provider changed its Frankfurt edge."). Within the
handoff window such work is admitted without matching at all (handoff.py), in turns with the
other processes' (a relevance prior there would let it crowd them out of those turns); beyond it,
its advantage fades: a memory whose latest mention by ANOTHER process is `age` seconds old gets
`MEMORI_RECALL_FRESH_WEIGHT` x 2^(-age / `MEMORI_RECALL_FRESH_HALF_LIFE_SECONDS`) added to its
fused score, and to its cosine where the relevance threshold is applied (ranking.py), so that a
fresh finding needs less evidence of relevance than an old one. The caller's own mentions do not
count (its own work is in its history), nor do attributes or superseded memories (as for
handoffs); imported history keeps its original times, so it is never fresh.

One query per index build or refresh (every write refreshes the index), served by the provenance
index (entity, -mentioned_at): the mentions within the handoff window or `FRESH_HALF_LIVES`
half-lives, whichever is longer, at load time, newest first. They are a superset of the mentions
still recent at any later recall of the same memory version (the window only moves forward, and a
new mention is a write, hence a new version), so filtering them by time at recall is exact and a
warm recall reads nothing more.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import numpy as np
from django.utils import timezone

from memory.models import Provenance
from memory.recall.config import recall_settings
from memory.recall.rows import TRIPLE, memory_mask

LOADED_MENTIONS = 2000  # newest recent mentions kept with an index: a burst bigger than this is cut
FRESH_HALF_LIVES = 6  # mentions older than this many half-lives are not loaded for the prior (< 2% of it)


def window_seconds() -> float:
    return recall_settings().handoff_seconds


def fresh_weight() -> float:
    return recall_settings().fresh_weight


def fresh_half_life() -> float:
    return recall_settings().fresh_half_life_seconds


def loaded_seconds() -> float:
    """How far back mentions are loaded: the handoff window, or the fresh prior's horizon."""
    fresh = fresh_half_life() * FRESH_HALF_LIVES if fresh_weight() > 0 else 0.0
    return max(window_seconds(), fresh)


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
    window = loaded_seconds()
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


@dataclass(frozen=True)
class FreshFindings:
    """Rows other processes mentioned lately, with the prior each gets (ranking.py)."""

    rows: np.ndarray  # int64 index rows, each once
    bonus: np.ndarray  # float32

    def of(self, rows: np.ndarray, size: int) -> np.ndarray:
        """The bonus of each of `rows` (0 for rows that are not fresh); `size`: the index's."""
        if not self.rows.size:
            return np.zeros(rows.size, dtype=np.float32)
        every = np.zeros(size, dtype=np.float32)
        every[self.rows] = self.bonus
        return every[rows]


NO_FRESH_FINDINGS = FreshFindings(rows=np.zeros(0, dtype=np.int64), bonus=np.zeros(0, dtype=np.float32))


def fresh_findings(index, *, caller_process_id: int | None, now: float) -> FreshFindings:
    """The prior of the rows whose latest mention by another process is recent (see the module's
    docstring); shared, current rows only. Reads no database."""
    weight, recent = fresh_weight(), index.recent_mentions
    if weight <= 0 or not recent.size:
        return NO_FRESH_FINDINGS
    horizon = now - fresh_half_life() * FRESH_HALF_LIVES
    others = (recent.process_ids != (caller_process_id or -1)) & (recent.times >= horizon)
    rows, first = np.unique(recent.rows[others], return_index=True)  # mentions are newest first
    if not rows.size:
        return NO_FRESH_FINDINGS
    ages = np.maximum(now - recent.times[others][first], 0.0)
    kept = index.shared_mask[rows] & ~index.is_superseded[rows] & (ages > window_seconds())
    bonus = (weight * np.exp2(-ages[kept] / fresh_half_life())).astype(np.float32)
    return FreshFindings(rows=rows[kept], bonus=bonus)
