"""Process View reads: what each process contributed and whose memories reached its prompts."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

from django.db.models import Count, F, OuterRef, Subquery, Window
from django.db.models.functions import RowNumber

from dashboard.charts.style import process_color
from dashboard.web.periods import Period
from memory.models import (
    Entity,
    Exchange,
    Memory,
    MemoryKind,
    Message,
    Process,
    Provenance,
    RecallEvent,
    RecallHit,
    Triple,
)

KINDS = [*MemoryKind.values, "relation"]
LISTED_PER_PROCESS = 8
RAW_EXCHANGES_READ = 500  # the most served raw exchanges looked up for their source and first words


@dataclass
class ProcessSummary:
    name: str
    contributed: dict[str, int] = field(default_factory=dict)
    latest_memories: list[Memory] = field(default_factory=list)
    recalled_from_others: list[dict] = field(default_factory=list)
    recalled_total: int = 0
    raw_from_others: list[dict] = field(default_factory=list)
    raw_total: int = 0

    @property
    def contributed_total(self) -> int:
        return sum(n for kind, n in self.contributed.items() if kind != "mentions")

    @property
    def received_total(self) -> int:
        """Items from other processes that reached its prompts: their memories and their raw work."""
        return self.recalled_total + self.raw_total

    @property
    def color(self) -> str:
        return process_color(self.name)


def contributions(entity: Entity) -> dict[str, dict[str, int]]:
    """Per process, the memories (by kind) and relations it contributed first, plus every mention it
    made (``mentions``): three grouped queries, none joining provenance to memories."""
    counts: dict[str, dict[str, int]] = defaultdict(dict)
    names = dict(Process.objects.filter(tenant_id=entity.tenant_id).values_list("pk", "external_id"))
    for process_id, kind, n in (
        Memory.objects.filter(entity=entity, first_process__isnull=False)
        .values_list("first_process_id", "kind")
        .annotate(n=Count("id"))
        .order_by()
    ):
        counts[names[process_id]][kind] = n
    for process_id, n in (
        Triple.objects.filter(entity=entity, first_process__isnull=False)
        .values_list("first_process_id")
        .annotate(n=Count("id"))
        .order_by()
    ):
        counts[names[process_id]]["relation"] = n
    for process_id, n in (
        Provenance.objects.filter(entity=entity).values_list("process_id").annotate(n=Count("id")).order_by()
    ):
        counts[names[process_id]]["mentions"] = n
    return counts


def latest_first_contributions(entity: Entity) -> dict[str, list[Memory]]:
    """Per process, the most recent memories it was first to contribute (one windowed query)."""
    ranked = (
        Memory.objects.filter(entity=entity, first_process__isnull=False)
        .select_related("first_process")
        .only("id", "kind", "content", "last_seen_at", "first_process__external_id")
        .annotate(rank=Window(RowNumber(), partition_by=[F("first_process_id")], order_by=F("last_seen_at").desc()))
        .filter(rank__lte=LISTED_PER_PROCESS)
    )
    by_process: dict[str, list[Memory]] = defaultdict(list)
    for memory in ranked:
        by_process[memory.first_process.external_id].append(memory)
    return by_process


def recall_hits(entity: Entity, period: Period | None):
    """The entity's recall hits, of recalls made in ``period`` (None: all of them). An entity's
    recalls grow with every call its agents make; the range keeps the scan to the recent ones
    (the (entity, -created_at) index of recall events finds them)."""
    hits = RecallHit.objects.filter(event__entity=entity)
    if period is not None:
        hits = hits.filter(event__created_at__gte=period.start, event__created_at__lt=period.end)
    return hits


@dataclass
class RawWork:
    """Other processes' exchanges served raw (not augmented yet) into each process's prompts."""

    by_process: dict[str, list[dict]]  # recalling process -> [{exchange_id, session_id, source, words, n}]
    totals: dict[str, int]  # recalling process -> exchanges served raw, counted per recall
    flows: dict[tuple[str, str], int]  # (source process, recalling process) -> the same count


def raw_work_received(entity: Entity, period: Period | None = None) -> RawWork:
    """What each process was handed raw: RecallEvent.pending_exchange_ids lists the exchanges a
    recall served before their augmentation finished; their process is the source. Two queries:
    the events that served raw work, then the RAW_EXCHANGES_READ most served exchanges."""
    events = RecallEvent.objects.filter(entity=entity, pending_context_served=True)
    if period is not None:
        events = events.filter(created_at__gte=period.start, created_at__lt=period.end)
    served: dict[str, Counter] = defaultdict(Counter)
    for name, exchange_ids in events.values_list("process__external_id", "pending_exchange_ids"):
        served[name].update(exchange_id for exchange_id in exchange_ids or [] if isinstance(exchange_id, int))
    overall = Counter()
    for counts in served.values():
        overall.update(counts)
    wanted = [exchange_id for exchange_id, _ in overall.most_common(RAW_EXCHANGES_READ)]
    first_words = (
        Message.objects.filter(exchange=OuterRef("pk"), role="user").order_by("position").values("content")[:1]
    )
    exchanges = {
        row["id"]: row
        for row in Exchange.objects.filter(entity=entity, pk__in=wanted)
        .annotate(words=Subquery(first_words))
        .values("id", "session_id", "process__external_id", "words")
    }
    raw = RawWork(by_process={}, totals={}, flows=defaultdict(int))
    for name, counts in served.items():
        rows = []
        for exchange_id, n in counts.most_common():
            exchange = exchanges.get(exchange_id)
            if exchange is None or exchange["process__external_id"] == name:
                continue
            raw.flows[(exchange["process__external_id"], name)] += n
            raw.totals[name] = raw.totals.get(name, 0) + n
            if len(rows) < LISTED_PER_PROCESS:
                rows.append({**exchange, "source": exchange["process__external_id"], "n": n})
        raw.by_process[name] = rows
    return raw


def recall_flows(
    entity: Entity, period: Period | None = None, *, raw: RawWork | None = None
) -> list[tuple[str, str, int]]:
    """(contributing process, recalling process, items received): RecallHit → memory/triple →
    Provenance, plus the raw work of ``raw`` (other processes' exchanges served before augmentation)."""
    flows: dict[tuple[str, str], int] = defaultdict(int, raw.flows if raw else {})
    for target in ("memory", "triple"):
        rows = (
            recall_hits(entity, period)
            .filter(**{f"{target}__isnull": False})
            .values("event__process__external_id", f"{target}__mentions__process__external_id")
            .annotate(n=Count("id", distinct=True))
        )
        for row in rows:
            contributor = row[f"{target}__mentions__process__external_id"]
            if contributor:
                flows[(contributor, row["event__process__external_id"])] += row["n"]
    return sorted(((source, target, n) for (source, target), n in flows.items()), key=lambda flow: -flow[2])


def _hits_from_others(entity: Entity, period: Period | None):
    return (
        recall_hits(entity, period)
        .filter(memory__isnull=False, memory__first_process__isnull=False)
        .exclude(memory__first_process=F("event__process"))
    )


def recalled_from_others_totals(entity: Entity, period: Period | None = None) -> dict[str, int]:
    """Per recalling process, how many memories first contributed by another process it was given
    (one grouped query; the listed ones are only the most recalled)."""
    rows = _hits_from_others(entity, period).values("event__process__external_id").annotate(n=Count("id")).order_by()
    return {row["event__process__external_id"]: row["n"] for row in rows}


def recalled_from_others(entity: Entity, period: Period | None = None) -> dict[str, list[dict]]:
    """Per recalling process, the memories first contributed by another process it recalled most."""
    rows = (
        _hits_from_others(entity, period)
        .values("event__process__external_id", "memory_id", "memory__content", "memory__first_process__external_id")
        .annotate(n=Count("id"))
        .order_by("-n", "memory_id")[:400]
    )
    by_process: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        listed = by_process[row["event__process__external_id"]]
        if len(listed) < LISTED_PER_PROCESS:
            listed.append(row)
    return by_process


def process_summaries(
    entity: Entity, process_names: list[str], period: Period | None = None, *, raw: RawWork | None = None
) -> list[ProcessSummary]:
    """Contributions over the entity's whole life; what was received from others in ``period``:
    their memories (recall hits) and their raw work (``raw``, read here when not given)."""
    counts = contributions(entity)
    latest = latest_first_contributions(entity)
    recalled = recalled_from_others(entity, period)
    recalled_totals = recalled_from_others_totals(entity, period)
    raw = raw if raw is not None else raw_work_received(entity, period)
    names = sorted(set(process_names) | set(counts))
    return [
        ProcessSummary(
            name=name,
            contributed=counts.get(name, {}),
            latest_memories=latest.get(name, []),
            recalled_from_others=recalled.get(name, []),
            recalled_total=recalled_totals.get(name, 0),
            raw_from_others=raw.by_process.get(name, []),
            raw_total=raw.totals.get(name, 0),
        )
        for name in names
    ]
