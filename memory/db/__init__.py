"""Every database statement the ORM cannot say in one go, named by what it does.

Services speak the ORM or one of these intents; nothing else in the project executes SQL text.
Each submodule holds the statements of one job and is tested on SQLite and PostgreSQL
(tests/memory/test_db.py and its neighbours):

- ``writes``: writes that tell what they did (``update_returning``, ``insert_ignore``,
  ``insert_rows_ignore``, ``update_rows``) and the durability setting of the augmentation transaction.
- ``activity``: a counter row added to, or inserted when it is the first (``insert_or_add``).
- ``health``: whether the database answers (``database_answers``), for the health check.
- ``recall_events``: the recall index's rows straight from the cursor (``rows_of``) and a recall
  event stored without waiting behind writers (``insert_event_with_hits``, ``write_lock_wait``,
  ``is_lock_wait``, ``event_in_one_statement``).
"""

from memory.db.health import database_answers
from memory.db.recall_events import (
    event_in_one_statement,
    insert_event_with_hits,
    is_lock_wait,
    rows_of,
    write_lock_wait,
)
from memory.db.writes import (
    ADD,
    GREATEST,
    MAX_ROWS_PER_STATEMENT,
    SET,
    commit_without_waiting_for_disk,
    insert_ignore,
    insert_rows_ignore,
    update_returning,
    update_rows,
)

__all__ = [
    "ADD",
    "GREATEST",
    "SET",
    "MAX_ROWS_PER_STATEMENT",
    "commit_without_waiting_for_disk",
    "database_answers",
    "event_in_one_statement",
    "insert_event_with_hits",
    "is_lock_wait",
    "rows_of",
    "write_lock_wait",
    "insert_ignore",
    "insert_rows_ignore",
    "update_returning",
    "update_rows",
]
