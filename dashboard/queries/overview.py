"""Reads behind the overview: aggregates in the database, bounded queries."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet

from dashboard.queries.buckets import grouped_count
from dashboard.queries.exchange_activity import ExchangeCounts, exchange_counts
from dashboard.web.periods import Period
from memory.models import (
    AugmentationJob,
    Entity,
    Exchange,
    Memory,
    RecallEvent,
    Session,
    Tenant,
    Triple,
)


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


LATENCY_SAMPLE = 5_000  # p95 still rests on the 250 slowest; every row more is read on every look at the page


@dataclass(frozen=True)
class OverviewActivity:
    """The overview's time series: exchanges per (bucket, entity) with the processes behind them,
    recalls and new memories per bucket ({"bucket": datetime, "n": int})."""

    exchanges: ExchangeCounts
    recalls: list[dict]
    new_memories: list[dict]


def latency_percentiles(queryset: QuerySet, fractions: tuple[float, ...]) -> list[float | None]:
    """Nearest-rank percentiles of ``latency_ms`` over the newest LATENCY_SAMPLE rows of ``queryset``:
    one bounded read, however many recalls the range holds."""
    values = sorted(queryset.order_by("-pk").values_list("latency_ms", flat=True)[:LATENCY_SAMPLE])
    if not values:
        return [None for _ in fractions]
    return [values[min(len(values) - 1, int(fraction * len(values)))] for fraction in fractions]


def overview_activity(*, tenant: Tenant, period: Period) -> OverviewActivity:
    """One grouped pass per series serves the totals, the trend, the active processes and the
    busiest entities; exchanges come mostly from their hourly counts."""
    scope = {"entity__tenant": tenant}
    granularity, start, end = period.granularity, period.start, period.end
    return OverviewActivity(
        exchanges=exchange_counts(tenant.pk, granularity, start, end),
        recalls=grouped_count(RecallEvent.objects.filter(**scope), "created_at", (), granularity, start, end),
        new_memories=grouped_count(Memory.objects.filter(**scope), "first_seen_at", (), granularity, start, end),
    )


def overview_stats(*, tenant: Tenant, period: Period, activity: OverviewActivity) -> OverviewStats:
    in_range = {"entity__tenant": tenant}
    recalls = RecallEvent.objects.filter(**in_range, created_at__gte=period.start, created_at__lt=period.end)
    p50, p95 = latency_percentiles(recalls, (0.5, 0.95))
    jobs = AugmentationJob.objects.filter(**in_range)
    return OverviewStats(
        memories=Memory.objects.filter(**in_range).count(),
        triples=Triple.objects.filter(**in_range).count(),
        new_memories=sum(row["n"] for row in activity.new_memories),
        exchanges=sum(activity.exchanges.per_bucket.values()),
        recalls=sum(row["n"] for row in activity.recalls),
        sessions=Session.objects.filter(
            **in_range, last_activity_at__gte=period.start, started_at__lt=period.end
        ).count(),
        active_processes=len(set().union(*activity.exchanges.processes.values())),
        backlog=jobs.filter(status__in=[AugmentationJob.Status.QUEUED, AugmentationJob.Status.RUNNING]).count(),
        failed=jobs.filter(status=AugmentationJob.Status.FAILED, queued_at__gte=period.start).count(),
        recall_p50_ms=p50,
        recall_p95_ms=p95,
    )


def _per_bucket(rows: list[dict], period: Period) -> dict:
    """Counts per bucket, every bucket of the period present (quiet stretches show as zeros)."""
    counts = dict.fromkeys(period.buckets(), 0)
    for row in rows:
        counts[row["bucket"]] = counts.get(row["bucket"], 0) + row["n"]
    return counts


def overview_trends(*, period: Period, activity: OverviewActivity) -> dict[str, dict]:
    """Counts per time bucket of exchanges, recalls and new memories."""
    return {
        "Exchanges": _per_bucket(
            [{"bucket": bucket, "n": n} for (bucket, _), n in activity.exchanges.per_bucket.items()], period
        ),
        "Recalls": _per_bucket(activity.recalls, period),
        "New memories": _per_bucket(activity.new_memories, period),
    }


def top_entities(*, activity: ExchangeCounts, limit: int = 10) -> list[dict]:
    """The entities with the most exchanges in the period, with their process and memory totals."""
    per_entity: dict[int, int] = {}
    for (_, entity_id), n in activity.per_bucket.items():
        per_entity[entity_id] = per_entity.get(entity_id, 0) + n
    busiest = sorted(per_entity.items(), key=lambda item: (-item[1], item[0]))[:limit]
    rows = [
        {"entity_id": entity_id, "exchanges": n, "processes": len(activity.processes.get(entity_id, ()))}
        for entity_id, n in busiest
    ]
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


def latest_recall_events(*, tenant: Tenant, limit: int) -> list[RecallEvent]:
    """The tenant's newest recalls, by id (ids follow recording order: no sort over the whole table)."""
    return list(
        RecallEvent.objects.filter(entity__tenant=tenant)
        .select_related("process", "entity")
        .defer("injected_block")
        .order_by("-pk")[:limit]
    )


def recent_activity_version(*, tenant: Tenant) -> str:
    """A cheap fingerprint of the tenant's latest writes: the live overview redraws when it changes."""
    latest = Exchange.objects.filter(entity__tenant=tenant).order_by("-pk").values_list("pk", flat=True)[:1]
    latest_recall = RecallEvent.objects.filter(entity__tenant=tenant).order_by("-pk").values_list("pk", flat=True)[:1]
    pending = AugmentationJob.objects.filter(
        Q(status=AugmentationJob.Status.QUEUED) | Q(status=AugmentationJob.Status.RUNNING), entity__tenant=tenant
    ).count()
    return f"{next(iter(latest), 0)}-{next(iter(latest_recall), 0)}-{pending}"
