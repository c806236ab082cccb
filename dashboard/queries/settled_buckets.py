"""Counts per time bucket where settled buckets come from the cache.

The overview over 90 days counts half a million exchanges, nearly all of them in days that are
over. A bucket that ended more than SETTLE ago is "settled": its counts are cached per bucket, so
the moving start of a "last 90 days" range still hits the cache. The partial first bucket and the
recent buckets are always counted live (two small index ranges). A settled count older than
SETTLED_TTL is served as it is while a few buckets per request are recounted, the stalest first, so
no request pays for the whole range again; only a range never counted before (or evicted) is
counted in full. What a settled bucket can miss is a late write into the past (an exchange the SDK
spooled while the server was down, a bulk import, a deletion) until it is recounted; the page shows
when the oldest count it uses was taken.

The counts live in the "dashboard" cache (files under var/cache/ unless CACHE_URL is set), one entry
per series and bucket size holding all its settled buckets: every process on the machine shares them,
so a new web worker does not count again what another process (or `warm_dashboard`) counted.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from django.core.cache import caches
from django.db.models import Count, QuerySet
from django.utils import timezone

from dashboard.queries.buckets import BucketKey, parse_bucket_key
from dashboard.web.periods import Period

SETTLE = timedelta(minutes=15)
SETTLED_TTL = 300  # seconds: a settled bucket counted longer ago than this is recounted ...
REFRESH_PER_REQUEST = 7  # ... a few buckets per request, the stalest first
SETTLED_KEEP = 24 * 3600  # and served (with its age shown) until then
STEP = {"minute": timedelta(minutes=1), "hour": timedelta(hours=1), "day": timedelta(days=1)}
CACHE = "dashboard"

# (granularity, start, end) -> [{"bucket": datetime, "n": int, ...}]: the rows of [start, end) per bucket.
Counter = Callable[[str, datetime, datetime], list[dict]]


@dataclass(frozen=True)
class BucketCounts:
    rows: list[dict]  # [{"bucket": datetime, "n": int, **group_by}], as Period.count_by_bucket
    cached_as_of: datetime | None  # when the oldest cached bucket was counted; None: all live


def count_by_bucket(
    period: Period, queryset: QuerySet, field: str, *group_by: str, key: str, now: datetime | None = None
) -> BucketCounts:
    """Rows of ``queryset`` in ``period`` counted per bucket (and ``group_by``). ``key`` names the
    queryset in the cache (e.g. "exchanges:tenant=3") and must change whenever the filter does."""
    counter = partial(grouped_count, queryset, field, group_by)
    return count_with(period, counter, key=f"{key}:{'/'.join(group_by)}", now=now)


def count_with(period: Period, counter: Counter, *, key: str, now: datetime | None = None) -> BucketCounts:
    """As count_by_bucket, with any ``counter`` (see dashboard.queries.exchange_activity); ``key`` names what
    it counts in the cache."""
    now = now or timezone.now()
    step = STEP[period.granularity]
    settled = [b for b in period.buckets() if b >= period.start and b + step <= min(now - SETTLE, period.end)]
    if not settled:
        return BucketCounts(counter(period.granularity, period.start, period.end), None)
    cached, as_of = _settled_rows(counter, period.granularity, settled, key, now)
    live = counter(period.granularity, period.start, settled[0]) if period.start < settled[0] else []
    if settled[-1] + step < period.end:
        live += counter(period.granularity, settled[-1] + step, period.end)
    return BucketCounts(sorted(cached + live, key=lambda row: row["bucket"]), as_of)


def grouped_count(
    queryset: QuerySet, field: str, group_by: tuple, granularity: str, start: datetime, end: datetime
) -> list[dict]:
    """The rows of ``queryset`` in [start, end) per (bucket, *group_by), in one GROUP BY."""
    if start >= end:
        return []
    rows = (
        queryset.filter(**{f"{field}__gte": start, f"{field}__lt": end})
        .annotate(bucket_key=BucketKey(field, granularity))
        .values("bucket_key", *group_by)
        .annotate(n=Count("*"))  # not COUNT(id): PostgreSQL may then read the index alone
        .order_by()
    )
    return [
        {**row, "bucket": parse_bucket_key(row.pop("bucket_key"), granularity)} for row in rows if row["bucket_key"]
    ]


def _settled_rows(
    counter: Counter, granularity: str, settled: list[datetime], key: str, now: datetime
) -> tuple[list[dict], datetime]:
    """The settled buckets' rows. Buckets never counted (or evicted) are counted now, in one query
    over their span. Buckets counted more than SETTLED_TTL ago are served as they are, and the
    REFRESH_PER_REQUEST buckets from the stalest one on are recounted: no request pays for
    recounting the whole range at once, and the returned time says how old the oldest count is."""
    step = STEP[granularity]
    cache = caches[CACHE]
    entry = f"buckets:{key}:{granularity}"
    stored: dict[datetime, tuple[datetime, list[dict]]] = cache.get(entry) or {}
    keep = timedelta(seconds=SETTLED_KEEP)
    stored = {bucket: value for bucket, value in stored.items() if now - value[0] < keep}
    counted_at = {bucket: stored[bucket][0] for bucket in settled if bucket in stored}
    fresh: dict[datetime, list[dict]] = {}
    missing = [bucket for bucket in settled if bucket not in counted_at]
    if missing:
        fresh |= _recount(counter, granularity, missing[0], missing[-1] + step)
    stale = sorted((at, bucket) for bucket, at in counted_at.items() if now - at > timedelta(seconds=SETTLED_TTL))
    if stale:
        first = stale[0][1]
        end = min(first + REFRESH_PER_REQUEST * step, settled[-1] + step)
        fresh |= _recount(counter, granularity, first, end)
    wanted = set(settled)
    fresh = {bucket: rows for bucket, rows in fresh.items() if bucket in wanted}
    if fresh:
        # One entry per series: a cold page writes one file, not one per day. Two processes writing
        # at once lose one's buckets, which are counted again later; expired buckets are dropped.
        cache.set(entry, stored | {bucket: (now, rows) for bucket, rows in fresh.items()}, SETTLED_KEEP)
    rows: list[dict] = []
    as_of = now
    for bucket in settled:
        if bucket in fresh:
            bucket_rows = fresh[bucket]
        else:
            as_of = min(as_of, counted_at[bucket])
            bucket_rows = stored[bucket][1]
        rows += [{**row, "bucket": bucket} for row in bucket_rows]
    return rows, as_of


def _recount(counter: Counter, granularity: str, start: datetime, end: datetime) -> dict:
    """{bucket: [row without its bucket]} for every bucket from ``start`` to ``end``, empty ones too."""
    step = STEP[granularity]
    by_bucket: dict[datetime, list[dict]] = {}
    bucket = start
    while bucket < end:
        by_bucket[bucket] = []
        bucket += step
    for row in counter(granularity, start, end):
        by_bucket.setdefault(row.pop("bucket"), []).append(row)
    return by_bucket
