"""Time buckets computed natively by the database.

Django's Trunc* on SQLite calls a Python function per row (slow at 100,000s of rows). Datetimes are
stored in UTC, so the day, hour or minute of a row is a prefix of its UTC timestamp text: SQLite
slices the stored text. Any other stride (a second, five minutes, a week, see STRIDES) is the
row's epoch second floored to the stride, counted from ORIGIN (a Monday at midnight, so that days
and weeks start where people expect); SQLite computes it with its native strftime('%s'). PostgreSQL
bins the timestamp with date_bin for every stride (a timestamp comes back; formatting every row as
text cost it twice as much). The few resulting keys are parsed back in Python, each once.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import lru_cache

from django.db.models import CharField, Count, Func, QuerySet

PREFIX_LENGTH = {"day": 10, "hour": 13, "minute": 16}
PYTHON_FORMAT = {"day": "%Y-%m-%d", "hour": "%Y-%m-%d %H", "minute": "%Y-%m-%d %H:%M"}
# Every bucket size, smallest first, in seconds.
STRIDES = {
    "second": 1,
    "5 seconds": 5,
    "15 seconds": 15,
    "minute": 60,
    "5 minutes": 300,
    "15 minutes": 900,
    "hour": 3600,
    "6 hours": 6 * 3600,
    "day": 86400,
    "week": 7 * 86400,
    "4 weeks": 28 * 86400,
}
ORIGIN = datetime(1970, 1, 5, tzinfo=UTC)  # a Monday, 00:00 UTC
ORIGIN_EPOCH = int(ORIGIN.timestamp())


def stride(granularity: str) -> timedelta:
    return timedelta(seconds=STRIDES[granularity])


def floor_to_bucket(moment: datetime, granularity: str) -> datetime:
    """The start of the bucket ``moment`` falls in: the same key the database computes."""
    seconds = STRIDES[granularity]
    epoch = int(moment.astimezone(UTC).timestamp() // 1)
    return datetime.fromtimestamp(ORIGIN_EPOCH + (epoch - ORIGIN_EPOCH) // seconds * seconds, UTC)


class BucketKey(Func):
    """The bucket of a datetime column for a granularity of STRIDES: on SQLite text for a day, hour
    or minute ('2026-11-25', '2026-11-25 18') and the bucket's epoch second for the others; the
    bucket's start as a timestamp on PostgreSQL. parse_bucket_key turns any of them into a datetime."""

    output_field = CharField()

    def __init__(self, expression, granularity: str):
        if granularity not in STRIDES:
            raise ValueError(f"Unknown bucket size {granularity!r}.")
        self.granularity = granularity
        super().__init__(expression)

    def as_sqlite(self, compiler, connection, **extra):
        if self.granularity in PREFIX_LENGTH:
            template = f"substr(%(expressions)s, 1, {PREFIX_LENGTH[self.granularity]})"
        else:
            seconds = STRIDES[self.granularity]
            # '%%%%s' becomes '%%s' here and '%s' once the SQLite backend turns %s into its ? placeholders.
            template = (
                f"({ORIGIN_EPOCH} + (CAST(strftime('%%%%s', %(expressions)s) AS INTEGER) - {ORIGIN_EPOCH})"
                f" / {seconds} * {seconds})"
            )
        return self.as_sql(compiler, connection, template=template)

    def as_postgresql(self, compiler, connection, **extra):
        template = f"date_bin('{STRIDES[self.granularity]} seconds', %(expressions)s, '{ORIGIN.isoformat()}')"
        return self.as_sql(compiler, connection, template=template)


@lru_cache(maxsize=8192)
def parse_bucket_key(key: str | int | datetime, granularity: str) -> datetime:
    if isinstance(key, datetime):
        return key.astimezone(UTC)
    if isinstance(key, int) or granularity not in PYTHON_FORMAT:
        return datetime.fromtimestamp(int(key), UTC)
    return datetime.strptime(key, PYTHON_FORMAT[granularity]).replace(tzinfo=UTC)


def grouped_count(
    queryset: QuerySet, field: str, group_by: tuple, granularity: str, start: datetime, end: datetime
) -> list[dict]:
    """The rows of ``queryset`` in [start, end) per (bucket, *group_by), in one GROUP BY:
    [{"bucket": datetime, "n": int, **group_by}]."""
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
