"""Handoffs: what other processes of the entity contributed in the last few minutes is recalled
even when it shares no word or meaning with the query.

Four agents research in parallel and a fifth asks to "Synthesize all research findings into
strategic recommendations." (seed sample uc4). While their exchanges are being augmented, recall
serves them raw as pending work; once augmented, only relevance decides, and "Evaluate vector
database options" is not close enough to that query to pass the score threshold: the synthesis
agent would miss that agent's work exactly when it needs it.

So recall admits, besides the ranked results, memories whose latest mention by ANOTHER process is
within `MEMORI_RECALL_HANDOFF_SECONDS` (recent.py loads those mentions with the cached index).

Fair share, not fixed caps: the processes take turns (those without a line among the results
first, then the one that spoke last first), each giving its most salient remaining finding per
turn, until the places run out (half the request's limit): twelve parallel agents all get their
headline finding in before any gets a second one. Salient: memories before triples; what matches
the query's words first, best score first; then the newest exchange first, and within one the
best score (relevance plus the usual priors). The block then fits them in that order within their
share of the token budget, and in whatever room the relevant memories leave (block.py): the token
budget decides how many fit, not a count per process. There a first-round finding of a process
that a result line of the block already names waits for room left over, so that its place goes to
a process without a line yet.

Rows that are results already, or near-duplicates of results or of an admitted handoff, are not
admitted (diversity over near-repeats); the caller's own mentions do not count; attributes never
qualify (another process's are never visible, the caller's own are its own work), nor do
superseded memories (their replacement is the news). Admitted rows are recorded with their scores
and `via` "handoff from <process>". Imported history (LoCoMo's 2023 conversations) has no recent
mentions and is untouched.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from memory.recall.index import TRIPLE, EntityIndex
from memory.recall.ranking import Ranked, is_near_duplicate
from memory.recall.recent import window_seconds

VIA_PREFIX = "handoff from "

Scorer = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray, np.ndarray]]  # rows -> dense, lexical, fused


@dataclass(frozen=True)
class Handoff:
    row: int
    process_name: str  # the other process whose latest recent mention admitted the row
    at: float = 0.0  # that mention's time (epoch seconds)


def handoff_candidates(index: EntityIndex, *, caller_process_id: int | None, now: float) -> list[Handoff]:
    """Rows other processes mentioned within the window, by their latest such mention, newest
    first; shared and current rows only. Reads no database."""
    recent = index.recent_mentions
    if not recent.size:
        return []
    fresh = (recent.times >= now - window_seconds()) & (recent.process_ids != (caller_process_id or -1))
    candidates: list[Handoff] = []
    seen: set[int] = set()
    mentions = zip(
        recent.rows[fresh].tolist(), recent.process_ids[fresh].tolist(), recent.times[fresh].tolist(), strict=True
    )
    for row, process_id, at in mentions:
        if row in seen:
            continue
        seen.add(row)  # only a row's latest mention by another process decides
        if not index.shared_mask[row]:  # an attribute (a database constraint: attribute iff owned)
            continue
        if index.is_superseded[row]:  # replaced since: its replacement is the news
            continue
        candidates.append(Handoff(row=row, process_name=recent.process_names.get(process_id, ""), at=at))
    return candidates


def admit_handoffs(
    index: EntityIndex, ranked: list[Ranked], candidates: list[Handoff], *, limit: int, score: Scorer
) -> tuple[list[Ranked], list[Ranked]]:
    """The ranked results to keep and the handoffs admitted (in turn order), together at most
    `limit` (`ranked` may hold more: the best of them are kept).

    The first `limit - places` results are kept whatever happens (`places`: half the limit);
    handoffs that are neither among them nor near-duplicates of what is kept take the remaining
    places first, process by process in turns; results beyond fill what is left."""
    places = limit // 2
    if not candidates or places <= 0:
        return ranked[:limit], []
    kept = ranked[: limit - places]
    taken = {r.row for r in kept}
    kept_rows = [r.row for r in kept]
    admitted: list[Ranked] = []
    represented = {index.first_process_names[r.row] for r in kept}
    for turn in _turns(index, [c for c in candidates if c.row not in taken], score, represented):
        if len(admitted) >= places:
            break
        if turn.row in taken or is_near_duplicate(index, turn.row, kept_rows):
            continue
        admitted.append(turn)
        taken.add(turn.row)
        kept_rows.append(turn.row)
    admitted_rows = [h.row for h in admitted]
    for result in ranked[limit - places :]:
        if len(kept) + len(admitted) >= limit:
            break
        if result.row not in taken and not is_near_duplicate(index, result.row, admitted_rows):
            kept.append(result)
    return kept, admitted


def _turns(index: EntityIndex, candidates: list[Handoff], score: Scorer, represented: set[str]) -> list[Ranked]:
    """Every candidate as a scored result, in turn order: each process's most salient remaining
    finding per round; processes without a line among the kept results first, then in the order
    they last spoke (the candidates' order)."""
    if not candidates:
        return []
    dense, lexical, fused = score(np.asarray([c.row for c in candidates], dtype=np.int64))
    queues: dict[str, list[tuple[tuple, Ranked]]] = {}
    for c, d, lx, f in zip(candidates, dense.tolist(), lexical.tolist(), fused.tolist(), strict=True):
        matched = lx > 0
        salience = (index.kinds[c.row] == TRIPLE, not matched, -f if matched else 0.0, -c.at, -f)
        ranked = Ranked(row=c.row, dense=float(d), lexical=float(lx), fused=float(f), handoff_from=c.process_name)
        queues.setdefault(c.process_name, []).append((salience, ranked))
    for queue in queues.values():
        queue.sort(key=lambda pair: pair[0])
    queues = dict(sorted(queues.items(), key=lambda item: item[0] in represented))  # stable: recency kept
    order: list[Ranked] = []
    for round_ in range(max(len(queue) for queue in queues.values())):
        order += [queue[round_][1] for queue in queues.values() if round_ < len(queue)]
    return order


def first_round(index: EntityIndex, handoffs: Sequence) -> int:
    """How many handoffs lead the turn order with each a different process's first finding."""
    seen: set[str] = set()
    for position, candidate in enumerate(handoffs):
        name = index.first_process_names[candidate.row]
        if name in seen:
            return position
        seen.add(name)
    return len(handoffs)
