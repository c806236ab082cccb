"""Time buckets computed natively by the database.

Django's Trunc* on SQLite calls a Python function per row (slow at 100,000s of rows). Datetimes are
stored in UTC, so the bucket of a row is a prefix of its UTC timestamp text: SQLite slices the stored
text. PostgreSQL bins the timestamp with date_bin (a timestamp comes back; formatting every row as
text cost it twice as much). The few resulting keys are parsed back in Python, each once.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache

from django.db.models import CharField, Func

PREFIX_LENGTH = {"day": 10, "hour": 13, "minute": 16}
POSTGRES_STRIDE = {"day": "1 day", "hour": "1 hour", "minute": "1 minute"}
PYTHON_FORMAT = {"day": "%Y-%m-%d", "hour": "%Y-%m-%d %H", "minute": "%Y-%m-%d %H:%M"}


class BucketKey(Func):
    """The UTC day, hour or minute of a datetime column: text on SQLite ('2026-11-25', '2026-11-25 18'),
    the bucket's start as a timestamp on PostgreSQL; parse_bucket_key turns either into a datetime."""

    output_field = CharField()

    def __init__(self, expression, granularity: str):
        self.granularity = granularity
        super().__init__(expression)

    def as_sqlite(self, compiler, connection, **extra):
        return self.as_sql(
            compiler, connection, template=f"substr(%(expressions)s, 1, {PREFIX_LENGTH[self.granularity]})"
        )

    def as_postgresql(self, compiler, connection, **extra):
        template = f"date_bin('{POSTGRES_STRIDE[self.granularity]}', %(expressions)s, '2000-01-01 00:00:00+00')"
        return self.as_sql(compiler, connection, template=template)


@lru_cache(maxsize=8192)
def parse_bucket_key(key: str | datetime, granularity: str) -> datetime:
    if isinstance(key, datetime):
        return key.astimezone(UTC)
    return datetime.strptime(key, PYTHON_FORMAT[granularity]).replace(tzinfo=UTC)
