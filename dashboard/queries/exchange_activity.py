"""A tenant's exchanges per (time bucket, entity), with the processes behind them, for the overview.

Whole hours come from memory.models.HourlyExchanges (kept exact where exchanges are recorded and
removed, see memory/services/activity_counts.py), summed per bucket by the database. The part of a range that
does not fill an hour at either end, and a range shown in minutes (a few hours), are counted from
the exchanges themselves: a short range of their time index, whatever the length of the range.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Sum

from dashboard.queries.buckets import BucketKey, grouped_count, parse_bucket_key
from memory.models import Exchange, HourlyExchanges
from memory.services.activity_counts import hour_of

HOUR = timedelta(hours=1)


@dataclass
class ExchangeCounts:
    per_bucket: dict[tuple[datetime, int], int] = field(default_factory=dict)  # (bucket, entity id) -> exchanges
    processes: dict[int, set[int]] = field(default_factory=dict)  # entity id -> the processes that recorded them

    def add(self, bucket: datetime, entity_id: int, n: int) -> None:
        self.per_bucket[(bucket, entity_id)] = self.per_bucket.get((bucket, entity_id), 0) + n

    def add_process(self, entity_id: int, process_id: int) -> None:
        self.processes.setdefault(entity_id, set()).add(process_id)


def exchange_counts(tenant_id: int, granularity: str, start: datetime, end: datetime) -> ExchangeCounts:
    """The tenant's exchanges that occurred in [start, end), per (bucket of ``granularity``, entity),
    and per entity the processes behind them."""
    counts = ExchangeCounts()
    first_hour = hour_of(start) if hour_of(start) == start else hour_of(start) + HOUR
    last_hour = hour_of(end)
    if granularity == "minute" or first_hour >= last_hour:
        _count_live(counts, tenant_id, granularity, start, end)
        return counts
    _count_live(counts, tenant_id, granularity, start, first_hour)
    _count_hours(counts, tenant_id, granularity, first_hour, last_hour)
    _count_live(counts, tenant_id, granularity, last_hour, end)
    return counts


def _count_live(counts: ExchangeCounts, tenant_id: int, granularity: str, start: datetime, end: datetime) -> None:
    exchanges = Exchange.objects.filter(entity__tenant_id=tenant_id)
    for row in grouped_count(exchanges, "occurred_at", ("entity_id", "process_id"), granularity, start, end):
        counts.add(row["bucket"], row["entity_id"], row["n"])
        counts.add_process(row["entity_id"], row["process_id"])


def _count_hours(counts: ExchangeCounts, tenant_id: int, granularity: str, start: datetime, end: datetime) -> None:
    """Two grouped reads of the hourly rows: the sums per (bucket, entity), the processes per entity."""
    hours = HourlyExchanges.objects.filter(entity__tenant_id=tenant_id, hour__gte=start, hour__lt=end, exchanges__gt=0)
    sums = (
        hours.annotate(bucket_key=BucketKey("hour", granularity))
        .values_list("bucket_key", "entity_id")
        .annotate(n=Sum("exchanges"))
        .order_by()
    )
    for bucket_key, entity_id, n in sums:
        counts.add(parse_bucket_key(bucket_key, granularity), entity_id, n)
    for entity_id, process_id in hours.values_list("entity_id", "process_id").distinct().order_by():
        counts.add_process(entity_id, process_id)
