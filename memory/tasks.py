"""Celery tasks: take ids, call a service, nothing else.

``augment_exchange`` is published on commit of each recorded exchange (memory/services/publishing.py);
``sweep_stale_jobs`` runs periodically (CELERY_BEAT_SCHEDULE) and republishes what the broker lost.
"""

from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.db import InterfaceError, OperationalError

from memory.services.augmentation import job_augment_delivered
from memory.services.job_queue import RetryableJobError, jobs_sweep_stale


@shared_task(
    bind=True,
    name="memory.tasks.augment_exchange",
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(RetryableJobError, OperationalError, InterfaceError),
    retry_backoff=1,
    retry_backoff_max=30,
    retry_jitter=True,
    max_retries=settings.MEMORI_AUGMENTATION_MAX_ATTEMPTS,
)
def augment_exchange(self, job_id: int) -> dict:
    """Augment one recorded exchange, with other queued ones in the same batch
    (MEMORI_AUGMENTATION_BATCH_SIZE), then the jobs riding on messages. Idempotent: a finished job
    is left as it is."""
    return job_augment_delivered(int(job_id)).as_dict()


@shared_task(name="memory.tasks.sweep_stale_jobs", acks_late=True)
def sweep_stale_jobs() -> dict:
    """Republish queued jobs whose publish was lost and requeue running jobs whose worker died."""
    return jobs_sweep_stale().as_dict()
