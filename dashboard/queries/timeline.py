"""Entity Timeline reads: activity per time bucket stacked by process, growth, memory "as of" a moment."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Q, QuerySet

from dashboard.queries.buckets import floor_to_bucket
from dashboard.queries.timeline_range import TimelineRange
from memory.models import AugmentationJob, Entity, Exchange, Memory, Provenance, RecallEvent, Triple

SERIES = {
    # title: (model, time field, process field, extra filter)
    "Memories first seen": (Memory, "first_seen_at", "first_process__external_id", {}),
    "Exchanges": (Exchange, "occurred_at", "process__external_id", {}),
    "Recalls": (RecallEvent, "created_at", "process__external_id", {}),
    "Augmentations finished": (
        AugmentationJob,
        "finished_at",
        "process__external_id",
        {"status": AugmentationJob.Status.DONE},
    ),
}


def activity_by_process(entity: Entity, period: TimelineRange) -> dict[str, dict[str, dict[datetime, int]]]:
    """{series title: {process: {bucket: count}}} for the range, one grouped query per series; a
    series with nothing in the range is {}."""
    result: dict[str, dict[str, dict[datetime, int]]] = {}
    buckets = period.buckets()
    for title, (model, time_field, process_field, extra) in SERIES.items():
        rows = period.count_by_bucket(model.objects.filter(entity=entity, **extra), time_field, process_field)
        series: dict[str, dict[datetime, int]] = defaultdict(lambda: dict.fromkeys(buckets, 0))
        for row in rows:
            series[row[process_field] or "unknown"][row["bucket"]] = row["n"]
        result[title] = dict(series)
    return result


def memory_growth(entity: Entity, period: TimelineRange) -> list[tuple[datetime, int]]:
    """New memories per bucket, the first point carrying everything older than the range."""
    before = Memory.objects.filter(entity=entity, first_seen_at__lt=period.start).count()
    rows = period.count_by_bucket(Memory.objects.filter(entity=entity), "first_seen_at")
    return [(floor_to_bucket(period.start, period.granularity), before)] + sorted(
        (row["bucket"], row["n"]) for row in rows
    )


@dataclass(frozen=True)
class AsOf:
    moment: datetime
    memories: int
    relations: int
    exchanges: int


def as_of_totals(entity: Entity, moment: datetime) -> AsOf:
    return AsOf(
        moment=moment,
        memories=Memory.objects.filter(valid_at(moment), entity=entity).count(),
        relations=Triple.objects.filter(entity=entity, first_seen_at__lte=moment).count(),
        exchanges=Exchange.objects.filter(entity=entity, occurred_at__lte=moment).count(),
    )


def valid_at(moment: datetime) -> Q:
    """Memories that held at ``moment``: said by then and not yet superseded."""
    return Q(valid_from__lte=moment) & (Q(valid_to__isnull=True) | Q(valid_to__gt=moment))


def memories_as_of(entity: Entity, moment: datetime) -> QuerySet[Memory]:
    """What the entity knew at ``moment``: memories said by then and not superseded yet (newest
    first); a memory superseded later shows when and by what.

    Memories deleted since are gone from this view (their deletion is in the audit trail); content is
    shown as it is now. Mentions up to the moment are counted per page by ``mentions_until``.
    """
    return (
        Memory.objects.filter(valid_at(moment), entity=entity)
        .select_related("first_process", "owner_process", "superseded_by")
        .order_by("-valid_from", "-pk")
    )


def mentions_until(memories: list[Memory], moment: datetime) -> None:
    """Sets ``mentions_then`` on each memory: its mentions up to ``moment`` (one grouped query)."""
    counts = dict(
        Provenance.objects.filter(memory__in=memories, mentioned_at__lte=moment)
        .values("memory_id")
        .annotate(n=Count("id"))
        .values_list("memory_id", "n")
    )
    for memory in memories:
        memory.mentions_then = counts.get(memory.pk, 0)
