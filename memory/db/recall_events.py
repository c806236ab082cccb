"""The statements behind recall that the ORM cannot say in one go: reading an index's rows
straight from the cursor, and storing a recall event without waiting behind other writers.

- ``rows_of``: a queryset's rows as plain tuples, without the ORM's per-row conversion (most of
  the cost of scanning 100,000 rows for the recall index).
- ``event_in_one_statement``: whether the database stores an event, its hits and the usage
  counters in one statement (``insert_event_with_hits``: PostgreSQL's data-modifying CTEs, one
  round trip where a transaction of separate statements takes five).
- ``insert_event_with_hits``: that statement.
- ``write_lock_wait``: SQLite, how long the block's writes may wait for the write lock.
- ``is_lock_wait``: whether an error says another writer holds what a write without waiting needed.

Tested on SQLite and PostgreSQL in tests/memory/test_db_recall_events.py.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime

from django.db import OperationalError, connections
from django.db.models import Model, QuerySet

from memory.models import RecallEvent, RecallHit

LOCK_NOT_AVAILABLE = "55P03"  # PostgreSQL's SQLSTATE for NOWAIT on a locked row


def rows_of(queryset: QuerySet) -> list[tuple]:
    """The rows of a `values_list` queryset, straight from the cursor: no per-row ORM conversion
    (for columns that are plain ints and strings, or converted by the caller)."""
    sql, params = queryset.query.sql_with_params()
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def event_in_one_statement(database: str) -> bool:
    """Whether `insert_event_with_hits` works here (PostgreSQL); elsewhere the caller writes the
    same rows with the ORM in one transaction (SQLite runs in process: no round trips to save)."""
    return connections[database].vendor == "postgresql"


@contextmanager
def write_lock_wait(database: str, seconds: float | None) -> Iterator[None]:
    """In this block, wait at most `seconds` for SQLite's write lock (None, or another database:
    as configured). The configured wait is restored after."""
    connection = connections[database]
    if seconds is None or connection.vendor != "sqlite":
        yield
        return
    connection.ensure_connection()
    configured = int(float(connection.settings_dict.get("OPTIONS", {}).get("timeout", 5)) * 1000)
    with connection.cursor() as cursor:
        cursor.execute(f"PRAGMA busy_timeout = {int(seconds * 1000)}")
    try:
        yield
    finally:
        if connection.connection is not None:
            with connection.cursor() as cursor:
                cursor.execute(f"PRAGMA busy_timeout = {configured}")


def is_lock_wait(err: OperationalError, database: str) -> bool:
    """Another writer holds what a write that would not wait needed (PostgreSQL: a NOWAIT lock
    refused; SQLite: the database locked or busy)."""
    if connections[database].vendor == "postgresql":
        return getattr(err.__cause__, "sqlstate", None) == LOCK_NOT_AVAILABLE
    return "locked" in str(err) or "busy" in str(err)


def insert_event_with_hits(
    database: str,
    event: RecallEvent,
    hits: Sequence[RecallHit],
    usage: Mapping[type[Model], Sequence[int]],
    now: datetime,
    *,
    nowait: bool,
) -> int:
    """Store `event` (unless it is saved already), its `hits`, and count one recall on each row of
    `usage` (model -> ids: `last_recalled_at` = `now`, `recall_count` + 1), in one statement;
    returns the event's id. PostgreSQL only (`event_in_one_statement`).

    WITH event AS (INSERT ... RETURNING id), hits AS (INSERT ...), memories AS (UPDATE ...),
    triples AS (UPDATE ...) SELECT id FROM event. Columns and values come from the models' fields
    (with the fields' own conversions), so the rows are those the ORM would write; identifiers are
    the models' quoted table and column names, every value a parameter. The counters' rows are
    locked in the order of `usage`, each by id (augmentation locks memories, then triples, so the
    two never deadlock); `nowait`: a row another transaction holds fails the statement at once
    (OperationalError, `is_lock_wait`) instead of waiting for it."""
    connection = connections[database]
    quote = connection.ops.quote_name
    event_id = quote(RecallEvent._meta.pk.column)
    ctes, params = [], []
    if event.pk is None:
        event_fields = [field for field in RecallEvent._meta.concrete_fields if not field.primary_key]
        insert_event = _insert(quote, RecallEvent, event_fields, ["%s"] * len(event_fields), 1)
        ctes.append(f"event AS ({insert_event} RETURNING {event_id})")
        params += [_db_value(field, event, connection) for field in event_fields]
        the_event_id, result = f"(SELECT {event_id} FROM event)", f"SELECT {event_id} FROM event"  # noqa: S608
    else:
        the_event_id, result = "%s", "SELECT %s"
    if hits:
        hit_fields = [field for field in RecallHit._meta.concrete_fields if not field.primary_key]
        values = [the_event_id if field.name == "event" else "%s" for field in hit_fields]
        ctes.append(f"hits AS ({_insert(quote, RecallHit, hit_fields, values, len(hits))})")
        for hit in hits:
            for field in hit_fields:
                if field.name != "event":
                    params.append(_db_value(field, hit, connection))
                elif event.pk is not None:
                    params.append(event.pk)
    after = ""
    for number, (model, ids) in enumerate(usage.items()):
        if ids:
            name = f"usage_{number}"
            ctes.append(f"{name} AS ({_count_usage(quote, model, len(ids), after, nowait=nowait)})")
            params += [model._meta.get_field("last_recalled_at").get_db_prep_save(now, connection), *ids]
            # The sub-statements of a WITH run in no defined order: the next UPDATE waits for this
            # one by reading its result (a filter always true), so the rows are locked in order.
            after = f" AND (SELECT count(*) FROM {name}) >= 0"  # noqa: S608
    if event.pk is not None:
        params.append(event.pk)
    with connection.cursor() as cursor:
        cursor.execute(f"WITH {', '.join(ctes)} {result}", params)  # noqa: S608
        return cursor.fetchone()[0]


def _db_value(field, obj: Model, connection):
    """What the ORM's INSERT would send for this field of `obj`."""
    return field.get_db_prep_save(field.pre_save(obj, add=True), connection)


def _count_usage(quote, model: type[Model], count: int, after: str, *, nowait: bool) -> str:
    """The usage counters' UPDATE of `count` rows, locked first in id order (`after`: what must
    run first)."""
    table, pk = quote(model._meta.db_table), quote(model._meta.pk.column)
    recalled_at, count_column = (
        quote(model._meta.get_field(name).column) for name in ("last_recalled_at", "recall_count")
    )
    lock = "FOR UPDATE NOWAIT" if nowait else "FOR UPDATE"
    locked = f"SELECT {pk} FROM {table} WHERE {pk} IN ({', '.join(['%s'] * count)}) ORDER BY {pk} {lock}"  # noqa: S608
    return (
        f"UPDATE {table} SET {recalled_at} = %s, {count_column} = {count_column} + 1"  # noqa: S608
        f" WHERE {pk} IN ({locked}){after} RETURNING {pk}"
    )


def _insert(quote, model: type[Model], fields: list, values: list[str], count: int) -> str:
    """INSERT of `count` rows, each of the `values` expressions (placeholders or subqueries)."""
    columns = ", ".join(quote(field.column) for field in fields)
    row = f"({', '.join(values)})"
    return f"INSERT INTO {quote(model._meta.db_table)} ({columns}) VALUES {', '.join([row] * count)}"  # noqa: S608
