"""The augmentation job queue: the ``AugmentationJob`` table read as a queue.

A job row is written with its exchange (the outbox); when that transaction commits the job is
published (``jobs_publish_new``). A task claims up to a batch of jobs, so one broker message per
batch is enough: a new job gets a message of its own only when the messages already waiting cannot
take it, and otherwise *rides* on them (``published_at`` stays empty: it has no message of its own).
A delivered message costs a worker about as much as a small job (broker, pool, a lookup), so the
deliveries of jobs a batch already took, one per job when each had its message, mostly no longer
exist. From there:

- claim: queued -> running and attempts + 1 in one conditional UPDATE that returns the ids it took,
  so a second delivery of a job does nothing while the first runs and two workers never take the
  same job. A task claims its own job plus up to ``batch_size - 1`` other queued jobs, oldest first,
  never one waiting for its retry (its ``error`` is set). A delivered message first claims the riders
  recorded before its job (the oldest work goes first), then its batch, then one batch of the other
  riders, and publishes the rest if the messages waiting have no room for them
  (``jobs_claim_riders``, ``jobs_publish_riders``);
- done: the job's result and extractor, committed with the memories it stored;
- fail: the job keeps the reason;
- requeue: a transient error puts it back in the queue, for its task to retry with backoff; jobs
  of its batch with no task of their own retrying them are published again;
- sweep (Celery beat): jobs without a message (the broker was down at commit, or a rider whose
  message's task stopped on a transient error) are published, running jobs whose worker died are
  requeued (or failed, out of attempts), and jobs whose message is older than
  ``MEMORI_STALE_JOB_SECONDS`` are published again.

Nothing puts a done job back in the queue but an operator's re-extraction, which runs its jobs in
its own process (a retry from the admin or the API takes failed jobs only), so a delivered task
whose job is finished is answered by one primary-key lookup.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from memory import db
from memory.extraction.registry import get_extractor
from memory.models import AugmentationJob
from memory.services.publishing import publish_jobs

logger = logging.getLogger(__name__)

MAX_ERROR_CHARS = 2000
MAX_MESSAGES_COUNTED = 64  # waiting messages are counted up to this many (room for 64 batches of riders)
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


def batch_size() -> int:
    """How many jobs a task claims at once: ``MEMORI_AUGMENTATION_BATCH_SIZE``, or the extractor's
    own ``batch_size`` (the rules extractor parses a whole batch in one pass; an LLM takes seconds a
    call and is better spread over worker processes, one job a task)."""
    configured = settings.MEMORI_AUGMENTATION_BATCH_SIZE
    return max(1, configured or int(getattr(get_extractor(), "batch_size", 1) or 1))


def jobs_publish_new(job_ids: list[int]) -> int:
    """Publish jobs whose transaction just committed, one message per batch: the first of each
    ``batch_size()`` jobs gets a message, the others ride on it; and no message at all while the
    messages already waiting have room for them (each takes its own job and ``batch_size() - 1``
    others). Returns how many messages were sent. Never raises: the jobs are stored, and a job left
    without a message is published by the sweeper."""
    try:
        size = batch_size()
    except Exception as exc:  # noqa: BLE001 - a misconfigured extractor fails the jobs on the worker, with its reason
        logger.warning("No batch size (%s); publishing jobs %s one by one.", exc, job_ids)
        size = 1
    if size == 1:
        return publish_jobs(job_ids)
    try:
        if _waiting_messages_take(len(job_ids), size=size, besides=job_ids):
            return 0
    except DatabaseError as exc:  # the connection was lost after the commit: publish each one
        logger.warning("Could not count the jobs waiting (%s); publishing jobs %s one by one.", exc, job_ids)
        return publish_jobs(job_ids)
    return publish_jobs(job_ids[::size])


def _waiting_messages_take(count: int, *, size: int, besides: list[int]) -> bool:
    """Whether the queued jobs that have a message (each will claim ``size - 1`` others) leave
    room for ``count`` more jobs after the riders already waiting; two bounded counts. A message
    older than ``MEMORI_STALE_JOB_SECONDS`` may be lost (the sweeper sends it again): none rides on it."""
    waiting = AugmentationJob.objects.filter(status=Status.QUEUED, error="").exclude(pk__in=besides).order_by()
    recent = timezone.now() - timedelta(seconds=settings.MEMORI_STALE_JOB_SECONDS)
    messages = waiting.filter(published_at__gte=recent)[:MAX_MESSAGES_COUNTED].count()
    room = messages * (size - 1)
    return room >= count and waiting.filter(published_at__isnull=True)[:room].count() + count <= room


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


def jobs_claim_riders(*, batch_size: int, recorded_before: int | None = None) -> list[AugmentationJob]:
    """Claim up to ``batch_size`` of the oldest riders: queued jobs with no message of their own
    (``published_at`` empty) and not waiting for a retry; only those recorded before the job
    ``recorded_before``, if given. Every delivered message claims riders after its own batch and
    sees to the rest (``jobs_publish_riders``), so no rider is left behind by the message it
    counted on."""
    riders = AugmentationJob.objects.filter(status=Status.QUEUED, error="", published_at__isnull=True)
    if recorded_before is not None:
        riders = riders.filter(pk__lt=recorded_before)
    riders = riders.order_by("queued_at", "pk").values_list("pk", flat=True)
    if connection.features.has_select_for_update_skip_locked:
        riders = riders.select_for_update(skip_locked=True)
    # The ids are read first, locked until the claim commits: PostgreSQL may run a limited
    # subquery of the UPDATE again for each row it joins, and take more than ``batch_size`` jobs.
    with transaction.atomic():
        ids = list(riders[:batch_size])
        return _claim(Q(pk__in=ids)) if ids else []


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


def jobs_publish_riders(*, limit: int = 1000) -> int:
    """Publish the queued jobs that have no message of their own as new jobs are (no message while
    the messages waiting have room for them); returns how many messages were sent. Never raises."""
    try:
        ids = list(
            AugmentationJob.objects.filter(status=Status.QUEUED, error="", published_at__isnull=True)
            .order_by("queued_at", "pk")
            .values_list("pk", flat=True)[:limit]
        )
    except DatabaseError as exc:
        logger.warning("Could not list the jobs left without a message (%s); the sweeper publishes them.", exc)
        return 0
    return jobs_publish_new(ids) if ids else 0


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
        .values_list("pk", "published_at", "error")[:limit]
    )
    # Jobs without a message that a batch may take are published as new jobs are (one message a
    # batch, or none while waiting messages have room); the others each get their own message.
    riders, own = [], list(requeued)
    for job_id, published_at, error in stale_queued:
        if job_id not in requeued:
            (riders if published_at is None and not error else own).append(job_id)
    sweep.stale_queued = len(own) + len(riders)
    if own or riders:
        sweep.republished = (publish_jobs(own) if own else 0) + (jobs_publish_new(riders) if riders else 0)
        logger.info(
            "Sweeper republished %d messages for %d stale augmentation jobs.", sweep.republished, len(own) + len(riders)
        )
    return sweep


def pending_job_ids(*, limit: int | None = None) -> list[int]:
    jobs = AugmentationJob.objects.filter(status=Status.QUEUED).order_by("queued_at").values_list("pk", flat=True)
    return list(jobs[:limit] if limit else jobs)
