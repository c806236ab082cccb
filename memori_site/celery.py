"""The Celery app: configuration comes from Django settings (CELERY_* names)."""

import os

from celery import Celery

from memory.broker_transport import use_atomic_filesystem_transport

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "memori_site.settings")
# Every publisher (web, worker, beat) writes file-system broker messages atomically.
use_atomic_filesystem_transport()

app = Celery("memori")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

import memory.worker_connections  # noqa: E402,F401 - connects the task signals that keep connections healthy
