"""Real database failures for tests: a trigger that refuses one message after validation passed it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection

from memory.models import Message


@contextmanager
def messages_refused(content: str = "poison") -> Iterator[None]:
    """While open, the database refuses to store a message whose content is ``content`` (a trigger on
    SQLite or PostgreSQL); dropped on the way out, since a transactional test's flush keeps triggers."""
    table = Message._meta.db_table
    literal = content.replace("'", "''")
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"CREATE FUNCTION refuse_poison() RETURNS trigger AS $$ BEGIN IF NEW.content = '{literal}' THEN "
                "RAISE EXCEPTION 'poisoned message refused' USING ERRCODE = 'check_violation'; END IF; "
                "RETURN NEW; END $$ LANGUAGE plpgsql"
            )
            cursor.execute(
                f"CREATE TRIGGER refuse_poison BEFORE INSERT ON {table} FOR EACH ROW EXECUTE FUNCTION refuse_poison()"
            )
        else:
            cursor.execute(
                f"CREATE TRIGGER refuse_poison BEFORE INSERT ON {table} WHEN NEW.content = '{literal}' "
                "BEGIN SELECT RAISE(ABORT, 'poisoned message refused'); END"
            )
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(f"DROP TRIGGER IF EXISTS refuse_poison ON {table}")
                cursor.execute("DROP FUNCTION IF EXISTS refuse_poison()")
            else:
                cursor.execute("DROP TRIGGER IF EXISTS refuse_poison")
