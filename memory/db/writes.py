"""The few database statements the ORM cannot say in one go, named by what they do.

Services speak the ORM. When a write must also tell what it did in the same statement (which rows
an UPDATE changed, how many rows an INSERT that skips conflicts really inserted), or when a setting
exists on one database only, it is one of these intents. Filters are compiled by the ORM from
querysets and values are prepared by the model's fields, as the ORM does, so the WHERE clauses and
the stored values are Django's on SQLite and PostgreSQL alike; each intent is tested on both in
tests/memory/test_db.py.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence

from django.db import connections, router, transaction
from django.db.models import Model, QuerySet, sql
from django.utils import timezone

MAX_ROWS_PER_STATEMENT = 500


def update_returning(queryset: QuerySet, **values) -> list:
    """``queryset.update(**values)`` that returns the primary keys of the rows it changed, in one
    statement (``UPDATE ... RETURNING``), so that two processes running it at once each learn which
    rows are theirs. The queryset may filter on a subquery locked with
    ``select_for_update(skip_locked=True)``: that is how concurrent claims avoid waiting on each other
    (PostgreSQL; SQLite writes one transaction at a time)."""
    model = queryset.model
    using = queryset.db
    connection = connections[using]
    query = queryset.query.chain(sql.UpdateQuery)
    query.add_update_values(values)
    query.annotations = {}
    # A subquery locked FOR UPDATE must be compiled and run inside a transaction.
    with transaction.atomic(using=using, savepoint=False):
        statement, params = query.get_compiler(using).as_sql()
        if not statement:
            return []
        pk = connection.ops.quote_name(model._meta.pk.column)
        with connection.cursor() as cursor:
            cursor.execute(f"{statement} RETURNING {pk}", params)
            return [row[0] for row in cursor.fetchall()]


def insert_ignore(objs: Sequence[Model]) -> int:
    """Insert the unsaved instances (one model), skipping those that would break a unique
    constraint (a concurrent writer's row, or one already stored); returns how many rows it inserted.
    The instances are not given their primary keys. Callers that have plain values rather than
    instances use ``insert_rows_ignore``, which builds no instance.

    Not ``bulk_create(ignore_conflicts=True)``: on SQLite that is ``INSERT OR IGNORE``, which also
    drops, silently, a row that breaks a CHECK or NOT NULL constraint (a bug PostgreSQL would raise),
    and it does not say how many rows went in. ``ON CONFLICT DO NOTHING`` (PostgreSQL, SQLite 3.24+)
    skips uniqueness conflicts only, on both."""
    if not objs:
        return 0
    model = type(objs[0])
    fields = _insertable_fields(model)
    for obj in objs:
        obj._prepare_related_fields_for_save(operation_name="insert_ignore")
    rows = [tuple(field.pre_save(obj, add=True) for field in fields) for obj in objs]
    return insert_rows_ignore(model, [field.attname for field in fields], rows)


def insert_rows_ignore(model: type[Model], columns: Sequence[str], rows: Sequence[Sequence]) -> int:
    """``insert_ignore`` from plain values: each row holds the values of ``columns`` (attribute
    names, ``entity_id`` for a foreign key), every other field gets its default (``auto_now`` and
    callable defaults are taken once for the statement). Returns how many rows it inserted.

    A batch of augmentation writes hundreds of small rows (mentions above all): building a model
    instance per row and compiling each value through the ORM's insert compiler costs more than the
    database takes to insert them. Values are still prepared by their fields, as the ORM does
    (``get_db_prep_save``), and passed as parameters: on PostgreSQL one array per column
    (``INSERT ... SELECT * FROM UNNEST(...)``, as Django's own bulk insert does), on SQLite a
    multi-row ``VALUES`` list."""
    if not rows:
        return 0
    using = router.db_for_write(model)
    connection = connections[using]
    given = [model._meta.get_field(name) for name in columns]
    if any(field.attname != name for field, name in zip(given, columns, strict=True)):
        raise ValueError(f"columns are attribute names (entity_id, not entity): {list(columns)}")
    defaults = [field for field in _insertable_fields(model) if field not in given]
    fields = [*given, *defaults]
    default_values = tuple(_default(field) for field in defaults)
    prepared = [
        [
            field.get_db_prep_save(value, connection)
            for field, value in zip(fields, (*row, *default_values), strict=True)
        ]
        for row in rows
    ]
    quote = connection.ops.quote_name
    # Table and column names are the model's; every value is a parameter.
    head = f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(quote(field.column) for field in fields)})"
    inserted = 0
    with transaction.atomic(using=using, savepoint=False), connection.cursor() as cursor:
        if connection.vendor == "postgresql" and len(prepared) > 1 and _unnestable(connection, fields):
            arrays = ", ".join(f"%s::{field.db_type(connection).split('(')[0]}[]" for field in fields)
            columns_of_values = [list(column) for column in zip(*prepared, strict=True)]
            cursor.execute(f"{head} SELECT * FROM UNNEST({arrays}) ON CONFLICT DO NOTHING", columns_of_values)  # noqa: S608
            return max(cursor.rowcount, 0)
        row_sql = "(" + ", ".join(["%s"] * len(fields)) + ")"
        size = _rows_per_insert(connection, fields)
        for start in range(0, len(prepared), size):
            chunk = prepared[start : start + size]
            params = [value for row in chunk for value in row]
            cursor.execute(f"{head} VALUES {', '.join([row_sql] * len(chunk))} ON CONFLICT DO NOTHING", params)
            inserted += max(cursor.rowcount, 0)
    return inserted


def _insertable_fields(model: type[Model]) -> list:
    return [field for field in model._meta.concrete_fields if not field.primary_key and not field.generated]


def _default(field):
    if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
        return timezone.now()
    return field.get_default()


def _unnestable(connection, fields: list) -> bool:
    """Django's own test for an UNNEST insert: every column has a plain array type."""
    return not any(hasattr(field, "get_placeholder") for field in fields) and all(
        (field.target_field if field.is_relation else field).get_internal_type() in connection.data_types
        for field in fields
    )


def _rows_per_insert(connection, fields: list) -> int:
    """As many rows a statement as the database takes parameters, up to 500: SQLite's real limit
    (Django assumes the 999 of SQLite before 3.32, which cuts a batch's memories into statements
    of a few dozen rows); PostgreSQL takes 65,535 parameters."""
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        limit = connection.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    else:
        limit = 65_535
    return max(1, min(MAX_ROWS_PER_STATEMENT, limit // max(len(fields), 1)))


SET, ADD, GREATEST = "set", "add", "greatest"
MAX_ROWS_PER_UPDATE = 500


def update_rows(
    model: type[Model],
    values: Mapping[object, Sequence],
    *,
    fields: Sequence[str],
    how: Mapping[str, str] | None = None,
) -> int:
    """Each row's own new values, in one ``UPDATE ... FROM (VALUES ...)`` for all the rows (per
    500): ``values`` maps a primary key to its values of ``fields`` (by attribute name). A field is
    set to its value, or by ``how`` has it added (``ADD``: counters) or is raised to it (``GREATEST``:
    "last seen" times). Returns how many rows were updated.

    Not ``bulk_update``: its CASE per field and per row costs more to build, in Python, than the
    database takes to run it, for every batch. Values are prepared by their fields, as the ORM
    does, and passed as parameters."""
    if not values:
        return 0
    how = how or {}
    using = router.db_for_write(model)
    connection = connections[using]
    quote = connection.ops.quote_name
    on_postgresql = connection.vendor == "postgresql"
    pk = model._meta.pk
    targets = [model._meta.get_field(name) for name in fields]
    table = quote(model._meta.db_table)
    assignments = []
    for number, field in enumerate(targets, start=2):  # VALUES columns are column1, column2, ...
        column, value = quote(field.column), f"v.column{number}"
        assignments.append(
            {
                SET: f"{column} = {value}",
                ADD: f"{column} = {table}.{column} + {value}",
                GREATEST: f"{column} = {'GREATEST' if on_postgresql else 'MAX'}({table}.{column}, {value})",
            }[how.get(field.name, SET)]
        )
    casts = [f"::{field.cast_db_type(connection)}" if on_postgresql else "" for field in [pk, *targets]]
    row_sql = "(" + ", ".join(f"%s{cast}" for cast in casts) + ")"
    items = sorted(values.items(), key=lambda item: item[0])  # lock order: primary keys ascending
    updated = 0
    with transaction.atomic(using=using, savepoint=False), connection.cursor() as cursor:
        for start in range(0, len(items), MAX_ROWS_PER_UPDATE):
            chunk = items[start : start + MAX_ROWS_PER_UPDATE]
            params = []
            for key, row in chunk:
                params.append(pk.get_db_prep_value(key, connection))
                params += [field.get_db_prep_save(value, connection) for field, value in zip(targets, row, strict=True)]
            rows_sql = ", ".join([row_sql] * len(chunk))
            # Table and column names are the model's; every value is a parameter.
            cursor.execute(
                f"UPDATE {table} SET {', '.join(assignments)} FROM (VALUES {rows_sql}) AS v "  # noqa: S608
                f"WHERE {table}.{quote(pk.column)} = v.column1",
                params,
            )
            updated += max(cursor.rowcount, 0)
    return updated


def commit_without_waiting_for_disk(using: str = "default") -> None:
    """Inside a transaction: its commit will not wait for the write-ahead log to reach the disk
    (PostgreSQL's ``synchronous_commit = off`` for this transaction only; SQLite has no such
    setting). Only for a transaction whose loss in a crash is repaired by running it again."""
    connection = connections[using]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")
