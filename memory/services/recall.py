"""Recall for one LLM call: the entity's relevant memories and past exchanges (episodes), other
agents' memories of the last minutes (handoffs, memory/recall/handoff.py), other agents' pending
work, and the session's history, as items and as one block of text to inject within a token budget.

The engine is in `memory.recall` (index, ranking, context, block, events); this module resolves the
caller's identifiers, runs the steps in order, times them, and records the recall event.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
from django.conf import settings
from django.db.models import BigIntegerField, Exists, OuterRef, Q, Subquery, Value

from memory.embedding import get_embedder
from memory.models import Entity, Process, Provenance, RecallEvent, Session, Tenant
from memory.recall import block as blocks
from memory.recall.compose import Candidate, block_lines, said_on, without_restated_triples, without_told_episodes
from memory.recall.context import (
    NOTHING_PENDING,
    PendingJobs,
    PendingWork,
    pending_jobs,
    pending_work,
    session_history,
    unfinished_jobs,
)
from memory.recall.events import HitRecord, store_recall_event
from memory.recall.handoff import VIA_PREFIX, admit_handoffs, first_round, handoff_candidates
from memory.recall.index import ATTRIBUTE, EPISODE, KINDS, TRIPLE, EntityIndex, IndexKey, memory_mask, recall_cache
from memory.recall.pending_updates import outdated_note, outdated_rows
from memory.recall.ranking import Ranked, rank, scores_of
from memory.recall.recent import fresh_findings
from memory.services.identity import parse_session_uuid, process_get_or_create, validate_external_id

MAX_LIMIT = 100
MAX_TOKEN_BUDGET = 32_000
MAX_QUERY_CHARS = 4_000
MIN_LINE_TOKENS = 12  # the shortest dated memory line: what a budget without an item limit is divided by
RANKED_EXTRA = 0.5  # results ranked beyond the limit, per place: refill the places of left-out restated triples


@dataclass
class RecallRequest:
    tenant: Tenant
    entity_id: str
    process_id: str
    query: str
    session_id: str | None = None
    limit: int | None = None  # at most this many items; None: MEMORI_RECALL_LIMIT (0: as many as the budget holds)
    token_budget: int | None = None
    include_pending: bool = True
    handoff_share: float | None = None  # of the budget for other agents' recent work; None: the setting
    episodes: bool | None = None  # recall past exchanges as they were said; None: MEMORI_RECALL_EPISODES
    record_event: bool = True
    may_write: bool = True  # False for a read-only key: an event only for a process that exists, nothing created


@dataclass
class RecalledItem:
    kind: str  # fact, preference, skill, attribute, triple or episode
    content: str
    score: float  # fused: dense and lexical relevance plus priors (a co-mentioned row: a share of its anchor's)
    dense_score: float
    lexical_score: float
    memory_id: int | None
    triple_id: int | None
    processes: list[str]
    via: str | None = None  # why it joined without matching: "co-mentioned with memory 12", "handoff from coder"
    episode_id: int | None = None


@dataclass
class PendingExchange:
    exchange_id: int
    process_id: str
    occurred_at: datetime
    text: str


@dataclass
class RecallResult:
    items: list[RecalledItem] = field(default_factory=list)
    pending: list[PendingExchange] = field(default_factory=list)
    history: list[dict] = field(default_factory=list)
    block: str = ""
    token_count: int = 0
    event_id: int | None = None
    latency_ms: float = 0.0
    pending_job_ids: list[int] = field(default_factory=list)


@dataclass
class _Timer:
    started: float = field(default_factory=time.perf_counter)
    embed_ms: float = 0.0
    search_ms: float = 0.0
    fetch_ms: float = 0.0

    def lap(self, since: float) -> float:
        return (time.perf_counter() - since) * 1000

    @property
    def total_ms(self) -> float:
        return self.lap(self.started)


def recall_for_call(request: RecallRequest) -> RecallResult:
    """What to inject into this call's prompt. Raises InvalidIdentifier for unusable ids; an
    entity that has no row yet gets an empty result (nothing recorded)."""
    timer = _Timer()
    entity_external_id = validate_external_id(request.entity_id, label="entity_id")
    process_external_id = validate_external_id(request.process_id, label="process_id")
    session_uuid = parse_session_uuid(request.session_id) if request.session_id else None
    budget = _clamp(
        settings.MEMORI_RECALL_TOKEN_BUDGET if request.token_budget is None else request.token_budget,
        0,
        MAX_TOKEN_BUDGET,
    )
    limit = _item_limit(request.limit or getattr(settings, "MEMORI_RECALL_LIMIT", 0), budget)
    handoff_share = request.handoff_share
    if handoff_share is None:
        handoff_share = getattr(settings, "MEMORI_RECALL_HANDOFF_SHARE", blocks.HANDOFF_SHARE)
    handoff_share = min(max(float(handoff_share), 0.0), 1.0)
    query = (request.query or "")[:MAX_QUERY_CHARS]
    episodes = getattr(settings, "MEMORI_RECALL_EPISODES", True) if request.episodes is None else request.episodes
    episode_share = min(max(float(getattr(settings, "MEMORI_RECALL_EPISODE_SHARE", blocks.EPISODE_SHARE)), 0.0), 1.0)

    step = time.perf_counter()
    entity = _entity_with_caller(request.tenant, entity_external_id, process_external_id, session_uuid)
    if entity is None:
        return RecallResult(latency_ms=timer.total_ms)
    process_pk = entity.caller_id
    record_event = request.record_event and (process_pk is not None or request.may_write)
    if process_pk is None and record_event:
        process_pk = process_get_or_create(tenant=request.tenant, external_id=process_external_id).pk
    embedder = get_embedder()
    key = IndexKey(entity.pk, entity.created_at, entity.memory_version, embedder.name)
    index = recall_cache().get(key)
    timer.fetch_ms += timer.lap(step)

    step = time.perf_counter()
    query_vector = embedder.embed([query])[0] if query.strip() else None
    timer.embed_ms = timer.lap(step)

    def visible(index):
        # Episodes answer a question: not without one, and not the caller's own session's (its history).
        return index.allowed_for(process_pk, session_id=entity.session_pk, episodes=episodes and bool(query.strip()))

    def rank_on(index):
        now = time.time()
        fresh = fresh_findings(index, caller_process_id=process_pk, now=now)
        ranked = rank(
            index,
            query=query,
            query_vector=query_vector,
            allowed=visible(index),
            caller_process_id=process_pk,
            limit=limit + int(limit * RANKED_EXTRA) + 1,
            fresh=fresh,
        )
        ranked = without_restated_triples(index, ranked)
        candidates = handoff_candidates(index, caller_process_id=process_pk, now=now)

        def score(rows):
            return scores_of(
                index, rows, query=query, query_vector=query_vector, caller_process_id=process_pk, fresh=fresh
            )

        ranked, handoffs = admit_handoffs(index, ranked, candidates, limit=limit, score=score)
        ranked = without_told_episodes(index, ranked, told_before=handoffs)
        return ranked + without_restated_triples(index, handoffs, stated_before=ranked)

    step = time.perf_counter()
    ranked = rank_on(index)
    timer.search_ms = timer.lap(step)

    step = time.perf_counter()
    jobs = NOTHING_PENDING
    if entity.has_pending:
        jobs = pending_jobs(entity_id=entity.pk, caller_process_id=process_pk)
        fresh = _fresh_index(entity, jobs, embedder.name)
        if fresh is not None:
            index = fresh
            ranked = rank_on(index)
    candidates = [Candidate(row=r.row, hit=hit) for r, hit in zip(ranked, _hit_records(index, ranked), strict=True)]
    pending = pending_work(jobs.of_others) if request.include_pending else []
    history = session_history(entity.session_pk)
    timer.fetch_ms += timer.lap(step)

    handoffs = [c for c in candidates if _is_handoff(c.hit)]
    results = [c for c in candidates if not _is_handoff(c.hit)]
    allowed = visible(index)
    in_block = {c.row for c in candidates}
    today = said_on(time.time())
    undated = (blocks.SECTION_HANDOFF, today)

    def render(outdated: dict[int, str]) -> blocks.Block:
        return blocks.render(
            block_lines(index, results, _section, allowed=allowed, in_block=in_block, outdated=outdated),
            _pending_lines(pending),
            budget,
            block_lines(
                index, handoffs, _section, allowed=allowed, in_block=in_block, undated=undated, outdated=outdated
            ),
            handoff_share=handoff_share,
            episode_share=episode_share,
            handoff_round=first_round(index, handoffs),
            handoff_day=today,
        )

    block = render({})
    outdated = outdated_rows(index, in_block, pending[: block.pending_lines])
    if outdated:
        block = render({row: outdated_note(o, _pending_time(o.by.occurred_at)) for row, o in outdated.items()})
    hits = [c.hit for c in _in_block(results, block)] + [handoffs[position].hit for position in block.handoffs]
    pending = pending[: block.pending_lines]
    result = RecallResult(
        items=[_item(hit) for hit in hits],
        pending=[PendingExchange(w.exchange_id, w.process_id, w.occurred_at, w.text) for w in pending],
        history=history,
        block=block.text,
        token_count=block.token_count,
        pending_job_ids=jobs.job_ids,
        latency_ms=timer.total_ms,
    )
    if record_event:
        event = RecallEvent(
            entity=entity,
            process_id=process_pk,
            session_id=entity.session_pk,
            query=query,
            limit=limit,
            token_budget=budget,
            token_count=block.token_count,
            injected_block=block.text,
            latency_ms=result.latency_ms,
            embed_ms=timer.embed_ms,
            search_ms=timer.search_ms,
            fetch_ms=timer.fetch_ms,
            pending_job_ids=jobs.job_ids,
            pending_context_served=bool(pending),
            pending_exchange_ids=[w.exchange_id for w in pending],
        )
        result.event_id = store_recall_event(event=event, hits=hits).pk
    return result


def _fresh_index(entity: Entity, jobs: PendingJobs, embedder_name: str) -> EntityIndex | None:
    """The entity's index at its current memory version, if that moved since the entity was read.

    A job that finished after the entity was read is no longer pending, so its memories must be
    in the index searched, or that handoff would fall in a gap. The pending jobs' query read the
    version in its own snapshot; if no job was left, it is read once more."""
    version = jobs.memory_version
    if version is None:
        version = Entity.objects.filter(pk=entity.pk).values_list("memory_version", flat=True).first()
    if version is None or version == entity.memory_version:
        return None
    return recall_cache().get(IndexKey(entity.pk, entity.created_at, version, embedder_name))


def _in_block(results: list[Candidate], block: blocks.Block) -> list[Candidate]:
    """The results the block holds, in rank order."""
    return [results[position] for position in block.results]


def _is_handoff(hit: HitRecord) -> bool:
    return bool(hit.via and hit.via.startswith(VIA_PREFIX))


def _item_limit(limit: int | None, budget: int) -> int:
    """At most `limit` items when one is set; otherwise as many as the token budget can hold (a
    line costs at least `MIN_LINE_TOKENS`): the budget, not a count, decides how full the block is."""
    if limit:
        return _clamp(limit, 1, MAX_LIMIT)
    return _clamp(budget // MIN_LINE_TOKENS, 1, MAX_LIMIT)


def _clamp(value: int, low: int, high: int) -> int:
    return max(low, min(int(value), high))


def _entity_with_caller(
    tenant: Tenant, entity_external_id: str, process_external_id: str, session_uuid: uuid.UUID | None
) -> Entity | None:
    """The entity (with what the cache key needs), the calling process's id (`caller_id`), the
    session's id (`session_pk`, None without one) and whether any of the entity's augmentation
    jobs is unfinished (`has_pending`): one query, the only one a warm recall needs before
    searching when nothing is pending.

    One statement reads one snapshot, so `memory_version` and `has_pending` agree: a job finishes
    in the transaction that bumps the version, so when nothing is pending, the index of this
    version holds every augmented exchange and no handoff falls between the two."""
    caller = Process.objects.filter(tenant=tenant, external_id=process_external_id).values("pk")[:1]
    session = Value(None, output_field=BigIntegerField())
    if session_uuid is not None:
        sessions = Session.objects.filter(
            entity=OuterRef("pk"), process__tenant=tenant, process__external_id=process_external_id, uuid=session_uuid
        )
        session = Subquery(sessions.values("pk")[:1])
    return (
        Entity.objects.filter(tenant=tenant, external_id=entity_external_id)
        .annotate(
            caller_id=Subquery(caller),
            session_pk=session,
            has_pending=Exists(unfinished_jobs(OuterRef("pk"))),
        )
        .only("id", "created_at", "memory_version", "external_id")
        .first()
    )


def _hit_records(index: EntityIndex, ranked: list[Ranked]) -> list[HitRecord]:
    """Ranked rows with their contributing processes (one query for all of them; an episode's is
    its exchange's process, which the index holds)."""
    rows = np.asarray([r.row for r in ranked], dtype=np.int64)
    kinds = index.kinds[rows]
    memory_ids = index.ids[rows][memory_mask(kinds)].tolist()
    triple_ids = index.ids[rows][kinds == TRIPLE].tolist()
    names: dict[tuple[str, int], set[str]] = {}
    if memory_ids or triple_ids:
        mentions = (
            Provenance.objects.filter(Q(memory_id__in=memory_ids) | Q(triple_id__in=triple_ids))
            .order_by()
            .values_list("memory_id", "triple_id", "process__external_id")
            .distinct()
        )
        for memory_id, triple_id, process_name in mentions:
            target = ("memory", memory_id) if memory_id else ("triple", triple_id)
            names.setdefault(target, set()).add(process_name)
    records = []
    for r in ranked:
        kind = KINDS[index.kinds[r.row]]
        db_id = int(index.ids[r.row])
        target = (kind, db_id) if kind in ("triple", "episode") else ("memory", db_id)
        first = index.first_process_names[r.row]
        found = names.get(target, set())
        processes = ([first] if first else []) + sorted(found - {first})
        records.append(
            HitRecord(
                kind=kind,
                content=index.contents[r.row],
                memory_id=db_id if target[0] == "memory" else None,
                triple_id=db_id if kind == "triple" else None,
                episode_id=db_id if kind == "episode" else None,
                dense_score=round(r.dense, 6),
                lexical_score=round(r.lexical, 6),
                fused_score=round(r.fused, 6),
                processes=processes,
                via=_via(index, r),
            )
        )
    return records


def _via(index: EntityIndex, r: Ranked) -> str | None:
    """Why a row joined without ranking on its own: a handoff, the current version of a superseded
    result, or a co-mention."""
    if r.handoff_from is not None:
        return VIA_PREFIX + r.handoff_from
    if r.current_of is not None:
        stale = "episode" if index.is_episode[r.current_of] else "memory"
        return f"current version of {stale} {int(index.ids[r.current_of])}"
    if r.via is None:
        return None
    kind = "triple" if index.kinds[r.via] == TRIPLE else "memory"
    return f"co-mentioned with {kind} {int(index.ids[r.via])}"


_SECTIONS = {
    KINDS[ATTRIBUTE]: blocks.SECTION_ATTRIBUTES,
    KINDS[TRIPLE]: blocks.SECTION_GRAPH,
    KINDS[EPISODE]: blocks.SECTION_EPISODES,
}


def _section(hit: HitRecord) -> str:
    return blocks.SECTION_HANDOFF if _is_handoff(hit) else _SECTIONS.get(hit.kind, blocks.SECTION_MEMORIES)


def _pending_lines(pending: list[PendingWork]) -> list[blocks.Line]:
    """One line per pending exchange: its process and when (the time alone on the day of the
    recall, in UTC)."""
    lines = []
    for w in pending:
        text = blocks.pending_line(w.process_id, _pending_time(w.occurred_at), w.text)
        lines.append(blocks.Line(section=blocks.SECTION_PENDING, text=text, processes=(w.process_id,)))
    return lines


def _pending_time(occurred_at: datetime) -> str:
    """`16:20 UTC` on the day of the recall, else `2026-03-12 16:20 UTC`."""
    today = time.strftime("%Y-%m-%d", time.gmtime())
    return f"{occurred_at:%H:%M} UTC" if f"{occurred_at:%Y-%m-%d}" == today else f"{occurred_at:%Y-%m-%d %H:%M} UTC"


def _item(hit: HitRecord) -> RecalledItem:
    return RecalledItem(
        kind=hit.kind,
        content=hit.content,
        score=hit.fused_score,
        dense_score=hit.dense_score,
        lexical_score=hit.lexical_score,
        memory_id=hit.memory_id,
        triple_id=hit.triple_id,
        processes=hit.processes,
        via=hit.via,
        episode_id=hit.episode_id,
    )
