"""A tenant's exchanges per (time bucket, entity), with the processes behind them, for the overview.

GROUP BY (bucket, entity, process) over 90 days sorts (SQLite) or hashes (PostgreSQL) every one of
half a million exchanges: ~170 ms and ~120 ms at the bench's size, the bulk of a cold overview.
Counting each (entity, bucket) as a range of the (entity, -occurred_at, process) index instead
costs one seek per pair plus a walk over the index entries that nothing sorts: ~55 ms and ~40 ms
there, the processes of each pair collected on the same walk. That wins while entities x buckets
stays small next to the rows; past MAX_RANGE_COUNTS pairs (many quiet entities, a long range in
hours) the GROUP BY is used, whose cost follows the rows. Both give the same rows.
"""

from __future__ import annotations

from datetime import UTC, datetime

from django.db import connection

from dashboard.queries.settled_buckets import STEP, Counter, grouped_count
from memory.models import Entity, Exchange

MAX_RANGE_COUNTS = 20_000  # (entity, bucket) pairs; ~40 ms on SQLite, ~150 ms on PostgreSQL when all are empty
MAX_SPANS = 1_000  # three parameters each: SQLite takes at most 32,766 per statement
FLOOR = {
    "day": {"hour": 0, "minute": 0, "second": 0, "microsecond": 0},
    "hour": {"minute": 0, "second": 0, "microsecond": 0},
    "minute": {"second": 0, "microsecond": 0},
}


def exchange_counter(tenant_id: int) -> Counter:
    """A settled_buckets counter of the tenant's exchanges: rows {"bucket", "entity_id", "n",
    "processes": sorted process ids}, one per (bucket, entity) that had any."""
    entity_count: list[int] = []

    def count(granularity: str, start: datetime, end: datetime) -> list[dict]:
        spans = _spans(granularity, start, end)
        if not spans:
            return []
        if not entity_count:
            entity_count.append(Entity.objects.filter(tenant_id=tenant_id).count())
        pairs = len(spans) * entity_count[0]
        if connection.vendor in RANGE_COUNT_SQL and len(spans) <= MAX_SPANS and pairs <= MAX_RANGE_COUNTS:
            return _range_counts(tenant_id, spans)
        return _grouped(tenant_id, granularity, start, end)

    return count


def _spans(granularity: str, start: datetime, end: datetime) -> list[tuple[datetime, datetime, datetime]]:
    """(bucket, lo, hi) for every bucket [start, end) touches, clipped to it."""
    step = STEP[granularity]
    bucket = start.astimezone(UTC).replace(**FLOOR[granularity])
    spans = []
    while bucket < end:
        spans.append((bucket, max(start, bucket), min(end, bucket + step)))
        bucket += step
    return spans


RANGE_COUNT_SQL = {
    # Correlated subqueries: SQLite runs each as one range of the index.
    "sqlite": """
        WITH spans(i, lo, hi) AS (VALUES {values})
        SELECT spans.i, entity.id,
            (SELECT COUNT(*) FROM {exchange} e
             WHERE e.entity_id = entity.id AND e.occurred_at >= spans.lo AND e.occurred_at < spans.hi),
            (SELECT group_concat(DISTINCT e.process_id) FROM {exchange} e
             WHERE e.entity_id = entity.id AND e.occurred_at >= spans.lo AND e.occurred_at < spans.hi)
        FROM {entity} entity CROSS JOIN spans
        WHERE entity.tenant_id = %s
    """,
    # LATERAL: one index-only range scan per pair gives the count and the processes.
    "postgresql": """
        SELECT spans.i, entity.id, counted.n, counted.processes
        FROM {entity} entity
        CROSS JOIN (VALUES {values}) AS spans(i, lo, hi)
        CROSS JOIN LATERAL (
            SELECT COUNT(*) AS n, array_agg(DISTINCT e.process_id) AS processes FROM {exchange} e
            WHERE e.entity_id = entity.id AND e.occurred_at >= spans.lo AND e.occurred_at < spans.hi
        ) counted
        WHERE entity.tenant_id = %s AND counted.n > 0
    """,
}
SPAN_VALUE = {"sqlite": "(%s, %s, %s)", "postgresql": "(%s, %s::timestamptz, %s::timestamptz)"}


def _range_counts(tenant_id: int, spans: list[tuple[datetime, datetime, datetime]]) -> list[dict]:
    vendor = connection.vendor
    sql = RANGE_COUNT_SQL[vendor].format(
        values=", ".join([SPAN_VALUE[vendor]] * len(spans)),
        exchange=connection.ops.quote_name(Exchange._meta.db_table),
        entity=connection.ops.quote_name(Entity._meta.db_table),
    )
    adapt = connection.ops.adapt_datetimefield_value
    params = [value for i, (_, lo, hi) in enumerate(spans) for value in (i, adapt(lo), adapt(hi))]
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, tenant_id])
        fetched = cursor.fetchall()
    return [
        {"bucket": spans[i][0], "entity_id": entity_id, "n": n, "processes": _process_ids(processes)}
        for i, entity_id, n, processes in fetched
        if n
    ]


def _process_ids(processes: str | list[int]) -> list[int]:
    """SQLite's group_concat gives "3,1", PostgreSQL's array_agg a list."""
    if isinstance(processes, str):
        return sorted(int(pk) for pk in processes.split(","))
    return sorted(processes)


def _grouped(tenant_id: int, granularity: str, start: datetime, end: datetime) -> list[dict]:
    """The same rows from one GROUP BY (bucket, entity, process)."""
    exchanges = Exchange.objects.filter(entity__tenant_id=tenant_id)
    per_pair: dict[tuple[datetime, int], dict] = {}
    for row in grouped_count(exchanges, "occurred_at", ("entity_id", "process_id"), granularity, start, end):
        pair = per_pair.setdefault(
            (row["bucket"], row["entity_id"]),
            {"bucket": row["bucket"], "entity_id": row["entity_id"], "n": 0, "processes": []},
        )
        pair["n"] += row["n"]
        pair["processes"].append(row["process_id"])
    for pair in per_pair.values():
        pair["processes"].sort()
    return list(per_pair.values())
