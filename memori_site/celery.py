"""The Celery app: configuration comes from Django settings (CELERY_* names)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "memori_site.settings")

app = Celery("memori")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
