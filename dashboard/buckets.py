"""Time buckets computed natively by the database.

Django's Trunc* on SQLite calls a Python function per row (slow at 100,000s of rows). Datetimes are
stored in UTC, so the bucket of a row is a prefix of its UTC timestamp text: SQLite slices the stored
text, PostgreSQL formats the timestamp; the few resulting keys are parsed back in Python.
"""

from __future__ import annotations

from datetime import UTC, datetime

from django.db.models import CharField, Func

PREFIX_LENGTH = {"day": 10, "hour": 13, "minute": 16}
POSTGRES_FORMAT = {"day": "YYYY-MM-DD", "hour": "YYYY-MM-DD HH24", "minute": "YYYY-MM-DD HH24:MI"}
PYTHON_FORMAT = {"day": "%Y-%m-%d", "hour": "%Y-%m-%d %H", "minute": "%Y-%m-%d %H:%M"}


class BucketKey(Func):
    """The UTC day, hour or minute of a datetime column as text: '2026-11-25', '2026-11-25 18', ..."""

    output_field = CharField()

    def __init__(self, expression, granularity: str):
        self.granularity = granularity
        super().__init__(expression)

    def as_sqlite(self, compiler, connection, **extra):
        return self.as_sql(
            compiler, connection, template=f"substr(%(expressions)s, 1, {PREFIX_LENGTH[self.granularity]})"
        )

    def as_postgresql(self, compiler, connection, **extra):
        template = f"to_char(%(expressions)s AT TIME ZONE 'UTC', '{POSTGRES_FORMAT[self.granularity]}')"
        return self.as_sql(compiler, connection, template=template)


def parse_bucket_key(key: str, granularity: str) -> datetime:
    return datetime.strptime(key, PYTHON_FORMAT[granularity]).replace(tzinfo=UTC)
