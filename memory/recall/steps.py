"""The steps of one recall after the request is resolved, each with a typed input and output:
index → rank → handoffs → pending → render (memory/services/recall.py resolves the request first
and records the event last).

The one case that goes back a step: a job may finish between the read of the entity (which gave
the index's memory version) and the read of the pending jobs. Its exchange is then no longer
pending, so its memories must be in the index searched, or that handoff would fall in the gap:
`pending` says when the index moved (`Pending.moved_to`), and the caller ranks again on the
index of that version (`index_at`).
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass

import numpy as np

from memory.embedding import Embedder
from memory.models import Entity
from memory.recall import block as blocks
from memory.recall.compose import block_lines, said_on, without_restated_triples, without_told_episodes
from memory.recall.context import NOTHING_PENDING, PendingJobs, PendingWork, pending_jobs, pending_work
from memory.recall.handoff import admit_handoffs, first_round, handoff_candidates
from memory.recall.hits import RecalledItem
from memory.recall.index import ATTRIBUTE, EPISODE, KINDS, TRIPLE, EntityIndex, IndexKey, recall_cache
from memory.recall.pending_updates import outdated_note, outdated_rows
from memory.recall.ranking import Ranked, rank, scores_of
from memory.recall.recent import FreshFindings, fresh_findings

RANKED_EXTRA = 0.5  # results ranked beyond the limit, per place: refill the places of left-out restated triples


@dataclass(frozen=True)
class Call:
    """A resolved recall request: who asks what, and the shape of the answer."""

    entity: Entity  # with `session_pk` and `has_pending` (services/recall.py reads them with it)
    process_pk: int | None  # the calling process; None for a read-only key's unknown process
    query: str
    budget: int  # tokens
    limit: int  # items
    handoff_share: float
    episode_share: float
    episodes: bool
    include_pending: bool


@dataclass(frozen=True)
class Searchable:
    """The index searched, the query's vector, and the rows the caller may see."""

    index: EntityIndex
    query_vector: np.ndarray | None
    allowed: np.ndarray


@dataclass(frozen=True)
class Ranking:
    """The ranked results, with what the handoffs step scores its candidates with."""

    results: list[Ranked]
    fresh: FreshFindings
    now: float


@dataclass(frozen=True)
class Pending:
    jobs: PendingJobs
    moved_to: int | None  # the entity's newer memory version when the index searched is behind it


@dataclass(frozen=True)
class Rendered:
    block: blocks.Block
    items: list[RecalledItem]  # those in the block: results in rank order, then handoffs
    pending: list[PendingWork]  # those in the block


def index_at(call: Call, version: int, embedder: Embedder) -> Searchable:
    """The entity's cached index at `version` (built or refreshed if needed), without the query's
    vector yet (`with_query_vector`)."""
    entity = call.entity
    index = recall_cache().get(IndexKey(entity.pk, entity.created_at, version, embedder.name))
    # Episodes answer a question: not without one, and not the caller's own session's (its history).
    episodes = call.episodes and bool(call.query.strip())
    allowed = index.allowed_for(call.process_pk, session_id=entity.session_pk, episodes=episodes)
    return Searchable(index=index, query_vector=None, allowed=allowed)


def with_query_vector(searchable: Searchable, embedder: Embedder, query: str) -> Searchable:
    """The query embedded (none without words: ranking then goes by priors alone)."""
    vector = embedder.embed([query])[0] if query.strip() else None
    return dataclasses.replace(searchable, query_vector=vector)


def rank_results(call: Call, searchable: Searchable) -> Ranking:
    """The best rows for the query (a few more than the limit, to refill the places of left-out
    restated triples), fresh findings of other processes included."""
    index, now = searchable.index, time.time()
    fresh = fresh_findings(index, caller_process_id=call.process_pk, now=now)
    ranked = rank(
        index,
        query=call.query,
        query_vector=searchable.query_vector,
        allowed=searchable.allowed,
        caller_process_id=call.process_pk,
        limit=call.limit + int(call.limit * RANKED_EXTRA) + 1,
        fresh=fresh,
    )
    return Ranking(results=without_restated_triples(index, ranked), fresh=fresh, now=now)


def with_handoffs(call: Call, searchable: Searchable, ranking: Ranking) -> list[Ranked]:
    """The results kept, then other processes' recent findings admitted in turns (handoff.py),
    together at most the limit; no episode the handoffs already tell, no triple restated."""
    index = searchable.index
    candidates = handoff_candidates(index, caller_process_id=call.process_pk, now=ranking.now)

    def score(rows):
        return scores_of(
            index,
            rows,
            query=call.query,
            query_vector=searchable.query_vector,
            caller_process_id=call.process_pk,
            fresh=ranking.fresh,
        )

    ranked, handoffs = admit_handoffs(index, ranking.results, candidates, limit=call.limit, score=score)
    ranked = without_told_episodes(index, ranked, told_before=handoffs)
    return ranked + without_restated_triples(index, handoffs, stated_before=ranked)


def pending(call: Call, searchable: Searchable) -> Pending:
    """The entity's unfinished jobs, read only when the entity said it has some, and whether the
    memory version moved since the entity was read (the jobs' query reads it in the same snapshot;
    if no job was left, it is read once more)."""
    if not call.entity.has_pending:
        return Pending(jobs=NOTHING_PENDING, moved_to=None)
    jobs = pending_jobs(entity_id=call.entity.pk, caller_process_id=call.process_pk)
    version = jobs.memory_version
    if version is None:
        version = Entity.objects.filter(pk=call.entity.pk).values_list("memory_version", flat=True).first()
    moved = version is not None and version != searchable.index.key.memory_version
    return Pending(jobs=jobs, moved_to=version if moved else None)


def served_pending(call: Call, jobs: PendingJobs) -> list[PendingWork]:
    return pending_work(jobs.of_others) if call.include_pending else []


def render(call: Call, searchable: Searchable, items: list[RecalledItem], work: list[PendingWork]) -> Rendered:
    """The block within the budget (block.py), and the items and pending work it holds. A memory
    that pending work gives a newer value of is marked and laid out after that work
    (pending_updates.py): the block is laid out again when there is one."""
    index = searchable.index
    handoffs = [item for item in items if item.is_handoff]
    results = [item for item in items if not item.is_handoff]
    in_block = {item.row for item in items}
    today = said_on(time.time())
    undated = (blocks.SECTION_HANDOFF, today)

    def laid_out(outdated: dict[int, str]) -> blocks.Block:
        lines = {"allowed": searchable.allowed, "in_block": in_block, "outdated": outdated}
        return blocks.render(
            block_lines(index, results, section_of, **lines),
            pending_lines(work),
            call.budget,
            block_lines(index, handoffs, section_of, undated=undated, **lines),
            handoff_share=call.handoff_share,
            episode_share=call.episode_share,
            handoff_round=first_round(index, handoffs),
            handoff_day=today,
        )

    block = laid_out({})
    outdated = outdated_rows(index, in_block, work[: block.pending_lines])
    if outdated:
        block = laid_out({row: outdated_note(o, pending_time(o.by.occurred_at)) for row, o in outdated.items()})
    kept = [results[position] for position in block.results] + [handoffs[position] for position in block.handoffs]
    return Rendered(block=block, items=kept, pending=work[: block.pending_lines])


_SECTIONS = {
    KINDS[ATTRIBUTE]: blocks.SECTION_ATTRIBUTES,
    KINDS[TRIPLE]: blocks.SECTION_GRAPH,
    KINDS[EPISODE]: blocks.SECTION_EPISODES,
}


def section_of(item: RecalledItem) -> str:
    return blocks.SECTION_HANDOFF if item.is_handoff else _SECTIONS.get(item.kind, blocks.SECTION_MEMORIES)


def pending_lines(work: list[PendingWork]) -> list[blocks.Line]:
    """One line per pending exchange: its process and when."""
    return [
        blocks.Line(
            section=blocks.SECTION_PENDING,
            text=blocks.pending_line(w.process_id, pending_time(w.occurred_at), w.text),
            processes=(w.process_id,),
        )
        for w in work
    ]


def pending_time(occurred_at) -> str:
    """`16:20 UTC` on the day of the recall (in UTC), else `2026-03-12 16:20 UTC`."""
    today = time.strftime("%Y-%m-%d", time.gmtime())
    return f"{occurred_at:%H:%M} UTC" if f"{occurred_at:%Y-%m-%d}" == today else f"{occurred_at:%Y-%m-%d %H:%M} UTC"
