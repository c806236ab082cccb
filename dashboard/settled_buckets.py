"""Counts per time bucket where settled buckets come from a short-lived cache.

The overview over 90 days counts half a million exchanges, nearly all of them in days that are
over. A bucket that ended more than SETTLE ago is "settled": its counts are cached for
SETTLED_TTL seconds, per bucket, so the moving start of a "last 90 days" range still hits the
cache. The partial first bucket and the recent buckets are always counted live (two small index
ranges). What a settled bucket can miss is a late write into the past (an exchange the SDK spooled
while the server was down, a bulk import, a deletion) for at most SETTLED_TTL seconds; the page
shows when the oldest cached count was taken.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.cache import cache
from django.db.models import Count, QuerySet
from django.utils import timezone

from dashboard.buckets import BucketKey, parse_bucket_key
from dashboard.periods import Period

SETTLE = timedelta(minutes=15)
SETTLED_TTL = 300  # seconds
STEP = {"minute": timedelta(minutes=1), "hour": timedelta(hours=1), "day": timedelta(days=1)}


@dataclass(frozen=True)
class BucketCounts:
    rows: list[dict]  # [{"bucket": datetime, "n": int, **group_by}], as Period.count_by_bucket
    cached_as_of: datetime | None  # when the oldest cached bucket was counted; None: all live


def count_by_bucket(
    period: Period, queryset: QuerySet, field: str, *group_by: str, key: str, now: datetime | None = None
) -> BucketCounts:
    """Rows of ``queryset`` in ``period`` counted per bucket (and ``group_by``). ``key`` names the
    queryset in the cache (e.g. "exchanges:tenant=3") and must change whenever the filter does."""
    now = now or timezone.now()
    step = STEP[period.granularity]
    settled = [b for b in period.buckets() if b >= period.start and b + step <= min(now - SETTLE, period.end)]
    if not settled:
        return BucketCounts(_count(queryset, field, group_by, period.granularity, period.start, period.end), None)
    cached, as_of = _settled_rows(queryset, field, group_by, period.granularity, settled, key, now)
    live = _count(queryset, field, group_by, period.granularity, period.start, settled[0])
    live += _count(queryset, field, group_by, period.granularity, settled[-1] + step, period.end)
    return BucketCounts(sorted(cached + live, key=lambda row: row["bucket"]), as_of)


def _count(queryset, field: str, group_by: tuple, granularity: str, start: datetime, end: datetime) -> list[dict]:
    if start >= end:
        return []
    rows = (
        queryset.filter(**{f"{field}__gte": start, f"{field}__lt": end})
        .annotate(bucket_key=BucketKey(field, granularity))
        .values("bucket_key", *group_by)
        .annotate(n=Count("pk"))
        .order_by()
    )
    return [
        {**row, "bucket": parse_bucket_key(row.pop("bucket_key"), granularity)} for row in rows if row["bucket_key"]
    ]


def _settled_rows(
    queryset, field: str, group_by: tuple, granularity: str, settled: list[datetime], key: str, now: datetime
) -> tuple[list[dict], datetime]:
    """The settled buckets' rows: cached ones as they are, the missing ones counted in one query
    (over the span from the first to the last missing bucket) and cached, empty buckets included."""
    keys = {
        bucket: f"dashboard:buckets:{key}:{'/'.join(group_by)}:{granularity}:{bucket.isoformat()}" for bucket in settled
    }
    found = cache.get_many(list(keys.values()))
    missing = [bucket for bucket in settled if keys[bucket] not in found]
    rows: list[dict] = []
    as_of = now
    for bucket in settled:
        if keys[bucket] in found:
            counted_at, bucket_rows = found[keys[bucket]]
            as_of = min(as_of, counted_at)
            rows += [{**row, "bucket": bucket} for row in bucket_rows]
    if missing:
        step = STEP[granularity]
        counted = _count(queryset, field, group_by, granularity, missing[0], missing[-1] + step)
        by_bucket: dict[datetime, list[dict]] = defaultdict(list)
        for row in counted:
            by_bucket[row["bucket"]].append(row)
        to_cache = {}
        for bucket in missing:
            bucket_rows = by_bucket.get(bucket, [])
            rows += bucket_rows
            to_cache[keys[bucket]] = (now, [{k: v for k, v in row.items() if k != "bucket"} for row in bucket_rows])
        cache.set_many(to_cache, SETTLED_TTL)
    return rows, as_of
