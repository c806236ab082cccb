"""Multi-row INSERT ... ON CONFLICT DO NOTHING without building model instances.

``bulk_create`` builds a model instance per row and compiles every value through the ORM, which
costs more than the database round trip when a batch writes hundreds of small rows (provenance).
This writes the same statement from plain tuples; values are prepared by each field, as the ORM
would, and passed as parameters: on PostgreSQL one array per column (``INSERT ... SELECT * FROM
UNNEST(...)``, a statement whose text does not depend on the number of rows), on SQLite (3.24+)
a multi-row VALUES list.
"""

from __future__ import annotations

from django.db import connection
from django.utils import timezone

MAX_ROWS_PER_STATEMENT = 500


def insert_ignoring_conflicts(model, columns: list[str], rows: list[tuple]) -> int:
    """Insert ``rows`` (tuples of values for the fields named in ``columns``, by attribute name,
    e.g. ``entity_id``; every other field gets its default); rows that break a unique constraint
    are skipped. Returns how many rows were inserted."""
    if not rows:
        return 0
    inserted = 0
    given = [model._meta.get_field(name.removesuffix("_id") if name.endswith("_id") else name) for name in columns]
    defaults = [field for field in model._meta.concrete_fields if not field.primary_key and field not in given]
    fields = given + defaults
    quote = connection.ops.quote_name
    head = f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(quote(field.column) for field in fields)})"
    for start in range(0, len(rows), MAX_ROWS_PER_STATEMENT):
        chunk = rows[start : start + MAX_ROWS_PER_STATEMENT]
        columns_of_values = [list(column) for column in zip(*chunk, strict=True)]
        columns_of_values += [[_default(field)] * len(chunk) for field in defaults]
        prepared = [_prepared(field, column) for field, column in zip(fields, columns_of_values, strict=True)]
        if connection.vendor == "postgresql":
            arrays = ", ".join(f"%s::{field.cast_db_type(connection)}[]" for field in fields)
            sql, params = f"{head} SELECT * FROM UNNEST({arrays}) ON CONFLICT DO NOTHING", prepared  # noqa: S608
        else:
            row_sql = "(" + ", ".join(["%s"] * len(fields)) + ")"
            sql = f"{head} VALUES {', '.join([row_sql] * len(chunk))} ON CONFLICT DO NOTHING"
            params = [value for row in zip(*prepared, strict=True) for value in row]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)  # table and column names are the model's; values are parameters
            inserted += max(cursor.rowcount, 0)
    return inserted


def _prepared(field, values: list) -> list:
    """Values as the database takes them. Integers, text, bytes, booleans and None go as they are
    (that is all the ORM would do with them); datetimes are adapted (SQLite stores them as text)."""
    if field.get_internal_type() == "DateTimeField":
        return [field.get_db_prep_save(value, connection) for value in values]
    return values


def _default(field):
    if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
        return timezone.now()
    return field.get_default()
