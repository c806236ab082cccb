"""Recall for one LLM call: the entity's relevant memories and past exchanges (episodes), other
agents' memories of the last minutes (handoffs, memory/recall/handoff.py), other agents' pending
work, and the session's history, as items and as one block of text to inject within a token budget.

`recall_for_call` reads as its steps: resolve the request, open the entity's index, rank, admit
handoffs, read the pending work (ranking again if the index moved meanwhile), render the block,
record the event. The engine's steps are in memory/recall/steps.py.
"""

from __future__ import annotations

import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime

from django.db.models import BigIntegerField, Exists, OuterRef, Subquery, Value

from memory.embedding import get_embedder
from memory.models import Entity, Process, RecallEvent, Session, Tenant
from memory.recall import steps
from memory.recall.config import RecallSettings, recall_settings, share
from memory.recall.context import session_history, unfinished_jobs
from memory.recall.events import store_recall_event
from memory.recall.hits import RecalledItem, recalled_items
from memory.services.identity import parse_session_uuid, process_get_or_create, validate_external_id

__all__ = ["PendingExchange", "RecallRequest", "RecallResult", "RecalledItem", "recall_for_call"]

MAX_LIMIT = 100
MAX_TOKEN_BUDGET = 32_000
MAX_QUERY_CHARS = 4_000
MIN_LINE_TOKENS = 12  # the shortest dated memory line: what a budget without an item limit is divided by


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
    """The recall event's latency split: database reads, the query's embedding, the search."""

    started: float = field(default_factory=time.perf_counter)
    spent: dict[str, float] = field(default_factory=lambda: {"fetch": 0.0, "embed": 0.0, "search": 0.0})

    @contextmanager
    def step(self, part: str):
        started = time.perf_counter()
        try:
            yield
        finally:
            self.spent[part] += (time.perf_counter() - started) * 1000

    @property
    def total_ms(self) -> float:
        return (time.perf_counter() - self.started) * 1000


def recall_for_call(request: RecallRequest) -> RecallResult:
    """What to inject into this call's prompt. Raises InvalidIdentifier for unusable ids; an
    entity that has no row yet gets an empty result (nothing recorded)."""
    timer = _Timer()
    with timer.step("fetch"):
        call = _resolve(request, recall_settings())
    if call is None:
        return RecallResult(latency_ms=timer.total_ms)
    embedder = get_embedder()
    with timer.step("fetch"):
        searchable = steps.index_at(call, call.entity.memory_version, embedder)
    with timer.step("embed"):
        searchable = steps.with_query_vector(searchable, embedder, call.query)
    with timer.step("search"):
        ranked = steps.with_handoffs(call, searchable, steps.rank_results(call, searchable))
    with timer.step("fetch"):
        pending = steps.pending(call, searchable)
        if pending.moved_to is not None:  # a job finished meanwhile: its memories are in the newer index
            searchable = replace(steps.index_at(call, pending.moved_to, embedder), query_vector=searchable.query_vector)
            ranked = steps.with_handoffs(call, searchable, steps.rank_results(call, searchable))
        items = recalled_items(searchable.index, ranked)
        work = steps.served_pending(call, pending.jobs)
        history = session_history(call.entity.session_pk)
    rendered = steps.render(call, searchable, items, work)
    result = RecallResult(
        items=rendered.items,
        pending=[PendingExchange(w.exchange_id, w.process_id, w.occurred_at, w.text) for w in rendered.pending],
        history=history,
        block=rendered.block.text,
        token_count=rendered.block.token_count,
        pending_job_ids=pending.jobs.job_ids,
        latency_ms=timer.total_ms,
    )
    if request.record_event and (call.process_pk is not None or request.may_write):
        result.event_id = _record(call, rendered, result, timer)
    return result


def _resolve(request: RecallRequest, configured: RecallSettings) -> steps.Call | None:
    """The request's identifiers checked, its entity read (with the caller's process and session),
    and its budget, limit and shares settled; None when the entity has no row yet."""
    entity_external_id = validate_external_id(request.entity_id, label="entity_id")
    process_external_id = validate_external_id(request.process_id, label="process_id")
    session_uuid = parse_session_uuid(request.session_id) if request.session_id else None
    entity = _entity_with_caller(request.tenant, entity_external_id, process_external_id, session_uuid)
    if entity is None:
        return None
    process_pk = entity.caller_id
    if process_pk is None and request.record_event and request.may_write:
        process_pk = process_get_or_create(tenant=request.tenant, external_id=process_external_id).pk
    budget = _clamp(
        configured.token_budget if request.token_budget is None else request.token_budget, 0, MAX_TOKEN_BUDGET
    )
    handoff_share = configured.handoff_share if request.handoff_share is None else share(request.handoff_share)
    return steps.Call(
        entity=entity,
        process_pk=process_pk,
        query=(request.query or "")[:MAX_QUERY_CHARS],
        budget=budget,
        limit=_item_limit(request.limit or configured.limit, budget),
        handoff_share=handoff_share,
        episode_share=configured.episode_share,
        episodes=configured.episodes if request.episodes is None else request.episodes,
        include_pending=request.include_pending,
    )


def _record(call: steps.Call, rendered: steps.Rendered, result: RecallResult, timer: _Timer) -> int | None:
    """Store the recall event with its hits (events.py: never waiting behind writers)."""
    event = RecallEvent(
        entity=call.entity,
        process_id=call.process_pk,
        session_id=call.entity.session_pk,
        query=call.query,
        limit=call.limit,
        token_budget=call.budget,
        token_count=result.token_count,
        injected_block=result.block,
        latency_ms=result.latency_ms,
        embed_ms=timer.spent["embed"],
        search_ms=timer.spent["search"],
        fetch_ms=timer.spent["fetch"],
        pending_job_ids=result.pending_job_ids,
        pending_context_served=bool(rendered.pending),
        pending_exchange_ids=[w.exchange_id for w in rendered.pending],
    )
    return store_recall_event(event=event, hits=rendered.items).pk


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
