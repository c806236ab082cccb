"""Handoffs: what other processes of the entity contributed in the last few minutes is recalled
even when it shares no word or meaning with the query.

Four agents research in parallel and a fifth asks to "Synthesize all research findings into
strategic recommendations." (seed sample uc4). While their exchanges are being augmented, recall
serves them raw as pending work; once augmented, only relevance decides, and "Evaluate vector
database options" is not close enough to that query to pass the score threshold: the synthesis
agent would miss that agent's work exactly when it needs it.

So recall admits, besides the ranked results, memories whose latest mention by ANOTHER process is
within `MEMORI_RECALL_HANDOFF_SECONDS` (recent.py loads those mentions with the cached index):
newest first, at most `PER_PROCESS` per process, at most `LIMIT` and half the request's limit in
all, taking the places of the lowest-ranked results beyond that half. They are shown in a section
of their own with a bounded share of the token budget (block.py) and recorded with their scores and
`via` "handoff from <process>". Rows that are results already, or near-duplicates of results, are
not admitted; the caller's own mentions do not count; attributes never qualify (another process's
are never visible, the caller's own are its own work), nor do superseded memories (their
replacement is the news). Imported history (LoCoMo's 2023 conversations) has no recent mentions
and is untouched.
"""

from __future__ import annotations

from dataclasses import dataclass

from memory.recall.index import EntityIndex
from memory.recall.ranking import Ranked, is_near_duplicate
from memory.recall.recent import window_seconds

PER_PROCESS = 3  # newest memories admitted per other process
LIMIT = 8  # at most this many in all (and at most half the request's limit)
VIA_PREFIX = "handoff from "


@dataclass(frozen=True)
class Handoff:
    row: int
    process_name: str  # the other process whose latest recent mention admitted the row


def handoff_candidates(index: EntityIndex, *, caller_process_id: int | None, now: float) -> list[Handoff]:
    """Rows other processes mentioned within the window, by their latest such mention, newest
    first, at most `PER_PROCESS` per process; shared rows only. Reads no database."""
    recent = index.recent_mentions
    if not recent.size:
        return []
    fresh = (recent.times >= now - window_seconds()) & (recent.process_ids != (caller_process_id or -1))
    candidates: list[Handoff] = []
    seen: set[int] = set()
    per_process: dict[int, int] = {}
    for row, process_id in zip(recent.rows[fresh].tolist(), recent.process_ids[fresh].tolist(), strict=True):
        if row in seen:
            continue
        seen.add(row)  # only a row's latest mention by another process decides
        if not index.shared_mask[row]:  # an attribute (a database constraint: attribute iff owned)
            continue
        if index.is_superseded[row]:  # replaced since: its replacement is the news
            continue
        if per_process.get(process_id, 0) >= PER_PROCESS:
            continue
        per_process[process_id] = per_process.get(process_id, 0) + 1
        candidates.append(Handoff(row=row, process_name=recent.process_names.get(process_id, "")))
    return candidates


def admit_handoffs(
    index: EntityIndex, ranked: list[Ranked], candidates: list[Handoff], *, limit: int
) -> tuple[list[Ranked], list[Handoff]]:
    """The ranked results to keep and the handoffs admitted, together at most `limit` (`ranked`
    may hold more: the best of them are kept).

    The first `limit - places` results are kept whatever happens (`places`: at most `LIMIT` and
    half the limit); handoffs that are neither among them nor near-duplicates of them take the
    remaining places first, newest first; results beyond fill what is left."""
    places = min(LIMIT, limit // 2)
    if not candidates or places <= 0:
        return ranked[:limit], []
    kept = ranked[: limit - places]
    taken = {r.row for r in kept}
    kept_rows = [r.row for r in kept]
    admitted: list[Handoff] = []
    for candidate in candidates:
        if len(admitted) >= places:
            break
        if candidate.row in taken or is_near_duplicate(index, candidate.row, kept_rows):
            continue
        admitted.append(candidate)
        taken.add(candidate.row)
        kept_rows.append(candidate.row)
    admitted_rows = [h.row for h in admitted]
    for result in ranked[limit - places :]:
        if len(kept) + len(admitted) >= limit:
            break
        if result.row not in taken and not is_near_duplicate(index, result.row, admitted_rows):
            kept.append(result)
    return kept, admitted
