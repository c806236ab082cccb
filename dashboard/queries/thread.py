"""The entity's handoff thread: every call of every process, in the order the calls happened.

A call is an exchange (one recorded LLM call), placed by its original time (``occurred_at``, so
imported history keeps its dates) and id. Pages are keyset pages over the index on
(entity, occurred_at): the cost of a page does not grow with the thread's length. Marker filters
that the database can answer (pending, superseded, contradiction) are ``EXISTS`` clauses; the gap
filter is dashboard/queries/gaps.py's judgement, applied to batches of calls with a bound on how many are
searched per request (the page then offers to search on).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.db.models.functions import Substr

from dashboard.queries.gaps import HandoffGap, find_handoff_gaps
from dashboard.queries.received import Received, received_by_event
from dashboard.queries.sessions import produced_by
from dashboard.queries.thread_filters import Cursor, ThreadFilters
from memory.models import AugmentationJob, Entity, Exchange, Message, RecallHit

CALLS_PER_PAGE = 30  # like a session's turns; a page stays readable and renders fast
GAP_BATCH = 100  # calls judged per round when filtering by gap
GAP_SEARCH_LIMIT = 200  # calls judged per request for the gap filter (bench/thread.py times a batch)
ASKED_CHARS = 240
AROUND_BEFORE = 3  # calls shown above a deep-linked one


@dataclass
class ThreadPage:
    calls: list[Exchange]
    earlier: Cursor | None = None  # link to the calls before this page
    later: Cursor | None = None  # link to the calls after it
    searched: int = 0  # the gap filter: calls judged for this page
    search_cut: bool = False  # the gap filter stopped at GAP_SEARCH_LIMIT before filling the page
    missing_call: bool = False  # ?call= named a call that is not in this thread (or filtered out)
    received: dict[int, Received] = field(default_factory=dict)
    gaps: dict[int, HandoffGap] = field(default_factory=dict)


def thread_calls(entity: Entity, filters: ThreadFilters) -> QuerySet[Exchange]:
    """The entity's calls matching the filters (not ordered: the page orders by its direction)."""
    calls = Exchange.objects.filter(entity=entity)
    if filters.process:
        calls = calls.filter(process__external_id=filters.process)
    if filters.since:
        calls = calls.filter(occurred_at__gte=filters.since)
    if filters.until:
        calls = calls.filter(occurred_at__lte=filters.until)
    given = RecallHit.objects.filter(event_id=OuterRef("recall_event_id"))
    if filters.marker == "pending":
        calls = calls.filter(recall_event__pending_context_served=True)
    elif filters.marker == "superseded":
        calls = calls.filter(Exists(given.filter(memory__valid_to__isnull=False)))
    elif filters.marker == "contradiction":
        calls = calls.filter(Exists(given.filter(Q(memory__is_contradicted=True) | Q(triple__is_contradicted=True))))
    elif filters.marker == "gap":
        calls = calls.filter(recall_event__isnull=False)
    return calls.select_related("process", "recall_event", "recall_event__process", "augmentation_job")


def _beyond(calls: QuerySet[Exchange], cursor: Cursor, *, newer: bool, inclusive: bool = False) -> QuerySet[Exchange]:
    """The calls after (``newer``) or before ``cursor`` in thread order, the cursor's own call too if ``inclusive``."""
    strictly = "gt" if newer else "lt"
    same = f"id__{strictly}{'e' if inclusive else ''}"
    return calls.filter(
        Q(**{f"occurred_at__{strictly}": cursor.occurred_at}) | Q(occurred_at=cursor.occurred_at, **{same: cursor.id})
    )


def _ordered(calls: QuerySet[Exchange], *, newer: bool) -> QuerySet[Exchange]:
    return calls.order_by("occurred_at", "id") if newer else calls.order_by("-occurred_at", "-id")


def cursor_of(call: Exchange) -> Cursor:
    return Cursor(call.occurred_at, call.pk)


@dataclass
class _Walk:
    found: list[Exchange]
    gaps: dict[int, HandoffGap]
    searched: int
    cut: bool  # the gap search stopped at its limit with more calls left
    last: Cursor | None  # the last call searched


def _walk(calls: QuerySet[Exchange], *, newer: bool, start: Cursor | None, inclusive: bool, gaps_only: bool) -> _Walk:
    """Up to CALLS_PER_PAGE + 1 calls from ``start`` in one direction; with ``gaps_only``, only the
    calls dashboard/queries/gaps.py finds a gap in, judging at most GAP_SEARCH_LIMIT calls."""
    ordered = _ordered(calls, newer=newer)
    batch_size = GAP_BATCH if gaps_only else CALLS_PER_PAGE + 1
    walk = _Walk(found=[], gaps={}, searched=0, cut=False, last=start)
    while True:
        scope = (
            _beyond(ordered, walk.last, newer=newer, inclusive=inclusive and not walk.searched)
            if walk.last
            else ordered
        )
        batch = list(scope[:batch_size])
        walk.searched += len(batch)
        exhausted = len(batch) < batch_size
        if batch:
            walk.last = cursor_of(batch[-1])
        if gaps_only:
            judged = {gap.event.pk: gap for gap in find_handoff_gaps([call.recall_event for call in batch])}
            walk.gaps.update(judged)
            batch = [call for call in batch if call.recall_event_id in judged]
        walk.found += batch
        if exhausted or len(walk.found) > CALLS_PER_PAGE:
            return walk
        if walk.searched >= GAP_SEARCH_LIMIT:
            walk.cut = True
            return walk


def thread_page(entity: Entity, filters: ThreadFilters) -> ThreadPage:
    """One page of the thread, oldest call first, with what each call received, added and missed.

    Without a cursor it is the latest page; ``before``/``after`` page from a cursor; ``call`` opens
    the page that starts a few calls above that call."""
    calls = thread_calls(entity, filters)
    page = ThreadPage(calls=[])
    newer, start, inclusive, earlier_exists = False, filters.before, False, False
    if filters.after:
        newer, start, earlier_exists = True, filters.after, True
    elif filters.call:
        target = calls.filter(pk=filters.call).first()
        if target is None:
            page.missing_call = True
        else:
            above = list(_beyond(_ordered(calls, newer=False), cursor_of(target), newer=False)[: AROUND_BEFORE + 1])
            earlier_exists = len(above) > AROUND_BEFORE
            above = above[:AROUND_BEFORE]
            newer, start, inclusive = True, cursor_of(above[-1] if above else target), True
    walk = _walk(calls, newer=newer, start=start, inclusive=inclusive, gaps_only=filters.marker == "gap")
    page.searched, page.search_cut = walk.searched, walk.cut
    more = len(walk.found) > CALLS_PER_PAGE or walk.cut
    found = walk.found[:CALLS_PER_PAGE]
    resume = walk.last if walk.cut else None
    if newer:
        page.calls = found
        if earlier_exists:
            page.earlier = cursor_of(found[0]) if found else start
        if more:
            page.later = resume or cursor_of(found[-1])
    else:
        page.calls = list(reversed(found))
        if more:
            page.earlier = resume or cursor_of(page.calls[0])
        if start:
            page.later = cursor_of(page.calls[-1]) if page.calls else start
    _fill(page, walk.gaps if filters.marker == "gap" else None)
    return page


def _fill(page: ThreadPage, gaps: dict[int, HandoffGap] | None) -> None:
    """What each call was asked, received, added and missed: a fixed number of queries per page."""
    events = [call.recall_event for call in page.calls if call.recall_event_id]
    page.received = received_by_event(events)
    if gaps is None:
        gaps = {gap.event.pk: gap for gap in find_handoff_gaps(events)}
    page.gaps = gaps
    asked = _asked(page.calls)
    produced = produced_by(page.calls)
    for call in page.calls:
        call.asked = asked.get(call.pk, "")
        call.produced = produced.get(call.pk, [])
        call.received = page.received.get(call.recall_event_id)
        call.gap = gaps.get(call.recall_event_id)


def _asked(calls: list[Exchange]) -> dict[int, str]:
    """The first words of each call's own question: its last user message."""
    asked: dict[int, str] = defaultdict(str)
    rows = (
        Message.objects.filter(exchange_id__in=[call.pk for call in calls], role=Message.Role.USER)
        .annotate(head=Substr("content", 1, ASKED_CHARS))
        .order_by("exchange_id", "position")
        .values_list("exchange_id", "head")
    )
    for exchange_id, head in rows:
        asked[exchange_id] = " ".join(head.split())
    return asked


def thread_version(entity: Entity) -> str:
    """Changes when a call is recorded, memory is written or a job finishes: the open thread refreshes."""
    latest = Exchange.objects.filter(entity=entity).order_by("-pk").values_list("pk", flat=True)[:1]
    unfinished = AugmentationJob.objects.filter(
        entity=entity, status__in=[AugmentationJob.Status.QUEUED, AugmentationJob.Status.RUNNING]
    ).count()
    version = Entity.objects.filter(pk=entity.pk).values_list("memory_version", flat=True).first()
    return f"{next(iter(latest), 0)}-{version}-{unfinished}"
