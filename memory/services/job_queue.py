"""The augmentation job queue: the ``AugmentationJob`` table read as a queue.

A job row is written with its exchange (the outbox) and published to the broker when that
transaction commits (memory/services/publishing.py). From there:

- claim: queued -> running and attempts + 1 in one conditional UPDATE that returns the ids it took,
  so a second delivery of a job does nothing while the first runs and two workers never take the
  same job. A task claims its own job plus up to ``batch_size - 1`` other queued jobs, oldest first,
  never one waiting for its retry (its ``error`` is set);
- done: the job's result and extractor, committed with the memories it stored;
- fail: the job keeps the reason;
- requeue: a transient error puts it back in the queue, for its task to retry with backoff; jobs
  of its batch with no task of their own retrying them are published again;
- sweep (Celery beat): queued jobs the broker lost are published again, running jobs whose worker
  died are requeued (or failed, out of attempts).

Nothing puts a done job back in the queue (a retry from the admin or the API takes failed jobs
only), so a delivered task whose job is finished is answered by one primary-key lookup.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.db.models import F, Q
from django.utils import timezone

from memory import db
from memory.models import AugmentationJob
from memory.services.publishing import publish_jobs

logger = logging.getLogger(__name__)

MAX_ERROR_CHARS = 2000
NEVER_PUBLISHED_GRACE_SECONDS = 2.0
REPUBLISH_DELAY_SECONDS = 1.0

Status = AugmentationJob.Status


class RetryableJobError(Exception):
    """The job hit a transient error and was put back in the queue; retry it later."""

    def __init__(self, job_id: int, reason: str):
        super().__init__(f"augmentation job {job_id}: {reason}")
        self.job_id = job_id
        self.reason = reason


@dataclass
class JobOutcome:
    job_id: int
    status: str
    result: dict = field(default_factory=dict)
    skipped: str = ""  # why nothing ran: "missing", "done", "failed", "running"
    retry_reason: str = ""  # set when the job was put back in the queue

    def as_dict(self) -> dict:
        return {"job_id": self.job_id, "status": self.status, "result": self.result, "skipped": self.skipped}


def job_skipped(job_id: int, status: str | None) -> JobOutcome:
    """The outcome of a job this call did not run, by its status (None: no such job)."""
    return JobOutcome(job_id=job_id, status=status or "missing", skipped=status or "missing")


def job_status(job_id: int) -> str | None:
    return next(iter(AugmentationJob.objects.filter(pk=job_id).values_list("status", flat=True)), None)


def jobs_status(job_ids: list[int]) -> dict[int, str]:
    return dict(AugmentationJob.objects.filter(pk__in=job_ids).values_list("pk", "status")) if job_ids else {}


def jobs_claim(job_id: int, *, batch_size: int = 1) -> list[AugmentationJob]:
    """Claim ``job_id`` and up to ``batch_size - 1`` other queued jobs not waiting for a retry;
    the claimed jobs (with exchange, entity and process), oldest first."""
    which = Q(pk=job_id)
    if batch_size > 1:
        others = (
            AugmentationJob.objects.filter(status=Status.QUEUED, error="")
            .exclude(pk=job_id)
            .order_by("queued_at", "pk")
            .values("pk")
        )
        if connection.features.has_select_for_update_skip_locked:
            others = others.select_for_update(skip_locked=True)
        which |= Q(pk__in=others[: batch_size - 1])
    return _claim(which)


def jobs_claim_exactly(job_ids: list[int]) -> list[AugmentationJob]:
    """Claim those of ``job_ids`` that are queued, and no other job."""
    return _claim(Q(pk__in=job_ids)) if job_ids else []


def _claim(which: Q) -> list[AugmentationJob]:
    queued = AugmentationJob.objects.filter(which, status=Status.QUEUED).order_by()
    ids = db.update_returning(
        queued, status=Status.RUNNING, attempts=F("attempts") + 1, started_at=timezone.now(), finished_at=None
    )
    if not ids:
        return []
    return list(
        AugmentationJob.objects.filter(pk__in=ids)
        .select_related("exchange", "entity", "process")
        .order_by("queued_at", "pk")
    )


def jobs_mark_done(finished: list[tuple[AugmentationJob, dict, str]]) -> None:
    """Each (job, result, extractor name): status done, in one UPDATE. Inside the transaction that
    stores what the jobs produced, so both commit or neither does."""
    now = timezone.now()
    db.update_rows(
        AugmentationJob,
        {job.pk: (Status.DONE, "", now, result, extractor_name) for job, result, extractor_name in finished},
        fields=["status", "error", "finished_at", "result", "extractor"],
    )


def job_fail(job: AugmentationJob, reason: str) -> JobOutcome:
    AugmentationJob.objects.filter(pk=job.pk).update(
        status=Status.FAILED, error=reason[:MAX_ERROR_CHARS], finished_at=timezone.now()
    )
    return JobOutcome(job_id=job.pk, status=Status.FAILED)


def job_retry_or_fail(job: AugmentationJob, reason: str) -> JobOutcome:
    """After a transient error: back in the queue with its reason, or failed on its last attempt
    (``MEMORI_AUGMENTATION_MAX_ATTEMPTS``)."""
    if job.attempts >= settings.MEMORI_AUGMENTATION_MAX_ATTEMPTS:
        return job_fail(job, f"gave up after {job.attempts} attempts: {reason}")
    logger.warning("Augmentation job %s attempt %s failed (%s); will retry.", job.pk, job.attempts, reason)
    # published_at: the task's retry is the next publish; the sweeper leaves it alone until stale.
    AugmentationJob.objects.filter(pk=job.pk, status=Status.RUNNING).update(
        status=Status.QUEUED, error=reason[:MAX_ERROR_CHARS], published_at=timezone.now()
    )
    return JobOutcome(job_id=job.pk, status=Status.QUEUED, retry_reason=reason)


def jobs_republish(job_ids: list[int]) -> None:
    """Jobs of a batch put back in the queue have no task of their own retrying them: send them again."""
    if job_ids:
        publish_jobs(job_ids, countdown=REPUBLISH_DELAY_SECONDS)


@dataclass
class SweepResult:
    requeued_running: int = 0
    failed_running: int = 0
    republished: int = 0
    stale_queued: int = 0

    def as_dict(self) -> dict:
        return self.__dict__.copy()


def jobs_sweep_stale(*, older_than: float | None = None, limit: int = 1000) -> SweepResult:
    """Republish what the broker lost: queued jobs never published (the broker was down at commit)
    or published more than ``older_than`` seconds ago (default ``MEMORI_STALE_JOB_SECONDS``), and
    running jobs started that long ago, whose worker died (failed if out of attempts)."""
    seconds = settings.MEMORI_STALE_JOB_SECONDS if older_than is None else older_than
    now = timezone.now()
    cutoff = now - timedelta(seconds=seconds)
    sweep = SweepResult()
    requeued: list[int] = []
    running = AugmentationJob.objects.filter(status=Status.RUNNING, started_at__lt=cutoff)
    for job_id, attempts in running.values_list("pk", "attempts")[:limit]:
        stale = running.filter(pk=job_id)
        if attempts >= settings.MEMORI_AUGMENTATION_MAX_ATTEMPTS:
            reason = f"worker lost: still running after {seconds:g}s on attempt {attempts} of {attempts}"
            sweep.failed_running += stale.update(status=Status.FAILED, error=reason, finished_at=now)
        elif stale.update(status=Status.QUEUED, error="worker lost; requeued"):
            sweep.requeued_running += 1
            requeued.append(job_id)
    grace = now - timedelta(seconds=min(seconds, NEVER_PUBLISHED_GRACE_SECONDS))
    stale_queued = (
        AugmentationJob.objects.filter(status=Status.QUEUED)
        .filter(Q(published_at__isnull=True, queued_at__lt=grace) | Q(published_at__lt=cutoff))
        .order_by("queued_at")
        .values_list("pk", flat=True)[:limit]
    )
    ids = requeued + [job_id for job_id in stale_queued if job_id not in requeued]
    sweep.stale_queued = len(ids)
    if ids:
        sweep.republished = publish_jobs(ids)
        logger.info("Sweeper republished %d of %d stale augmentation jobs.", sweep.republished, len(ids))
    return sweep


def pending_job_ids(*, limit: int | None = None) -> list[int]:
    jobs = AugmentationJob.objects.filter(status=Status.QUEUED).order_by("queued_at").values_list("pk", flat=True)
    return list(jobs[:limit] if limit else jobs)
