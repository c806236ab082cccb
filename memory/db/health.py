"""Whether the database answers: what the health check asks before it tells a load balancer "ok"."""

from __future__ import annotations

import logging

from django.db import DEFAULT_DB_ALIAS, connections

logger = logging.getLogger(__name__)


def database_answers(using: str = DEFAULT_DB_ALIAS) -> bool:
    """True when the database runs a trivial query now. Any failure (refused or lost connection,
    a missing SQLite file's directory, a database shutting down) is False, logged, never raised:
    the caller turns it into "unavailable", not into a server error."""
    try:
        with connections[using].cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception as exc:  # noqa: BLE001 - any failure means "does not answer"
        logger.warning("Health: database unreachable (%s)", exc)
        return False
