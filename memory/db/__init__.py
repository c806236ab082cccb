"""Every database statement the ORM cannot say in one go, named by what it does.

Services speak the ORM or one of these intents; nothing else in the project executes SQL text.
Each submodule holds the statements of one job and is tested on SQLite and PostgreSQL
(tests/memory/test_db.py and its neighbours):

- ``writes``: writes that tell what they did (``update_returning``, ``insert_ignore``,
  ``insert_rows_ignore``, ``update_rows``)
  and the durability setting of the augmentation transaction.
- ``health``: whether the database answers (``database_answers``), for the health check.
"""

from memory.db.health import database_answers
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
    "insert_ignore",
    "insert_rows_ignore",
    "update_returning",
    "update_rows",
]
