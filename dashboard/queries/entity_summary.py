"""The entity's landing page: what an operator needs first, in a fixed number of queries.

Counts (calls, exchanges, memories by kind, relations, sessions, processes), each contributor with what
it added and when it last worked, the latest handoff gaps (dashboard/queries/gaps.py over the newest calls) and
the open contradictions. Every read is a grouped query or a bounded slice, so the page costs the same
number of queries for 3 agents and for 300.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.db.models import Count, Max

from dashboard.queries.gaps import HandoffGap, find_handoff_gaps
from dashboard.queries.processes import contributions
from memory.models import Contradiction, Entity, Exchange, Memory, MemoryKind, RecallEvent, Session, Triple

GAP_CALLS_CHECKED = 50  # the newest calls looked at for gaps
GAPS_SHOWN = 5
CONTRADICTIONS_SHOWN = 5
CONTRIBUTORS_SHOWN = 50


@dataclass
class Contributor:
    """One process of the entity: what it did here and what it added to shared memory."""

    name: str
    exchanges: int = 0
    calls: int = 0
    memories: dict[str, int] = field(default_factory=dict)  # first contributed, by kind
    relations: int = 0
    mentions: int = 0  # every time it stated a memory or relation, first or not
    last_active_at: datetime | None = None

    @property
    def memory_total(self) -> int:
        return sum(self.memories.values())


@dataclass
class EntitySummary:
    calls: int
    exchanges: int
    memories_by_kind: dict[str, int]
    relations: int
    sessions: int
    contributors: list[Contributor]
    contributors_total: int
    gaps: list[HandoffGap]
    gap_calls_checked: int
    open_contradictions: list[Contradiction]
    open_contradictions_total: int
    last_activity_at: datetime | None

    @property
    def memories(self) -> int:
        return sum(self.memories_by_kind.values())

    @property
    def memory_kinds_held(self) -> list[tuple[str, int]]:
        return [(kind, n) for kind, n in self.memories_by_kind.items() if n]

    @property
    def processes(self) -> int:
        return self.contributors_total


ACTIVITY = ((Exchange, "occurred_at", "exchanges"), (RecallEvent, "created_at", "calls"))


def _contributors(entity: Entity) -> list[Contributor]:
    """Every process that recorded an exchange, recalled, or first contributed a memory or relation here,
    most recently active first: a grouped query per table (dashboard.queries.processes.contributions for what
    each added)."""
    by_name: dict[str, Contributor] = {}
    for model, time_field, counted in ACTIVITY:
        for name, n, last in (
            model.objects.filter(entity=entity)
            .values_list("process__external_id")
            .annotate(n=Count("*"), last=Max(time_field))
            .order_by()
        ):
            contributor = by_name.setdefault(name, Contributor(name=name))
            setattr(contributor, counted, n)
            contributor.last_active_at = max(filter(None, (contributor.last_active_at, last)))
    for name, counts in contributions(entity).items():
        contributor = by_name.setdefault(name, Contributor(name=name))
        contributor.memories = {kind: n for kind, n in counts.items() if kind in MemoryKind.values}
        contributor.relations = counts.get("relation", 0)
        contributor.mentions = counts.get("mentions", 0)
    never = datetime.min.replace(tzinfo=UTC)
    ordered = sorted(by_name.values(), key=lambda c: c.name)
    return sorted(ordered, key=lambda c: c.last_active_at or never, reverse=True)


def _latest_gaps(entity: Entity) -> tuple[list[HandoffGap], int]:
    events = list(
        RecallEvent.objects.filter(entity=entity)
        .select_related("process", "entity")
        .order_by("-created_at", "-pk")[:GAP_CALLS_CHECKED]
    )
    return find_handoff_gaps(events)[:GAPS_SHOWN], len(events)


def open_contradictions(entity: Entity) -> list[Contradiction]:
    """The newest open contradictions with both sides and the process each side came from."""
    return list(
        Contradiction.objects.filter(entity=entity, resolved_at__isnull=True)
        .select_related(
            "memory_a__first_process", "memory_b__first_process", "triple_a__first_process", "triple_b__first_process"
        )
        .order_by("-detected_at", "-pk")[:CONTRADICTIONS_SHOWN]
    )


def entity_summary(entity: Entity) -> EntitySummary:
    memories_by_kind = dict.fromkeys(MemoryKind.values, 0)
    memories_by_kind.update(Memory.objects.filter(entity=entity).values_list("kind").annotate(n=Count("*")).order_by())
    contributors = _contributors(entity)
    gaps, checked = _latest_gaps(entity)
    last_active = [c.last_active_at for c in contributors if c.last_active_at]
    return EntitySummary(
        calls=sum(c.calls for c in contributors),
        exchanges=sum(c.exchanges for c in contributors),
        memories_by_kind=memories_by_kind,
        relations=Triple.objects.filter(entity=entity).count(),
        sessions=Session.objects.filter(entity=entity).count(),
        contributors=contributors[:CONTRIBUTORS_SHOWN],
        contributors_total=len(contributors),
        gaps=gaps,
        gap_calls_checked=checked,
        open_contradictions=open_contradictions(entity),
        open_contradictions_total=Contradiction.objects.filter(entity=entity, resolved_at__isnull=True).count(),
        last_activity_at=max(last_active) if last_active else None,
    )


def contradiction_side_labels(contradictions: list[Contradiction]) -> dict[int, list[dict]]:
    """Per contradiction, its two sides as (content, process) for a short listing."""
    sides: dict[int, list[dict]] = defaultdict(list)
    for contradiction in contradictions:
        for memory, triple in (
            (contradiction.memory_a, contradiction.triple_a),
            (contradiction.memory_b, contradiction.triple_b),
        ):
            row = memory or triple
            sides[contradiction.pk].append(
                {
                    "content": row.content if row else "(deleted)",
                    "process": row.first_process.external_id if row and row.first_process else "",
                    "memory_id": memory.pk if memory else None,
                }
            )
    return sides
