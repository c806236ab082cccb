"""A tenant's exchanges per (time bucket, entity), with the processes behind them, for the overview.

Whole hours come from dashboard.models.HourlyExchanges (kept exact where exchanges are recorded and
removed, see dashboard/activity.py), summed per bucket by the database; the part of a range that
does not fill an hour at either end, and ranges in minutes, are counted from the exchanges
themselves: a few minutes' index range, whatever the range's length.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Sum

from dashboard.activity import hour_of
from dashboard.models import HourlyExchanges
from dashboard.queries.buckets import BucketKey, grouped_count, parse_bucket_key
from memory.models import Exchange

HOUR = timedelta(hours=1)


def exchanges_by_entity(tenant_id: int, granularity: str, start: datetime, end: datetime) -> list[dict]:
    """Rows {"bucket", "entity_id", "n", "processes": sorted process ids}, one per (bucket, entity)
    with exchanges that occurred in [start, end); buckets of ``granularity`` (minute, hour or day)."""
    first_hour = hour_of(start) if hour_of(start) == start else hour_of(start) + HOUR
    last_hour = hour_of(end)
    if granularity == "minute" or first_hour >= last_hour:
        rows = _live(tenant_id, granularity, start, end)
    else:
        rows = _live(tenant_id, granularity, start, first_hour)
        rows += _hourly(tenant_id, granularity, first_hour, last_hour)
        rows += _live(tenant_id, granularity, last_hour, end)
    return _per_entity(rows)


def _live(tenant_id: int, granularity: str, start: datetime, end: datetime) -> list[dict]:
    exchanges = Exchange.objects.filter(entity__tenant_id=tenant_id)
    return grouped_count(exchanges, "occurred_at", ("entity_id", "process_id"), granularity, start, end)


def _hourly(tenant_id: int, granularity: str, start: datetime, end: datetime) -> list[dict]:
    rows = (
        HourlyExchanges.objects.filter(entity__tenant_id=tenant_id, hour__gte=start, hour__lt=end, exchanges__gt=0)
        .annotate(bucket_key=BucketKey("hour", granularity))
        .values("bucket_key", "entity_id", "process_id")
        .annotate(n=Sum("exchanges"))
        .order_by()
    )
    return [{**row, "bucket": parse_bucket_key(row.pop("bucket_key"), granularity)} for row in rows]


def _per_entity(rows: list[dict]) -> list[dict]:
    """Rows per (bucket, entity, process) merged per (bucket, entity)."""
    per_pair: dict[tuple[datetime, int], dict] = {}
    for row in rows:
        pair = per_pair.setdefault(
            (row["bucket"], row["entity_id"]),
            {"bucket": row["bucket"], "entity_id": row["entity_id"], "n": 0, "processes": set()},
        )
        pair["n"] += row["n"]
        pair["processes"].add(row["process_id"])
    return [{**pair, "processes": sorted(pair["processes"])} for pair in per_pair.values()]
