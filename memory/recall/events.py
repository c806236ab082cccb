"""What a recall leaves behind for the dashboard: the event, its hits, and usage counters.

All or nothing, and a fixed amount of work whatever the number of hits: the event row, the hit
rows, and one UPDATE each for the recalled memories' and triples' counters. On PostgreSQL that is
one statement (data-modifying CTEs, atomic by themselves): one round trip where a transaction of
separate statements takes five (BEGIN, three statements, COMMIT), which is what a recall waits
for most on a busy server. Elsewhere (SQLite, in process: no round trips) it is one transaction
of ORM statements. Both write exactly the same rows. The counters' rows are locked in the order
augmentation locks them (memories, then triples, each by id), so the two never deadlock.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connections, router, transaction
from django.db.models import F, Model
from django.utils import timezone

from memory.models import Memory, RecallEvent, RecallHit, Triple


@dataclass(frozen=True)
class HitRecord:
    kind: str
    content: str
    memory_id: int | None
    triple_id: int | None
    dense_score: float
    lexical_score: float
    fused_score: float
    processes: list[str]
    via: str | None = None  # "co-mentioned with memory 12", "handoff from coder": recalled without matching


def store_recall_event(*, event: RecallEvent, hits: list[HitRecord]) -> RecallEvent:
    """Save `event` (its pk is set) with its hits, and count the recalled rows' usage."""
    now = timezone.now()
    event.created_at = now
    rows = [_hit_row(event, rank, hit) for rank, hit in enumerate(hits, start=1)]
    memory_ids = [hit.memory_id for hit in hits if hit.memory_id]
    triple_ids = [hit.triple_id for hit in hits if hit.triple_id]
    database = router.db_for_write(RecallEvent)
    if connections[database].vendor == "postgresql":
        usage = {"memories": (Memory, memory_ids), "triples": (Triple, triple_ids)}
        event.pk = _write_in_one_statement(database, event, rows, usage, now)
        event._state.adding, event._state.db = False, database
        return event
    with transaction.atomic(using=database):
        event.save(using=database)
        for row in rows:
            row.event = event
        RecallHit.objects.using(database).bulk_create(rows)
        for model, ids in ((Memory, memory_ids), (Triple, triple_ids)):
            if ids:
                model.objects.using(database).filter(pk__in=ids).update(
                    last_recalled_at=now, recall_count=F("recall_count") + 1
                )
    return event


def _hit_row(event: RecallEvent, rank: int, hit: HitRecord) -> RecallHit:
    return RecallHit(
        event=event,
        rank=rank,
        memory_id=hit.memory_id,
        triple_id=hit.triple_id,
        kind=hit.kind,
        content=hit.content,
        dense_score=hit.dense_score,
        lexical_score=hit.lexical_score,
        fused_score=hit.fused_score,
        contributing_processes=hit.processes,
        via=(hit.via or "")[:200],
    )


def _write_in_one_statement(database: str, event: RecallEvent, rows: list[RecallHit], usage: dict, now) -> int:
    """WITH event AS (INSERT ... RETURNING id), hits AS (INSERT ...), memories AS (UPDATE ...),
    triples AS (UPDATE ...) SELECT id FROM event. Columns and values come from the models' fields
    (with the fields' own conversions), so the rows are those the ORM would write. Identifiers in
    the SQL are the models' quoted table and column names; every value is a parameter."""
    connection = connections[database]
    quote = connection.ops.quote_name
    event_id = quote(RecallEvent._meta.pk.column)
    event_fields = [field for field in RecallEvent._meta.concrete_fields if not field.primary_key]
    insert_event = _insert(quote, RecallEvent, event_fields, ["%s"] * len(event_fields), 1)
    ctes = [f"event AS ({insert_event} RETURNING {event_id})"]
    params = [_db_value(field, event, connection) for field in event_fields]
    if rows:
        hit_fields = [field for field in RecallHit._meta.concrete_fields if not field.primary_key]
        new_event_id = f"(SELECT {event_id} FROM event)"  # noqa: S608
        values = [new_event_id if field.name == "event" else "%s" for field in hit_fields]
        ctes.append(f"hits AS ({_insert(quote, RecallHit, hit_fields, values, len(rows))})")
        for row in rows:
            params += [_db_value(field, row, connection) for field in hit_fields if field.name != "event"]
    after = ""
    for name, (model, ids) in usage.items():
        if ids:
            ctes.append(f"{name} AS ({_count_usage(quote, model, len(ids), after)})")
            params += [model._meta.get_field("last_recalled_at").get_db_prep_save(now, connection), *ids]
            after = f" AND (SELECT count(*) FROM {name}) >= 0"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(f"WITH {', '.join(ctes)} SELECT {event_id} FROM event", params)  # noqa: S608
        return cursor.fetchone()[0]


def _db_value(field, obj: Model, connection):
    """What the ORM's INSERT would send for this field of `obj`."""
    return field.get_db_prep_save(field.pre_save(obj, add=True), connection)


def _count_usage(quote, model: type[Model], count: int, after: str) -> str:
    """The usage counters' UPDATE of `count` rows, locked first in id order, as augmentation locks
    them (memories, then triples): the sub-statements of a WITH run in no defined order, so the
    triples' one waits for the memories' (`after`, a one-time filter) or the two could deadlock."""
    table, pk = quote(model._meta.db_table), quote(model._meta.pk.column)
    recalled_at, count_column = (
        quote(model._meta.get_field(name).column) for name in ("last_recalled_at", "recall_count")
    )
    locked = f"SELECT {pk} FROM {table} WHERE {pk} IN ({', '.join(['%s'] * count)}) ORDER BY {pk} FOR UPDATE"  # noqa: S608
    return (
        f"UPDATE {table} SET {recalled_at} = %s, {count_column} = {count_column} + 1"  # noqa: S608
        f" WHERE {pk} IN ({locked}){after} RETURNING {pk}"
    )


def _insert(quote, model: type[Model], fields: list, values: list[str], count: int) -> str:
    """INSERT of `count` rows, each of the `values` expressions (placeholders or subqueries)."""
    columns = ", ".join(quote(field.column) for field in fields)
    row = f"({', '.join(values)})"
    return f"INSERT INTO {quote(model._meta.db_table)} ({columns}) VALUES {', '.join([row] * count)}"  # noqa: S608
