"""Database connections in Celery workers, handled like a web request's.

With ``CELERY_DB_REUSE_MAX`` set (settings.py), Celery no longer closes the connection around
every task; this closes it, as Django does at the end of a request, when it broke (an error left it
unusable, the database restarted) or outlived ``CONN_MAX_AGE``, so the next task reconnects.
"""

from __future__ import annotations

from celery.signals import task_postrun, task_prerun
from django.db import close_old_connections


@task_prerun.connect
@task_postrun.connect
def close_broken_or_old_connections(**_kwargs) -> None:
    close_old_connections()
