"""Reads behind the overview and the entity list: aggregates in the database, bounded queries."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Exists, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from dashboard.periods import Period
from memory.models import (
    AugmentationJob,
    Contradiction,
    Entity,
    Exchange,
    Memory,
    Node,
    Process,
    Provenance,
    RecallEvent,
    Session,
    Tenant,
    Triple,
)

ENTITY_SORTS = {
    "name": "external_id",
    "activity": "-last_activity_at",
    "memories": "-memory_total",
    "triples": "-triple_total",
    "exchanges": "-exchange_total",
    "sessions": "-session_total",
}


@dataclass(frozen=True)
class OverviewStats:
    memories: int
    triples: int
    new_memories: int
    exchanges: int
    recalls: int
    sessions: int
    active_processes: int
    backlog: int
    failed: int
    recall_p50_ms: float | None
    recall_p95_ms: float | None


LATENCY_SAMPLE = 20_000


def latency_percentiles(queryset: QuerySet, fractions: tuple[float, ...]) -> list[float | None]:
    """Nearest-rank percentiles of ``latency_ms`` over the newest LATENCY_SAMPLE rows of ``queryset``:
    one bounded read, however many recalls the range holds."""
    values = sorted(queryset.order_by("-pk").values_list("latency_ms", flat=True)[:LATENCY_SAMPLE])
    if not values:
        return [None for _ in fractions]
    return [values[min(len(values) - 1, int(fraction * len(values)))] for fraction in fractions]


def exchange_activity(*, tenant: Tenant, period: Period) -> list[dict]:
    """Exchanges in the period per (time bucket, entity, process): one pass over the largest table
    serves the totals, the trend, the active processes and the busiest entities."""
    return period.count_by_bucket(
        Exchange.objects.filter(entity__tenant=tenant), "occurred_at", "entity_id", "process_id"
    )


def overview_stats(*, tenant: Tenant, period: Period, activity: list[dict]) -> OverviewStats:
    in_range = {"entity__tenant": tenant}
    recalls = RecallEvent.objects.filter(**in_range, created_at__gte=period.start, created_at__lt=period.end)
    p50, p95 = latency_percentiles(recalls, (0.5, 0.95))
    jobs = AugmentationJob.objects.filter(**in_range)
    return OverviewStats(
        memories=Memory.objects.filter(**in_range).count(),
        triples=Triple.objects.filter(**in_range).count(),
        new_memories=Memory.objects.filter(
            **in_range, first_seen_at__gte=period.start, first_seen_at__lt=period.end
        ).count(),
        exchanges=sum(row["n"] for row in activity),
        recalls=recalls.count(),
        sessions=Session.objects.filter(
            **in_range, last_activity_at__gte=period.start, started_at__lt=period.end
        ).count(),
        active_processes=len({row["process_id"] for row in activity}),
        backlog=jobs.filter(status__in=[AugmentationJob.Status.QUEUED, AugmentationJob.Status.RUNNING]).count(),
        failed=jobs.filter(status=AugmentationJob.Status.FAILED, queued_at__gte=period.start).count(),
        recall_p50_ms=p50,
        recall_p95_ms=p95,
    )


def _bucketed(queryset: QuerySet, field: str, period: Period) -> dict:
    counts = {row["bucket"]: row["n"] for row in period.count_by_bucket(queryset, field)}
    return {bucket: counts.get(bucket, 0) for bucket in period.buckets()} | counts


def overview_trends(*, tenant: Tenant, period: Period, activity: list[dict]) -> dict[str, dict]:
    """Counts per time bucket of exchanges (from ``activity``), recalls and new memories."""
    exchanges = dict.fromkeys(period.buckets(), 0)
    for row in activity:
        exchanges[row["bucket"]] = exchanges.get(row["bucket"], 0) + row["n"]
    return {
        "Exchanges": exchanges,
        "Recalls": _bucketed(RecallEvent.objects.filter(entity__tenant=tenant), "created_at", period),
        "New memories": _bucketed(Memory.objects.filter(entity__tenant=tenant), "first_seen_at", period),
    }


def top_entities(*, activity: list[dict], limit: int = 10) -> list[dict]:
    """The entities with the most exchanges in the period, with their process and memory totals."""
    per_entity: dict[int, dict] = {}
    for row in activity:
        entry = per_entity.setdefault(row["entity_id"], {"entity_id": row["entity_id"], "exchanges": 0, "ids": set()})
        entry["exchanges"] += row["n"]
        entry["ids"].add(row["process_id"])
    rows = sorted(per_entity.values(), key=lambda entry: (-entry["exchanges"], entry["entity_id"]))[:limit]
    for row in rows:
        row["processes"] = len(row.pop("ids"))
    ids = [row["entity_id"] for row in rows]
    names = dict(Entity.objects.filter(pk__in=ids).values_list("pk", "external_id"))
    memory_totals = dict(
        Memory.objects.filter(entity_id__in=ids)
        .values("entity_id")
        .annotate(n=Count("id"))
        .values_list("entity_id", "n")
    )
    for row in rows:
        row["entity__external_id"] = names.get(row["entity_id"], "")
        row["memories"] = memory_totals.get(row["entity_id"], 0)
    return rows


def count_of(model, *, fk: str = "entity", **filters) -> Coalesce:
    """A correlated COUNT of ``model`` rows pointing at the outer row through ``fk``."""
    subquery = (
        model.objects.filter(**{fk: OuterRef("pk")}, **filters)
        .order_by()
        .values(fk)
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(subquery, output_field=IntegerField()), 0)


def entity_list(*, tenant: Tenant, search: str = "", sort: str = "activity") -> QuerySet[Entity]:
    """Entities with their counts (one correlated count each, so rows never multiply)."""
    entities = Entity.objects.filter(tenant=tenant)
    if search:
        entities = entities.filter(external_id__icontains=search)
    return entities.annotate(
        memory_total=count_of(Memory),
        triple_total=count_of(Triple),
        exchange_total=count_of(Exchange),
        session_total=count_of(Session),
        open_contradictions=count_of(Contradiction, resolved_at__isnull=True),
    ).order_by(ENTITY_SORTS.get(sort, ENTITY_SORTS["activity"]), "pk")


def recent_activity_version(*, tenant: Tenant) -> str:
    """A cheap fingerprint of the tenant's latest writes: the live overview redraws when it changes."""
    latest = Exchange.objects.filter(entity__tenant=tenant).order_by("-pk").values_list("pk", flat=True)[:1]
    latest_recall = RecallEvent.objects.filter(entity__tenant=tenant).order_by("-pk").values_list("pk", flat=True)[:1]
    pending = AugmentationJob.objects.filter(
        Q(status=AugmentationJob.Status.QUEUED) | Q(status=AugmentationJob.Status.RUNNING), entity__tenant=tenant
    ).count()
    return f"{next(iter(latest), 0)}-{next(iter(latest_recall), 0)}-{pending}"


def entity_processes(*, entity: Entity) -> list[Process]:
    """Processes that worked for this entity: recorded an exchange or contributed a memory."""
    return list(
        Process.objects.filter(tenant_id=entity.tenant_id)
        .filter(
            Exists(Exchange.objects.filter(entity=entity, process=OuterRef("pk")))
            | Exists(Provenance.objects.filter(entity=entity, process=OuterRef("pk")))
        )
        .order_by("external_id")
    )


def node_types(*, entity: Entity) -> list[str]:
    return list(Node.objects.filter(entity=entity).order_by("node_type").values_list("node_type", flat=True).distinct())
