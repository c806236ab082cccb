"""What a call received and from whom: the one definition the thread, the session page and the
playground use.

A recall gives a call two things: ranked items (memories, triples, episodes: ``RecallHit`` rows, or
the playground's unrecorded ``RecalledItem``) and other agents' pending exchanges served raw
(``RecallEvent.pending_exchange_ids``). Each becomes a ``ReceivedItem`` with:

* its sources: the processes that contributed it, each linked to the call (exchange) that first
  produced it — a memory's or triple's first mention by that process, an episode's own exchange,
  a pending item's exchange itself;
* its flags as they stood when the call ran: ``superseded`` (the memory's ``valid_to``, set when a
  later memory replaced it; ``before_call`` says whether the call was already given the stale
  value) and ``contradictions`` (``Contradiction`` rows naming it, not resolved before the call).

Everything is loaded for any number of calls with a fixed number of queries (``describe``).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property

from django.db.models import Min, Q

from memory.models import Contradiction, Episode, Exchange, Memory, Provenance, RecallEvent, RecallHit
from memory.recall.block import HEADINGS, SECTION_PENDING
from memory.recall.handoff import VIA_PREFIX

PENDING_KIND = "pending"
PENDING_LINE = re.compile(r"^- \[(?P<process>[^,\]]*), (?P<when>[^\]]*)\] (?P<text>.*)$")


@dataclass
class Source:
    """A contributing process and, when an exchange produced it, that call."""

    process: str
    exchange_id: int | None = None
    session_id: int | None = None
    occurred_at: datetime | None = None


@dataclass
class Superseded:
    at: datetime
    by_id: int | None
    by_content: str
    before_call: bool  # the call was given a value already replaced


@dataclass
class ContradictionFlag:
    contradiction_id: int
    other_content: str
    other_process: str
    detected_at: datetime
    resolved_at: datetime | None
    open_at_call: bool  # detected before the call and not resolved by then


@dataclass
class ReceivedItem:
    kind: str  # fact, preference, skill, attribute, triple, episode, or "pending" (raw exchange)
    content: str
    process_names: list[str] = field(default_factory=list)
    memory_id: int | None = None
    triple_id: int | None = None
    episode_id: int | None = None
    exchange_id: int | None = None  # pending: the exchange served raw
    rank: int | None = None
    fused_score: float | None = None
    dense_score: float | None = None
    lexical_score: float | None = None
    via: str = ""
    sources: list[Source] = field(default_factory=list)
    superseded: Superseded | None = None
    contradictions: list[ContradictionFlag] = field(default_factory=list)

    @property
    def is_pending(self) -> bool:
        return self.kind == PENDING_KIND

    @property
    def is_contradicted(self) -> bool:
        return bool(self.contradictions)

    @property
    def via_note(self) -> str:
        """Why it came without matching the query; a handoff's process is already its source."""
        return "recent handoff" if self.via.startswith(VIA_PREFIX) else self.via


@dataclass
class Received:
    """Everything one call was given, as of ``at`` (when its recall ran)."""

    at: datetime
    items: list[ReceivedItem] = field(default_factory=list)
    pending: list[ReceivedItem] = field(default_factory=list)

    # Cached: templates read each several times; items are described (``describe``) before any is read.
    @cached_property
    def all(self) -> list[ReceivedItem]:
        return self.items + self.pending

    @property
    def count(self) -> int:
        return len(self.items) + len(self.pending)

    @cached_property
    def superseded(self) -> list[ReceivedItem]:
        return [item for item in self.items if item.superseded]

    @cached_property
    def contradicted(self) -> list[ReceivedItem]:
        return [item for item in self.items if item.contradictions]

    @cached_property
    def source_processes(self) -> list[str]:
        """The processes this call heard from, in order of first appearance."""
        names: dict[str, None] = {}
        for item in self.all:
            for source in item.sources:
                names.setdefault(source.process, None)
        return list(names)


def item_from_hit(hit: RecallHit) -> ReceivedItem:
    return ReceivedItem(
        kind=hit.kind,
        content=hit.content,
        process_names=list(hit.contributing_processes or []),
        memory_id=hit.memory_id,
        triple_id=hit.triple_id,
        episode_id=hit.episode_id,
        rank=hit.rank,
        fused_score=hit.fused_score,
        dense_score=hit.dense_score,
        lexical_score=hit.lexical_score,
        via=hit.via or "",
    )


def served_pending_lines(block: str) -> list[tuple[str, str]]:
    """(process, text) of each pending line of an injected block, in the order they were served."""
    lines, inside = [], False
    for line in (block or "").splitlines():
        stripped = line.strip()
        if stripped.startswith(HEADINGS[SECTION_PENDING]):
            inside = True
        elif stripped.startswith("##") or stripped.startswith("</"):
            inside = False
        elif inside:
            match = PENDING_LINE.match(stripped)
            if match:
                lines.append((match["process"], match["text"]))
    return lines


def pending_items(event: RecallEvent) -> list[ReceivedItem]:
    """The exchanges served raw to this call, with the text the block gave them (same order)."""
    texts = served_pending_lines(event.injected_block)
    items = []
    for position, exchange_id in enumerate(event.pending_exchange_ids or []):
        if not isinstance(exchange_id, int):
            continue
        process, text = texts[position] if position < len(texts) else ("", "")
        items.append(
            ReceivedItem(
                kind=PENDING_KIND, content=text, process_names=[process] if process else [], exchange_id=exchange_id
            )
        )
    return items


def received_by_event(
    events: Sequence[RecallEvent], hits: dict[int, Iterable[RecallHit]] | None = None
) -> dict[int, Received]:
    """What each event's call received, described. ``hits`` (per event id) when already loaded
    (the session page prefetches them); otherwise they are read in one query."""
    if hits is None:
        loaded: dict[int, list[RecallHit]] = defaultdict(list)
        for hit in RecallHit.objects.filter(event_id__in=[event.pk for event in events]).order_by("event_id", "rank"):
            loaded[hit.event_id].append(hit)
        hits = loaded
    received = {
        event.pk: Received(
            at=event.created_at,
            items=[item_from_hit(hit) for hit in hits.get(event.pk, [])],
            pending=pending_items(event),
        )
        for event in events
    }
    describe(list(received.values()))
    return received


def received_from_result(result, *, at: datetime) -> Received:
    """The playground's unrecorded recall (memory.services.recall.RecallResult), described the same way."""
    items = [
        ReceivedItem(
            kind=item.kind,
            content=item.content,
            process_names=list(item.processes or []),
            memory_id=item.memory_id,
            triple_id=item.triple_id,
            episode_id=item.episode_id,
            rank=rank,
            fused_score=item.score,
            dense_score=item.dense_score,
            lexical_score=item.lexical_score,
            via=item.via or "",
        )
        for rank, item in enumerate(result.items, start=1)
    ]
    pending = [
        ReceivedItem(kind=PENDING_KIND, content=p.text, process_names=[p.process_id], exchange_id=p.exchange_id)
        for p in result.pending
    ]
    received = Received(at=at, items=items, pending=pending)
    describe([received])
    return received


def describe(receiveds: list[Received]) -> None:
    """Fill in sources and flags of every item of ``receiveds`` (five queries, whatever their number)."""
    items = [item for received in receiveds for item in received.all]
    memory_ids = {item.memory_id for item in items if item.memory_id}
    triple_ids = {item.triple_id for item in items if item.triple_id}
    episode_ids = {item.episode_id for item in items if item.episode_id}
    first_calls = _first_calls(memory_ids, triple_ids)
    episodes = _episodes(episode_ids)
    calls = _calls(
        {item.exchange_id for item in items if item.exchange_id}
        | set(first_calls.values())
        | {row["exchange_id"] for row in episodes.values()}
    )
    validity = _validity(memory_ids)
    contradictions = _contradictions(memory_ids, triple_ids)
    for received in receiveds:
        for item in received.all:
            item.sources = _sources(item, first_calls, episodes, calls)
            if item.memory_id in validity:
                item.superseded = _superseded(validity[item.memory_id], received.at)
            key = ("memory", item.memory_id) if item.memory_id else ("triple", item.triple_id)
            item.contradictions = [
                flag for flag in (_flag(row, key, received.at) for row in contradictions.get(key, [])) if flag
            ]


def _first_calls(memory_ids: set[int], triple_ids: set[int]) -> dict[tuple, int]:
    """(("memory"|"triple", id), process name) -> the first exchange of that process that mentioned it."""
    if not memory_ids and not triple_ids:
        return {}
    rows = (
        Provenance.objects.filter(Q(memory_id__in=memory_ids) | Q(triple_id__in=triple_ids), exchange__isnull=False)
        .order_by()
        .values("memory_id", "triple_id", "process__external_id")
        .annotate(first=Min("exchange_id"))
    )
    return {
        (
            (("memory", row["memory_id"]) if row["memory_id"] else ("triple", row["triple_id"])),
            row["process__external_id"],
        ): row["first"]
        for row in rows
    }


def _episodes(episode_ids: set[int]) -> dict[int, dict]:
    if not episode_ids:
        return {}
    rows = Episode.objects.filter(pk__in=episode_ids).values("id", "exchange_id", "process__external_id")
    return {row["id"]: row for row in rows}


def _calls(exchange_ids: set[int]) -> dict[int, dict]:
    if not exchange_ids:
        return {}
    rows = Exchange.objects.filter(pk__in=exchange_ids).values(
        "id", "session_id", "occurred_at", "process__external_id"
    )
    return {row["id"]: row for row in rows}


def _source(process: str, exchange_id: int | None, calls: dict[int, dict]) -> Source:
    call = calls.get(exchange_id) if exchange_id else None
    if call is None:
        return Source(process=process)
    return Source(
        process=process, exchange_id=call["id"], session_id=call["session_id"], occurred_at=call["occurred_at"]
    )


def _sources(item: ReceivedItem, first_calls: dict, episodes: dict, calls: dict) -> list[Source]:
    if item.is_pending:
        call = calls.get(item.exchange_id, {})
        process = call.get("process__external_id") or (item.process_names[0] if item.process_names else "unknown")
        return [_source(process, item.exchange_id, calls)]
    if item.episode_id:
        episode = episodes.get(item.episode_id)
        if episode is None:  # deleted since: its snapshot still names the process
            return [Source(process=name) for name in item.process_names]
        return [_source(episode["process__external_id"], episode["exchange_id"], calls)]
    key = ("memory", item.memory_id) if item.memory_id else ("triple", item.triple_id)
    names = list(item.process_names)
    names += sorted({name for (target, name) in first_calls if target == key and name not in names})
    return [_source(name, first_calls.get((key, name)), calls) for name in names]


def _validity(memory_ids: set[int]) -> dict[int, dict]:
    if not memory_ids:
        return {}
    rows = Memory.objects.filter(pk__in=memory_ids, valid_to__isnull=False).values(
        "id", "valid_to", "superseded_by_id", "superseded_by__content"
    )
    return {row["id"]: row for row in rows}


def _superseded(row: dict, at: datetime) -> Superseded:
    return Superseded(
        at=row["valid_to"],
        by_id=row["superseded_by_id"],
        by_content=row["superseded_by__content"] or "",
        before_call=row["valid_to"] <= at,
    )


def _contradictions(memory_ids: set[int], triple_ids: set[int]) -> dict[tuple, list[dict]]:
    """Per side (("memory"|"triple", id)), the contradictions naming it, with both sides' text and process."""
    if not memory_ids and not triple_ids:
        return {}
    fields = ["id", "detected_at", "resolved_at"]
    for side in ("memory_a", "memory_b", "triple_a", "triple_b"):
        fields += [f"{side}_id", f"{side}__content", f"{side}__first_process__external_id"]
    rows = Contradiction.objects.filter(
        Q(memory_a_id__in=memory_ids)
        | Q(memory_b_id__in=memory_ids)
        | Q(triple_a_id__in=triple_ids)
        | Q(triple_b_id__in=triple_ids)
    ).values(*fields)
    by_side: dict[tuple, list[dict]] = defaultdict(list)
    for row in rows:
        for side in ("memory_a", "memory_b", "triple_a", "triple_b"):
            if row[f"{side}_id"]:
                by_side[(side.split("_")[0], row[f"{side}_id"])].append(row)
    return by_side


def _flag(row: dict, key: tuple, at: datetime) -> ContradictionFlag | None:
    """The contradiction as the call met it; None if it had been resolved before the call."""
    if row["resolved_at"] is not None and row["resolved_at"] <= at:
        return None
    kind, pk = key
    mine = "a" if row[f"{kind}_a_id"] == pk else "b"
    other = f"{kind}_{'b' if mine == 'a' else 'a'}"
    return ContradictionFlag(
        contradiction_id=row["id"],
        other_content=row[f"{other}__content"] or "(deleted)",
        other_process=row[f"{other}__first_process__external_id"] or "unknown",
        detected_at=row["detected_at"],
        resolved_at=row["resolved_at"],
        open_at_call=row["detected_at"] <= at,
    )
