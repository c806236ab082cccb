"""Multi-row INSERT ... ON CONFLICT DO NOTHING without building model instances.

``bulk_create`` builds a model instance per row and compiles every value through the ORM, which
costs more than the database round trip when a batch writes hundreds of small rows (provenance).
This writes the same statement from plain dicts; values are prepared by each field, as the ORM
would, and passed as parameters. PostgreSQL and SQLite (3.24+) both accept the syntax.
"""

from __future__ import annotations

from django.db import connection

MAX_ROWS_PER_STATEMENT = 500


def insert_ignoring_conflicts(model, columns: list[str], rows: list[tuple]) -> None:
    """Insert ``rows`` (tuples of values for the fields named in ``columns``, by attribute name,
    e.g. ``entity_id``); rows that break a unique constraint are skipped."""
    if not rows:
        return
    fields = [model._meta.get_field(name.removesuffix("_id") if name.endswith("_id") else name) for name in columns]
    quote = connection.ops.quote_name
    names = ", ".join(quote(field.column) for field in fields)
    row_sql = "(" + ", ".join(["%s"] * len(fields)) + ")"
    for start in range(0, len(rows), MAX_ROWS_PER_STATEMENT):
        chunk = rows[start : start + MAX_ROWS_PER_STATEMENT]
        params = [
            field.get_db_prep_save(value, connection) for row in chunk for field, value in zip(fields, row, strict=True)
        ]
        with connection.cursor() as cursor:
            # Table and column names are the model's; every value is a parameter.
            cursor.execute(
                f"INSERT INTO {quote(model._meta.db_table)} ({names}) VALUES "  # noqa: S608
                f"{', '.join([row_sql] * len(chunk))} ON CONFLICT DO NOTHING",
                params,
            )
