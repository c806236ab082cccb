"""Publishing augmentation jobs to the broker (the outbox's second half).

A job row is written with its exchange; it is published only after the transaction commits, one
message per batch of jobs (which jobs get a message is the queue's decision: job_queue.py). If the
broker is down the job simply stays unpublished and the sweeper republishes it later: nothing is lost.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.conf import settings
from django.db import DatabaseError, transaction
from django.utils import timezone
from kombu import Connection

from memory.broker_transport import use_atomic_filesystem_transport
from memory.models import AugmentationJob

use_atomic_filesystem_transport()  # before any broker connection of this process (web and worker)

logger = logging.getLogger(__name__)

AUGMENT_TASK_NAME = "memory.tasks.augment_exchange"
BROKER_TIMEOUT_SECONDS = 2.0


def publish_jobs(job_ids: Iterable[int], *, countdown: float | None = None) -> int:
    """Send each job to the broker (to run ``countdown`` seconds from now, if given); returns how
    many were published. Never raises."""
    from memori_site.celery import app

    published = []
    for job_id in job_ids:
        try:
            app.send_task(AUGMENT_TASK_NAME, args=[job_id], retry=False, countdown=countdown)
        except Exception as exc:  # broker down: the sweeper will republish
            logger.warning("Could not publish augmentation job %s (%s); the sweeper will retry.", job_id, exc)
            break
        published.append(job_id)
    if published:
        try:
            AugmentationJob.objects.filter(pk__in=published).update(published_at=timezone.now())
        except DatabaseError as exc:
            # Runs after the exchange committed: failing here would answer 503 for a stored exchange.
            # The job stays marked unpublished and the sweeper publishes it again (tasks are idempotent).
            logger.warning("Could not mark jobs %s published (%s); the sweeper publishes them again.", published, exc)
    return len(published)


def publish_jobs_on_commit(job_ids: list[int]) -> None:
    """Once the jobs' transaction commits, publish them as the queue publishes new jobs: one
    message per batch (memory/services/job_queue.py, ``jobs_publish_new``)."""
    from memory.services.job_queue import jobs_publish_new  # the queue imports this module

    transaction.on_commit(lambda: jobs_publish_new(job_ids))


def jobs_retry(job_ids: Iterable[int]) -> int:
    """Put failed (or stuck) jobs back in the queue and publish them; returns how many."""
    ids = list(
        AugmentationJob.objects.filter(pk__in=list(job_ids))
        .exclude(status=AugmentationJob.Status.DONE)
        .values_list("pk", flat=True)
    )
    AugmentationJob.objects.filter(pk__in=ids).update(
        status=AugmentationJob.Status.QUEUED, attempts=0, error="", queued_at=timezone.now(), published_at=None
    )
    publish_jobs_on_commit(ids)
    return len(ids)


def broker_answers() -> bool:
    """True when a connection to the broker opens within ``BROKER_TIMEOUT_SECONDS`` (the health
    check's question: could an exchange recorded now be published?). Never raises."""
    try:
        with Connection(
            settings.CELERY_BROKER_URL,
            transport_options=getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", {}),
            connect_timeout=BROKER_TIMEOUT_SECONDS,
        ) as conn:
            conn.ensure_connection(max_retries=1, timeout=BROKER_TIMEOUT_SECONDS)
    except Exception as exc:  # noqa: BLE001 - any failure means "does not answer"
        logger.warning("Health: broker unreachable (%s)", exc)
        return False
    return True
